"""``seqshap demo``: the main job on an embedded default, offline.

Data: BasicMotions, shipped inside sktime's wheel (80 sequences × 100 steps × 6 sensor
channels, 4 activities; 40 train / 40 test). Model: a GRU(16) classifier trained by
``scripts/train_demo_model.py`` and shipped in ``seqshap/data`` as ONNX, run by onnxruntime
through its recurrent state path (no torch needed). Explains one test sequence locally
(pruning, event, feature and cell levels) and the whole test set globally, against the
mean event of the training set, and writes tidy tables (CSV and parquet), PNG and SVG plots
and, when :mod:`seqshap.report` is available, an HTML report.
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


def _write_table(frame: pd.DataFrame, stem: Path, files: list[Path]) -> None:
    frame = frame.copy()
    for col in frame.columns:  # parquet wants one type per column
        if frame[col].dtype == object:
            frame[col] = frame[col].map(lambda v: v if v is None else str(v))
    frame.to_csv(stem.with_suffix(".csv"), index=False)
    frame.to_parquet(stem.with_suffix(".parquet"), index=False)
    files += [stem.with_suffix(".csv"), stem.with_suffix(".parquet")]


def _save_plot(draw: Callable[[Any], Any], stem: Path, files: list[Path], size=(7.0, 4.5)) -> None:
    from matplotlib.figure import Figure  # no pyplot: no global state, no display needed

    fig = Figure(figsize=size, layout="constrained")
    draw(fig.add_subplot())
    for suffix in (".png", ".svg"):
        fig.savefig(stem.with_suffix(suffix), dpi=120)
        files.append(stem.with_suffix(suffix))


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
    from . import plots
    from .models import adapt
    from .sequence import SequenceExplainer

    say = log or (lambda _line: None)
    start = time.perf_counter()
    out = Path(out)
    tables, figures = out / "tables", out / "plots"
    tables.mkdir(parents=True, exist_ok=True)
    figures.mkdir(parents=True, exist_ok=True)
    files: list[Path] = []

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
    _write_table(
        pd.DataFrame(
            {"entity": [f"test-{j}" for j in range(len(x_te))], "label": y_te, "predicted": pred}
            | {f"p_{c}": probs[:, j] for j, c in enumerate(classes)}
        ),
        tables / "predictions",
        files,
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
    _write_table(local.to_frame(), tables / "local_explanation", files)
    _write_table(local.pruning.curve, tables / "local_pruning_curve", files)
    _save_plot(
        lambda ax: plots.pruning_plot(local.pruning, output=k, ax=ax),
        figures / "local_pruning",
        files,
    )
    _save_plot(
        lambda ax: plots.event_heatmap(local.event, output=k, ax=ax),
        figures / "local_events",
        files,
        (5.5, min(24.0, 1.5 + 0.2 * local.event.n_players)),
    )
    _save_plot(
        lambda ax: plots.bar(local.feature, output=k, ax=ax), figures / "local_features", files
    )
    _save_plot(
        lambda ax: plots.cell_heatmap(local.cell, output=k, ax=ax), figures / "local_cells", files
    )

    glob = explainer.explain_global(
        x_te, levels=("event", "feature"), pruning_tol=tol, entity_ids=ids
    )
    stats = glob.pruning_stats(sorted({tol, *(t for t in (0.05, 0.1, 0.2) if t > tol)}))
    kept = stats.loc[stats["Tolerance"] == tol, "Mean"].iloc[0]
    say(
        f"global {len(x_te)} test sequences: pruning at tol {tol} keeps {kept:.1f} of "
        f"{x_te.shape[1]} events on average; event and feature values for every sequence"
    )
    _write_table(glob.event_frame, tables / "global_events", files)
    _write_table(glob.feature_frame, tables / "global_features", files)
    _write_table(stats, tables / "pruning_stats", files)
    name = classes[k]
    # one pair of global plots per predicted class: its sequences, explained for that class
    events, features = glob.frame("event"), glob.frame("feature")
    for cls in classes:
        if not (events["predicted"] == cls).any():
            continue
        _save_plot(
            lambda ax, c=cls: plots.global_event_plot(events, output=c, ax=ax),
            figures / f"global_events_{cls}",
            files,
        )
        _save_plot(
            lambda ax, c=cls: plots.global_feature_plot(features, output=c, ax=ax),
            figures / f"global_features_{cls}",
            files,
        )
    _save_plot(lambda ax: plots.pruning_stats_plot(stats, ax=ax), figures / "pruning_stats", files)

    report = _maybe_report(local, glob, out / "report.html", list(y_te))
    if report is not None:
        files.append(report)
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


def _maybe_report(local: Any, glob: Any, path: Path, labels: list[str]) -> Path | None:
    """The self-contained HTML report, when :mod:`seqshap.report` is available: every sequence
    explained for its predicted class, one global section per class, labels beside them."""
    try:
        from .report import report
    except ImportError:
        return None
    report(
        local=local,
        global_=glob,
        path=path,
        title="seqshap demo: BasicMotions GRU",
        output="predicted",
        labels=labels,
    )
    return path
