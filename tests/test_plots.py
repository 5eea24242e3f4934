"""Plots: every view saves a complete, non-blank figure in every format under the inline backend
(Agg when matplotlib_inline is absent), takes an ax, leaves global state and user data alone, and
fails with messages that say what to call instead."""

from __future__ import annotations

import importlib.util
import io
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "baseline_images"))
import cases  # noqa: E402

from seqshap import Explanation  # noqa: E402
from seqshap import plots as sp  # noqa: E402

INLINE = "module://matplotlib_inline.backend_inline"
HAS_INLINE = (
    importlib.util.find_spec("matplotlib_inline") is not None
    and importlib.util.find_spec("IPython") is not None
)


@pytest.fixture(params=["inline" if HAS_INLINE else "agg-no-inline"])
def backend(request):
    """The notebook backend (matplotlib_inline) when installed, else Agg (what scripts use, and
    what the inline backend renders with). The image tests cover Agg on its own."""
    import matplotlib.pyplot as plt

    before = matplotlib.get_backend()
    matplotlib.use(INLINE if request.param == "inline" else "Agg")
    yield request.param
    plt.close("all")
    matplotlib.use(before)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def _assert_text_inside(fig) -> None:
    """Everything drawn (labels, titles, colorbars) lies inside the figure: nothing is clipped
    on save, whatever the format or dpi."""
    fig.canvas.draw()
    tight = fig.get_tightbbox(fig.canvas.get_renderer())  # inches, drawn artists only
    w, h = fig.get_size_inches()
    eps = 0.02
    assert tight.x0 >= -eps and tight.y0 >= -eps, (tight, (w, h))
    assert tight.x1 <= w + eps and tight.y1 <= h + eps, (tight, (w, h))


@pytest.mark.parametrize("name", sorted(cases.CASES))
def test_every_plot_saves_nonblank_png_and_valid_svg(name, backend):
    from PIL import Image

    with matplotlib.pyplot.rc_context(cases.RC):
        ax = cases.CASES[name]()
    fig = ax.figure
    assert isinstance(ax, matplotlib.axes.Axes)
    _assert_text_inside(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    img = np.asarray(Image.open(io.BytesIO(buf.getvalue())).convert("L"), dtype=float)
    assert img.std() > 5, "PNG is blank"
    assert (img < 128).mean() > 0.002, "PNG has almost no dark pixels (no text or marks)"
    svg = io.BytesIO()
    fig.savefig(svg, format="svg")
    root = ET.fromstring(svg.getvalue())
    assert root.tag.endswith("svg")
    assert len(list(root.iter())) > 50


def test_save_every_format_at_any_dpi_gives_full_figure(tmp_path, backend):
    from PIL import Image

    ax = cases.CASES["waterfall"]()
    fig = ax.figure
    w, h = fig.get_size_inches()
    for dpi in (50, 150, 300):
        for fmt in ("png", "jpg", "tiff"):
            path = tmp_path / f"w{dpi}.{fmt}"
            fig.savefig(path, dpi=dpi)
            with Image.open(path) as im:
                assert im.size == (round(w * dpi), round(h * dpi)), (fmt, dpi, im.size)
                arr = np.asarray(im.convert("L"), dtype=float)
            assert arr.std() > 5
            # the outermost pixels are background: no mark was cut by the edge
            edge = np.concatenate([arr[0], arr[-1], arr[:, 0], arr[:, -1]])
            assert edge.min() > 200, (fmt, dpi)
    fig.savefig(tmp_path / "w.pdf", dpi=300)
    assert (tmp_path / "w.pdf").read_bytes()[:5] == b"%PDF-"
    fig.savefig(tmp_path / "w.svg")
    ET.parse(tmp_path / "w.svg")


def test_pyplot_savefig_after_plot_is_not_blank(tmp_path, backend):
    """shap's notebook trap: plt.savefig right after the call must save this figure."""
    import matplotlib.pyplot as plt

    sp.bar(cases.local_feature())
    plt.savefig(tmp_path / "cur.png")
    from PIL import Image

    assert np.asarray(Image.open(tmp_path / "cur.png").convert("L")).std() > 5


def test_plots_draw_on_given_ax_and_do_not_show():
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(10, 3), layout="constrained")
    out = sp.bar(cases.local_feature(), ax=axes[1])
    assert out is axes[1] and out.figure is fig
    assert len(axes[1].patches) >= 6 and not axes[0].patches


def test_global_state_and_user_data_untouched():
    exp = cases.many_feature()
    snapshot = (exp.values.copy(), exp.data.copy(), exp.base_values.copy(), dict(exp.meta))
    rc = dict(matplotlib.rcParams)
    rng_state = np.random.get_state()[1].copy()  # noqa: NPY002 - checking global state
    for draw in cases.CASES.values():
        draw()
    sp.beeswarm(exp)
    sp.heatmap(exp, instance_order="similarity")
    assert np.array_equal(exp.values, snapshot[0]) and np.array_equal(exp.data, snapshot[1])
    assert np.array_equal(exp.base_values, snapshot[2]) and exp.meta == snapshot[3]
    changed = {k for k in rc if rc[k] != matplotlib.rcParams[k] and not k.startswith("backend")}
    assert not changed
    assert np.array_equal(np.random.get_state()[1], rng_state)  # noqa: NPY002
    assert "seqshap_diverging" not in matplotlib.colormaps


def test_axis_limits_follow_the_data():
    big = cases.local_feature()
    big.values = big.values * 1000
    ax = sp.bar(big)
    lo, hi = ax.get_xlim()
    assert lo <= big.values.min() and hi >= big.values.max()
    assert hi < 2 * big.values.max()
    ax = sp.waterfall(big)
    lo, hi = ax.get_xlim()
    assert lo <= big.base_values.min() and hi >= big.outputs.max()


def test_heatmap_colours_are_centred_at_zero():
    ax = sp.cell_heatmap(cases.local_cell())
    cb = ax.figure.axes[-1]
    lo, hi = cb.get_ylim()
    assert lo == pytest.approx(-hi)
    cmap = sp.diverging_cmap()
    mid = cmap(0.5)
    assert min(mid[:3]) > 0.9  # zero is light/neutral


def test_long_and_hostile_labels_are_truncated_not_clipped():
    ax = sp.bar(cases.local_feature())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert cases.HOSTILE in labels
    assert any(lbl.endswith("…") and len(lbl) <= 32 for lbl in labels)


def test_standard_errors_drawn_as_error_bars():
    ax = sp.bar(cases.local_feature())
    assert any(isinstance(c, matplotlib.container.ErrorbarContainer) for c in ax.containers)
    exact = cases.local_cell()
    ax = sp.bar(exact)
    assert not any(isinstance(c, matplotlib.container.ErrorbarContainer) for c in ax.containers)


def test_dataframe_input_equals_explanation_input():
    exp = cases.many_feature()
    a = sp.bar(exp, instance=3)
    b = sp.bar(exp.to_frame(), instance=3)
    wa = [p.get_width() for p in a.patches]
    wb = [p.get_width() for p in b.patches]
    assert wa == pytest.approx(wb)
    assert [t.get_text() for t in a.get_yticklabels()] == [
        t.get_text() for t in b.get_yticklabels()
    ]


def test_waterfall_steps_add_up_to_output():
    exp = cases.local_feature()
    ax = sp.waterfall(exp, max_display=3)
    widths = [p.get_width() for p in ax.patches if isinstance(p, matplotlib.patches.Rectangle)][:3]
    assert sum(widths) == pytest.approx(exp.outputs[0, 0] - exp.base_values[0, 0])


def test_force_plot_many_players():
    m = 150
    rng = np.random.default_rng(1)
    vals = rng.normal(size=m) * 0.01
    exp = Explanation(
        values=vals[None, :, None],
        std_errors=None,
        base_values=[[0.0]],
        outputs=[[vals.sum()]],
        player_names=[f"p{j}" for j in range(m)],
    )
    ax = sp.force(exp)
    assert len(ax.patches) == m
    _assert_text_inside(ax.figure)


def test_text_html_escapes_tokens():
    html_text = sp.text_html(cases.tokens())
    assert "<script>" not in html_text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text
    assert html_text.count('class="seqshap-token"') == cases.tokens().n_players


def test_text_html_highlights_the_original_text_escaped():
    text = "Great <b>plot</b>,\nbad end."
    spans = [[[0, 5]], [[6, 17]], [[17, 18]], [[19, 22]], [[23, 27]]]
    exp = Explanation(
        values=np.array([[0.5], [-0.2], [0.0], [-0.6], [0.1]])[None],
        std_errors=None,
        base_values=[[0.0]],
        outputs=[[-0.2]],
        player_names=["Great", "<b>plot</b>", ",", "bad", "end."],
        level="word",
        meta={"text": text, "player_spans": spans},
    )
    out = sp.text_html(exp)
    assert "<b>" not in out and "&lt;b&gt;plot&lt;/b&gt;" in out
    assert out.count('class="seqshap-token"') == 5
    assert "\n" in out  # the text's own line break is kept (pre-wrap)
    assert isinstance(sp.text_plot(exp), matplotlib.axes.Axes)


def test_accessor_methods():
    pytest.importorskip("seqshap.plots")
    exp = cases.local_feature()
    if not hasattr(Explanation, "plot"):
        pytest.skip("Explanation.plot accessor not installed")
    assert isinstance(exp.plot.bar(), matplotlib.axes.Axes)
    assert isinstance(exp.plot.waterfall(), matplotlib.axes.Axes)
    assert isinstance(exp.plot(), matplotlib.axes.Axes)
    assert isinstance(cases.many_feature().plot.scatter("amount"), matplotlib.axes.Axes)
    assert isinstance(cases.tokens().plot.text_html(), str)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: sp.bar(object()), r"Explanation or its tidy DataFrame"),
        (
            lambda: sp.waterfall(cases.local_feature(), instance=5),
            r"waterfall\(explanation, instance=i\)",
        ),
        (lambda: sp.bar(cases.local_feature(), output="nope"), r"outputs are \['P\(fraud\)'\]"),
        (lambda: sp.scatter(cases.many_feature(), "amout"), r"Did you mean \['amount'\]"),
        (lambda: sp.scatter(cases.local_event(), "Event -1"), r"data=None"),
        (lambda: sp.text_plot(cases.local_feature()), r"level='token'"),
        (lambda: sp.bar(cases.local_feature(), ax="ax"), r"plt.subplots\(\)"),
        (lambda: sp.heatmap(cases.many_feature(), instance_order="x"), r"instance_order"),
        (lambda: sp.bar(cases.local_feature(), max_display=0), r"max_display"),
        (lambda: sp.pruning_stats_plot([1, 2]), r"DataFrame"),
    ],
)
def test_errors_say_what_to_do(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_result_with_levels_points_to_the_attribute():
    class Local:
        event = cases.local_event()
        feature = cases.local_feature()

    with pytest.raises(TypeError, match=r"bar\(explanation.event\)"):
        sp.bar(Local())


def test_importing_plots_does_not_import_pyplot():
    import subprocess

    code = "import seqshap, seqshap.plots, sys; print('matplotlib.pyplot' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
