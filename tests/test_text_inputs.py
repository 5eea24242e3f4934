"""TextExplainer inputs: scikit-learn pipelines over raw text, callable tokenizers, punctuation."""

from __future__ import annotations

import numpy as np
import pytest

from seqshap.testing import brute_force_shapley
from seqshap.text import TextExplainer, tokenize
from seqshap.text.tokenize import CallableTokenizer, is_punctuation

sklearn = pytest.importorskip("sklearn")
from sklearn.feature_extraction.text import CountVectorizer  # noqa: E402
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402

TRAIN = [
    "a good film",
    "a great film",
    "good acting and a great plot",
    "a bad film",
    "a terrible plot",
    "bad acting and a boring plot",
    "great fun",
    "boring and bad",
]
LABELS = ["pos", "pos", "pos", "neg", "neg", "neg", "pos", "neg"]


def keyword_scores(texts: list[str]) -> np.ndarray:
    weights = {"good": 2.0, "bad": -2.0}
    return np.array([[sum(weights.get(w, 0.0) for w in t.lower().split())] for t in texts])


def test_sklearn_regression_pipeline_gives_its_coefficients():
    # binary counts + linear regression: f(text) = b + Σ_w coef_w · [w in text]; with deletion
    # every word present once is a player whose Shapley value is exactly its coefficient
    vec = CountVectorizer(binary=True)
    pipe = make_pipeline(vec, LinearRegression()).fit(TRAIN, np.arange(len(TRAIN), dtype=float))
    coef = dict(zip(vec.get_feature_names_out(), pipe[-1].coef_))
    text = "good plot but boring acting"
    exp = TextExplainer(pipe, method="exact").explain(text)
    expected = [coef.get(w, 0.0) for w in exp.player_names]
    assert exp.player_names == text.split()
    np.testing.assert_allclose(exp.values[0, :, 0], expected, rtol=1e-9, atol=1e-9)


def test_sklearn_classifier_pipeline_is_named_by_classes_and_exact():
    pipe = make_pipeline(CountVectorizer(binary=True), LogisticRegression(C=10.0))
    pipe.fit(TRAIN, LABELS)
    ex = TextExplainer(pipe, link="logit", method="exact")
    text = "a good film with a boring plot"
    exp = ex.explain(text)
    assert exp.output_names == ["neg", "pos"]
    np.testing.assert_allclose(exp.values[0], brute_force_shapley(ex.game(text)), atol=1e-9)
    # log-odds of a logistic regression are linear in the word indicators: value = coefficient
    vec, clf = pipe[0], pipe[-1]
    coef = dict(zip(vec.get_feature_names_out(), clf.coef_[0]))
    expected = [coef.get(w, 0.0) for w in exp.player_names]
    # "a" occurs twice (both players share its coefficient by symmetry); the rest once
    dup = [j for j, w in enumerate(exp.player_names) if w == "a"]
    single = [j for j in range(exp.n_players) if j not in dup]
    np.testing.assert_allclose(exp.values[0, single, 1], np.asarray(expected)[single], atol=1e-9)
    np.testing.assert_allclose(exp.values[0, dup, 1].sum(), coef.get("a", 0.0), atol=1e-9)
    np.testing.assert_allclose(exp.values[0, :, 0], -exp.values[0, :, 1], atol=1e-9)


def test_sklearn_estimator_argument_errors():
    pipe = make_pipeline(CountVectorizer(), LogisticRegression()).fit(TRAIN, LABELS)
    with pytest.raises(ValueError, match="output applies to Hugging Face models only"):
        TextExplainer(pipe, output="logits")
    with pytest.raises(ValueError, match="model_input='ids'"):
        TextExplainer(pipe, model_input="ids")
    with pytest.raises(TypeError, match="scikit-learn estimator or Pipeline over raw texts"):
        TextExplainer(42)


def test_callable_tokenizer_spans_are_exact():
    text = "Good film,  BAD plot."
    tok = tokenize(text, CallableTokenizer(str.split))
    assert tok.tokens == ["Good", "film,", "BAD", "plot."]
    assert [text[s:e] for s, e in tok.offsets] == tok.tokens
    lowered = tokenize(text, CallableTokenizer(lambda s: s.lower().split()))
    assert lowered.tokens == tok.tokens  # located case-insensitively, shown as written
    exp = TextExplainer(keyword_scores, str.split, method="exact").explain("good bad film")
    assert exp.player_names == ["good", "bad", "film"]
    np.testing.assert_allclose(exp.values[0, :, 0], [2.0, -2.0, 0.0], atol=1e-12)


def test_callable_tokenizer_errors_name_the_piece():
    with pytest.raises(ValueError, match=r"returned 'xyz', which does not occur in the text"):
        tokenize("good film", CallableTokenizer(lambda s: ["xyz"]))
    with pytest.raises(TypeError, match="must return a list of strings"):
        tokenize("good film", CallableTokenizer(lambda s: s))
    with pytest.raises(TypeError, match="must return strings"):
        tokenize("good film", CallableTokenizer(lambda s: [1, 2]))
    with pytest.raises(TypeError, match=r"callable str -> list\[str\]"):
        TextExplainer(keyword_scores, tokenizer=3)


def test_punctuation_is_not_a_player_by_default():
    assert is_punctuation(".") and is_punctuation("?!") and is_punctuation("--")
    assert not is_punctuation("a.") and not is_punctuation("$") and not is_punctuation(" ")
    text = "good , bad ."
    default = TextExplainer(keyword_scores, method="exact").explain(text)
    assert default.player_names == ["good", "bad"]
    # punctuation stays in every masked text: the explanation is still efficient
    assert default.efficiency_gap.max() < 1e-12
    kept = TextExplainer(keyword_scores, method="exact", keep_punctuation=True).explain(text)
    assert kept.player_names == ["good", ",", "bad", "."]
    np.testing.assert_allclose(kept.values[0, :, 0], [2.0, 0.0, -2.0, 0.0], atol=1e-12)
    only = TextExplainer(keyword_scores, method="exact").explain("?!")
    assert only.player_names == ["?", "!"]  # nothing but punctuation: it is explained
    with pytest.raises(TypeError, match="keep_punctuation must be a bool"):
        TextExplainer(keyword_scores, keep_punctuation="yes")


def test_output_names_is_class_names():
    ex = TextExplainer(keyword_scores, output_names=["score"], method="exact")
    assert ex.explain("good film").output_names == ["score"]
    with pytest.raises(ValueError, match="two spellings of one option"):
        TextExplainer(keyword_scores, output_names=["a"], class_names=["b"])
    with pytest.raises(ValueError, match="output_names must be distinct"):
        TextExplainer(keyword_scores, output_names=["a", "a"])
