"""Resume never mixes runs: another model is refused, changed data and unreadable parts are
recomputed, and the result equals a clean run over what is given now.

The property test starts from any state a kill can leave (any subset of finished parts, maybe a
half-written temporary file), then changes the model, the data (values, order or length) or
corrupts a part (cut short, a byte changed, replaced, emptied), resumes, and compares with a
clean run.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqshap.runner import explain_many
from seqshap.runner._fingerprint import model_differences
from seqshap.runner._store import read_parts
from seqshap.sequence import SequenceExplainer

pytest.importorskip("pyarrow")

N, CHUNK = 10, 3
N_CHUNKS = -(-N // CHUNK)
KW = dict(levels=("event", "feature"), pruning_tol=[0.01, 0.05], chunk_size=CHUNK, progress=False)


class NumpyRNN:
    """f(x, h=None) -> (scores, h); elementwise arithmetic (row results batch-independent)."""

    def __init__(self, seed=0, d=3, hidden=4):
        g = np.random.default_rng(seed)
        self.w = g.normal(size=(d, hidden)) * 0.8
        self.u = g.normal(size=(hidden, hidden)) * 0.5
        self.v = g.normal(size=hidden) * 1.5
        self.hidden = hidden

    def __call__(self, x, h=None):
        x = np.asarray(x, dtype=float)
        hs = np.zeros((len(x), self.hidden)) if h is None else np.asarray(h)[0]
        for t in range(x.shape[1]):
            hs = np.tanh((x[:, t, :, None] * self.w).sum(1) + (hs[:, :, None] * self.u).sum(1))
        return (1.0 / (1.0 + np.exp(-(hs * self.v).sum(1))))[:, None], hs[None]


def _data(n=N, seed=3):
    g = np.random.default_rng(seed)
    return [(f"id-{i}", g.normal(size=(int(g.integers(3, 7)), 3))) for i in range(n)]


def _explainer(seed=0):
    return SequenceExplainer(NumpyRNN(seed), np.zeros(3), method="kernel", budget=24, seed=11)


_CLEAN: dict = {}


def _clean(key, data):
    """A clean in-memory run over ``data`` (cached by ``key``)."""
    if key not in _CLEAN:
        _CLEAN[key] = explain_many(_explainer(), data, **KW).table
    return _CLEAN[key]


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    explain_many(_explainer(), _data(), out=out, **KW)
    return out


def _killed(reference: Path, out: Path, kept, half_written: bool) -> None:
    out.mkdir()
    (out / "_run.json").write_bytes((reference / "_run.json").read_bytes())
    for index in kept:
        name = f"part-{index:06d}.parquet"
        (out / name).write_bytes((reference / name).read_bytes())
    if half_written:
        part = (reference / "part-000000.parquet").read_bytes()
        (out / ".part-000001.parquet.tmp-4242").write_bytes(part[: len(part) // 2])


def _corrupt(path: Path, how: str, where: float) -> None:
    raw = bytearray(path.read_bytes())
    at = min(int(where * len(raw)), len(raw) - 1)
    if how == "truncate":
        path.write_bytes(bytes(raw[:at]))
    elif how == "flip":
        raw[at] ^= 0x5A
        path.write_bytes(bytes(raw))
    elif how == "garbage":
        path.write_bytes(np.random.default_rng(at).bytes(len(raw)))
    else:  # empty
        path.write_bytes(b"")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kept=st.sets(st.integers(0, N_CHUNKS - 1)),
    half_written=st.booleans(),
    change=st.sampled_from(["none", "model", "values", "order", "shorter", "corrupt"]),
    which=st.integers(0, N - 1),
    how=st.sampled_from(["truncate", "flip", "garbage", "empty"]),
    where=st.floats(0.0, 1.0),
)
def test_resume_after_kill_and_change_equals_clean_run(
    tmp_path_factory, reference, kept, half_written, change, which, how, where
):
    out = tmp_path_factory.mktemp("resume") / "run"
    _killed(reference, out, kept, half_written)
    data, key = _data(), "same"
    if change == "model":
        with pytest.raises(ValueError, match="another model: model outputs on a fixed probe"):
            explain_many(_explainer(seed=1), data, out=out, **KW)
        assert sorted(p.name for p in out.glob("part-*")) == sorted(
            f"part-{i:06d}.parquet" for i in kept
        ), "a refused resume leaves the parts alone"
        return
    if change == "values":
        entity, x = data[which]
        data[which] = (entity, x + 0.25)
        key = ("values", which)
    elif change == "order":
        data = data[which:] + data[:which]
        key = ("order", which)
    elif change == "shorter":
        data = data[: which + 1]
        key = ("shorter", which)
    corrupted = None
    if change == "corrupt" and kept:
        corrupted = sorted(kept)[which % len(kept)]
        _corrupt(out / f"part-{corrupted:06d}.parquet", how, where)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run = explain_many(_explainer(), data, out=out, **KW)
    messages = [str(w.message) for w in caught]
    assert all(issubclass(w.category, RuntimeWarning) for w in caught), messages
    pd.testing.assert_frame_equal(run.table, _clean(key, data), check_exact=True)
    pd.testing.assert_frame_equal(read_parts(out), _clean(key, data), check_exact=True)
    n_chunks = -(-len(data) // CHUNK)
    assert sorted(p.name for p in out.glob("part-*.parquet")) == [
        f"part-{i:06d}.parquet" for i in range(n_chunks)
    ]
    if corrupted is not None and how in ("truncate", "garbage", "empty"):
        assert any("unreadable" in m and f"part-{corrupted:06d}" in m for m in messages)
        assert list(out.glob(f"part-{corrupted:06d}.parquet.corrupt*"))
    if change == "none":
        assert not caught and run.stats["n_explained"] == N - sum(
            min(CHUNK, N - i * CHUNK) for i in kept
        )


def test_changed_values_recompute_only_the_stale_chunk(tmp_path):
    data = _data()
    out = tmp_path / "run"
    explain_many(_explainer(), data, out=out, **KW)
    entity, x = data[4]
    data[4] = (entity, x * 1.5)  # chunk 1 (ids 3-5)
    with pytest.warns(RuntimeWarning, match=r"input of chunk 1 \(entities \['id-3'"):
        run = explain_many(_explainer(), data, out=out, **KW)
    assert run.stats["n_stale_chunks"] == 1 and run.stats["n_explained"] == 3
    pd.testing.assert_frame_equal(run.table, _clean(("values-x1.5", 4), data), check_exact=True)


def test_corrupt_part_is_named_moved_aside_and_recomputed(tmp_path):
    out = tmp_path / "run"
    explain_many(_explainer(), _data(), out=out, **KW)
    part = out / "part-000002.parquet"
    part.write_bytes(part.read_bytes()[:100])
    with pytest.warns(RuntimeWarning, match=r"part-000002\.parquet.* is unreadable .*recomputed"):
        run = explain_many(_explainer(), _data(), out=out, **KW)
    assert run.stats["n_corrupt_parts"] == 1 and run.stats["n_explained"] == 3
    assert (out / "part-000002.parquet.corrupt").is_file()
    pd.testing.assert_frame_equal(run.table, _clean("same", _data()), check_exact=True)


def test_tampered_metadata_is_caught(tmp_path):
    """A part rewritten with other metadata (another entity name) or other rows."""
    import pyarrow.parquet as pq

    out = tmp_path / "run"
    explain_many(_explainer(), _data(), out=out, **KW)
    part = out / "part-000001.parquet"
    table = pq.read_table(part)
    meta = json.loads(table.schema.metadata[b"seqshap"])
    meta["entities"][1] = "id-X"
    pq.write_table(
        table.replace_schema_metadata({**table.schema.metadata, b"seqshap": json.dumps(meta)}),
        part,
    )
    with pytest.warns(RuntimeWarning, match="metadata does not match its checksum"):
        run = explain_many(_explainer(), _data(), out=out, **KW)
    assert run.stats["n_explained"] == 3
    assert run.entities[3:6] == ["id-3", "id-4", "id-5"]
    frame = table.to_pandas()
    frame.loc[0, "value"] += 0.5
    pq.write_table(
        pa_table(frame).replace_schema_metadata({b"seqshap": table.schema.metadata[b"seqshap"]}),
        part,
    )
    with pytest.warns(RuntimeWarning, match="rows do not match their checksum"):
        run = explain_many(_explainer(), _data(), out=out, **KW)
    pd.testing.assert_frame_equal(run.table, _clean("same", _data()), check_exact=True)


def pa_table(frame):
    import pyarrow as pa

    return pa.Table.from_pandas(frame, preserve_index=False)


def test_unreadable_or_old_run_file_is_a_clear_error(tmp_path):
    out = tmp_path / "run"
    explain_many(_explainer(), _data(), out=out, **KW)
    run_file = out / "_run.json"
    doc = json.loads(run_file.read_text())
    run_file.write_text(run_file.read_text()[:40])
    with pytest.raises(ValueError, match=r"_run\.json' is unreadable .*resume=False"):
        explain_many(_explainer(), _data(), out=out, **KW)
    run_file.write_text(json.dumps({**doc, "version": 1}))
    with pytest.raises(ValueError, match="another version of seqshap .*resume=False"):
        explain_many(_explainer(), _data(), out=out, **KW)
    fresh = explain_many(_explainer(), _data(), out=out, resume=False, **KW)
    pd.testing.assert_frame_equal(fresh.table, _clean("same", _data()), check_exact=True)


def test_torch_weights_changed_below_the_probe_tolerance_are_refused(tmp_path):
    torch = pytest.importorskip("torch")

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(0)
            self.rnn = torch.nn.GRU(3, 4, batch_first=True)
            self.head = torch.nn.Linear(4, 1)

        def forward(self, x):
            return torch.sigmoid(self.head(self.rnn(x)[0][:, -1]))

    net = Net().eval()
    out = tmp_path / "run"
    ex = SequenceExplainer(net, np.zeros(3), method="kernel", budget=24, seed=11)
    explain_many(ex, _data(4), out=out, **KW)
    with torch.no_grad():
        net.head.bias += 1e-5  # within the probe tolerance, visible in the weights digest
    ex = SequenceExplainer(net, np.zeros(3), method="kernel", budget=24, seed=11)
    with pytest.raises(ValueError, match="another model: model torch state_dict"):
        explain_many(ex, _data(4), out=out, **KW)


def test_model_differences_in_words():
    base = {"type": "A", "weights": None, "probe_length": 4, "probe_outputs": [[0.5], [0.25]]}
    assert model_differences(base, dict(base)) == []
    near = {**base, "probe_outputs": [[0.5 + 1e-9], [0.25]]}
    assert model_differences(base, near) == []  # rounding of another thread count
    far = {**base, "probe_outputs": [[0.5], [0.2]]}
    assert model_differences(base, far) == ["model outputs on a fixed probe (differ by up to 0.05)"]
    wide = {**base, "probe_outputs": [[0.5, 0.5], [0.25, 0.75]]}
    assert "output shape" in model_differences(base, wide)[0]
    assert "model type" in model_differences(base, {**base, "type": "B"})[0]


def test_opening_a_run_with_a_corrupt_part_names_the_part(tmp_path):
    from seqshap import GlobalRun, SavedFileError

    out = tmp_path / "run"
    explain_many(_explainer(), _data(), out=out, **KW)
    part = out / "part-000001.parquet"
    part.write_bytes(part.read_bytes()[:-20])
    with pytest.raises(SavedFileError, match=r"part-000001\.parquet' cannot be read .*again"):
        _ = GlobalRun.open(out).table
    with pytest.raises(SavedFileError, match=r"part-000001\.parquet"):
        _ = GlobalRun.open(out).errors
