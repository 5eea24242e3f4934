"""Sampling in rounds, shared by the sampled estimators (kernel, permutation, owen).

A sampled estimator draws *units* (complementary pairs of coalitions, antithetic pairs of
orderings) and re-estimates after each round. Without ``tol`` it draws everything the budget
allows in one round. With ``tol`` (Covert & Lee 2021) it starts small and stops once

    max_i SE_i ≤ tol · (max_i φ_i − min_i φ_i)      for every output,

doubling the number of units per round (at least ``min_step`` more) while the budget allows,
and warning when the budget runs out first. Standard errors are t-scaled by their degrees of
freedom (:func:`t_scaled`) before the check, so that the rule and the reported intervals agree.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ._intervals import t_factor


@dataclass
class Round:
    """What one round of an estimator returns to :func:`sample_in_rounds`."""

    values: np.ndarray  # (M, k)
    std_errors: np.ndarray  # (M, k), t-scaled
    n_units: int  # units drawn so far (may fall short of the target when none are left)
    exhausted: bool = False  # nothing left to draw: the values are exact


def t_scaled(raw: np.ndarray, dof: np.ndarray | float) -> tuple[np.ndarray, dict]:
    """Standard errors scaled by t_{0.975,ν}/z_{0.975}, and the extras that record why.

    Returns ``(se, {"std_errors_raw": raw, "dof": ν})`` with ν broadcast to ``raw``'s shape.
    """
    raw = np.asarray(raw, dtype=float)
    dof = np.broadcast_to(np.asarray(dof, dtype=float), raw.shape).copy()
    return raw * t_factor(dof), {"std_errors_raw": raw, "dof": dof}


def mean_round(samples: np.ndarray) -> tuple[Round, dict]:
    """The round of ``n`` i.i.d. per-sample estimates ``samples`` ``(n, ...)``: their mean and
    the t-scaled standard error of the mean (ν = n − 1), with the scaling's extras."""
    raw = samples.std(axis=0, ddof=1) / np.sqrt(len(samples))
    se, extras = t_scaled(raw, len(samples) - 1)
    return Round(samples.mean(axis=0), se, len(samples)), extras


def relative_error(values: np.ndarray, std_errors: np.ndarray) -> np.ndarray:
    """max_i SE_i / (max_i φ_i − min_i φ_i) per output (NaN standard errors count as ∞)."""
    spread = np.maximum(values.max(axis=0) - values.min(axis=0), 1e-12)
    return np.nan_to_num(std_errors, nan=np.inf).max(axis=0) / spread


def sample_in_rounds(
    estimator: str,
    *,
    budget: int,
    tol: float | None,
    first: int,
    advance: Callable[[int], Round],
    room: Callable[[int], int],
    spent: Callable[[], int],
    min_step: int = 1,
) -> tuple[Round, bool | None]:
    """Run ``advance(target)`` rounds until ``tol`` is met or the budget is spent.

    ``first`` is the first round's target number of units (all the budget allows when ``tol``
    is None); ``advance(n)`` draws up to ``n`` units in total and re-estimates; ``room(n)``
    says how many more units fit in the budget after ``n``; ``spent()`` counts evaluations.
    Returns the last round and whether ``tol`` was met (None without ``tol``).
    """
    result = advance(first)
    if tol is None:
        return result, None
    stalled = False
    while True:
        if result.exhausted or bool(
            np.all(relative_error(result.values, result.std_errors) <= tol)
        ):
            return result, True
        more = 0 if stalled else room(result.n_units)
        if more < 1:
            worst = float(np.max(relative_error(result.values, result.std_errors)))
            warnings.warn(
                f"{estimator} estimator: budget of {budget} evaluations ran out before the "
                f"standard errors met tol={tol}; largest relative standard error {worst:.3g} "
                f"after {spent()} evaluations. Raise the budget for tighter values.",
                UserWarning,
                stacklevel=4,
            )
            return result, False
        previous = result.n_units
        result = advance(previous + min(more, max(previous, min_step)))
        stalled = result.n_units <= previous  # the sampler found nothing new
