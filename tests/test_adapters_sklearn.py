"""scikit-learn and sktime adapters: layouts converted at the boundary, scores as expected."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("sklearn")
from sklearn.linear_model import LinearRegression, LogisticRegression  # noqa: E402

from seqshap.models import SklearnModel, adapt  # noqa: E402


def _data(n=40, t=5, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, t, d))
    y = (x[:, -1, 0] + 0.5 * x[:, 0, 2] > 0).astype(int)
    return x, y


def test_tabular_classifier_on_flattened_sequences():
    x, y = _data()
    clf = LogisticRegression().fit(x.reshape(len(x), -1), y)
    model = adapt(clf)
    assert isinstance(model, SklearnModel) and model.layout == "flat"
    assert model.output_names == ["0", "1"]
    np.testing.assert_allclose(model(x), clf.predict_proba(x.reshape(len(x), -1)))
    np.testing.assert_allclose(adapt(clf, batch_size=3)(x), model(x))
    with pytest.raises(ValueError, match="fitted on 15 columns"):
        model(x[:, :4])


def test_linear_regressor_is_linear_in_time_major_cells():
    x, _ = _data()
    w = np.arange(15, dtype=float).reshape(5, 3)  # weight of step t, feature f
    y = (x * w).sum(axis=(1, 2))
    reg = LinearRegression().fit(x.reshape(len(x), -1), y)
    out = adapt(reg)(x)
    assert out.shape == (len(x), 1)
    np.testing.assert_allclose(out[:, 0], y, atol=1e-8)


def test_sktime_panel_layout():
    pytest.importorskip("sktime")
    from sktime.classification.dummy import DummyClassifier
    from sktime.classification.feature_based import SummaryClassifier

    x, y = _data(n=30, t=8)
    panel = np.transpose(x, (0, 2, 1))  # sktime's (n, d, T)
    clf = SummaryClassifier(estimator=LogisticRegression()).fit(panel, y)
    model = adapt(clf)
    assert model.layout == "panel"
    np.testing.assert_allclose(model(x), clf.predict_proba(panel))
    dummy = DummyClassifier(strategy="prior").fit(panel, y)
    np.testing.assert_allclose(adapt(dummy)(x), np.tile([1 - y.mean(), y.mean()], (30, 1)))


def test_bad_method_and_layout():
    x, y = _data()
    clf = LogisticRegression().fit(x.reshape(len(x), -1), y)
    with pytest.raises(ValueError, match="method must be one of"):
        adapt(clf, method="predict_log")
    with pytest.raises(ValueError, match="layout must be one of"):
        adapt(clf, layout="wide")
    with pytest.raises(TypeError, match="has no predict_proba"):
        adapt(LinearRegression().fit(x.reshape(len(x), -1), y), method="predict_proba")


def test_models_public_names_resolve_and_imports_stay_light():
    import subprocess
    import sys

    import seqshap.models as models

    for name in models.__all__:
        assert getattr(models, name) is not None, name
    code = (
        "import sys, seqshap.models, seqshap.cli, seqshap.demo; "
        "heavy = {'torch', 'keras', 'onnxruntime', 'transformers', 'sktime', 'sklearn'} "
        "& set(sys.modules); print(sorted(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_unsupported_objects_and_options():
    with pytest.raises(TypeError, match="supported model object"):
        adapt(object())
    with pytest.raises(TypeError, match="unexpected options"):
        adapt(lambda x: x.sum((1, 2)), device="cpu")
    with pytest.raises(ValueError, match="unknown extension"):
        adapt("model.h5")
