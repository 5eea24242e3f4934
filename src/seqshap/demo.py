"""``seqshap demo``: the main job on an embedded default, offline.

Data: BasicMotions, shipped inside sktime's wheel (80 sequences × 100 steps × 6 sensor
channels, 4 activities; 40 train / 40 test). Model: a GRU(16) classifier trained by
``scripts/train_demo_model.py`` and shipped in ``seqshap/data`` as ONNX, run by onnxruntime
through its recurrent state path (no torch needed). Explains one test sequence locally
(pruning, event, feature and cell levels) and the whole test set globally, against the
mean event of the training set, and writes tidy tables (CSV and parquet), PNG and SVG plots
and, when :func:`seqshap.report` is available, an HTML report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._optional import import_optional
from .export import Exporter

DEMO_MODEL = "basic_motions_gru.onnx"
DEFAULT_OUT = "seqshap-demo"
#: the local example: the first test sequence of this activity
LOCAL_CLASS = "walking"


@dataclass
class DemoResult:
    """What the demo produced: the output folder, every file written, and a summary."""

    out: Path
    files: list[Path] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


def model_path() -> Path:
    """Path of the shipped demo model (inside the installed package)."""
    return Path(str(resources.files("seqshap") / "data" / DEMO_MODEL))


def model_info() -> dict[str, Any]:
    """Training record of the shipped model (classes, features, accuracies)."""
    return json.loads(model_path().with_suffix(".json").read_text())


def load_basic_motions() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(x_train, y_train, x_test, y_test)``: sequences ``(n, 100, 6)``, labels as strings."""
    datasets = import_optional("sktime.datasets", "the demo's BasicMotions data")
    x_tr, y_tr = datasets.load_basic_motions(split="train", return_type="numpy3D")
    x_te, y_te = datasets.load_basic_motions(split="test", return_type="numpy3D")

    def to_seq(a: np.ndarray) -> np.ndarray:  # sktime's (n, d, T) -> seqshap's (n, T, d)
        return np.ascontiguousarray(np.transpose(a, (0, 2, 1)), dtype=float)

    lower = np.vectorize(lambda v: str(v).lower())
    return to_seq(x_tr), lower(y_tr), to_seq(x_te), lower(y_te)


def run_demo(
    out: str | Path = DEFAULT_OUT,
    *,
    tol: float = 0.025,
    n_test: int | None = None,
    log: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the demo and write its files under ``out``; ``log`` receives progress lines."""
    import_optional("onnxruntime", "the demo model")
    import_optional("pyarrow", "the demo's parquet tables")
    from .models import adapt
    from .sequence import SequenceExplainer

    say = log or (lambda _line: None)
    start = time.perf_counter()
    out = Path(out)
    export = Exporter(out / "tables", out / "plots")
    files = export.files

    x_tr, _, x_te, y_te = load_basic_motions()
    if n_test is not None:
        x_te, y_te = x_te[:n_test], y_te[:n_test]
    info = model_info()
    features, classes = info["features"], info["classes"]
    say(
        f"data   BasicMotions from sktime: {len(x_tr)} train / {len(x_te)} test sequences of "
        f"{x_te.shape[1]} steps x {x_te.shape[2]} channels, activities {', '.join(classes)}"
    )
    model = adapt(model_path(), threads=1)
    probs = model(x_te)
    pred = np.asarray(classes)[probs.argmax(1)]
    say(
        f"model  {DEMO_MODEL} (GRU(16), ONNX, {model_path().stat().st_size / 1024:.1f} kB) on "
        f"onnxruntime, state path {'on' if model.recurrent else 'off'}; test accuracy "
        f"{(pred == y_te).mean():.3f}"
    )
    export.table(
        pd.DataFrame(
            {"entity": [f"test-{j}" for j in range(len(x_te))], "label": y_te, "predicted": pred}
            | {f"p_{c}": probs[:, j] for j, c in enumerate(classes)}
        ),
        "predictions",
    )

    explainer = SequenceExplainer(
        model, "mean_event", data=x_tr, feature_names=features, output_names=classes
    )
    ids = [f"test-{j}" for j in range(len(x_te))]  # one id per sequence in every table
    hits = np.flatnonzero(y_te == LOCAL_CLASS)
    i = int(hits[0]) if len(hits) else 0
    k = int(probs[i].argmax())
    local = explainer.explain(
        x_te[i], levels=("event", "feature", "cell"), pruning_tol=tol, entity=ids[i]
    )
    say(
        f"local  test sequence {ids[i]} ({y_te[i]}, predicted {classes[k]} p={probs[i, k]:.3f}): "
        f"pruning at tol {tol} keeps the last {-local.pruning.pruned_index} of {x_te.shape[1]} "
        f"events; {local.event.n_players} event, {local.feature.n_players} feature and "
        f"{local.cell.n_players} cell players "
        f"({'exact' if local.feature.exact else local.feature.method} features)"
    )
    export.local(
        local,
        output=k,
        prefix="local_",
        level_tables=False,
        explanation_name="explanation",
        curve_name="pruning_curve",
    )

    tols = sorted({tol, *(t for t in (0.05, 0.1, 0.2) if t > tol)})
    glob = explainer.explain_global(
        x_te, levels=("event", "feature"), pruning_tol=tols, entity_ids=ids, labels=list(y_te)
    )
    stats = glob.pruning_stats()
    kept = stats.loc[stats["Tolerance"] == tol, "Mean"].iloc[0]
    say(
        f"global {len(x_te)} test sequences: pruning at tol {tol} keeps {kept:.1f} of "
        f"{x_te.shape[1]} events on average; event and feature values for every sequence"
    )
    name = classes[k]
    # one pair of global plots per predicted class: its sequences, explained for that class
    export.global_(glob, output="predicted", prefix="global_", full_table=False)
    # every sequence explained for its predicted class, one global section per class, the
    # true labels (given to explain_global) beside the predicted classes
    export.report(
        out / "report.html",
        local=local,
        global_=glob,
        output="predicted",
        title="seqshap demo: BasicMotions GRU",
    )

    seconds = time.perf_counter() - start
    summary = {
        "local_sequence": i,
        "local_label": str(y_te[i]),
        "explained_output": name,
        "pruned_index": int(local.pruning.pruned_index),
        "test_accuracy": float((pred == y_te).mean()),
        "mean_events_kept": float(kept),
        "seconds": round(seconds, 2),
    }
    return DemoResult(out=out, files=files, summary=summary, seconds=seconds)
