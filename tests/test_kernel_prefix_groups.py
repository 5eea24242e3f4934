"""Prefix groups of the kernel sampler (``kernel._PREFIX_GROUP``, off in the library; measured
by ``bench/bench_recurrent_estimators.py``): pairs drawn in groups that agree on a random head
of the game's enumeration order, each member keeping the plain design's distribution.

Tested from theory so that the bench measures what it says: every member of a group has the
plain design's distribution over pairs (a chi-square test that also rejects a design that only
copies the head), the groups share their head, pairs are never drawn twice (the sampler runs
out exactly when every pair is drawn), and with the switch on the estimator keeps exact
efficiency, seed reproducibility, batch-size invariance on the recurrent game, and values close
to brute force, within their standard errors, at a large budget.

Also here: the estimator values the enumerated borders and its first pairs in one request (so
that on the prefix tree they share prefixes), with the values of two requests bit for bit.
"""

from __future__ import annotations

from math import comb

import numpy as np
import pytest
from conftest import table_game_fn, tiny_gru_game

from seqshap import FunctionGame
from seqshap.estimators import estimate, kernel
from seqshap.estimators.kernel import _PairSampler
from seqshap.testing import brute_force_shapley

M = 7  # odd: no middle stratum, each pair has one smaller member


def _sampler(group: int, seed: int, m: int = M, order=None) -> _PairSampler:
    order = np.arange(m)[::-1] if order is None else order
    sampler = _PairSampler(
        m, np.random.default_rng(seed), sizes="uniform", prefix_order=order, group=group
    )
    sampler.plan_enumeration(0)
    return sampler


def _pair_index(z: np.ndarray) -> np.ndarray:
    """An integer per pair {z, ¬z}: the bits of players 1..M−1 in the member without player 0."""
    canon = np.where(z[:, :1], ~z, z)[:, 1:]
    return (canon.astype(np.int64) << np.arange(z.shape[1] - 1)).sum(1)


def _plain_probabilities(sampler: _PairSampler) -> np.ndarray:
    """q(pair) = p(h) / N_h of the plain design, indexed as :func:`_pair_index`."""
    m = sampler.m
    q = np.zeros(2 ** (m - 1))
    for key in range(2 ** (m - 1)):
        s = bin(key).count("1")
        h = min(s, m - s)
        if h in sampler.free_half:
            j = int(np.flatnonzero(sampler.free_half == h)[0])
            q[key] = sampler.free_p[j] / sampler.population[j]
    return q


def _chi_square(members: np.ndarray, q: np.ndarray) -> float:
    counts = np.bincount(_pair_index(members), minlength=len(q))
    n = len(members)
    assert counts[q == 0].sum() == 0  # never a pair the plain design cannot draw
    ok = q > 0
    return float((((counts[ok] - n * q[ok]) ** 2) / (n * q[ok])).sum())


def test_every_member_has_the_plain_distribution():
    """The j-th members of independent groups are an iid sample: for each position in the group
    their distribution over the 63 pairs of 7 players matches the plain design's (chi-square,
    62 degrees of freedom: mean 62, sd 11; bound 62 + 5 sd). A design that copies the head and
    draws the tail's size uniformly fails the same bound by far."""
    group, n_groups = 4, 12_000
    sampler = _sampler(group, seed=1)
    q = _plain_probabilities(sampler)
    draws = sampler._draw_grouped(group * n_groups).reshape(n_groups, group, M)
    dof = int((q > 0).sum()) - 1
    bound = dof + 5 * np.sqrt(2 * dof)
    for j in range(group):
        assert _chi_square(draws[:, j], q) < bound, j
    # the bound has power: tails of uniform size (not conditioned on the head) fail it
    rng = np.random.default_rng(2)
    naive = draws[:, 1].copy()
    for row in naive:
        n_head = rng.integers(1, M - 3)
        tail = np.arange(M)[::-1][n_head:]
        size = rng.integers(0, len(tail) + 1)
        row[tail] = False
        row[rng.choice(tail, size, replace=False)] = True
    keep = np.minimum(naive.sum(1), M - naive.sum(1)) >= 1
    assert _chi_square(naive[keep], q) > 3 * bound


def test_size_strata_and_inclusion_frequencies_match_the_plain_sampler():
    """Over many draws (all members pooled), the share of each free stratum is its ``free_p``
    and each player is in the smaller member of stratum h with probability h / M, within 4.5
    binomial standard errors inflated by √group (members of a group are dependent)."""
    group, n = 8, 64_000
    sampler = _sampler(group, seed=3, m=9, order=np.array([4, 0, 8, 2, 6, 1, 7, 3, 5]))
    z = sampler._draw_grouped(n)
    h = np.minimum(z.sum(1), 9 - z.sum(1))
    share = np.array([(h == s).mean() for s in sampler.free_half])
    se = np.sqrt(sampler.free_p * (1 - sampler.free_p) / n) * np.sqrt(group)
    np.testing.assert_array_less(np.abs(share - sampler.free_p), 4.5 * se)
    for s in sampler.free_half:
        small = z[h == s]
        small = np.where((small.sum(1) == s)[:, None], small, ~small)
        p = s / 9
        se = np.sqrt(p * (1 - p) / len(small)) * np.sqrt(group)
        np.testing.assert_array_less(np.abs(small.mean(0) - p), 4.5 * se)


def test_members_of_a_group_share_a_head_of_the_enumeration_order():
    order = np.array([3, 1, 4, 0, 6, 2, 5])
    sampler = _sampler(6, seed=5, order=order)
    draws = sampler._draw_grouped(6 * 500).reshape(500, 6, M)
    # the first player of the order is in every head (head length ≥ 1)
    assert np.all(draws[:, :, order[0]] == draws[:, :1, order[0]])
    # the heads are of varying length: the last players of the order vary within some groups
    varies = (draws != draws[:, :1]).any(axis=1)  # (groups, M): player varies in the group
    assert varies[:, order[-1]].mean() > 0.9
    assert 0.0 < varies[:, order[1]].mean() < varies[:, order[-1]].mean()


def test_grouped_pairs_are_never_drawn_twice():
    sampler = _sampler(4, seed=0)
    population = sum(comb(M, h) for h in (1, 2, 3))
    z = np.concatenate([sampler.sample_pairs(20), sampler.sample_pairs(100)])
    assert sampler.exhausted and len(z) == 2 * population
    assert len(np.unique(_pair_index(z[0::2]))) == population
    assert np.array_equal(z[1::2], ~z[0::2])


@pytest.fixture
def grouped(monkeypatch):
    monkeypatch.setattr(kernel, "_PREFIX_GROUP", 8)


def _ordered_game(m: int, seed: int) -> FunctionGame:
    table = np.random.default_rng(seed).normal(size=2**m)
    game = FunctionGame(table_game_fn(table), m)
    game.enumeration_order = np.random.default_rng(seed + 1).permutation(m)
    return game


@pytest.mark.usefixtures("grouped")
def test_grouped_estimates_keep_efficiency_and_reproduce_with_the_seed():
    game = _ordered_game(11, seed=0)
    delta = game.full_value - game.empty_value
    first = estimate(game, "auto", budget=600, seed=7)
    again = estimate(game, "auto", budget=600, seed=7)
    other = estimate(game, "auto", budget=600, seed=8)
    np.testing.assert_allclose(first.values.sum(0), delta, rtol=0, atol=1e-10)
    np.testing.assert_array_equal(first.values, again.values)
    np.testing.assert_array_equal(first.std_errors, again.std_errors)
    assert not np.allclose(first.values, other.values)


@pytest.mark.usefixtures("grouped")
def test_grouped_estimates_are_close_to_brute_force():
    """A smooth game (linear plus small interactions) at a large budget: every value within
    4 standard errors of brute force (and the errors are small)."""
    m = 12
    rng = np.random.default_rng(4)
    a, b = rng.normal(size=m), rng.normal(size=(m, m)) * 0.1
    game = FunctionGame(lambda z: np.tanh(z @ a / 3 + np.einsum("ci,ij,cj->c", z, b, z)), m)
    game.enumeration_order = np.arange(m)
    exact = brute_force_shapley(game)
    est = estimate(game, "kernel", budget=3000, seed=1)
    err = np.abs(est.values - exact)
    assert np.all(err <= 4 * est.std_errors + 1e-12)
    assert np.linalg.norm(err) / np.linalg.norm(exact) < 0.05


@pytest.mark.usefixtures("grouped")
def test_grouped_estimates_do_not_depend_on_the_batch_size():
    pytest.importorskip("torch")
    values = []
    for batch_size in (7, 1024):
        values.append(estimate(tiny_gru_game(batch_size), "auto", budget=900, seed=3).values)
    np.testing.assert_allclose(values[0], values[1], rtol=0, atol=1e-12)


def test_borders_and_the_first_pairs_are_valued_in_one_request():
    """With a fixed budget the kernel estimator asks the game for v(∅), v(N), then the
    enumerated borders and every sampled pair in one request (on the prefix tree they share
    early prefixes and calls); with ``tol`` the first round rides with the borders."""
    table = np.random.default_rng(0).normal(size=2**10)
    requests: list[int] = []

    def fn(z):
        requests.append(len(z))
        return table_game_fn(table)(z)

    game = FunctionGame(fn, 10)
    requests.clear()  # the probe at construction
    est = estimate(game, "kernel", budget=400, seed=0)
    assert requests == [1, 1, 398] and est.n_evaluations == 400
    assert est.extras["n_enumerated"] > 0 and est.extras["n_sampled"] > 0
    game = FunctionGame(fn, 10)
    requests.clear()
    with pytest.warns(UserWarning, match="ran out before"):  # rounds until the budget is spent
        est = estimate(game, "kernel", budget=1000, seed=0, tol=1e-6)
    n_en = est.extras["n_enumerated"]
    first = n_en + 2 * ((min(1000 - 2, 16 * 10) - n_en) // 2)
    assert requests[:3] == [1, 1, first] and len(requests) > 3


@pytest.mark.parametrize("tol", [None, 0.2])
def test_one_request_gives_the_values_of_two(monkeypatch, tol):
    """The borders and the first pairs valued in one request or in two (as before): the same
    draws, so on a deterministic game the same values and standard errors, bit for bit."""
    game_fn = table_game_fn(np.random.default_rng(3).normal(size=2**11))
    out = {}
    for one in (True, False):
        monkeypatch.setattr(kernel, "_ONE_REQUEST", one)
        out[one] = estimate(FunctionGame(game_fn, 11), "kernel", budget=700, seed=5, tol=tol)
    np.testing.assert_array_equal(out[True].values, out[False].values)
    np.testing.assert_array_equal(out[True].std_errors, out[False].std_errors)
    assert out[True].n_evaluations == out[False].n_evaluations
