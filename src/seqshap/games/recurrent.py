"""The masking game for recurrent models, evaluated as a prefix tree of hidden states.

Same value function as :class:`~seqshap.games.masked.MaskedGame` over a sequence ``x`` of
shape ``(T, d)`` (players cover cells, absent cells come from background rows), computed
with far fewer recurrent steps.

Why it works, for every level at once: the input of row ``(z, b)`` (coalition ``z``,
background row ``b``) at step ``t`` depends only on ``b`` and on ``z ∩ P_t``, the players that
cover a cell of step ``t``. So after step ``t`` two rows have the same prefix, hence the same
hidden state, when they agree on ``(b, z ∩ U_t)`` with ``U_t = P_0 ∪ … ∪ P_t``. ``U_t`` only
grows, so the partition of rows into distinct prefixes only refines as ``t`` advances and is
constant between the steps where ``U_t`` grows. Between those steps (a *segment*) each distinct
prefix is advanced once, in one batched call ``forward(x_segment, state)``; when the partition
refines, the states are split with ``take_state``. The scores of the last segment are the
values. Consequences:

* a pruned prefix (one player covering steps ``0..w0−1``) costs two distinct prefixes (``x``
  and the baseline) per background row, run once;
* exact event-level enumeration over ``M`` events costs ``≈ 2^(M+1)`` recurrent steps instead
  of ``T · 2^M`` (plain path) or ``M · 2^M`` (TimeSHAP's suffix-only path).

Consecutive segments are merged when a separate call would cost more than the steps it saves
(``call_cost``, in row-steps): early segments with few distinct prefixes are cheap to run
un-shared, and fewer calls are faster for small models.

:func:`split_values` evaluates the two-player "older vs recent" games at every split of a
sequence (temporal coalition pruning) from one prefix pass of ``x`` and of the background.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_int
from ..models import RecurrentModel
from ..models.base import _slice_rows
from .masked import DEFAULT_MEMORY_BUDGET, MaskedGame

State = Any

#: default cost of one extra model call, in row-steps (rows × recurrent steps)
DEFAULT_CALL_COST = 512


def check_state(model: RecurrentModel, state: State, n_rows: int) -> None:
    """Raise a clear error when ``state`` does not hold ``n_rows`` rows on the batch axis."""
    axis = model.state_batch_axis
    leaves: list[Any] = []

    def collect(s: Any) -> None:
        if isinstance(s, tuple | list):
            for item in s:
                collect(item)
        else:
            leaves.append(s)

    collect(state)
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


class PrefixCache(RecurrentModel):
    """A recurrent model that remembers runs from the initial state, row by row, by content.

    The state after a prefix is a function of the prefix alone, so the long prefixes that
    every game of one sequence starts with (the pruned prefix of ``x`` and of the baseline, the
    probe of ``x``) are run once and reused across levels. A call ``forward(x, None)`` with at
    most ``max_rows`` rows looks each row up whole, else starts it from the longest cached
    prefix of it (of a length seen before, e.g. the block starts of the pruning pass, given
    with :meth:`remember`) and runs the rest only. At most ``max_entries`` rows are kept
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


class RecurrentMaskedGame(MaskedGame):
    """:class:`MaskedGame` over a sequence, valued through shared prefix states.

    Same parameters as :class:`MaskedGame` (``x`` must be ``(T, d)`` and ``model`` a
    :class:`~seqshap.models.RecurrentModel`), plus ``call_cost``: the cost of one extra model
    call in row-steps, used to merge segments (0 = never merge; the result is the same).
    """

    def __init__(
        self,
        model,
        x: np.ndarray,
        background: np.ndarray,
        masks: np.ndarray,
        *,
        weights: np.ndarray | None = None,
        link="identity",
        batch_size: int = 1024,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        player_names: list[str] | None = None,
        output_names: list[str] | None = None,
        call_cost: int = DEFAULT_CALL_COST,
    ):
        if not isinstance(model, RecurrentModel):
            raise TypeError(
                "RecurrentMaskedGame needs a seqshap.models.RecurrentModel (a model exposing "
                f"forward(x, state)); received {type(model).__name__}. Adapt it with "
                "seqshap.adapt(model, recurrent=True) or use MaskedGame."
            )
        if np.ndim(x) != 2:
            raise ValueError(f"x must be a (T, d) sequence; received shape {np.shape(x)}.")
        super().__init__(
            model,
            x,
            background,
            masks,
            weights=weights,
            link=link,
            batch_size=batch_size,
            memory_budget=memory_budget,
            player_names=player_names,
            output_names=output_names,
        )
        self._fx_raw = None  # not probed (see _probe_model)
        self.call_cost = check_int(call_cost, name="call_cost", minimum=0)
        t_len, d = self.x.shape
        m = len(self.background)
        # players covering each step, and the steps where U_t (players seen so far) grows
        covers_step = self.masks.any(axis=2)  # (M, T)
        first = np.where(covers_step.any(axis=1), covers_step.argmax(axis=1), t_len)
        self._first_step = first  # first step each player covers (T if none)
        starts = sorted({0, *[int(s) for s in first if s < t_len]})
        self._starts = np.array(starts, dtype=np.int64)
        self._ends = np.r_[self._starts[1:], t_len]
        # coalitions per chunk: bounded by the keys and states kept per row, not by T
        self.max_chunk = max(1, min(2**15, self.memory_budget // max(1, m * 4096)))
        self._masks_steps = self.masks.reshape(self.n_players, t_len, d)
        self._always_steps = self._always.reshape(t_len, d)
        self._bit_weights, self._word_thresholds = _bit_layout(first, self._starts)
        # earliest players vary slowest: chunks of an enumeration then share early prefixes
        self.enumeration_order = np.argsort(first, kind="stable")
        self.n_steps = 0  # row-steps sent to the model (rows × time steps)

    def _probe_model(self) -> np.ndarray:
        """The first step of ``x`` only: the probe checks the model and counts its outputs;
        every value (``f(x)`` included) comes from the prefix tree, so running all ``T``
        steps here (one more full-length call per game) would be wasted."""
        return self.model(self.x[None, :1])

    # ------------------------------------------------------------------ grouping
    def _prefix_tree(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Coalitions sorted by prefix, and where consecutive sorted rows part.

        Each coalition is packed into integer keys (62 bits a word), the players ordered by
        their natural segment (earliest first, most significant bit), so that sorting the keys
        once sorts every prefix ``z ∩ U_t`` at the same time. Returns ``order`` (c,) (the
        sorting permutation) and ``div`` (c − 1,): for each pair of consecutive sorted rows, the
        first natural segment at which their prefixes differ (``n_segments`` if never). The
        groups of natural segment ``j`` then start at the sorted rows ``0`` and ``1 + i`` for
        ``div[i] <= j``, in the lexicographic order of their prefixes.
        """
        n_seg = len(self._starts)
        keys, order = self._sorted_keys(z)
        sk = keys[order]
        div = np.full(len(z) - 1, n_seg, dtype=np.int64)
        for w, asc in enumerate(self._word_thresholds):
            v = sk[1:, w] ^ sk[:-1, w]
            np.minimum(div, n_seg - np.searchsorted(asc, v, side="right"), out=div)
        return order, div

    def _sorted_keys(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        keys = z.view(np.uint8) @ self._bit_weights  # (c, n_words) int64, exact
        if keys.shape[1] == 1:
            return keys, np.argsort(keys[:, 0], kind="stable")
        return keys, np.lexsort(keys.T[::-1])

    def _chunk_order(self, coalitions: np.ndarray) -> np.ndarray:
        """Requests larger than a chunk are valued in prefix order, so that every chunk holds
        coalitions that share early prefixes (whatever order the estimator drew them in)."""
        return self._sorted_keys(coalitions)[1]

    def _plan(self, n_groups: np.ndarray) -> list[tuple[int, int, int]]:
        """Merge natural segments greedily; returns (start, end, natural index of the end)."""
        m = len(self.background)
        lengths = self._ends - self._starts
        plan = []
        run_start, run_len = 0, 0
        for j in range(len(self._starts)):
            if j > run_start:
                extra = (int(n_groups[j]) - int(n_groups[j - 1])) * m * run_len
                if extra > self.call_cost:
                    plan.append((int(self._starts[run_start]), int(self._ends[j - 1]), j - 1))
                    run_start, run_len = j, 0
            run_len += int(lengths[j])
        plan.append((int(self._starts[run_start]), int(self._ends[-1]), len(self._starts) - 1))
        return plan

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, coalitions: np.ndarray) -> np.ndarray:
        z = coalitions
        c, m, k = len(z), len(self.background), self.n_outputs
        n_seg = len(self._starts)
        order, div = self._prefix_tree(z)
        n_groups = 1 + np.cumsum(np.bincount(div, minlength=n_seg + 1))[:n_seg]
        state: State = None
        prev_ids: np.ndarray | None = None  # group of each sorted row, previous run
        n_prev = 0
        scores = None
        head = np.ones(c, dtype=bool)  # head[i]: sorted row i starts a group
        plan = self._plan(n_groups)
        for a, b, j in plan:
            np.less_equal(div, j, out=head[1:])
            pos = np.flatnonzero(head)
            if prev_ids is not None and len(pos) != n_prev:  # the partition refined: split
                parent = prev_ids[pos]  # group (of the previous run) each new group extends
                rows = (parent[:, None] * m + np.arange(m)[None, :]).reshape(-1)
                state = self.model.take_state(state, rows)
            reps = order[pos]  # a member of each group: same input up to step b
            masks_seg = self._masks_steps[:, a:b].reshape(self.n_players, -1)
            cover = z[reps].astype(np.float32) @ masks_seg.astype(np.float32) > 0
            cover |= self._always_steps[a:b].reshape(-1)
            x_seg = self.x[a:b].reshape(-1)
            bg_seg = self.background[:, a:b].reshape(m, -1)
            scores, state = self._run(
                cover, x_seg, bg_seg, (b - a, self.x.shape[1]), state, keep_state=b < plan[-1][1]
            )
            prev_ids = np.cumsum(head) - 1
            n_prev = len(pos)
        values = self._link(np.einsum("gmk,m->gk", scores.reshape(-1, m, k), self.weights))
        inv = np.empty(c, dtype=np.int64)
        inv[order] = prev_ids
        return values[inv]

    def _run(self, cover, x_seg, bg_seg, seg_shape, state, keep_state=True):
        """Advance every (group, background row) over one segment, in batches of rows.

        ``keep_state=False`` (the last segment) returns no state: its batches are not joined."""
        m = len(bg_seg)
        n_rows = len(cover) * m
        per_group = max(1, self.batch_size // m) if m <= self.batch_size else 1
        all_scores, all_states = [], []
        for g0 in range(0, len(cover), per_group):
            g1 = min(len(cover), g0 + per_group)
            inputs = np.where(cover[g0:g1, None, :], x_seg, bg_seg[None]).reshape(-1, *seg_shape)
            for r0 in range(0, len(inputs), self.batch_size):
                r1 = min(len(inputs), r0 + self.batch_size)
                lo, hi = g0 * m + r0, g0 * m + r1
                sub = None
                if state is not None:
                    sub = (
                        state
                        if (lo == 0 and hi == n_rows)
                        else _slice_rows(state, lo, hi, self.model.state_batch_axis)
                    )
                s, new_state = self.model.forward_checked(inputs[r0:r1], sub)
                check_state(self.model, new_state, r1 - r0)
                all_scores.append(s)
                if keep_state:
                    all_states.append(new_state)
                self.n_model_calls += 1
                self.n_model_rows += r1 - r0
                self.n_steps += (r1 - r0) * seg_shape[0]
        scores = all_scores[0] if len(all_scores) == 1 else np.concatenate(all_scores, axis=0)
        if not keep_state:
            return scores, None
        state = all_states[0] if len(all_states) == 1 else self.model.concat_states(all_states)
        return scores, state


def _bit_layout(first: np.ndarray, starts: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """Integer-key layout of coalitions for :meth:`RecurrentMaskedGame._prefix_tree`.

    Players are laid out segment by segment (natural segment ``j`` holds the players whose
    first step is ``starts[j]``; within it the lowest player index is the least significant
    bit, as ``Σ z_i 2^i``), from the most significant bit of word 0 on, 62 bits per word; players
    that cover no step are left out (they change no input). Returns the weights ``(M, n_words)``
    (``keys = z @ weights``) and, per word, the ascending thresholds ``thr`` such that two keys
    whose first differing word is this one, with ``v = key ^ key'``, first differ at natural
    segment ``n_segments − searchsorted(thr, v, "right")``.
    """
    n_players, n_seg = len(first), len(starts)
    per_word = 62
    in_seg = [np.flatnonzero(first == a) for a in starts]
    n_bits = sum(len(p) for p in in_seg)
    n_words = max(1, -(-n_bits // per_word))
    weights = np.zeros((n_players, n_words), dtype=np.int64)
    prefix_bits = np.zeros(n_seg, dtype=np.int64)  # bits of the prefix through segment j
    g = 0
    for j, players in enumerate(in_seg):
        for i, p in enumerate(players):
            bit = g + len(players) - 1 - i  # global position, 0 = most significant
            weights[p, bit // per_word] = 1 << (per_word - 1 - bit % per_word)
        g += len(players)
        prefix_bits[j] = g
    thresholds = []
    never = np.int64(1) << per_word  # above every key (keys < 2^62)
    for w in range(n_words):
        r = prefix_bits - w * per_word  # prefix bits that fall in word w (clipped below)
        thr = np.where(
            r >= per_word,
            1,
            np.where(r <= 0, never, np.int64(1) << (per_word - np.clip(r, 1, per_word - 1))),
        ).astype(np.int64)
        thresholds.append(thr[::-1].copy())  # non-increasing in j, so ascending reversed
    return weights, thresholds


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
    """
    t_len, d = x.shape
    m = len(background)
    blocks = split_blocks(t_len, n_blocks=n_blocks)
    counter = counter if counter is not None else {}

    def forward(inputs: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        outs, states = [], []
        for r0 in range(0, len(inputs), batch_size):
            r1 = min(len(inputs), r0 + batch_size)
            sub = None
            if state is not None:
                sub = (
                    state
                    if (r0 == 0 and r1 == len(inputs))
                    else model.take_state(state, np.arange(r0, r1))
                )
            s, st = model.forward_checked(inputs[r0:r1], sub)
            check_state(model, st, r1 - r0)
            outs.append(s)
            states.append(st)
            counter["calls"] = counter.get("calls", 0) + 1
            counter["rows"] = counter.get("rows", 0) + (r1 - r0)
            counter["steps"] = counter.get("steps", 0) + (r1 - r0) * inputs.shape[1]
        return np.concatenate(outs), states[0] if len(states) == 1 else model.concat_states(states)

    # one prefix pass over x and the background rows, keeping the state at each block start
    prefix = np.concatenate([x[None], background], axis=0)  # (1 + m, T, d)
    starts = sorted(a for a, _ in blocks)
    states_at: dict[int, State] = {0: None}
    state: State = None
    final = None
    remember = getattr(model, "remember", None)
    for i, a in enumerate(starts):
        b = starts[i + 1] if i + 1 < len(starts) else t_len
        final, state = forward(prefix[:, a:b], state)
        states_at[b] = state
        if remember is not None:  # later games of this sequence start from these prefixes
            remember(prefix[:, :b], final, state)
    fx_raw, fbg_raw = final[0], final[1:]  # (k,), (m, k)
    k = final.shape[1]
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
    return split_curves(older_raw, recent_raw, weights, link)
