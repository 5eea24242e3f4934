"""The odd-interaction kernel fit (seqshap/estimators/_odd_kernel.py) against its primal form,
brute-force Shapley values and brute-force jackknife refits."""

from __future__ import annotations

import itertools
from math import comb

import numpy as np
import pytest

from seqshap.estimators import _odd_kernel, estimate
from seqshap.estimators._odd_kernel import OddKernel, fit_odd_kernel, krawtchouk_table
from seqshap.games import FunctionGame
from seqshap.testing import brute_force_shapley


def _walsh(x: np.ndarray, subset) -> np.ndarray:
    return np.prod(x[:, list(subset)], axis=1)


def test_krawtchouk_table_is_the_mean_walsh_function_over_subsets():
    m = 7
    table = krawtchouk_table(m, m)
    for j in range(m + 1):
        x = np.r_[-np.ones(j), np.ones(m - j)][None, :]
        for k in range(m + 1):
            mean = np.mean([_walsh(x, s)[0] for s in itertools.combinations(range(m), k)])
            assert table[k, j] == pytest.approx(mean, abs=1e-12)


def _primal_phi(m, z, dy, w, delta, rho, eta, kappa, triples):
    """The same posterior mean from explicit Walsh features (every odd |S| ≥ 3 and the extra
    triples): min Σ_p (w_p/η)(d_p + x_pᵀa − Σ_S 2β_S χ_S(x_p))² + Σ_S β_S²/σ²_S subject to
    1ᵀa − 2Σ_S β_S = Δ, solved as one KKT system."""
    kern = OddKernel(m, triples)
    pi = kern.energies(rho)
    x = 1.0 - 2.0 * z
    cols, var, members = [], [], []
    for k, p_k in zip(kern.orders, pi):
        for s in itertools.combinations(range(m), int(k)):
            cols.append(2.0 * _walsh(x, s))
            var.append(p_k / comb(m, int(k)))
            members.append(s)
    s2 = kappa * pi[0] / comb(m, 3)
    for t in triples if kappa > 0 else []:
        cols.append(2.0 * _walsh(x, t))
        var.append(s2)
        members.append(tuple(t))
    phi_feat = np.column_stack(cols)  # (N, q)
    q = phi_feat.shape[1]
    design = np.hstack([-x, phi_feat])  # unknowns (a, β)
    wn = w / w.mean()
    prec = np.diag(np.r_[np.zeros(m), 1.0 / np.array(var)])
    lhs = design.T @ (design * (wn / eta)[:, None]) + prec
    rhs = design.T @ (dy[:, 0] * wn / eta)
    g = np.r_[np.ones(m), -2.0 * np.ones(q)]
    kkt = np.block([[lhs, g[:, None]], [g[None, :], np.zeros((1, 1))]])
    sol = np.linalg.solve(kkt, np.r_[rhs, delta[0]])
    read = np.hstack([np.eye(m), np.zeros((m, q))])  # φ = a + Σ_S (−2/|S|) β_S over i ∈ S
    for col, s in enumerate(members):
        read[list(s), m + col] += -2.0 / len(s)
    # posterior covariance of (a, β) given the data and the exact constraint, prior scale 1
    cov = np.linalg.inv(kkt)[: m + q, : m + q]
    return read @ sol[: m + q], np.diag(read @ cov @ read.T)


def _pairs(m, n, rng):
    sizes = rng.integers(1, m // 2 + 1, size=n)
    ranks = rng.random((n, m)).argsort(1).argsort(1)
    return ranks < sizes[:, None]


def _value(m, seed=0):
    rng = np.random.default_rng(seed)
    w1, w2 = rng.normal(size=(m, 6)), rng.normal(size=6)

    def v(z):
        z = np.asarray(z, dtype=float)
        return np.tanh(z @ w1) @ w2 + 0.7 * z[:, 0] * z[:, 1] * z[:, 2]

    return v


@pytest.mark.parametrize(
    "rho,eta,kappa", [(0.3, 1e-2, 0.0), (0.03, 1e-1, 10.0), (1.0, 1e-3, 100.0)]
)
def test_dual_fit_equals_the_primal_fit_over_explicit_walsh_features(rho, eta, kappa):
    m = 6
    rng = np.random.default_rng(1)
    v = _value(m)
    z = _pairs(m, 14, rng)
    dy = (v(z) - v(~z))[:, None]
    w = rng.uniform(0.5, 2.0, size=len(z))
    delta = np.array([v(np.ones((1, m)))[0] - v(np.zeros((1, m)))[0]])
    triples = np.array([[0, 1, 2], [1, 3, 5]])
    phi, var, _, chosen = fit_odd_kernel(
        OddKernel(m, triples),
        z,
        dy,
        w,
        delta,
        np.arange(len(z)),
        np.minimum(z.sum(1), m - z.sum(1)),
        np.full(m + 1, 1e9),
        grid=[(rho, eta, kappa)],
    )
    assert chosen == (rho, eta, kappa)
    expected, expected_var = _primal_phi(m, z, dy, w, delta, rho, eta, kappa, triples)
    np.testing.assert_allclose(phi[:, 0], expected, rtol=1e-7, atol=1e-9)
    assert phi.sum() == pytest.approx(delta[0], abs=1e-10)
    # posterior variances: the primal ones times one scale (τ², estimated by REML)
    ratio = var[:, 0] / expected_var
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-6)
    assert ratio[0] > 0


def test_every_pair_observed_gives_exact_shapley_values():
    m = 7
    v = _value(m, seed=2)
    game = FunctionGame(v, m)
    exact = brute_force_shapley(game)[:, 0]
    every = np.array(list(itertools.product([False, True], repeat=m)))
    z = every[every[:, 0] & (every.sum(1) < m)]  # one member of each pair {z, ¬z}
    sizes = z.sum(1)
    w = (m - 1) / (sizes * (m - sizes))  # kernel weights (per row; the pair's two rows alike)
    dy = (v(z) - v(~z))[:, None]
    delta = np.array([v(np.ones((1, m)))[0] - v(np.zeros((1, m)))[0]])
    for rho, kappa in [(0.03, 0.0), (1.0, 10.0)]:
        phi, *_ = fit_odd_kernel(
            OddKernel(m, np.array([[0, 1, 2]])),
            z,
            dy,
            w,
            delta,
            np.zeros(0, dtype=int),
            np.zeros(0, dtype=int),
            np.ones(m + 1),
            jackknife=False,
            grid=[(rho, 1e-9, kappa)],
        )
        np.testing.assert_allclose(phi[:, 0], exact, rtol=1e-5, atol=1e-6)


def test_jackknife_equals_brute_force_delete_one_pair_refits(monkeypatch):
    monkeypatch.setattr(_odd_kernel, "STANDARD_ERRORS", "jackknife")
    m = 6
    rng = np.random.default_rng(3)
    v = _value(m, seed=4)
    z = _pairs(m, 16, rng)
    dy = np.column_stack([v(z) - v(~z), 2 * (v(z) - v(~z)) + z[:, 0]])  # two outputs
    w = rng.uniform(0.5, 2.0, size=len(z))
    delta = np.array([1.3, -0.4])
    strata = np.minimum(z.sum(1), m - z.sum(1))
    populations = np.array([1.0] + [comb(m, h) / (2 if 2 * h == m else 1) for h in range(1, m + 1)])
    kern = OddKernel(m, np.array([[0, 1, 2], [2, 3, 4]]))
    point = [(0.3, 1e-2, 10.0)]
    sampled = np.arange(2, len(z))  # the first two pairs stand for enumerated ones
    phi, var, _, _ = fit_odd_kernel(
        kern, z, dy, w, delta, sampled, strata[sampled], populations, grid=point
    )
    reps = []
    for p in sampled:
        keep = np.arange(len(z)) != p
        rep, *_ = fit_odd_kernel(
            kern,
            z[keep],
            dy[keep],
            w[keep],
            delta,
            np.zeros(0, dtype=int),
            np.zeros(0, dtype=int),
            populations,
            jackknife=False,
            # the same noise per remaining pair as in the full fit (weights are normalised)
            grid=[(0.3, 1e-2 * w.mean() / w[keep].mean(), 10.0)],
        )
        reps.append(rep)
    reps = np.array(reps)
    expected = np.zeros_like(phi)
    for h in np.unique(strata[sampled]):
        r = reps[strata[sampled] == h]
        n_h = len(r)
        fpc = max(0.0, 1.0 - n_h / populations[h])
        if n_h > 1:
            expected += fpc * (n_h - 1) / n_h * ((r - r.mean(0)) ** 2).sum(0)
        else:
            expected += fpc * (r[0] - phi) ** 2
    np.testing.assert_allclose(var, expected, rtol=1e-6, atol=1e-12)


def test_estimate_uses_the_kernel_fit_and_keeps_efficiency_and_seeds():
    m = 10
    v = _value(m, seed=5)

    def run(seed):
        return estimate(FunctionGame(v, m), "auto", budget=300, seed=seed)

    a, b, c = run(0), run(0), run(1)
    assert a.extras["fit"] == "odd-kernel"
    total = v(np.ones((1, m)))[0] - v(np.zeros((1, m)))[0]
    assert a.values.sum() == pytest.approx(total, abs=1e-10)
    np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=0, atol=1e-12)
    assert not np.allclose(a.values, c.values)
    assert np.all(np.isfinite(a.std_errors)) and np.all(a.std_errors > 0)
    exact = brute_force_shapley(FunctionGame(v, m))
    assert np.all(np.abs(a.values - exact) <= 5 * a.std_errors + 1e-9)
