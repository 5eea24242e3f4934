"""Reference implementations for tests: brute-force Shapley values from the definition.

Slow on purpose (a Python loop over players and subsets); use for M ≲ 12.
"""

from __future__ import annotations

import itertools
from math import factorial

import numpy as np

from .games.base import Game


def brute_force_shapley(game: Game) -> np.ndarray:
    """φ_i = Σ_{S ⊆ N∖{i}} |S|!(M−|S|−1)!/M! · [v(S ∪ {i}) − v(S)], shape (M, k)."""
    m = game.n_players
    coalitions = np.array(list(itertools.product([False, True], repeat=m)), dtype=bool)[:, ::-1]
    values = game(coalitions)
    index = {tuple(z): j for j, z in enumerate(coalitions)}
    phi = np.zeros((m, values.shape[1]))
    for i in range(m):
        for z in coalitions:
            if z[i]:
                continue
            s = int(z.sum())
            w = factorial(s) * factorial(m - s - 1) / factorial(m)
            with_i = z.copy()
            with_i[i] = True
            phi[i] += w * (values[index[tuple(with_i)]] - values[index[tuple(z)]])
    return phi
