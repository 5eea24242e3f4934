"""SequenceExplainer(order=...): the kernel estimator's fit chosen per explainer, passed to the
estimator unchanged, recorded in a run's fingerprint."""

from __future__ import annotations

import numpy as np
import pytest

from seqshap.estimators import estimate
from seqshap.runner import explain_many
from seqshap.sequence import SequenceExplainer


def model(x, h=None):
    """A tiny recurrent model f(x, h) -> (scores, h) with interactions between steps."""
    x = np.asarray(x, dtype=float)
    hs = np.zeros((len(x), 2)) if h is None else np.asarray(h)[0]
    w = np.array([[0.7, -0.4], [0.2, 0.9], [-0.5, 0.3]])
    for t in range(x.shape[1]):
        hs = np.tanh((x[:, t, :, None] * w).sum(1) + 0.8 * hs[:, ::-1] * hs)
    return (hs[:, :1] - 0.5 * hs[:, 1:]), hs[None]


@pytest.fixture
def x():
    return np.random.default_rng(3).normal(size=(12, 3))


@pytest.mark.parametrize("order", [1, 3])
def test_order_reaches_the_kernel_estimator(x, order):
    ex = SequenceExplainer(model, np.zeros(3), method="kernel", budget=300, seed=7, order=order)
    assert ex.order == order
    got = ex.explain_level(x, "event")
    ref = estimate(ex.game(x, "event"), "kernel", 300, seed=7, order=order)
    np.testing.assert_allclose(got.values[0], ref.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(got.std_errors[0], ref.std_errors, rtol=0, atol=1e-12)
    # efficiency: the values sum to f(x) - f(baseline), computed by the model directly
    gap = model(x[None])[0][0] - model(np.zeros((1,) + x.shape))[0][0]
    np.testing.assert_allclose(got.values[0].sum(axis=0), gap, rtol=0, atol=1e-9)


def test_the_two_fits_differ_and_order_3_is_the_default(x):
    kw = dict(method="kernel", budget=300, seed=7)
    one = SequenceExplainer(model, np.zeros(3), order=1, **kw).explain_level(x, "event")
    three = SequenceExplainer(model, np.zeros(3), **kw).explain_level(x, "event")
    assert np.abs(one.values - three.values).max() > 1e-6


@pytest.mark.parametrize("bad", [2, True, "3", None])
def test_bad_order_is_refused_by_name(bad):
    with pytest.raises(ValueError, match="order"):
        SequenceExplainer(model, np.zeros(3), order=bad)


def test_resuming_a_run_with_another_order_is_refused(tmp_path, x):
    data = [("a", x), ("b", x[::-1].copy())]
    kw = dict(levels=("event",), pruning_tol=None, progress=False, out=tmp_path / "run")
    base = dict(method="kernel", budget=300, seed=7)
    explain_many(SequenceExplainer(model, np.zeros(3), order=3, **base), data, **kw)
    with pytest.raises(ValueError, match="order"):
        explain_many(SequenceExplainer(model, np.zeros(3), order=1, **base), data, **kw)


def test_resuming_a_run_begun_with_other_default_fits_is_refused(tmp_path, x, monkeypatch):
    """A run written when order=3 ran other fits (before the horseshoe fit, the linear fit
    below 3 pairs per player) is not resumed with values of the new ones."""
    from seqshap.estimators import kernel

    data = [("a", x), ("b", x[::-1].copy())]
    kw = dict(levels=("event",), pruning_tol=None, progress=False, out=tmp_path / "run")
    base = dict(method="kernel", budget=300, seed=7)
    monkeypatch.setattr(kernel, "FITS", "the fits of an earlier release")
    explain_many(SequenceExplainer(model, np.zeros(3), **base), data, **kw)
    monkeypatch.undo()
    with pytest.raises(ValueError, match="kernel_fits"):
        explain_many(SequenceExplainer(model, np.zeros(3), **base), data, **kw)
    # order=1 does not depend on them
    kw["out"] = tmp_path / "run1"
    monkeypatch.setattr(kernel, "FITS", "the fits of an earlier release")
    explain_many(SequenceExplainer(model, np.zeros(3), order=1, **base), data, **kw)
    monkeypatch.undo()
    explain_many(SequenceExplainer(model, np.zeros(3), order=1, **base), data, **kw)
