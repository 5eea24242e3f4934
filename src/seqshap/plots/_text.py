"""Tokens highlighted by their attribution: a matplotlib figure and an HTML fragment."""

from __future__ import annotations

import html
from typing import Any

from . import _palette as pal
from ._common import (
    as_explanation,
    figure_and_axes,
    finish,
    fmt,
    instance_index,
    output_index,
    tooltip,
    truncate,
    wrap,
)
from ._grid import uncertain_cells

_CHAR_W = 0.6  # monospace advance in em
#: levels whose players are pieces of a text (seqshap.text.TextExplainer's levels)
TEXT_LEVELS = ("token", "word", "sentence")


def _token_values(explanation: Any, instance: int, output: int | str, call: str):
    exp = as_explanation(explanation, call=call)
    if exp.level not in TEXT_LEVELS:
        raise ValueError(
            f"{call} needs a text explanation (level='token', 'word' or 'sentence'; "
            f"player_names = the pieces of text); received level={exp.level!r}. "
            "For other levels use bar(explanation)."
        )
    i = instance_index(exp, instance, call=call)
    o = output_index(exp, output)
    return exp, i, o


def text_plot(
    explanation: Any,
    *,
    instance: int = 0,
    output: int | str = 0,
    line_chars: int = 70,
    max_token_chars: int = 24,
    fontsize: float = 11,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Tokens in reading order on backgrounds coloured by value (wrapped at ``line_chars``);
    tokens whose 95% interval includes zero get a dashed outline."""
    exp, i, o = _token_values(explanation, instance, output, "text_plot")
    vals, errs = exp.values[i, :, o], exp.std_errors[i, :, o]
    weak = uncertain_cells(vals, errs)
    tokens = [truncate(t, max_token_chars) if t.strip() else "␣" for t in exp.player_names]
    lines: list[list[int]] = [[]]
    used = 0
    for j, tok in enumerate(tokens):
        need = len(tok) + 1
        if used and used + need > line_chars:
            lines.append([])
            used = 0
        lines[-1].append(j)
        used += need
    height = 0.9 + 0.32 * len(lines) * fontsize / 11
    fig, ax = figure_and_axes(ax, (min(0.6 + line_chars * _CHAR_W * fontsize / 72, 14.0), height))
    norm = pal.symmetric_norm(vals)
    char_w = 1.0
    for row, line in enumerate(lines):
        x = 0.0
        for j in line:
            face = pal.value_color(vals[j], norm)
            t = ax.text(
                x,
                row,
                tokens[j],
                family="monospace",
                fontsize=fontsize,
                ha="left",
                va="center",
                color=pal.text_color_on(face),
                bbox={
                    "boxstyle": "round,pad=0.15",
                    "facecolor": face,
                    "edgecolor": "#333333" if weak[j] else "none",
                    "linestyle": "--",
                    "linewidth": 0.8,
                },
            )
            note = " (95% interval includes 0)" if weak[j] else ""
            tooltip(t, f"{exp.player_names[j]}: {fmt(vals[j], errs[j])}{note}")
            x += (len(tokens[j]) + 1) * char_w
    ax.set_xlim(-0.5, line_chars + 0.5)
    ax.set_ylim(len(lines) - 0.4, -0.6)
    ax.axis("off")
    fx, base = exp.outputs[i, o], exp.base_values[i, o]
    ax.set_title(
        wrap(
            f"{truncate(exp.output_names[o], 30)}: f(x) = {fx:.4g}, base value = {base:.4g} "
            f"(vermillion raises, blue lowers"
            + ("; dashed: 95% interval includes 0)" if weak.any() else ")"),
            int(line_chars * 1.1),
        ),
        fontsize=9,
        loc="left",
    )
    return finish(ax, show)


def text_html(
    explanation: Any,
    *,
    instance: int = 0,
    output: int | str = 0,
) -> str:
    """An HTML fragment: one ``<span>`` per token, coloured by value, value on hover.

    Every token is escaped, so markup in the text shows as text. Tokens whose 95% interval
    includes zero are underlined with dots (``data-uncertain="1"``).
    """
    exp, i, o = _token_values(explanation, instance, output, "text_html")
    vals, errs = exp.values[i, :, o], exp.std_errors[i, :, o]
    norm = pal.symmetric_norm(vals)
    weak = uncertain_cells(vals, errs)

    def span(text: str, j: int) -> str:
        face = pal.value_color(vals[j], norm)
        note = " (95% interval includes 0)" if weak[j] else ""
        title = html.escape(f"{exp.player_names[j]}: {fmt(vals[j], errs[j])}{note}", quote=True)
        mark = ' data-uncertain="1"' if weak[j] else ""
        line = "text-decoration:underline dotted;" if weak[j] else ""
        return (
            f'<span class="seqshap-token" title="{title}" data-value="{vals[j]:.6g}"{mark} '
            f'style="background:{pal.hex_color(face)};color:{pal.text_color_on(face)};{line}'
            f'padding:1px 2px;border-radius:3px;white-space:pre-wrap">'
            f"{html.escape(text, quote=True)}</span>"
        )

    owner = _char_owners(exp)
    if owner is not None:  # the original text, each player's characters highlighted
        text = exp.meta["text"]
        pieces, start = [], 0
        for k in range(1, len(text) + 1):
            if k == len(text) or owner[k] != owner[start]:
                seg = text[start:k]
                pieces.append(span(seg, owner[start]) if owner[start] >= 0 else html.escape(seg))
                start = k
        body = "".join(pieces)
    else:
        body = " ".join(span(tok, j) for j, tok in enumerate(exp.player_names))
    fx, base = exp.outputs[i, o], exp.base_values[i, o]
    kind = (
        "; dotted: 95% interval includes 0"
        if weak.any()
        else ("; exact values" if exp.exact else "")
    )
    head = html.escape(
        f"{exp.output_names[o]}: f(x) = {fx:.4g}, base value = {base:.4g}{kind}", quote=True
    )
    return (
        f'<div class="seqshap-text" style="line-height:1.9;font-family:ui-monospace,monospace">'
        f'<div class="seqshap-text-head" style="font-size:0.85em;color:#555">{head}</div>'
        + f'<div style="white-space:pre-wrap">{body}</div></div>'
    )


def _char_owners(exp: Any) -> Any:
    """Player index of every character of ``meta["text"]`` (−1: none), from
    ``meta["player_spans"]`` (per player, a list of ``[start, end)`` offsets); None if absent."""
    import numpy as np

    meta = exp.meta if isinstance(exp.meta, dict) else {}
    text, spans = meta.get("text"), meta.get("player_spans")
    if exp.n_instances != 1 or not isinstance(text, str) or not isinstance(spans, list):
        return None
    if len(spans) != exp.n_players:
        return None
    owner = np.full(len(text), -1, dtype=int)
    try:
        for j, player_spans in enumerate(spans):
            for start, end in player_spans:
                if not 0 <= int(start) <= int(end) <= len(text):
                    return None
                owner[int(start) : int(end)] = j
    except (TypeError, ValueError):
        return None
    return owner
