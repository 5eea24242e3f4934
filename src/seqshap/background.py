"""Background data: what an absent player's cells are replaced with.

Large backgrounds multiply the cost of every coalition by their number of rows, so they can
be summarised: ``kmeans`` keeps k weighted centres (weight = share of rows in the cluster),
``sample`` keeps k rows drawn without replacement.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from ._validation import check_array, check_int, check_random_state

#: above this many rows a background triggers a warning suggesting a summary
LARGE_BACKGROUND = 100


@dataclass(frozen=True)
class Background:
    """Weighted background rows ``data`` (m, ...) with ``weights`` (m,) summing to 1."""

    data: np.ndarray
    weights: np.ndarray

    def __len__(self) -> int:
        return len(self.data)


def kmeans(data, k: int, *, seed: int | None = 0) -> Background:
    """Summarise ``data`` (n, ...) by ``k`` k-means centres weighted by cluster size.

    Same purpose as ``shap.kmeans``; centres are computed on the flattened rows.
    """
    from scipy.cluster.vq import kmeans2

    x = check_array(data, name="data", min_rows=1)
    k = check_int(k, name="k", minimum=1)
    if k >= len(x):
        return Background(x.copy(), np.full(len(x), 1.0 / len(x)))
    flat = x.reshape(len(x), -1)
    rng = check_random_state(seed)
    centres, labels = kmeans2(flat, k, minit="++", seed=rng)
    counts = np.bincount(labels, minlength=k).astype(float)
    keep = counts > 0
    return Background(centres[keep].reshape((-1, *x.shape[1:])), counts[keep] / counts.sum())


def sample(data, k: int, *, seed: int | None = 0) -> Background:
    """``k`` rows of ``data`` drawn without replacement, equally weighted."""
    x = check_array(data, name="data", min_rows=1)
    k = check_int(k, name="k", minimum=1)
    rng = check_random_state(seed)
    idx = np.sort(rng.choice(len(x), size=min(k, len(x)), replace=False))
    return Background(x[idx].copy(), np.full(len(idx), 1.0 / len(idx)))


def as_background(
    data, *, name: str = "data", ndim=None, warn_above: int = LARGE_BACKGROUND
) -> Background:
    """Convert user background data (array, DataFrame, sparse, Background, shap DenseData)."""
    if isinstance(data, Background):
        return data
    weights = None
    if hasattr(data, "weights") and hasattr(data, "data") and not hasattr(data, "shape"):
        weights, data = np.asarray(data.weights, dtype=float), data.data  # shap.kmeans output
    x = check_array(data, name=name, ndim=ndim, min_rows=1, copy=True)
    if weights is None:
        weights = np.full(len(x), 1.0 / len(x))
        if len(x) > warn_above:
            warnings.warn(
                f"{name} has {len(x)} rows; every coalition costs one model row per background "
                f"row. Consider seqshap.kmeans({name}, 50) or seqshap.sample({name}, 100).",
                UserWarning,
                stacklevel=3,
            )
    else:
        weights = weights / weights.sum()
    return Background(x, weights)
