"""The third-order kernel fit and its jackknife, on pair differences, at about one fit's cost.

Why third order: with complementary pairs a game's even-order interactions cancel from the
fit (paired KernelSHAP is exact on any game with interactions of order ≤ 2), so what is left of
its error comes from odd interactions of order ≥ 3. In the Walsh basis χ_S(z) = Π_{j∈S}
(1 − 2 z_j), order 3 holds most of that energy in the games we measured (order 3 vs orders
5 + 7 + …: 1.9e-3 vs 0.5e-3 on the README's LSTM game, 3.3e-3 vs 6e-5 on a GRU). The regression
gets one column t_S(z) = χ_S(z) − 1 per chosen triple S (zero at ∅, −2 at N) beside z:

    min_{a, c}  Σ_z w(z) (u(z) − zᵀa − t(z)ᵀc)² + λ ‖c‖²   subject to  1ᵀa − 2·1ᵀc = Δ,

and the values are the Shapley values of the fitted game: φ_i = a_i − (2/3) Σ_{S∋i} c_S.
The linear part is not penalised, so with every coalition φ is exactly Shapley's for any λ
and any set of triples (Shapley values are the kernel-weighted linear projection).

Why it is cheap. Every coalition comes with its complement at the same weight (sampled pairs,
and enumerated sizes h and M − h). With β = (a, c), g = (1, −2·1) and x = 1 − 2z,

    f(z) + f(¬z) = gᵀβ = Δ  (fixed by the constraint),   f(z) − f(¬z) = d(z)ᵀβ,  d = (−x, 2χ),

so the fit is a weighted ridge regression of the pair differences u(z) − u(¬z) on d(z): half
the rows, and features built from ±1 products. The normal equations
A = Σ_p (w_p/2) d_p d_pᵀ + μ ggᵀ + diag(0, λ) (μ ggᵀ leaves the constrained solution unchanged
and makes A the full-row normal matrix) are factored once (Cholesky). The stratified
delete-one-pair jackknife then needs no refit: deleting pair p of stratum h (its n_h − 1 peers
reweighted by n_h/(n_h − 1)) changes A by the stratum's rows only,
A_(−p) = A + U_h D_p U_hᵀ, and by Woodbury

    A_(−p)⁻¹ (b_(−p)) = A⁻¹b + E_h H_p⁻¹ (r_h),   A_(−p)⁻¹ g = A⁻¹g − E_h H_p⁻¹ (U_hᵀ A⁻¹ g),

with E_h = A⁻¹U_h, r_h the stratum's residuals and H_p = D_p⁻¹ + U_hᵀ E_h, an n_h × n_h matrix
that differs from one shared H_h in one diagonal entry (Sherman–Morrison). The whole jackknife
costs one solve with the sampled rows as right-hand sides (2 N p² flops), the strata's Gram
matrices (Σ n_h² p) and O(M n_h) per pair: about one fit, not N refits.

Which triples. All of them while the number of terms is small relative to the sampled pairs
(:func:`choose_triples`); else those among a pool of *leading players*, ranked by their
border effects ½(v({i}) − v(∅) + v(N) − v(N∖{i})): the enumerated sizes 1 and M − 1 are no
sample (they are the same in every run), so choosing on them needs no redoing inside the
jackknife and the standard errors stay honest. Without those borders, triples of players
within a window of consecutive players (neighbouring events interact).

Which ridge. λ = f · Σ w (f = ``CubicBasis.ridge`` = 1 by default) is chosen per fit among
f ∈ :data:`RIDGE_GRID` = (0.3, 1, 3) by the kernel-weighted leave-one-pair-out error of the
pair differences, exact from the same Cholesky factor (leverages h_p = (w_p/2) d_pᵀ P d_p,
LOO residuals e_p / (1 − h_p); tested equal to brute-force refits). No fixed ridge suits every
game (×0.3 helped the GRU and tabular games, ×3 the MLP); the choice costs about 1.5–1.8× the
compute of one fixed-ridge fit and lowered the error by up to 21% on ``gru-events`` and 17% on
``gbm-tabular`` (``bench/bench_estimator_variants.py``, "fixed ridge"), with the other two games
unchanged. The jackknife holds the chosen ridge fixed: the standard errors do not include the
choice's own variability. Measured coverage: 0.94–0.96 on the AReM GRU, 0.925–0.994 per budget
on the bench games from 200 evaluations, 0.97 on average on ``gru-events`` and ``gbm-tabular``
(conservative rather than short; README, "Estimators" and "Error bars").
"""

from __future__ import annotations

from math import comb

import numpy as np
import scipy.linalg


class CubicBasis:
    """Pair-difference features (−x, 2χ_S) for a set of triples, the constraint and read-out."""

    def __init__(self, m: int, triples: np.ndarray, *, ridge: float = 1.0):
        self.m = m
        self.ridge = float(ridge)
        self.triples = np.asarray(triples, dtype=np.int64).reshape(-1, 3)
        q = len(self.triples)
        self.n_terms = m + q
        self.constraint = np.concatenate([np.ones(m), np.full(q, -2.0)])
        self.readout = np.zeros((m, m + q))
        self.readout[:, :m] = np.eye(m)
        cols = np.arange(m, m + q)
        for j in range(3):  # φ_i = a_i − (2/3) Σ_{S∋i} c_S
            np.add.at(self.readout, (self.triples[:, j], cols), -2.0 / 3.0)

    def differences(self, z: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
        """d(z) = (−x, 2 χ_S(x)) with x = 1 − 2z: the features of f(z) − f(¬z); each row
        times ``scale`` when given. The ±1 products are taken in int8 (exact), one row per
        player, then scaled once into float64."""
        z = np.asarray(z, dtype=bool)
        scale = np.ones(len(z)) if scale is None else np.asarray(scale, dtype=float)
        xt = np.ascontiguousarray(1 - 2 * z.T.astype(np.int8))  # (M, n) of ±1
        t = self.triples
        chi = xt[t[:, 0]] * xt[t[:, 1]]
        chi *= xt[t[:, 2]]
        out = np.empty((len(z), self.n_terms))
        np.multiply(xt.T, -scale[:, None], out=out[:, : self.m])
        np.multiply(chi.T, 2.0 * scale[:, None], out=out[:, self.m :])
        return out

    def rows(self, z: np.ndarray) -> np.ndarray:
        """Full-row features (z, χ_S − 1) of the plain formulation (for tests and references)."""
        x = 1.0 - 2.0 * np.asarray(z, dtype=float)
        t = self.triples
        return np.concatenate(
            [np.asarray(z, dtype=float), x[:, t[:, 0]] * x[:, t[:, 1]] * x[:, t[:, 2]] - 1], axis=1
        )


# ---------------------------------------------------------------------------------- triples
def all_triples(players: np.ndarray) -> np.ndarray:
    """Every triple i < j < k of ``players`` (sorted), as an (n, 3) array, without Python loops
    over triples."""
    players = np.sort(np.asarray(players, dtype=np.int64))
    k = len(players)
    if k < 3:
        return np.zeros((0, 3), dtype=np.int64)
    i, j, kk = np.meshgrid(np.arange(k), np.arange(k), np.arange(k), indexing="ij")
    keep = (i < j) & (j < kk)
    return np.stack([players[i[keep]], players[j[keep]], players[kk[keep]]], axis=1)


def window_triples(m: int, window: int) -> np.ndarray:
    """Triples i < j < k of 0..m−1 with k − i < window (consecutive players)."""
    if window < 3:
        return np.zeros((0, 3), dtype=np.int64)
    j, k = np.triu_indices(min(window, m), 1)
    base = np.stack([np.zeros_like(j[j >= 1]), j[j >= 1], k[j >= 1]], axis=1)  # (0, j, k)
    out = (np.arange(m)[:, None, None] + base[None]).reshape(-1, 3)
    return out[out[:, 2] < m]


def n_window_triples(m: int, window: int) -> int:
    """Number of triples i < j < k of 0..m−1 with k − i < window."""
    c = np.minimum(window - 1, m - 1 - np.arange(m, dtype=np.int64))
    return int((c * (c - 1) // 2).sum())


def widest_window(m: int, cap: int) -> int:
    """The widest window (3..m) whose triples number at most ``cap`` (2 when none fits)."""
    lo, hi = 2, m  # n_window_triples grows with the window: binary search
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if n_window_triples(m, mid) <= cap:
            lo = mid
        else:
            hi = mid - 1
    return lo


def choose_triples(
    m: int,
    n_pairs: int,
    border_effects: np.ndarray | None,
    *,
    terms_per_pair: float = 1.0,
    local_share: float = 0.5,
    max_flops: float = 1e8,
) -> np.ndarray:
    """The triples of the fit: at most ``terms_per_pair`` × pairs of them, and few enough that
    forming the normal equations (pairs × terms² flops, as much again for the jackknife) stays
    within ``max_flops``. Measured (``bench_estimators.py``): 1e8 keeps an estimate within
    about 4× the linear fit's compute at 20 players and 1,600 evaluations (2.5e8: 9×); more
    terms helped accuracy a little on one game of four (the MLP: 0.0385 vs 0.041 at 1,600).

    All triples when they fit. Else ``local_share`` of the cap goes to triples within the widest
    window of consecutive players that fits (players are usually time steps, and neighbouring
    events interact), the rest to triples among the K leading players (largest
    ``border_effects``, an (M,) array from the enumerated borders; heredity: players with large
    effects carry the large interactions), the largest K whose new triples fit.
    """
    n_pairs = max(n_pairs, 1)
    cap = int(min(terms_per_pair * n_pairs, np.sqrt(max_flops / n_pairs) - m))
    if cap < 1:
        return np.zeros((0, 3), dtype=np.int64)
    if comb(m, 3) <= cap:
        return all_triples(np.arange(m))
    local_cap = cap if border_effects is None else int(local_share * cap)
    chosen = window_triples(m, widest_window(m, local_cap))
    if border_effects is None:
        return chosen
    order = np.argsort(-np.asarray(border_effects), kind="stable")
    best = chosen
    for k in range(3, m + 1):
        lead = all_triples(order[:k])
        fresh = lead[~np.isin(_keys(lead, m), _keys(chosen, m))]
        if len(chosen) + len(fresh) > cap:
            break
        best = np.concatenate([chosen, fresh])
    return best


def _keys(triples: np.ndarray, m: int) -> np.ndarray:
    return (triples[:, 0] * m + triples[:, 1]) * m + triples[:, 2]


def border_effects(z_en: np.ndarray, y_en: np.ndarray, delta: np.ndarray) -> np.ndarray | None:
    """‖½(v({i}) − v(∅) + v(N) − v(N∖{i}))‖ over outputs, when sizes 1 and M − 1 are enumerated."""
    m = z_en.shape[1]
    sizes = z_en.sum(1)
    single, all_but = np.flatnonzero(sizes == 1), np.flatnonzero(sizes == m - 1)
    if m < 3 or len(single) != m or len(all_but) != m:
        return None
    up = np.empty((m, y_en.shape[1]))
    down = np.empty_like(up)
    up[np.argmax(z_en[single], axis=1)] = y_en[single]
    down[np.argmin(z_en[all_but], axis=1)] = y_en[all_but]
    return np.linalg.norm(0.5 * (up + delta[None, :] - down), axis=1)


# ---------------------------------------------------------------------------------- fitting
def pair_up(z: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Rows that hold every coalition with its complement → (one member z, y(z) − y(¬z))."""
    if len(z) == 0:
        return z[:0], y[:0]
    canon = np.where(z[:, :1], z, ~z)
    keys = np.packbits(canon, axis=1)
    keys = np.ascontiguousarray(keys).view(np.dtype((np.void, keys.shape[1]))).ravel()
    order = np.argsort(keys, kind="stable")
    first, second = order[0::2], order[1::2]
    if len(first) != len(second) or np.any(keys[first] != keys[second]):
        raise ValueError("rows must come in complementary pairs")
    return z[first], y[first] - y[second]


def fit_cubic(basis, z_en, dy_en, w_en, z_s, dy_s, omega, delta, *, jackknife=True):
    """(φ, jackknife variance, Satterthwaite ν) of the third-order fit (module docstring).

    ``z_en``/``dy_en``/``w_en``: enumerated pairs (one member, difference, per-row weight);
    ``z_s``/``dy_s``: sampled pairs; their stratum h = min(|z|, M−|z|) has per-row weight
    ω_h / n_h (``omega``, ω_{M/2} already halved). Returns None when A is not positive definite.
    ``variance`` and ``dof`` are None without ``jackknife``.
    """
    m, k = basis.m, len(delta)
    a, b, g, d_s, w_s, h, counts = _normal_equations(basis, z_en, dy_en, w_en, z_s, dy_s, omega)
    grid = RIDGE_GRID if RIDGE_GRID is not None and jackknife and len(z_s) > 0 else (1.0,)
    fits = [_factor(_with_ridge(a, basis, w_en, w_s, f), b, g, d_s, delta, f) for f in grid]
    fits = [fit for fit in fits if fit is not None]
    if not fits:
        return None
    if len(fits) > 1:
        chosen = min(fits, key=lambda fit: _loo_score(fit, d_s, dy_s, w_s))
    else:
        chosen = fits[0]
    upper, x, ridge = chosen["upper"], chosen["x"], chosen["factor"]
    r_x = basis.readout @ x  # (M, k+1)
    g_x = g @ x  # (k+1,)
    phi = _readout(r_x, g_x, delta, k)
    if not jackknife:
        return phi, None, None, ridge
    # whitened rows C = U⁻ᵀ Uₛᵀ: A⁻¹ = U⁻¹U⁻ᵀ, so Uₛᵀ A⁻¹ Uₛ = CᵀC, R A⁻¹ Uₛ = (U⁻ᵀRᵀ)ᵀ C
    solve = scipy.linalg.solve_triangular
    c = _whitened(chosen, d_s)  # (p, N)
    white = solve(
        upper, np.column_stack([basis.readout.T, g]), trans="T", lower=False, check_finite=False
    )
    r_e, g_e = white[:, :m].T @ c, white[:, m] @ c
    # right-hand sides of the replicates: residuals (for A⁻¹b) and −Uᵀ A⁻¹ g (for A⁻¹ g)
    rhs = np.column_stack([dy_s - d_s @ x[:, :k], -(d_s @ x[:, k])])
    var = np.zeros((m, k))
    var_sq_over_dof = np.zeros((m, k))
    b_white = None
    for stratum in np.flatnonzero(counts):
        sel = np.flatnonzero(h == stratum)
        n_h, om = len(sel), omega[stratum]
        if n_h > basis.n_terms:
            # more pairs than terms: the same replicates from p × p matrices
            if b_white is None:
                b_white = solve(upper, b, trans="T", lower=False, check_finite=False)
            reps_r, reps_g = _replicates_by_terms(c[:, sel], dy_s[sel], om, b_white, white, m, k)
        else:
            reps_r, reps_g = _replicates_by_pairs(
                c[:, sel], rhs[sel], om, r_e[:, sel], g_e[sel], r_x, g_x
            )
        reps = _readout(reps_r, reps_g, delta, k)  # (n, M, k)
        v_h = stratum_variance(reps, phi, max(0.0, 1.0 - n_h / omega_population(stratum, m)))
        var += v_h
        var_sq_over_dof += v_h**2 / max(n_h - 1, 1)
    return phi, var, satterthwaite(var, var_sq_over_dof), ridge


def stratum_variance(reps: np.ndarray, phi: np.ndarray, fpc: float) -> np.ndarray:
    """One stratum's jackknife variance from its delete-one replicates (n_h, M, k):
    fpc (n_h − 1)/n_h Σ_p (φ_(−p) − φ̄_h)², and fpc (φ_(−p) − φ)² for a stratum of one pair."""
    if len(reps) > 1:
        return fpc * (len(reps) - 1) / len(reps) * ((reps - reps.mean(0)) ** 2).sum(0)
    return fpc * (reps[0] - phi) ** 2


def satterthwaite(var: np.ndarray, var_sq_over_dof: np.ndarray) -> np.ndarray:
    """Welch–Satterthwaite degrees of freedom of a sum of stratum variances."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var_sq_over_dof > 0, var**2 / var_sq_over_dof, np.inf)


#: multiples of :attr:`CubicBasis.ridge` among which each fit chooses its ridge by the
#: leave-one-pair-out error of the pair differences (:func:`_loo_score`); None: the basis's own
RIDGE_GRID: tuple[float, ...] | None = (0.3, 1.0, 3.0)


def _normal_equations(basis, z_en, dy_en, w_en, z_s, dy_s, omega):
    """A (upper triangle, before the ridge), b, g, sampled differences d_s, their weights, strata."""
    m = basis.m
    sizes = z_s.sum(1)
    h = np.minimum(sizes, m - sizes).astype(int)
    counts = np.bincount(h, minlength=m + 1)
    w_s = omega[h] / np.maximum(counts[h], 1)
    # rows √(w/2)·d: the normal matrix is their Gram matrix; d_s = rows_s / √(w_s/2)
    rows = basis.differences(np.concatenate([z_en, z_s]), np.sqrt(np.r_[w_en, w_s] / 2))
    d_s = rows[len(z_en) :] / np.sqrt(w_s / 2)[:, None]
    g = basis.constraint
    total = w_en.sum() + w_s.sum()  # Σ over pairs of the row weight = Σ_rows w z_i² for any i
    a = scipy.linalg.blas.dsyrk(1.0, rows, trans=1)  # upper triangle of rowsᵀ rows
    # + μ ggᵀ with g = (1, −2): block-constant, written into the upper triangle that is read
    mu = total / 2
    a[:m, :m] += mu
    a[:m, m:] -= 2 * mu
    a[m:, m:] += 4 * mu
    b = rows.T @ (np.concatenate([dy_en, dy_s]) * np.sqrt(np.r_[w_en, w_s] / 2)[:, None])
    return a, b, g, d_s, w_s, h, counts


def _with_ridge(a, basis, w_en, w_s, factor):
    """A + diag(0, λ) with λ = factor × ridge × Σ weights (a copy)."""
    out = a.copy()
    idx = np.arange(basis.m, basis.n_terms)
    out[idx, idx] += factor * basis.ridge * max(w_en.sum() + w_s.sum(), 1e-300)
    return out


def loo_score(basis, z_en, dy_en, w_en, z_s, dy_s, omega, delta) -> float:
    """The leave-one-pair-out score (:func:`_loo_score`) of the fit with ``basis``."""
    a, b, g, d_s, w_s, _, _ = _normal_equations(basis, z_en, dy_en, w_en, z_s, dy_s, omega)
    fit = _factor(_with_ridge(a, basis, w_en, w_s, 1.0), b, g, d_s, delta, 1.0)
    return np.inf if fit is None else _loo_score(fit, d_s, dy_s, w_s)


def _factor(a, b, g, d_s, delta, factor) -> dict | None:
    """Cholesky factor of A (upper), x = A⁻¹[b, g], the constrained β; None when A is not
    positive definite (or only at rounding level: two players never separated leave the
    unpenalised linear block singular, and the factor then gives finite garbage)."""
    try:  # A = UᵀU (upper triangle only)
        upper, _ = scipy.linalg.cho_factor(a, lower=False, check_finite=False)
    except np.linalg.LinAlgError:
        return None
    pivots = np.diag(upper) ** 2
    if not np.all(np.isfinite(pivots)) or pivots.min() <= 1e-10 * np.diag(a).max():
        return None
    x = scipy.linalg.cho_solve((upper, False), np.column_stack([b, g]), check_finite=False)
    k = len(delta)
    beta = x[:, :k] - x[:, k:] * ((g @ x[:, :k] - delta) / (g @ x[:, k]))[None, :]
    return {"upper": upper, "x": x, "beta": beta, "g": g, "factor": factor}


def _whitened(fit: dict, d_s: np.ndarray) -> np.ndarray:
    """C = U⁻ᵀ d_sᵀ (p, N), computed once per factor."""
    if "c" not in fit:
        fit["c"] = scipy.linalg.solve_triangular(
            fit["upper"], d_s.T, trans="T", lower=False, check_finite=False
        )
    return fit["c"]


def _loo_score(fit: dict, d_s, dy_s, w_s) -> float:
    """Kernel-weighted leave-one-pair-out prediction error of the pair differences:
    Σ_p w_p ‖e_p / (1 − h_p)‖², h_p = (w_p/2) d_pᵀ P d_p the pair's leverage under the
    constrained fit (P = A⁻¹ − A⁻¹ggᵀA⁻¹ / gᵀA⁻¹g). The refit without pair p keeps the other
    weights and the ridge: plain leave-one-out, equal to brute-force refits (tested)."""
    c = _whitened(fit, d_s)
    g_w = scipy.linalg.solve_triangular(
        fit["upper"], fit["g"], trans="T", lower=False, check_finite=False
    )
    lev = (w_s / 2) * ((c * c).sum(0) - (g_w @ c) ** 2 / (g_w @ g_w))
    e = (dy_s - d_s @ fit["beta"]) / np.maximum(1.0 - lev, 1e-6)[:, None]
    return float((w_s[:, None] * e**2).sum())


def _replicates_by_pairs(c_h, rhs_h, om, r_e_h, g_e_h, r_x, g_x):
    """R x and gᵀx of every replicate of one stratum from n_h × n_h matrices (n_h ≤ p).

    x_(−p) = A⁻¹[b, g] + E_h H_p⁻¹ [r_h, −U_hᵀA⁻¹g] with H_p = D_p⁻¹ + U_hᵀA⁻¹U_h: D has
    +½(ω/(n−1) − ω/n) for the peers and −½ω/n for the deleted pair, so H_p = H + δ e_p e_pᵀ.
    """
    n_h = c_h.shape[1]
    gram = c_h.T @ c_h  # U_hᵀ A⁻¹ U_h
    if n_h > 1:
        hmat = gram + (2.0 * n_h * (n_h - 1) / om) * np.eye(n_h)
        delta_p = -2.0 * n_h * n_h / om
    else:
        hmat = gram - (2.0 / om) * np.eye(1)
        delta_p = 0.0
    kinv = np.linalg.inv(hmat)
    y = kinv @ rhs_h  # (n, k+1)
    rep_r = r_x + r_e_h @ y  # (M, k+1), before the per-pair correction
    rep_g = g_x + g_e_h @ y
    if n_h == 1:
        return rep_r[None], rep_g[None]
    corr = (delta_p / (1.0 + delta_p * np.diag(kinv)))[:, None] * y  # (n, k+1)
    reps_r = rep_r[None] - (r_e_h @ kinv).T[:, :, None] * corr[:, None, :]
    reps_g = rep_g[None] - (g_e_h @ kinv)[:, None] * corr
    return reps_r, reps_g


def _replicates_by_terms(c_h, dy_h, om, b_white, white, m, k):
    """The same replicates from p × p matrices, for a stratum with more pairs than terms.

    In whitened terms (A = UᵀU, C_h = U⁻ᵀU_hᵀ, b̃ = U⁻ᵀb, g̃ = U⁻ᵀg), the stratum reweighted
    is B = I + (β/2) C_h C_hᵀ with β = ω/(n−1) − ω/n, and deleting pair p removes α ũ_pũ_pᵀ,
    α = ω/(2(n−1)): by Sherman–Morrison, with K = B⁻¹ and v_p = K ũ_p,

        x̃_p = K y + v_p · α (ũ_pᵀ K y − [dy_p, 0]) / (1 − α ũ_pᵀ v_p),
        y = [b̃ + (β/2) C_h dy_h, g̃],

    and R x_p = (U⁻ᵀRᵀ)ᵀ x̃_p, gᵀx_p = g̃ᵀ x̃_p.
    """
    n_h = c_h.shape[1]
    bump = om / (n_h - 1) - om / n_h
    alpha = om / (2.0 * (n_h - 1))
    bmat = c_h @ c_h.T * (bump / 2)
    bmat[np.diag_indices_from(bmat)] += 1.0
    factor = scipy.linalg.cho_factor(bmat, lower=False, check_finite=False)
    g_w = white[:, m]
    y = np.column_stack([b_white + (bump / 2) * (c_h @ dy_h), g_w])  # (p, k+1)
    ky = scipy.linalg.cho_solve(factor, y, check_finite=False)
    v = scipy.linalg.cho_solve(factor, c_h, check_finite=False)  # (p, n)
    s = np.einsum("ij,ij->j", c_h, v)
    t = c_h.T @ ky  # (n, k+1)
    t[:, :k] -= dy_h
    coef = alpha * t / (1.0 - alpha * s)[:, None]  # (n, k+1)
    r_w = white[:, :m]
    rep_r, rep_g = r_w.T @ ky, g_w @ ky
    reps_r = rep_r[None] + (r_w.T @ v).T[:, :, None] * coef[:, None, :]
    reps_g = rep_g[None] + (g_w @ v)[:, None] * coef
    return reps_r, reps_g


def omega_population(h: int, m: int) -> float:
    """Number of complementary pairs {z, ¬z} with min(|z|, M − |z|) = h."""
    return float(comb(m, int(h)) // (2 if 2 * h == m else 1))


def _readout(r_x: np.ndarray, g_x: np.ndarray, delta: np.ndarray, k: int) -> np.ndarray:
    """φ = R β with β = x_b − x_g (gᵀx_b − Δ)/(gᵀx_g), from R x and gᵀx (last column: x_g)."""
    scale = (g_x[..., :k] - delta) / g_x[..., k:]  # (..., k)
    return r_x[..., :k] - r_x[..., k:] * scale[..., None, :]
