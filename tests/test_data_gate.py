"""The data gate against silent wrong results: DataFrame columns by name, no repeated feature
names, models that write into their input, outputs that change width or dtype, scalar outputs,
and a logit link on values that are not probabilities."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqshap import KernelExplainer
from seqshap.runner import explain_many
from seqshap.sequence import SequenceExplainer

NAMES = ["a", "b", "c"]
W = np.array([0.7, -1.3, 2.1])


def linear(x):
    """f(x) = sum_t w . x_t: event/feature values are closed-form."""
    return np.einsum("ntd,d->n", np.asarray(x, dtype=float), W)


def _seq(seed=0, t=5):
    return np.random.default_rng(seed).normal(size=(t, 3))


def _exact(**kw):
    return SequenceExplainer(linear, np.zeros(3), method="exact", **kw)


# ------------------------------------------------------------------ DataFrame columns by name
def test_sequence_dataframe_columns_are_matched_by_name():
    x = _seq()
    ref = _exact(feature_names=NAMES).explain(x, levels=("feature",), pruning_tol=None)
    # closed form: phi_j = w_j * sum_t x_tj (zero baseline)
    np.testing.assert_allclose(ref.feature.values[0, :, 0], W * x.sum(0), rtol=0, atol=1e-12)
    shuffled = pd.DataFrame(x, columns=NAMES)[["c", "a", "b"]]
    got = _exact(feature_names=NAMES).explain(shuffled, levels=("feature",), pruning_tol=None)
    assert got.feature.player_names == NAMES
    np.testing.assert_allclose(got.feature.values, ref.feature.values, rtol=0, atol=1e-12)
    extra = shuffled.assign(z=99.0)  # extra columns are left out
    got = _exact(feature_names=NAMES).explain(extra, levels=("feature",), pruning_tol=None)
    np.testing.assert_allclose(got.feature.values, ref.feature.values, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match=r"without the column\(s\) \['b'\].*matched by name"):
        _exact(feature_names=NAMES).explain(shuffled.drop(columns="b"), pruning_tol=None)


def test_names_learned_from_a_dataframe_baseline_or_the_first_frame():
    x = _seq(1)
    ref = _exact(feature_names=NAMES).explain(x, levels=("feature",), pruning_tol=None)
    base = pd.Series(np.zeros(3), index=NAMES)
    ex = SequenceExplainer(linear, base, method="exact")
    got = ex.explain(pd.DataFrame(x, columns=NAMES)[["b", "c", "a"]], pruning_tol=None)
    assert got.feature.player_names == NAMES
    np.testing.assert_allclose(got.feature.values, ref.feature.values, rtol=0, atol=1e-12)
    ex = _exact()  # no names yet: the first frame gives them, the next is matched to it
    first = ex.explain(pd.DataFrame(x, columns=NAMES), levels=("feature",), pruning_tol=None)
    second = ex.explain(pd.DataFrame(x, columns=NAMES)[["c", "b", "a"]], pruning_tol=None)
    np.testing.assert_allclose(first.feature.values, ref.feature.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(second.feature.values, ref.feature.values, rtol=0, atol=1e-12)


def test_long_frames_by_name_in_explain_global_and_explain_many():
    seqs = [_seq(s, t=4) for s in range(3)]
    rows = [
        {"id": i, "t": t, **dict(zip(NAMES, row))}
        for i, s in enumerate(seqs)
        for t, row in enumerate(s)
    ]
    long = pd.DataFrame(rows)[["id", "t", "c", "b", "a"]]  # features in another order
    kw = dict(levels=("feature",), pruning_tol=None)
    ref = _exact(feature_names=NAMES).explain_global(seqs, **kw)
    got = _exact(feature_names=NAMES).explain_global(long, entity_col="id", time_col="t", **kw)
    np.testing.assert_allclose(got.table["value"], ref.table["value"], rtol=0, atol=1e-12)
    assert list(got.table["player"][:3]) == NAMES
    many_ref = explain_many(_exact(feature_names=NAMES), seqs, progress=False, **kw).table
    many = explain_many(
        _exact(feature_names=NAMES), long, entity_col="id", time_col="t", progress=False, **kw
    ).table
    np.testing.assert_allclose(many["value"], many_ref["value"], rtol=0, atol=1e-12)
    assert list(many["player"][:3]) == NAMES


def test_kernel_explainer_dataframe_rows_by_name():
    rng = np.random.default_rng(2)
    data = pd.DataFrame(rng.normal(size=(6, 3)), columns=NAMES)
    X = pd.DataFrame(rng.normal(size=(2, 3)), columns=NAMES)
    ex = KernelExplainer(lambda z: z @ W, data)
    ref = ex.shap_values(X.to_numpy())
    np.testing.assert_allclose(ex.shap_values(X[["b", "c", "a"]]), ref, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ex.shap_values(X.iloc[0][["c", "a", "b"]]), ref[0], atol=1e-12)
    with pytest.raises(ValueError, match=r"without the column\(s\) \['c'\]"):
        ex.shap_values(X[["a", "b"]].assign(d=1.0))


# ------------------------------------------------------------------ repeated feature names
def test_repeated_feature_names_are_refused():
    with pytest.raises(ValueError, match=r"feature_names must not repeat a name; received 'a'"):
        _exact(feature_names=["a", "a", "b"])
    with pytest.raises(ValueError, match="must not repeat a name"):
        KernelExplainer(lambda z: z @ W, np.zeros((2, 3)), feature_names=["a", "b", "b"])
    frame = pd.DataFrame(_seq(), columns=["a", "a", "b"])
    with pytest.raises(ValueError, match="must not repeat a name"):
        _exact().explain(frame, pruning_tol=None)
    long = pd.DataFrame({"id": [0, 0], "a": [1.0, 2.0], "b": [0.0, 1.0]})
    with pytest.raises(ValueError, match=r"feature_cols must not repeat a name; received 'a'"):
        explain_many(_exact(), long, entity_col="id", feature_cols=["a", "a"], progress=False)
    with pytest.raises(ValueError, match=r"feature_cols must not repeat a name"):
        _exact().explain_global(long, entity_col="id", feature_cols=["a", "a"])


# ------------------------------------------------------------------ models that misbehave
def _writes_into_input(x):
    """A model that standardises its input in place, then overwrites it."""
    out = linear(x)
    x -= 1.0
    x[:] = 0.5
    return out


def test_model_writing_into_its_input_does_not_change_results():
    x = _seq(3, t=8)
    kw = dict(levels=("event", "feature"), pruning_tol=0.05)
    ref = SequenceExplainer(linear, np.zeros(3), method="exact").explain(x, **kw)
    got = SequenceExplainer(_writes_into_input, np.zeros(3), method="exact").explain(x, **kw)
    assert got.pruning.pruned_index == ref.pruning.pruned_index
    for level in ("event", "feature"):
        a, b = getattr(got, level), getattr(ref, level)
        np.testing.assert_allclose(a.values, b.values, rtol=0, atol=1e-12)
        np.testing.assert_allclose(a.outputs, b.outputs, rtol=0, atol=1e-12)


def test_recurrent_model_writing_into_its_state_does_not_change_results():
    u = np.array([[0.5, -0.2], [0.1, 0.3]])
    v = np.array([[0.4, 0.2, -0.3], [0.1, -0.5, 0.2]])

    def rnn(x, h=None, scribble=False):
        hs = np.zeros((len(x), 2)) if h is None else h[0]
        for t in range(x.shape[1]):
            hs = np.tanh(hs @ u + x[:, t] @ v.T)
        out = hs.sum(1)
        if scribble and h is not None:
            h[...] = 7.0  # writes into the state it was given
            x[...] = -1.0
        return out, hs[None].copy()

    x = _seq(4, t=7)
    kw = dict(levels=("event",), pruning_tol=None)
    ref = SequenceExplainer(rnn, np.zeros(3), method="exact").explain(x, **kw)
    ex = SequenceExplainer(lambda a, h=None: rnn(a, h, scribble=True), np.zeros(3), method="exact")
    got = ex.explain(x, **kw)
    assert ex.uses_hidden_states
    np.testing.assert_allclose(got.event.values, ref.event.values, rtol=0, atol=1e-12)


def test_output_width_or_dtype_changing_between_calls_is_an_error():
    calls = {"n": 0}

    def widening(x):
        calls["n"] += 1
        s = linear(x)
        return s if calls["n"] < 3 else np.c_[s, s]

    with pytest.raises(ValueError, match=r"returned 2 output\(s\) per row .* but 1 .* earlier"):
        SequenceExplainer(widening, np.zeros(3), method="exact").explain(_seq(), pruning_tol=None)

    def retyped(x):
        calls["n"] += 1
        s = linear(x)
        return s if calls["n"] % 2 else np.round(s).astype(np.int64)  # float, then integers

    calls["n"] = 0
    with pytest.raises(ValueError, match="dtype integer on this call but 1 of dtype float"):
        KernelExplainer(lambda z: retyped(z[:, None]), np.zeros((2, 3))).shap_values(
            np.ones((1, 3))
        )


@pytest.mark.parametrize("fn", [lambda x: 0.5, lambda x: np.asarray(x).sum()])
def test_scalar_output_is_a_clear_error(fn):
    with pytest.raises(ValueError, match=r"returned a single number .* one score per row"):
        SequenceExplainer(fn, np.zeros(3)).explain(_seq(), pruning_tol=None)
    with pytest.raises(ValueError, match=r"returned a single number"):
        KernelExplainer(fn, np.zeros((2, 3)))


def test_logit_link_refuses_values_outside_0_1_and_keeps_saturated_ones_finite():
    with pytest.raises(ValueError, match=r"link='logit' .* outside \[0, 1\].*link='identity'"):
        SequenceExplainer(linear, np.zeros(3), link="logit").explain(_seq(), pruning_tol=None)

    def saturated(x):
        return (linear(x) > 0).astype(float)  # probabilities exactly 0 or 1

    exp = SequenceExplainer(saturated, np.zeros(3), link="logit", method="exact").explain(
        _seq(), levels=("event",), pruning_tol=None
    )
    assert np.isfinite(exp.event.values).all()
    assert np.abs(exp.event.values).max() <= 2 * 27.7
