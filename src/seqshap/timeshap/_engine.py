"""The one bridge from the TimeSHAP façade to seqshap's sequence engine.

Every value the façade reports comes from :class:`seqshap.sequence.SequenceExplainer`'s players,
games and estimators; this module only chooses the budget from TimeSHAP's ``nsamples`` and
returns plain arrays. TimeSHAP lets the caller fix the pruning index and the cell-level
events/features, which ``explain()`` derives itself, and gives a seed and ``nsamples`` per
call: :meth:`SequenceExplainer.explain_level` takes all of them.
"""

from __future__ import annotations

import functools
import hashlib
import types
from typing import Any

import numpy as np

from .._validation import _describe, check_array, check_int
from ..estimators.exact import MAX_EXACT_PLAYERS
from ..sequence import Players, PruningResult, SequenceExplainer
from ._utils import returns_state

_PLAIN_CALLABLES = (
    types.FunctionType,
    types.MethodType,
    types.BuiltinFunctionType,
    functools.partial,
)

#: rows per model call (TimeSHAP's torch wrapper splits further by its own batch budget)
BATCH_SIZE = 4096


def coalitions_budget(n_players: int, nsamples: int) -> int:
    """Evaluations for a level of ``n_players`` given TimeSHAP's ``nsamples``.

    TimeSHAP's ``nsamples`` counts coalitions other than the empty and full ones. All ``2^M``
    coalitions are enumerated (exact values) when ``nsamples`` reaches half of them, so exact
    values never cost more than twice what was asked; otherwise paired KernelSHAP gets
    ``nsamples + 2`` evaluations (no l1 regularisation), and at least ``2M + 2``: fewer
    coalitions cannot determine ``M`` values (the regression would be singular).
    """
    total = 2**n_players
    if n_players <= MAX_EXACT_PLAYERS and total <= 2 * (nsamples + 2):
        return total
    return max(nsamples + 2, 2 * n_players + 2)


def as_baseline(baseline: Any) -> np.ndarray:
    """TimeSHAP's baseline forms as seqshap's: an event ``(d,)``, a sequence ``(T, d)`` or
    background rows ``(m, T, d)``. A DataFrame or ``(1, d)`` array is one average event."""
    if baseline is None:
        raise ValueError(
            "baseline is not defined; pass the average event (calc_avg_event) or the average "
            "sequence (calc_avg_sequence)."
        )
    arr = check_array(baseline, name="baseline", ndim=(1, 2, 3))
    if arr.ndim == 2 and arr.shape[0] == 1:
        return arr[0]
    return arr


class Engine:
    """A :class:`SequenceExplainer` for TimeSHAP's ``f`` and baseline, one output."""

    def __init__(self, f: Any, baseline: Any) -> None:
        if not callable(f):
            raise TypeError(f"f must be callable; received {_describe(f)}.")
        if isinstance(f, _PLAIN_CALLABLES):  # model objects go to their own adapters unchanged
            f = returns_state(f)  # a [scores, h] list is TimeSHAP's stateful form too
        self.explainer = SequenceExplainer(
            f, as_baseline(baseline), method="auto", batch_size=BATCH_SIZE, recurrent=None
        )
        self._current: tuple | None = None

    def _prepare(self, seq: np.ndarray) -> None:
        """Prepare the explainer for ``seq``; the same sequence again keeps its prefix-state
        cache, so pruning and the levels of one sequence share their long prefixes."""
        key = (seq.shape, hashlib.blake2b(np.ascontiguousarray(seq).tobytes()).digest())
        if key == self._current:
            return
        names = self.explainer.prepare(seq)  # clears the prefix-state cache
        self._current = key
        if len(names) != 1:
            raise ValueError(
                f"f returns {len(names)} scores per sequence; TimeSHAP's tables hold one. Wrap f "
                "to return the score to explain, or use seqshap.sequence.SequenceExplainer, "
                "which explains all outputs at once."
            )

    def prune(self, seq: np.ndarray) -> PruningResult:
        """Pruning curve of one ``(T, d)`` sequence (index per tolerance via ``index_for``)."""
        self._prepare(seq)
        return self.explainer.prune(seq, tol=None)

    def pruned_indexes(self, seq: np.ndarray, tols: list[float]) -> dict[float, int]:
        """Pruning index per tolerance without the full curve: the search goes back from the
        most recent event and stops at the smallest tolerance's index (cost linear in T for a
        fixed kept window, instead of the full curve's ~T^2 recurrent steps)."""
        self._prepare(seq)
        eff = [1e-11 if t == 0 else t for t in tols]  # TimeSHAP reads tol 0 as 1e-11
        result = self.explainer.prune(seq, min(eff), full_curve=False)
        return {t: result.index_for(e) for t, e in zip(tols, eff)}

    def values(self, seq: np.ndarray, players: Players, nsamples: Any, seed: Any) -> np.ndarray:
        """Shapley values ``(M,)`` of ``players`` for ``seq``: ``nsamples`` chooses the budget
        (:func:`coalitions_budget`), ``seed`` (TimeSHAP's ``rs``) the local generator."""
        nsamples = check_int(nsamples, name="nsamples", minimum=1)
        seed = check_int(seed, name="rs", minimum=0)
        self._prepare(seq)
        exp = self.explainer.explain_level(
            seq,
            players=players,
            budget=coalitions_budget(players.n_players, nsamples),
            seed=seed,
            method="auto",
            reuse_states=True,  # _prepare cleared the cache when the sequence changed
        )
        return exp.values[0, :, 0]
