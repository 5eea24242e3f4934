"""What every estimator returns, and small shared helpers."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.special import gammaln


@dataclass
class Estimate:
    """Values of one game: ``values`` and ``std_errors`` (M, k), ``base`` = v(∅), ``full`` = v(N)."""

    values: np.ndarray
    std_errors: np.ndarray
    base: np.ndarray
    full: np.ndarray
    n_evaluations: int
    method: str
    exact: bool = False
    extras: dict[str, Any] = field(default_factory=dict)


def shapley_size_weights(m: int) -> tuple[np.ndarray, np.ndarray]:
    """Weights of v(S) in φ_i = Σ_{S∋i} w_in[|S|] v(S) − Σ_{S∌i} w_out[|S|] v(S).

    w_in[s]  = (s−1)!(M−s)!/M!  (s = 1..M),   w_out[s] = s!(M−s−1)!/M!  (s = 0..M−1),
    computed in log space so that large M does not overflow.
    """
    s = np.arange(m + 1, dtype=float)
    w_in = np.zeros(m + 1)
    w_out = np.zeros(m + 1)
    w_in[1:] = np.exp(gammaln(s[1:]) + gammaln(m - s[1:] + 1) - gammaln(m + 1))
    w_out[:-1] = np.exp(gammaln(s[:-1] + 1) + gammaln(m - s[:-1]) - gammaln(m + 1))
    return w_in, w_out


def log_binom(n: int, k: np.ndarray | int) -> np.ndarray:
    k = np.asarray(k, dtype=float)
    return gammaln(n + 1) - gammaln(k + 1) - gammaln(n - k + 1)


def bits_to_coalitions(ints: np.ndarray, m: int) -> np.ndarray:
    """Integers → boolean coalition rows (bit j of the integer = player j)."""
    return ((ints[:, None] >> np.arange(m, dtype=np.int64)) & 1).astype(bool)
