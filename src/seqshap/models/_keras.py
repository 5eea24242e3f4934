"""Keras 3 adapter (any backend): ``keras.Model`` → :class:`Model`.

Calls ``model(x, training=False)`` (under ``torch.no_grad()`` with the torch backend; the other
backends record no gradients outside a tape) in batches sized by a memory budget. Nothing on the model is changed; with the torch backend the
modules' ``training`` flags are restored after each call as for torch models.

State path: a model whose top-level layers chain ``GRU``/``LSTM``/``SimpleRNN`` gets a
:class:`KerasStateModel` candidate (the chain rebuilt with ``initial_state`` inputs and
``return_state=True``), used once the split check passes on the explained data. Nested models,
``Bidirectional``, ``go_backwards`` and ``stateful`` layers and non-chain graphs stay plain,
with the reason in ``model_info``.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np

from .._optional import import_optional
from ._common import DEFAULT_MEMORY_BUDGET, check_batching, rows_for_budget
from .base import Model, RecurrentModel


class KerasModel(Model):
    """A Keras 3 model mapping ``(n, *S)`` inputs to ``(n, k)`` scores."""

    def __init__(
        self,
        model: Any,
        *,
        batch_size: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ):
        keras = import_optional("keras", "Keras models")
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model; received {type(model).__name__}.")
        self.model = model
        self._fixed_batch, self.memory_budget = check_batching(batch_size, memory_budget)
        self.batch_size = self._fixed_batch
        dtype = getattr(model, "compute_dtype", None) or "float32"
        self._dtype = np.dtype(dtype if dtype in ("float16", "float32", "float64") else "float32")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self._fixed_batch is None:
            self.batch_size = rows_for_budget(x.shape[1:], self._dtype.itemsize, self.memory_budget)
        return super().__call__(x)

    def _modes(self) -> Any:
        if hasattr(self.model, "modules") and hasattr(self.model, "training"):
            from ._torch import eval_no_grad  # torch backend: keras layers are torch modules

            return eval_no_grad(self.model)
        return nullcontext()

    def predict(self, x: np.ndarray) -> np.ndarray:
        keras = import_optional("keras", "Keras models")
        with self._modes():
            out = self.model(np.ascontiguousarray(x, dtype=self._dtype), training=False)
            if isinstance(out, dict):
                out = next(iter(out.values()))
            if isinstance(out, list | tuple):
                out = out[0]
            if type(out).__module__.startswith("torch"):
                from ._torch import _to_numpy  # np.array(tensor) warns under numpy 2

                return _to_numpy(out)
            out = keras.ops.convert_to_numpy(out)
        return np.asarray(out, dtype=float)

    def __repr__(self) -> str:
        return f"KerasModel({getattr(self.model, 'name', type(self.model).__name__)!r})"


# ------------------------------------------------------------------ state path (initial_state)
_RNN_CLASSES = ("GRU", "LSTM", "SimpleRNN")


def _chain(model: Any) -> tuple[list[Any], str | None]:
    """The model's layers in order (input layer left out) and why no state path (or None)."""
    keras = import_optional("keras", "Keras models")
    if len(getattr(model, "inputs", None) or [None]) != 1:
        return [], "the model has several inputs"
    layers = [la for la in model.layers if not isinstance(la, keras.layers.InputLayer)]
    rnns = [la for la in layers if type(la).__name__ in _RNN_CLASSES]
    for la in layers:
        if isinstance(la, keras.layers.Bidirectional):
            return [], f"layer {la.name!r} is Bidirectional: there is no state after a prefix"
        if hasattr(la, "layers") and not rnns:
            return [], f"layer {la.name!r} is a nested model; seqshap reads only the top level"
    if not rnns:
        return [], "no keras GRU / LSTM / SimpleRNN layer at the model's top level"
    for la in rnns:
        if la.go_backwards or la.stateful:
            what = "go_backwards=True" if la.go_backwards else "stateful=True"
            return [], f"recurrent layer {la.name!r} has {what}"
    return layers, None


class KerasStateModel(RecurrentModel):
    """The model's layer chain rebuilt with its recurrent layers taking ``initial_state`` and
    giving ``return_state=True`` (clones holding a copy of the weights, taken when adapted);
    every other layer is the user's own. States are numpy ``(n, units)`` (batch on axis 0),
    one per GRU/SimpleRNN and two (h, c) per LSTM; zeros to start, as in Keras."""

    access = "keras initial_state/return_state"
    split_tolerance = 1e-5
    state_batch_axis = 0

    def __init__(self, plain: KerasModel, layers: list[Any]):
        keras = import_optional("keras", "Keras models")
        self.plain = plain
        self.model = plain.model
        self._dtype = plain._dtype
        self._fixed_batch, self.memory_budget = plain._fixed_batch, plain.memory_budget
        self.batch_size = plain.batch_size
        self.output_names = plain.output_names
        d = plain.model.inputs[0].shape[-1]
        inp = keras.Input(shape=(None, d))
        state_inputs, finals, sizes, names = [], [], [], []
        h = inp
        for layer in layers:
            if type(layer).__name__ not in _RNN_CLASSES:
                h = layer(h)
                continue
            config = {**layer.get_config(), "return_state": True}
            config["name"] = f"seqshap_state_{layer.name}"
            clone = type(layer).from_config(config)
            n_states = 2 if type(layer).__name__ == "LSTM" else 1
            ins = [keras.Input(shape=(layer.units,)) for _ in range(n_states)]
            out = clone(h, initial_state=ins if n_states > 1 else ins[0])
            for target, source in zip(clone.weights, layer.weights, strict=True):
                target.assign(source.value)  # (get_weights warns under numpy 2 with torch)
            h = out[0]
            finals.extend(out[1:])
            state_inputs.extend(ins)
            sizes.extend([layer.units] * n_states)
            names.append(f"{layer.name}: {type(layer).__name__}({layer.units})")
        self.graph = keras.Model([inp, *state_inputs], [h, *finals])
        self._sizes = sizes
        self.detail = {"layers": names}

    def _modes(self) -> Any:
        return self.plain._modes()

    def forward(self, x: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        keras = import_optional("keras", "Keras models")
        from .base import _slice_rows

        rows = self._fixed_batch or rows_for_budget(
            x.shape[1:], self._dtype.itemsize, self.memory_budget
        )
        self.batch_size = rows
        scores, states = [], []
        with self._modes():
            for i in range(0, len(x), rows):
                chunk = np.ascontiguousarray(x[i : i + rows], dtype=self._dtype)
                if state is None:
                    part = [np.zeros((len(chunk), s), dtype=self._dtype) for s in self._sizes]
                else:
                    part = _slice_rows(state, i, i + len(chunk), 0) if rows < len(x) else state
                    part = [np.ascontiguousarray(p, dtype=self._dtype) for p in part]
                out = self.graph([chunk, *part], training=False)
                out = [_numpy(o, keras) for o in out]
                scores.append(out[0])
                states.append(tuple(out[1:]))
        new_state = states[0] if len(states) == 1 else self.concat_states(states)
        return np.concatenate(scores, axis=0), new_state

    def __repr__(self) -> str:
        return f"KerasStateModel({getattr(self.model, 'name', '?')!r})"


def _numpy(out: Any, keras: Any) -> np.ndarray:
    if type(out).__module__.startswith("torch"):
        from ._torch import _to_numpy

        return _to_numpy(out)
    return np.asarray(keras.ops.convert_to_numpy(out), dtype=float)


def adapt_keras(model: Any, *, recurrent: bool | None = None, **options: Any) -> KerasModel:
    """The plain Keras adapter, carrying the rebuilt state model (``state_candidate``) when the
    model's top-level layers include GRU/LSTM/SimpleRNN; used once the split check passes."""
    from ._state import PLAIN, ModelInfo, resolve_state_path

    example = options.pop("example", None)
    plain = KerasModel(model, **options)
    if recurrent is False:
        plain.model_info = ModelInfo(PLAIN, "none", "recurrent=False was asked for.")
        return plain
    layers, problem = _chain(model)
    candidate = None
    if problem is None:
        try:
            candidate = KerasStateModel(plain, layers)
        except Exception as exc:  # noqa: BLE001 - reported as the reason for the plain path
            problem = (
                "the model is not a chain of layers that can be rebuilt with the recurrent "
                f"layers' states as inputs ({type(exc).__name__}: {str(exc).splitlines()[0]})"
            )
    if candidate is None:
        plain.model_info = ModelInfo(PLAIN, "none", f"{problem}.")
        if recurrent:
            raise ValueError(f"recurrent=True, but the Keras model has no state path: {problem}.")
        return plain
    plain.state_candidate = candidate
    plain.model_info = ModelInfo(
        PLAIN,
        candidate.access,
        "recurrent layers found; the state path is used once the split check passes on the "
        "explained data.",
        dict(candidate.detail),
    )
    if example is None and not recurrent:
        return plain
    if example is None:
        d = model.inputs[0].shape[-1]
        example = np.random.default_rng(0).normal(size=(5, 8, d))
    chosen = resolve_state_path(plain, np.asarray(example, dtype=float), recurrent=recurrent)
    if recurrent and chosen is plain:
        raise ValueError(f"recurrent=True, but the Keras model: {plain.model_info}")
    return chosen
