"""Plots that scale with the sequence length and show uncertainty: rows drawn, label overlap,
hatching of values whose 95% interval includes zero, clean error bars in pruning statistics."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "baseline_images"))
import cases  # noqa: E402

from seqshap import plots as sp  # noqa: E402
from seqshap.plots._grid import HATCH, uncertain_cells  # noqa: E402


@pytest.fixture(autouse=True)
def _agg():
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    matplotlib.use("Agg")
    yield
    plt.close("all")
    matplotlib.use(before)


def _overlaps(texts) -> int:
    """Pairs of visible, non-empty text artists whose rendered boxes intersect."""
    fig = texts[0].figure
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in texts if t.get_visible() and t.get_text()]
    return sum(
        boxes[a].overlaps(boxes[b]) for a in range(len(boxes)) for b in range(a + 1, len(boxes))
    )


def _hatched(ax) -> int:
    return sum(1 for p in ax.patches if p.get_hatch() == HATCH)


@pytest.mark.parametrize("max_display", [5, 20, None])
def test_event_heatmap_rows_at_480_events(max_display):
    exp = cases.long_event(480 if max_display else 150)
    ax = sp.event_heatmap(exp, max_display=max_display)
    n_rows = round(abs(ax.get_ylim()[0] - ax.get_ylim()[1]))
    if max_display is None:
        assert n_rows == 150
    else:
        assert n_rows == max_display  # max_display − 1 events and one row for the rest
        labels = [t.get_text() for t in ax.get_yticklabels()]
        assert labels[-1] == f"{480 - max_display + 1} other events (sum)"
        # the kept events are those with the largest |value|, in time order
        top = np.argsort(-np.abs(exp.values[0]).max(axis=1), kind="stable")[: max_display - 1]
        assert labels[:-1] == [exp.player_names[j] for j in np.sort(top)]
    ax.figure.canvas.draw()
    assert _overlaps(ax.get_yticklabels()) == 0


def test_event_heatmap_rest_row_is_the_sum_and_hatched_where_uncertain():
    exp = cases.long_event()
    ax = sp.event_heatmap(exp, max_display=10)
    vals = exp.values[0]
    top = np.argsort(-np.abs(vals).max(axis=1), kind="stable")[:9]
    rest = np.setdiff1d(np.arange(480), top)
    grid = np.vstack([vals[np.sort(top)], vals[rest].sum(axis=0)])
    std = np.vstack(
        [exp.std_errors[0][np.sort(top)], np.sqrt((exp.std_errors[0][rest] ** 2).sum(0))]
    )
    weak = uncertain_cells(grid, std)
    assert weak[-1].all() and not weak[:-1].any()  # this case: only the sum of the rest
    assert _hatched(ax) == int(weak.sum())
    texts = [t.get_text() for t in ax.texts]
    assert f"{grid[-1, 0]:.3g}\n±{std[-1, 0]:.2g}" in texts
    assert "hatched: 95% interval includes 0" in ax.get_xlabel().replace("\n", " ")


def test_exact_values_are_marked_exact_and_never_hatched():
    exp = cases.local_cell()
    ax = sp.cell_heatmap(exp)
    assert _hatched(ax) == 0 and "exact values" in ax.get_xlabel()
    sampled = cases.local_event()  # SE 0.01 everywhere: |value| ≤ 0.0196 cells are hatched
    ax = sp.event_heatmap(sampled)
    assert _hatched(ax) == int((np.abs(sampled.values[0]) <= 1.96 * 0.01).sum())


def test_event_heatmap_labels_never_overlap_on_a_small_axes():
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 3), layout="constrained")
    sp.event_heatmap(cases.long_event(150), max_display=None, ax=ax)
    fig.canvas.draw()
    labels = [t for t in ax.get_yticklabels() if t.get_text()]
    assert 1 < len(labels) < 150  # thinned, not dropped
    assert _overlaps(labels) == 0


def test_shap_heatmap_hatches_uncertain_cells():
    exp = cases.many_feature()  # 60 × 6 cells: one patch each
    ax = sp.heatmap(exp, max_display=None)
    weak = np.abs(exp.values[:, :, 0]) <= 1.96 * 0.01
    assert 0 < weak.sum() == _hatched(ax)
    assert "hatched" in ax.get_title()
    big = cases.many_feature(n=400)  # 2400 cells: a mesh, and the hatching as a second mesh
    ax = sp.heatmap(big, max_display=None)
    meshes = [c for c in ax.collections if c.get_hatch() == HATCH]
    assert len(meshes) == 1


def test_pruning_stats_error_bars_stay_within_possible_lengths():
    import pandas as pd

    stats = pd.DataFrame(
        {
            "Tolerance": ["No Pruning", 0.01, 0.1],
            "Mean": [100.0, 90.0, 2.0],
            "Std": [0.0, 30.0, 5.0],
        }
    )
    ax = sp.pruning_stats_plot(stats)
    (bars,) = [c for c in ax.collections if hasattr(c, "get_segments")]
    segs = bars.get_segments()
    lows = [min(s[:, 1]) for s in segs]
    highs = [max(s[:, 1]) for s in segs]
    np.testing.assert_allclose(lows, [100.0, 60.0, 0.0], atol=1e-9)  # never below 0 events
    np.testing.assert_allclose(highs, [100.0, 100.0, 7.0], atol=1e-9)  # never above 100
    # each value label sits above its error bar (not struck through by it)
    for ann, top in zip(ax.texts, highs):
        assert ann.xy[1] == pytest.approx(top)
    ax.figure.canvas.draw()
    assert _overlaps(list(ax.texts) + list(ax.get_xticklabels())) == 0


def test_global_plots_show_uncertain_points_hollow():
    frame = cases.global_event_frame()
    frame = frame.assign(std_error=np.where(np.arange(len(frame)) % 2 == 0, 1.0, 0.0))
    ax = sp.global_event_plot(frame)
    hollow = [c for c in ax.collections if c.get_label().startswith("95% interval includes 0")]
    assert len(hollow) == 1
    expected = (np.abs(frame["value"]) <= 1.96).to_numpy() & (np.arange(len(frame)) % 2 == 0)
    assert len(hollow[0].get_offsets()) == int(expected.sum())


def test_text_views_mark_uncertain_tokens():
    exp = cases.tokens()
    exp.std_errors = np.zeros_like(exp.values)
    exp.std_errors[0, :, 0] = np.abs(exp.values[0, :, 0]) / 1.5  # |value| < 1.96 SE: all weak
    exp.std_errors[0, 0, 0] = 0.0  # one certain token
    exp.exact = False
    html = sp.text_html(exp)
    assert html.count('data-uncertain="1"') == exp.n_players - 1
    assert "dotted: 95% interval includes 0" in html
    ax = sp.text_plot(exp)
    dashed = [t for t in ax.texts if t.get_bbox_patch().get_edgecolor()[3] > 0]
    assert len(dashed) == exp.n_players - 1
    exact_html = sp.text_html(cases.tokens())
    assert "data-uncertain" not in exact_html and "exact values" in exact_html


def test_beeswarm_draws_uncertain_values_as_rings():
    exp = cases.many_feature()  # SE 0.01: values within ±0.0196 are not established
    ax = sp.beeswarm(exp, max_display=None)
    rings = [c for c in ax.collections if c.get_label() == "95% interval includes 0"]
    n_weak = int((np.abs(exp.values[:, :, 0]) <= 1.96 * 0.01).sum())
    assert sum(len(c.get_offsets()) for c in rings) == n_weak > 0
    assert "rings: 95% interval includes 0" in ax.get_xlabel().replace("\n", " ")
