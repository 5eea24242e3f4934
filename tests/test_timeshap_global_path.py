"""The TimeSHAP façade's global functions on seqshap's one global path (explain_many): calls of
many sequences packed into shared model calls, each sequence seeded by (rs, entity, pruned
events), given pruning tables honoured, and an interrupted run with a path resumed."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import seqshap.timeshap as ts
from seqshap.runner import SequenceError, explain_many
from seqshap.sequence import SequenceExplainer
from seqshap.timeshap import _explain

T, D, N = 6, 2, 10
W = np.array([0.9, -0.6])
DECAY = 0.7 ** np.arange(T)[::-1]


class Model:
    """A plain scorer (n, T, d) -> (n, 1) with interactions; counts its calls; can fail."""

    def __init__(self, fail_after: int | None = None) -> None:
        self.calls = 0
        self.fail_after = fail_after

    def __call__(self, x):
        self.calls += 1
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("model went away")
        h = np.tanh(np.asarray(x) @ W)
        return ((h * DECAY).sum(1) + 1.5 * h[:, -1] * h[:, -2])[:, None]


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    return rng.normal(size=(N, T, D))


BASE = np.zeros(D)
EXACT = {"rs": 42, "nsamples": 4000}  # 2^(T+1) coalitions fit: exact values
SAMPLED = {"rs": 3, "nsamples": 12}  # 2^T = 64 coalitions: sampled


def test_global_values_equal_local_ones_and_calls_are_shared(data):
    model = Model()
    table = ts.event_explain_all(model, data, EXACT, baseline=BASE)
    global_calls = model.calls
    assert global_calls < N  # coalitions of many sequences share model calls
    model.calls = 0
    for i in range(N):
        local = ts.local_event(model, data[i : i + 1], EXACT, None, None, BASE, 0)
        rows = table[table["Entity"] == i]
        assert list(rows["Event"]) == list(local["Feature"])
        np.testing.assert_allclose(
            rows["Shapley Value"], local["Shapley Value"], rtol=0, atol=1e-12
        )
    assert model.calls >= N  # one sequence at a time: at least one call each


def test_sampled_values_follow_the_entity_not_the_position_or_chunk(data, monkeypatch):
    ids = [f"s{i}" for i in range(N)]
    frame = pd.DataFrame(
        [[ids[i], t, *data[i, t]] for i in range(N) for t in range(T)],
        columns=["id", "t", "a", "b"],
    )
    kw = dict(baseline=BASE, model_features=["a", "b"], entity_col="id", time_col="t")
    first = ts.event_explain_all(Model(), frame, SAMPLED, **kw)
    monkeypatch.setattr(_explain, "CHUNK_SIZE", 3)
    shuffled = frame.iloc[::-1].reset_index(drop=True)
    again = ts.event_explain_all(Model(), shuffled, SAMPLED, **kw)
    key = ["Entity", "t (event index)"]
    a = first.sort_values(key, kind="stable").reset_index(drop=True)
    b = again.sort_values(key, kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b, rtol=1e-12, atol=1e-12)
    # sampled (not exact), and another seed gives other values
    other = ts.event_explain_all(Model(), frame, {"rs": 4, "nsamples": 12}, **kw)
    assert (
        np.abs(other["Shapley Value"].to_numpy() - first["Shapley Value"].to_numpy()).max() > 1e-6
    )
    # the same values as explain_many with the same seed and entity ids
    ex = _explain.global_explainer(_explain.Engine(Model(), BASE), 3, 12)
    run = explain_many(
        ex, dict(zip(ids, data)), levels=("event",), pruning_tol=None, progress=False
    )
    np.testing.assert_allclose(first["Shapley Value"], run.table["value"], rtol=0, atol=1e-12)


def test_given_pruning_table_is_used(data):
    tols = [0.05, 0.1]
    prun = ts.prune_all(Model(), data, {"tol": tols}, baseline=BASE)
    assert set(prun["Tolerance"]) == {-1, *tols}
    prun = prun.copy()
    changed = (prun["Entity"] == 2) & (prun["Tolerance"] == 0.05)
    prun.loc[changed, "Pruning idx"] = -3.0  # keep 3 events
    table = ts.event_explain_all(Model(), data, EXACT, pruning_data=prun, baseline=BASE)
    rows = table[(table["Entity"] == 2) & (table["Tolerance"] == 0.05)]
    local = ts.local_event(Model(), data[2:3], EXACT, None, None, BASE, T - 3)
    assert list(rows["Event"]) == ["Event -1", "Event -2", "Event -3", "Pruned Events"]
    np.testing.assert_allclose(rows["Shapley Value"], local["Shapley Value"], rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="no pruning index for entity 9"):
        ts.event_explain_all(
            Model(), data, EXACT, pruning_data=prun[prun["Entity"] != 9], baseline=BASE
        )


def test_interrupted_run_with_a_path_resumes(data, tmp_path, monkeypatch):
    monkeypatch.setattr(_explain, "CHUNK_SIZE", 2)
    full = Model()
    want = ts.event_explain_all(
        full, data, {**SAMPLED, "path": str(tmp_path / "a.csv")}, baseline=BASE
    )
    assert not (tmp_path / "a.csv.run").exists()  # removed once the CSV is written
    path = tmp_path / "b.csv"
    with pytest.raises(SequenceError, match="model went away"):
        ts.event_explain_all(
            Model(fail_after=full.calls // 2), data, {**SAMPLED, "path": str(path)}, baseline=BASE
        )
    assert not path.exists()
    parts = list((tmp_path / "b.csv.run").glob("*/part-*.parquet"))
    assert 1 <= len(parts) < N // 2
    again = Model()
    got = ts.event_explain_all(again, data, {**SAMPLED, "path": str(path)}, baseline=BASE)
    assert again.calls < full.calls  # the finished chunks were not recomputed
    pd.testing.assert_frame_equal(got, want, rtol=1e-12, atol=1e-12)
    pd.testing.assert_frame_equal(pd.read_csv(path), pd.read_csv(tmp_path / "a.csv"))
    assert not (tmp_path / "b.csv.run").exists()


def test_explain_many_pruning_only_and_given_indexes(data):
    ex = SequenceExplainer(Model(), BASE, seed=0)
    with pytest.raises(ValueError, match="keep_curve=True"):
        explain_many(ex, data, levels=(), pruning_tol=0.05, progress=False)
    curves = explain_many(ex, data, levels=(), pruning_tol=0.05, keep_curve=True, progress=False)
    assert set(curves.table["level"]) == {"pruning"}
    searched = explain_many(ex, data, levels=("event",), pruning_tol=0.05, progress=False)
    pd.testing.assert_frame_equal(
        curves.pruning_frame(0.05), searched.pruning_frame(), check_dtype=False
    )
    given = {i: {0.05: int(v)} for i, v in enumerate(searched.pruning_frame()["pruned_index"])}
    fixed = explain_many(
        ex, data, levels=("event",), pruning_tol=0.05, pruned_indexes=given, progress=False
    )
    pd.testing.assert_frame_equal(fixed.table, searched.table, rtol=0, atol=1e-12)
    with pytest.raises(SequenceError, match="no pruned index for entity '3'"):
        explain_many(
            ex, data, levels=("event",), pruning_tol=0.05, progress=False,
            pruned_indexes={k: v for k, v in given.items() if k != 3},
        )  # fmt: skip
