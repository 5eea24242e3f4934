"""Calibration of standard errors: φ̂ ± 1.96·SE must cover the exact value 95% of the time.

Games with known exact values: small GRU-like recurrent models (numpy) whose players are the
time steps of one sequence (absent steps take the baseline), enumerated exactly. Each run
(a fresh seed) contributes one interval for one player, so the n intervals are independent
and their coverage count is Binomial(n, p). The test asserts that p = 0.95 is not rejected at
the 1% level (two-sided), and — so that the test can fail — that the same runs reject
standard errors 30% too small or 30% too large.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from seqshap.estimators import estimate
from seqshap.estimators._intervals import t_factor
from seqshap.estimators.base import Estimate
from seqshap.estimators.kernel import _jackknife_variance, _PairSampler, _solve, _weights
from seqshap.games import FunctionGame

T, D, HIDDEN = 10, 3, 8
N_RUNS = 600
ALPHA = 0.01


def gru_game(seed: int, scale: float = 1.0) -> FunctionGame:
    """v(z) = w·h_T of a GRU run over x with absent steps replaced by the zero baseline."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(3, D, HIDDEN)) * scale
    u = rng.normal(size=(3, HIDDEN, HIDDEN)) * scale / np.sqrt(HIDDEN)
    b = rng.normal(size=(3, HIDDEN)) * 0.3
    w_out = rng.normal(size=HIDDEN) * 2.0
    x = rng.normal(size=(T, D))

    def value(z: np.ndarray) -> np.ndarray:
        inputs = np.where(z[:, :, None], x[None], 0.0)
        h = np.zeros((len(z), HIDDEN))
        for t in range(T):
            xt = inputs[:, t]
            upd = 1.0 / (1.0 + np.exp(-(xt @ w[0] + h @ u[0] + b[0])))
            rst = 1.0 / (1.0 + np.exp(-(xt @ w[1] + h @ u[1] + b[1])))
            cand = np.tanh(xt @ w[2] + (rst * h) @ u[2] + b[2])
            h = (1.0 - upd) * h + upd * cand
        return h @ w_out

    return FunctionGame(value, T)


GAMES = [gru_game(0), gru_game(1), gru_game(2, scale=2.0), gru_game(3, scale=0.5)]
EXACT = [estimate(g, "exact", budget=2**T).values[:, 0] for g in GAMES]


def binomial_band(n: int, p: float = 0.95, alpha: float = ALPHA) -> tuple[float, float]:
    """Coverage rates not rejected by a two-sided level-alpha binomial test of rate p."""
    return stats.binom.ppf(alpha / 2, n, p) / n, stats.binom.isf(alpha / 2, n, p) / n


def run_intervals(method: str, budget: int) -> tuple[np.ndarray, np.ndarray]:
    """Errors φ̂ − φ and standard errors of one player per run (independent runs)."""
    err, se = np.empty(N_RUNS), np.empty(N_RUNS)
    for run in range(N_RUNS):
        g = run % len(GAMES)
        player = (run // len(GAMES)) % T
        est = estimate(GAMES[g], method, budget=budget, seed=run)
        assert not est.exact
        err[run] = est.values[player, 0] - EXACT[g][player]
        se[run] = est.std_errors[player, 0]
    return err, se


# small budgets: 4M evaluations for kernel (9 sampled pairs beyond the size-1 border);
# 12 antithetic pairs for permutation. Large: 62% of the coalitions / 71 antithetic pairs.
@pytest.mark.parametrize(
    "method,budget",
    [("kernel", 4 * T), ("kernel", 640), ("permutation", 24 * (T - 1) + 2), ("permutation", 1280)],
)
def test_95_percent_intervals_cover_the_exact_values(method, budget):
    err, se = run_intervals(method, budget)
    lo, hi = binomial_band(N_RUNS)
    coverage = np.mean(np.abs(err) <= 1.96 * se)
    assert lo <= coverage <= hi, (method, budget, coverage, (lo, hi))
    # the same runs reject standard errors 30% off in either direction
    assert np.mean(np.abs(err) <= 1.96 * 0.7 * se) < lo
    assert np.mean(np.abs(err) <= 1.96 * 1.3 * se) > hi


def test_band_has_power_against_30_percent_errors():
    """Under normal errors, SEs 30% too small/large cover 83%/98.9%: outside the band."""
    lo, hi = binomial_band(N_RUNS)
    assert 2 * stats.norm.cdf(1.96 * 0.7) - 1 < lo - 0.05
    assert 2 * stats.norm.cdf(1.96 * 1.3) - 1 > hi + 0.005


def test_jackknife_equals_brute_force_refits():
    """The Woodbury downdates give the same replicates as refitting without each pair."""
    m, game = T, GAMES[0]
    rng = np.random.default_rng(5)
    sampler = _PairSampler(m, rng)
    sampler.plan_enumeration(60)
    z_en = sampler.enumerated()
    z_s = sampler.sample_pairs(19)
    v0 = game.empty_value
    delta = game.full_value - v0
    y_en, y_s = game(z_en) - v0, game(z_s) - v0
    w_en, w_s = _weights(sampler, z_en, z_s)
    phi, _ = _solve(
        np.concatenate([z_en, z_s]), np.concatenate([w_en, w_s]), np.concatenate([y_en, y_s]), delta
    )
    zf = z_en.astype(float)
    var, dof = _jackknife_variance(
        sampler, (zf * w_en[:, None]).T @ zf, (zf * w_en[:, None]).T @ y_en, z_s, y_s, delta, phi
    )
    # brute force: drop pair p, post-stratify again, refit; combine by stratum
    h = np.minimum(z_s[0::2].sum(1), m - z_s[0::2].sum(1))
    population = dict(zip(sampler.free_half.tolist(), sampler.population.tolist()))
    expected = np.zeros_like(phi)
    for g in np.unique(h):
        members = np.flatnonzero(h == g)
        reps = []
        for p in members:
            keep = np.ones(len(z_s), dtype=bool)
            keep[[2 * p, 2 * p + 1]] = False
            w_en_p, w_s_p = _weights(sampler, z_en, z_s[keep])
            reps.append(
                _solve(
                    np.concatenate([z_en, z_s[keep]]),
                    np.concatenate([w_en_p, w_s_p]),
                    np.concatenate([y_en, y_s[keep]]),
                    delta,
                )[0]
            )
        reps = np.array(reps)
        n_h = len(members)
        fpc = 1 - n_h / population[int(g)]
        if n_h > 1:
            expected += fpc * (n_h - 1) / n_h * ((reps - reps.mean(0)) ** 2).sum(0)
        else:
            expected += fpc * (reps[0] - phi) ** 2
    np.testing.assert_allclose(var, expected, rtol=1e-7, atol=1e-14)
    assert np.all(dof >= 1)


def test_t_factor_matches_the_t_quantile():
    np.testing.assert_allclose(
        t_factor([4.0, np.inf]), [stats.t.ppf(0.975, 4) / stats.norm.ppf(0.975), 1.0]
    )


@pytest.mark.parametrize("method,budget", [("exact", 2**T), ("kernel", 2**T), ("auto", 2**T)])
def test_exact_values_say_they_are_exact(method, budget):
    est = estimate(GAMES[1], method, budget=budget, seed=0)
    assert isinstance(est, Estimate) and est.exact
    assert np.all(est.std_errors == 0)
    np.testing.assert_allclose(est.values[:, 0], EXACT[1], atol=1e-9)


def test_sampled_values_carry_positive_standard_errors():
    for method, budget in [("kernel", 200), ("permutation", 400)]:
        est = estimate(GAMES[0], method, budget=budget, seed=0)
        assert not est.exact and np.all(est.std_errors > 0)
        assert np.all(est.extras["dof"] >= 1)
        np.testing.assert_array_less(est.extras["std_errors_raw"], est.std_errors + 1e-15)


def test_two_player_permutation_sampling_is_exact():
    game = FunctionGame(lambda z: 1 + 2 * z[:, 0] + 3 * z[:, 1] + 4 * z[:, 0] * z[:, 1], 2)
    est = estimate(game, "permutation", budget=100, seed=0)
    assert est.exact and np.all(est.std_errors == 0) and est.n_evaluations == 4
    np.testing.assert_allclose(est.values[:, 0], [4.0, 5.0])
