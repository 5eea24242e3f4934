"""PyTorch adapter: ``torch.nn.Module`` (and TorchScript modules) → :class:`Model`.

While seqshap calls the module it is in eval mode under ``torch.no_grad()``; each module's
own ``training`` flag is restored after every call, also when the call raises. Inputs are
sent in batches sized by a memory budget, on the module's device (or a copy on the device
asked for: the user's module is never moved).

Recurrent state path, used automatically when the module follows the usual pattern
``forward(x, h=None) -> (scores, h)`` (an ``nn.GRU``/``nn.LSTM`` wrapper returning the final
hidden state, ``(layers, n, hidden)`` or an LSTM ``(h, c)`` tuple). It is detected from the
signature and confirmed by a probe: running a random sequence in two pieces, handing the
state over, must give the scores of running it whole. Other modules can expose their state
through a small protocol instead: define

    def seqshap_forward(self, x, state=None):   # x: (n, t, d) tensor, state: None = initial
        ...
        return scores, new_state                # scores (n, k); new_state: tensors / tuples

and, if the batch is not on axis 1 of the state tensors, ``seqshap_state_batch_axis = 0``.

Any other module -- ``forward(x)`` returning scores, the way most models are written -- is
adapted plain, with a state path through hooks on its ``nn.GRU``/``nn.LSTM``/``nn.RNN`` layers
as a candidate (:mod:`seqshap.models._torch_hooks`), used once the split check passes on the
explained data (:mod:`seqshap.models._state`).
"""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from .._optional import import_optional
from ._common import DEFAULT_MEMORY_BUDGET, check_batching, rows_for_budget
from .base import Model, RecurrentModel, State, _slice_rows

#: probe shape (rows, steps) used to confirm the recurrent pattern
_PROBE_ROWS, _PROBE_STEPS, _PROBE_SPLIT = 5, 6, 2


@contextmanager
def eval_no_grad(module: Any) -> Iterator[None]:
    """Eval mode and no_grad for the block; every submodule's ``training`` flag restored."""
    torch = import_optional("torch", "PyTorch models")
    modes = [(m, m.training) for m in module.modules()]
    try:
        if any(flag for _, flag in modes):
            module.eval()
        with torch.no_grad():
            yield
    finally:
        for m, flag in modes:  # pre-order: parents first, so children end with their own flag
            if m.training != flag:
                m.train(flag)


def _param_dtype_device(module: Any) -> tuple[Any, Any]:
    torch = import_optional("torch", "PyTorch models")
    for p in module.parameters():
        if p.is_floating_point():
            return p.dtype, p.device
        return torch.float32, p.device
    for b in module.buffers():
        return (b.dtype if b.is_floating_point() else torch.float32), b.device
    return torch.float32, torch.device("cpu")


def resolve_device(module: Any, device: Any) -> tuple[Any, Any]:
    """``(module to call, device)``: ``None`` = where the module lives, ``"auto"`` = CUDA if present.

    When the device differs from the module's, a deep copy is moved there (user's module untouched).
    """
    torch = import_optional("torch", "PyTorch models")
    _, here = _param_dtype_device(module)
    if device is None:
        return module, here
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    try:
        target = torch.device(device)
    except (RuntimeError, TypeError):
        raise ValueError(
            f"device must be None, 'auto', 'cpu', 'cuda' or 'cuda:N'; received {device!r}."
        ) from None
    if target.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(
            f"device {device!r} was asked for but CUDA is not available here; use device='auto' "
            "to fall back to the CPU."
        )
    if target.type == here.type and (target.index is None or target.index == here.index):
        return module, here
    return copy.deepcopy(module).to(target), target


def _first_tensor(out: Any) -> Any:
    """Scores from a module's output: a tensor, the first of a tuple, or ``.logits``."""
    if isinstance(out, tuple | list):
        return out[0]
    if hasattr(out, "logits"):
        return out.logits
    return out


def _to_numpy(t: Any) -> np.ndarray:
    torch = import_optional("torch", "PyTorch models")
    if isinstance(t, torch.Tensor):
        return t.detach().to("cpu", torch.float64).numpy()
    return np.asarray(t, dtype=float)


class TorchModel(Model):
    """A ``torch.nn.Module`` mapping ``(n, *S)`` tensors to ``(n, k)`` scores.

    Parameters
    ----------
    module : the module (not modified; its train/eval flags are restored after every call).
    device : None (where the module is), ``"auto"`` (CUDA when present), or a torch device.
    batch_size : rows per call; None sizes batches from ``memory_budget``.
    memory_budget : bytes one call may use (input bytes × an activation factor).
    output : optional function applied to the scores tensor (e.g. ``torch.sigmoid``).
    """

    def __init__(
        self,
        module: Any,
        *,
        device: Any = None,
        batch_size: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        output: Callable[[Any], Any] | None = None,
    ):
        torch = import_optional("torch", "PyTorch models")
        if not isinstance(module, torch.nn.Module):
            raise TypeError(f"module must be a torch.nn.Module; received {type(module).__name__}.")
        self.user_module = module
        self.module, self.device = resolve_device(module, device)
        self.dtype, _ = _param_dtype_device(self.module)
        self._fixed_batch, self.memory_budget = check_batching(batch_size, memory_budget)
        self.batch_size = self._fixed_batch
        self.output = output

    def _rows(self, x: np.ndarray) -> int:
        if self._fixed_batch is not None:
            return self._fixed_batch
        torch = import_optional("torch", "PyTorch models")
        itemsize = torch.empty((), dtype=self.dtype).element_size()
        return rows_for_budget(x.shape[1:], itemsize, self.memory_budget)

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.batch_size = self._rows(x)
        return super().__call__(x)

    def to_tensor(self, x: np.ndarray) -> Any:
        torch = import_optional("torch", "PyTorch models")
        return torch.as_tensor(np.ascontiguousarray(x), dtype=self.dtype, device=self.device)

    def _scores(self, out: Any) -> np.ndarray:
        scores = _first_tensor(out)
        if self.output is not None:
            scores = self.output(scores)
        return _to_numpy(scores)

    def predict(self, x: np.ndarray) -> np.ndarray:
        with eval_no_grad(self.module):
            return self._scores(self.module(self.to_tensor(x)))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({type(self.user_module).__name__}, device={self.device})"


class TorchRecurrentModel(TorchModel, RecurrentModel):
    """A torch module with a state path: ``forward(x, h) -> (scores, h)`` or ``seqshap_forward``.

    States stay on the module's device as tensors; the batch is on ``state_batch_axis``.
    """

    def __init__(self, module: Any, *, state_batch_axis: int | None = None, **options: Any):
        super().__init__(module, **options)
        self._protocol = hasattr(self.module, "seqshap_forward")
        axis = state_batch_axis
        if axis is None:
            axis = getattr(self.module, "seqshap_state_batch_axis", 1)
        self.state_batch_axis = int(axis)

    def _call(self, xt: Any, state: State) -> Any:
        if self._protocol:
            return self.module.seqshap_forward(xt, state)
        return self.module(xt) if state is None else self.module(xt, state)

    def forward(self, x: np.ndarray, state: State = None) -> tuple[np.ndarray, State]:
        rows = self.batch_size = self._rows(x)
        scores, states = [], []
        with eval_no_grad(self.module):
            for i in range(0, len(x), rows):
                part = state
                if state is not None and rows < len(x):  # a chunk: views of its rows
                    part = _slice_rows(state, i, min(i + rows, len(x)), self.state_batch_axis)
                out = self._call(self.to_tensor(x[i : i + rows]), part)
                if not (isinstance(out, tuple | list) and len(out) == 2):
                    raise ValueError(
                        "a recurrent torch module must return (scores, hidden_state); it returned "
                        f"{type(out).__name__}. Pass recurrent=False to use its scores only."
                    )
                scores.append(self._scores(out[0]))
                states.append(out[1])
        new_state = states[0] if len(states) == 1 else self.concat_states(states)
        return np.concatenate(scores, axis=0), new_state

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x, None)[0]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._checked(self.forward(x, None)[0], x.shape[0])


# ---------------------------------------------------------------------------------- detection
def _positional_params(module: Any) -> int | None:
    """Number of positional arguments ``forward`` takes (excluding self); None if unknown."""
    try:
        sig = inspect.signature(module.forward)
    except (TypeError, ValueError):
        schema = getattr(getattr(module, "forward", None), "schema", None)  # TorchScript
        if schema is None:
            return None
        return max(0, len(schema.arguments) - 1)
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    params = list(sig.parameters.values())
    if any(p.kind == inspect.Parameter.VAR_POSITIONAL for p in params):
        return 99
    return sum(p.kind in kinds for p in params)


def _infer_n_features(module: Any) -> int | None:
    for m in module.modules():
        for attr in ("input_size", "in_features", "in_channels", "d_model"):
            value = getattr(m, attr, None)
            if isinstance(value, int) and value > 0:
                return value
    return None


def _leaves(state: Any) -> list[Any]:
    if isinstance(state, tuple | list):
        return [leaf for s in state for leaf in _leaves(s)]
    return [state]


def probe_recurrent(module: Any, example: np.ndarray | None = None) -> int | None:
    """State batch axis when ``module`` passes the split-run probe; None when it does not."""
    torch = import_optional("torch", "PyTorch models")
    if example is not None:
        example = np.asarray(example, dtype=float)
        d = example.shape[-1]
    else:
        d = _infer_n_features(module)
        if d is None:
            return None
    rng = np.random.default_rng(0)
    x = rng.normal(size=(_PROBE_ROWS, _PROBE_STEPS, d))
    dtype, device = _param_dtype_device(module)
    xt = torch.as_tensor(x, dtype=dtype, device=device)
    protocol = hasattr(module, "seqshap_forward")
    call = module.seqshap_forward if protocol else module
    try:
        with eval_no_grad(module):
            whole = call(xt) if not protocol else call(xt, None)
            if not (isinstance(whole, tuple | list) and len(whole) == 2):
                return None
            first = call(xt[:, :_PROBE_SPLIT]) if not protocol else call(xt[:, :_PROBE_SPLIT], None)
            second = call(xt[:, _PROBE_SPLIT:], first[1])
    except Exception:  # noqa: BLE001 - any failure means "not the recurrent pattern"
        return None
    a, b = _first_tensor(whole[0]), _first_tensor(second[0])
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.shape != b.shape:
        return None
    if a.shape[0] != _PROBE_ROWS:
        return None
    tol = 1e-4 * (1.0 + float(a.abs().max()))
    if float((a - b).abs().max()) > tol:
        return None
    leaves = _leaves(whole[1])
    if not leaves or not all(isinstance(t, torch.Tensor) for t in leaves):
        return None
    axes = {}
    for axis in (1, 0):
        if all(t.dim() > axis and t.shape[axis] == _PROBE_ROWS for t in leaves):
            axes[axis] = True
    if protocol and hasattr(module, "seqshap_state_batch_axis"):
        return int(module.seqshap_state_batch_axis)
    return 1 if 1 in axes else (0 if 0 in axes else None)


def adapt_torch(
    module: Any, *, recurrent: bool | None = None, example: Any = None, **options: Any
) -> TorchModel:
    """Plain or recurrent torch adapter (see the module docstring for the detection rules).

    A module in the ``forward(x, h) -> (scores, h)`` form (or with ``seqshap_forward``) that
    passes the state probe gets :class:`TorchRecurrentModel`. Any other module gets the plain
    :class:`TorchModel`, carrying a hooked state path (``state_candidate``) when it contains
    unidirectional ``nn.GRU``/``nn.LSTM``/``nn.RNN`` layers; the sequence explainer uses that
    path once the split check passed on the explained data (``model_info`` says which path and
    why). With ``example`` (rows ``(n, T, d)``) the check runs here, on those rows;
    ``recurrent=True`` requires it to pass (on random rows when no example is given).
    """
    from ._state import PLAIN, PREFIX_STATE, ModelInfo, resolve_state_path

    if recurrent is False:
        model = TorchModel(module, **options)
        model.model_info = ModelInfo(PLAIN, "none", "recurrent=False was asked for.")
        return model
    state_axis = options.pop("state_batch_axis", None)
    protocol = hasattr(module, "seqshap_forward")
    takes_state = protocol or (_positional_params(module) or 0) >= 2
    axis = probe_recurrent(module, example) if takes_state else None
    if axis is not None:
        model = TorchRecurrentModel(
            module, state_batch_axis=axis if state_axis is None else state_axis, **options
        )
        how = "seqshap_forward(x, state)" if protocol else "forward(x, h)"
        model.model_info = ModelInfo(
            PREFIX_STATE, how, f"the module's {how} returns (scores, state) and passed the probe."
        )
        return model
    from ._torch_hooks import hooked_candidate, random_rows

    model = TorchModel(module, **options)
    candidate, problem, detail = hooked_candidate(model)
    if candidate is None:
        model.model_info = ModelInfo(PLAIN, "none", f"{problem}.", detail)
        if recurrent:
            raise ValueError(
                f"recurrent=True, but {type(module).__name__} has no state path: {problem}. "
                "Give it forward(x, h) -> (scores, h), or define seqshap_forward(x, state)."
            )
        return model
    model.state_candidate = candidate
    model.model_info = ModelInfo(
        PLAIN,
        candidate.access,
        "recurrent layers found; the state path is used once the split check passes on the "
        "explained data.",
        detail,
    )
    if example is None and not recurrent:
        return model
    rows = random_rows(module, example)
    if rows is None:
        raise ValueError(
            f"recurrent=True: the number of input features of {type(module).__name__} cannot "
            "be inferred for the split check; pass example=<an input batch (n, T, d)>."
        )
    chosen = resolve_state_path(model, rows, recurrent=recurrent)
    if recurrent and chosen is model:
        raise ValueError(f"recurrent=True, but {type(module).__name__}: {model.model_info}")
    return chosen
