"""Players of every level as boolean cell masks over one ``(T, d)`` sequence.

One mechanism for all levels: a level is a list of names and ``(M, T, d)`` boolean masks
(player ``i`` covers the cells ``masks[i]``); :class:`~seqshap.games.MaskedGame` and
:class:`~seqshap.games.recurrent.RecurrentMaskedGame` value any of them. Levels with many
players over a long sequence (event and window players whose dense masks would exceed
:data:`DENSE_MASK_BYTES`) hold them as :class:`~seqshap.games.masked.SparseMasks`, linear in
``T`` (``T`` event players are ``T · T · d`` bytes dense); ``np.asarray`` gives the array. ``n_pruned`` events at
the start of the sequence (the pruned prefix) form one player, ``"Pruned Events"``, last.
Event labels count back from the most recent event: ``"Event -1"`` is the last row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from ..games.masked import SparseMasks

PRUNED = "Pruned Events"
#: levels whose dense masks ``(M, T, d)`` would take more bytes than this are built sparse
DENSE_MASK_BYTES = 2**24


@dataclass
class Players:
    """``names`` (M,), ``masks`` (M, T, d) bool, the ``level``, and ``steps_back``: for each
    player the one event it belongs to, counted back from the most recent (1 = the last row),
    or None (a player spanning several events, e.g. a feature or the pruned prefix). Code that
    needs a player's time step reads ``steps_back`` (recorded in the explanation's
    ``meta["steps_back"]``), never the label."""

    names: list[str]
    masks: np.ndarray | SparseMasks
    level: str
    steps_back: list[int | None] | None = None

    def __post_init__(self) -> None:
        if self.steps_back is None:
            self.steps_back = [None] * len(self.names)
        elif len(self.steps_back) != len(self.names):
            raise ValueError(
                f"steps_back must have one entry per player ({len(self.names)}); received "
                f"{len(self.steps_back)}."
            )

    @property
    def n_players(self) -> int:
        return len(self.names)


def _with_pruned(names: list[str], masks: list[np.ndarray], shape, n_pruned: int) -> tuple:
    if n_pruned > 0:
        m = np.zeros(shape, dtype=bool)
        m[:n_pruned] = True
        names = [*names, PRUNED]
        masks = [*masks, m]
    return names, masks


def _row_masks(rows: list[range], shape: tuple[int, int]) -> np.ndarray | SparseMasks:
    """Masks of players that cover whole events (``rows[i]``, every feature): a dense array,
    or :class:`SparseMasks` when that would exceed :data:`DENSE_MASK_BYTES`."""
    t_len, d = shape
    if len(rows) * t_len * d <= DENSE_MASK_BYTES:
        masks = np.zeros((len(rows), t_len, d), dtype=bool)
        for i, r in enumerate(rows):
            masks[i, r.start : r.stop] = True
        return masks
    return SparseMasks.from_products(rows, [range(d)] * len(rows), shape)


def event_players(length: int, n_features: int, n_pruned: int = 0) -> Players:
    """``"Event -1"`` … ``"Event -k"`` for the ``k = length - n_pruned`` kept events, then
    ``"Pruned Events"`` (the first ``n_pruned`` events) if any. Memory linear in ``length``
    for long sequences (:data:`DENSE_MASK_BYTES`)."""
    shape = (length, n_features)
    backs: list[int | None] = list(range(1, length - n_pruned + 1))
    rows = [range(length - back, length - back + 1) for back in backs]
    names = [f"Event -{back}" for back in backs]
    if n_pruned > 0:
        rows.append(range(0, n_pruned))
        names.append(PRUNED)
    backs += [None] * (len(names) - len(backs))
    return Players(names, _row_masks(rows, shape), "event", backs)


def resolve_groups(
    feature_names: list[str], feature_groups: Mapping[str, Sequence] | None
) -> list[tuple[str, list[int]]]:
    """Feature groups as ``[(name, [column indices])]``; ungrouped features become one
    ``"Other features"`` group so that every cell belongs to a player."""
    d = len(feature_names)
    if feature_groups is None:
        return [(name, [j]) for j, name in enumerate(feature_names)]
    if not isinstance(feature_groups, Mapping):
        raise TypeError(
            "feature_groups must be a dict {group name: [feature names or indices]}; received "
            f"{type(feature_groups).__name__}."
        )
    groups: list[tuple[str, list[int]]] = []
    seen: dict[int, str] = {}
    for gname, members in feature_groups.items():
        cols = []
        for f in [members] if isinstance(members, str | int) else list(members):
            if isinstance(f, str):
                if f not in feature_names:
                    raise ValueError(
                        f"feature_groups[{gname!r}] names feature {f!r}, which is not one of "
                        f"{feature_names}."
                    )
                j = feature_names.index(f)
            else:
                j = int(f)
                if not 0 <= j < d:
                    raise ValueError(
                        f"feature_groups[{gname!r}] index {j} is out of range [0, {d})."
                    )
            if j in seen:
                raise ValueError(
                    f"feature {feature_names[j]!r} is in two feature groups ({seen[j]!r} and "
                    f"{gname!r}); each feature may belong to one group only."
                )
            seen[j] = str(gname)
            cols.append(j)
        if not cols:
            raise ValueError(f"feature_groups[{gname!r}] is empty.")
        groups.append((str(gname), cols))
    rest = [j for j in range(d) if j not in seen]
    if rest:
        groups.append(("Other features", rest))
    return groups


def feature_players(
    length: int,
    feature_names: list[str],
    n_pruned: int = 0,
    feature_groups: Mapping[str, Sequence] | None = None,
) -> Players:
    """Each feature (or group) over the kept window is a player, then ``"Pruned Events"``."""
    shape = (length, len(feature_names))
    names, masks = [], []
    for gname, cols in resolve_groups(feature_names, feature_groups):
        m = np.zeros(shape, dtype=bool)
        m[n_pruned:, cols] = True
        names.append(gname)
        masks.append(m)
    names, masks = _with_pruned(names, masks, shape, n_pruned)
    return Players(names, np.array(masks, dtype=bool).reshape(-1, *shape), "feature")


def window_players(length: int, n_features: int, window: int, n_pruned: int = 0) -> Players:
    """WindowSHAP-style: consecutive windows of ``window`` events, counted back from the most
    recent (the oldest window may be shorter), named ``"Events -w..-1"``; then pruned."""
    shape = (length, n_features)
    names, rows = [], []
    end = length
    while end > n_pruned:
        start = max(n_pruned, end - window)
        rows.append(range(start, end))
        names.append(f"Events {start - length}..{end - length - 1}")
        end = start
    if n_pruned > 0:
        rows.append(range(0, n_pruned))
        names.append(PRUNED)
    return Players(names, _row_masks(rows, shape), "window")


def cell_players(
    length: int,
    feature_names: list[str],
    top_events: Sequence[int],
    top_groups: Sequence[tuple[str, list[int]]],
    n_pruned: int = 0,
) -> Players:
    """TimeSHAP's cell level over the kept window.

    ``top_events`` are steps counted back (1 = the last event); ``top_groups`` are
    ``(name, columns)`` of the top features (or feature groups). Players: each cell
    ``"Event -i, feat"``; ``"Other features of Event -i"`` for each top event; ``"feat over
    other events"`` for each top feature; ``"Other cells"`` (other events × other features);
    ``"Pruned Events"``. Empty players are left out.
    """
    d = len(feature_names)
    shape = (length, d)
    ev_rows = [length - back for back in top_events]
    top_cols = {j for _, cols in top_groups for j in cols}
    other_feats = [j for j in range(d) if j not in top_cols]
    other_rows = [t for t in range(n_pruned, length) if t not in set(ev_rows)]
    names, masks, backs = [], [], []

    def add(name: str, rows, cols, back: int | None = None) -> None:
        if len(rows) and len(cols):
            m = np.zeros(shape, dtype=bool)
            m[np.ix_(list(rows), list(cols))] = True
            names.append(name)
            masks.append(m)
            backs.append(None if back is None else int(back))

    for back, row in zip(top_events, ev_rows):
        for gname, cols in top_groups:
            add(f"Event -{back}, {gname}", [row], cols, back)
    for back, row in zip(top_events, ev_rows):
        add(f"Other features of Event -{back}", [row], other_feats, back)
    for gname, cols in top_groups:
        add(f"{gname} over other events", other_rows, cols)
    add("Other cells", other_rows, other_feats)
    names, masks = _with_pruned(names, masks, shape, n_pruned)
    backs += [None] * (len(names) - len(backs))
    return Players(names, np.array(masks, dtype=bool).reshape(-1, *shape), "cell", backs)


def time_hierarchy(n_events: int, *, pruned: bool = False, max_blocks: int = 10) -> list:
    """Contiguous blocks of the event players of :func:`event_players` (player ``i`` is
    ``"Event -(i+1)"``; ``"Pruned Events"``, if any, is player ``n_events``), newest first:
    sizes 1, 1, 2, 4, 8, … (each block as long as all newer ones together), the oldest block
    taking the rest, at most ``max_blocks`` blocks (plus the pruned player, a block of its own).

    Recent events, which usually matter most, are blocks of one or a few; the long stretch of
    old events is one block. On the prefix tree the quotient game of the blocks costs about
    ``2 · n_blocks · 2^n_blocks`` row-steps, whatever ``T``.
    """
    blocks: list = []
    start, size = 0, 1
    while start < n_events:
        end = n_events if len(blocks) == max_blocks - 1 else min(n_events, start + size)
        blocks.append(list(range(start, end)))
        size = end  # the next block is as long as all newer events together
        start = end
    if pruned:
        blocks.append([n_events])
    return blocks
