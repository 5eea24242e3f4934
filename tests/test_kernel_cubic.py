"""The third-order kernel fit: theory, not snapshots.

* with every coalition it gives exact Shapley values for any ridge and any set of triples;
* its pair-difference normal equations give the same values as the plain full-row fit, and its
  Woodbury jackknife equals brute-force refits without each pair (strata of one pair included);
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
from seqshap.estimators import kernel as kernel_module
from seqshap.estimators._cubic import (
    CubicBasis,
    all_triples,
    border_effects,
    choose_triples,
    fit_cubic,
    n_window_triples,
    pair_up,
    window_triples,
)
from seqshap.estimators.base import bits_to_coalitions
from seqshap.estimators.kernel import _fit, _PairSampler, _weights, kernel_size_mass
from seqshap.games import MaskedGame
from seqshap.testing import brute_force_shapley


@pytest.fixture(autouse=True)
def _ridge_fit(monkeypatch):
    """This module tests the third-order ridge fit of _cubic.py, which the default uses above
    the odd-interaction kernel fit's MAX_PAIRS (tests/test_odd_kernel.py tests that fit)."""
    monkeypatch.setattr(kernel_module, "ODD_KERNEL", False)


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


def omega(m: int) -> np.ndarray:
    out = kernel_size_mass(m)
    if m % 2 == 0:
        out[m // 2] /= 2.0
    return out


def dense_fit(basis, z, w, y, delta, penalty):
    """The plain formulation: full rows (z, χ − 1), weights w, ridge, constraint; dense solve."""
    f = basis.rows(z)
    a = (f * w[:, None]).T @ f + np.diag(penalty)
    g = basis.constraint
    x = np.linalg.solve(a, np.column_stack([(f * w[:, None]).T @ y, g]))
    k = y.shape[1]
    beta = x[:, :k] - x[:, k:] * (g @ x[:, :k] - delta) / (g @ x[:, k])
    return basis.readout @ beta


TRIPLE_SETS = {
    "all": lambda m: all_triples(np.arange(m)),
    "window": lambda m: window_triples(m, 4),
    "leading": lambda m: all_triples(np.array([5, 1, 3, 6])),
}


@pytest.mark.parametrize("ridge", [1.0, 25.0])
@pytest.mark.parametrize("triples", list(TRIPLE_SETS))
def test_fit_over_every_coalition_gives_exact_values(rng, ridge, triples):
    """All coalitions (as complementary pairs) with their kernel weights: φ is Shapley's."""
    m = 8
    game = FunctionGame(table_game_fn(rng.normal(size=(2**m, 2))), m)
    z = bits_to_coalitions(np.arange(1, 2**m - 1, dtype=np.int64), m)
    w = kernel_size_mass(m)[z.sum(1)] / np.array([comb(m, int(s)) for s in z.sum(1)])
    v0 = game.empty_value
    zp, dy = pair_up(z, game(z) - v0)
    wp = kernel_size_mass(m)[zp.sum(1)] / np.array([comb(m, int(s)) for s in zp.sum(1)])
    assert len(zp) == 2 ** (m - 1) - 1 and np.isclose(wp.sum(), w.sum() / 2)
    basis = CubicBasis(m, TRIPLE_SETS[triples](m), ridge=ridge)
    empty = np.zeros((0, m), dtype=bool)
    phi, _, _, _ = fit_cubic(
        basis,
        zp,
        dy,
        wp,
        empty,
        np.zeros((0, 2)),
        omega(m),
        game.full_value - v0,
        jackknife=False,
    )
    np.testing.assert_allclose(phi, brute_force_shapley(game), atol=1e-9, rtol=0)


def sampled_setup(m: int, sizes: dict[int, int], seed: int):
    """A game, enumerated borders (size 1) and sampled pairs with ``sizes[h]`` pairs of size h."""
    rng = np.random.default_rng(seed)
    game = FunctionGame(table_game_fn(rng.normal(size=(2**m, 2))), m)
    sampler = _PairSampler(m, rng)
    sampler.plan_enumeration(8 * m)
    assert sampler.enumerated_half == [1]
    rows = []
    for h, n in sizes.items():
        for _ in range(n):
            z = np.zeros(m, dtype=bool)
            z[rng.choice(m, h, replace=False)] = True
            rows += [z, ~z]
    z_en, z_s = sampler.enumerated(), np.array(rows)
    v0 = game.empty_value
    return game, sampler, z_en, game(z_en) - v0, z_s, game(z_s) - v0, game.full_value - v0


# (M, pairs per size, seed, window): strata of one pair; with window 3 at M = 7 (12 terms), a
# stratum of 13 pairs takes the p × p path and one of 12 the n_h × n_h path
SETUPS = [
    (7, {2: 13, 3: 12}, 5, 4),
    (7, {2: 13, 3: 12}, 5, 3),
    (9, {2: 10, 3: 6, 4: 1}, 6, 4),
    (10, {2: 1, 3: 9, 4: 7, 5: 2}, 7, 4),
]


@pytest.mark.parametrize("m,sizes,seed,window", SETUPS)
def test_pair_difference_fit_and_its_jackknife_equal_plain_refits(m, sizes, seed, window):
    """Fast path == plain path: values equal the dense full-row fit, and the Woodbury jackknife
    equals refitting without each pair (peers reweighted, strata of one pair included)."""
    game, sampler, z_en, y_en, z_s, y_s, delta = sampled_setup(m, sizes, seed)
    basis = CubicBasis(m, window_triples(m, window))
    w_en, w_s = _weights(sampler, z_en, z_s)
    phi, se, extras, used = _fit(sampler, z_en, y_en, z_s, y_s, delta, m, False, basis)
    assert used is basis
    penalty = np.zeros(basis.n_terms)
    # the ridge the fit chose (leave-one-pair-out), held fixed in the refits
    penalty[m:] = extras["ridge"] * (w_en.sum() + w_s.sum()) / 2

    def refit(keep):
        w_en_p, w_s_p = _weights(sampler, z_en, z_s[keep])
        z = np.concatenate([z_en, z_s[keep]])
        y = np.concatenate([y_en, y_s[keep]])
        return dense_fit(basis, z, np.concatenate([w_en_p, w_s_p]), y, delta, penalty)

    np.testing.assert_allclose(phi, refit(np.ones(len(z_s), dtype=bool)), atol=1e-10, rtol=0)
    expected = np.zeros_like(phi)
    h = np.minimum(z_s[0::2].sum(1), m - z_s[0::2].sum(1))
    for stratum in np.unique(h):
        members = np.flatnonzero(h == stratum)
        reps = []
        for p in members:
            keep = np.ones(len(z_s), dtype=bool)
            keep[[2 * p, 2 * p + 1]] = False
            reps.append(refit(keep))
        reps, n_h = np.array(reps), len(members)
        fpc = 1 - n_h / (comb(m, int(stratum)) // (2 if 2 * stratum == m else 1))
        if n_h > 1:
            expected += fpc * (n_h - 1) / n_h * ((reps - reps.mean(0)) ** 2).sum(0)
        else:
            expected += fpc * (reps[0] - phi) ** 2
    np.testing.assert_allclose(extras["std_errors_raw"] ** 2, expected, rtol=1e-8, atol=1e-14)
    assert np.all(extras["dof"] >= 1)


def test_a_singular_third_order_system_falls_back_to_the_linear_fit(rng):
    """Players 0 and 1 never separated: the unpenalised linear block is singular, so the
    third-order fit refuses it (here Cholesky itself fails; a pivot at rounding level is refused
    too) and the linear fit, which handles a singular system, answers."""
    m = 8
    game = FunctionGame(table_game_fn(rng.normal(size=(2**m, 1))), m)
    sampler = _PairSampler(m, np.random.default_rng(0))
    sampler.plan_enumeration(0)
    first = rng.random((60, m)) < 0.5
    first[:, 1] = first[:, 0]
    first = first[(first.sum(1) > 0) & (first.sum(1) < m)]
    z_s = np.stack([first, ~first], axis=1).reshape(-1, m)
    v0 = game.empty_value
    empty = np.zeros((0, m), dtype=bool)
    args = (sampler, empty, np.zeros((0, 1)), z_s, game(z_s) - v0, game.full_value - v0, m, False)
    phi, se, _, used = _fit(*args, CubicBasis(m, all_triples(np.arange(m))))
    linear = _fit(*args, None)
    assert used is None
    np.testing.assert_allclose(phi, linear[0], rtol=0, atol=1e-12)
    assert np.isfinite(phi).all() and np.abs(phi).max() < 1e3


def test_every_pair_sampled_gives_exact_values(rng):
    """A sampler that has drawn every pair reports exact values with zero standard errors."""
    m = 7
    game = FunctionGame(table_game_fn(rng.normal(size=(2**m, 1))), m)
    sampler = _PairSampler(m, np.random.default_rng(0))
    sampler.plan_enumeration(0)
    z_s = sampler.sample_pairs(2 ** (m - 1))
    assert sampler.exhausted and len(z_s) == 2**m - 2
    v0 = game.empty_value
    basis = CubicBasis(m, all_triples(np.arange(m)))
    empty = np.zeros((0, m), dtype=bool)
    phi, se, _, used = _fit(
        sampler, empty, np.zeros((0, 1)), z_s, game(z_s) - v0, game.full_value - v0, m, False, basis
    )
    assert used is basis
    np.testing.assert_allclose(phi, brute_force_shapley(game), atol=1e-9, rtol=0)
    assert np.all(se == 0)


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


def test_the_default_is_the_third_order_fit_and_order_one_stays_available():
    game = cubic_game(12, 0)
    assert estimate(game, budget=600, seed=0).extras["order"] == 3
    assert estimate(game, "kernel", budget=600, seed=0).extras["order"] == 3
    assert estimate(game, "kernel", budget=600, seed=0, order=1).extras["order"] == 1


def test_the_third_order_fit_samples_sizes_uniformly_and_the_linear_fit_by_kernel_mass():
    m, n = 30, 1000  # no stratum comes near exhaustion: the smallest free one has 435 pairs
    for sizes, expected in (("uniform", None), ("mass", kernel_size_mass(m))):
        sampler = _PairSampler(m, np.random.default_rng(0), sizes=sizes)
        sampler.plan_enumeration(8 * m)
        assert sampler.enumerated_half == [1]
        z = sampler.sample_pairs(n)[0::2]
        h = np.minimum(z.sum(1), m - z.sum(1))
        free = sampler.free_half
        share = np.array([np.mean(h == f) for f in free])
        if expected is None:
            target = np.full(len(free), 1 / len(free))
        else:
            target = expected[free] * np.where(2 * free == m, 1, 2)
            target /= target.sum()
        # binomial standard error of each share is at most sqrt(0.25 / n) ≈ 0.016
        np.testing.assert_allclose(share, target, rtol=0, atol=0.05)


def test_small_budgets_fall_back_to_the_linear_fit_and_order_is_checked():
    game = FunctionGame(lambda z: z.astype(float).sum(1) ** 3, 10)
    assert estimate(game, "kernel", budget=40, seed=0, order=3).extras["order"] == 1
    assert estimate(game, "kernel", budget=400, seed=0, order=1).extras["order"] == 1
    with pytest.raises(ValueError, match="order must be 1 or 3; received 2"):
        estimate(game, "kernel", budget=400, seed=0, order=2)


def test_triples_are_counted_and_generated_like_itertools():
    for m, window in itertools.product([3, 7, 12], [3, 4, 7]):
        brute = [t for t in itertools.combinations(range(m), 3) if t[2] - t[0] < window]
        assert n_window_triples(m, window) == len(brute)
        assert sorted(map(tuple, window_triples(m, window).tolist())) == brute
    players = np.array([6, 2, 9, 4])
    assert all_triples(players).tolist() == [
        list(t) for t in itertools.combinations([2, 4, 6, 9], 3)
    ]


def test_choose_triples_fits_the_cap_with_neighbours_and_leading_players():
    m = 20
    assert len(choose_triples(m, 1200, None, max_flops=np.inf)) == comb(m, 3)  # all fit
    assert len(choose_triples(m, 100, None, max_flops=100 * 25**2)) == 0  # no room
    effects = np.zeros(m)
    effects[[17, 3, 11, 0, 8]] = [5.0, 4.0, 3.0, 2.0, 1.0]
    for n_pairs in (100, 400, 800, 3000):
        cap = min(n_pairs, int(np.sqrt(1e8 / n_pairs)) - m)
        chosen = choose_triples(m, n_pairs, effects)
        keys = {tuple(t) for t in chosen.tolist()}
        assert len(keys) == len(chosen) <= cap
        assert len(chosen) > cap / 2  # the cap is (nearly) used
        assert all(i < j < k for i, j, k in keys)
        assert (3, 11, 17) in keys and (0, 1, 2) in keys  # leading and neighbouring players
        window_only = choose_triples(m, n_pairs, None)
        assert len(window_only) <= cap and np.all(window_only[:, 2] - window_only[:, 0] < m)


def test_border_effects_are_the_half_sums_of_the_border_differences(rng):
    m = 6
    game = FunctionGame(table_game_fn(rng.normal(size=(2**m, 2))), m)
    sampler = _PairSampler(m, rng)
    sampler.plan_enumeration(8 * m)
    z_en = sampler.enumerated()
    v0, vn = game.empty_value, game.full_value
    effects = border_effects(z_en, game(z_en) - v0, vn - v0)
    expected = [
        np.linalg.norm(
            0.5
            * (game(np.eye(m, dtype=bool)[[i]])[0] - v0 + vn - game(~np.eye(m, dtype=bool)[[i]])[0])
        )
        for i in range(m)
    ]
    np.testing.assert_allclose(effects, expected, rtol=1e-12, atol=0)
    assert border_effects(z_en[:-1], game(z_en[:-1]) - v0, vn - v0) is None
