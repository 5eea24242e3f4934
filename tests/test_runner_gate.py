"""Property-based tests of the runner's data gate: NaN, wrong width, ragged lengths, entity ids.

For any mix of good and bad sequences, ``on_error="skip"`` explains exactly the good ones and
reports exactly the bad ones (entity, position, reason); ``on_error="raise"`` stops at the
first bad one, naming it, with every earlier chunk written.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqshap.runner import SequenceError, explain_many
from seqshap.runner._store import read_parts
from seqshap.sequence import SequenceExplainer

pytest.importorskip("pyarrow")

D = 2


def linear_model(x):
    """Scores = weighted sum of all cells (any length); exact values are easy to check."""
    x = np.asarray(x, dtype=float)
    return (x * np.array([1.0, -2.0])).sum(axis=(1, 2))[:, None]


KINDS = ("good", "nan", "inf", "wide", "narrow", "empty", "bad_id", "dup_id", "text")


@st.composite
def streams(draw):
    n = draw(st.integers(1, 12))
    kinds = draw(st.lists(st.sampled_from(KINDS), min_size=n, max_size=n))
    seed = draw(st.integers(0, 2**16))
    g = np.random.default_rng(seed)
    items, expect_bad = [], {}
    used: list[str] = []  # valid ids met so far (of good and bad sequences alike)
    for i, kind in enumerate(kinds):
        length = int(g.integers(1, 6))  # ragged lengths
        x = g.normal(size=(length, D))
        ent: object = f"s{i}" if i % 2 else i  # ints and strings
        if kind == "dup_id" and not used:
            kind = "good"
        if kind == "nan":
            x[g.integers(length), g.integers(D)] = np.nan
        elif kind == "inf":
            x[0, 0] = np.inf
        elif kind == "wide":
            x = g.normal(size=(length, D + 1))
        elif kind == "narrow":
            x = g.normal(size=(length, D - 1))
        elif kind == "empty":
            x = np.zeros((0, D))
        elif kind == "bad_id":
            ent = draw(st.sampled_from([None, 1.5, True, ("a", 1)]))
        elif kind == "dup_id":
            ent = used[0]
        elif kind == "text":
            x = [["a", "b"]] * length
        if kind not in ("bad_id", "dup_id"):
            used.append(str(ent))
        if kind != "good":
            expect_bad[i] = kind
        items.append((ent, x))
    return items, expect_bad


REASON = {
    "nan": "contains NaN or infinite values",
    "inf": "contains NaN or infinite values",
    "wide": "features per event",
    "narrow": "features per event",
    "empty": "empty sequence",
    "bad_id": "entity id must be",
    "dup_id": "repeated entity id",
    "text": "numeric",
}


def _explainer():
    return SequenceExplainer(linear_model, np.zeros(D), seed=0)


KW = dict(levels=("feature",), pruning_tol=None, progress=False, chunk_size=3)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_skip_reports_exactly_the_bad_sequences(stream):
    items, expect_bad = stream
    good = [i for i in range(len(items)) if i not in expect_bad]
    run = explain_many(_explainer(), iter(items), on_error="skip", **KW)
    errors = run.errors
    assert list(errors["position"]) == sorted(expect_bad)
    for pos, reason in zip(errors["position"], errors["reason"]):
        assert REASON[expect_bad[pos]] in reason
    table = run.table
    assert sorted(set(table["position"])) == good
    assert len(run.entities) == len(items)
    # linear model, zero baseline: feature j's value is w_j * sum_t x[t, j]
    for pos in good:
        x = np.asarray(items[pos][1], dtype=float)
        rows = table[table["position"] == pos]
        np.testing.assert_allclose(rows["value"], x.sum(0) * np.array([1.0, -2.0]), atol=1e-9)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(streams())
def test_raise_names_the_first_bad_sequence_and_keeps_earlier_chunks(tmp_path_factory, stream):
    items, expect_bad = stream
    out = tmp_path_factory.mktemp("run")
    if not expect_bad:
        explain_many(_explainer(), iter(items), out=out, **KW)
        assert sorted(set(read_parts(out)["position"])) == list(range(len(items)))
        return
    first = min(expect_bad)
    with pytest.raises(SequenceError) as info:
        explain_many(_explainer(), iter(items), out=out, **KW)
    assert info.value.position == first
    assert REASON[expect_bad[first]] in info.value.reason
    written = set(read_parts(out)["position"]) if any(out.glob("part-*")) else set()
    before = {i for i in range(first - first % 3) if i not in expect_bad}
    assert written == before  # every chunk before the bad one, nothing after
