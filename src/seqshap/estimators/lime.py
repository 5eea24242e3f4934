"""LIME on the game interface: a weighted ridge surrogate over binary coalitions.

As in ``lime`` (Ribeiro et al. 2016): the explained instance (all players present) plus
samples that drop a uniformly random number 1..M of uniformly chosen players; each sample is
weighted by an exponential kernel of its distance to the instance,

    d(z) = 100 · (1 − cos(z, 1)) = 100 · (1 − √(|z|/M)),   π(z) = √exp(−d² / width²),

(lime's text distance, width 25 by default), and a ridge regression (alpha 1, intercept) is fit
to the game's values (link space). With ``num_features`` only that many players are kept
("highest_weights", "forward_selection", or "auto" = forward selection up to 6 features, as
lime does); the others get 0. Unlike Shapley values, coefficients do not sum to f(x) − base:
``base`` is the intercept and ``full − (base + Σφ)`` is the surrogate's error at the instance.
"""

from __future__ import annotations

import numpy as np

from ..games.base import Game
from .base import Estimate


def lime_surrogate(
    game: Game,
    budget: int,
    rng: np.random.Generator,
    *,
    kernel_width: float = 25.0,
    alpha: float = 1.0,
    num_features: int | None = None,
    feature_selection: str = "auto",
) -> Estimate:
    m = game.n_players
    start = game.n_evaluations
    n = budget
    z = np.ones((n, m), dtype=bool)
    n_off = rng.integers(1, m + 1, size=n - 1)
    ranks = rng.random((n - 1, m)).argsort(axis=1).argsort(axis=1)
    z[1:] = ranks >= n_off[:, None]
    y = game(z)
    size = z.sum(1)
    dist = 100.0 * (1.0 - np.sqrt(size / m))
    w = np.sqrt(np.exp(-(dist**2) / kernel_width**2))
    k = y.shape[1]
    coef = np.zeros((m, k))
    se = np.zeros((m, k))
    intercept = np.zeros(k)
    score = np.zeros(k)
    for o in range(k):
        used = _select(z, y[:, o], w, alpha, num_features, feature_selection, m)
        b, c, s, r2 = _ridge(z[:, used].astype(float), y[:, o], w, alpha)
        coef[used, o], se[used, o], intercept[o], score[o] = b, s, c, r2
    full = y[0]
    return Estimate(
        values=coef,
        std_errors=se,
        base=intercept,
        full=full,
        n_evaluations=game.n_evaluations - start,
        method="lime",
        extras={
            "score": score,
            "local_pred": intercept + coef.sum(axis=0),
            "kernel_width": kernel_width,
        },
    )


def _ridge(x: np.ndarray, y: np.ndarray, w: np.ndarray, alpha: float):
    """Weighted ridge with an unpenalised intercept; coefficient SEs from the sandwich form."""
    sw = w / w.sum()
    xm = sw @ x
    ym = sw @ y
    xc, yc = x - xm, y - ym
    h = (xc * w[:, None]).T @ xc + alpha * np.eye(x.shape[1])
    h_inv = np.linalg.inv(h)
    beta = h_inv @ ((xc * w[:, None]).T @ yc)
    intercept = ym - xm @ beta
    resid = yc - xc @ beta
    ss_res = float(w @ resid**2)
    ss_tot = float(w @ yc**2)
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 0 else 1.0
    meat = (xc * (w * resid)[:, None]).T @ (xc * (w * resid)[:, None])
    cov = h_inv @ meat @ h_inv
    return beta, intercept, np.sqrt(np.clip(np.diag(cov), 0, None)), r2


def _select(z, y, w, alpha, num_features, method, m) -> np.ndarray:
    if num_features is None or num_features >= m:
        return np.arange(m)
    if method not in ("auto", "highest_weights", "forward_selection", "none"):
        raise ValueError(
            "feature_selection must be 'auto', 'highest_weights', 'forward_selection' or 'none'; "
            f"received {method!r}."
        )
    if method == "none":
        return np.arange(m)
    if method == "auto":
        method = "forward_selection" if num_features <= 6 else "highest_weights"
    x = z.astype(float)
    if method == "highest_weights":
        beta = _ridge(x, y, w, alpha)[0]
        return np.sort(np.argsort(-np.abs(beta), kind="stable")[:num_features])
    chosen: list[int] = []
    for _ in range(num_features):
        best, best_score = -1, -np.inf
        for j in range(m):
            if j in chosen:
                continue
            s = _ridge(x[:, chosen + [j]], y, w, 0.01)[3]
            if s > best_score:
                best, best_score = j, s
        chosen.append(best)
    return np.sort(np.array(chosen))
