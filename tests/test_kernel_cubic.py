"""The third-order kernel fit (the default of method="kernel"): theory, not snapshots.

* with every coalition sampled it gives exact Shapley values for any ridge (projection argument);
* its jackknife equals brute-force refits without each pair;
* efficiency holds exactly, seeds reproduce, batch size does not change values;
* on a game whose odd part is third order it is far more accurate than the linear fit, and it
  converges to the brute-force values as the budget grows.
"""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest
from conftest import table_game_fn

from seqshap import FunctionGame
from seqshap.estimators import estimate
from seqshap.estimators.base import bits_to_coalitions
from seqshap.estimators.kernel import (
    _CubicBasis,
    _fit,
    _jackknife_variance,
    _n_window_triples,
    _PairSampler,
    _weights,
    kernel_size_mass,
)
from seqshap.games import MaskedGame
from seqshap.testing import brute_force_shapley


def cubic_game(m: int, seed: int) -> FunctionGame:
    """Linear part, all pairs and a few strong triples: interactions of order ≤ 3."""
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=m), rng.normal(size=(m, m)) * 0.5
    triples = [tuple(rng.choice(m, 3, replace=False)) for _ in range(m)]
    c = rng.normal(size=len(triples)) * 2.0

    def fn(z):
        zf = z.astype(float)
        out = zf @ a + np.einsum("ci,ij,cj->c", zf, np.triu(b, 1), zf)
        for (i, j, k), ck in zip(triples, c):
            out = out + ck * zf[:, i] * zf[:, j] * zf[:, k]
        return out

    return FunctionGame(fn, m)


@pytest.mark.parametrize("ridge,max_terms", [(1.0, 600), (25.0, 600), (1.0, 20)])
def test_fit_over_every_coalition_gives_exact_values_for_any_ridge(rng, ridge, max_terms):
    """All coalitions with their exact kernel weights: φ of the penalised fit is Shapley's."""
    m = 8
    game = FunctionGame(table_game_fn(rng.normal(size=(2**m, 2))), m)
    z = bits_to_coalitions(np.arange(1, 2**m - 1, dtype=np.int64), m)
    sizes = z.sum(1)
    w = kernel_size_mass(m)[sizes] / np.array([comb(m, int(s)) for s in sizes], dtype=float)
    basis = _CubicBasis(m, ridge=ridge, max_terms=max_terms)
    f = basis.features(z)
    penalty = basis.penalty(f, w, f[:0], w[:0])
    v0 = game.empty_value
    phi = basis.solve(f, w, game(z) - v0, game.full_value - v0, penalty)
    np.testing.assert_allclose(phi, brute_force_shapley(game), atol=1e-9, rtol=0)


def test_every_pair_sampled_gives_exact_values(rng):
    """A sampler that has drawn every pair reports exact values with zero standard errors."""
    m = 7
    game = FunctionGame(table_game_fn(rng.normal(size=(2**m, 1))), m)
    sampler = _PairSampler(m, np.random.default_rng(0))
    sampler.plan_enumeration(0)
    z_s = sampler.sample_pairs(2 ** (m - 1))
    assert sampler.exhausted and len(z_s) == 2**m - 2
    v0 = game.empty_value
    basis = _CubicBasis(m)
    empty = np.zeros((0, m), dtype=bool)
    phi, se, _ = _fit(
        sampler, empty, np.zeros((0, 1)), z_s, game(z_s) - v0, game.full_value - v0, m, False, basis
    )
    np.testing.assert_allclose(phi, brute_force_shapley(game), atol=1e-9, rtol=0)
    assert np.all(se == 0)


def test_jackknife_equals_brute_force_refits_with_the_cubic_basis():
    m = 7
    game = FunctionGame(table_game_fn(np.random.default_rng(1).normal(size=(2**m, 1))), m)
    sampler = _PairSampler(m, np.random.default_rng(5))
    sampler.plan_enumeration(40)
    z_en, z_s = sampler.enumerated(), sampler.sample_pairs(25)
    v0 = game.empty_value
    delta = game.full_value - v0
    y_en, y_s = game(z_en) - v0, game(z_s) - v0
    basis = _CubicBasis(m, max_terms=20)  # a window: not every triple
    assert basis.window < m and len(basis.triples) == _n_window_triples(m, basis.window)
    w_en, w_s = _weights(sampler, z_en, z_s)
    f_en, f_s = basis.features(z_en), basis.features(z_s)
    pen = basis.penalty(f_en, w_en, f_s, w_s)

    def fit(keep):
        w_en_p, w_s_p = _weights(sampler, z_en, z_s[keep])
        f = np.concatenate([f_en, f_s[keep]])
        w = np.concatenate([w_en_p, w_s_p])
        return basis.solve(f, w, np.concatenate([y_en, y_s[keep]]), delta, pen)

    phi = fit(np.ones(len(z_s), dtype=bool))
    a_en = (f_en * w_en[:, None]).T @ f_en + np.diag(pen)
    b_en = (f_en * w_en[:, None]).T @ y_en
    var, dof = _jackknife_variance(sampler, a_en, b_en, z_s, y_s, delta, phi, basis=basis, f_s=f_s)
    h = np.minimum(z_s[0::2].sum(1), m - z_s[0::2].sum(1))
    population = dict(zip(sampler.free_half.tolist(), sampler.population.tolist()))
    expected = np.zeros_like(phi)
    for g in np.unique(h):
        members = np.flatnonzero(h == g)
        reps = []
        for p in members:
            keep = np.ones(len(z_s), dtype=bool)
            keep[[2 * p, 2 * p + 1]] = False
            reps.append(fit(keep))
        reps = np.array(reps)
        n_h, fpc = len(members), 1 - len(members) / population[int(g)]
        if n_h > 1:
            expected += fpc * (n_h - 1) / n_h * ((reps - reps.mean(0)) ** 2).sum(0)
        else:
            expected += fpc * (reps[0] - phi) ** 2
    np.testing.assert_allclose(var, expected, rtol=1e-6, atol=1e-14)
    assert np.all(dof >= 1)


@pytest.mark.parametrize("m", [9, 12, 25])
def test_efficiency_is_exact(rng, m):
    game = FunctionGame(table_game_fn(rng.normal(size=(2**m, 2))), m) if m <= 12 else None
    if game is None:
        w = rng.normal(size=m)
        game = FunctionGame(lambda z: np.tanh(z.astype(float) @ w)[:, None] * [1.0, -2.0], m)
    est = estimate(game, "kernel", budget=40 * m, seed=1, order=3)
    assert est.extras["order"] == 3
    np.testing.assert_allclose(
        est.values.sum(0), game.full_value - game.empty_value, rtol=0, atol=1e-9
    )


def test_seeds_reproduce_and_batch_size_does_not_change_values(rng):
    t, d = 12, 2
    x, base = rng.normal(size=(t, d)), rng.normal(size=(1, t, d))
    masks = np.zeros((t, t, d), dtype=bool)
    masks[np.arange(t), np.arange(t)] = True

    def model(a):
        return np.tanh(a.reshape(len(a), -1) @ np.linspace(-1, 1, t * d))[:, None] ** 3

    def run(batch_size, seed):
        game = MaskedGame(model, x, base, masks, batch_size=batch_size)
        return estimate(game, "kernel", budget=700, seed=seed, order=3)

    ref = run(4096, 3)
    assert ref.extras["order"] == 3
    for batch_size in (1, 7, 100):
        other = run(batch_size, 3)
        np.testing.assert_allclose(other.values, ref.values, rtol=0, atol=1e-12)
        np.testing.assert_allclose(other.std_errors, ref.std_errors, rtol=0, atol=1e-12)
    assert not np.allclose(run(4096, 4).values, ref.values, rtol=0, atol=1e-12)


def test_third_order_fit_beats_the_linear_fit_on_a_third_order_game():
    m, errs = 10, {1: [], 3: []}
    for seed in range(8):
        game = cubic_game(m, seed)
        exact = brute_force_shapley(game)[:, 0]
        for order in (1, 3):
            est = estimate(game, "kernel", budget=300, seed=seed, order=order)
            errs[order].append(np.linalg.norm(est.values[:, 0] - exact) / np.linalg.norm(exact))
    # all triples are in the basis, but the ridge shrinks them: measured 0.82x the linear error
    assert np.mean(errs[3]) < 0.9 * np.mean(errs[1]), errs


def test_converges_to_brute_force_as_the_budget_grows():
    m = 10
    game = FunctionGame(table_game_fn(np.random.default_rng(7).normal(size=(2**m, 1))), m)
    exact = brute_force_shapley(game)[:, 0]
    mean_err = {}
    for budget in (200, 500, 1000):
        errs = [
            np.linalg.norm(
                estimate(game, "kernel", budget=budget, seed=s, order=3).values[:, 0] - exact
            )
            for s in range(6)
        ]
        mean_err[budget] = np.mean(errs)
    assert mean_err[1000] < mean_err[500] < mean_err[200], mean_err


def test_small_budgets_fall_back_to_the_linear_fit_and_order_is_checked():
    game = FunctionGame(lambda z: z.astype(float).sum(1) ** 3, 10)
    assert estimate(game, "kernel", budget=40, seed=0).extras["order"] == 1
    assert estimate(game, "kernel", budget=400, seed=0, order=1).extras["order"] == 1
    with pytest.raises(ValueError, match="order must be 1 or 3; received 2"):
        estimate(game, "kernel", budget=400, seed=0, order=2)


def test_window_triples_count():
    for m, window in itertools.product([3, 7, 12], [3, 4, 7]):
        brute = sum(1 for t in itertools.combinations(range(m), 3) if t[2] - t[0] < window)
        assert _n_window_triples(m, window) == brute
