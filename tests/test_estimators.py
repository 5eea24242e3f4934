"""Estimators against theory: brute force, closed forms, efficiency, convergence, seeds."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import table_game_fn

from seqshap import FunctionGame
from seqshap.estimators import estimate
from seqshap.testing import brute_force_shapley


def random_game(rng, m, k=2):
    return FunctionGame(table_game_fn(rng.normal(size=(2**m, k))), m)


@pytest.mark.parametrize("m", [1, 2, 5, 8, 10])
def test_exact_equals_brute_force(rng, m):
    game = random_game(rng, m)
    reference = brute_force_shapley(game)
    est = estimate(game, "exact", budget=2**m)
    np.testing.assert_allclose(est.values, reference, atol=1e-10, rtol=0)
    assert est.exact and np.all(est.std_errors == 0)
    assert est.n_evaluations == 2**m


def pairwise_game(a, b):
    """v(S) = Σ_{i∈S} a_i + Σ_{i<j∈S} b_ij  ⇒  φ_i = a_i + ½ Σ_j b_ij."""

    def fn(z):
        zf = z.astype(float)
        return zf @ a + 0.5 * np.einsum("ci,ij,cj->c", zf, np.triu(b, 1) + np.triu(b, 1).T, zf)

    return fn


@pytest.mark.parametrize(
    "method,budget", [("exact", 2**9), ("kernel", 2**9), ("kernel", 300), ("permutation", 400)]
)
def test_pairwise_interaction_closed_form(rng, method, budget):
    m = 9
    a = rng.normal(size=m)
    b = rng.normal(size=(m, m))
    b = np.triu(b, 1) + np.triu(b, 1).T
    closed = a + 0.5 * b.sum(1)
    est = estimate(FunctionGame(pairwise_game(a, b), m), method, budget=budget, seed=3)
    if method == "permutation" or budget < 2**m:
        # second-order games: paired kernel sampling and antithetic permutations are exact only
        # in expectation; compare within 5 standard errors plus a small floor
        err = np.abs(est.values[:, 0] - closed)
        assert np.all(err <= 5 * est.std_errors[:, 0] + 1e-9), (err, est.std_errors[:, 0])
    else:
        np.testing.assert_allclose(est.values[:, 0], closed, atol=1e-10)


@pytest.mark.parametrize("method", ["exact", "kernel", "permutation"])
def test_dummy_player_is_zero_and_symmetric_players_equal(method):
    m = 7

    def fn(z):
        zf = z.astype(float)
        # players 0 and 1 symmetric; player 6 a dummy
        return np.sin(zf[:, 0] + zf[:, 1]) + zf[:, 2] * zf[:, 3] + 0.3 * zf[:, 4] - zf[:, 5] ** 2

    est = estimate(
        FunctionGame(fn, m), method, budget=2**m if method != "permutation" else 600, seed=0
    )
    tol = 1e-10 if method != "permutation" else 1e-10
    assert abs(est.values[6, 0]) < tol  # a dummy's marginal contribution is 0 in every sample
    if method != "permutation":
        assert abs(est.values[0, 0] - est.values[1, 0]) < 1e-10


@pytest.mark.parametrize("method", ["exact", "kernel"])
def test_efficiency(rng, method):
    for m in (3, 6, 11):
        game = random_game(rng, m)
        est = estimate(game, method, budget=2**m if method == "exact" else 150, seed=1)
        np.testing.assert_allclose(est.values.sum(0), est.full - est.base, atol=1e-8)


def test_permutation_efficiency_holds_per_sample(rng):
    game = random_game(rng, 9)
    est = estimate(game, "permutation", budget=200, seed=2)
    np.testing.assert_allclose(est.values.sum(0), est.full - est.base, atol=1e-8)


@pytest.mark.parametrize("method", ["kernel", "permutation"])
def test_error_falls_with_budget(method):
    m = 12
    errors = {}
    for budget in (120, 2400):
        errs = []
        for s in range(8):
            game = random_game(np.random.default_rng(100 + s), m, k=1)
            exact = estimate(
                random_game(np.random.default_rng(100 + s), m, k=1), "exact", budget=2**m
            ).values
            est = estimate(game, method, budget=budget, seed=s)
            errs.append(np.linalg.norm(est.values - exact) / np.linalg.norm(exact))
        errors[budget] = np.mean(errs)
    assert errors[2400] < 0.5 * errors[120], errors


@pytest.mark.parametrize("method", ["kernel", "permutation", "lime"])
def test_same_seed_same_result_different_seed_different(rng, method):
    table = rng.normal(size=(2**10, 1))

    def run(s):
        return estimate(FunctionGame(table_game_fn(table), 10), method, budget=300, seed=s).values

    np.testing.assert_array_equal(run(5), run(5))
    assert not np.array_equal(run(5), run(6))


def test_kernel_uses_at_most_its_budget(rng):
    for budget in (2, 10, 57, 500):
        game = random_game(rng, 12)
        est = estimate(game, "kernel", budget=budget, seed=0)
        assert game.n_evaluations <= budget
        assert est.n_evaluations == game.n_evaluations


def test_kernel_with_full_budget_is_exact(rng):
    game = random_game(rng, 7)
    est = estimate(game, "kernel", budget=128, seed=0)
    assert est.exact
    np.testing.assert_allclose(est.values, brute_force_shapley(game), atol=1e-10)


def test_auto_switches_between_exact_and_kernel(rng):
    assert estimate(random_game(rng, 8), "auto", budget=256).method == "exact"
    assert estimate(random_game(rng, 8), "auto", budget=255).method == "kernel"


def test_kernel_tolerance_stops_early(rng):
    m = 10
    table = rng.normal(size=(2**m, 1))
    game = FunctionGame(lambda z: table_game_fn(table)(z)[:, 0] + 5 * z[:, 0], m)  # clear spread
    est = estimate(game, "kernel", budget=1000, seed=0, tol=0.2)
    assert est.n_evaluations < 1000
    spread = est.values.max() - est.values.min()
    assert est.std_errors.max() <= 0.2 * spread


def test_kernel_tolerance_warns_when_budget_runs_out(rng):
    game = random_game(rng, 12, k=1)
    with pytest.warns(UserWarning, match="ran out"):
        estimate(game, "kernel", budget=60, seed=0, tol=1e-6)


def test_lime_recovers_linear_game():
    m = 6
    w = np.array([1.0, -2.0, 0.5, 0.0, 3.0, -1.0])
    game = FunctionGame(lambda z: z.astype(float) @ w + 0.7, m)
    est = estimate(game, "lime", budget=400, seed=0, alpha=1e-6)
    np.testing.assert_allclose(est.values[:, 0], w, atol=1e-6)
    np.testing.assert_allclose(est.base, [0.7], atol=1e-6)
    assert est.extras["score"][0] > 0.999


def test_lime_top_k_selection():
    m = 8
    w = np.array([0.1, 4.0, 0.0, -3.0, 0.05, 0.0, 2.0, 0.0])
    game = FunctionGame(lambda z: z.astype(float) @ w, m)
    for selection in ("highest_weights", "forward_selection"):
        est = estimate(
            game, "lime", budget=500, seed=0, num_features=3, feature_selection=selection
        )
        assert set(np.flatnonzero(est.values[:, 0])) == {1, 3, 6}


@pytest.mark.parametrize(
    "kwargs,error,match",
    [
        ({"method": "magic"}, ValueError, "method must be one of"),
        ({"budget": 1}, ValueError, "budget must be at least 2"),
        ({"budget": 2.5}, TypeError, "budget must be an integer"),
        ({"tol": -1.0}, ValueError, "tol must be >= 0"),
        ({"seed": "abc"}, TypeError, "seed must be"),
        ({"method": "exact", "budget": 100}, ValueError, "exact enumeration of 8 players"),
    ],
)
def test_bad_estimator_arguments(rng, kwargs, error, match):
    with pytest.raises(error, match=match):
        estimate(random_game(rng, 8), **kwargs)


def test_permutation_budget_too_small(rng):
    with pytest.raises(ValueError, match="too small for permutation"):
        estimate(random_game(rng, 8), "permutation", budget=20)
