"""The demo: shipped model, tables consistent with the theory, no torch needed."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("onnxruntime")
pytest.importorskip("sktime")
pytest.importorskip("pyarrow")

from seqshap.demo import load_basic_motions, model_info, model_path  # noqa: E402
from seqshap.models import adapt  # noqa: E402


def test_shipped_model_is_small_recurrent_and_accurate():
    path = model_path()
    assert path.is_file() and path.stat().st_size < 1_000_000
    model = adapt(path, threads=1)
    assert model.recurrent and model.output_names == model_info()["classes"]
    _, _, x_te, y_te = load_basic_motions()
    assert x_te.shape == (40, 100, 6)
    probs = model(x_te)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-5)
    accuracy = (np.asarray(model.output_names)[probs.argmax(1)] == y_te).mean()
    assert accuracy == pytest.approx(model_info()["test_accuracy"], abs=1e-9)
    # state path == plain path on the shipped graph
    _, state = model.forward(x_te[:5, :60])
    np.testing.assert_allclose(model.forward(x_te[:5, 60:], state)[0], probs[:5], atol=1e-6)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """``seqshap demo`` end to end in a fresh interpreter; it must not import torch & co."""
    out = tmp_path_factory.mktemp("demo") / "out"
    code = (
        "import sys; from seqshap.cli import main; "
        f"code = main(['demo', '--out', {str(out)!r}]); "
        "heavy = [m for m in ('torch', 'keras', 'transformers') if m in sys.modules]; "
        "print('HEAVY', heavy); sys.exit(code)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return out, proc.stdout


def test_demo_prints_what_it_did_and_where_without_torch(demo):
    out, stdout = demo
    lines = stdout.splitlines()
    assert [line.split()[0] for line in lines[:4]] == ["data", "model", "local", "global"]
    assert "HEAVY []" in stdout
    assert f"files to {out}" in stdout
    listed = [out / line.strip() for line in lines if line.startswith("  ")]
    assert listed and all(f.is_file() and f.stat().st_size > 0 for f in listed)
    assert {".csv", ".parquet", ".png", ".svg"} <= {f.suffix for f in listed}
    for f in listed:
        if f.suffix == ".csv":
            pd.testing.assert_frame_equal(
                pd.read_csv(f), pd.read_parquet(f.with_suffix(".parquet")), check_dtype=False
            )


def test_demo_tables_satisfy_efficiency(demo):
    out, _ = demo
    tables = out / "tables"
    local = pd.read_csv(tables / "local_explanation.csv")
    for level, g in local.groupby("level"):
        for output, h in g.groupby("output"):
            gap = h["value"].sum() - (h["model_output"].iloc[0] - h["base_value"].iloc[0])
            assert abs(gap) < 1e-6, (level, output)
    # the explained outputs are the model's probabilities for the local sequence
    preds = pd.read_csv(tables / "predictions.csv")
    entity = local["entity"].iloc[0]
    i = preds.index[preds["entity"] == entity][0]
    for name, row in local[local["level"] == "feature"].groupby("output").first().iterrows():
        assert row["model_output"] == pytest.approx(preds.loc[i, f"p_{name}"], abs=1e-6)
    events = pd.read_csv(tables / "global_events.csv")
    assert events["entity"].nunique() == 40
    # one id per sequence everywhere: predictions, local and global tables use the same ids
    assert set(events["entity"]) == set(preds["entity"]) and entity in set(preds["entity"])
    # outputs carry the class names in every table
    assert (
        set(events["output"])
        == set(local["output"])
        == {c.split("p_", 1)[1] for c in preds.columns if c.startswith("p_")}
    )
    stats = pd.read_csv(tables / "global_pruning_stats.csv")
    kept = stats["Mean"].iloc[1:].to_numpy()
    assert np.all(np.diff(kept) <= 1e-9)  # larger tolerance, fewer events kept
