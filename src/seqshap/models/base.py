"""The model protocol every adapter implements.

An adapted model maps a float array ``(n, *input_shape)`` (for sequences ``(n, T, d)``) to
scores ``(n, k)``. A *recurrent* model additionally exposes its hidden state so that the
sequence game can reuse prefix states (TimeSHAP's convention ``f(x, h=None) -> (scores, h)``):

- ``forward(x, state)``: run ``x`` of shape ``(n, t, d)`` starting from ``state`` (``None`` =
  the model's initial state) and return ``(scores (n, k), final_state)``;
- ``take_state(state, index)``: the states of the rows ``index`` (an int array);
- ``concat_states(states)``: stack states of several batches along the batch axis.

States are opaque to seqshap: numpy arrays, torch tensors or (nested) tuples of them, with the
batch on ``state_batch_axis`` (TimeSHAP's layout ``(layers, n, hidden)`` has it on axis 1).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._validation import check_model_output, check_output_stable, output_signature

State = Any


class Model:
    """Base class of adapted models: ``model(x) -> (n, k)`` float64 scores.

    Subclasses implement :meth:`predict`; ``__call__`` validates the output shape and values.
    ``batch_size`` is the adapter's preferred maximum number of rows per call (None: any).
    """

    batch_size: int | None = None
    output_names: list[str] | None = None
    recurrent: bool = False
    #: (width, dtype) of the first checked output; every later call must match it
    _output_signature: tuple[int, str] | None = None
    #: which path the model is on and why (:class:`seqshap.models.ModelInfo`); None: not decided
    model_info: Any = None
    #: a state path found by the adapter, used once proved on real inputs (see ``_state.py``)
    state_candidate: RecurrentModel | None = None

    def predict(self, x: np.ndarray) -> Any:  # pragma: no cover - abstract
        raise NotImplementedError

    def _checked(self, out: Any, n_rows: int) -> np.ndarray:
        """Scores ``(n_rows, k)``, with the width and dtype of every earlier call."""
        arr = check_model_output(out, n_rows=n_rows)
        self._output_signature = check_output_stable(
            self._output_signature, output_signature(out, arr)
        )
        return arr

    def __call__(self, x: np.ndarray) -> np.ndarray:
        n = x.shape[0]
        if self.batch_size is None or n <= self.batch_size:
            return self._checked(self.predict(x), n)
        parts = [
            self._checked(self.predict(x[i : i + self.batch_size]), len(x[i : i + self.batch_size]))
            for i in range(0, n, self.batch_size)
        ]
        return np.concatenate(parts, axis=0)


class RecurrentModel(Model):
    """A model that exposes its hidden state (see the module docstring)."""

    recurrent = True
    state_batch_axis: int = 1

    def forward(self, x: np.ndarray, state: State = None) -> tuple[np.ndarray, State]:
        raise NotImplementedError  # pragma: no cover - abstract

    def predict(self, x: np.ndarray) -> Any:
        return self.forward(x, None)[0]

    def forward_checked(self, x: np.ndarray, state: State = None) -> tuple[np.ndarray, State]:
        scores, new_state = self.forward(x, state)
        return self._checked(scores, x.shape[0]), new_state

    def take_state(self, state: State, index: np.ndarray) -> State:
        return _map_state(state, lambda s: _take(s, index, self.state_batch_axis))

    def concat_states(self, states: Sequence[State]) -> State:
        first = states[0]
        if isinstance(first, tuple | list):
            return type(first)(
                self.concat_states([s[i] for s in states]) for i in range(len(first))
            )
        if type(first).__module__.startswith("torch"):
            import torch

            return torch.cat(list(states), dim=self.state_batch_axis)
        return np.concatenate(states, axis=self.state_batch_axis)

    def state_size(self, state: State) -> int:
        """Number of rows (batch entries) in ``state``."""
        leaf = state
        while isinstance(leaf, tuple | list):
            leaf = leaf[0]
        return int(leaf.shape[self.state_batch_axis])


def _map_state(state: State, fn: Callable[[Any], Any]) -> State:
    if isinstance(state, tuple | list):
        return type(state)(_map_state(s, fn) for s in state)
    return fn(state)


def _copy_leaf(leaf: Any) -> Any:
    return leaf.clone() if hasattr(leaf, "clone") else np.array(leaf, copy=True)


def _slice_rows(state: State, lo: int, hi: int, axis: int) -> State:
    """Rows ``lo:hi`` of a state (arrays/tensors or nested tuples) on ``axis``: views, no copy.

    For the chunks of one call; :meth:`RecurrentModel.take_state` copies (any index)."""
    if isinstance(state, tuple | list):
        return type(state)(_slice_rows(s, lo, hi, axis) for s in state)
    return state[(slice(None),) * axis + (slice(lo, hi),)]


def _take(array: Any, index: np.ndarray, axis: int) -> Any:
    if type(array).__module__.startswith("torch"):
        import torch

        idx = torch.as_tensor(np.asarray(index, dtype=np.int64), device=array.device)
        return array.index_select(axis, idx)
    return np.take(array, index, axis=axis)


class CallableModel(Model):
    """Any Python callable ``f(x) -> scores`` (numpy in; vector or ``(n, k)`` out)."""

    def __init__(self, fn: Callable[[np.ndarray], Any], batch_size: int | None = None):
        if not callable(fn):
            raise TypeError(f"model must be callable; received {type(fn).__name__}.")
        self.fn = fn
        self.batch_size = batch_size

    def predict(self, x: np.ndarray) -> Any:
        # a private copy: a function that writes into its input cannot change seqshap's
        # masked inputs (or what the next call sees)
        return self.fn(np.array(x, copy=True))

    def __repr__(self) -> str:
        return f"CallableModel({getattr(self.fn, '__name__', self.fn)!r})"


class RecurrentCallableModel(RecurrentModel):
    """TimeSHAP's convention: ``f(x, h=None) -> (scores, h)``.

    ``h`` is an array ``(layers, n, hidden)`` or a tuple of such (LSTM ``(h, c)``); set
    ``state_batch_axis`` if your states keep the batch elsewhere.
    """

    def __init__(
        self,
        fn: Callable[..., tuple[Any, State]],
        batch_size: int | None = None,
        state_batch_axis: int = 1,
    ):
        if not callable(fn):
            raise TypeError(f"model must be callable; received {type(fn).__name__}.")
        self.fn = fn
        self.batch_size = batch_size
        self.state_batch_axis = state_batch_axis

    def forward(self, x: np.ndarray, state: State = None) -> tuple[np.ndarray, State]:
        # private copies of the input and the state: a function that writes into them cannot
        # change seqshap's inputs or its cached prefix states
        x = np.array(x, copy=True)
        out = self.fn(x) if state is None else self.fn(x, _map_state(state, _copy_leaf))
        if not (isinstance(out, tuple) and len(out) == 2):
            raise ValueError(
                "model in the recurrent form must return (scores, hidden_state); it returned "
                f"{type(out).__name__}. Pass recurrent=False if it returns scores only."
            )
        scores, new_state = out
        if type(scores).__module__.startswith("torch"):
            scores = scores.detach().cpu().numpy()
        return scores, new_state
