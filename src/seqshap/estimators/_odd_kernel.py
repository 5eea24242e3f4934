"""The kernel fit's default: a Gaussian-process fit over every odd Walsh interaction.

The third-order fit (:mod:`._cubic`) regresses pair differences on the linear terms and a
chosen set of triples; what it leaves out (the other triples, orders 5, 7, …) is its error. Here
the odd part of the game is given a prior instead of a cut-off. In the Walsh basis
χ_S(z) = Π_{j∈S} (1 − 2 z_j), the game is u(z) = zᵀa + Σ_S β_S (χ_S(z) − 1) (the linear part
unpenalised, a flat prior), with independent β_S ~ N(0, σ²_{|S|}) for odd |S| ≥ 3, and, for the
chosen triples T of the third-order fit, an extra N(0, κ σ²_3) (heredity and neighbours: the
triples the data or the sequence point at). Even orders cancel from pair differences (§ _cubic)
and need no prior. The energy per order decays geometrically, Σ_{|S|=k} σ²_k ∝ ρ^{(k−3)/2},
for k = 3, 5, …, :data:`MAX_ORDER` (above, at ρ ≤ 0.3, less than 10⁻³ of order 3's energy).

Observed: the pair differences d(z) = u(z) − u(¬z) = −xᵀa + Σ_S 2β_S χ_S(x) (x = 1 − 2z), with
noise η / w(z) (w: the kernel weight of the pair, normalised to mean 1: the unmodelled part and
the rounding), and the constraint 1ᵀa − 2 Σ_S β_S = Δ exactly. The prior covariance of the odd
part depends on two coalitions only through the number j of players on which they differ:

    Σ_{|S|=k} χ_S(x) χ_S(x') = K_k(j),   the Krawtchouk polynomial (e_k of a ±1 vector with j
                                         minus ones), computed normalised, κ_k = K_k / C(M, k),

so the N × N Gram matrix costs one product x xᵀ and a table lookup, whatever the number of
terms (2^{M−1} of them). The values are the Shapley values of the posterior mean game:

    φ_i = a_i − (2/M) Σ_k π_k [2 Σ_p α_p x_{p,i} κ^{(M−1)}_{k−1}(|z_p| − z_{p,i}) − 2 α_c]
          − (2/3) Σ_{S∈T, S∋i} κ σ²_3 (Σ_p α_p 2χ_S(x_p) − 2 α_c),

with α the dual weights of the observations (pairs p, constraint c) and π_k the prior energy of
order k. With every pair observed and η → 0 the posterior mean interpolates every pair
difference, so φ is exactly Shapley's (tested); efficiency holds exactly at any budget.

Hyperparameters (ρ, η, κ) are chosen per fit on :data:`GRID` by the kernel-weighted
leave-one-pair-out error, exact from the bordered system's inverse B⁻¹ = [[P, Qᵀ], [Q, −S⁻¹]]
(S = FᵀG⁻¹F, F the linear features): the LOO residual of pair p is α_p / P_pp. The prior
scale τ² cancels from the mean and the LOO residuals.

Standard errors (:data:`STANDARD_ERRORS`). ``"posterior"`` (default): the posterior variance of
φ_i under the prior (universal kriging: the flat prior on the linear part adds uᵢᵀS⁻¹uᵢ),
Var φ_i = τ² (c_ii − r_iᵀG⁻¹r_i + u_iᵀS⁻¹u_i), u_i = e_i − FᵀG⁻¹r_i, with τ² by REML,
yᵀPy / (N + 1 − M), per output (tested equal to the primal posterior up to that scale).
``"jackknife"``: the stratified delete-one-pair jackknife without refits,
φ_(−p) = φ − (Q_{:,p} + R_α P_{:,p}) α_p / P_pp (tested equal to brute-force refits). Measured
(README, "Estimators", "Error bars"): the jackknife is conservative with this fit (95%
intervals covered 0.987–1.000 of the exact values on the GRU and tabular bench games at 800–1,600
evaluations), the posterior slightly short of 95% (0.900–0.961 on the bench games, 0.917–0.940
on AReM; SE/RMSE 1.00 there). Both hold the chosen hyperparameters fixed.

Cost: per grid point a Cholesky factorisation of the N × N Gram matrix (N pairs) and the
inverse of its triangular factor (for the LOO residuals' diag G⁻¹), 2N³/3 flops. At N ≤ :data:`MAX_PAIRS` this fit is used, above it the ridge fit.
"""

from __future__ import annotations

from math import comb

import numpy as np
import scipy.linalg

from ._cubic import satterthwaite, stratum_variance

#: (ρ, η, κ) tried per fit: energy decay per odd order, noise, extra variance of chosen triples
GRID: tuple[tuple[float, float, float], ...] = tuple(
    (rho, eta, kappa) for rho in (0.03, 0.3) for eta in (1e-3, 1e-1) for kappa in (0.0, 10.0, 100.0)
)
#: the highest odd order given a prior (order 15 would hold ρ⁶ of order 3's energy)
MAX_ORDER = 13
#: above this many pairs (enumerated + sampled) the ridge fit of :mod:`._cubic` is used: on the
#: AReM GRU this fit's posterior intervals covered only 0.84–0.90 at 1,130–1,600 evaluations
#: (565–800 pairs; the ridge fit's jackknife 0.93–0.97) for no gain in error there, and its
#: compute grows as N³ (README, "Estimators")
MAX_PAIRS = 400
#: "posterior" (default) or "jackknife": how the standard errors are computed (module docstring)
STANDARD_ERRORS = "posterior"


def krawtchouk_table(m: int, k_max: int) -> np.ndarray:
    """κ[k, j] = K_k(j) / C(m, k), k = 0..k_max, j = 0..m: the mean of χ_S over the subsets S
    of size k for a ±1 vector with j minus ones (0 for k > m). Three-term recurrence,
    normalised: (m − k) κ_{k+1} = (m − 2j) κ_k − k κ_{k−1}."""
    j = np.arange(m + 1, dtype=float)
    out = np.zeros((k_max + 1, m + 1))
    out[0] = 1.0
    if k_max >= 1 and m >= 1:
        out[1] = (m - 2 * j) / m
    for k in range(1, min(k_max, m - 1)):
        out[k + 1] = ((m - 2 * j) * out[k] - k * out[k - 1]) / (m - k)
    if k_max >= m:  # the recurrence divides by m − k: the full set's χ is (−1)^j
        out[m] = (-1.0) ** j
    return out


class OddKernel:
    """Prior covariances of the pair differences and the constraint, and the read-out."""

    def __init__(self, m: int, triples: np.ndarray | None = None):
        self.m = m
        self.orders = np.arange(3, min(m, MAX_ORDER) + 1, 2)
        k_max = int(self.orders.max()) if len(self.orders) else 1
        self.kappa_m = krawtchouk_table(m, k_max)
        self.kappa_m1 = krawtchouk_table(m - 1, k_max)
        self.triples = np.zeros((0, 3), np.int64) if triples is None else np.asarray(triples)

    def energies(self, rho: float) -> np.ndarray:
        pi = rho ** ((self.orders - 3) / 2.0)
        return pi / pi.sum() if len(pi) else pi

    def parts(self, z: np.ndarray):
        """The Gram pieces that do not depend on the hyperparameters."""
        x = 1.0 - 2.0 * z
        sizes = z.sum(1).astype(np.int64)
        j = np.rint((self.m - x @ x.T) / 2).astype(np.int64)  # players on which p, q differ
        t = self.triples
        if len(t):
            tt = 2.0 * x[:, t[:, 0]] * x[:, t[:, 1]] * x[:, t[:, 2]]  # (N, q)
            tt = np.vstack([tt, np.full(len(t), -2.0)])  # the constraint's column: −2 each
        else:
            tt = np.zeros((len(z) + 1, 0))
        return x, sizes, j, tt, tt @ tt.T

    def gram(self, parts, rho: float, kappa: float) -> np.ndarray:
        """(N+1) × (N+1) prior covariance of the pair differences' odd part and the constraint's."""
        x, sizes, j, tt, tt_gram = parts
        n = len(x)
        pi = self.energies(rho)
        table = 4.0 * (pi @ self.kappa_m[self.orders]) if len(pi) else np.zeros(self.m + 1)
        out = np.empty((n + 1, n + 1))
        out[:n, :n] = table[j]
        # constraint −2Σβ_S: covariance −4 Σ_k σ²_k e_k(x_p) with the pair, 4 Σ_k σ²_k C(M, k)
        out[:n, n] = out[n, :n] = -table[sizes]
        out[n, n] = 4.0 * pi.sum()
        if kappa > 0 and tt.shape[1]:
            out += self._triple_variance(rho, kappa) * tt_gram
        return out

    def _triple_variance(self, rho: float, kappa: float) -> float:
        pi = self.energies(rho)
        return kappa * (pi[0] / comb(self.m, 3) if len(pi) else 1.0)

    def readout(self, parts, rho: float, kappa: float) -> np.ndarray:
        """R_α (M × (N+1)): the odd part's Shapley values per unit dual weight."""
        x, sizes, _, tt, _ = parts
        n, m = len(x), self.m
        pi = self.energies(rho)
        out = np.zeros((m, n + 1))
        if len(pi):
            z = (x < 0).astype(np.int64)
            # Σ_k π_k κ^{(M−1)}_{k−1}(|z_p| − z_{p,i}), for every (p, i)
            tab = pi @ self.kappa_m1[self.orders - 1]  # over j = 0..M−1
            e = tab[sizes[:, None] - z]  # (N, M)
            out[:, :n] = (-2.0 / m) * (2.0 * x * e).T
            out[:, n] = (-2.0 / m) * (-2.0) * pi.sum()
        if kappa > 0 and tt.shape[1]:
            s2 = self._triple_variance(rho, kappa)
            per_triple = s2 * tt.T  # (q, N+1): E[β_T] per unit dual weight
            for col in range(3):
                np.add.at(out, self.triples[:, col], (-2.0 / 3.0) * per_triple)
        return out


def fit_odd_kernel(
    kernel: OddKernel,
    z: np.ndarray,
    dy: np.ndarray,
    w: np.ndarray,
    delta: np.ndarray,
    sampled: np.ndarray,
    strata: np.ndarray,
    populations: np.ndarray,
    *,
    jackknife: bool = True,
    grid=None,
):
    """(φ, variance, dof, (ρ, η, κ)) of the odd-kernel fit, or None when no grid point factors.

    ``z``/``dy``/``w``: one member of every pair, its difference (N, k) and kernel weight;
    ``sampled``: indices of the sampled pairs (the jackknife's units), ``strata`` their stratum,
    ``populations[h]`` the number of pairs in stratum h (finite-population correction).
    """
    m = kernel.m
    n, k = dy.shape
    parts = kernel.parts(np.asarray(z, dtype=bool))
    x = parts[0]
    f = np.vstack([-x, np.ones((1, m))])  # linear features of the N pairs and the constraint
    y = np.vstack([dy, np.asarray(delta, dtype=float)[None, :]])
    wn = np.asarray(w, dtype=float) / max(float(np.mean(w)), 1e-300)
    best = None
    for rho, eta, kappa in grid or GRID:
        g = kernel.gram(parts, rho, kappa)
        g[np.arange(n), np.arange(n)] += eta / wn
        solved = _solve_bordered(g, f, y)
        if solved is None:
            continue
        linv, ginv_diag, gf, s_inv, alpha, a = solved
        p_diag = ginv_diag[:n] - np.einsum("ij,jk,ik->i", gf[:n], s_inv, gf[:n])
        if np.any(p_diag <= 0):
            continue
        loo = alpha[:n][sampled] / p_diag[sampled, None]
        score = float((wn[sampled, None] * loo**2).sum()) if len(sampled) else 0.0
        if best is None or score < best[0]:
            best = (score, (rho, eta, kappa), linv, gf, s_inv, alpha, a)
    if best is None:
        return None
    _, chosen, linv, gf, s_inv, alpha, a = best
    r_alpha = kernel.readout(parts, chosen[0], chosen[2])
    phi = a + r_alpha @ alpha
    if not jackknife or len(sampled) == 0:
        return phi, None, None, chosen
    if STANDARD_ERRORS == "posterior":
        var = _posterior_variance(kernel, chosen, linv, gf, s_inv, alpha, y, r_alpha)
        # τ² by REML has N + 1 − M degrees of freedom: t quantiles with them (wider at small N)
        return phi, var, np.full_like(var, float(max(n + 1 - m, 1))), chosen
    # columns p (sampled) of P = G⁻¹ − G⁻¹F S⁻¹ FᵀG⁻¹ and Q = S⁻¹ FᵀG⁻¹
    ginv_cols = linv.T @ linv[:, sampled]  # columns of G⁻¹
    p_cols = ginv_cols - gf @ (s_inv @ gf[sampled].T)  # (N+1, n_s)
    q_cols = s_inv @ gf[sampled].T  # (M, n_s)
    lever = (q_cols + r_alpha @ p_cols).T  # (n_s, M)
    scale = alpha[sampled] / np.diag(p_cols[sampled])[:, None]  # (n_s, k)
    reps = phi[None] - lever[:, :, None] * scale[:, None, :]  # (n_s, M, k)
    var = np.zeros((m, k))
    var_sq_over_dof = np.zeros((m, k))
    for stratum in np.unique(strata):
        sel = np.flatnonzero(strata == stratum)
        v_h = stratum_variance(reps[sel], phi, max(0.0, 1.0 - len(sel) / populations[stratum]))
        var += v_h
        var_sq_over_dof += v_h**2 / max(len(sel) - 1, 1)
    return phi, var, satterthwaite(var, var_sq_over_dof), chosen


def _posterior_variance(kernel, chosen, linv, gf, s_inv, alpha, y, r_alpha):
    """Posterior variance of φ per output (module docstring), τ² by REML."""
    rho, _, kappa = chosen
    m = kernel.m
    # REML: yᵀPy / (N + 1 − M) per output (P is semi-definite: only rounding goes below 0)
    tau2 = np.maximum((alpha * y).sum(0), 0.0) / max(len(linv) - m, 1)
    pi = kernel.energies(rho)
    prior = np.full(m, float((4.0 * pi / (kernel.orders * m)).sum()) if len(pi) else 0.0)
    if kappa > 0 and len(kernel.triples):
        counts = np.bincount(kernel.triples.ravel(), minlength=m)
        prior += kernel._triple_variance(rho, kappa) * (4.0 / 9.0) * counts
    r_white = linv @ r_alpha.T  # r_iᵀG⁻¹r_i = ‖L⁻¹r_i‖²
    explained = np.einsum("ij,ij->j", r_white, r_white)
    u = np.eye(m) - (r_alpha @ gf).T  # columns u_i = e_i − FᵀG⁻¹ r_i
    extra = np.einsum("ji,jk,ki->i", u, s_inv, u)
    var = np.maximum(prior - explained + extra, 0.0)
    return var[:, None] * tau2[None, :]


def _solve_bordered(g: np.ndarray, f: np.ndarray, y: np.ndarray):
    """L⁻¹ (G = LLᵀ), diag G⁻¹, G⁻¹F, S⁻¹ (S = FᵀG⁻¹F), α = P y and a = Q y of
    [[G, F], [Fᵀ, 0]] [α; a] = [y; 0]; None when G or S is not positive definite. G⁻¹ itself
    is not formed: G⁻¹X = L⁻ᵀ(L⁻¹X), and diag G⁻¹ are the column sums of (L⁻¹)²."""
    try:
        lower = scipy.linalg.cholesky(g, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    if not np.all(np.isfinite(np.diag(lower))):
        return None
    linv, info = scipy.linalg.lapack.dtrtri(lower, lower=1)
    if info != 0:
        return None
    linv = np.tril(linv)
    ginv_diag = np.einsum("ij,ij->j", linv, linv)
    white = linv @ np.hstack([f, y])
    solved = linv.T @ white
    m = f.shape[1]
    gf, gy = solved[:, :m], solved[:, m:]
    s = white[:, :m].T @ white[:, :m]
    try:
        s_factor = scipy.linalg.cho_factor(s, lower=True, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    s_inv = scipy.linalg.cho_solve(s_factor, np.eye(len(s)), check_finite=False)
    a = s_inv @ (f.T @ gy)
    alpha = gy - gf @ a
    return linv, ginv_diag, gf, s_inv, alpha, a
