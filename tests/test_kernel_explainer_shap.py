"""KernelExplainer as a drop-in for shap's: constructor keywords, result shapes, shap-style
indexing of explainer(X), shap.plots on it, non-numeric columns (closed forms)."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from seqshap import KernelExplainer
from seqshap._shap_like import ShapLikeExplanation

pytestmark = pytest.mark.filterwarnings(
    "ignore::DeprecationWarning",
    "ignore::FutureWarning",
    "ignore::PendingDeprecationWarning",
)

W = np.array([1.0, 2.0, -1.0, 0.5])


@pytest.fixture(scope="module")
def frame():
    rng = np.random.default_rng(0)
    return pd.DataFrame(rng.normal(size=(12, 4)), columns=list("abcd"))


def linear(a):
    return np.asarray(a, dtype=float) @ W


def two_outputs(a):
    z = np.asarray(a, dtype=float) @ W
    return np.column_stack([z, -2.0 * z + 1.0])


def no_shap(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "shap" else real(name, *a)
    )


# ---------------------------------------------------------------------- constructor keywords
def test_constructor_nsamples_and_l1_reg_become_call_defaults(frame):
    bg, x = frame[:6], frame[6:8].to_numpy()
    plain = KernelExplainer(linear, bg, seed=3)
    with pytest.warns(UserWarning, match="shap ignores nsamples given to the constructor"):
        ex = KernelExplainer(linear, bg, nsamples=10, seed=3)
    np.testing.assert_array_equal(ex.shap_values(x), plain.shap_values(x, nsamples=10))
    with pytest.warns(UserWarning, match="shap ignores l1_reg"):
        ex = KernelExplainer(linear, bg, l1_reg="num_features(2)")
    assert np.count_nonzero(ex.shap_values(x[0])) == 2


def test_invalid_constructor_l1_reg_is_ignored_like_shap(frame):
    with pytest.warns(UserWarning, match=r"l1_reg='rank\(3\)'\) is ignored"):
        ex = KernelExplainer(linear, frame[:6], l1_reg="rank(3)")
    x = frame[6:7].to_numpy()
    np.testing.assert_allclose(ex.shap_values(x), W * (x - frame[:6].mean().to_numpy()), atol=1e-12)


def test_random_state_is_seed(frame):
    bg, x = frame[:6], frame[6:8]
    a = KernelExplainer(two_outputs, bg, random_state=5).shap_values(x, nsamples=6)
    b = KernelExplainer(two_outputs, bg, seed=5).shap_values(x, nsamples=6)
    np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="random_state is shap's name for seed"):
        KernelExplainer(linear, bg, seed=1, random_state=2)


def test_keep_index_passes_dataframe_with_row_index(frame):
    seen = []

    def model(df):
        assert isinstance(df, pd.DataFrame) and list(df.columns) == list("abcd")
        seen.append(set(df.index))
        return df.to_numpy() @ W

    bg = frame[:4].copy()
    x = frame[6:8].copy()
    x.index = ["r6", "r7"]
    ex = KernelExplainer(model, bg, keep_index=True)
    sv = ex.shap_values(x)
    np.testing.assert_allclose(sv, W * (x.to_numpy() - bg.mean().to_numpy()), atol=1e-12)
    assert {"r6"} in seen and {"r7"} in seen
    with pytest.raises(ValueError, match="keep_index=True needs data as a pandas DataFrame"):
        KernelExplainer(linear, frame.to_numpy(), keep_index=True)


# ---------------------------------------------------------------------- shapes
def test_explain_returns_one_rows_values(frame):
    bg = frame[:6]
    x = frame.iloc[7]
    single = KernelExplainer(linear, bg)
    multi = KernelExplainer(two_outputs, bg)
    expected = W * (x.to_numpy() - bg.mean().to_numpy())
    np.testing.assert_allclose(single.explain(x), expected, atol=1e-12)
    np.testing.assert_allclose(single.explain(frame[7:8]), expected, atol=1e-12)
    assert multi.explain(frame[7:8].to_numpy()).shape == (4, 2)
    np.testing.assert_allclose(multi.explain(x)[:, 1], -2.0 * expected, atol=1e-12)
    sparse_row = sp.csr_matrix(frame[7:8].to_numpy())
    np.testing.assert_allclose(single.explain(sparse_row), expected, atol=1e-12)
    with pytest.raises(ValueError, match="incoming_instance must be one row"):
        single.explain(frame[6:8])


@pytest.mark.parametrize("with_shap", [True, False])
def test_call_layout_and_efficiency(frame, monkeypatch, with_shap):
    if with_shap:
        pytest.importorskip("shap")
    else:
        no_shap(monkeypatch)
    bg, x = frame[:6], frame[6:]
    ex = KernelExplainer(linear, bg)
    e = ex(x)
    assert e.values.shape == (6, 4) and e.base_values.shape == (6,) and e.data.shape == (6, 4)
    assert e.error_std.shape == (6, 4) and list(e.feature_names) == list("abcd")
    np.testing.assert_allclose(e.values.sum(1) + e.base_values, linear(x), atol=1e-10)
    col = e[:, "b"]
    np.testing.assert_allclose(col.values, 2.0 * (x.b - bg.b.mean()), atol=1e-12)
    np.testing.assert_array_equal(col.data, x.b.to_numpy())
    one = ex(x.iloc[0])
    assert one.values.shape == (4,) and np.ndim(one.base_values) == 0

    multi = KernelExplainer(two_outputs, bg)(x)
    assert multi.values.shape == (6, 4, 2) and multi.base_values.shape == (6, 2)
    cell = multi[0, :, 1]
    assert cell.values.shape == (4,) and np.ndim(cell.base_values) == 0
    np.testing.assert_allclose(cell.values, -2.0 * e.values[0], atol=1e-12)
    assert multi[:, "a", 1].values.shape == (6,)
    assert multi[..., 0].values.shape == (6, 4)


def test_sampled_values_carry_standard_errors(frame):
    rng = np.random.default_rng(1)
    bg = rng.normal(size=(5, 12))
    ex = KernelExplainer(lambda a: np.sin(a).sum(1) + a[:, 0] * a[:, 1] * a[:, 2], bg)
    e = ex(rng.normal(size=(2, 12)), nsamples=300)
    assert e.error_std.shape == (2, 12) and np.all(e.error_std[:, :3] > 0)
    exact = ex.shap_values(e.data, nsamples=2**12)
    assert np.all(np.abs(e.values - exact) <= 6 * e.error_std + 1e-9)
    # interactions of order <= 2 cancel from pair differences: the fit is exact, its SEs ~0
    pairwise = KernelExplainer(lambda a: np.sin(a).sum(1) + a[:, 0] * a[:, 1], bg)
    e2 = pairwise(e.data, nsamples=300)
    np.testing.assert_allclose(e2.values, pairwise.shap_values(e.data, nsamples=2**12), atol=1e-8)
    assert np.all(e2.error_std <= 1e-6)


# ---------------------------------------------------------------------- indexing like shap
INDEXES = [
    0,
    -1,
    slice(1, 4),
    [0, 2],
    (0, "b"),
    (slice(None), "a"),
    (slice(None), ["d", "a"]),
    (slice(None), 1),
    (2, slice(1, 3)),
]
MULTI_INDEXES = [(0, slice(None), 1), (slice(None), "c", 0), (Ellipsis, 1), (1, "a"), 3]


@pytest.mark.parametrize("multi", [False, True])
def test_stand_in_indexes_like_shap_explanation(frame, multi):
    shap = pytest.importorskip("shap")
    rng = np.random.default_rng(2)
    shape = (6, 4, 2) if multi else (6, 4)
    values, errors = rng.normal(size=shape), rng.random(shape)
    base = rng.normal(size=(6, 2) if multi else 6)
    data = frame[:6].to_numpy()
    names = list("abcd")
    theirs = shap.Explanation(
        values, base_values=base, data=data, feature_names=names, error_std=errors
    )
    ours = ShapLikeExplanation(
        values,
        base_values=base,
        data=data,
        feature_names=names,
        error_std=errors,
        output_names=["Output 0", "Output 1"] if multi else None,
        axes=("instance", "feature", "output") if multi else ("instance", "feature"),
    )
    for index in INDEXES + (MULTI_INDEXES if multi else [(Ellipsis, 2)]):
        a, b = ours[index], theirs[index]
        np.testing.assert_array_equal(a.values, b.values, err_msg=str(index))
        np.testing.assert_array_equal(a.error_std, b.error_std, err_msg=str(index))
        np.testing.assert_array_equal(a.base_values, b.base_values, err_msg=str(index))
        np.testing.assert_array_equal(a.data, b.data, err_msg=str(index))
        assert np.array_equal(np.asarray(a.feature_names), np.asarray(b.feature_names)), index


def test_stand_in_index_errors():
    e = ShapLikeExplanation(np.zeros((2, 3)), base_values=np.zeros(2), feature_names=list("xyz"))
    with pytest.raises(IndexError, match="feature 'w' not found"):
        e[:, "w"]
    with pytest.raises(IndexError, match="too many indices"):
        e[0, 0, 0]
    with pytest.raises(IndexError, match="cannot index the instance axis by name"):
        e["x"]


def test_shap_plots_take_the_result(frame):
    shap = pytest.importorskip("shap")
    plt = pytest.importorskip("matplotlib.pyplot")
    ex = KernelExplainer(linear, frame[:6])
    e = ex(frame[6:])
    multi = KernelExplainer(two_outputs, frame[:6])(frame[6:])
    try:
        for draw in (
            lambda: shap.plots.scatter(e[:, "a"], show=False),
            lambda: shap.plots.bar(e, show=False),
            lambda: shap.plots.waterfall(e[0], show=False),
            lambda: shap.plots.beeswarm(e, show=False),
            lambda: shap.plots.force(e[0], matplotlib=True, show=False),
            lambda: shap.plots.waterfall(multi[0, :, 1], show=False),
            lambda: shap.plots.bar(multi[:, :, 0], show=False),
        ):
            draw()
            plt.close("all")
        assert shap.force_plot(multi[0, :, 1]) is not None
    finally:
        plt.close("all")


# ---------------------------------------------------------------------- non-numeric columns
LEVELS = {"A": 0.0, "B": 3.0, "C": -1.0, "D": 7.0}


def categorical_model(rows):
    """Additive over columns: a level per string, 2 for True, half the number."""
    rows = np.asarray(rows, dtype=object)
    first = np.array([LEVELS[v] for v in rows[:, 0]])
    second = np.array([2.0 if v else 0.0 for v in rows[:, 1]])
    return first + second + 0.5 * rows[:, 2].astype(float)


def test_string_and_bool_columns_closed_form():
    bg = np.array([["A", True, 1.0], ["B", False, 1.0], ["C", True, 2.0]], dtype=object)
    x = np.array([["B", True, 4.0], ["D", False, 1.0]], dtype=object)  # "D": unseen value
    ex = KernelExplainer(categorical_model, bg)
    sv = ex.shap_values(x)
    col0 = np.array([LEVELS[v] for v in x[:, 0]]) - np.mean([LEVELS[v] for v in bg[:, 0]])
    col1 = np.array([2.0 if v else 0.0 for v in x[:, 1]]) - 2.0 * 2 / 3
    col2 = 0.5 * (x[:, 2].astype(float) - 4.0 / 3)
    np.testing.assert_allclose(sv, np.column_stack([col0, col1, col2]), atol=1e-12)
    e = ex(x)
    assert e.data.dtype == object and e.data[1, 0] == "D"
    np.testing.assert_allclose(e.values.sum(1) + e.base_values, categorical_model(x), atol=1e-12)


def test_constant_string_column_is_exactly_zero():
    bg = np.array([["A", "0", "z"], ["B", "1", "z"], ["A", "1", "z"]])
    ex = KernelExplainer(categorical_model_strings, bg)
    sv = ex.explain(bg[0].reshape(1, -1))
    assert sv[2] == 0.0
    assert ex.expected_value + sv.sum() == pytest.approx(categorical_model_strings(bg[:1])[0])


def categorical_model_strings(rows):
    rows = np.asarray(rows)
    return (rows[:, 0] == "B") * 2.0 + (rows[:, 1] == "1") * 1.0 + (rows[:, 2] == "y") * 5.0


def test_categorical_dataframe_with_keep_index_gets_its_dtypes_back():
    bg = pd.DataFrame({"colour": pd.Categorical(["red", "blue", "red"]), "size": [1.0, 2.0, 3.0]})
    before = bg.copy()

    def model(df):
        assert isinstance(df.dtypes["colour"], pd.CategoricalDtype)
        return (df["colour"] == "red").to_numpy() * 1.5 + df["size"].to_numpy()

    ex = KernelExplainer(model, bg, keep_index=True)
    x = pd.DataFrame({"colour": pd.Categorical(["blue"]), "size": [5.0]})
    sv = ex.shap_values(x)
    np.testing.assert_allclose(sv[0], [0.0 - 1.5 * 2 / 3, 5.0 - 2.0], atol=1e-12)
    pd.testing.assert_frame_equal(bg, before)
    with pytest.raises(ValueError, match="save\\(\\) stores numeric backgrounds only"):
        ex.save("unused.npz")


def test_not_equal_follows_shap():
    ne = KernelExplainer.not_equal
    assert ne(0, 0) == ne("0", "0") == 0
    assert ne(0, 1) == ne("0", "1") == 1
    assert ne(np.nan, np.nan) == 0 and ne(None, "0") == 1
    assert ne(pd.Timestamp("2017-01-01"), pd.Timestamp("2017-01-02")) == 1
    assert ne(np.array([1.0, np.nan]), np.array([1.0, np.nan])) == 0
    assert ne(np.array(["a", "b"]), np.array(["a", "c"])) == 1
