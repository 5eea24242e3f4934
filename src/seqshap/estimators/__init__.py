"""Estimators: Shapley values (exact, kernel, permutation) and LIME over any :class:`Game`.

``estimate(game, method, budget, seed, tol)`` is the one entry point. A budget counts coalition
evaluations of the game (with a background of m rows, each costs m model rows).

Convergence (Covert & Lee 2021): with ``tol`` the sampling estimators run in rounds and stop
once  max_i SE_i ≤ tol · (max_i φ_i − min_i φ_i)  for every output; ``budget="auto"`` does this
with ``tol`` (default :data:`AUTO_TOL`) up to ``max_budget`` evaluations (default
:data:`AUTO_MAX_BUDGET`), warning if the cap comes first. ``Estimate.n_evaluations`` says how
many evaluations were used and ``extras["converged"]`` whether ``tol`` was met.
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
#: tolerance of ``budget="auto"`` when none is given: max SE ≤ 1% of the spread of the values
AUTO_TOL = 0.01
#: most evaluations ``budget="auto"`` spends before giving up on the tolerance
AUTO_MAX_BUDGET = 100_000

__all__ = [
    "AUTO_MAX_BUDGET",
    "AUTO_TOL",
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
    budget: int | str | None = None,
    seed: Any = None,
    tol: float | None = None,
    **options: Any,
) -> Estimate:
    """Estimate the values of ``game`` with ``method`` within ``budget`` evaluations.

    ``auto`` enumerates exactly when 2^M fits the budget, else runs the kernel estimator with
    its third-order fit (``order=3``, the default: fewer evaluations for the same error, see
    :mod:`seqshap.estimators.kernel`); ``order=1`` is paired linear KernelSHAP. ``budget`` is
    an integer, None (:func:`default_budget`) or ``"auto"``: sample until the largest standard
    error is at most ``tol`` (default :data:`AUTO_TOL`) times the spread of the values, within
    ``max_budget`` evaluations (option, default :data:`AUTO_MAX_BUDGET`).
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {list(METHODS)}; received {method!r}.")
    m = game.n_players
    tol = check_tol(tol)
    rng = check_random_state(seed)
    if isinstance(budget, str):
        if budget != "auto":
            raise ValueError(
                f"budget must be an integer number of evaluations, None or 'auto'; received "
                f"{budget!r}."
            )
        if method == "lime":
            raise ValueError(
                "budget='auto' stops on standard errors, which LIME's surrogate does not have; "
                "give method='lime' an integer budget, or use method='kernel'."
            )
        tol = AUTO_TOL if tol is None else tol
        cap = check_budget(options.pop("max_budget", AUTO_MAX_BUDGET), name="max_budget")
        if method == "auto":
            cheap_exact = m <= MAX_EXACT_PLAYERS and 2**m <= min(cap, default_budget(m))
            method = "exact" if cheap_exact else "kernel"
        if method == "exact":
            budget = cap
        elif method == "kernel" and m <= MAX_EXACT_PLAYERS:
            # 2^M evaluations enumerate at once (exact values); 2^M − 1 leaves the paired
            # sampler one pair short. When 2^M ≤ 2M + 2 (M ≤ 3), the fewest evaluations that
            # determine M values by regression, enumerating costs no more than sampling could
            # (with 2^M − 1, M = 2 fits no pair at all and warned; M = 3 fits 2 of 3).
            tiny = 2**m <= 2 * m + 2
            budget = min(cap, 2**m if tiny else 2**m - 1)
        else:
            budget = cap
    elif "max_budget" in options:
        raise ValueError(
            f"max_budget only applies with budget='auto'; received budget={budget!r}. Give "
            "budget='auto' or drop max_budget."
        )
    else:
        budget = default_budget(m) if budget is None else check_budget(budget)
    if method == "auto":
        method = "exact" if m <= MAX_EXACT_PLAYERS and 2**m <= budget else "kernel"
    if method == "exact":
        return exact_shapley(game, budget)
    if method == "kernel":
        return kernel_shap(
            game,
            budget,
            rng,
            tol=tol,
            l1_reg=options.pop("l1_reg", False),
            order=options.pop("order", 3),
        )
    if method == "permutation":
        return permutation_shapley(game, budget, rng, tol=tol)
    return lime_surrogate(game, budget, rng, **options)
