"""Temporal coalition pruning (TimeSHAP, Bento et al. 2021).

At each split ``t = 0, -1, …, -T`` the sequence is cut into two players: ``"older"`` (the events
before the split) and ``"recent"`` (the last ``|t|`` events). Their Shapley values in that
two-player game are, with ``v(∅) = f(baseline)`` and ``v(N) = f(x)``,

    φ_older  = ½ [(v(older) − v(∅)) + (v(N) − v(recent))]
    φ_recent = ½ [(v(recent) − v(∅)) + (v(N) − v(older))]

The pruned index is the first split, going back from the most recent event, where the older
events matter little: ``max_outputs |φ_older(t)| ≤ tol`` (TimeSHAP's rule, ``≤``; ``t = 0`` is
never a pruning point). It is ``-T`` when nothing can be pruned. All ``2T`` inputs are valued
in batched model calls (plain path), or from prefix states (recurrent path).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..games.recurrent import (
    older_value,
    pruning_stop_reached,
    split_blocks,
    split_curves,
    split_values,
)
from ..models import Model, RecurrentModel

#: bytes of pruning inputs materialised at once on the plain path
_PRUNING_MEMORY = 64 * 2**20


@dataclass
class PruningResult:
    """Pruning curve and index of one sequence.

    Attributes
    ----------
    curve : tidy DataFrame, one row per (split ``t``, player, output): columns ``t``
        (0, −1, …, −T; ``t = -k`` keeps the last ``k`` events as "recent"), ``player``
        ("older" / "recent"), ``output``, ``value``.
    pruned_index : negative split ``-k``: the last ``k`` events are kept as players and the
        ``T - k`` before them form ``"Pruned Events"``; ``-T`` when nothing is pruned; None when
        no tolerance was given.
    tol : the tolerance used (None: curve only).
    older, recent : arrays ``(T + 1, k)`` of the values, row ``i`` for ``t = -i`` (NaN for
        splits not computed).
    length : T.
    complete : False when the search stopped at the pruned index (``full_curve=False``): the
        curve then answers :meth:`index_for` for tolerances ≥ ``tol`` only.
    """

    curve: pd.DataFrame
    pruned_index: int | None
    tol: float | None
    older: np.ndarray
    recent: np.ndarray
    length: int
    output_names: list[str]
    complete: bool = True

    @property
    def n_pruned(self) -> int:
        """Number of events in the pruned prefix (0 when nothing is pruned)."""
        return 0 if self.pruned_index is None else self.length + self.pruned_index

    def index_for(self, tol: float) -> int:
        """The pruned index at another tolerance (no model calls)."""
        if not self.complete and (self.tol is None or tol < self.tol):
            raise ValueError(
                f"this pruning curve stops at the pruned index for tol={self.tol}, so it cannot "
                f"answer tol={tol}; compute the full curve (full_curve=True) or use a tolerance "
                f">= {self.tol}."
            )
        return pruned_index(self.older, tol)


def pruned_index(older: np.ndarray, tol: float) -> int:
    """First ``t = -1, -2, …`` with ``max_k |older[-t]| ≤ tol``; ``-T`` if none before."""
    t_len = len(older) - 1
    small = np.abs(older[1:]).max(axis=1) <= tol  # splits t = -1 .. -T
    hits = np.flatnonzero(small)
    return -(int(hits[0]) + 1) if len(hits) else -t_len


def plain_split_values(
    model: Model,
    x: np.ndarray,
    background: np.ndarray,
    weights: np.ndarray,
    link,
    *,
    batch_size: int = 1024,
    stop_tol: float | None = None,
    counter: dict[str, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(v_older, v_recent)`` at splits ``s = 0..T`` from whole masked sequences, built in
    memory-bounded chunks and sent in batches. Same blocks and ``stop_tol`` rule as
    :func:`~seqshap.games.recurrent.split_values` (splits not visited are NaN)."""
    t_len, d = x.shape
    m = len(background)
    counter = counter if counter is not None else {}
    steps = np.arange(t_len)
    per_split = 2 * m * t_len * d * 8
    chunk = max(1, _PRUNING_MEMORY // max(1, per_split))

    def run(splits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        raw_o, raw_r = [], []
        for lo in range(0, len(splits), chunk):
            s = splits[lo : lo + chunk]
            before = (steps[None, :] < s[:, None])[:, None, :, None]
            older = np.where(before, x[None, None], background[None])
            recent = np.where(before, background[None], x[None, None])
            inputs = np.concatenate([older, recent]).reshape(-1, t_len, d)
            outs = []
            for r0 in range(0, len(inputs), batch_size):
                outs.append(model(inputs[r0 : r0 + batch_size]))
                counter["calls"] = counter.get("calls", 0) + 1
            counter["rows"] = counter.get("rows", 0) + len(inputs)
            counter["steps"] = counter.get("steps", 0) + len(inputs) * t_len
            out = np.concatenate(outs).reshape(2, len(s), m, -1)
            raw_o.append(out[0])
            raw_r.append(out[1])
        return np.concatenate(raw_o), np.concatenate(raw_r)

    ends_o, ends_r = run(np.array([0, t_len]))
    k = ends_o.shape[2]
    older_raw = np.full((t_len + 1, m, k), np.nan)
    recent_raw = np.full((t_len + 1, m, k), np.nan)
    older_raw[[0, t_len]], recent_raw[[0, t_len]] = ends_o, ends_r
    v_empty, v_full = link(ends_o[0].T @ weights), link(ends_o[1].T @ weights)
    for a, b in split_blocks(t_len):
        splits = np.arange(max(a, 1), b)
        if not len(splits):
            continue
        o, r = run(splits)
        older_raw[splits], recent_raw[splits] = o, r
        if pruning_stop_reached(o, r, weights, link, v_empty, v_full, stop_tol):
            break
    return split_curves(older_raw, recent_raw, weights, link)


def compute_pruning(
    model: Model,
    x: np.ndarray,
    background: np.ndarray,
    weights: np.ndarray,
    link,
    tol: float | None,
    *,
    output_names: list[str],
    batch_size: int = 1024,
    recurrent: bool = False,
    full_curve: bool = True,
    counter: dict[str, int] | None = None,
) -> PruningResult:
    """Pruning curve and index of ``x`` (T, d) against background rows (m, T, d).

    ``full_curve=False`` (needs ``tol``) stops at the pruned index: the curve then holds the
    splits from the most recent back to a little beyond it, enough for any tolerance ≥ ``tol``.
    """
    stop = None if (full_curve or tol is None) else tol
    if recurrent:
        if not isinstance(model, RecurrentModel):  # pragma: no cover - guarded by the caller
            raise TypeError("the recurrent pruning path needs a RecurrentModel.")
        v_old_s, v_rec_s = split_values(
            model,
            x,
            background,
            weights,
            link,
            batch_size=batch_size,
            stop_tol=stop,
            counter=counter,
        )
    else:
        v_old_s, v_rec_s = plain_split_values(
            model,
            x,
            background,
            weights,
            link,
            batch_size=batch_size,
            stop_tol=stop,
            counter=counter,
        )
    return pruning_from_split_values(v_old_s, v_rec_s, tol, output_names)


def pruning_from_split_values(
    v_old_s: np.ndarray, v_rec_s: np.ndarray, tol: float | None, output_names: list[str]
) -> PruningResult:
    """Two-player Shapley values at every split from ``v(older_s)``, ``v(recent_s)`` (s = 0..T)."""
    t_len = len(v_old_s) - 1
    v0 = v_old_s[0]  # s = 0: older-only is the baseline
    vn = v_old_s[t_len]  # s = T: older-only is x
    # reorder so that row i is t = -i, i.e. s = T - i
    vo = v_old_s[::-1]
    vr = v_rec_s[::-1]
    older = older_value(vo, vr, v0, vn)
    recent = older_value(vr, vo, v0, vn)
    # the empty side of the splits t = 0 and t = -T is exactly 0
    recent[0] = 0.0
    older[t_len] = 0.0
    k = older.shape[1]
    done = ~np.isnan(older).any(axis=1)
    complete = bool(done.all())
    t = -np.arange(t_len + 1)[done]
    n = len(t)
    curve = pd.DataFrame(
        {
            "t": np.repeat(np.r_[t, t], k),
            "player": np.repeat(["older"] * n + ["recent"] * n, k),
            "output": np.tile(np.asarray(output_names, dtype=object), 2 * n),
            "value": np.r_[older[done].reshape(-1), recent[done].reshape(-1)],
        }
    )
    idx = None if tol is None else pruned_index(older, tol)
    return PruningResult(curve, idx, tol, older, recent, t_len, list(output_names), complete)
