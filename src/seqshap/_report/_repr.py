"""Notebook display (``_repr_html_``) of explanations: a compact table and one small plot.

The result classes call these lazily (a display hook, not a dependency of the results on the
report): ``Explanation._repr_html_``, ``LocalExplanation._repr_html_`` and
``GlobalRun._repr_html_`` (and the deprecated ``GlobalExplanation``'s). Everything
user-provided is escaped; the plot is a small PNG data URI (notebooks show it whether or not
they trust inline SVG). Without matplotlib the table alone is shown.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._html import esc, num

#: rows of the compact tables
TOP = 8
_STYLE = (
    "<style>.seqshap-repr{font:13px/1.4 system-ui,sans-serif;max-width:760px}"
    ".seqshap-repr table{border-collapse:collapse;margin:4px 0;width:auto}"
    ".seqshap-repr th,.seqshap-repr td{padding:2px 8px;border-bottom:1px solid #ddd;"
    "text-align:right;white-space:nowrap}.seqshap-repr th:first-child,.seqshap-repr td:first-child{text-align:left}"
    ".seqshap-repr .note{color:#59636e}.seqshap-repr img{max-width:480px;display:block}</style>"
)


def _plot_png(draw: Callable[[Any], Any], size: tuple[float, float] = (6.0, 3.2)) -> str:
    """``<img>`` of one small figure, or '' when matplotlib is missing or drawing fails."""
    try:
        from matplotlib.figure import Figure
    except ImportError:
        return ""
    from ._svg import figure_to_png_data_uri

    fig = Figure(figsize=size, layout="constrained")
    draw(fig.add_subplot())
    return f'<img alt="plot" src="{figure_to_png_data_uri(fig, dpi=80)}">'


def _table(columns: list[str], rows: list[list[Any]]) -> str:
    from ..plots._common import truncate

    head = "".join(f"<th>{esc(truncate(c, 40))}</th>" for c in columns)
    body = "".join(
        "<tr>"
        + "".join(
            f"<td>{num(v) if isinstance(v, float | np.floating) else esc(truncate(v, 40))}</td>"
            for v in row
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _value(v: float, se: float) -> str:
    return f"{v:.4g} ± {se:.2g}" if se > 1e-12 else f"{v:.4g}"


def explanation_html(exp: Any) -> str:
    """An Explanation: what it is, its top players (values ± std. errors) and a bar plot."""
    from .. import plots

    n, m, k = exp.shape
    kind = "exact values" if exp.exact else f"{exp.method} estimates (± std. error)"
    outs = list(range(min(k, 3)))
    head = (
        f"<b>Explanation</b> · level {esc(exp.level)} · {n} instance(s) × {m} player(s) × "
        f"{k} output(s) · {esc(kind)}"
    )
    if n == 1:
        score = np.abs(exp.values[0][:, outs]).max(axis=1)
        order = np.argsort(-score, kind="stable")[:TOP]
        cols = ["player"] + [exp.output_names[o] for o in outs]
        rows = [
            [exp.player_names[j]]
            + [_value(exp.values[0, j, o], exp.std_errors[0, j, o]) for o in outs]
            for j in order
        ]
        rows.append(["f(x) − E[f]"] + [exp.outputs[0, o] - exp.base_values[0, o] for o in outs])
    else:
        mean_abs = np.abs(exp.values[:, :, outs]).mean(axis=0)
        order = np.argsort(-mean_abs.max(axis=1), kind="stable")[:TOP]
        cols = ["player"] + [f"mean |value| · {exp.output_names[o]}" for o in outs]
        rows = [
            [exp.player_names[j]] + [float(mean_abs[j, c]) for c in range(len(outs))] for j in order
        ]
    more = f'<div class="note">{m - len(order)} more player(s); exp.to_frame() has all.</div>'
    img = _plot_png(lambda ax: plots.bar(exp, output=0, max_display=TOP, ax=ax))
    return (
        f'{_STYLE}<div class="seqshap-repr"><div>{head}</div>{_table(cols, rows)}'
        f"{more if m > len(order) else ''}{img}</div>"
    )


def local_html(local: Any) -> str:
    """A LocalExplanation: entity, pruning, one line per level and the feature-level bars."""
    from .. import plots

    levels = local.levels
    entity = "" if local.entity is None else f" · entity {esc(local.entity)}"
    parts = [f"<b>LocalExplanation</b>{entity} · {local.length} events"]
    if local.pruning is not None and local.pruning.pruned_index is not None:
        parts.append(
            f" · pruning at tol {local.pruning.tol:g} keeps the last "
            f"{-local.pruning.pruned_index} events"
        )
    rows = []
    for name, exp in levels.items():
        o = int(np.argmax(exp.outputs[0]))
        j = int(np.argmax(np.abs(exp.values[0, :, o])))
        rows.append(
            [
                name,
                exp.n_players,
                "exact" if exp.exact else exp.method,
                exp.output_names[o],
                f"{exp.player_names[j]} ({_value(exp.values[0, j, o], exp.std_errors[0, j, o])})",
            ]
        )
    table = _table(["level", "players", "values", "top output", "largest attribution"], rows)
    shown = levels.get("feature") or next(iter(levels.values()), None)
    img = ""
    if shown is not None:
        o = int(np.argmax(shown.outputs[0]))
        img = _plot_png(lambda ax: plots.bar(shown, output=o, max_display=TOP, ax=ax))
    return f'{_STYLE}<div class="seqshap-repr"><div>{"".join(parts)}</div>{table}{img}</div>'


def global_html(res: Any) -> str:
    """A GlobalRun (or deprecated GlobalExplanation): sequences, predicted classes, mean
    |feature value| and a plot."""
    from .. import plots
    from ._report import _sequence_rows

    seqs = _sequence_rows(res)
    head = f"<b>{type(res).__name__}</b> · {len(seqs)} sequence(s)"
    parts = []
    shown_output: int | str = 0
    if len(seqs) and (seqs["predicted"] != "").any():
        counts = seqs["predicted"].value_counts()
        shown_output = str(counts.index[0])
        parts.append(
            '<div class="note">predicted: '
            + ", ".join(f"{esc(c)} × {int(n)}" for c, n in counts.items())
            + "</div>"
        )
    img = ""
    try:
        frame = res.feature_frame
    except (ValueError, AttributeError):
        frame = None
    if frame is not None:
        stats = (
            frame.assign(abs_value=frame["value"].abs())
            .groupby(["feature", "output"], sort=False)["abs_value"]
            .mean()
            .unstack("output")
        )
        stats = stats.loc[stats.max(axis=1).sort_values(ascending=False).index[:TOP]]
        cols = list(stats.columns[:3])
        parts.append(
            _table(
                ["feature"] + [f"mean |value| · {c}" for c in cols],
                [[f] + [float(v) for v in stats.loc[f, cols]] for f in stats.index],
            )
        )
        img = _plot_png(
            lambda ax: plots.global_feature_plot(frame, output=shown_output, max_display=TOP, ax=ax)
        )
    return f'{_STYLE}<div class="seqshap-repr"><div>{head}</div>{"".join(parts)}{img}</div>'
