"""Calibrating standard errors that are estimated from few degrees of freedom.

A variance estimated from ν degrees of freedom makes (φ̂ − φ)/SE a t_ν variable, not a normal
one: with ν = 4, φ̂ ± 1.96·SE covers only ≈ 88% of the time. seqshap reports standard errors
scaled by t_{0.975,ν}/z_{0.975}, so that the interval every plot draws, φ̂ ± 1.96·SE, is a 95%
interval at any budget; the unscaled standard error and ν are kept in ``Estimate.extras``.
This corrects the sampling noise of an unbiased variance estimate; it does not (and must not)
hide a biased one: the estimators' variance estimates are unbiased on their own
(``tests/test_coverage.py``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import ndtri, stdtrit

Z_975 = float(ndtri(0.975))


def t_factor(dof: np.ndarray | float) -> np.ndarray:
    """t_{0.975,ν} / z_{0.975}: 1 at ν = ∞, 1.02 at ν = 50, 1.31 at ν = 5, 6.5 at ν = 1."""
    dof = np.asarray(dof, dtype=float)
    finite = np.isfinite(dof)
    factor = np.ones_like(dof)
    factor[finite] = stdtrit(np.maximum(dof[finite], 1.0), 0.975) / Z_975
    return factor
