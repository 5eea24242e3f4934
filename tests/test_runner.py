"""seqshap.runner: batching across sequences, invariance to chunking/workers, inputs, store."""

from __future__ import annotations

import json
import os

import numpy as np
import pandas as pd
import pytest

from seqshap.runner import COLUMNS, GlobalRun, SequenceError, explain_many, map_shared
from seqshap.runner._store import read_parts
from seqshap.runner._work import RunOptions, explain_sequence
from seqshap.sequence import SequenceExplainer

pq = pytest.importorskip("pyarrow.parquet")


class NumpyRNN:
    """A small recurrent model in TimeSHAP's form ``f(x, h=None) -> (scores, h)``.

    Its arithmetic per row never depends on the other rows of the batch (elementwise products
    and reductions, no BLAS), so shared batches must give the one-at-a-time values bit for bit.
    """

    def __init__(self, d: int, hidden: int = 4, seed: int = 0) -> None:
        g = np.random.default_rng(seed)
        self.w = g.normal(size=(d, hidden)) * 0.8
        self.u = g.normal(size=(hidden, hidden)) * 0.5
        self.v = g.normal(size=hidden) * 1.5
        self.hidden = hidden
        self.calls = 0

    def __call__(self, x, h=None):
        self.calls += 1
        x = np.asarray(x, dtype=float)
        hs = np.zeros((len(x), self.hidden)) if h is None else np.asarray(h)[0]
        for t in range(x.shape[1]):
            pre = (x[:, t, :, None] * self.w).sum(1) + (hs[:, :, None] * self.u).sum(1)
            hs = np.tanh(pre)
        score = 1.0 / (1.0 + np.exp(-(hs * self.v).sum(1)))
        return score[:, None], hs[None]


def _data(n=13, t=7, d=3, seed=1, ragged=True):
    g = np.random.default_rng(seed)
    lengths = g.integers(2, t + 1, size=n) if ragged else np.full(n, t)
    return [(f"e{i}", g.normal(size=(int(lengths[i]), d))) for i in range(n)]


def _explainer(method="auto", budget=None, d=3, **kw):
    return SequenceExplainer(NumpyRNN(d), np.zeros(d), method=method, budget=budget, seed=7, **kw)


KW = dict(levels=("event", "feature"), pruning_tol=[0.01, 0.05], progress=False)


@pytest.mark.parametrize("method,budget", [("auto", None), ("kernel", 40)])
def test_same_table_whatever_chunk_size_and_concurrency(method, budget):
    data = _data()
    ex = _explainer(method, budget)
    ref = explain_many(ex, data, chunk_size=13, concurrency=1, **KW).table
    assert len(ref) and ref["position"].is_monotonic_increasing
    for chunk_size, concurrency in [(1, 1), (4, 3), (5, 16), (13, 13)]:
        got = explain_many(ex, data, chunk_size=chunk_size, concurrency=concurrency, **KW).table
        pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_shared_batches_equal_one_at_a_time_and_fewer_calls():
    """map_shared packs the calls of concurrent estimations; values are bit-identical."""
    data = _data(n=9, ragged=False)
    ex = _explainer("kernel", 30)
    ex.prepare(data[0][1])
    model = ex.plan.model
    opts = RunOptions(levels=("event", "feature"), tolerances=(0.02,))

    def one(shared_model, item):
        local = ex.plan.with_model(shared_model)
        _, res = explain_sequence(local, item[1], item[0], opts, entropy=3)
        return np.concatenate([e.values.ravel() for _, loc in res for e in loc.levels.values()])

    counter = ex.model
    before = counter.calls
    alone = map_shared(one, data, model, concurrency=1)
    calls_alone = counter.calls - before
    before = counter.calls
    shared = map_shared(one, data, model, concurrency=9)
    calls_shared = counter.calls - before
    for a, b in zip(alone, shared):
        assert not isinstance(a, Exception)
        np.testing.assert_array_equal(a, b)
    assert calls_shared < calls_alone / 3


def test_torch_gru_shared_batches_match_to_float32_rounding():
    torch = pytest.importorskip("torch")
    from torch import nn

    class GRU(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(3, 6, batch_first=True)
            self.lin = nn.Linear(6, 1)

        def forward(self, x, h=None):
            _, hn = self.rnn(x) if h is None else self.rnn(x, h)
            return torch.sigmoid(self.lin(hn[-1])), hn

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = GRU().eval()
    ex = SequenceExplainer(model, np.zeros(3), seed=1)
    data = _data(n=8)
    a = explain_many(ex, data, concurrency=1, **KW).table
    b = explain_many(ex, data, concurrency=8, chunk_size=3, **KW).table
    c = explain_many(ex, data, concurrency=8, chunk_size=3, **KW).table
    np.testing.assert_allclose(a["value"], b["value"], atol=1e-6)
    pd.testing.assert_frame_equal(b, c, check_exact=True)  # same calls: same bits
    assert not model.training


def test_exact_values_equal_sequence_explainer():
    data = _data(n=4)
    ex = _explainer()
    run = explain_many(ex, data, levels=("event", "feature"), pruning_tol=0.02, progress=False)
    t = run.table
    for pos, (_ent, x) in enumerate(data):
        loc = ex.explain(x, levels=("event", "feature"), pruning_tol=0.02)
        for level in ("event", "feature"):
            rows = t[(t["position"] == pos) & (t["level"] == level)]
            exp = getattr(loc, level)
            assert list(rows["player"]) == exp.player_names
            np.testing.assert_allclose(rows["value"], exp.values[0, :, 0], atol=1e-12)
            assert rows["pruned_index"].iloc[0] == loc.pruning.pruned_index
            # efficiency: values sum to f(x) - base
            assert rows["value"].sum() == pytest.approx(
                rows["model_output"].iloc[0] - rows["base_value"].iloc[0], abs=1e-9
            )


def test_tolerances_share_one_pruning_curve_and_stats():
    data = _data(n=6, ragged=False)
    run = explain_many(_explainer(), data, keep_curve=True, **KW)
    pf = run.pruning_frame()
    assert len(pf) == 2 * len(data)
    curve = run.table[run.table["level"] == "pruning"]
    assert len(curve) == len(data) * 2 * (7 + 1)
    # the pruned index is TimeSHAP's rule on the stored curve
    for pos, group in pf.groupby("position"):
        older = curve[(curve["position"] == pos) & (curve["player"] == "older")]
        vals = older.sort_values("t", ascending=False)["value"].to_numpy()[:, None]
        from seqshap.sequence import pruned_index

        for tol, idx in zip(group["tol"], group["pruned_index"]):
            assert idx == pruned_index(vals, tol)
    stats = run.pruning_stats()
    assert list(stats["Tolerance"]) == ["No Pruning", 0.01, 0.05]
    assert stats["Mean"].iloc[1] >= stats["Mean"].iloc[2]  # a larger tolerance keeps fewer
    summary = run.summary("feature")
    assert set(summary["tol"]) == {0.01, 0.05}


def test_pruning_stopped_at_the_smallest_tolerance_gives_the_full_curve_table():
    data = _data(n=8, t=12, ragged=False)
    full = explain_many(_explainer(), data, full_curve=True, **KW).table
    stopped = explain_many(_explainer(), data, **KW).table
    assert full["pruned_index"].max() > -12  # something was pruned: the stop mattered
    pd.testing.assert_frame_equal(stopped, full, check_exact=True)


def test_inputs_dataframe_parquet_generator_give_the_same_table(tmp_path):
    data = _data(n=7)
    d = 3
    rows = []
    for ent, x in data:
        for t, row in enumerate(x):
            rows.append({"id": ent, "time": t, **{f"f{j}": row[j] for j in range(d)}})
    long = pd.DataFrame(rows)
    path = tmp_path / "long.parquet"
    # times reversed inside each entity: time_col restores the order
    by_entity = long.assign(key=long["id"].str[1:].astype(int)).sort_values(
        ["key", "time"], ascending=[True, False], kind="stable"
    )
    by_entity.drop(columns="key").to_parquet(path, row_group_size=5, index=False)
    ex = _explainer(feature_names=["f0", "f1", "f2"])
    ref = explain_many(ex, iter(data), **KW).table
    from_frame = explain_many(ex, long, entity_col="id", time_col="time", **KW).table
    from seqshap.runner import _inputs

    old = _inputs.PARQUET_BATCH_ROWS
    _inputs.PARQUET_BATCH_ROWS = 4  # entities straddle record batches
    try:
        from_pq = explain_many(ex, path, entity_col="id", time_col="time", **KW).table
    finally:
        _inputs.PARQUET_BATCH_ROWS = old
    pd.testing.assert_frame_equal(from_frame, ref, check_exact=True)
    pd.testing.assert_frame_equal(from_pq, ref, check_exact=True)


def test_parquet_non_contiguous_entity_is_reported(tmp_path):
    frame = pd.DataFrame(
        {"id": ["a", "a", "b", "a"], "f0": [0.1, 0.2, 0.3, 0.4], "f1": [1.0, 2.0, 3.0, 4.0]}
    )
    path = tmp_path / "bad.parquet"
    frame.to_parquet(path)
    ex = SequenceExplainer(NumpyRNN(2), np.zeros(2))
    run = explain_many(ex, path, entity_col="id", on_error="skip", pruning_tol=None, **_quiet())
    assert list(run.errors["entity"]) == ["a"]
    assert "not contiguous" in run.errors["reason"].iloc[0]
    assert set(run.table["entity"]) == {"a", "b"}  # the first, contiguous "a" was explained


def _quiet():
    return {"progress": False, "levels": ("feature",)}


def test_out_dir_parts_resume_and_fingerprint(tmp_path):
    data = _data(n=10)
    ex = _explainer()
    out = tmp_path / "run"
    run = explain_many(ex, data, out=out, chunk_size=3, **KW)
    assert sorted(p.name for p in out.glob("part-*.parquet")) == [
        f"part-{i:06d}.parquet" for i in range(4)
    ]
    ref = explain_many(ex, data, chunk_size=3, **KW).table
    pd.testing.assert_frame_equal(run.table, ref, check_exact=True)
    pd.testing.assert_frame_equal(GlobalRun.open(out).table, ref, check_exact=True)
    # a finished run: calling again computes nothing
    again = explain_many(ex, data, out=out, chunk_size=3, **KW)
    assert again.stats["n_explained"] == 0
    # other settings are refused, naming what differs
    with pytest.raises(ValueError, match="chunk_size"):
        explain_many(ex, data, out=out, chunk_size=4, **KW)
    # other data is refused
    with pytest.raises(ValueError, match="input differs"):
        explain_many(ex, data[::-1], out=out, chunk_size=3, **KW)
    # resume=False starts over
    fresh = explain_many(ex, data, out=out, chunk_size=4, resume=False, **KW)
    assert fresh.stats["n_explained"] == 10
    assert json.loads((out / "_run.json").read_text())["fingerprint"]["chunk_size"] == 4


def test_seed_none_is_stored_and_reused_on_resume(tmp_path):
    data = _data(n=6)
    ex = SequenceExplainer(NumpyRNN(3), np.zeros(3), method="kernel", budget=30, seed=None)
    out = tmp_path / "run"
    first = explain_many(ex, data, out=out, chunk_size=2, **KW).table
    os.remove(out / "part-000001.parquet")
    resumed = explain_many(ex, data, out=out, chunk_size=2, **KW)
    assert resumed.stats["n_explained"] == 2
    pd.testing.assert_frame_equal(resumed.table, first, check_exact=True)


def test_on_error_raise_keeps_finished_parts(tmp_path):
    data = _data(n=9)
    bad = data[7][1].copy()
    bad[0, 1] = np.nan
    data[7] = ("e7", bad)
    out = tmp_path / "run"
    ex = _explainer()
    with pytest.raises(SequenceError, match=r"'e7' \(position 7.*NaN") as info:
        explain_many(ex, data, out=out, chunk_size=3, **KW)
    assert info.value.entity == "e7" and info.value.position == 7
    done = read_parts(out)
    assert sorted(set(done["position"])) == list(range(6))  # chunks before the bad one kept
    skipped = explain_many(ex, data, out=out, chunk_size=3, on_error="skip", **KW)
    assert list(skipped.errors["entity"]) == ["e7"]
    assert sorted(set(skipped.table["position"])) == [0, 1, 2, 3, 4, 5, 6, 8]


def test_model_failure_on_one_sequence_is_reported():
    class Fussy(NumpyRNN):
        def __call__(self, x, h=None):
            if np.any(np.asarray(x) > 50):
                raise RuntimeError("overflow in the model")
            return super().__call__(x, h)

    data = _data(n=5)
    data[2] = ("e2", data[2][1] + 100.0)
    ex = SequenceExplainer(Fussy(3), np.zeros(3), seed=0)
    ex.prepare(data[0][1])  # probe on a good sequence
    run = explain_many(ex, data, on_error="skip", concurrency=4, **KW)
    assert list(run.errors["entity"]) == ["e2"]
    assert "overflow in the model" in run.errors["reason"].iloc[0]
    assert sorted(set(run.table["entity"])) == ["e0", "e1", "e3", "e4"]
    with pytest.raises(SequenceError, match="overflow"):
        explain_many(ex, data, on_error="raise", concurrency=4, **KW)


def test_processes_backend_same_table():
    pytest.importorskip("joblib")
    data = _data(n=8)
    ex = _explainer()
    ref = explain_many(ex, data, chunk_size=8, **KW).table
    got = explain_many(ex, data, n_jobs=2, chunk_size=3, **KW).table
    pd.testing.assert_frame_equal(got, ref, check_exact=True)


def test_progress_bar_and_silence(capsys):
    data = _data(n=4)
    explain_many(_explainer(), data, levels=("feature",), pruning_tol=None, progress=True)
    err = capsys.readouterr().err
    assert "seq/s" in err and "4/4" in err
    explain_many(_explainer(), data, levels=("feature",), pruning_tol=None, progress=False)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_user_objects_untouched():
    data = _data(n=3)
    arrays = [x.copy() for _, x in data]
    ex = _explainer()
    explain_many(ex, data, **KW)
    assert not ex.plan.prepared and ex.feature_names is None
    for (_, x), y in zip(data, arrays):
        np.testing.assert_array_equal(x, y)


def test_bad_arguments():
    ex = _explainer()
    data = _data(n=2)
    with pytest.raises(TypeError, match="SequenceExplainer"):
        explain_many(lambda x: x, data)
    with pytest.raises(ValueError, match="on_error"):
        explain_many(ex, data, on_error="ignore")
    with pytest.raises(ValueError, match="backend"):
        explain_many(ex, data, backend="spark")
    with pytest.raises(ValueError, match="chunk_size"):
        explain_many(ex, data, chunk_size=0)
    with pytest.raises(ValueError, match="no sequences"):
        explain_many(ex, [], progress=False)
    with pytest.raises(ValueError, match="entity_col"):
        explain_many(ex, pd.DataFrame({"a": [1.0]}), progress=False)


def test_columns_are_documented():
    run = explain_many(_explainer(), _data(n=2), **KW)
    assert tuple(run.table.columns) == COLUMNS


def test_explain_global_concurrency_gives_the_same_values():
    data = [x for _, x in _data(n=6)]
    ex = _explainer("kernel", 30)
    one = ex.explain_global(data, levels=("event", "feature"), pruning_tol=0.02)
    many = ex.explain_global(data, levels=("event", "feature"), pruning_tol=0.02, concurrency=6)
    for a, b in zip(one.locals, many.locals):
        for level in ("event", "feature"):
            np.testing.assert_array_equal(getattr(a, level).values, getattr(b, level).values)
