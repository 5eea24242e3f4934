"""seqshap.lime: lime's interface (shapes, types, names), planted effects, HTML, and lime itself if installed."""

from __future__ import annotations

import re

import numpy as np
import pytest

from seqshap.lime import Explanation, LimeTextExplainer, RecurrentTabularExplainer

TEXT = "the plot was not good and the acting was terrible but the music was great"


def classifier(texts: list[str]) -> np.ndarray:
    """Probabilities of (negative, positive) from planted keywords; 'not' flips the next word."""
    weights = {"good": 2.0, "great": 1.5, "bad": -2.0, "terrible": -2.5}
    scores = []
    for text in texts:
        words = re.findall(r"\w+", text.lower())
        s = sum(
            (-1 if i > 0 and words[i - 1] == "not" else 1) * weights.get(w, 0.0)
            for i, w in enumerate(words)
        )
        scores.append(s)
    p = 1.0 / (1.0 + np.exp(-np.array(scores)))
    return np.stack([1 - p, p], axis=1)


def sequence_model(x: np.ndarray) -> np.ndarray:
    """(n, T, d) → probabilities; planted cells: feature 0 at the last step, feature 1 at step 2."""
    s = 3.0 * x[:, -1, 0] - 2.0 * x[:, 2, 1]
    p = 1.0 / (1.0 + np.exp(-s))
    return np.stack([1 - p, p], axis=1)


def test_text_explanation_has_lime_shapes_and_types():
    exp = LimeTextExplainer(class_names=["neg", "pos"], random_state=0).explain_instance(
        TEXT, classifier, num_features=4, num_samples=1000
    )
    assert isinstance(exp, Explanation)
    items = exp.as_list()
    assert len(items) == 4
    assert all(isinstance(w, str) and isinstance(v, float) for w, v in items)
    assert [abs(v) for _, v in items] == sorted((abs(v) for _, v in items), reverse=True)
    mapping = exp.as_map()
    assert list(mapping) == [1] and exp.available_labels() == [1]
    assert all(isinstance(f, int) and isinstance(v, float) for f, v in mapping[1])
    assert {w for w, _ in items} >= {"not", "terrible"}
    assert exp.predict_proba.shape == (2,)
    np.testing.assert_allclose(exp.predict_proba, classifier([TEXT])[0])
    assert isinstance(exp.intercept[1], float) and isinstance(exp.score, float)
    assert exp.local_pred.shape == (1,)
    assert exp.n_evaluations == 1000
    with pytest.raises(KeyError, match="not explained"):
        exp.as_list(label=0)


def test_bow_groups_repeated_words_and_positions_do_not():
    bow = LimeTextExplainer(random_state=0).explain_instance(
        TEXT, classifier, num_features=100, num_samples=300
    )
    assert len(bow.feature_names) == len(set(TEXT.split()))  # 'the', 'was' counted once
    positional = LimeTextExplainer(bow=False, random_state=0).explain_instance(
        TEXT, classifier, num_features=100, num_samples=300
    )
    assert len(positional.feature_names) == len(TEXT.split())
    names = [n for n, _ in positional.as_list(positions=True)]
    assert "the_0" in names and "terrible_" + str(TEXT.index("terrible")) in names


def test_top_labels_and_labels():
    exp = LimeTextExplainer(random_state=0).explain_instance(
        TEXT, classifier, top_labels=2, num_samples=300
    )
    proba = classifier([TEXT])[0]
    assert exp.available_labels() == [int(np.argmax(proba)), int(np.argmin(proba))]
    exp = LimeTextExplainer(random_state=0).explain_instance(
        TEXT, classifier, labels=(0, 1), num_samples=300
    )
    assert sorted(exp.as_map()) == [0, 1]
    # two classes whose probabilities sum to 1: the surrogates mirror each other
    w0 = dict(exp.as_map()[0])
    w1 = dict(exp.as_map()[1])
    common = set(w0) & set(w1)
    assert common and all(abs(w0[f] + w1[f]) < 1e-8 for f in common)


def test_same_random_state_same_explanation():
    a = LimeTextExplainer(random_state=3).explain_instance(TEXT, classifier, num_samples=400)
    b = LimeTextExplainer(random_state=3).explain_instance(TEXT, classifier, num_samples=400)
    assert a.as_list() == b.as_list()


def test_html_is_self_contained_and_escaped(tmp_path):
    text = "<script>alert(1)</script> not good & terrible"
    exp = LimeTextExplainer(class_names=["<b>neg</b>", "pos"], random_state=0).explain_instance(
        text, classifier, labels=(0, 1), num_samples=300
    )
    path = tmp_path / "lime.html"
    exp.save_to_file(path)
    page = path.read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert "<b>neg</b>" not in page and "&lt;b&gt;neg&lt;/b&gt;" in page
    assert "http" not in page  # nothing fetched from the network
    assert page.count("Prediction probabilities") == 1


def test_pyplot_figure():
    pytest.importorskip("matplotlib")
    import matplotlib.figure
    import matplotlib.pyplot as plt

    exp = LimeTextExplainer(class_names=["neg", "pos"], random_state=0).explain_instance(
        TEXT, classifier, num_features=5, num_samples=300
    )
    fig = exp.as_pyplot_figure()
    try:
        assert isinstance(fig, matplotlib.figure.Figure)
        ax = fig.axes[0]
        assert len(ax.patches) == 5
        assert [t.get_text() for t in ax.get_yticklabels()][::-1] == [n for n, _ in exp.as_list()]
        assert "pos" in ax.get_title()
    finally:
        plt.close(fig)


def test_to_explanation_spreads_words_over_positions():
    exp = LimeTextExplainer(random_state=0).explain_instance(
        "good good bad", classifier, num_samples=300
    )
    seq = exp.to_explanation()
    assert seq.level == "token" and seq.player_names == ["good", "good", "bad"]
    assert seq.values[0, 0, 0] == seq.values[0, 1, 0] == dict(exp.as_list())["good"]


def test_recurrent_tabular_names_order_and_planted_cells():
    rng = np.random.default_rng(0)
    data = rng.normal(size=(60, 5, 3))
    explainer = RecurrentTabularExplainer(
        data, feature_names=["a", "b", "c"], class_names=["no", "yes"], random_state=0
    )
    # lime's order: feature-major, oldest step first
    assert explainer.feature_names[:5] == ["a_t-4", "a_t-3", "a_t-2", "a_t-1", "a_t-0"]
    assert explainer.feature_names[5] == "b_t-4"
    row = data[0].copy()
    row[-1, 0], row[2, 1] = 2.0, 1.5  # planted cells far from the training mean
    exp = explainer.explain_instance(row, sequence_model, num_features=4, num_samples=1500)
    items = exp.as_list()
    assert {n for n, _ in items[:2]} == {"a_t-0", "b_t-2"}
    assert dict(items)["a_t-0"] > 0 and dict(items)["b_t-2"] < 0
    assert all(isinstance(f, int) for f, _ in exp.as_map()[1])
    np.testing.assert_array_equal(data[0, 2], np.asarray(data[0, 2]))  # input untouched
    assert exp.feature_values[5 * 1 + 2] == 1.5  # b at step 2 (t-2)


def test_recurrent_regression_follows_lime_labels():
    rng = np.random.default_rng(1)
    data = rng.normal(size=(40, 4, 2))
    explainer = RecurrentTabularExplainer(data, mode="regression", feature_names=["x", "y"])
    exp = explainer.explain_instance(
        data[3], lambda x: 2.0 * x[:, -1, 0], num_features=2, num_samples=500
    )
    assert sorted(exp.as_map()) == [0, 1]
    assert exp.as_list()[0][0] == "x_t-0"
    assert exp.as_map()[0][0][1] == -exp.as_map()[1][0][1]
    assert exp.predicted_value == pytest.approx(2.0 * data[3, -1, 0])
    with pytest.raises(NotImplementedError):
        exp.available_labels()


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="lasso_path"):
        LimeTextExplainer(feature_selection="lasso_path")
    with pytest.raises(ValueError, match="kernel"):
        LimeTextExplainer(kernel=lambda d, w: d)
    ex = LimeTextExplainer()
    with pytest.raises(ValueError, match="empty"):
        ex.explain_instance("", classifier)
    with pytest.raises(TypeError, match="string"):
        ex.explain_instance(["good"], classifier)
    with pytest.raises(ValueError, match="model_regressor"):
        ex.explain_instance("good", classifier, model_regressor=object())
    with pytest.raises(ValueError, match="labels must be output indices"):
        ex.explain_instance("good movie", classifier, labels=(5,), num_samples=50)
    with pytest.raises(ValueError, match="3-D"):
        RecurrentTabularExplainer(np.zeros((4, 3)))
    rte = RecurrentTabularExplainer(np.zeros((4, 3, 2)))
    with pytest.raises(ValueError, match=r"\(3, 2\)"):
        rte.explain_instance(np.zeros((2, 3)), sequence_model)


def test_agrees_with_lime_when_installed():
    lime_text = pytest.importorskip("lime.lime_text")
    ours = LimeTextExplainer(class_names=["neg", "pos"], random_state=0).explain_instance(
        TEXT, classifier, num_features=3, num_samples=3000
    )
    theirs = lime_text.LimeTextExplainer(
        class_names=["neg", "pos"], random_state=0
    ).explain_instance(TEXT, classifier, num_features=3, num_samples=3000)
    assert type(ours.as_map()) is type(theirs.as_map())
    assert sorted(ours.as_map()) == sorted(theirs.as_map())
    assert len(ours.as_list()) == len(theirs.as_list())
    assert [str(n) for n, _ in ours.as_list()] == [str(n) for n, _ in theirs.as_list()]
    for (_, a), (_, b) in zip(ours.as_list(), theirs.as_list()):
        assert abs(a - b) < 0.1 * abs(b) + 0.02  # same procedure, different random draws
    assert ours.predict_proba.shape == theirs.predict_proba.shape
    assert abs(ours.score - theirs.score) < 0.1
