"""Output names: ``output_names=`` on every explainer, names carried by models, progress bars."""

from __future__ import annotations

import numpy as np
import pytest

from seqshap import KernelExplainer
from seqshap.models import adapt
from seqshap.sequence import SequenceExplainer


def three_scores(x: np.ndarray) -> np.ndarray:
    """(n, T, d) -> (n, 3): linear scores of the summed events."""
    s = x.sum(axis=1)
    return np.stack([s[:, 0], s[:, 1], s[:, 0] - s[:, 1]], axis=1)


def test_sequence_explainer_output_names_name_every_level_and_select():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(5, 2))
    names = ["cycling", "walking", "lying"]
    ex = SequenceExplainer(three_scores, "zeros", output_names=names)
    local = ex.explain(x, levels=("event", "feature"), pruning_tol=0.0)
    assert ex.output_names == names
    for exp in local.levels.values():
        assert exp.output_names == names
    assert list(local.pruning.curve["output"].unique()) == names
    one = SequenceExplainer(three_scores, "zeros", output_names=names, output="walking")
    exp = one.explain(x, levels=("feature",), pruning_tol=None).feature
    assert exp.output_names == ["walking"]
    # linear model, zero baseline: feature values are the column sums (walking = feature 1)
    np.testing.assert_allclose(exp.values[0, :, 0], [0.0, x[:, 1].sum()], atol=1e-12)


def test_output_names_errors_say_what_to_do():
    x = np.ones((4, 2))
    ex = SequenceExplainer(three_scores, "zeros", output_names=["a", "b"])
    with pytest.raises(ValueError, match=r"output_names has 2 names but the model returns 3"):
        ex.explain(x, levels=("feature",), pruning_tol=None)
    with pytest.raises(TypeError, match="output_names must be a list of names"):
        SequenceExplainer(three_scores, "zeros", output_names="abc")
    with pytest.raises(ValueError, match=r"output_names must be distinct; \['a'\]"):
        SequenceExplainer(three_scores, "zeros", output_names=["a", "a", "b"])
    unnamed = SequenceExplainer(three_scores, "zeros", output="cycling")
    with pytest.raises(ValueError, match="output 'cycling' not found"):
        unnamed.explain(x, levels=("feature",), pruning_tol=None)


def test_kernel_explainer_output_names_and_model_classes():
    sklearn = pytest.importorskip("sklearn")
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(1)
    X = rng.normal(size=(60, 3))
    y = np.where(X[:, 0] > 0, "up", "down")
    clf = LogisticRegression().fit(X, y)
    ke = KernelExplainer(clf, X[:10])
    assert ke.explanation(X[:2]).output_names == ["down", "up"]  # from classes_
    named = KernelExplainer(clf.predict_proba, X[:10], output_names=["no", "yes"])
    assert named.explanation(X[:1]).output_names == ["no", "yes"]
    assert sklearn is not None
    with pytest.raises(ValueError, match="output_names has 1 names but the model returns 2"):
        KernelExplainer(clf.predict_proba, X[:10], output_names=["x"])


def test_kernel_explainer_output_names_survive_save_load(tmp_path):
    f = lambda x: np.stack([x.sum(1), -x.sum(1)], axis=1)  # noqa: E731
    ke = KernelExplainer(f, np.zeros((1, 3)), output_names=["plus", "minus"])
    back = KernelExplainer.load(ke.save(tmp_path / "ke.npz"), f)
    assert back.output_names == ["plus", "minus"]


class _Scores:
    """A plain callable model object that carries its class names (as users set on torch or
    Keras models)."""

    def __init__(self, attr: str):
        setattr(self, attr, ["low", "high"])

    def __call__(self, x):
        s = x.reshape(len(x), -1).sum(1)
        return np.stack([-s, s], axis=1)


@pytest.mark.parametrize("attr", ["classes_", "class_names"])
def test_names_carried_by_a_model_object_are_taken(attr):
    model = adapt(_Scores(attr))
    assert model.output_names == ["low", "high"]
    exp = SequenceExplainer(_Scores(attr), "zeros").explain(
        np.ones((3, 2)), levels=("feature",), pruning_tol=None
    )
    assert exp.feature.output_names == ["low", "high"]


def test_hugging_face_style_config_names_are_taken():
    class Config:
        id2label = {0: "neg", 1: "pos"}

    class Model(_Scores):
        config = Config()

    m = Model("unused")
    del m.unused
    assert adapt(m).output_names == ["neg", "pos"]


def test_no_progress_bar_for_one_row(capsys):
    ke = KernelExplainer(lambda x: x.sum(1), np.zeros((1, 3)))
    ke.shap_values(np.ones((1, 3)))
    ke.shap_values(np.ones(3))
    assert capsys.readouterr().err == ""


def test_progress_bar_for_several_rows(capsys):
    ke = KernelExplainer(lambda x: x.sum(1), np.zeros((1, 2)), method="exact")
    ke.shap_values(np.ones((3, 2)))
    err = capsys.readouterr().err
    assert "seqshap" in err and "3/3" in err
    ke.shap_values(np.ones((3, 2)), silent=True)
    assert capsys.readouterr().err == ""


def test_runner_shows_no_bar_for_one_sequence(capsys):
    from seqshap.runner import explain_many

    ex = SequenceExplainer(three_scores, "zeros")
    explain_many(ex, np.ones((1, 4, 2)), levels=("feature",), pruning_tol=None, progress=True)
    assert capsys.readouterr().err == ""
    explain_many(ex, np.ones((2, 4, 2)), levels=("feature",), pruning_tol=None, progress=True)
    assert "2/2" in capsys.readouterr().err
