"""Per-call ``budget`` (int or "auto") and ``tol`` on SequenceExplainer, defaults from the
constructor; the stopping rule max SE ≤ tol · spread holds on what ``explain`` returns."""

from __future__ import annotations

import numpy as np
import pytest

from seqshap.sequence import SequenceExplainer

T, D = 14, 2
W = np.array([0.9, -0.6])
DECAY = 0.8 ** np.arange(T)[::-1]


def model(x):
    """Additive, with a pair and a triple of the last events interacting (the triple: a game of
    order ≤ 2 has linear pair differences, and the kernel fit then gets it exactly from a
    handful of pairs, so no budget would miss the rule)."""
    h = np.tanh(np.asarray(x) @ W)  # (n, T)
    triple = h[:, -1] * h[:, -2] * h[:, -3]
    return ((h * DECAY).sum(1) + 2.0 * h[:, -1] * h[:, -2] + 1.5 * triple)[:, None]


@pytest.fixture
def x():
    return np.random.default_rng(3).normal(size=(T, D))


def _rel(exp):
    """Largest standard error over the spread of the values, per output."""
    v, se = exp.values[0], exp.std_errors[0]
    return se.max(axis=0) / (v.max(axis=0) - v.min(axis=0))


def test_auto_budget_meets_tol(x):
    ex = SequenceExplainer(model, np.zeros(D), method="kernel", seed=1)
    loc = ex.explain(
        x, levels=("event", "window"), window=3, pruning_tol=None, budget="auto", tol=0.05
    )
    for exp in (loc.event, loc.window):
        assert not exp.exact
        assert (_rel(exp) <= 0.05).all()
        assert exp.meta["budget_rule"] == {"budget": "auto", "tol": 0.05}
    # the rule is not met by chance: a small fixed budget misses it on the event level
    small = ex.explain(x, levels=("event",), pruning_tol=None, budget=40)
    assert (_rel(small.event) > 0.05).any()
    # values are close to exact ones within their standard errors
    exact = SequenceExplainer(model, np.zeros(D), method="exact").explain(
        x, levels=("event",), pruning_tol=None
    )
    err = np.abs(loc.event.values - exact.event.values)
    assert (err <= 5 * loc.event.std_errors + 1e-9).all()


def test_constructor_values_are_the_defaults(x):
    per_call = SequenceExplainer(model, np.zeros(D), method="kernel", seed=2).explain(
        x, levels=("event",), pruning_tol=None, budget="auto", tol=0.05
    )
    ex = SequenceExplainer(model, np.zeros(D), method="kernel", seed=2, budget="auto", tol=0.05)
    default = ex.explain(x, levels=("event",), pruning_tol=None)
    np.testing.assert_array_equal(default.event.values, per_call.event.values)
    np.testing.assert_array_equal(default.event.std_errors, per_call.event.std_errors)
    # a per-call value overrides the constructor's, and leaves the explainer unchanged
    fixed = ex.explain(x, levels=("event",), pruning_tol=None, budget=60, tol=None)
    assert fixed.event.budget == 60 and ex.budget == "auto" and ex.tol == 0.05


def test_explain_level_and_global_take_budget_and_tol(x):
    ex = SequenceExplainer(model, np.zeros(D), method="kernel", seed=4)
    lvl = ex.explain_level(x, "event", budget="auto", tol=0.05)
    assert (_rel(lvl) <= 0.05).all()
    loc = ex.explain(x, levels=("event",), pruning_tol=None, budget="auto", tol=0.05)
    np.testing.assert_array_equal(lvl.values, loc.event.values)
    run = ex.explain_global(
        np.stack([x, -x]), levels=("event",), pruning_tol=None, budget="auto", tol=0.05
    )
    for ent in ("0", "1"):
        f = run.level_frame("event")
        f = f[f.entity == ent]
        v, se = f.value.to_numpy(), f.std_error.to_numpy()
        assert se.max() <= 0.05 * (v.max() - v.min())


@pytest.mark.parametrize(
    "kwargs,err,match",
    [
        ({"budget": "lots"}, ValueError, "budget must be an integer number of evaluations"),
        ({"budget": 1}, ValueError, "at least 2"),
        ({"tol": -0.1}, ValueError, "tol must be >= 0"),
        ({"tol": "small"}, TypeError, "tol must be a finite number"),
    ],
)
def test_bad_budget_or_tol(x, kwargs, err, match):
    with pytest.raises(err, match=match):
        SequenceExplainer(model, np.zeros(D), **kwargs)
    ex = SequenceExplainer(model, np.zeros(D))
    with pytest.raises(err, match=match):
        ex.explain(x, pruning_tol=None, **kwargs)
