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

Consecutive segments are joined into one call while the steps this wastes (rows run from the
run's first step instead of their own segment's), summed over the run, stay within one call's
cost (``call_cost``, in row-steps): early segments with few distinct prefixes are cheap to run
un-shared, and fewer calls are faster for small models.

Prefixes that differ only in events the model has forgotten reach *bitwise equal* hidden
states (a float32 GRU on AReM forgets a one-event difference exactly after ~100–150 steps);
from there, rows that also agree on every later player have the same future, so they are
merged into one prefix (exact: the same state and the same inputs give the same outputs).
Runs of at least :data:`MERGE_MIN_ROWS` rows are cut every :data:`MERGE_EVERY` steps to look
for such states, where at least :data:`MERGE_EVERY` steps are left (a merge saves at most the
steps left; the exact games of a pruned report, whose players are the last few events, never
look). On the AReM GRU's 480 unpruned events this cuts a sample of the oldest time
block from 107k to 61k row-steps (measured with runs joined by each segment's own waste;
``merge_states = False`` turns it off).

A game also keeps the states at the ends of its recent runs of at most :data:`SAVE_ROWS` rows,
keyed by the prefix of each row (after a merge, a group's state is that of every prefix in it): a later request whose groups were
all seen at a natural segment starts there. The rounds of a sampling estimator draw new
samples in the same contexts (the blocks before a time block), so they skip the contexts'
steps (AReM GRU, 480 unpruned events: the 96- and 17-step runs of 16 and 64 contexts that
started every round).

The prefix-state cache that lets later games of a sequence start from the pruned prefix is
:class:`seqshap.models.PrefixCache`; temporal pruning (the "older vs recent" games at every
split) is in :mod:`seqshap.sequence.pruning`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import check_int
from ..models import RecurrentModel
from ..models._prefix import PrefixCache, check_state, state_rows
from ..models.base import _slice_rows
from .masked import DEFAULT_MEMORY_BUDGET, MaskedGame, SparseMasks

State = Any

__all__ = ["DEFAULT_CALL_COST", "PrefixCache", "RecurrentMaskedGame", "check_state"]

#: default cost of one extra model call, in row-steps (rows × recurrent steps)
DEFAULT_CALL_COST = 512
#: runs of at least MERGE_MIN_ROWS rows are cut every MERGE_EVERY steps to merge equal states
MERGE_EVERY = 32
MERGE_MIN_ROWS = 64
#: states kept across requests (see RecurrentMaskedGame._save): runs of at most SAVE_ROWS
#: rows, the SAVE_ENTRIES latest run ends
SAVE_ROWS = 512
SAVE_ENTRIES = 8
#: after a merge, states are kept with every row's key, for requests of at most this many
#: bytes of keys (the entries hold them: memory stays bounded by SAVE_ENTRIES of these)
SAVE_KEY_BYTES = 2**21


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
        # the first step each player covers, and the steps where U_t (players seen so far) grows
        if isinstance(self.masks, SparseMasks):  # no (M, T) array: linear in the covered cells
            first = self.masks.first_cells() // d
            self._last_step = self.masks.last_cells() // d
            self._csc = self._masks_flat.tocsc()
        else:
            covers_step = self.masks.any(axis=2)  # (M, T)
            first = np.where(covers_step.any(axis=1), covers_step.argmax(axis=1), t_len)
            self._last_step = np.where(
                covers_step.any(axis=1), t_len - 1 - covers_step[:, ::-1].argmax(axis=1), -1
            )
            self._masks_steps = self.masks.reshape(self.n_players, t_len, d)
            self._covers_step = covers_step
        self._first_step = first  # first step each player covers (T if none)
        starts = sorted({0, *[int(s) for s in first if s < t_len]})
        self._starts = np.array(starts, dtype=np.int64)
        self._ends = np.r_[self._starts[1:], t_len]
        # coalitions per chunk: bounded by the keys and states kept per row, not by T
        self.max_chunk = max(1, min(2**15, self.memory_budget // max(1, m * 4096)))
        self._always_steps = self._always.reshape(t_len, d)
        self._word_players, self._word_bits, self._word_thresholds, self._prefix_bits = _bit_layout(
            first, self._starts
        )
        # earliest players vary slowest: chunks of an enumeration then share early prefixes
        self.enumeration_order = np.argsort(first, kind="stable")
        # a coalition that first differs from its neighbour at player i runs from i's first
        # step to the end: T − first steps (a player covering no step changes no input)
        self.player_costs = np.maximum(t_len - first, 1).astype(float)
        self.n_steps = 0  # row-steps sent to the model (rows × time steps)
        #: merge prefixes whose hidden states become bitwise equal (a model that forgot how
        #: they differ): exact, they have the same future (see :meth:`_merge`)
        self.merge_states = True
        self.merge_every = MERGE_EVERY
        self._last_sorted = np.sort(self._last_step[self._last_step >= 0])
        self._hash_mult = np.zeros(0, dtype=np.uint64)
        #: natural segment j -> (prefix key bytes -> group, states after segment j): states
        #: of earlier requests, so that a sampling estimator's rounds, whose coalitions share
        #: their early prefixes (the contexts of a time block), do not run them again
        self._saved: dict[int, tuple] = {}
        self._key_cols: np.ndarray | None = None  # see _sorted_keys
        self._key_valid: np.ndarray | None = None
        self.n_merged = 0  # groups merged that way

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
        keys, order = self._sorted_keys(z)
        return order, self._div(keys[order]), keys

    def _div(self, sk: np.ndarray) -> np.ndarray:
        """For consecutive rows of the sorted keys ``sk``, the first natural segment at which
        they differ (``n_segments`` if never)."""
        n_seg = len(self._starts)
        div = np.full(len(sk) - 1, n_seg, dtype=np.int64)
        for w, (after, partial) in enumerate(self._word_thresholds):
            v = sk[1:, w] ^ sk[:-1, w]
            seg = n_seg - after - np.searchsorted(partial, v, side="right")
            np.minimum(div, np.where(v == 0, n_seg, seg), out=div)
        return div

    def _future_keys(self, keys: np.ndarray, b: int) -> np.ndarray:
        """``keys`` with the bits of the players that cover a step ``≥ b`` only (those that
        change the inputs from step ``b`` on)."""
        out = keys.copy()
        for w, (players, bits) in enumerate(zip(self._word_players, self._word_bits)):
            out[:, w] &= np.int64(bits[self._last_step[players] >= b].sum())
        return out

    def _merge(self, state: State, n_groups: int) -> tuple[np.ndarray, np.ndarray] | None:
        """Groups whose hidden states are bitwise equal: ``(canon, keep)`` (the canonical id of
        each group, the representative group of each id), or None when none are.

        A 64-bit fingerprint of each group's state bytes finds the candidates (distinct
        fingerprints: distinct states, so the usual case costs one 1-D sort); groups are merged
        only if their bytes are equal."""
        rows = state_rows(self.model, state, n_groups * len(self.background))
        if rows is None:
            return None
        per = rows.reshape(n_groups, -1)
        pad = -per.shape[1] % 8
        if pad:
            per = np.pad(per, ((0, 0), (0, pad)))
        words = np.ascontiguousarray(per).view(np.uint64)  # (G, W)
        if len(self._hash_mult) < words.shape[1]:
            gen = np.random.default_rng(len(self._hash_mult))  # fixed multipliers, any values
            more = gen.integers(1, 2**63, size=words.shape[1], dtype=np.uint64) | np.uint64(1)
            self._hash_mult = np.concatenate([self._hash_mult, more])
        finger = (words * self._hash_mult[: words.shape[1]]).sum(axis=1)  # wraps mod 2^64
        _, keep, canon = np.unique(finger, return_index=True, return_inverse=True)
        if len(keep) == n_groups:
            return None
        if not (words == words[keep[canon]]).all():  # a fingerprint collision: compare bytes
            _, keep, canon = np.unique(words, axis=0, return_index=True, return_inverse=True)
            if len(keep) == n_groups:
                return None
        return canon.reshape(-1), keep

    def _sorted_keys(self, z: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if self._key_cols is None:  # word w, bit 63 − i: column cols[64 w + i] (i ≥ 2)
            cols = np.zeros((len(self._word_players), 64), dtype=np.int64)
            valid = np.zeros(cols.shape, dtype=bool)
            for w, players in enumerate(self._word_players):
                cols[w, 2 : 2 + len(players)] = players
                valid[w, 2 : 2 + len(players)] = True
            self._key_cols, self._key_valid = cols.reshape(-1), valid.reshape(-1)
        # the key words Σ z_p bit_p, packed 8 bits a byte (3x faster than a uint8 @ int64)
        bits = np.take(z, self._key_cols, axis=1) & self._key_valid
        keys = np.ascontiguousarray(np.packbits(bits, axis=1)).view(">u8").astype(np.int64)
        if keys.shape[1] == 1:
            return keys, np.argsort(keys[:, 0], kind="stable")
        return keys, np.lexsort(keys.T[::-1])

    def _chunk_order(self, coalitions: np.ndarray) -> np.ndarray:
        """Requests larger than a chunk are valued in prefix order, so that every chunk holds
        coalitions that share early prefixes (whatever order the estimator drew them in)."""
        return self._sorted_keys(coalitions)[1]

    def _plan(self, n_groups: np.ndarray, first: int = 0) -> list[tuple[int, int, int, bool]]:
        """Runs of natural segments, each one model call: ``(start, end, natural index of the
        end, look)``, ``look``: whether to look for equal states (:meth:`_merge`) after it.

        A run holds the groups of its last segment from its first step on, so each segment
        ``j`` in it costs ``(n_groups[end] − n_groups[j]) · m · len_j`` row-steps more than a
        run of its own would; segments are joined greedily while that waste, summed over the
        run, stays within ``call_cost`` (one more call). Summed, not per segment: 224 events
        with two new groups each would otherwise be one run of 456 rows over 224 steps (100k
        row-steps instead of 50k, AReM GRU, 480 unpruned events). ``first``: the first natural
        segment to run (the states before it are known)."""
        m = len(self.background)
        lengths = self._ends - self._starts
        plan = []
        run_start, run_len, waste = first, 0, 0
        for j in range(first, len(self._starts)):
            if j > run_start:
                extra = (int(n_groups[j]) - int(n_groups[j - 1])) * m * run_len
                if waste + extra > self.call_cost:
                    plan.append((int(self._starts[run_start]), int(self._ends[j - 1]), j - 1))
                    run_start, run_len, waste = j, 0, 0
                else:
                    waste += extra
            run_len += int(lengths[j])
        plan.append((int(self._starts[run_start]), int(self._ends[-1]), len(self._starts) - 1))
        end = int(self._ends[-1])
        if not self.merge_states:
            return [(a, b, j, False) for a, b, j in plan]
        # look for equal states at most every merge_every steps; long runs of many rows are cut
        # every merge_every steps for it (a chance to merge prefixes whose states became equal
        # before running them all to the end)
        out, last = [], int(self._starts[first])
        for a, b, j in plan:
            if int(n_groups[j]) * m < MERGE_MIN_ROWS:
                out.append((a, b, j, False))
                continue
            ends = [e for e in range(last + self.merge_every, b, self.merge_every) if e > a]
            ends = [e for e in ends if self._may_merge(e, end)] + [b]
            for lo, hi in zip([a, *ends[:-1]], ends):
                look = hi - last >= self.merge_every and self._may_merge(hi, end)
                out.append((lo, hi, j, look))
                if look:
                    last = hi
        return out

    def _may_merge(self, b: int, end: int) -> bool:
        """Whether to look for equal states after step ``b``: at least :data:`MERGE_EVERY`
        steps left, and a player that finished before ``b`` (groups that differ only in
        players still covering steps cannot merge: their inputs differ)."""
        if not self.merge_states or end - b < self.merge_every:
            return False
        return bool(np.searchsorted(self._last_sorted, b) > 0)

    # ------------------------------------------------------------------ evaluation
    def _evaluate(self, coalitions: np.ndarray) -> np.ndarray:
        z = coalitions
        c, m, k = len(z), len(self.background), self.n_outputs
        n_seg = len(self._starts)
        order, div, keys = self._prefix_tree(z)
        n_groups = 1 + np.cumsum(np.bincount(div, minlength=n_seg + 1))[:n_seg]
        state: State = None
        prev_ids: np.ndarray | None = None  # group of each sorted row, previous run
        n_prev = 0
        scores = None
        head = np.ones(c, dtype=bool)  # head[i]: sorted row i starts a group
        first = 0
        restored = self._restore(order, div, keys)
        if restored is not None:  # every group's state after natural segment j is known
            j0, state, prev_ids = restored
            n_prev, first = int(prev_ids[-1]) + 1, j0 + 1
        plan = self._plan(n_groups, first)
        pure = True  # groups are prefixes (until states are merged)
        for a, b, j, look in plan:
            np.less_equal(div, j, out=head[1:])
            pos = np.flatnonzero(head)
            if prev_ids is not None and len(pos) != n_prev:  # the partition refined: split
                parent = prev_ids[pos]  # group (of the previous run) each new group extends
                rows = (parent[:, None] * m + np.arange(m)[None, :]).reshape(-1)
                state = self.model.take_state(state, rows)
            reps = order[pos]  # a member of each group: same input up to step b
            cover = self._segment_cover(z[reps], a, b)
            cover |= self._always_steps[a:b].reshape(-1)
            x_seg = self.x[a:b].reshape(-1)
            bg_seg = self.background[:, a:b].reshape(m, -1)
            scores, state = self._run(
                cover, x_seg, bg_seg, (b - a, self.x.shape[1]), state, keep_state=b < plan[-1][1]
            )
            prev_ids = np.cumsum(head) - 1
            n_prev = len(pos)
            if b == self._ends[j] and b < plan[-1][1] and n_prev * m <= SAVE_ROWS:
                if pure:  # one key per group
                    self._save(j, keys[reps], np.arange(n_prev), np.arange(n_prev), state)
                elif keys.nbytes <= SAVE_KEY_BYTES:  # after a merge a group holds several
                    self._save(j, keys, order, prev_ids, state)  # prefixes: every row's key
            merged = None
            if look and n_prev > 1:
                merged = self._merge(state, n_prev)
            if merged is not None:
                # groups whose states are equal after step b are one prefix from here on when
                # their later players agree: re-sort the rows by (state, later players)
                canon, keep = merged
                state = self.model.take_state(
                    state, (keep[:, None] * m + np.arange(m)[None, :]).reshape(-1)
                )
                row_canon = np.empty(c, dtype=np.int64)
                row_canon[order] = canon[prev_ids]
                future = self._future_keys(keys, b)
                order = np.lexsort((*future.T[::-1], row_canon))
                div = self._div(future[order])
                prev_ids = row_canon[order]
                # rows of different states part at once (the rest of a cut run has the same
                # natural index j); rows that differ in a player still to come part at its
                # natural segment, or at once if it started earlier
                div[prev_ids[1:] != prev_ids[:-1]] = j
                n_prev = len(keep)
                self.n_merged += int(len(canon) - len(keep))
                pure = False
        values = self._link(np.einsum("gmk,m->gk", scores.reshape(-1, m, k), self.weights))
        inv = np.empty(c, dtype=np.int64)
        inv[order] = prev_ids
        out = values[inv]
        # v(∅) and v(N) when requested among others (the quotient game of time blocks holds
        # both): kept, so that empty_value / full_value (read by resolution) cost no model call
        if self._empty is None and (empty := np.flatnonzero(~z.any(axis=1))).size:
            self._empty = out[empty[0]].copy()
        if self._full is None and (full := np.flatnonzero(z.all(axis=1))).size:
            self._full = out[full[0]].copy()
        return out

    def _prefix_mask(self, j: int) -> np.ndarray:
        """Per key word, the bits of the players whose first step is in natural segments
        ``0..j`` (those that change the inputs up to the end of segment ``j``)."""
        n_bits = int(self._prefix_bits[j])
        inside = np.clip(n_bits - 62 * np.arange(len(self._word_bits)), 0, 62)
        full = (np.int64(1) << 62) - 1
        return full ^ ((np.int64(1) << (62 - inside)) - 1)

    def _fingerprint(self, rows: np.ndarray) -> np.ndarray:
        """One uint64 per row of int64 key words (wrapping multiply-add; equal rows, equal
        fingerprints; rows are compared whole after a fingerprint matches)."""
        mult = (
            np.arange(1, rows.shape[1] + 1, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
        ) | 1
        return (rows.view(np.uint64) * mult).sum(axis=1, dtype=np.uint64)

    def _save(self, j: int, keys: np.ndarray, rows: np.ndarray, groups: np.ndarray, state) -> None:
        """Keep the states after natural segment ``j``: row ``rows[i]`` (prefix key
        ``keys[rows[i]]``) has the state of group ``groups[i]`` (after a merge, of every row of
        that group). Indexed when first read (:meth:`_restore`): most entries never are."""
        self._saved.pop(j, None)
        self._saved[j] = (None, keys, rows, groups, state)
        while len(self._saved) > SAVE_ENTRIES:
            self._saved.pop(next(iter(self._saved)))

    def _saved_index(self, j: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, State]:
        finger, keys, rows, groups, state = self._saved[j]
        if finger is None:
            masked = keys[rows] & self._prefix_mask(j)
            finger = self._fingerprint(masked)
            o = np.argsort(finger, kind="stable")
            finger, keys, groups = finger[o], masked[o], groups[o]
            self._saved[j] = (finger, keys, None, groups, state)
        return finger, keys, groups, state

    def _restore(self, order: np.ndarray, div: np.ndarray, keys: np.ndarray):
        """``(j, state, group of each sorted row)`` for the latest kept natural segment ``j`` at
        which every group of this request was kept, else None."""
        m = len(self.background)
        for j in sorted(self._saved, reverse=True):
            finger, masked, groups, saved = self._saved_index(j)
            head = np.r_[True, div <= j]
            query = keys[order[np.flatnonzero(head)]] & self._prefix_mask(j)
            at = np.minimum(np.searchsorted(finger, self._fingerprint(query)), len(finger) - 1)
            if not (masked[at] == query).all():  # a prefix not kept (or a collision): not here
                continue
            rows = (groups[at][:, None] * m + np.arange(m)[None, :]).reshape(-1)
            return j, self.model.take_state(saved, rows), np.cumsum(head) - 1
        return None

    def _segment_cover(self, z: np.ndarray, a: int, b: int) -> np.ndarray:
        """``(g, (b − a) · d)``: the cells of steps ``a..b−1`` that coalitions ``z`` cover
        (only the players that cover one of these steps take part)."""
        if not isinstance(self.masks, SparseMasks):
            players = np.flatnonzero(self._covers_step[:, a:b].any(axis=1))
            masks_seg = self._masks_steps[players, a:b].reshape(len(players), -1)
            return z[:, players].astype(np.float32) @ masks_seg.astype(np.float32) > 0
        d = self.x.shape[1]
        seg = self._csc[:, a * d : b * d]
        players = np.unique(seg.indices)
        sub = seg.tocsr()[players]  # (P, (b − a) · d)
        return np.asarray(sub.T @ z[:, players].T.astype(np.float32)).T > 0

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


def _bit_layout(
    first: np.ndarray, starts: np.ndarray
) -> tuple[list[np.ndarray], list[np.ndarray], list[tuple[int, np.ndarray]], np.ndarray]:
    """Integer-key layout of coalitions for :meth:`RecurrentMaskedGame._prefix_tree`.

    Players are laid out segment by segment (natural segment ``j`` holds the players whose
    first step is ``starts[j]``; within it the lowest player index is the least significant
    bit, as ``Σ z_i 2^i``), from the most significant bit of word 0 on, 62 bits per word; players
    that cover no step are left out (they change no input). Returns, per word, its players and
    their bit values (``key_w = Σ z_p bit_p``), and ``(after, partial)``: two keys whose first
    differing word is ``w``, with ``v = key ^ key' > 0``, first differ at natural segment
    ``n_segments − after − searchsorted(partial, v, "right")`` (``after`` segments end beyond
    the word; ``partial``, ascending, holds ``2^(62 − r)`` for the segments that end ``r``
    bits into it). Memory linear in the players and segments (no players × words table).
    """
    n_seg = len(starts)
    per_word = 62
    seg_of = np.searchsorted(starts, first)  # natural segment of each player's first step
    covered = np.isin(first, starts)  # players that cover no step are left out
    players = np.flatnonzero(covered)
    # segment by segment; within a segment the highest index first (most significant)
    order = np.lexsort((-players, seg_of[players]))
    players = players[order]
    counts = np.bincount(seg_of[players], minlength=n_seg)
    prefix_bits = np.cumsum(counts)  # bits of the prefix through segment j
    n_words = max(1, -(-len(players) // per_word))
    positions = np.arange(len(players))  # global bit position, 0 = most significant
    word_players, word_bits, thresholds = [], [], []
    for w in range(n_words):
        sel = slice(w * per_word, (w + 1) * per_word)
        word_players.append(players[sel])
        word_bits.append(np.int64(1) << (per_word - 1 - positions[sel] % per_word))
        r = prefix_bits - w * per_word
        after = int((r >= per_word).sum())
        inside = r[(r > 0) & (r < per_word)]
        thresholds.append((after, np.sort(np.int64(1) << (per_word - inside))))
    return word_players, word_bits, thresholds, prefix_bits
