"""Argument constraints declared as data (seqshap._validation): one check, one message, used
by SequenceExplainer, explain_global and explain_many alike."""

from __future__ import annotations

import numpy as np
import pytest

from seqshap._validation import Budget, Flag, Integer, OneOf, Tolerance, validate
from seqshap.runner import explain_many
from seqshap.sequence import SequenceExplainer


def model(x):
    return np.asarray(x).sum(axis=(1, 2))[:, None]


@pytest.mark.parametrize(
    "constraint,value,expected",
    [
        (Integer(1), 3, 3),
        (Integer(0, none=True), None, None),
        (Tolerance(), 0.5, 0.5),
        (OneOf("a", "b"), "b", "b"),
        (OneOf(None, True, False), True, True),
        (Budget(), "auto", "auto"),
        (Budget(), 10, 10),
        (Flag(), np.bool_(False), False),
    ],
)
def test_valid_values_pass(constraint, value, expected):
    assert validate({"arg": value}, {"arg": constraint}) == {"arg": expected}


@pytest.mark.parametrize(
    "constraint,value,err,match",
    [
        (Integer(1), 0, ValueError, "arg must be >= 1; received 0"),
        (Integer(1), True, TypeError, "arg must be an integer"),
        (Tolerance(none=False), None, TypeError, "arg must be a finite number"),
        (OneOf("a", "b"), "c", ValueError, r"arg must be one of \['a', 'b'\]; received 'c'"),
        (OneOf(None, True, False, error=TypeError), 1, TypeError, "None, True or False"),
        (Budget(), "lots", ValueError, "None or 'auto'"),
        (Flag(), 1, TypeError, "arg must be True or False"),
    ],
)
def test_bad_values_are_named(constraint, value, err, match):
    with pytest.raises(err, match=match):
        validate({"arg": value}, {"arg": constraint})


@pytest.mark.parametrize(
    "call,match",
    [
        (lambda ex, x: ex.explain(x, top_events=-1), "top_events must be >= 0"),
        (lambda ex, x: ex.explain_global(x[None], window=0), "window must be >= 1"),
        (lambda ex, x: explain_many(ex, x[None], window=0, progress=False), "window must be >= 1"),
        (lambda ex, x: ex.explain_global(x[None], chunk_size=0), "chunk_size must be >= 1"),
        (lambda ex, x: explain_many(ex, x[None], chunk_size=0, progress=False), "chunk_size must"),
        (lambda ex, x: ex.explain_level(x, "event", method="fast"), "method must be one of"),
    ],
)
def test_the_same_message_from_every_entry_point(call, match):
    ex = SequenceExplainer(model, np.zeros(2))
    with pytest.raises(ValueError, match=match):
        call(ex, np.ones((4, 2)))


def test_constructor_uses_the_declared_constraints():
    with pytest.raises(TypeError, match="recurrent must be None, True or False"):
        SequenceExplainer(model, np.zeros(2), recurrent="yes")
    with pytest.raises(ValueError, match="batch_size must be >= 1"):
        SequenceExplainer(model, np.zeros(2), batch_size=0)
