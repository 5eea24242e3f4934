"""Exact Shapley values by enumerating all 2^M coalitions, in bounded-memory chunks."""

from __future__ import annotations

import numpy as np

from ..games.base import Game
from .base import Estimate, bits_to_coalitions, shapley_size_weights

#: enumeration beyond this many players is refused whatever the budget (2^30 evaluations)
MAX_EXACT_PLAYERS = 30


def exact_shapley(game: Game, budget: int | None = None, *, chunk: int = 2**14) -> Estimate:
    """φ_i = Σ_S w(|S|) [v(S ∪ i) − v(S)], accumulated chunk by chunk over all coalitions.

    Each coalition's value enters φ_i with weight +w_in[|S|] if i ∈ S and −w_out[|S|] if not,
    so one pass over the 2^M values suffices: φ += Zᵀ(w_in·v) − (¬Z)ᵀ(w_out·v).

    Coalitions are enumerated in the game's ``enumeration_order`` (its first player on the
    most significant bit, so the last players vary fastest): on the recurrent prefix tree a
    chunk of consecutive coalitions then shares the states of the early events. For 20 event
    players, latest varying fastest costs ≈ 2^21 recurrent row-steps, earliest fastest ≈ 4×
    that (2.2M against 8.5M measured). The values are the same sums in another order.
    """
    m = game.n_players
    total = 2**m
    if m > MAX_EXACT_PLAYERS or (budget is not None and total > budget):
        raise ValueError(
            f"exact enumeration of {m} players needs 2^{m} = {total:,} evaluations, more than "
            f"the budget of {budget if budget is not None else 'any run'}. Use method='kernel' "
            "or 'permutation', or raise the budget."
        )
    w_in, w_out = shapley_size_weights(m)
    columns = _bit_columns(game.enumeration_order, m)
    values = np.zeros((m, game.n_outputs))
    base = full = None
    start_evals = game.n_evaluations
    for lo in range(0, total, chunk):
        ints = np.arange(lo, min(total, lo + chunk), dtype=np.int64)
        z = bits_to_coalitions(ints, m)[:, columns]
        v = game(z)
        sizes = z.sum(axis=1)
        values += z.T.astype(float) @ (w_in[sizes, None] * v)
        values -= (~z).T.astype(float) @ (w_out[sizes, None] * v)
        if lo == 0:
            base = v[0].copy()
        if ints[-1] == total - 1:
            full = v[-1].copy()
    return Estimate(
        values=values,
        std_errors=np.zeros_like(values),
        base=base,
        full=full,
        n_evaluations=game.n_evaluations - start_evals,
        method="exact",
        exact=True,
    )


def _bit_columns(order: np.ndarray | None, m: int) -> np.ndarray:
    """Columns ``c`` such that ``bits[:, c]`` puts bit ``M − 1 − r`` on player ``order[r]``
    (the first player of ``order`` on the most significant bit)."""
    if order is None:
        return np.arange(m)
    order = np.asarray(order, dtype=np.int64)
    if sorted(order.tolist()) != list(range(m)):
        raise ValueError(
            f"game.enumeration_order must be a permutation of 0..{m - 1}; received {order}."
        )
    columns = np.empty(m, dtype=np.int64)
    columns[order] = m - 1 - np.arange(m)
    return columns
