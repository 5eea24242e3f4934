"""scikit-learn, sktime and aeon adapter: classifiers and regressors → :class:`Model`.

Scores are ``predict_proba`` for classifiers (one column per class, named after
``classes_``) and ``predict`` for regressors. The layout is converted at the boundary:

- sktime / aeon estimators take panels ``(n, d, T)`` (their "numpy3D"): seqshap's
  ``(n, T, d)`` is transposed before the call;
- other (tabular) estimators take ``(n, T * d)``: sequences are flattened time-major
  (columns ``t0·f0, t0·f1, …``), as if the model was fitted on ``x.reshape(n, -1)``;
  2-D inputs ``(n, d)`` pass through.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._common import type_module
from .base import Model

_LAYOUTS = ("auto", "panel", "flat")
_METHODS = ("auto", "predict_proba", "decision_function", "predict")


class SklearnModel(Model):
    """A fitted estimator with ``predict_proba`` / ``predict``.

    Parameters
    ----------
    estimator : fitted scikit-learn, sktime or aeon classifier or regressor (or Pipeline).
    method : "auto" (``predict_proba`` if the estimator has it, else ``predict``) or a name.
    layout : "auto" (panel for sktime/aeon, flat otherwise), "panel" or "flat".
    batch_size : rows per call (None: all at once).
    """

    def __init__(
        self,
        estimator: Any,
        *,
        method: str = "auto",
        layout: str = "auto",
        batch_size: int | None = None,
    ):
        if method not in _METHODS:
            raise ValueError(f"method must be one of {list(_METHODS)}; received {method!r}.")
        if layout not in _LAYOUTS:
            raise ValueError(f"layout must be one of {list(_LAYOUTS)}; received {layout!r}.")
        if method == "auto":
            method = "predict_proba" if hasattr(estimator, "predict_proba") else "predict"
        if not hasattr(estimator, method):
            raise TypeError(
                f"estimator {type(estimator).__name__} has no {method}(); pass a fitted "
                "classifier or regressor, or choose method=."
            )
        if layout == "auto":
            layout = "panel" if type_module(estimator) in ("sktime", "aeon") else "flat"
        self.estimator = estimator
        self.method = method
        self.layout = layout
        self.batch_size = batch_size
        classes = getattr(estimator, "classes_", None)
        if method == "predict_proba" and classes is not None:
            self.output_names = [str(c) for c in classes]

    def to_estimator_input(self, x: np.ndarray) -> np.ndarray:
        """seqshap's ``(n, T, d)`` → what the estimator was fitted on."""
        if x.ndim == 3 and self.layout == "panel":
            return np.ascontiguousarray(np.transpose(x, (0, 2, 1)))
        if x.ndim > 2 and self.layout == "flat":
            flat = x.reshape(len(x), -1)
            expected = getattr(self.estimator, "n_features_in_", None)
            if expected is not None and expected != flat.shape[1]:
                raise ValueError(
                    f"the estimator was fitted on {expected} columns but a sequence of shape "
                    f"{x.shape[1:]} flattens to {flat.shape[1]}; fit it on x.reshape(n, -1) "
                    "of the same sequence length, or use an sktime/aeon panel estimator."
                )
            return flat
        return x

    def predict(self, x: np.ndarray) -> np.ndarray:
        out = getattr(self.estimator, self.method)(self.to_estimator_input(x))
        return np.asarray(out, dtype=float)

    def __repr__(self) -> str:
        return f"SklearnModel({type(self.estimator).__name__}, method={self.method!r}, layout={self.layout!r})"


def looks_like_estimator(obj: Any) -> bool:
    """Duck test: a fitted-estimator-like object with ``predict`` and ``get_params``/``fit``."""
    return (hasattr(obj, "predict") or hasattr(obj, "predict_proba")) and (
        hasattr(obj, "get_params") or hasattr(obj, "fit")
    )
