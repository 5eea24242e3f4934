"""KernelSHAP: Shapley values as a constrained weighted least-squares fit.

Shapley values solve  min_φ Σ_z π(z) (v(z) − v(∅) − zᵀφ)²  subject to  1ᵀφ = v(N) − v(∅),
with the Shapley kernel π(z) ∝ (M−1) / (C(M,|z|) |z| (M−|z|)) (Lundberg & Lee 2017). The total
kernel mass of size s is ∝ (M−1)/(s(M−s)): large at the borders (s = 1, M−1), small in the
middle. This implementation spends a budget of coalition evaluations well:

* whole sizes are enumerated from the borders inwards while the budget the kernel would give
  a size covers all of its subsets (as shap does); enumerated sizes carry their exact weight;
* the rest is sampled in complementary pairs (z, ¬z) (Covert & Lee 2021), without replacement,
  each sampled size weighted by its exact mass / number of samples (post-stratification).
  Sizes are drawn ∝ kernel mass for the linear fit, uniformly for the third-order one: the
  leverage scores of the kernel regression are uniform over sizes (Leverage SHAP, Musco &
  Witter 2025), and on the bench games uniform sizes lowered the third-order fit's error in
  10 of 12 (game, budget) cells (e.g. 0.043 → 0.037 at 800 evaluations on the LSTM game);
* with ``order=3`` (the default) the regression also fits odd third-order Walsh terms,
  penalised (:mod:`seqshap.estimators._cubic`): pairing already cancels every even-order
  interaction, and the odd third-order ones are most of what is left of paired KernelSHAP's
  error. With every coalition the values are still exactly Shapley's. It is fitted on pair
  differences with one Cholesky factorisation per ridge tried (the ridge is chosen per fit by
  exact leave-one-pair-out error), and its jackknife by Woodbury downdates, so an estimate
  costs a few times the linear fit's compute, not 20–400× (README, "Estimators").
  Up to ``_odd_kernel.MAX_PAIRS`` pairs the values come instead from a Gaussian-process fit
  over *every* odd Walsh interaction, the chosen triples given extra prior variance
  (:mod:`seqshap.estimators._odd_kernel`; its standard errors are the posterior's, not the
  jackknife below): up to 1.2× less error than the ridge fit at 400–800 evaluations and
  1.2–1.8× less at 3M–4M pairs, where the linear fit ran before, at up to ~0.07 s of compute
  per estimate. It starts at 3M sampled pairs, the ridge fit at 4M. Below, the same model
  with a horseshoe prior on its linear part instead of a flat one (:mod:`._horseshoe`, sampled
  by Gibbs): it needs no minimum number of pairs, finds the few players that matter when only a
  few do (3.7% error at 40 evaluations on the 30-feature tabular bench game, where the linear
  fit had 59%), and has 1.06–5.2× less error than the linear fit on the dense games at 30–150
  evaluations, at ≈ 0.07 s of compute per estimate (20–30 players). With ``l1_reg`` the fit
  is the linear one (``order=1``, paired KernelSHAP, which stays available);
* the efficiency constraint holds exactly (Lagrange multiplier, closed form);
* standard errors come from a stratified delete-one-pair jackknife (Wolter 2007, ch. 4): for
  each sampled pair p of size stratum h the fit is redone without it (the other pairs of h
  reweighted by n_h/(n_h−1)), by a rank-2 Woodbury downdate of the normal equations, and

      Var(φ̂) ≈ Σ_h (1 − n_h/N_h) (n_h − 1)/n_h Σ_{p∈h} (φ̂_(−p) − φ̄_h)²

  with the finite-population correction of sampling pairs without replacement from the N_h
  pairs of stratum h. The linearised (sandwich) variance P Σ w z r is the first-order term of
  the same quantity, but it uses the residuals of the fit it judges and is too small at small
  budgets (measured: 75% coverage at 4M evaluations); the jackknife is not.
  The variance estimate has few degrees of freedom at small budgets; the reported standard
  error is scaled by t_{0.975,ν} / z_{0.975} (ν from Welch–Satterthwaite over strata) so that
  φ̂ ± 1.96·SE is a 95% interval; the unscaled standard error and ν are in ``extras``;
* with ``tol``, sampling proceeds in rounds and stops once max SE ≤ tol · (max φ − min φ)
  (:mod:`seqshap.estimators._rounds`, shared with the other sampled estimators);
* on a recurrent game's prefix tree an estimate costs row-steps, not evaluations: the
  enumerated borders and the first round's pairs go to the game in one request, where they
  share early prefixes and calls (7–14% fewer row-steps, 1–19% less model time; README,
  "Estimators"). Pairs drawn in groups that share a head of the earliest players
  (``_PREFIX_GROUP``) were measured and are off: n random coalitions already share their first
  ≈ log2 n players, a longer head fixes its players for the whole group, and the groups needed
  5–62% more row-steps (12–79% more evaluations) for the default's error on all four games of
  ``bench/bench_recurrent_estimators.py``.
"""

from __future__ import annotations

import itertools
import re
from math import comb

import numpy as np

from ..games.base import Game
from . import _horseshoe
from ._blas import one_blas_thread
from ._cubic import (
    CubicBasis,
    border_effects,
    choose_triples,
    fit_cubic,
    loo_score,
    omega_population,
    pair_up,
)
from ._odd_kernel import MAX_PAIRS, OddKernel, fit_odd_kernel
from ._rounds import Round, sample_in_rounds, t_scaled
from .base import Estimate, bits_to_coalitions

#: sampled pairs per player below which the third-order terms are not fitted (order 1 instead)
MIN_PAIRS_PER_PLAYER = 4
#: the same for the odd-interaction kernel fit: it is ahead of the linear fit from one pair per
#: player (1.2–1.8× less error at 2–3 pairs per player on the bench games), but its posterior
#: intervals cover only 0.90–0.92 at 2 pairs per player, 0.92–0.97 from 3 (README, "Estimators");
#: below, the horseshoe fit (:data:`SPARSE`): the flat-prior fit from 1 pair per player had
#: more error in 11 of 14 (game, budget) cells there, and the horseshoe fit used above 3 pairs
#: per player had 1.11–1.29× the error on the dense bench games (``bench_estimator_variants``)
MIN_PAIRS_ODD_KERNEL = 3
# Designs measured against the default and not kept (README, "Estimators"; measured by
# ``bench/bench_estimator_variants.py``, which switches them on): off in the library. Chain
# pairs helped at 50–75 evaluations and cost up to 40% more error from 100 to 560; terms by LOO
# helped one game of four (``gbm-tabular``, up to 25% at 400–800) at 1.7–2.8× the compute.
#: the first sampled pairs are the chain of one random ordering and of its reverse
_CHAIN_PAIRS = False
#: third-order terms per sampled pair, chosen among these by leave-one-pair-out error
_TERMS_GRID: tuple[float, ...] | None = None
#: pairs per prefix group on games with an ``enumeration_order`` (the recurrent prefix tree;
#: 1: independent pairs). Groups of 4 and 16 cost 5–62% more row-steps for the same error
#: (``bench/bench_recurrent_estimators.py``; README, "Estimators"): off in the library.
_PREFIX_GROUP = 1
#: the enumerated borders and the first round's pairs valued in one request (False: two, as
#: before; kept as a switch for ``bench_recurrent_estimators.py --requests``)
_ONE_REQUEST = True
#: the third-order fit's values from the odd-interaction kernel fit (:mod:`._odd_kernel`) while
#: the pairs number at most its ``MAX_PAIRS``; False: the ridge fit of :mod:`._cubic` alone
ODD_KERNEL = True
#: below the third-order fits' pairs the horseshoe fit (:mod:`._horseshoe`: the odd-kernel model
#: with a horseshoe prior on its linear part); False: the plain linear fit with its jackknife
SPARSE = True
#: the fits ``order=3`` runs, by range of sampled pairs; recorded in a run's fingerprint
#: (:mod:`seqshap.runner`), so change it whenever the default's values change
FITS = "horseshoe below 3 pairs per player; odd-kernel to 400 pairs; ridge above"


def kernel_size_mass(m: int) -> np.ndarray:
    """Share of the Shapley kernel's mass on each size s = 0..M (0 at s = 0 and M)."""
    mass = np.zeros(m + 1)
    s = np.arange(1, m)
    mass[1:m] = (m - 1) / (s * (m - s))
    return mass / mass.sum()


def kernel_shap(
    game: Game,
    budget: int,
    rng: np.random.Generator,
    *,
    tol: float | None = None,
    l1_reg=False,
    order: int = 3,
) -> Estimate:
    """Shapley values of ``game`` from at most ``budget`` evaluations (module docstring).

    ``order=3`` (default) fits odd third-order terms beside the linear ones
    (:mod:`seqshap.estimators._cubic`); ``order=1`` is paired linear KernelSHAP. ``l1_reg``
    (shap's feature selection) implies ``order=1``.
    """
    if order not in (1, 3):
        raise ValueError(f"order must be 1 or 3; received {order!r}.")
    m = game.n_players
    start = game.n_evaluations
    v0, vn = game.empty_value, game.full_value
    used = game.n_evaluations - start
    delta = vn - v0
    if m == 1:
        vals = delta[None, :].copy()
        return Estimate(vals, np.zeros_like(vals), v0, vn, used, "kernel", exact=True)
    if 2**m <= budget:
        # every coalition fits: the regression over all of them gives exact Shapley values
        z = bits_to_coalitions(np.arange(1, 2**m - 1, dtype=np.int64), m)
        mass = kernel_size_mass(m)
        sizes = z.sum(1)
        w = mass[sizes] / np.array([comb(m, int(s)) for s in range(m + 1)], dtype=float)[sizes]
        y = game(z) - v0
        phi, _ = _solve(z, w, y, delta)
        if l1_reg is not False and l1_reg is not None:
            phi = _select_and_solve(z, w, y, delta, l1_reg, m)[0]
        return Estimate(
            phi, np.zeros_like(phi), v0, vn, game.n_evaluations - start, "kernel", exact=True
        )

    third = order == 3 and m >= 3 and not (l1_reg is not False and l1_reg is not None)
    grouped = _PREFIX_GROUP > 1 and game.enumeration_order is not None
    sampler = _PairSampler(
        m,
        rng,
        sizes="uniform" if third else "mass",
        chain=_CHAIN_PAIRS,
        prefix_order=game.enumeration_order if grouped else None,
        group=_PREFIX_GROUP if grouped else 1,
    )
    remaining = budget - used
    first = remaining if tol is None else min(remaining, max(2 * m + 2, 16 * m))
    sampler.plan_enumeration(first)
    z_en = sampler.enumerated()
    drawn = {"z": np.zeros((0, m), dtype=bool), "y": np.zeros((0, game.n_outputs)), "extras": {}}
    # the first round's pairs are drawn before the borders are valued (no draw depends on their
    # values) and valued with them in one request: on the prefix tree of a recurrent game the
    # two share their early prefixes and calls (README, "Estimators"); the same draws
    if _ONE_REQUEST:
        z_first = sampler.sample_pairs((first - len(z_en)) // 2)
        y_all = game(np.concatenate([z_en, z_first])) - v0
        y_en, drawn["z"], drawn["y"] = y_all[: len(z_en)], z_first, y_all[len(z_en) :]
    else:
        y_en = game(z_en) - v0 if len(z_en) else np.zeros((0, game.n_outputs))
    effects = border_effects(z_en, y_en, delta) if third else None

    def advance(target_pairs: int) -> Round:
        new = sampler.sample_pairs(max(0, target_pairs - len(drawn["z"]) // 2))
        if len(new):
            drawn["z"] = np.concatenate([drawn["z"], new])
            drawn["y"] = np.concatenate([drawn["y"], game(new) - v0])
        # the third-order fit needs a few sampled pairs per player to estimate its terms and its
        # jackknife (at 9 pairs for 10 players: 96.5% coverage at 1.3 SE, heavy tails)
        n_pairs = len(drawn["z"]) // 2
        basis = None
        n_all = n_pairs + len(z_en) // 2
        odd = ODD_KERNEL and n_all <= MAX_PAIRS
        if third and n_pairs >= (MIN_PAIRS_ODD_KERNEL if odd else MIN_PAIRS_PER_PLAYER) * m:
            bases = [
                CubicBasis(m, t)
                for f in _TERMS_GRID or (1.0,)
                if len(t := choose_triples(m, n_all, effects, terms_per_pair=f))
            ]
            basis = bases[0] if len(bases) == 1 else None
            if len(bases) > 1:
                z_s, y_s = drawn["z"], drawn["y"]
                basis = min(bases, key=lambda bs: _loo(sampler, z_en, y_en, z_s, y_s, delta, bs))
        phi, se, drawn["extras"], drawn["basis"] = _fit(
            sampler, z_en, y_en, drawn["z"], drawn["y"], delta, m, l1_reg, basis, SPARSE and third
        )
        return Round(phi, se, n_pairs, exhausted=sampler.exhausted)

    result, converged = sample_in_rounds(
        "kernel",
        budget=budget,
        tol=tol,
        first=(first - len(z_en)) // 2,
        advance=advance,
        room=lambda n: (budget - (game.n_evaluations - start)) // 2,
        spent=lambda: game.n_evaluations - start,
        min_step=m,
    )
    phi, se, se_extras = result.values, result.std_errors, drawn["extras"]
    exact = sampler.exhausted
    if exact:
        se, se_extras = np.zeros_like(phi), {}
    return Estimate(
        phi,
        se,
        v0,
        vn,
        game.n_evaluations - start,
        "kernel",
        exact=exact,
        extras={
            "n_enumerated": len(z_en),
            "n_sampled": len(drawn["z"]),
            "order": 1 if drawn.get("basis") is None else 3,
            "n_terms": m if drawn.get("basis") is None else drawn["basis"].n_terms,
            "tol": tol,
            "converged": converged,
            **se_extras,
        },
    )


# ---------------------------------------------------------------------------------- sampling
class _PairSampler:
    """Plans border enumeration and draws complementary pairs without replacement."""

    def __init__(
        self,
        m: int,
        rng: np.random.Generator,
        sizes: str = "mass",
        chain: bool = False,
        prefix_order: np.ndarray | None = None,
        group: int = 1,
    ):
        self.m = m
        self.prefix_order = None if prefix_order is None else np.asarray(prefix_order)
        self.group = int(group) if prefix_order is not None else 1
        self.rng = rng
        self.by_mass = sizes == "mass"
        self.chain = chain
        self._chain_left = np.zeros((0, m), dtype=bool)  # chain pairs not yet handed out
        self.mass = kernel_size_mass(m)
        self.enumerated_half: list[int] = []  # h = min(s, M−s) enumerated
        self.seen: set[bytes] = set()  # pair keys when M > 63
        self._seen_int = np.zeros(0, dtype=np.uint64)  # sorted pair keys when M <= 63
        self._bit = np.left_shift(np.uint64(1), np.arange(m, dtype=np.uint64)) if m <= 63 else None
        self.exhausted = False

    def plan_enumeration(self, budget: int) -> None:
        m, remaining, mass_left = self.m, budget, 1.0
        for h in range(1, m // 2 + 1):
            middle = 2 * h == m
            n_subsets = comb(m, h) * (1 if middle else 2)
            pair_mass = self.mass[h] * (1 if middle else 2)
            if n_subsets <= remaining and remaining * pair_mass / mass_left >= n_subsets - 1e-9:
                self.enumerated_half.append(h)
                remaining -= n_subsets
                mass_left -= pair_mass
            else:
                break
        free = [h for h in range(1, m // 2 + 1) if h not in self.enumerated_half]
        self.free_half = np.array(free, dtype=int)
        if len(free) == 0:
            self.exhausted = True
            return
        p = self.mass[self.free_half] * np.where(2 * self.free_half == m, 1, 2)
        self.free_p = p / p.sum() if self.by_mass else np.full(len(p), 1.0 / len(p))
        # population of pairs in each free stratum
        self.population = np.array(
            [comb(m, int(h)) // (2 if 2 * h == m else 1) for h in self.free_half], dtype=float
        )
        if self.chain:
            self._chain_left = self._chain_pairs()

    def _chain_pairs(self) -> np.ndarray:
        """First members of the pairs (z_j, ¬z_j), z_j = {π_1..π_j}, of one random ordering π,
        for the free sizes j, borders first: the chain of π and of its reverse (an antithetic
        pair of permutations) as complementary pairs. Their differences determine the linear
        part exactly (nested coalitions), which random pairs do only well past M pairs."""
        m = self.m
        rank = np.argsort(self.rng.permutation(m))
        j = np.arange(1, m)
        h = np.minimum(j, m - j)
        keep = np.isin(h, self.free_half)
        j = j[keep][np.argsort(h[keep], kind="stable")]
        return rank[None, :] < j[:, None]

    def enumerated(self) -> np.ndarray:
        rows = []
        for h in self.enumerated_half:
            sizes = {h, self.m - h}
            for s in sorted(sizes):
                for combo in itertools.combinations(range(self.m), s):
                    z = np.zeros(self.m, dtype=bool)
                    z[list(combo)] = True
                    rows.append(z)
        return np.array(rows, dtype=bool).reshape(-1, self.m)

    @property
    def n_seen(self) -> int:
        return len(self.seen) + len(self._seen_int)

    def _accept_int(self, canon: np.ndarray, needed: int) -> np.ndarray:
        """Indices of the first ``needed`` candidates whose pair is new (first occurrences, in
        candidate order), recorded as seen; the same choice as checking them one by one."""
        keys = (canon * self._bit).sum(axis=1, dtype=np.uint64)
        _, first = np.unique(keys, return_index=True)
        first = np.sort(first)
        fresh = first[~np.isin(keys[first], self._seen_int)][:needed]
        self._seen_int = np.sort(np.concatenate([self._seen_int, keys[fresh]]))
        return fresh

    def _draw(self, k: int) -> np.ndarray:
        """``k`` independent first members: a free half size h (``free_p``), then a uniform
        subset of that size."""
        h = self.rng.choice(self.free_half, size=k, p=self.free_p)
        ranks = self.rng.random((k, self.m)).argsort(axis=1).argsort(axis=1)
        return ranks < h[:, None]

    def _draw_grouped(self, k: int) -> np.ndarray:
        """``k`` first members in groups of ``group`` that agree on a random head: the first L
        players of ``prefix_order`` (L uniform on 1 .. M − ⌈log2 group⌉ − 2, so that every
        player is sometimes in the varying tail).

        Each member keeps the plain design's distribution exactly: the group's first member is
        a plain draw (:meth:`_draw`); the others take its head K and a tail T drawn from the
        plain design conditioned on the head: a pair {z, ¬z} has probability
        p(h) / N_h (h = min(|z|, M − |z|), N_h pairs in stratum h), each pair has exactly one
        member with head K or ¬K, so P(|T| = t | K) ∝ C(M − L, t) p(h) / N_h with
        |z| = |K| + t, and T is uniform given its size. Mixing over the first member's head
        gives every member the plain design's distribution."""
        from scipy.special import gammaln

        m, g, order = self.m, self.group, self.prefix_order
        n_groups = -(-k // g)
        lead = self._draw(n_groups)
        most = max(1, m - int(np.ceil(np.log2(g))) - 2)
        heads = self.rng.integers(1, most + 1, size=n_groups)
        log_p = np.full(m // 2 + 1, -np.inf)  # log(p(h) / N_h) per half size
        log_p[self.free_half] = np.log(self.free_p) - np.log(self.population)
        out = np.empty((n_groups, g, m), dtype=bool)
        out[:, 0] = lead
        for i, n_head in enumerate(heads):
            head, tail = order[:n_head], order[n_head:]
            n_tail = m - n_head
            t = np.arange(n_tail + 1)
            s = int(lead[i, head].sum()) + t
            log_w = (
                gammaln(n_tail + 1)
                - gammaln(t + 1)
                - gammaln(n_tail - t + 1)
                + log_p[np.minimum(s, m - s)]
            )
            w = np.exp(log_w - log_w.max())
            sizes = self.rng.choice(t, size=g - 1, p=w / w.sum())
            ranks = self.rng.random((g - 1, n_tail)).argsort(axis=1).argsort(axis=1)
            member = np.empty((g - 1, m), dtype=bool)
            member[:, head] = lead[i, head]
            member[:, tail] = ranks < sizes[:, None]
            out[i, 1:] = member
        return out.reshape(-1, m)[:k]

    def sample_pairs(self, n_pairs: int) -> np.ndarray:
        """``2 * n_pairs`` rows: new coalitions z (|z| = h, a free half size) and their ¬z."""
        if n_pairs <= 0 or self.exhausted:
            return np.zeros((0, self.m), dtype=bool)
        out: list[np.ndarray] = []
        if len(self._chain_left):
            take, self._chain_left = self._chain_left[:n_pairs], self._chain_left[n_pairs:]
            canon = np.where(take[:, :1], take, ~take)
            if self.m <= 63:
                out.extend(take[self._accept_int(canon, len(take))])
            else:
                for row, key in zip(take, np.packbits(canon, axis=1)):
                    self.seen.add(key.tobytes())
                    out.append(row)
        tries = 0
        while len(out) < n_pairs and tries < 50:
            tries += 1
            k = int((n_pairs - len(out)) * 1.25) + 8
            z = self._draw(k) if self.group == 1 else self._draw_grouped(k)
            canon = np.where(z[:, :1], z, ~z)  # one key per pair {z, ¬z}
            if self.m <= 63:
                out.extend(z[self._accept_int(canon, n_pairs - len(out))])
            else:
                for row, key in zip(z, np.packbits(canon, axis=1)):
                    kb = key.tobytes()
                    if kb not in self.seen:
                        self.seen.add(kb)
                        out.append(row)
                        if len(out) == n_pairs:
                            break
            if self.n_seen >= self.population.sum():
                self.exhausted = True
                break
        if not out:
            return np.zeros((0, self.m), dtype=bool)
        z = np.array(out, dtype=bool).reshape(-1, self.m)
        return np.concatenate([z, ~z])[
            np.argsort(np.r_[np.arange(len(z)), np.arange(len(z))], kind="stable")
        ]


# ---------------------------------------------------------------------------------- fitting
def _solve(z: np.ndarray, w: np.ndarray, y: np.ndarray, delta: np.ndarray):
    """Constrained WLS: φ = P b + A⁻¹1 Δ / (1ᵀA⁻¹1); returns (φ, P)."""
    m = z.shape[1]
    if len(z) == 0 or not np.any(w > 0):
        # nothing but v(∅) and v(N): the least-norm solution shares Δ equally
        return np.tile(delta / m, (m, 1)), np.eye(m) - 1.0 / m
    zf = z.astype(float)
    a = (zf * w[:, None]).T @ zf
    b = (zf * w[:, None]).T @ y
    try:
        # a singular A (two players never separated by the sampled coalitions) need not raise:
        # inv then returns finite garbage (values ~1e13, efficiency lost), hence the cond check
        if np.linalg.cond(a) > 1e12:
            raise np.linalg.LinAlgError
        a_inv = np.linalg.inv(a)
        if not np.isfinite(a_inv).all():
            raise np.linalg.LinAlgError
    except np.linalg.LinAlgError:
        a_inv = np.linalg.pinv(a)
    ones = np.ones(len(a))
    a1 = a_inv @ ones
    c = ones @ a1
    p = a_inv - np.outer(a1, a1) / c
    phi = p @ b + np.outer(a1, delta) / c
    return phi, p


def _weights(sampler: _PairSampler, z_en: np.ndarray, z_s: np.ndarray):
    m = sampler.m
    mass = sampler.mass
    size_count = np.array([comb(m, s) for s in range(m + 1)], dtype=float)
    w_en = mass[z_en.sum(1)] / size_count[z_en.sum(1)] if len(z_en) else np.zeros(0)
    s_sizes = z_s.sum(1)
    n_s = np.bincount(s_sizes, minlength=m + 1).astype(float)
    w_s = mass[s_sizes] / np.maximum(n_s[s_sizes], 1)
    return w_en, w_s


def _fit(sampler, z_en, y_en, z_s, y_s, delta, m, l1_reg, basis=None, sparse=False):
    """(φ, SE, extras, basis used): the third-order fit with a ``basis`` (linear where its
    normal matrix is not positive definite), else with ``sparse`` the horseshoe fit, else the
    linear fit or l1 selection."""
    w_en, w_s = _weights(sampler, z_en, z_s)
    if basis is not None:
        out = _fit_third_order(sampler, z_en, y_en, w_en, z_s, y_s, delta, basis)
        if out is not None:
            return (*out, basis)
    if sparse and len(z_s) and not sampler.exhausted and m <= _horseshoe.MAX_PLAYERS:
        with one_blas_thread():  # small dense matrices: threads cost more than they save
            out = _horseshoe.fit_horseshoe(*_pair_data(sampler, z_en, y_en, z_s, y_s), delta)
        if out is not None:
            phi, se, share = out
            return phi, se, {"fit": "horseshoe", "grid_share": share}, None
    z = np.concatenate([z_en, z_s])
    w = np.concatenate([w_en, w_s])
    y = np.concatenate([y_en, y_s])
    if l1_reg is not False and l1_reg is not None:
        # selection is not smooth in the data: the jackknife would refit a different model per
        # deletion; the linearised variance of the refit on the selected players is reported
        phi, p, active = _select_and_solve(z, w, y, delta, l1_reg, m)
        se, extras = _sandwich_se(sampler, z_s, y_s, w_s, phi, p, active)
        return phi, se, extras, None
    phi, _ = _solve(z, w, y, delta)
    if sampler.exhausted or len(z_s) == 0:
        se = np.zeros_like(phi) if sampler.exhausted else np.full_like(phi, np.nan)
        return phi, se, {}, None
    f_en = z_en.astype(float)
    a_en = (f_en * w_en[:, None]).T @ f_en
    b_en = (f_en * w_en[:, None]).T @ y_en
    var, dof = _jackknife_variance(sampler, a_en, b_en, z_s, y_s, delta, phi)
    se, extras = t_scaled(np.sqrt(var), dof)
    return phi, se, extras, None


def _pair_data(sampler, z_en, y_en, z_s, y_s):
    """(first members, differences, kernel weights) of the enumerated and the sampled pairs;
    a sampled pair of stratum h weighs ω_h / n_h (as in the third-order fits)."""
    m = sampler.m
    zp_en, dy_en = pair_up(z_en, y_en)
    wp_en = _weights(sampler, zp_en, z_s[:0])[0] if len(z_en) else np.zeros(0)
    omega = sampler.mass.copy()
    if m % 2 == 0:
        omega[m // 2] /= 2.0
    zp_s = z_s[0::2]
    strata = np.minimum(zp_s.sum(1), m - zp_s.sum(1)).astype(int)
    counts = np.bincount(strata, minlength=m + 1)
    wp_s = omega[strata] / np.maximum(counts[strata], 1)
    return (
        np.concatenate([zp_en, zp_s]),
        np.concatenate([dy_en, y_s[0::2] - y_s[1::2]]),
        np.concatenate([wp_en, wp_s]),
    )


def _fit_third_order(sampler, z_en, y_en, w_en, z_s, y_s, delta, basis):
    """The third-order fit on pair differences (:mod:`seqshap.estimators._cubic`)."""
    m = sampler.m
    zp_en, dy_en = pair_up(z_en, y_en)
    # both members of an enumerated pair carry the same weight (sizes h and M − h)
    wp_en = w_en[:0] if len(z_en) == 0 else _weights(sampler, zp_en, z_s[:0])[0]
    omega = sampler.mass.copy()
    if m % 2 == 0:
        omega[m // 2] /= 2.0
    jackknife = not sampler.exhausted and len(z_s) > 0
    zp_s, dy_s = z_s[0::2], y_s[0::2] - y_s[1::2]
    if ODD_KERNEL and len(zp_en) + len(zp_s) <= MAX_PAIRS:
        with one_blas_thread():  # N ≤ MAX_PAIRS: threads cost more than they save (_blas)
            out = _fit_odd_kernel(
                basis, zp_en, dy_en, wp_en, zp_s, dy_s, omega, delta, jackknife, sampler.exhausted
            )
        if out is not None:
            return out
    out = fit_cubic(basis, zp_en, dy_en, wp_en, zp_s, dy_s, omega, delta, jackknife=jackknife)
    if out is None:
        return None
    phi, var, dof, ridge = out
    if not jackknife:
        se = np.zeros_like(phi) if sampler.exhausted else np.full_like(phi, np.nan)
        return phi, se, {}
    se, extras = t_scaled(np.sqrt(var), dof)
    return phi, se, {**extras, "fit": "cubic", "ridge": ridge * basis.ridge}


def _fit_odd_kernel(basis, zp_en, dy_en, wp_en, zp_s, dy_s, omega, delta, jackknife, exhausted):
    """The odd-interaction kernel fit (:mod:`._odd_kernel`) with the third-order fit's triples
    given extra prior variance; (φ, SE, extras) or None."""
    m = basis.m
    sizes = zp_s.sum(1)
    strata = np.minimum(sizes, m - sizes).astype(int)
    counts = np.bincount(strata, minlength=m + 1)
    w_s = omega[strata] / np.maximum(counts[strata], 1)
    populations = np.array([omega_population(h, m) if h else 1.0 for h in range(m + 1)])
    out = fit_odd_kernel(
        OddKernel(m, basis.triples),
        np.concatenate([zp_en, zp_s]),
        np.concatenate([dy_en, dy_s]),
        np.concatenate([wp_en, w_s]),
        delta,
        np.arange(len(zp_en), len(zp_en) + len(zp_s)),
        strata,
        populations,
        jackknife=jackknife,
    )
    if out is None:
        return None
    phi, var, dof, (rho, eta, kappa) = out
    if not jackknife:  # every pair seen: exact; no sampled pair: no error estimate
        se = np.zeros_like(phi) if exhausted else np.full_like(phi, np.nan)
        return phi, se, {"fit": "odd-kernel"}
    se, extras = t_scaled(np.sqrt(var), dof)
    return phi, se, {**extras, "fit": "odd-kernel", "rho": rho, "eta": eta, "kappa": kappa}


def _loo(sampler, z_en, y_en, z_s, y_s, delta, basis) -> float:
    """Leave-one-pair-out error of the third-order fit with ``basis`` (:func:`._cubic.loo_score`)."""
    zp_en, dy_en = pair_up(z_en, y_en)
    w_en = _weights(sampler, zp_en, z_s[:0])[0] if len(z_en) else np.zeros(0)
    omega = sampler.mass.copy()
    if sampler.m % 2 == 0:
        omega[sampler.m // 2] /= 2.0
    dy_s = y_s[0::2] - y_s[1::2]
    return loo_score(basis, zp_en, dy_en, w_en, z_s[0::2], dy_s, omega, delta)


def _constrain(x: np.ndarray, g: np.ndarray, delta: np.ndarray) -> np.ndarray:
    """β = A⁻¹b − A⁻¹g (gᵀA⁻¹b − Δ) / (gᵀA⁻¹g) from x = A⁻¹[b, g] (last column), over a stack."""
    k = x.shape[-1] - 1
    ab, ag = x[..., :k], x[..., k:]
    gab = np.tensordot(ab, g, axes=([-2], [0]))[..., None, :]  # (..., 1, k)
    gag = np.tensordot(ag, g, axes=([-2], [0]))[..., None, :]  # (..., 1, 1)
    return ab - ag * (gab - delta) / gag


def _jackknife_variance(sampler, a_en, b_en, z_s, y_s, delta, phi, chunk_bytes: int = 2**25):
    """Stratified delete-one-pair jackknife variance of φ̂ (M, k) and its Satterthwaite ν.

    Rows are interleaved pairs (z_0, ¬z_0, z_1, ¬z_1, ...). A pair of stratum h (sizes h and
    M−h) has per-row weight ω_h / n_h with ω_h the kernel mass of size h (halved when
    h = M/2, where both rows share one size). Removing pair p from stratum h gives

        A_(−p) = B_h − c_h G_p,   b_(−p) = β_h − c_h g_p,   c_h = ω_h / (n_h − 1),

    with B_h, β_h the normal equations with stratum h reweighted by n_h/(n_h−1) and G_p, g_p the
    pair's own terms; (B_h − U Uᵀ)⁻¹ follows from B_h⁻¹ by Woodbury (U = √c_h [z, ¬z]).
    A stratum with a single pair has no within-stratum spread; its deletion (the stratum's
    mass then missing) is its variance contribution, with one degree of freedom. (The
    third-order fit has its own, cheaper jackknife: :func:`._cubic.fit_cubic`.)
    """
    m, k = phi.shape
    h = np.minimum(z_s[0::2].sum(1), m - z_s[0::2].sum(1)).astype(int)
    zf = z_s.astype(float)
    p_dim = zf.shape[1]
    g_vec = np.ones(m)
    zp, zq = zf[0::2], zf[1::2]
    yp, yq = y_s[0::2], y_s[1::2]
    omega = sampler.mass.copy()
    if m % 2 == 0:
        omega[m // 2] /= 2.0
    counts = np.bincount(h, minlength=m + 1)
    strata = np.flatnonzero(counts)
    members = {g: np.flatnonzero(h == g) for g in strata}
    s_b = {g: zp[i].T @ yp[i] + zq[i].T @ yq[i] for g, i in members.items()}
    row_w = omega[h] / counts[h]  # weight of each pair's two rows
    a_full = a_en + (zp * row_w[:, None]).T @ zp + (zq * row_w[:, None]).T @ zq
    b_full = b_en + sum(omega[g] / counts[g] * s_b[g] for g in strata)
    population = dict(zip(sampler.free_half.tolist(), sampler.population.tolist()))
    a_full_inv, invertible = _inv_sym(a_full)
    var = np.zeros((m, k))
    var_sq_over_dof = np.zeros((m, k))
    rows = max(1, chunk_bytes // (8 * p_dim * (p_dim + k + 4)))
    for g in strata:
        n_h = int(counts[g])
        sel = members[g]
        if n_h > 1:
            c = omega[g] / (n_h - 1)
            bump = c - omega[g] / n_h
            base_b = b_full + bump * s_b[g]
            if invertible and 4 * n_h < p_dim:
                # (A + UUᵀ)⁻¹ by Woodbury from the shared A⁻¹: O(M² n_h) instead of O(M³)
                u_g = np.sqrt(bump) * np.concatenate([zp[sel], zq[sel]]).T  # (M, 2 n_h)
                v_g = a_full_inv @ u_g
                cap_g = np.eye(u_g.shape[1]) + u_g.T @ v_g
                r = a_full_inv - v_g @ np.linalg.solve(cap_g, v_g.T)
            else:
                s_a = zp[sel].T @ zp[sel] + zq[sel].T @ zq[sel]
                # A ≻ 0 and bump·S ⪰ 0 ⇒ A + bump·S ≻ 0: no conditioning check needed
                r = (
                    np.linalg.inv(a_full + bump * s_a)
                    if invertible
                    else _pinv_sym(a_full + bump * s_a)
                )
        else:
            c = omega[g]
            base_b = b_full
            r = a_full_inv
        x_base = r @ np.column_stack([base_b, g_vec])  # (P, k+1)
        reps = np.empty((n_h, m, k))
        for lo in range(0, n_h, rows):
            idx = sel[lo : lo + rows]
            u = np.sqrt(c) * np.stack([zp[idx], zq[idx]], axis=2)  # (n, P, 2)
            v = _left_mul(r, u)  # (n, P, 2) = B⁻¹U
            cap = np.eye(2) - np.swapaxes(u, 1, 2) @ v  # (n, 2, 2)
            # right-hand sides [b_(−p), 1]; B⁻¹ b_(−p) = x_base − c B⁻¹ g_p
            g_p = (
                zp[idx][:, :, None] * yp[idx][:, None, :]
                + zq[idx][:, :, None] * yq[idx][:, None, :]
            )
            rb = x_base[None, :, :k] - c * _left_mul(r, g_p)  # (n, P, k)
            rb = np.concatenate(
                [rb, np.broadcast_to(x_base[None, :, k:], (len(idx), p_dim, 1))], axis=2
            )
            # A⁻¹ = B⁻¹ + B⁻¹U (I − UᵀB⁻¹U)⁻¹ UᵀB⁻¹
            x = rb + v @ (_inv_2x2(cap) @ (np.swapaxes(u, 1, 2) @ rb))
            reps[lo : lo + len(idx)] = _constrain(x, g_vec, delta)
        fpc = max(0.0, 1.0 - n_h / population.get(int(g), np.inf))
        if n_h > 1:
            v_h = fpc * (n_h - 1) / n_h * ((reps - reps.mean(0)) ** 2).sum(0)
            dof_h = n_h - 1
        else:
            v_h = fpc * ((reps[0] - phi) ** 2)
            dof_h = 1
        var += v_h
        var_sq_over_dof += v_h**2 / dof_h
    with np.errstate(invalid="ignore", divide="ignore"):
        dof = np.where(var_sq_over_dof > 0, var**2 / var_sq_over_dof, np.inf)
    return var, dof


def _left_mul(r: np.ndarray, stack: np.ndarray) -> np.ndarray:
    """``r @ stack`` for a stack (n, P, j) as one matrix product (one BLAS call, not n)."""
    n, p, j = stack.shape
    flat = np.ascontiguousarray(stack.transpose(1, 0, 2)).reshape(p, n * j)
    return (r @ flat).reshape(p, n, j).transpose(1, 0, 2)


def _inv_2x2(a: np.ndarray) -> np.ndarray:
    """Inverses of a stack of 2×2 matrices in closed form (pseudo-inverse where singular)."""
    det = a[:, 0, 0] * a[:, 1, 1] - a[:, 0, 1] * a[:, 1, 0]
    scale = np.abs(a).reshape(len(a), -1).max(axis=1) ** 2
    ok = np.abs(det) > 1e-12 * np.maximum(scale, 1e-300)
    out = np.empty_like(a)
    d = np.where(ok, det, 1.0)
    out[:, 0, 0], out[:, 1, 1] = a[:, 1, 1] / d, a[:, 0, 0] / d
    out[:, 0, 1], out[:, 1, 0] = -a[:, 0, 1] / d, -a[:, 1, 0] / d
    if not ok.all():
        out[~ok] = np.linalg.pinv(a[~ok])
    return out


def _inv_sym(a: np.ndarray) -> tuple[np.ndarray, bool]:
    """(A⁻¹, True) when A is well-conditioned, else (pseudo-inverse, False)."""
    try:
        if np.linalg.cond(a) > 1e12:  # inv of a singular A can return finite garbage
            raise np.linalg.LinAlgError
        inv = np.linalg.inv(a)
        if np.isfinite(inv).all():
            return inv, True
    except np.linalg.LinAlgError:
        pass
    return np.linalg.pinv(a), False


def _pinv_sym(a: np.ndarray) -> np.ndarray:
    try:
        inv = np.linalg.inv(a)
        if np.isfinite(inv).all():
            return inv
    except np.linalg.LinAlgError:
        pass
    return np.linalg.pinv(a)


def _sandwich_se(sampler, z_s, y_s, w_s, phi, p, active) -> tuple[np.ndarray, dict]:
    """Linearised standard errors after l1 selection, t-scaled by a Satterthwaite ν."""
    m, k = phi.shape
    if sampler.exhausted or len(z_s) == 0:
        return (np.zeros_like(phi) if sampler.exhausted else np.full_like(phi, np.nan)), {}
    zf = z_s.astype(float)
    r = y_s - zf @ phi  # (n, k)
    if active is not None:
        zf = zf[:, active]
    # pair rows are interleaved: (z_0, ¬z_0, z_1, ¬z_1, ...)
    g = zf[:, :, None] * (w_s[:, None] * r)[:, None, :]  # (n, m', k) weighted influence
    g = g[0::2] + g[1::2]  # per pair
    q = np.einsum("ij,pjk->pik", p, g) if active is None else _project_active(p, g, active, m)
    h = np.minimum(z_s[0::2].sum(1), m - z_s[0::2].sum(1))
    var = np.zeros((m, k))
    var_sq_over_dof = np.zeros((m, k))
    pooled = q.var(axis=0, ddof=1) if len(q) > 1 else np.full((m, k), np.nan)
    for stratum, pop in zip(sampler.free_half, sampler.population):
        sel = h == stratum
        n_h = int(sel.sum())
        if n_h == 0:
            continue
        v_h = q[sel].var(axis=0, ddof=1) if n_h > 1 else pooled
        fpc = max(0.0, 1.0 - n_h / pop)
        c_h = n_h * v_h * fpc  # Var(Σ_p q_p) = n_h Var(q) (weights already inside q)
        var += c_h
        var_sq_over_dof += c_h**2 / (n_h - 1 if n_h > 1 else max(len(q) - 1, 1))
    with np.errstate(invalid="ignore", divide="ignore"):
        dof = np.where(var_sq_over_dof > 0, var**2 / var_sq_over_dof, np.inf)
    return t_scaled(np.sqrt(var), dof)


def _project_active(p, g, active, m):
    q_active = np.einsum("ij,pjk->pik", p, g)
    q = np.zeros((g.shape[0], m, g.shape[2]))
    q[:, active, :] = q_active
    return q


# ---------------------------------------------------------------------------------- l1
def _select_and_solve(z, w, y, delta, l1_reg, m):
    """Feature selection as in shap (lasso on the efficiency-eliminated problem), then refit.

    Returns φ (M, k) with unselected players at 0, the projector of the refit on the union of
    selected players, and that union.
    """
    from .._optional import import_optional

    lm = import_optional("sklearn.linear_model", "l1_reg feature selection")
    zf = z.astype(float)
    sizes = zf.sum(1)
    phi = np.zeros((m, y.shape[1]))
    union = np.zeros(m, dtype=bool)
    for o in range(y.shape[1]):
        w_aug = np.concatenate([w * (m - sizes), w * sizes])
        sw = np.sqrt(w_aug)
        y_aug = np.concatenate([y[:, o], y[:, o] - delta[o]]) * sw
        x_aug = np.concatenate([zf, zf - 1]) * sw[:, None]
        chosen = _choose(lm, x_aug, y_aug, l1_reg)
        if not chosen.any():
            chosen[np.argmax(np.abs(x_aug.T @ y_aug))] = True
        sub, _ = _solve(z[:, chosen], w, y[:, [o]], delta[[o]])
        phi[chosen, o] = sub[:, 0]
        union |= chosen
    _, p = _solve(z[:, union], w, y, delta)
    return phi, p, np.flatnonzero(union)


def _choose(lm, x, y, l1_reg) -> np.ndarray:
    if isinstance(l1_reg, str):
        match = re.fullmatch(r"num_features\((\d+)\)", l1_reg)
        if match:
            k = int(match.group(1))
            _, active, _ = lm.lars_path(x, y, max_iter=k)
            chosen = np.zeros(x.shape[1], dtype=bool)
            chosen[np.asarray(active, dtype=int)[:k]] = True
            return chosen
        if l1_reg in ("aic", "bic"):
            model = lm.LassoLarsIC(criterion=l1_reg, fit_intercept=False).fit(x, y)
            return model.coef_ != 0
        raise ValueError(
            f"l1_reg must be False, 'num_features(k)', 'aic', 'bic' or a float alpha; "
            f"received {l1_reg!r}."
        )
    model = lm.Lasso(alpha=float(l1_reg), fit_intercept=False).fit(x, y)
    return model.coef_ != 0
