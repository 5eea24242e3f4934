"""Designs of the kernel estimator measured against each other (README, "Estimators";
``bench/bench_estimator_variants.py``), tested from theory so that their numbers measure what
they say.

* chain pairs: the pairs (z_j, ¬z_j) of one ordering's chain are the chains of the ordering and
  of its reverse, nested, new to the sampler, and with M − 1 of them the linear fit is exact on
  any game of order ≤ 2;
* the leave-one-pair-out score equals brute-force refits without each pair, and the default
  fit takes the ridge of its grid with the smallest such score;
* with a fixed ridge, or the number of terms also chosen by that score, efficiency stays exact
  and a fully sampled game gives exact values.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import table_game_fn

from seqshap import FunctionGame
from seqshap.estimators import _cubic, estimate, kernel
from seqshap.estimators._cubic import CubicBasis, fit_cubic, loo_score, window_triples
from seqshap.estimators.kernel import _PairSampler, _weights, kernel_size_mass
from seqshap.testing import brute_force_shapley


def test_chain_pairs_are_the_chains_of_an_ordering_and_its_reverse():
    m = 9
    sampler = _PairSampler(m, np.random.default_rng(4), chain=True)
    sampler.plan_enumeration(0)
    first = np.concatenate([sampler.sample_pairs(3), sampler.sample_pairs(5)])[0::2]
    assert len(first) == m - 1
    sizes = first.sum(1)
    assert sorted(sizes) == list(range(1, m))
    assert list(np.minimum(sizes, m - sizes)) == sorted(
        np.minimum(sizes, m - sizes)
    )  # borders first
    chain = first[np.argsort(sizes)]
    assert np.all(chain[1:] >= chain[:-1])  # nested: ∅ ⊂ z_1 ⊂ … ⊂ z_{M−1}
    order = np.argmax(np.diff(np.vstack([np.zeros(m, bool), chain, np.ones(m, bool)]), axis=0), 1)
    assert sorted(order) == list(range(m))  # one player joins at each step: an ordering


def test_chain_pairs_are_never_drawn_again():
    m = 6  # 6 + 15 + 10 = 31 pairs in all
    sampler = _PairSampler(m, np.random.default_rng(0), chain=True)
    sampler.plan_enumeration(0)
    z = sampler.sample_pairs(40)
    assert sampler.exhausted and len(z) == 2 * 31
    canon = np.where(z[0::2, :1], z[0::2], ~z[0::2])
    assert len(np.unique(canon, axis=0)) == 31


@pytest.mark.parametrize("m", [8, 13])
def test_chain_pairs_make_the_linear_fit_exact_on_a_second_order_game(monkeypatch, m):
    """M − 1 pairs along a chain determine the linear part (nested coalitions): the paired fit
    cancels the even part, so on a game of order ≤ 2 the values are Shapley's exactly."""
    rng = np.random.default_rng(m)
    a, b = rng.normal(size=m), np.triu(rng.normal(size=(m, m)), 1)
    game = FunctionGame(lambda z: (z @ a + np.einsum("ci,ij,cj->c", z, b, z))[:, None], m)
    monkeypatch.setattr(kernel, "_CHAIN_PAIRS", True)
    est = estimate(game, "kernel", budget=2 * (m - 1) + 2, seed=0, order=1)
    assert est.extras["n_sampled"] == 2 * (m - 1) and est.extras["n_enumerated"] == 0
    np.testing.assert_allclose(est.values, brute_force_shapley(game), rtol=0, atol=1e-9)


def test_leave_one_pair_out_score_equals_brute_force_refits():
    """Σ_p w_p ‖dy_p − d_pᵀβ_(−p)‖² with β_(−p) the constrained ridge fit (plain full rows)
    without pair p, the other weights and the ridge unchanged."""
    m, rng = 8, np.random.default_rng(11)
    game = FunctionGame(table_game_fn(rng.normal(size=(2**m, 2))), m)
    sampler = _PairSampler(m, rng, sizes="uniform")
    sampler.plan_enumeration(0)
    z_s = sampler.sample_pairs(40)
    v0, delta = game.empty_value, game.full_value - game.empty_value
    y_s = game(z_s) - v0
    basis = CubicBasis(m, window_triples(m, 4))
    omega = kernel_size_mass(m)
    omega[m // 2] /= 2.0
    zp, dy = z_s[0::2], y_s[0::2] - y_s[1::2]
    w = _weights(sampler, z_s[:0], z_s)[1]  # per row; both members of a pair share it
    empty = np.zeros((0, m), dtype=bool)
    score = loo_score(basis, empty, np.zeros((0, 2)), np.zeros(0), zp, dy, omega, delta)
    f, g = basis.rows(z_s), basis.constraint

    def brute_force(factor):
        lam = factor * basis.ridge * w[0::2].sum()
        penalty = np.r_[np.zeros(m), np.full(basis.n_terms - m, lam)]
        out = 0.0
        for p in range(len(zp)):
            keep = np.ones(len(z_s), dtype=bool)
            keep[[2 * p, 2 * p + 1]] = False
            fk, wk = f[keep], w[keep]
            a = (fk * wk[:, None]).T @ fk + np.diag(penalty)
            x = np.linalg.solve(a, np.column_stack([(fk * wk[:, None]).T @ y_s[keep], g]))
            beta = x[:, :2] - x[:, 2:] * (g @ x[:, :2] - delta) / (g @ x[:, 2])
            pred = (f[2 * p] - f[2 * p + 1]) @ beta
            out += w[2 * p] * ((dy[p] - pred) ** 2).sum()
        return out

    np.testing.assert_allclose(score, brute_force(1.0), rtol=1e-8, atol=0)
    # the fit takes the ridge of the grid with the smallest brute-force score
    *_, chosen = fit_cubic(basis, empty, np.zeros((0, 2)), np.zeros(0), zp, dy, omega, delta)
    scores = {f: brute_force(f) for f in _cubic.RIDGE_GRID}
    assert chosen == min(scores, key=scores.get)
    assert len(set(np.round(list(scores.values()), 12))) == len(scores)  # no ties


@pytest.mark.parametrize("switch", ["fixed ridge", "terms"])
def test_score_chosen_fits_keep_efficiency_and_exactness(monkeypatch, switch):
    if switch == "fixed ridge":
        monkeypatch.setattr(_cubic, "RIDGE_GRID", None)  # the basis's fixed ridge
    else:
        monkeypatch.setattr(kernel, "_TERMS_GRID", (1.0, 2.0))
    rng = np.random.default_rng(5)
    m = 9
    game = FunctionGame(table_game_fn(rng.normal(size=(2**m, 2))), m)
    est = estimate(game, "kernel", budget=300, seed=2, order=3)
    assert est.extras["order"] == 3
    np.testing.assert_allclose(
        est.values.sum(0), game.full_value - game.empty_value, rtol=0, atol=1e-9
    )
    full = estimate(game, "kernel", budget=2**m - 1, seed=2, order=3)
    np.testing.assert_allclose(full.values, brute_force_shapley(game), rtol=0, atol=1e-9)
