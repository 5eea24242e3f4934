"""``LimeTextExplainer`` with lime's interface, on seqshap's text game and LIME estimator.

Same procedure as ``lime.lime_text.LimeTextExplainer``: words are the pieces between matches
of ``split_expression``; with ``bow=True`` a feature is a distinct word (all its occurrences are
removed together), else a word position (replaced by ``mask_string``); ``num_samples``
perturbed texts remove a uniform number 1..d of uniformly chosen features; each is weighted by
``sqrt(exp(−d²/kernel_width²))`` with ``d`` = 100 × cosine distance to the original; a ridge
regression (alpha 1, with intercept) is fit per label on ``classifier_fn``'s scores.

Where results differ from lime's:

* random numbers come from numpy's ``Generator`` (lime: ``RandomState``), so the same seed gives
  different samples; explanations agree in distribution, not draw for draw;
* ``feature_selection="lasso_path"``, a custom ``kernel``, ``distance_metric`` other than
  cosine and ``model_regressor`` are not offered (a clear error says so);
* ``classifier_fn`` is called in batches of ``batch_size`` texts (lime: all at once), plus once
  for the original text;
* the seqshap estimate stays in ``explanation.estimate``, with sandwich standard errors of
  the coefficients (lime reports none); ``to_explanation()`` carries them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_budget, check_int, check_random_state
from ..estimators.lime import lime_surrogate
from ..text.game import StringModel, TextGame
from ..text.tokenize import RegexTokenizer, tokenize
from .explanation import LimeExplanation, fill_from_estimate

logger = logging.getLogger(__name__)

_SELECTIONS = ("auto", "forward_selection", "highest_weights", "none")


def check_lime_options(
    kernel: Any,
    feature_selection: str,
    distance_metric: str,
    expected_metric: str,
    model_regressor: Any,
) -> None:
    if kernel is not None:
        raise ValueError(
            "kernel: seqshap's LIME uses lime's default exponential kernel sqrt(exp(-d^2/w^2)); "
            "custom kernels are not supported. Set kernel_width instead."
        )
    if feature_selection not in _SELECTIONS:
        raise ValueError(
            f"feature_selection must be one of {list(_SELECTIONS)}; received {feature_selection!r} "
            "('lasso_path' is not offered)."
        )
    if distance_metric != expected_metric:
        raise ValueError(
            f"distance_metric must be {expected_metric!r} (the distance on the binary "
            f"representation); received {distance_metric!r}."
        )
    if model_regressor is not None:
        raise ValueError(
            "model_regressor is not supported: the surrogate is a weighted ridge regression "
            "(alpha 1, with intercept), lime's default."
        )


def as_generator(random_state: Any) -> np.random.Generator:
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    return check_random_state(random_state, name="random_state")


class LimeTextExplainer:
    """lime's text explainer (see the module docstring for the differences)."""

    def __init__(
        self,
        kernel_width: float = 25,
        kernel: Any = None,
        verbose: bool = False,
        class_names: list[str] | None = None,
        feature_selection: str = "auto",
        split_expression: str = r"\W+",
        bow: bool = True,
        mask_string: str | None = None,
        random_state: Any = None,
        char_level: bool = False,
        *,
        batch_size: int | None = None,
    ):
        check_lime_options(kernel, feature_selection, "cosine", "cosine", None)
        if not isinstance(split_expression, str):
            raise TypeError(
                "split_expression must be a regular expression string; received "
                f"{type(split_expression).__name__}."
            )
        self.kernel_width = float(kernel_width)
        self.verbose = verbose
        self.class_names = None if class_names is None else [str(c) for c in class_names]
        self.feature_selection = feature_selection
        self.bow = bool(bow)
        self.mask_string = "UNKWORDZ" if mask_string is None else str(mask_string)
        self.char_level = bool(char_level)
        self.tokenizer = (
            RegexTokenizer(r"(?s).")
            if char_level
            else RegexTokenizer(split_expression=split_expression)
        )
        self.split_expression = split_expression
        self.random_state = as_generator(random_state)
        self.batch_size = (
            None if batch_size is None else check_int(batch_size, name="batch_size", minimum=1)
        )

    def explain_instance(
        self,
        text_instance: str,
        classifier_fn: Callable[[list[str]], Any],
        labels: Any = (1,),
        top_labels: int | None = None,
        num_features: int = 10,
        num_samples: int = 5000,
        distance_metric: str = "cosine",
        model_regressor: Any = None,
    ) -> LimeExplanation:
        """Explain ``classifier_fn``'s scores (``list[str] -> (n, k)``) for ``text_instance``."""
        check_lime_options(None, self.feature_selection, distance_metric, "cosine", model_regressor)
        if not callable(classifier_fn):
            raise TypeError(
                f"classifier_fn must be callable; received {type(classifier_fn).__name__}."
            )
        num_features = check_int(num_features, name="num_features", minimum=1)
        num_samples = check_budget(num_samples, name="num_samples")
        tok = tokenize(text_instance, self.tokenizer, name="text_instance")
        words = tok.tokens
        if self.bow:
            vocab: dict[str, int] = {}
            for w in words:
                vocab.setdefault(w, len(vocab))
            names = list(vocab)
            positions = np.array([vocab[w] for w in words])
            groups = [np.flatnonzero(positions == j) for j in range(len(names))]
        else:
            names = list(words)
            groups = [np.array([i]) for i in range(len(words))]
        game = TextGame(
            StringModel(classifier_fn),
            tok,
            groups,
            model_input="strings",
            mask_text="" if self.bow else self.mask_string,
            batch_size=self.batch_size or num_samples,
            player_names=names,
        )
        k = game.n_outputs
        if self.class_names is not None and len(self.class_names) != k:
            raise ValueError(
                f"class_names has {len(self.class_names)} entries but classifier_fn returns {k} "
                "scores per text."
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
            mode="classification",
            feature_names=names,
            class_names=self.class_names or [str(j) for j in range(k)],
            domain="text",
            text=tok.text,
            feature_spans=[[tuple(map(int, tok.offsets[i])) for i in g] for g in groups],
        )
        fill_from_estimate(exp, est, labels, top_labels, num_features)
        if self.verbose:
            logger.info("intercept %s, local prediction %s", exp.intercept, exp.local_preds)
        return exp
