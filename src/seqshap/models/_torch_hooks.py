"""The prefix-state path for a plain torch module, through hooks on its recurrent layers.

A module whose ``forward(x)`` returns scores and which contains unidirectional ``nn.GRU`` /
``nn.LSTM`` / ``nn.RNN`` layers feeding the rest of the network from the last step (the usual
"RNN -> head" shape, stacked layers or several recurrent modules in sequence, ``batch_first``
either way, LSTM with ``proj_size``) can be run in pieces: for each recurrent layer, hand the
final state of one piece to the next as its initial state. :class:`TorchHookedModel` does this
from outside: for each call it registers a forward pre-hook on every recurrent layer (replacing
its ``hx`` by the given state) and a forward hook (capturing the final ``h_n`` / ``(h_n, c_n)``),
runs the module, and removes the hooks, so the user's module and its hook dictionaries are as
before after every call. The state is a flat tuple of tensors, one per GRU/RNN layer and two
(``h``, ``c``) per LSTM, each ``(layers, n, hidden)``: the batch on axis 1 whatever
``batch_first`` is.

Whether the pieces really compose is a property of the whole module (a head that pools all
steps, a convolution before the RNN...), so the adapter only proposes this path; it is used once
:func:`seqshap.models._state.check_split` proved it on the explained data.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from .._optional import import_optional
from ._torch import TorchModel, TorchRecurrentModel
from .base import State

#: hooks are installed per call; one hooked call at a time in this process (threads share
#: modules; a second thread's hooks must not fire inside another's call)
_HOOK_LOCK = threading.RLock()

_RECURRENT_MODES = ("RNN_TANH", "RNN_RELU", "GRU", "LSTM")


def find_recurrent_layers(module: Any) -> tuple[list[tuple[str, Any]], str | None]:
    """``(layers, problem)``: the recurrent layers of ``module`` in registration order, and why
    the hooked state path cannot apply (None when it may: the split check decides)."""
    torch = import_optional("torch", "PyTorch models")
    nn = torch.nn
    if isinstance(module, torch.jit.ScriptModule):
        return [], "TorchScript modules take no hooks; pass the nn.Module itself"
    layers, cells = [], []
    for name, m in module.named_modules():
        if isinstance(m, nn.RNNBase) and getattr(m, "mode", None) in _RECURRENT_MODES:
            layers.append((name or "<module>", m))
        elif isinstance(m, nn.RNNCellBase):
            cells.append(name)
    if not layers:
        if cells:
            return [], (
                f"the recurrence is a Python loop over {type(module).__name__}'s cell(s) "
                f"{cells}; hooks cannot hand its state over (use nn.GRU/LSTM/RNN, or define "
                "seqshap_forward(x, state))"
            )
        return [], "no nn.GRU / nn.LSTM / nn.RNN layer found in the module"
    for name, m in layers:
        if m.bidirectional:
            return layers, (
                f"recurrent layer {name!r} ({type(m).__name__}) is bidirectional: its outputs "
                "depend on later steps, so there is no state after a prefix"
            )
    return layers, None


def describe_layers(layers: list[tuple[str, Any]]) -> list[str]:
    out = []
    for name, m in layers:
        extra = f", proj_size={m.proj_size}" if getattr(m, "proj_size", 0) else ""
        out.append(
            f"{name}: {type(m).__name__}({m.input_size}, {m.hidden_size}, "
            f"num_layers={m.num_layers}, batch_first={m.batch_first}{extra})"
        )
    return out


class _Capture:
    """One hooked call: the states to inject and the states captured."""

    def __init__(self, n_layers: int, inject: list[Any] | None):
        self.inject = inject
        self.captured: list[Any] = [None] * n_layers
        self.calls = [0] * n_layers

    def pre(self, i: int):
        def hook(module: Any, args: tuple, kwargs: dict) -> Any:
            self.calls[i] += 1
            if self.inject is None:
                return None
            hx = self.inject[i]
            if "hx" in kwargs:
                kwargs = {**kwargs, "hx": hx}
            elif len(args) >= 2:
                args = (args[0], hx, *args[2:])
            else:
                kwargs = {**kwargs, "hx": hx}
            return args, kwargs

        return hook

    def post(self, i: int):
        def hook(module: Any, args: tuple, output: Any) -> None:
            self.captured[i] = output[1]

        return hook


class TorchHookedModel(TorchRecurrentModel):
    """The state path of a plain torch module through per-call hooks (module docstring).

    Built from the plain adapter (same module, device, dtype, batching and ``output``).
    """

    access = "torch hooks"

    def __init__(self, plain: TorchModel, layer_names: list[str]):
        self.user_module = plain.user_module
        self.module, self.device, self.dtype = plain.module, plain.device, plain.dtype
        self._fixed_batch, self.memory_budget = plain._fixed_batch, plain.memory_budget
        self.batch_size = plain.batch_size
        self.output = plain.output
        self.output_names = plain.output_names
        self._protocol = False
        self.state_batch_axis = 1
        named = dict(self.module.named_modules())
        named.setdefault("<module>", self.module)
        self._layers = [(n, named[n]) for n in layer_names]
        self._lstm = [getattr(m, "mode", "") == "LSTM" for _, m in self._layers]
        torch = import_optional("torch", "PyTorch models")
        self.split_tolerance = 1e-9 if self.dtype == torch.float64 else 1e-5
        self.detail = {"layers": describe_layers(self._layers)}

    def _split(self, state: State) -> list[Any]:
        leaves, out, k = list(state), [], 0
        for lstm in self._lstm:
            if lstm:
                out.append((leaves[k], leaves[k + 1]))
                k += 2
            else:
                out.append(leaves[k])
                k += 1
        if k != len(leaves):
            raise ValueError(
                f"the state has {len(leaves)} tensors; this module's recurrent layers take {k}."
            )
        return out

    def _call(self, xt: Any, state: State) -> Any:
        cap = _Capture(len(self._layers), None if state is None else self._split(state))
        with _HOOK_LOCK:
            handles = []
            try:
                for i, (_, layer) in enumerate(self._layers):
                    handles.append(layer.register_forward_pre_hook(cap.pre(i), with_kwargs=True))
                    handles.append(layer.register_forward_hook(cap.post(i)))
                out = self.module(xt)
            finally:
                for handle in handles:
                    handle.remove()
        flat: list[Any] = []
        for (name, _), calls, final, lstm in zip(self._layers, cap.calls, cap.captured, self._lstm):
            if calls != 1:
                raise ValueError(
                    f"recurrent layer {name!r} ran {calls} times in one forward call; the "
                    "hooked state path needs each recurrent layer to run once per call"
                )
            flat.extend(final if lstm else (final,))
        return out, tuple(flat)

    def __repr__(self) -> str:
        names = [n for n, _ in self._layers]
        return f"TorchHookedModel({type(self.user_module).__name__}, layers={names})"


def hooked_candidate(plain: TorchModel) -> tuple[TorchHookedModel | None, str | None, dict]:
    """``(candidate, problem, detail)`` for the plain adapter of a module."""
    layers, problem = find_recurrent_layers(plain.module)
    detail = {"layers": describe_layers(layers)} if layers else {}
    if problem is not None:
        return None, problem, detail
    return TorchHookedModel(plain, [n for n, _ in layers]), None, detail


def random_rows(module: Any, example: Any) -> np.ndarray | None:
    """Rows for a split check when no data was given: ``example`` or random ``(5, 8, d)``."""
    from ._torch import _infer_n_features

    if example is not None:
        rows = np.asarray(example, dtype=float)
        return rows[None] if rows.ndim == 2 else rows
    d = _infer_n_features(module)
    if d is None:
        return None
    return np.random.default_rng(0).normal(size=(5, 8, d))
