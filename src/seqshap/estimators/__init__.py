"""Estimators: Shapley values (exact, kernel, permutation) and LIME over any :class:`Game`.

``estimate(game, method, budget, seed)`` is the one entry point. A budget counts coalition
evaluations of the game (with a background of m rows, each costs m model rows).
"""

from __future__ import annotations

from typing import Any

from .._validation import check_budget, check_random_state, check_tol
from ..games.base import Game
from .base import Estimate, shapley_size_weights
from .exact import MAX_EXACT_PLAYERS, exact_shapley
from .kernel import kernel_shap, kernel_size_mass
from .lime import lime_surrogate
from .permutation import permutation_shapley

METHODS = ("auto", "exact", "kernel", "permutation", "lime")

__all__ = [
    "Estimate",
    "METHODS",
    "default_budget",
    "estimate",
    "exact_shapley",
    "kernel_shap",
    "kernel_size_mass",
    "lime_surrogate",
    "permutation_shapley",
    "shapley_size_weights",
]


def default_budget(n_players: int) -> int:
    """2M + 2048 evaluations (shap's ``nsamples='auto'``)."""
    return 2 * n_players + 2048


def estimate(
    game: Game,
    method: str = "auto",
    budget: int | None = None,
    seed: Any = None,
    tol: float | None = None,
    **options: Any,
) -> Estimate:
    """Estimate the values of ``game`` with ``method`` within ``budget`` evaluations.

    ``auto`` enumerates exactly when 2^M fits the budget, else runs KernelSHAP.
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}; received {method!r}.")
    m = game.n_players
    budget = default_budget(m) if budget is None else check_budget(budget)
    tol = check_tol(tol)
    rng = check_random_state(seed)
    if method == "auto":
        method = "exact" if m <= MAX_EXACT_PLAYERS and 2**m <= budget else "kernel"
    l1_reg = options.pop("l1_reg", False)
    if method == "exact":
        return exact_shapley(game, budget)
    if method == "kernel":
        return kernel_shap(game, budget, rng, tol=tol, l1_reg=l1_reg)
    if method == "permutation":
        return permutation_shapley(game, budget, rng, tol=tol)
    return lime_surrogate(game, budget, rng, **options)
