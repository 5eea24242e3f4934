"""Preparing the model for sequence explanations: outputs per time step and output selection.

Models that return one score per time step ``(n, T, k)`` (or ``(n, T)``) are explained at one
step (``time_step``, default the last); ``output`` restricts the explained outputs. Both are
applied by wrapping the adapted model, so games and estimators see plain ``(n, k)`` scores.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_output_stable, output_signature, raise_scalar_output
from ..models import CallableModel, Model, RecurrentCallableModel, RecurrentModel, adapt
from ..models._state import resolve_state_path


def to_numpy(out: Any) -> np.ndarray:
    if type(out).__module__.startswith("torch"):
        out = out.detach().cpu().numpy()
    return np.asarray(out, dtype=float)


class _Selection:
    """Turns raw scores into ``(n, k_selected)``."""

    def __init__(self, per_step: bool, time_step: int, outputs: list[int] | None):
        self.per_step = per_step
        self.time_step = time_step
        self.outputs = outputs
        self.signature: tuple[int, str] | None = None  # of the raw outputs, before selection

    def __call__(self, raw: Any) -> np.ndarray:
        arr = to_numpy(raw)
        if arr.ndim == 0:
            raise_scalar_output(raw, n_rows=-1)
        if self.per_step:
            arr = arr[:, self.time_step]
        if arr.ndim == 1:
            arr = arr[:, None]
        self.signature = check_output_stable(self.signature, output_signature(raw, arr))
        if self.outputs is not None:
            arr = arr[:, self.outputs]
        return arr


class SelectedModel(Model):
    """A plain model whose scores pass through a :class:`_Selection`."""

    def __init__(self, base: Model, selection: _Selection, output_names: list[str] | None):
        self.base = base
        self.selection = selection
        self.batch_size = base.batch_size
        self.output_names = output_names

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.selection(self.base.predict(x))


class SelectedRecurrentModel(RecurrentModel):
    """A recurrent model whose scores pass through a :class:`_Selection` (states untouched)."""

    def __init__(self, base: RecurrentModel, selection: _Selection, output_names: list[str] | None):
        self.base = base
        self.selection = selection
        self.batch_size = base.batch_size
        self.output_names = output_names
        self.state_batch_axis = base.state_batch_axis

    def forward(self, x: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        scores, new_state = self.base.forward(x, state)
        return self.selection(scores), new_state

    def take_state(self, state: Any, index: np.ndarray) -> Any:
        return self.base.take_state(state, index)

    def concat_states(self, states) -> Any:
        return self.base.concat_states(states)

    def state_size(self, state: Any) -> int:
        return self.base.state_size(state)


def prepare_model(
    model: Any,
    probe: np.ndarray,
    *,
    recurrent: bool | None,
    time_step: int | None,
    output: int | str | list | None,
    check_rows: np.ndarray | None = None,
    output_names: list[str] | None = None,
) -> tuple[Model, list[str], bool]:
    """Adapt ``model`` and wrap it for ``time_step``/``output``; returns
    ``(model, output_names, per_step)``. ``probe`` is one ``(1, T, d)`` input; a state path
    the adapter found is used once it passes the split check on ``probe`` and ``check_rows``
    (background rows ``(m, T, d)``).

    ``output_names`` (all k outputs, before ``output`` selects) override the names the model
    carries (scikit-learn ``classes_``, Hugging Face ``id2label``, ONNX metadata, Keras)."""
    base = model if isinstance(model, Model) else adapt(model, recurrent=recurrent)
    if base.state_candidate is not None:
        rows = probe if check_rows is None else np.concatenate([probe, check_rows], axis=0)
        base = resolve_state_path(base, rows, recurrent=recurrent)
    if recurrent and not isinstance(base, RecurrentModel):
        why = f" ({base.model_info})" if base.model_info is not None else ""
        raise TypeError(
            "recurrent=True needs a model that exposes its hidden state: a callable "
            "f(x, h=None) -> (scores, h) or a seqshap RecurrentModel adapter; received "
            f"{type(base).__name__}{why}. Pass recurrent=None or False to use the plain path."
        )
    if isinstance(base, RecurrentModel):
        raw = base.forward(probe, None)[0]
    else:
        raw = base.predict(probe)
        if isinstance(base, CallableModel) and isinstance(raw, tuple) and len(raw) == 2:
            # TimeSHAP's convention f(x, h=None) -> (scores, h); recurrent=False still runs
            # whole sequences (the explainer picks the path)
            base = RecurrentCallableModel(base.fn, batch_size=base.batch_size)
            raw = raw[0]
    arr = to_numpy(raw)
    if arr.ndim == 0:
        raise_scalar_output(raw, n_rows=len(probe))
    t_len = probe.shape[1]
    per_step = arr.ndim == 3 or (
        time_step is not None and arr.ndim == 2 and arr.shape[1] == t_len and t_len > 1
    )
    if arr.ndim == 3 and arr.shape[1] != t_len:
        raise ValueError(
            f"model returned scores of shape {arr.shape} for an input of {t_len} steps; a 3-D "
            "output must be (n, T, k), one row of scores per time step."
        )
    if time_step is not None and not per_step:
        raise ValueError(
            f"time_step={time_step} selects a step of per-step outputs, but the model returns "
            f"scores of shape {arr.shape} (one row per sequence). Leave time_step=None."
        )
    step = -1 if time_step is None else int(time_step)
    if per_step and not -t_len <= step < t_len:
        raise ValueError(f"time_step={time_step} is out of range for sequences of {t_len} steps.")
    k_all = arr.shape[-1] if arr.ndim == 3 else (1 if arr.ndim == 1 or per_step else arr.shape[1])
    names = list(base.output_names) if base.output_names else None
    if output_names is not None:
        if len(output_names) != k_all:
            raise ValueError(
                f"output_names has {len(output_names)} names but the model returns {k_all} "
                f"output(s) per sequence; give one name per output, e.g. "
                f"{[f'class {o}' for o in range(min(k_all, 3))]}{' …' if k_all > 3 else ''}."
            )
        names = list(output_names)
    if names is None or len(names) != k_all:
        names = ["output"] if k_all == 1 else [f"output {o}" for o in range(k_all)]
    outputs = None
    if output is not None:
        wanted = output if isinstance(output, list | tuple) else [output]
        outputs = []
        for o in wanted:
            if isinstance(o, str):
                if o not in names:
                    raise ValueError(f"output {o!r} not found; the model's outputs are {names}.")
                outputs.append(names.index(o))
            elif isinstance(o, int | np.integer) and -k_all <= int(o) < k_all:
                outputs.append(int(o) % k_all)
            else:
                raise ValueError(
                    f"output must be an index in [0, {k_all}) or an output name; received {o!r}."
                )
        names = [names[o] for o in outputs]
    if not per_step and outputs is None:
        return base, names, False
    selection = _Selection(per_step, step, outputs)
    if isinstance(base, RecurrentModel):
        return SelectedRecurrentModel(base, selection, names), names, per_step
    return SelectedModel(base, selection, names), names, per_step
