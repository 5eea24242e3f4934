"""What the report and the notebook display show: every tolerance, one section per predicted
class with the predicted class and label in the sequences table, one id per sequence, a "how to
read" line under every plot, and ``_repr_html_`` on explanations and results."""

from __future__ import annotations

import re
import sys
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("matplotlib")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "baseline_images"))
import cases  # noqa: E402

from seqshap import report  # noqa: E402
from seqshap._report._report import TOL_LADDER  # noqa: E402
from seqshap.sequence import SequenceExplainer  # noqa: E402

CLASSES = ["cycling", "walking", "lying"]


@pytest.fixture(autouse=True, scope="module")
def _agg():
    import matplotlib

    before = matplotlib.get_backend()
    matplotlib.use("Agg")
    yield
    matplotlib.use(before)


def _model(x: np.ndarray) -> np.ndarray:
    """(n, T, 2) -> softmax over 3 classes of the recency-weighted mean event."""
    w = 0.8 ** np.arange(x.shape[1])[::-1]
    s = (x * w[None, :, None]).sum(1) / w.sum()
    logits = np.stack([2 * s[:, 0], 2 * s[:, 1], -s[:, 0] - s[:, 1]], axis=1)
    e = np.exp(logits - logits.max(1, keepdims=True))
    return e / e.sum(1, keepdims=True)


@pytest.fixture(scope="module")
def results():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(6, 8, 2))
    x[:2, -3:, 0] += 2.0  # two "cycling", two "walking", the rest "lying"
    x[2:4, -3:, 1] += 2.0
    x[4:, -3:, :] -= 1.5
    ex = SequenceExplainer(
        _model, "zeros", feature_names=["rss12", "rss13"], output_names=CLASSES, budget=300
    )
    ids = [f"seq-{i}" for i in range(6)]
    glob = ex.explain_global(x, levels=("event", "feature"), pruning_tol=0.02, entity_ids=ids)
    loc = ex.explain(x[2], levels=("event", "feature"), pruning_tol=0.02, entity=ids[2])
    labels = ["cycling", "cycling", "walking", "lying", "lying", "lying"]
    return x, loc, glob, labels


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.figures: list[list[str]] = []
        self._in_fig = 0
        self._cap = False
        self.headers: list[str] = []
        self._h = False

    def handle_starttag(self, tag, attrs):
        if tag == "figure":
            self.figures.append([])
            self._in_fig += 1
        elif tag == "figcaption":
            self._cap = True
        elif tag in ("h2", "h3", "h4"):
            self._h = True
            self.headers.append("")

    def handle_endtag(self, tag):
        if tag == "figure":
            self._in_fig -= 1
        elif tag == "figcaption":
            self._cap = False
        elif tag in ("h2", "h3", "h4"):
            self._h = False

    def handle_data(self, data):
        if self._cap and self.figures:
            self.figures[-1].append(data)
        if self._h:
            self.headers[-1] += data


def _parse(text: str) -> _Text:
    p = _Text()
    p.feed(text)
    return p


def _table_rows(text: str, header: str) -> list[list[str]]:
    """Cells of the first table after the heading ``header``."""
    part = text.split(header, 1)[1]
    body = part.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [
        [re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td[^>]*>(.*?)</td>", row)]
        for row in re.findall(r"<tr>(.*?)</tr>", body)
    ]


def test_every_plot_has_a_how_to_read_line(results):
    _, loc, glob, labels = results
    text = report(local=[loc, cases.tokens()], global_=glob, labels=labels)
    figs = _parse(text).figures
    assert len(figs) >= 8
    assert all("How to read" in "".join(cap) for cap in figs)
    text = report(global_=cases.many_feature())
    assert all("How to read" in "".join(cap) for cap in _parse(text).figures)


def test_one_section_per_predicted_class_and_table_columns(results):
    x, loc, glob, labels = results
    text = report(global_=glob, labels=labels)
    predicted = [CLASSES[k] for k in _model(x).argmax(1)]
    assert len(set(predicted)) >= 2  # the test needs several classes
    heads = _parse(text).headers
    shown = [h.split(": ", 1)[1] for h in heads if h.startswith("Predicted class: ")]
    assert shown == [c for c in CLASSES if c in predicted]
    rows = _table_rows(text, "<h3>Sequences</h3>")
    assert [r[0] for r in rows] == [f"seq-{i}" for i in range(6)]  # the run's ids
    assert [r[1] for r in rows] == labels and [r[2] for r in rows] == predicted
    # each class section explains its own sequences for that class only
    for cls in set(predicted):
        section = text.split(f"Predicted class: {cls}</h3>", 1)[1].split("Predicted class:", 1)[0]
        n = predicted.count(cls)
        assert f"{n} sequence(s) predicted {cls}" in section
        correct = sum(p == cls and lbl == cls for p, lbl in zip(predicted, labels))
        assert f"{correct} of the {n} labelled ones are labelled {cls}" in section
        assert f"attributions to {cls}" in section
        others = [c for c in CLASSES if c != cls]
        assert not any(f"attributions to {o}" in section for o in others)


def test_labels_must_fit_the_sequences(results):
    _, _, glob, labels = results
    with pytest.raises(ValueError, match="labels has 2 entries but the global result holds 6"):
        report(global_=glob, labels=labels[:2])
    text = report(global_=glob, labels={"seq-0": "cycling"})
    rows = _table_rows(text, "<h3>Sequences</h3>")
    assert rows[0][1] == "cycling" and rows[1][1] == ""


def test_a_chosen_output_gives_one_view_for_all_sequences(results):
    _, _, glob, _ = results
    text = report(global_=glob, output="walking")
    assert "Predicted class:" not in text
    assert "attributions to walking" in text and "attributions to lying" not in text


def test_pruning_tables_show_every_tolerance(results):
    _, loc, glob, _ = results
    text = report(local=loc, global_=glob)
    rows = _table_rows(text, "Pruning index at every tolerance")
    tols = [float(r[0]) for r in rows]
    assert tols == sorted({*TOL_LADDER, 0.02})
    for r in rows:
        assert int(r[1]) == loc.pruning.index_for(float(r[0])) and int(r[2]) == -int(r[1])
    # a run keeps no pruning curves by default: its own tolerances only, and a note saying so
    shown = [r[0] for r in _table_rows(text, "<h3>Pruning statistics</h3>")]
    assert shown == ["No Pruning", "0.02"]
    assert "own tolerances are shown: it kept no pruning curves" in text
    # with its curves kept: full_curve=True answers the whole ladder; curves searched back to
    # the pruned index only answer every tolerance from the run's on (smaller ones when the
    # search happened to reach far enough), with the same numbers, and a note when some are left
    x = results[0]
    ex = SequenceExplainer(_model, "zeros", output_names=CLASSES, budget=64)
    ladder = sorted({*TOL_LADDER, 0.02})
    tables = {}
    for full in (True, False):
        run = ex.explain_global(
            x, levels=("feature",), pruning_tol=0.02, keep_curve=True, full_curve=full
        )
        text = report(global_=run)
        tables[full] = {r[0]: r[1:] for r in _table_rows(text, "<h3>Pruning statistics</h3>")}
        shown = list(tables[full])
        assert shown[0] == "No Pruning" and [float(t) for t in shown[1:]] == sorted(
            float(t) for t in shown[1:]
        )
        assert set(shown) >= {"No Pruning", *(f"{t:g}" for t in ladder if t >= 0.02)}
        left_out = len(shown) - 1 < len(ladder)
        assert ("0.02 are not shown: the pruning curves stop" in text) is left_out
    assert list(tables[True]) == ["No Pruning", *[f"{t:g}" for t in ladder]]
    for tol, row in tables[False].items():
        assert row == tables[True][tol]
    text = report(global_=run, pruning_tols=[0.05, 0.2])
    assert [r[0] for r in _table_rows(text, "<h3>Pruning statistics</h3>")] == [
        "No Pruning",
        "0.05",
        "0.2",
    ]


def test_entity_ids_are_the_same_in_local_and_global_parts(results):
    _, loc, glob, _ = results
    text = report(local=loc, global_=glob)
    assert "Local report — entity seq-2" in text
    assert '<td title="seq-2">seq-2</td>' in text


def test_predicted_output_for_a_local_section(results):
    x, loc, _, _ = results
    top = CLASSES[int(_model(x[2:3]).argmax())]
    text = report(local=loc, output="predicted")
    assert f"model output f(x) · {top}" in text
    assert not any(f"model output f(x) · {c}" in text for c in CLASSES if c != top)


def test_repr_html_of_explanation_local_and_global(results):
    _, loc, glob, _ = results
    html = cases.local_feature()._repr_html_()
    assert "<table>" in html and 'src="data:image/png;base64,' in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html and "<img src=x" not in html
    assert "0.31 ± 0.02" in html  # values with their standard errors
    assert "kernel estimates" in html
    exact = cases.local_cell()._repr_html_()
    assert "exact values" in exact and "±" not in exact.split("<img")[0]
    many = cases.many_feature()._repr_html_()
    assert "mean |value|" in many and "60 instance(s)" in many
    lhtml = loc._repr_html_()
    assert "LocalExplanation" in lhtml and "entity seq-2" in lhtml and "<img" in lhtml
    assert "pruning at tol 0.02 keeps the last" in lhtml
    ghtml = glob._repr_html_()
    assert "GlobalRun" in ghtml and "6 sequence(s)" in ghtml and "predicted:" in ghtml
    assert "mean |value| · walking" in ghtml


def test_global_tables_carry_predicted_class_and_label(results):
    x, _, glob, labels = results
    predicted = [CLASSES[k] for k in _model(x).argmax(1)]
    assert glob.predicted == predicted and glob.labels is None
    frame = glob.feature_frame
    assert "label" not in frame.columns
    by_entity = frame.groupby("entity")["predicted"].first()
    assert [by_entity[f"seq-{i}"] for i in range(6)] == predicted
    chosen = glob.frame("feature")  # each sequence's rows for its predicted class only
    assert (chosen["output"] == chosen["predicted"]).all()
    assert len(chosen) == len(frame) // len(CLASSES)
    assert set(glob.frame("event", output="lying")["output"]) == {"lying"}
    assert glob.frame("feature", output=None).equals(frame)
    with pytest.raises(ValueError, match="output 'running' not found"):
        glob.frame("feature", output="running")
    with pytest.raises(ValueError, match="level must be 'event' or 'feature'"):
        glob.frame("cell")
    glob.labels = labels
    try:
        events = glob.event_frame
        assert events.groupby("entity")["label"].first()["seq-0"] == "cycling"
        text = report(global_=glob)  # labels given to the result reach the report
        assert [r[1] for r in _table_rows(text, "<h3>Sequences</h3>")] == labels
        with pytest.raises(ValueError, match="labels has 2 entries but 6 sequences"):
            glob.labels = labels[:2]
    finally:
        glob.labels = None


def test_explain_global_takes_labels():
    ex = SequenceExplainer(_model, "zeros", output_names=CLASSES, budget=64)
    x = np.random.default_rng(1).normal(size=(2, 4, 2))
    glob = ex.explain_global(x, levels=("feature",), pruning_tol=None, labels=["a", "b"])
    assert glob.labels == ["a", "b"]
    assert list(glob.feature_frame.groupby("entity")["label"].first()) == ["a", "b"]
    with pytest.raises(ValueError, match=r"labels must have one label per sequence \(2\)"):
        ex.explain_global(x, levels=("feature",), pruning_tol=None, labels=["a"])


def test_explain_many_run_carries_predicted_class_labels_and_exports(results, tmp_path):
    """explain_many's GlobalRun (in a run directory, in chunks) names each sequence's predicted
    class like explain_global's; labels set on it reach its tables; the exporter writes the
    columns and one pair of plots per predicted class."""
    import pandas as pd

    from seqshap import GlobalRun
    from seqshap.export import Exporter
    from seqshap.runner import explain_many

    x, _, _, labels = results
    ex = SequenceExplainer(_model, "zeros", output_names=CLASSES, budget=64)
    ids = [f"seq-{i}" for i in range(6)]
    run = explain_many(
        ex, x, entity_ids=ids, levels=("event", "feature"), pruning_tol=None,
        out=tmp_path / "run", chunk_size=4, progress=False,
    )  # fmt: skip
    predicted = [CLASSES[k] for k in _model(x).argmax(1)]
    assert run.predicted == predicted and GlobalRun.open(tmp_path / "run").predicted == predicted
    seqs = run.sequences_frame()
    for _, g in seqs.groupby("entity"):  # the output with the largest f(x)
        assert (g["predicted"] == g.loc[g["model_output"].idxmax(), "output"]).all()
    chosen = run.frame("event")
    assert (chosen["output"] == chosen["predicted"]).all()
    assert len(chosen) == len(run.event_frame) // len(CLASSES)
    assert run.labels is None and "label" not in run.feature_frame.columns
    run.labels = dict(zip(ids, labels))
    assert run.labels == labels
    assert list(run.feature_frame.groupby("entity", sort=False)["label"].first()) == labels
    with pytest.raises(ValueError, match=r"labels names entities \['nope'\]"):
        run.labels = {"nope": "x"}
    with pytest.raises(TypeError, match="labels must be a list"):
        run.labels = "cycling"
    export = Exporter(tmp_path / "t", formats=("csv",))
    export.global_(run, output="predicted")
    feats = pd.read_csv(tmp_path / "t" / "features.csv")
    assert {"predicted", "label"} <= set(feats.columns)
    assert (feats.groupby("entity", sort=False)["predicted"].first().tolist()) == predicted
    written = {p.name for p in (tmp_path / "t").glob("*_*.png")}
    assert written == {f"{k}_{c}.png" for c in set(predicted) for k in ("events", "features")}
