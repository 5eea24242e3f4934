"""The prefix-state cache: a recurrent model wrapper that runs each long prefix once.

Games over one sequence (pruning, then each level) all start from the same long prefixes (the
pruned prefix of ``x`` and of the background rows); :class:`PrefixCache` remembers the states
after them by content, so each is run once per sequence. :func:`check_state` is the one check
that a model returned hidden states with the batch where the adapter says.
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from .base import RecurrentModel

State = Any


def state_leaves(state: State) -> list[Any]:
    """The arrays of a (possibly nested tuple/list) hidden state, in order."""
    if isinstance(state, tuple | list):
        return [leaf for item in state for leaf in state_leaves(item)]
    return [state]


def check_state(model: RecurrentModel, state: State, n_rows: int) -> None:
    """Raise a clear error when ``state`` does not hold ``n_rows`` rows on the batch axis."""
    axis = model.state_batch_axis
    leaves = state_leaves(state)
    problems = []
    for leaf in leaves:
        shape = getattr(leaf, "shape", None)
        if shape is None:
            problems.append(f"a leaf of type {type(leaf).__name__} (not an array)")
        elif len(shape) <= axis or int(shape[axis]) != n_rows:
            problems.append(f"an array of shape {tuple(shape)}")
    if not leaves or problems:
        got = ", ".join(problems) if problems else f"{type(state).__name__} with no arrays"
        raise ValueError(
            f"model hidden state has an unknown layout: for a batch of {n_rows} rows it returned "
            f"{got}; expected arrays with the batch on axis {axis} (TimeSHAP's layout "
            "(layers, n, hidden), or a tuple of such, e.g. LSTM (h, c)). Return states in that "
            "layout, or set the adapter's state_batch_axis to the axis that holds the batch."
        )


def state_rows(model: RecurrentModel, state: State, n_rows: int) -> np.ndarray | None:
    """``(n_rows, bytes)`` uint8: the raw bytes of each row of ``state`` (every leaf, batch axis
    first), so that equal rows are bitwise-equal states; None when a leaf is not an array (or a
    tensor) with ``n_rows`` rows on the model's batch axis."""
    axis = model.state_batch_axis
    leaves = state_leaves(state)
    parts = []
    for leaf in leaves:
        if type(leaf).__module__.startswith("torch"):
            leaf = leaf.detach().cpu()
            if str(leaf.dtype) == "torch.bfloat16":  # no numpy type; float32 holds it exactly
                leaf = leaf.float()
            leaf = leaf.numpy()
        elif not isinstance(leaf, np.ndarray):
            try:  # other frameworks' tensors (TensorFlow, JAX) convert on the host
                leaf = np.asarray(leaf)
            except (TypeError, ValueError):
                return None
        if leaf.dtype == object or leaf.ndim <= axis or leaf.shape[axis] != n_rows:
            return None
        rows = np.ascontiguousarray(np.moveaxis(leaf, axis, 0)).reshape(n_rows, -1)
        parts.append(rows.view(np.uint8).reshape(n_rows, -1))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else np.concatenate(parts, axis=1)


#: the cost of one recurrent step of a separate model call, in row-steps (AReM GRU, one
#: thread: ~23 µs a step whatever the rows, ~1 µs a row-step): a row with a cached prefix of
#: length ``a`` runs from the start with the others unless that saves more
STEP_COST = 16


class PrefixCache(RecurrentModel):
    """A recurrent model that remembers runs from the initial state, row by row, by content.

    The state after a prefix is a function of the prefix alone, so the long prefixes that
    every game of one sequence starts with (the pruned prefix of ``x`` and of the baseline, the
    probe of ``x``) are run once and reused across levels. A call ``forward(x, None)`` with at
    most ``max_rows`` rows looks each row up whole, else starts it from the longest cached
    prefix of it (of a length seen before, e.g. the block starts of the pruning pass, given
    with :meth:`remember`) and runs the rest only, one call per start; where some rows run from
    the start anyway, a row whose cached prefix saves fewer row-steps than the separate call's
    steps cost (:data:`STEP_COST` each) joins them (the probe's one step is never worth a second
    call over the other 479). At most ``max_entries`` rows are kept
    (oldest dropped first). Call :meth:`clear` whenever the model may have changed (the
    sequence explainer does so at the start of every sequence).
    """

    def __init__(self, base: RecurrentModel, *, max_rows: int = 16, max_entries: int = 256):
        self.base = base
        self.batch_size = base.batch_size
        self.output_names = base.output_names
        self.state_batch_axis = base.state_batch_axis
        self.max_rows = max_rows
        self.max_entries = max_entries
        self._cache: dict[bytes, tuple[np.ndarray, State]] = {}
        self._lengths: set[int] = set()
        self.hits = 0

    def clear(self) -> None:
        self._cache.clear()
        self._lengths.clear()

    @staticmethod
    def _key(row: np.ndarray) -> bytes:
        head = repr((row.shape, row.dtype.str)).encode()
        return hashlib.blake2b(head + np.ascontiguousarray(row).tobytes(), digest_size=20).digest()

    def remember(self, rows: np.ndarray, scores: np.ndarray, state: State) -> None:
        """Store the results of running ``rows`` ``(n, L, d)`` from the initial state."""
        if len(rows) > self.max_rows:
            return
        scores = np.asarray(scores)
        for j, row in enumerate(rows):
            self._cache[self._key(row)] = (
                scores[j : j + 1],
                self.base.take_state(state, np.array([j])),
            )
        self._lengths.add(rows.shape[1])
        while len(self._cache) > self.max_entries:
            self._cache.pop(next(iter(self._cache)))

    def _start(self, row: np.ndarray) -> tuple[int, State]:
        for a in sorted(self._lengths, reverse=True):
            if a < len(row):
                hit = self._cache.get(self._key(row[:a]))
                if hit is not None:
                    return a, hit[1]
        return 0, None

    def forward(self, x: np.ndarray, state: State = None) -> tuple[np.ndarray, State]:
        if state is not None or len(x) > self.max_rows or len(x) == 0:
            return self.base.forward(x, state)
        rows: list[tuple[np.ndarray, State] | None] = [self._cache.get(self._key(r)) for r in x]
        self.hits += sum(r is not None for r in rows)
        todo: dict[int, list[tuple[int, State]]] = {}
        for i, r in enumerate(rows):
            if r is None:
                a, st = self._start(x[i])
                todo.setdefault(a, []).append((i, st))
        if 0 in todo:  # rows run from the start anyway: join those that save little
            for a in [a for a in todo if a > 0]:
                if a * len(todo[a]) <= STEP_COST * (x.shape[1] - a):
                    todo[0].extend((i, None) for i, _ in todo.pop(a))
        for a, items in todo.items():
            idx = np.array([i for i, _ in items])
            start = None if a == 0 else self.base.concat_states([st for _, st in items])
            scores, new_state = self.base.forward(x[idx, a:], start)
            check_state(self.base, new_state, len(idx))
            scores = np.asarray(scores)
            for j, i in enumerate(idx):
                rows[i] = (scores[j : j + 1], self.base.take_state(new_state, np.array([j])))
            self.remember(x[idx], scores, new_state)
        scores = np.concatenate([r[0] for r in rows], axis=0)
        states = [r[1] for r in rows]
        return scores, states[0] if len(states) == 1 else self.base.concat_states(states)

    def take_state(self, state: State, index: np.ndarray) -> State:
        return self.base.take_state(state, index)

    def concat_states(self, states) -> State:
        return self.base.concat_states(states)

    def state_size(self, state: State) -> int:
        return self.base.state_size(state)
