"""The kernel fit below three pairs per player (seqshap/estimators/_horseshoe.py): the
odd-interaction kernel fit with a horseshoe prior on its linear part, sampled by Gibbs."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import tiny_gru_game

from seqshap.estimators import _horseshoe, estimate, kernel
from seqshap.games import FunctionGame
from seqshap.testing import brute_force_shapley


def sparse_game(m: int, active: int, seed: int, triple: float = 0.0):
    """v(z) = Σ_i a_i z_i + Σ_{i<j} b_ij z_i z_j (+ a 3-way term) over ``active`` of ``m``
    players, the others unused: order ≤ 2 makes every pair difference linear in the values."""
    rng = np.random.default_rng(seed)
    used = rng.choice(m, size=active, replace=False)
    a = np.zeros(m)
    a[used] = rng.normal(size=active) * 2.0
    b = np.zeros((m, m))
    b[np.ix_(used, used)] = np.triu(rng.normal(size=(active, active)), 1)
    i, j, k = used[:3]

    def value(z: np.ndarray) -> np.ndarray:
        zf = z.astype(float)
        out = zf @ a + np.einsum("ni,ij,nj->n", zf, b, zf)
        return out + triple * zf[:, i] * zf[:, j] * zf[:, k]

    return value


def test_small_budgets_use_the_horseshoe_fit_and_keep_efficiency_and_seeds():
    m = 16
    v = sparse_game(m, 4, seed=0, triple=1.0)

    def run(seed):
        return estimate(FunctionGame(v, m), "auto", budget=30, seed=seed)

    a, b, c = run(0), run(0), run(1)
    assert a.extras["fit"] == "horseshoe"
    assert a.extras["n_sampled"] < 2 * m  # fewer pairs than players
    total = v(np.ones((1, m)))[0] - v(np.zeros((1, m)))[0]
    assert a.values.sum() == pytest.approx(total, abs=1e-9 * max(1.0, abs(total)))
    np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=0, atol=1e-12)
    assert not np.allclose(a.values, c.values)
    assert np.all(np.isfinite(a.std_errors)) and np.all(a.std_errors > 0)
    np.testing.assert_allclose(a.extras["grid_share"].sum(), 1.0, atol=1e-12)


def test_every_draw_is_efficient():
    """Each draw's game satisfies the constraint, so each draw's values sum to Δ."""
    m, n = 12, 9
    rng = np.random.default_rng(4)
    z = rng.random((n, m)) < 0.4
    y = np.r_[rng.normal(size=n), 2.5]
    kern = _horseshoe.OddKernel(m)
    parts = kern.parts(z)
    f = np.vstack([-parts[0], np.ones((1, m))])
    points = [_horseshoe._whiten(kern, parts, np.ones(n), f, r, e) for r, e in _horseshoe.GRID]
    draws, odd_var, picked = _horseshoe._gibbs(points, y, _horseshoe.chain_rng(z))
    np.testing.assert_allclose(draws.sum(1), 2.5, rtol=0, atol=1e-8)
    assert np.all(odd_var >= 0) and set(picked) <= set(range(len(points)))


def test_sparse_values_from_fewer_pairs_than_players():
    """With 19 pairs for 24 players (4 used) the linear fit cannot tell the players apart; the
    horseshoe finds the 4, within its standard errors (an order-2 game: every pair difference
    is exactly linear in the values, so this is sparse recovery from 19 ±1 measurements)."""
    m = 24
    errs, errs_linear, hits = [], [], []
    for seed in range(8):
        v = sparse_game(m, 4, seed=seed)
        exact = _closed_form(v, m)
        est = estimate(FunctionGame(v, m), "auto", budget=40, seed=seed)
        lin = estimate(FunctionGame(v, m), "auto", budget=40, seed=seed, order=1)
        assert est.extras["fit"] == "horseshoe"
        norm = np.linalg.norm(exact)
        errs.append(np.linalg.norm(est.values[:, 0] - exact) / norm)
        errs_linear.append(np.linalg.norm(lin.values[:, 0] - exact) / norm)
        hits.append(np.abs(est.values[:, 0] - exact) <= 1.96 * est.std_errors[:, 0] + 1e-9)
    assert np.mean(errs) < 0.15 < 0.3 < np.mean(errs_linear)
    assert np.mean(hits) >= 0.9


def _closed_form(v, m: int) -> np.ndarray:
    """Shapley values of an order-≤2 game: each player's Möbius coefficient plus half of each
    pair interaction it is in (from v of ∅, {i} and {i, j})."""
    eye = np.eye(m, dtype=bool)
    v0 = v(np.zeros((1, m), bool))[0]
    single = v(eye) - v0
    phi = single.copy()
    for i in range(m):
        for j in range(i + 1, m):
            both = v((eye[i] | eye[j])[None])[0] - v0
            inter = both - single[i] - single[j]
            phi[i] += inter / 2
            phi[j] += inter / 2
    return phi


def test_closed_form_matches_brute_force():
    m = 8
    v = sparse_game(m, 4, seed=2)
    np.testing.assert_allclose(_closed_form(v, m), brute_force_shapley(FunctionGame(v, m))[:, 0])


def test_outputs_are_fitted_as_separate_games():
    m = 14
    v1, v2 = sparse_game(m, 3, seed=5, triple=0.5), sparse_game(m, 5, seed=6)
    both = estimate(FunctionGame(lambda z: np.c_[v1(z), v2(z)], m), "auto", budget=26, seed=2)
    one = estimate(FunctionGame(v1, m), "auto", budget=26, seed=2)
    two = estimate(FunctionGame(v2, m), "auto", budget=26, seed=2)
    assert both.extras["fit"] == "horseshoe"
    np.testing.assert_allclose(both.values[:, 0], one.values[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(both.values[:, 1], two.values[:, 0], rtol=0, atol=1e-12)
    np.testing.assert_allclose(both.std_errors[:, 1], two.std_errors[:, 0], rtol=0, atol=1e-12)


def test_a_null_game_has_zero_values_and_zero_errors():
    est = estimate(FunctionGame(lambda z: np.zeros(len(z)), 12), "auto", budget=20, seed=0)
    assert est.extras["fit"] == "horseshoe"
    np.testing.assert_array_equal(est.values, 0.0)
    np.testing.assert_array_equal(est.std_errors, 0.0)


def test_many_players_fall_back_to_the_linear_fit():
    m = _horseshoe.MAX_PLAYERS + 2
    w = np.random.default_rng(0).normal(size=m)
    est = estimate(FunctionGame(lambda z: z @ w, m), "auto", budget=3 * m, seed=0)
    assert "fit" not in est.extras and est.extras["order"] == 1


def test_switch_off_gives_the_plain_linear_fit(monkeypatch):
    m = 16
    v = sparse_game(m, 4, seed=1, triple=1.0)
    monkeypatch.setattr(kernel, "SPARSE", False)
    off = estimate(FunctionGame(v, m), "auto", budget=30, seed=0)
    lin = estimate(FunctionGame(v, m), "auto", budget=30, seed=0, order=1)
    assert "fit" not in off.extras
    # the same fit on different draws (order 3 samples sizes uniformly, order 1 by mass)
    assert off.values.sum() == pytest.approx(lin.values.sum(), abs=1e-9)


def test_values_do_not_depend_on_the_batch_size():
    pytest.importorskip("torch")
    values = []
    for batch_size in (7, 1024):
        est = estimate(tiny_gru_game(batch_size), "auto", budget=40, seed=3)
        assert est.extras["fit"] == "horseshoe"
        values.append(est.values)
    np.testing.assert_allclose(values[0], values[1], rtol=0, atol=1e-9)


def test_non_finite_values_are_not_hidden():
    """A model that returns NaN for some coalitions gets NaN values (the linear fit's), not the
    zeros of a null game."""

    def value(z):
        out = z.astype(float) @ np.arange(12.0)
        out[z[:, 3] & z[:, 5]] = np.nan
        return out

    est = estimate(FunctionGame(value, 12), "auto", budget=20, seed=0)
    assert np.isnan(est.values).any()


def test_the_small_fits_run_on_one_blas_thread_and_restore_it(monkeypatch):
    """The odd-kernel and horseshoe fits run with BLAS limited to one thread (``_blas``); the
    caller's thread count is back afterwards."""
    from threadpoolctl import threadpool_info, threadpool_limits

    from seqshap.estimators import _horseshoe as hs

    def blas_threads():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    seen: dict[str, list] = {"horseshoe": [], "odd-kernel": []}

    def spy(module, name, key):
        real = getattr(module, name)

        def fit(*args):
            seen[key].append(blas_threads())
            return real(*args)

        monkeypatch.setattr(module, name, fit)

    spy(hs, "fit_horseshoe", "horseshoe")
    spy(kernel, "_fit_odd_kernel", "odd-kernel")
    v = sparse_game(12, 3, seed=0, triple=1.0)
    with threadpool_limits(limits=2, user_api="blas"):
        before = blas_threads()
        if before != {2}:
            pytest.skip(f"this BLAS does not take 2 threads ({before})")
        estimate(FunctionGame(v, 12), "auto", budget=30, seed=0)  # the horseshoe fit
        estimate(FunctionGame(v, 12), "auto", budget=300, seed=0)  # the odd-kernel fit
        after = blas_threads()
    for key, calls in seen.items():
        assert calls and all(s == {1} for s in calls), key
    assert after == {2}
