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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..models import Model, RecurrentModel
from ..models._prefix import State, check_state

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


def split_blocks(t_len: int, *, first: int = 8, n_blocks: int = 8) -> list[tuple[int, int]]:
    """Blocks ``[a, b)`` of split points ``s = 0..T-1``, from the most recent backwards.

    Widths start at ``first`` and double up to ``ceil(T / n_blocks)``: a search that stops at
    the first small split near the end touches few, short blocks, while a full curve needs
    about ``n_blocks`` + log2(T) blocks.
    """
    cap = max(first, -(-t_len // max(1, n_blocks)))
    blocks = []
    b = t_len
    while b > 0:
        width = min(cap, max(first, t_len - b))
        a = max(0, b - width)
        blocks.append((a, b))
        b = a
    return blocks


def older_value(
    v_older: np.ndarray, v_recent: np.ndarray, v_empty: np.ndarray, v_full: np.ndarray
) -> np.ndarray:
    """φ_older = ½ [(v(older) − v(∅)) + (v(N) − v(recent))] (two-player Shapley value)."""
    return 0.5 * ((v_older - v_empty) + (v_full - v_recent))


def pruning_stop_reached(
    older_raw: np.ndarray,
    recent_raw: np.ndarray,
    weights: np.ndarray,
    link: Callable[[np.ndarray], np.ndarray],
    v_empty: np.ndarray,
    v_full: np.ndarray,
    tol: float | None,
) -> bool:
    """Whether any split of a block (raw outputs ``(splits, m, k)``) has |φ_older| ≤ ``tol``."""
    if tol is None:
        return False
    phi = older_value(
        link(older_raw.transpose(0, 2, 1) @ weights),
        link(recent_raw.transpose(0, 2, 1) @ weights),
        v_empty,
        v_full,
    )
    return bool((np.abs(phi).max(axis=1) <= tol).any())


def split_curves(
    older_raw: np.ndarray,
    recent_raw: np.ndarray,
    weights: np.ndarray,
    link: Callable[[np.ndarray], np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Raw outputs ``(T + 1, m, k)`` → link-space values ``(T + 1, k)`` averaged over background."""
    return link(older_raw.transpose(0, 2, 1) @ weights), link(
        recent_raw.transpose(0, 2, 1) @ weights
    )


def forward_in_batches(
    model: RecurrentModel,
    inputs: np.ndarray,
    state: State,
    batch_size: int,
    counter: dict[str, int],
) -> tuple[np.ndarray, State]:
    """``model.forward(inputs, state)`` in calls of at most ``batch_size`` rows: the scores
    and the joined final state; ``counter`` adds the calls, rows and row-steps."""
    outs, states = [], []
    for r0 in range(0, len(inputs), batch_size):
        r1 = min(len(inputs), r0 + batch_size)
        sub = None
        if state is not None:
            whole = r0 == 0 and r1 == len(inputs)
            sub = state if whole else model.take_state(state, np.arange(r0, r1))
        s, st = model.forward_checked(inputs[r0:r1], sub)
        check_state(model, st, r1 - r0)
        outs.append(np.asarray(s))
        states.append(st)
        counter["calls"] = counter.get("calls", 0) + 1
        counter["rows"] = counter.get("rows", 0) + (r1 - r0)
        counter["steps"] = counter.get("steps", 0) + (r1 - r0) * inputs.shape[1]
    return np.concatenate(outs), states[0] if len(states) == 1 else model.concat_states(states)


def split_values(
    model: RecurrentModel,
    x: np.ndarray,
    background: np.ndarray,
    weights: np.ndarray,
    link: Callable[[np.ndarray], np.ndarray],
    *,
    batch_size: int = 1024,
    n_blocks: int = 8,
    stop_tol: float | None = None,
    counter: dict[str, int] | None = None,
    grid: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Values of "older only" and "recent only" at every split ``s = 0..T``, from prefix states.

    ``older_s = x[:s] ++ background[s:]`` and ``recent_s = background[:s] ++ x[s:]``; returns
    ``(v_older, v_recent)`` each ``(T + 1, k)`` in link space (averaged over the background).
    The prefix states of ``x`` and of every background row at each block start come from one
    pass each; each block's splits then run from those states, only over the steps after the
    block start (``≈ T² + T²/n_blocks`` row-steps per background row for the whole curve,
    instead of ``2 T²`` for the plain path). With ``stop_tol``, blocks are visited from the most
    recent split backwards and the search stops after the block holding the first split with
    ``max_k |φ_older| ≤ stop_tol``; splits not visited are NaN (rows 0 and T are always set).

    ``grid``: splits ``0 < s < T`` of a display curve, valued in the prefix pass itself (as
    :func:`grid_split_values` does, without running the prefix of ``x`` and the background a
    second time) and set where the search did not visit them.
    """
    t_len, d = x.shape
    m = len(background)
    blocks = split_blocks(t_len, n_blocks=n_blocks)
    counter = counter if counter is not None else {}

    def forward(inputs: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        return forward_in_batches(model, inputs, state, batch_size, counter)

    # one prefix pass over x and the background rows, keeping the state at each block start;
    # the display grid's splits ride along (rows: x, background, then older and recent rows of
    # each split started, as in grid_split_values)
    prefix = np.concatenate([x[None], background], axis=0)  # (1 + m, T, d)
    starts = sorted(a for a, _ in blocks)
    grid = np.zeros(0, np.int64) if grid is None else np.unique(np.asarray(grid, np.int64))
    grid = grid[(grid > 0) & (grid < t_len)]
    bounds = sorted({*starts, *grid.tolist(), t_len})
    keep_at, in_grid = set(starts[1:]) | {t_len}, set(grid.tolist())
    states_at: dict[int, State] = {0: None}
    state: State = None
    final = out = None
    n_active = 0  # grid splits started
    remember = getattr(model, "remember", None)
    for a, b in zip(bounds[:-1], bounds[1:]):
        if a in in_grid:  # split a starts: older rows from x's state, recent from the background's
            rows = np.r_[
                np.arange(1 + m + 2 * m * n_active), np.zeros(m, np.int64), 1 + np.arange(m)
            ]
            state = model.take_state(state, rows)
            n_active += 1
        seg = np.concatenate(
            [prefix[:, a:b]]
            + [np.concatenate([background[:, a:b], np.repeat(x[None, a:b], m, axis=0)])] * n_active
        )
        out, state = forward(seg, state)
        if b in keep_at:
            final = out[: 1 + m]
            here = state if n_active == 0 else model.take_state(state, np.arange(1 + m))
            states_at[b] = here
            if remember is not None:  # later games of this sequence start from these prefixes
                remember(prefix[:, :b], final, here)
    fx_raw, fbg_raw = final[0], final[1:]  # (k,), (m, k)
    k = final.shape[1]
    on_grid = out[1 + m :].reshape(n_active, 2, m, k)  # older, recent at each grid split
    older_raw = np.full((t_len + 1, m, k), np.nan)
    recent_raw = np.full((t_len + 1, m, k), np.nan)
    older_raw[t_len], recent_raw[t_len] = fx_raw, fbg_raw
    older_raw[0], recent_raw[0] = fbg_raw, fx_raw
    v_empty, v_full = link(fbg_raw.T @ weights), link(fx_raw[None])[0]
    steps = np.arange(t_len)
    for a, b in blocks:
        splits = np.arange(a, b)
        before = (steps[None, a:] < splits[:, None])[:, None, :, None]  # (B, 1, T-a, 1)
        older = np.where(before, x[None, None, a:], background[None, :, a:])
        recent = np.where(before, background[None, :, a:], x[None, None, a:])
        inputs = np.concatenate([older.reshape(-1, t_len - a, d), recent.reshape(-1, t_len - a, d)])
        n_split = len(splits) * m
        start_state = states_at[a]
        if start_state is not None:
            rows = np.r_[np.zeros(n_split, dtype=np.int64), np.tile(1 + np.arange(m), len(splits))]
            start_state = model.take_state(start_state, rows)
        out, _ = forward(inputs, start_state)
        o = out[:n_split].reshape(len(splits), m, k)
        r = out[n_split:].reshape(len(splits), m, k)
        keep = splits > 0  # s = 0 is set from the prefix pass
        older_raw[splits[keep]] = o[keep]
        recent_raw[splits[keep]] = r[keep]
        if pruning_stop_reached(o, r, weights, link, v_empty, v_full, stop_tol):
            break
    todo = np.isnan(older_raw[grid]).any(axis=(1, 2))  # grid splits the search did not visit
    older_raw[grid[todo]], recent_raw[grid[todo]] = on_grid[todo, 0], on_grid[todo, 1]
    return split_curves(older_raw, recent_raw, weights, link)


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
    extra_splits: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(v_older, v_recent)`` at splits ``s = 0..T`` from whole masked sequences, built in
    memory-bounded chunks and sent in batches. Same blocks and ``stop_tol`` rule as
    :func:`split_values` (splits not visited are NaN); ``extra_splits`` are valued too
    (a display grid beyond the search)."""
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
    if extra_splits is not None:
        todo = np.array([s for s in extra_splits if np.isnan(older_raw[s]).any()], np.int64)
        if len(todo):
            older_raw[todo], recent_raw[todo] = run(todo)
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
    grid: bool = False,
    counter: dict[str, int] | None = None,
) -> PruningResult:
    """Pruning curve and index of ``x`` (T, d) against background rows (m, T, d).

    ``full_curve=False`` (needs ``tol``) stops at the pruned index: the curve then holds the
    splits from the most recent back to a little beyond it, enough for any tolerance ≥ ``tol``
    (the index is exact: every split from the most recent back to it is valued). ``grid``
    adds the splits of :func:`curve_grid` beyond the search, for display: with prefix states
    ``≈ 2m · 3.4 T`` more row-steps (linear; the full curve costs ``≈ m T²``), on the plain
    path ``O(T log T)``.
    """
    stop = None if (full_curve or tol is None) else tol
    extra = curve_grid(len(x)) if (grid and stop is not None) else None
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
            grid=extra,
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
            extra_splits=None if extra is None else extra[extra > 0],
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


def curve_grid(t_len: int, *, per_octave: int = 2) -> np.ndarray:
    """Splits ``s`` (older = ``x[:s]``) of a coarse display curve: ``T − s`` (events kept as
    "recent") on a geometric grid ``1, 2, 3, 4, 6, 8, 11, 16, …`` up to ``T`` (``per_octave``
    points per doubling). ``Σ (T − s)`` over the grid is ``≈ 3.4 T``, so the whole grid costs
    linear time from prefix states (see :func:`grid_split_values`)."""
    n = max(1, int(np.ceil(per_octave * np.log2(max(t_len, 1)))))
    back = np.unique(np.round(2.0 ** (np.arange(n + 1) / per_octave)).astype(np.int64))
    back = np.unique(np.r_[back[back < t_len], t_len])
    return np.sort(t_len - back)


def grid_split_values(
    model: RecurrentModel,
    x: np.ndarray,
    background: np.ndarray,
    splits: np.ndarray,
    *,
    batch_size: int = 1024,
    counter: dict[str, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Raw outputs ``(n, m, k)`` of "older only" and "recent only" at the given ``splits``
    (``0 < s < T``), in one sweep over time.

    Past a split, the older input is the background row and the recent input is ``x``, so
    every split's rows see the same inputs from their split on: the sweep advances ``x``, the
    background rows and every split already started together, one call per segment between
    consecutive splits, and a split's rows join with the states of ``x`` (older) and of the
    background rows (recent) at their split. Row-steps: ``(1 + m) T + 2m Σ (T − s)``; memory:
    the states of the rows, never a ``T × T`` array.
    """
    t_len, d = x.shape
    m = len(background)
    counter = counter if counter is not None else {}
    splits = np.asarray(splits, dtype=np.int64)
    if len(splits) and (splits.min() <= 0 or splits.max() >= t_len or (np.diff(splits) <= 0).any()):
        raise ValueError(f"splits must be increasing and within (0, {t_len}); received {splits}.")
    bounds = np.r_[0, splits, t_len]
    state: State = None
    n_active = 0  # splits started
    out = None
    for j in range(len(bounds) - 1):
        a, b = int(bounds[j]), int(bounds[j + 1])
        if j > 0:  # split s = a starts: older rows from x's state, recent from the background's
            rows = np.r_[
                np.arange(1 + m + 2 * m * n_active), np.zeros(m, np.int64), 1 + np.arange(m)
            ]
            state = model.take_state(state, rows)
            n_active += 1
        seg = np.concatenate(
            [x[None, a:b], background[:, a:b]]
            + [np.concatenate([background[:, a:b], np.repeat(x[None, a:b], m, axis=0)])] * n_active
        )
        out, state = forward_in_batches(model, seg, state, batch_size, counter)
    k = out.shape[1]
    per = out[1 + m :].reshape(n_active, 2, m, k)
    return per[:, 0], per[:, 1]
