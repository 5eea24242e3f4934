"""``budget="auto"`` and ``tol``: stop when max SE ≤ tol · spread of the values (Covert & Lee)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from seqshap.estimators import AUTO_TOL, estimate
from seqshap.games import FunctionGame


def recurrent_game(m: int = 14, seed: int = 0) -> FunctionGame:
    """A tanh recurrence over m time-step players (absent steps read 0): interactions of all orders."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=m)
    a, c = 0.8, rng.normal(size=m)

    def value(z: np.ndarray) -> np.ndarray:
        h = np.zeros(len(z))
        for t in range(m):
            h = np.tanh(a * h + c[t] * np.where(z[:, t], x[t], 0.0) + 0.1)
        return h

    return FunctionGame(value, m)


def spread(values: np.ndarray) -> np.ndarray:
    return values.max(axis=0) - values.min(axis=0)


@pytest.mark.parametrize("method", ["kernel", "permutation"])
def test_auto_budget_stops_when_tolerance_is_met(method):
    game = recurrent_game()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        est = estimate(game, method, budget="auto", tol=0.02, seed=0)
    assert est.extras["converged"] is True and est.extras["tol"] == 0.02
    assert np.all(est.std_errors.max(axis=0) <= 0.02 * spread(est.values))
    assert est.n_evaluations == game.n_evaluations  # all evaluations are reported
    assert est.n_evaluations < 2**game.n_players


@pytest.mark.parametrize("method", ["kernel", "permutation"])
def test_tighter_tolerance_costs_more_and_is_closer(method):
    game = recurrent_game()
    exact = estimate(game, "exact", budget=2**14).values
    loose = estimate(game, method, budget="auto", tol=0.05, seed=1)
    tight = estimate(game, method, budget="auto", tol=0.005, seed=1)
    assert tight.n_evaluations > loose.n_evaluations
    assert np.abs(tight.values - exact).max() < np.abs(loose.values - exact).max()
    assert tight.std_errors.max() < loose.std_errors.max()


def test_auto_budget_default_tolerance_and_exact_when_cheap():
    est = estimate(recurrent_game(), "kernel", budget="auto", seed=0)
    assert est.extras["tol"] == AUTO_TOL
    small = estimate(recurrent_game(m=8), "auto", budget="auto")
    assert small.exact and small.method == "exact" and small.n_evaluations == 2**8


@pytest.mark.parametrize("method", ["kernel", "permutation"])
def test_warns_when_budget_runs_out_before_tolerance(method):
    game = recurrent_game()
    with pytest.warns(UserWarning, match=r"ran out before the standard errors met tol=0\.0001"):
        est = estimate(game, method, budget="auto", tol=1e-4, max_budget=800, seed=0)
    assert est.extras["converged"] is False
    assert est.n_evaluations <= 800
    with pytest.warns(UserWarning, match="ran out"):
        estimate(game, method, budget=800, tol=1e-4, seed=0)


def test_without_tolerance_the_whole_budget_is_spent():
    game = recurrent_game()
    est = estimate(game, "kernel", budget=600, seed=0)
    assert est.extras["converged"] is None and 590 <= est.n_evaluations <= 600


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"budget": "fast"}, "budget must be an integer number of evaluations, None or 'auto'"),
        ({"budget": "auto", "method": "lime"}, "budget='auto' stops on standard errors"),
        ({"budget": 500, "max_budget": 900}, "max_budget only applies with budget='auto'"),
        ({"budget": "auto", "max_budget": 1}, "max_budget must be at least 2"),
    ],
)
def test_auto_budget_errors_name_the_argument(kwargs, match):
    kwargs = {"method": "kernel", **kwargs}
    with pytest.raises(ValueError, match=match):
        estimate(recurrent_game(), **kwargs)


# ----------------------------------------------------------------- the shared rounds helper
def _owen(game, budget, tol, seed):
    from seqshap.estimators.owen import owen_values

    # one level of 14 leaves: exact would need 2^14 + 2 evaluations, so every budget below samples
    tree = list(range(game.n_players))
    return owen_values(game, tree, budget, np.random.default_rng(seed), tol=tol)


SAMPLED = {
    "kernel": lambda g, b, tol, s: estimate(g, "kernel", budget=b, tol=tol, seed=s),
    "permutation": lambda g, b, tol, s: estimate(g, "permutation", budget=b, tol=tol, seed=s),
    "owen": _owen,
}


@pytest.mark.parametrize("method", sorted(SAMPLED))
def test_every_sampled_estimator_reports_t_scaled_standard_errors(method):
    """SE = raw SE · t_{0.975,ν}/z_{0.975}, with ν and the raw SE in extras."""
    from scipy import stats

    est = SAMPLED[method](recurrent_game(), 700, None, 0)
    raw, dof = est.extras["std_errors_raw"], est.extras["dof"]
    assert not est.exact and raw.shape == dof.shape == est.values.shape
    assert np.all(np.isfinite(dof)) and np.all(dof >= 1)
    factor = stats.t.ppf(0.975, dof) / stats.norm.ppf(0.975)
    assert np.all(factor > 1.0)
    np.testing.assert_allclose(est.std_errors, raw * factor, rtol=1e-10, atol=0)


@pytest.mark.parametrize("method", sorted(SAMPLED))
def test_every_sampled_estimator_stops_on_tol_and_warns_when_the_budget_runs_out(method):
    game = recurrent_game()
    est = SAMPLED[method](game, 16_000, 0.05, 0)
    assert est.extras["converged"] is True and est.extras["tol"] == 0.05
    assert np.all(est.std_errors.max(axis=0) <= 0.05 * spread(est.values))
    assert est.n_evaluations < 16_000
    with pytest.warns(UserWarning, match=rf"{method} estimator: budget of 900 evaluations ran out"):
        short = SAMPLED[method](recurrent_game(), 900, 1e-4, 0)
    assert short.extras["converged"] is False and short.n_evaluations <= 900
    # without tol the whole budget goes in one round
    assert SAMPLED[method](recurrent_game(), 900, None, 0).extras["converged"] is None
