"""``RecurrentTabularExplainer`` with lime's interface, on seqshap's masking game.

Instances are sequences ``(T, d)``; the features are the ``T · d`` cells, ordered and named as
lime does (feature-major, oldest step first: ``{name}_t-{T−1}``, …, ``{name}_t-0``), and
``classifier_fn`` receives ``(n, T, d)`` arrays.

Where results differ from lime's (on purpose):

* no discretizer and no sampling from the training distribution: a perturbed sample keeps
  some cells of the instance and replaces the others with the background (by default the
  training mean of that cell; for ``categorical_features`` the most frequent value), exactly as
  seqshap's Shapley explainers mask cells. A weight is the effect of a cell's observed value
  versus the background, not of a quartile bin; ``as_list`` names are plain cell names
  (``"x_t-0"``) rather than conditions (``"x_t-0 <= 0.35"``). ``discretize_continuous``,
  ``discretizer`` and ``training_labels`` are accepted for compatibility and have no effect;
* the similarity kernel is lime's text kernel on the binary representation:
  ``sqrt(exp(−d²/w²))`` with ``d`` = 100 × cosine distance to the instance and ``w`` =
  ``kernel_width`` (default 25), so "euclidean" on scaled data is replaced;
* random numbers from numpy's ``Generator``: same seed, different draws than lime.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_array, check_budget, check_int, check_model_output
from ..estimators.lime import lime_surrogate
from ..games.masked import MaskedGame
from .explanation import LimeExplanation, fill_from_estimate
from .text import as_generator, check_lime_options


class RecurrentTabularExplainer:
    """lime's explainer for recurrent models over ``(n, T, d)`` data (see the module docstring)."""

    def __init__(
        self,
        training_data: Any,
        mode: str = "classification",
        training_labels: Any = None,
        feature_names: list[str] | None = None,
        categorical_features: list[int] | None = None,
        categorical_names: dict[int, list[str]] | None = None,
        kernel_width: float | None = None,
        kernel: Any = None,
        verbose: bool = False,
        class_names: list[str] | None = None,
        feature_selection: str = "auto",
        discretize_continuous: bool = True,
        discretizer: Any = "quartile",
        random_state: Any = None,
        *,
        background: Any = None,
        batch_size: int | None = None,
    ):
        if mode not in ("classification", "regression"):
            raise ValueError(f"mode must be 'classification' or 'regression'; received {mode!r}.")
        check_lime_options(kernel, feature_selection, "euclidean", "euclidean", None)
        data = check_array(training_data, name="training_data", ndim=3, min_rows=1)
        n, t, d = data.shape
        self.mode = mode
        self.n_timesteps, self.n_features = t, d
        if feature_names is None:
            feature_names = [str(j) for j in range(d)]
        feature_names = [str(f) for f in feature_names]
        if len(feature_names) != d:
            raise ValueError(
                f"feature_names must have {d} entries (one per feature of training_data "
                f"(n, T, d) = {data.shape}); received {len(feature_names)}."
            )
        self.base_feature_names = feature_names
        self.feature_names = [f"{name}_t-{t - (i + 1)}" for name in feature_names for i in range(t)]
        self.categorical_features = (
            [] if categorical_features is None else [int(j) for j in categorical_features]
        )
        for j in self.categorical_features:
            if not 0 <= j < d:
                raise ValueError(f"categorical_features names feature {j}, outside 0..{d - 1}.")
        self.categorical_names = categorical_names
        if background is None:
            bg = data.mean(axis=0, keepdims=True)
            for j in self.categorical_features:
                for step in range(t):
                    values, counts = np.unique(data[:, step, j], return_counts=True)
                    bg[0, step, j] = values[np.argmax(counts)]
        else:
            bg = check_array(background, name="background", ndim=(2, 3), min_rows=1, copy=True)
            bg = bg[None] if bg.ndim == 2 else bg
            if bg.shape[1:] != (t, d):
                raise ValueError(
                    f"background must be (m, {t}, {d}) like training_data; received {bg.shape}."
                )
        self.background = bg
        self.kernel_width = 25.0 if kernel_width is None else float(kernel_width)
        self.verbose = verbose
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.feature_selection = feature_selection
        self.discretize_continuous = discretize_continuous
        self.discretizer = discretizer
        self.random_state = as_generator(random_state)
        self.batch_size = (
            None if batch_size is None else check_int(batch_size, name="batch_size", minimum=1)
        )
        # player f = j * T + s covers cell (s, j): lime's feature-major order
        masks = np.zeros((t * d, t, d), dtype=bool)
        for j in range(d):
            for s in range(t):
                masks[j * t + s, s, j] = True
        self._masks = masks

    def explain_instance(
        self,
        data_row: Any,
        classifier_fn: Callable[[np.ndarray], Any],
        labels: Any = (1,),
        top_labels: int | None = None,
        num_features: int = 10,
        num_samples: int = 5000,
        distance_metric: str = "euclidean",
        model_regressor: Any = None,
    ) -> LimeExplanation:
        """Explain ``classifier_fn``'s output (``(n, T, d) -> (n, k)``, or ``(n,)`` in regression)."""
        check_lime_options(
            None, self.feature_selection, distance_metric, "euclidean", model_regressor
        )
        if not callable(classifier_fn):
            raise TypeError(
                f"classifier_fn must be callable; received {type(classifier_fn).__name__}."
            )
        t, d = self.n_timesteps, self.n_features
        x = check_array(data_row, name="data_row", ndim=2)
        if x.shape != (t, d):
            raise ValueError(
                f"data_row must have shape ({t}, {d}) like the training sequences; received {x.shape}."
            )
        num_features = check_int(num_features, name="num_features", minimum=1)
        num_samples = check_budget(num_samples, name="num_samples")
        seen = {"min": np.inf, "max": -np.inf}

        def model(batch: np.ndarray) -> np.ndarray:
            out = check_model_output(classifier_fn(batch), n_rows=len(batch), name="classifier_fn")
            seen["min"] = min(seen["min"], float(out[:, 0].min()))
            seen["max"] = max(seen["max"], float(out[:, 0].max()))
            return out

        game = MaskedGame(
            model,
            x,
            self.background,
            self._masks,
            batch_size=self.batch_size or num_samples,
            player_names=self.feature_names,
        )
        k = game.n_outputs
        if self.mode == "regression" and k != 1:
            raise ValueError(
                f"in regression mode classifier_fn must return one value per sequence; it returned {k}."
            )
        if (
            self.mode == "classification"
            and self.class_names is not None
            and len(self.class_names) != k
        ):
            raise ValueError(
                f"class_names has {len(self.class_names)} entries but classifier_fn returns {k} scores."
            )
        est = lime_surrogate(
            game,
            num_samples,
            self.random_state,
            kernel_width=self.kernel_width,
            num_features=num_features,
            feature_selection=self.feature_selection,
        )
        exp = LimeExplanation(
            mode=self.mode,
            feature_names=self.feature_names,
            class_names=(self.class_names or [str(j) for j in range(k)])
            if self.mode == "classification"
            else ["negative", "positive"],
            domain="tabular",
            feature_values=x.T.reshape(-1),
        )
        fill_from_estimate(exp, est, labels, top_labels, num_features)
        if self.mode == "regression":
            exp.min_value, exp.max_value = seen["min"], seen["max"]
        return exp
