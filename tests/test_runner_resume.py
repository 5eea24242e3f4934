"""Crash safety: a run interrupted anywhere resumes to exactly the table of an uninterrupted run.

Two tests: kill points simulated by hypothesis (any subset of finished chunks, with or without
a half-written temporary file), and a real ``SIGKILL`` of a subprocess in the middle of a run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqshap.runner import explain_many
from seqshap.runner._store import read_parts
from seqshap.sequence import SequenceExplainer

pytest.importorskip("pyarrow")

MODEL_SRC = '''
import numpy as np


class NumpyRNN:
    """f(x, h=None) -> (scores, h); elementwise arithmetic (row results batch-independent)."""

    def __init__(self, d=3, hidden=4, seed=0, hold_after=None):
        g = np.random.default_rng(seed)
        self.w = g.normal(size=(d, hidden)) * 0.8
        self.u = g.normal(size=(hidden, hidden)) * 0.5
        self.v = g.normal(size=hidden) * 1.5
        self.hidden = hidden
        # (out folder, n): once n parts are on disk, every call announces it and blocks, so a
        # test can kill the run mid-way without racing a clock
        self.hold_after = hold_after

    def __call__(self, x, h=None):
        if self.hold_after is not None:
            import pathlib
            import time

            out, n = self.hold_after
            if len(list(pathlib.Path(out).glob("part-*.parquet"))) >= n:
                (pathlib.Path(out).parent / "holding").touch()
                while True:
                    time.sleep(1)
        x = np.asarray(x, dtype=float)
        hs = np.zeros((len(x), self.hidden)) if h is None else np.asarray(h)[0]
        for t in range(x.shape[1]):
            hs = np.tanh((x[:, t, :, None] * self.w).sum(1) + (hs[:, :, None] * self.u).sum(1))
        return (1.0 / (1.0 + np.exp(-(hs * self.v).sum(1))))[:, None], hs[None]


def data(n, seed=3):
    g = np.random.default_rng(seed)
    for i in range(n):  # a generator: streamed, never a list
        yield f"id-{i}", g.normal(size=(int(g.integers(3, 8)), 3))
'''

ns: dict = {}
exec(compile(MODEL_SRC, "<runner-test-model>", "exec"), ns)
NumpyRNN, data = ns["NumpyRNN"], ns["data"]

N, CHUNK = 14, 3
KW = dict(
    levels=("event", "feature"),
    pruning_tol=[0.01, 0.05],
    chunk_size=CHUNK,
    progress=False,
)


def _explainer():
    return SequenceExplainer(NumpyRNN(), np.zeros(3), method="kernel", budget=24, seed=11)


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("reference")
    explain_many(_explainer(), data(N), out=out, **KW)
    return out, read_parts(out)


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kept=st.sets(st.integers(0, (N - 1) // CHUNK)),
    half_written=st.booleans(),
)
def test_resume_from_any_set_of_finished_chunks(tmp_path_factory, reference, kept, half_written):
    ref_dir, ref_table = reference
    out = tmp_path_factory.mktemp("resume")
    # the state a kill leaves: the run file, some finished parts (any subset: workers finish
    # out of order), maybe a temporary file cut short mid-write
    (out / "_run.json").write_bytes((ref_dir / "_run.json").read_bytes())
    for index in kept:
        name = f"part-{index:06d}.parquet"
        (out / name).write_bytes((ref_dir / name).read_bytes())
    if half_written:
        part = (ref_dir / "part-000000.parquet").read_bytes()
        (out / ".part-000001.parquet.tmp-4242").write_bytes(part[: len(part) // 2])
    run = explain_many(_explainer(), data(N), out=out, **KW)
    n_chunks = -(-N // CHUNK)
    recomputed = sum(min(CHUNK, N - i * CHUNK) for i in range(n_chunks) if i not in kept)
    assert run.stats["n_explained"] == recomputed  # only unfinished sequences are recomputed
    pd.testing.assert_frame_equal(run.table, ref_table, check_exact=True)
    assert not list(out.glob(".part-*"))
    assert run.table.groupby(["position", "tol", "level", "player"]).size().max() == 1


def test_sigkill_mid_run_then_resume_equals_uninterrupted(tmp_path):
    n = 40
    mod = tmp_path / "killmodel.py"
    mod.write_text(MODEL_SRC)
    script = tmp_path / "run.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            import numpy as np
            sys.path.insert(0, {str(tmp_path)!r})
            from killmodel import NumpyRNN, data
            from seqshap.runner import explain_many
            from seqshap.sequence import SequenceExplainer

            hold = (sys.argv[1], 3) if sys.argv[2] == "hold" else None
            ex = SequenceExplainer(NumpyRNN(hold_after=hold), np.zeros(3), method="kernel",
                                   budget=24, seed=11)
            explain_many(ex, data({n}), out=sys.argv[1], levels=("event", "feature"),
                         pruning_tol=[0.01, 0.05], chunk_size=2, concurrency=2,
                         progress=False)
            """
        )
    )
    out = tmp_path / "killed"
    holding = tmp_path / "holding"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen([sys.executable, str(script), str(out), "hold"], env=env)
    n_chunks = n // 2
    try:
        # no clock: the model blocks once 3 parts are written and says so; a run that ends
        # (or fails) before that is a failure, not a race
        while not holding.exists():
            if proc.poll() is not None:
                pytest.fail(f"the run ended (exit {proc.returncode}) before it could be killed")
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_at_kill = len(list(out.glob("part-*.parquet")))
    assert 3 <= done_at_kill < n_chunks, "the kill must land mid-run"
    # the same command again resumes and finishes
    subprocess.run([sys.executable, str(script), str(out), "run"], env=env, check=True)
    clean = tmp_path / "clean"
    subprocess.run([sys.executable, str(script), str(clean), "run"], env=env, check=True)
    resumed, uninterrupted = read_parts(out), read_parts(clean)
    assert len(uninterrupted) > 0
    pd.testing.assert_frame_equal(resumed, uninterrupted, check_exact=True)
    assert sorted(p.name for p in Path(out).iterdir() if p.name.startswith("part-")) == [
        f"part-{i:06d}.parquet" for i in range(n_chunks)
    ]
