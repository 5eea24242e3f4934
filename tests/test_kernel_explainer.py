"""KernelExplainer: shap's interface, closed forms, agreement with shap, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

import seqshap
from seqshap import Explanation, KernelExplainer

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")


@pytest.fixture(scope="module")
def tabular():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 10))
    y = x[:, 0] * 2 - x[:, 1] + x[:, 2] * x[:, 3] + (x[:, 4] > 0)
    return x, y


@pytest.fixture(scope="module")
def classifier(tabular):
    from sklearn.ensemble import RandomForestClassifier

    x, y = tabular
    return RandomForestClassifier(n_estimators=15, max_depth=4, random_state=0).fit(x, y > 0.5)


def test_linear_model_closed_form(tabular):
    x, _ = tabular
    w = np.arange(1.0, 11.0)
    bg = x[:30]
    ex = KernelExplainer(lambda a: a @ w + 3.0, bg)
    sv = ex.shap_values(x[:4], nsamples=200, silent=True)  # sampled, still exact for additive games
    np.testing.assert_allclose(sv, w * (x[:4] - bg.mean(0)), atol=1e-8)
    assert ex.expected_value == pytest.approx(float(bg.mean(0) @ w + 3.0))


def test_shapes_follow_shap(tabular, classifier):
    x, _ = tabular
    bg = x[:10]
    multi = KernelExplainer(classifier.predict_proba, bg)
    single = KernelExplainer(lambda a: classifier.predict_proba(a)[:, 1], bg)
    assert multi.shap_values(x[:3], nsamples=64, silent=True).shape == (3, 10, 2)
    assert multi.shap_values(x[0], nsamples=64, silent=True).shape == (10, 2)
    assert single.shap_values(x[:3], nsamples=64, silent=True).shape == (3, 10)
    assert single.shap_values(x[0], nsamples=64, silent=True).shape == (10,)
    assert np.shape(multi.expected_value) == (2,)
    assert isinstance(single.expected_value, float)


def test_rows_sum_to_output_minus_expected_value(tabular, classifier):
    x, _ = tabular
    ex = KernelExplainer(classifier.predict_proba, x[:10], link="logit")
    sv = ex.shap_values(x[:5], nsamples=300, silent=True)
    p = np.clip(classifier.predict_proba(x[:5]), 1e-12, 1 - 1e-12)
    logit = np.log(p / (1 - p))
    np.testing.assert_allclose(sv.sum(1), logit - ex.expected_value, atol=1e-8)


def test_agrees_with_shap_kernel_and_exact(tabular, classifier):
    shap = pytest.importorskip("shap")
    x, _ = tabular
    bg = x[:8]
    ours = KernelExplainer(classifier.predict_proba, bg).shap_values(
        x[:3], nsamples=2**10, silent=True
    )
    theirs = shap.KernelExplainer(classifier.predict_proba, bg).shap_values(
        x[:3], nsamples=2**10, l1_reg=False, silent=True
    )
    np.testing.assert_allclose(ours, np.asarray(theirs), atol=1e-8)
    exact = shap.explainers.Exact(
        classifier.predict_proba, shap.maskers.Independent(bg, max_samples=8)
    )
    np.testing.assert_allclose(ours, exact(x[:3]).values, atol=1e-8)


def test_sampled_values_close_to_exact(tabular, classifier):
    x, _ = tabular
    bg = x[:8]
    ex = KernelExplainer(classifier.predict_proba, bg)
    exact = ex.shap_values(x[:2], nsamples=2**10, silent=True)
    est = ex.explanation(x[:2], nsamples=400)
    assert not est.exact
    err = np.abs(est.values - exact)
    assert np.all(err <= 5 * est.std_errors + 1e-6)


def test_default_l1_reg_keeps_every_feature():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(50, 14))
    w = np.linspace(0.5, 2.0, 14)
    ex = KernelExplainer(lambda a: a @ w, x[:20])
    sv = ex.shap_values(x[:2], silent=True)  # nsamples="auto", l1_reg="auto"
    assert np.all(sv != 0)  # shap >= 0.47 would keep 10 of 14


@pytest.mark.parametrize("l1_reg", ["num_features(3)", "aic", "bic", 1e-5])
def test_l1_reg_selection(l1_reg):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(60, 8))
    w = np.array([5.0, -4.0, 3.0, 0, 0, 0, 0, 0])
    ex = KernelExplainer(lambda a: a @ w + 0.01 * a[:, 5], x[:20])
    sv = ex.shap_values(x[:1], nsamples=100, l1_reg=l1_reg, silent=True)[0]
    assert set(np.flatnonzero(np.abs(sv) > 1e-12)) >= {0, 1, 2}
    if l1_reg == "num_features(3)":
        assert np.count_nonzero(sv) == 3
    f = x[:1] @ w + 0.01 * x[:1, 5]
    assert sv.sum() == pytest.approx(float(f[0] - ex.expected_value), abs=1e-8)


def test_dataframe_and_sparse_inputs(tabular, classifier):
    x, _ = tabular
    cols = [f"c{i}" for i in range(10)]
    df = pd.DataFrame(x[:10], columns=cols)
    before = df.copy()
    ex = KernelExplainer(classifier.predict_proba, df)
    assert ex.feature_names == cols
    exp = ex.explanation(pd.DataFrame(x[10:12], columns=cols), nsamples=128)
    assert exp.player_names == cols
    pd.testing.assert_frame_equal(df, before)
    ex_sparse = KernelExplainer(classifier.predict_proba, sp.csr_matrix(x[:10]))
    np.testing.assert_allclose(
        ex_sparse.shap_values(x[10:12], nsamples=2**10, silent=True),
        ex.shap_values(x[10:12], nsamples=2**10, silent=True),
        atol=1e-12,
    )


def test_kmeans_background(tabular, classifier):
    x, _ = tabular
    summary = seqshap.kmeans(x, 5, seed=0)
    assert len(summary) == 5 and summary.weights.sum() == pytest.approx(1.0)
    ex = KernelExplainer(classifier.predict_proba, summary)
    expected = summary.weights @ classifier.predict_proba(summary.data)
    np.testing.assert_allclose(ex.expected_value, expected)


def test_large_background_warns(tabular):
    x, _ = tabular
    with pytest.warns(UserWarning, match="seqshap.kmeans"):
        KernelExplainer(lambda a: a.sum(1), x)


def test_batch_size_and_seed_invariance(tabular, classifier):
    x, _ = tabular

    def run(bs, seed):
        ex = KernelExplainer(classifier.predict_proba, x[:10], batch_size=bs, seed=seed)
        return ex.shap_values(x[:2], nsamples=300, silent=True)

    ref = run(1024, 7)
    np.testing.assert_array_equal(run(7, 7), ref)
    np.testing.assert_array_equal(run(3, 7), ref)
    assert not np.array_equal(run(1024, 8), ref)


def test_global_random_state_untouched(tabular, classifier):
    x, _ = tabular
    np.random.seed(123)  # noqa: NPY002 - the test checks global state is left alone
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    KernelExplainer(classifier.predict_proba, x[:10], seed=None).shap_values(
        x[:1], nsamples=100, silent=True
    )
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_explanation_and_save_load(tmp_path, tabular, classifier):
    x, _ = tabular
    ex = KernelExplainer(
        classifier.predict_proba, x[:10], feature_names=[f"f{i}" for i in range(10)]
    )
    exp = ex.explanation(x[:2], nsamples=200)
    assert isinstance(exp, Explanation) and exp.shape == (2, 10, 2)
    assert exp.efficiency_gap.max() < 1e-8
    path = ex.save(tmp_path / "explainer.npz")
    again = KernelExplainer.load(path, classifier.predict_proba)
    np.testing.assert_array_equal(again.shap_values(x[:2], nsamples=200, silent=True), exp.values)
    with pytest.raises(ValueError, match="must end in .npz"):
        ex.save(tmp_path / "explainer.pkl")


def test_dummy_features_get_exactly_zero():
    rng = np.random.default_rng(3)
    bg = rng.normal(size=(5, 4))
    bg[:, 2] = 1.5
    x = bg[0].copy()
    x[2] = 1.5
    ex = KernelExplainer(lambda a: np.sin(a).sum(1), bg)
    sv = ex.shap_values(x, silent=True)
    assert sv[2] == 0.0


@pytest.mark.parametrize(
    "call,error,match",
    [
        (lambda ex, x: ex.shap_values(x[:, :3], silent=True), ValueError, "X has 3 features"),
        (lambda ex, x: ex.shap_values(x[None], silent=True), ValueError, "X must be 1-D or 2-D"),
        (
            lambda ex, x: ex.shap_values(np.where(x == x[0, 0], np.nan, x), silent=True),
            ValueError,
            "X contains NaN",
        ),
        (
            lambda ex, x: ex.shap_values(x, nsamples=1, silent=True),
            ValueError,
            "nsamples must be at least 2",
        ),
        (
            lambda ex, x: ex.shap_values(x, nsamples="many", silent=True),
            ValueError,
            "nsamples must be 'auto'",
        ),
        (
            lambda ex, x: ex.shap_values(x, l1_reg="lasso", silent=True),
            ValueError,
            "l1_reg must be",
        ),
    ],
)
def test_bad_explain_input(call, error, match):
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5))
    ex = KernelExplainer(lambda a: a.sum(1), x)
    with pytest.raises(error, match=match):
        call(ex, x)


def test_bad_constructor_input():
    x = np.ones((4, 3))
    with pytest.raises(ValueError, match="link must be one of"):
        KernelExplainer(lambda a: a.sum(1), x, link="probit")
    with pytest.raises(ValueError, match=r"model returned a single number .* one score per row"):
        KernelExplainer(lambda a: a.sum(), x)
    with pytest.raises(ValueError, match="model returned NaN"):
        KernelExplainer(lambda a: np.full(len(a), np.nan), x)
    with pytest.raises(ValueError, match="data contains NaN"):
        KernelExplainer(lambda a: a.sum(1), np.full((2, 3), np.inf))
    with pytest.raises(TypeError, match="model must be a callable"):
        KernelExplainer(42, x)
    with pytest.raises(ValueError, match="feature_names must have 3 entries"):
        KernelExplainer(lambda a: a.sum(1), x, feature_names=["a"])
    with pytest.raises(TypeError, match="unexpected keyword"):
        KernelExplainer(lambda a: a.sum(1), x, nsample=10)


def test_order_is_checked_used_and_saved(tmp_path, tabular, classifier):
    """order=3 (default) and order=1 are different fits, both efficient; save/load keeps the
    order, and a file written before the option existed loads as the linear fit it ran."""
    import json

    x, _ = tabular
    model = classifier.predict_proba
    with pytest.raises(ValueError, match=r"order must be 3 .* or 1 .*; received 2"):
        KernelExplainer(model, x[:10], order=2)
    ex3, ex1 = KernelExplainer(model, x[:10]), KernelExplainer(model, x[:10], order=1)
    assert ex3.order == 3 and ex1.order == 1
    v3 = ex3.shap_values(x[:1], nsamples=400, silent=True)
    v1 = ex1.shap_values(x[:1], nsamples=400, silent=True)
    gap = model(x[:1])[0] - ex3.expected_value
    np.testing.assert_allclose(v3[0].sum(0), gap, rtol=0, atol=1e-9)
    np.testing.assert_allclose(v1[0].sum(0), gap, rtol=0, atol=1e-9)
    assert np.abs(v3 - v1).max() > 1e-6
    path = ex1.save(tmp_path / "linear.npz")
    again = KernelExplainer.load(path, model)
    assert again.order == 1
    np.testing.assert_array_equal(again.shap_values(x[:1], nsamples=400, silent=True), v1)
    with np.load(path, allow_pickle=False) as npz:
        settings = json.loads(str(npz["settings"]))
        data, weights = npz["data"], npz["weights"]
    del settings["order"]
    old = tmp_path / "old.npz"
    np.savez(old, data=data, weights=weights, settings=np.array(json.dumps(settings)))
    assert KernelExplainer.load(old, model).order == 1
    assert KernelExplainer.load(ex3.save(tmp_path / "cubic.npz"), model).order == 3
