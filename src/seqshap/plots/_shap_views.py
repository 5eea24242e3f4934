"""shap's views for any Explanation: bar, waterfall, force, beeswarm, scatter, decision, heatmap.

Differences from shap: every function draws on an ``ax`` (or a new constrained-layout figure),
returns the Axes and never calls ``plt.show()`` unless ``show=True``; the force plot is static
matplotlib for any number of players; standard errors appear as error bars where values are
estimates; colours come from the one diverging palette centred at zero.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import _palette as pal
from ._common import (
    any_errors,
    as_explanation,
    check_max_display,
    error_note,
    figure_and_axes,
    finish,
    fmt,
    instance_index,
    order_by_importance,
    output_index,
    tooltip,
    truncate,
    uncertainty_note,
    wrap,
)
from ._grid import uncertain_cells


def _label_height(n_rows: int) -> float:
    return min(max(2.2, 0.32 * n_rows + 1.2), 14.0)


def bar(
    explanation: Any,
    *,
    instance: int | None = None,
    output: int | str = 0,
    max_display: int | None = 10,
    max_label: int = 32,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Horizontal bars of one instance's values (or, over many instances, mean |value|).

    With ``instance=None`` and one instance the local values are drawn; with several instances,
    the mean absolute value per player (error bars: standard error of that mean across
    instances). Players beyond ``max_display`` are summed into one row.
    """
    exp = as_explanation(explanation, call="bar")
    o = output_index(exp, output)
    max_display = check_max_display(max_display)
    local = instance is not None or exp.n_instances == 1
    if local:
        i = instance_index(exp, 0 if instance is None else instance, call="bar")
        vals = exp.values[i, :, o]
        errs = exp.std_errors[i, :, o]
        xlabel = f"attribution to {exp.output_names[o]}" + error_note(errs)
    else:
        absv = np.abs(exp.values[:, :, o])
        vals = absv.mean(axis=0)
        errs = absv.std(axis=0, ddof=1) / np.sqrt(exp.n_instances)
        xlabel = f"mean |attribution| over {exp.n_instances} instances (bars: ±1 s.e. of the mean)"
    shown, rest = order_by_importance(vals, max_display)
    labels = [truncate(exp.player_names[j], max_label) for j in shown]
    v = list(vals[shown])
    e = list(errs[shown])
    if len(rest):
        labels.append(f"{len(rest)} other players")
        v.append(float(vals[rest].sum()))
        e.append(float(np.sqrt(np.sum(errs[rest] ** 2))))
    fig, ax = figure_and_axes(ax, (6.4, _label_height(len(v))))
    y = np.arange(len(v))[::-1]
    colors = pal.sign_colors(v) if local else [pal.POSITIVE] * len(v)
    bars = ax.barh(y, v, color=colors, height=0.7)
    if any_errors(e):
        ax.errorbar(v, y, xerr=e, fmt="none", ecolor="#333333", elinewidth=1, capsize=2)
    names = [exp.player_names[j] for j in shown] + (["others"] if len(rest) else [])
    for patch, name, val, err in zip(bars.patches, names, v, e):
        tooltip(patch, f"{name}: {fmt(val, err)}")
    ax.set_yticks(y, labels)
    ax.axvline(0, color="#999999", linewidth=0.8)
    ax.set_xlabel(wrap(xlabel, 56))
    _annotate_bars(ax, v, e, y)
    ax.spines[["top", "right"]].set_visible(False)
    return finish(ax, show)


def _annotate_bars(ax: Any, values: list[float], errors: list[float], y: np.ndarray) -> None:
    ends = [v + (e if v >= 0 else -e) for v, e in zip(values, errors)]
    span = max(max(ends, default=0.0), 0.0) - min(min(ends, default=0.0), 0.0) or 1.0
    for val, end, yy in zip(values, ends, y):
        ax.annotate(
            f"{val:+.3g}",
            (end, yy),
            xytext=(3 if val >= 0 else -3, 0),
            textcoords="offset points",
            ha="left" if val >= 0 else "right",
            va="center",
            fontsize=8,
            color="#333333",
        )
    lo, hi = min(min(ends, default=0.0), 0.0), max(max(ends, default=0.0), 0.0)
    ax.set_xlim(lo - 0.16 * span * (lo < 0), hi + 0.16 * span * (hi > 0) + 1e-12)


def feature_bar(explanation: Any, **kwargs: Any) -> Any:
    """TimeSHAP's feature plot: :func:`bar` of a feature-level explanation."""
    return bar(explanation, **kwargs)


def waterfall(
    explanation: Any,
    *,
    instance: int = 0,
    output: int | str = 0,
    max_display: int | None = 10,
    max_label: int = 32,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """From the base value E[f] (bottom) to the model output f(x) (top), one step per player."""
    exp = as_explanation(explanation, call="waterfall")
    i = instance_index(exp, instance, call="waterfall")
    o = output_index(exp, output)
    max_display = check_max_display(max_display)
    vals, errs = exp.values[i, :, o], exp.std_errors[i, :, o]
    base, fx = float(exp.base_values[i, o]), float(exp.outputs[i, o])
    shown, rest = order_by_importance(vals, max_display)
    rows = [(exp.player_names[j], vals[j], errs[j], _data_label(exp, i, j)) for j in shown]
    if len(rest):
        rows.append(
            (f"{len(rest)} other players", vals[rest].sum(), np.sqrt(np.sum(errs[rest] ** 2)), "")
        )
    rows = rows[::-1]  # smallest at the bottom, accumulating upwards
    fig, ax = figure_and_axes(ax, (6.8, _label_height(len(rows) + 1)))
    start = base
    lefts, widths = [], []
    for _, val, _, _ in rows:
        lefts.append(start)
        widths.append(val)
        start += val
    y = np.arange(len(rows))
    bars = ax.barh(y, widths, left=lefts, color=pal.sign_colors(widths), height=0.7)
    ends = np.asarray(lefts) + np.asarray(widths)
    err = np.asarray([r[2] for r in rows])
    if any_errors(err):
        ax.errorbar(ends, y, xerr=err, fmt="none", ecolor="#333333", elinewidth=1, capsize=2)
    for patch, (name, val, se, _) in zip(bars.patches, rows):
        tooltip(patch, f"{name}: {fmt(val, se)}")
    for k in range(len(rows) - 1):  # connectors
        ax.plot([ends[k], ends[k]], [y[k] + 0.35, y[k + 1] - 0.35], color="#999999", lw=0.8)
    labels = [
        truncate(f"{dl} = {name}" if dl else name, 40 if dl else 32) for name, _, _, dl in rows
    ]
    ax.set_yticks(y, [truncate(lbl, max_label + 8) for lbl in labels])
    for yy, left, width, se in zip(y, lefts, widths, err):
        x = left + width
        ax.annotate(
            f"{width:+.3g}",
            (x + se if width >= 0 else x - se, yy),
            xytext=(3, 0) if width >= 0 else (-3, 0),
            textcoords="offset points",
            ha="left" if width >= 0 else "right",
            va="center",
            fontsize=8,
        )
    ax.axvline(base, color=pal.MUTED, ls="--", lw=0.8)
    ax.axvline(fx, color=pal.MUTED, ls=":", lw=0.8)
    lo = min(base, fx, *(ends - err), *lefts)
    hi = max(base, fx, *(ends + err), *lefts)
    pad = 0.18 * ((hi - lo) or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-0.8, len(rows) - 0.2)
    top = ax.secondary_xaxis("top")
    top.set_xticks([base, fx], [f"E[f] = {base:.4g}", f"f(x) = {fx:.4g}"])
    top.tick_params(labelsize=8)
    ax.set_xlabel(wrap(f"{exp.output_names[o]}" + error_note(err), 56))
    ax.spines[["right"]].set_visible(False)
    return finish(ax, show)


def _data_label(exp: Any, i: int, j: int) -> str:
    if exp.data is None or not np.isfinite(exp.data[i, j]):
        return ""
    return f"{exp.data[i, j]:.4g}"


def force(
    explanation: Any,
    *,
    instance: int = 0,
    output: int | str = 0,
    min_label_fraction: float = 0.04,
    max_label: int = 24,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Static force plot: positive values push f(x) up from the left, negative ones down.

    Works for any number of players: segments narrower than ``min_label_fraction`` of the total
    spread stay unlabelled (their values remain on hover in the HTML report). For many
    instances at once use :func:`decision` or :func:`heatmap`.
    """
    exp = as_explanation(explanation, call="force")
    i = instance_index(exp, instance, call="force")
    o = output_index(exp, output)
    vals, errs = exp.values[i, :, o], exp.std_errors[i, :, o]
    base, fx = float(exp.base_values[i, o]), float(exp.outputs[i, o])
    pos = [j for j in np.argsort(-vals, kind="stable") if vals[j] > 0]
    neg = [j for j in np.argsort(vals, kind="stable") if vals[j] < 0]
    total = float(np.abs(vals).sum()) or 1.0
    fig, ax = figure_and_axes(ax, (10.0, 2.8))
    # red segments end at f(x) (largest next to f(x)); blue ones start at f(x)
    right = fx
    label_rows: list[tuple[float, str, str]] = []
    for j in pos:
        left = right - vals[j]
        rect = ax.barh(
            0, vals[j], left=left, height=0.5, color=pal.POSITIVE, edgecolor="white", lw=0.8
        )
        tooltip(rect.patches[0], f"{exp.player_names[j]}: {fmt(vals[j], errs[j])}")
        if vals[j] / total >= min_label_fraction:
            label_rows.append(
                (left + vals[j] / 2, _force_label(exp, i, j, max_label), pal.POSITIVE_DARK)
            )
        right = left
    left = fx
    for j in neg:
        rect = ax.barh(
            0, -vals[j], left=left, height=0.5, color=pal.NEGATIVE, edgecolor="white", lw=0.8
        )
        tooltip(rect.patches[0], f"{exp.player_names[j]}: {fmt(vals[j], errs[j])}")
        if -vals[j] / total >= min_label_fraction:
            label_rows.append(
                (left - vals[j] / 2, _force_label(exp, i, j, max_label), pal.NEGATIVE_DARK)
            )
        left -= vals[j]
    for k, (x, text, color) in enumerate(sorted(label_rows)):
        ax.annotate(
            text,
            (x, -0.25),
            xytext=(0, -6 - 11 * (k % 3)),
            textcoords="offset points",
            ha="center",
            va="top",
            fontsize=8,
            color=color,
            arrowprops={"arrowstyle": "-", "color": color, "lw": 0.6},
        )
    ax.axvline(fx, color="black", lw=1.2)
    ax.axvline(base, color=pal.MUTED, ls="--", lw=1)
    ax.annotate(
        f"f(x) = {fx:.4g}",
        (fx, 0.3),
        xytext=(0, 4),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=9,
        fontweight="bold",
    )
    ax.annotate(
        f"base value = {base:.4g}",
        (base, 0.3),
        xytext=(0, 16),
        textcoords="offset points",
        ha="center",
        va="bottom",
        fontsize=8,
        color=pal.MUTED,
    )
    lo = min(base, fx, fx - vals[vals > 0].sum(), fx - vals[vals < 0].sum())
    hi = max(base, fx, fx - vals[vals > 0].sum(), fx - vals[vals < 0].sum())
    pad = 0.08 * ((hi - lo) or 1.0)
    ax.set_xlim(lo - pad, hi + pad)
    ax.set_ylim(-1.2, 1.0)
    ax.set_yticks([])
    ax.spines[["left", "right", "top"]].set_visible(False)
    ax.set_xlabel(
        wrap(f"{exp.output_names[o]} (vermillion: pushes higher, blue: pushes lower)", 90)
    )
    return finish(ax, show)


def _force_label(exp: Any, i: int, j: int, max_label: int) -> str:
    dl = _data_label(exp, i, j)
    name = truncate(exp.player_names[j], max_label)
    return f"{name} = {dl}" if dl else name


def beeswarm(
    explanation: Any,
    *,
    output: int | str = 0,
    max_display: int | None = 10,
    max_label: int = 32,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """One row per player (by mean |value|), one dot per instance, coloured by feature value.

    Dots are coloured by the instance's value of that player (``explanation.data``), scaled per
    player to its 5–95% range; without data they take the attribution's own colour. Values
    whose 95% interval includes zero are drawn as rings (hollow).
    """
    exp = as_explanation(explanation, call="beeswarm")
    o = output_index(exp, output)
    max_display = check_max_display(max_display)
    vals = exp.values[:, :, o]
    order, rest = order_by_importance(np.abs(vals).mean(axis=0), max_display)
    ses = exp.std_errors[:, :, o]
    rows = [vals[:, j] for j in order]
    se_rows = [ses[:, j] for j in order]
    labels = [truncate(exp.player_names[j], max_label) for j in order]
    colors_data = [None if exp.data is None else exp.data[:, j] for j in order]
    if len(rest):
        rows.append(vals[:, rest].sum(axis=1))
        se_rows.append(np.sqrt((ses[:, rest] ** 2).sum(axis=1)))
        labels.append(f"sum of {len(rest)} other players")
        colors_data.append(None)
    fig, ax = figure_and_axes(ax, (7.0, _label_height(len(rows))))
    import matplotlib as mpl

    seq = mpl.colormaps[pal.SEQUENTIAL]
    norm = pal.symmetric_norm(vals)
    y_positions = np.arange(len(rows))[::-1]
    any_weak = False
    for row, se, y, cdata in zip(rows, se_rows, y_positions, colors_data):
        offsets = _swarm_offsets(row, width=0.38)
        weak = uncertain_cells(row, se)
        any_weak = any_weak or bool(weak.any())
        if cdata is not None and np.isfinite(cdata).any():
            lo, hi = np.nanpercentile(cdata, [5, 95])
            scaled = np.clip((cdata - lo) / ((hi - lo) or 1.0), 0, 1)
            colors = seq(np.where(np.isfinite(scaled), scaled, 0.5))
        else:
            colors = pal.diverging_cmap()(norm(row))
        colors = np.asarray(colors)
        ax.scatter(
            row[~weak],
            (y + offsets)[~weak],
            s=12,
            c=colors[~weak],
            linewidths=0,
            alpha=0.9,
            rasterized=len(row) > 500,
        )
        if weak.any():
            ax.scatter(
                row[weak],
                (y + offsets)[weak],
                s=12,
                facecolors="none",
                edgecolors=colors[weak],
                linewidths=0.8,
                alpha=0.9,
                rasterized=len(row) > 500,
                label="95% interval includes 0",
            )
    ax.axvline(0, color="#999999", lw=0.8)
    ax.set_yticks(y_positions, labels)
    ax.set_xlabel(
        wrap(
            f"attribution to {exp.output_names[o]}"
            + (" (rings: 95% interval includes 0)" if any_weak else ""),
            56,
        )
    )
    if exp.data is not None:
        sm = mpl.cm.ScalarMappable(cmap=seq, norm=mpl.colors.Normalize(0, 1))
        cb = fig.colorbar(sm, ax=ax, aspect=40, pad=0.01)
        cb.set_ticks([0, 1], labels=["low", "high"])
        cb.set_label("feature value")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(ax, show)


def _swarm_offsets(x: np.ndarray, width: float) -> np.ndarray:
    """Vertical offsets that spread dots with similar x (density-scaled, deterministic)."""
    n = len(x)
    if n <= 1:
        return np.zeros(n)
    span = float(np.ptp(x)) or 1.0
    bins = np.floor((x - x.min()) / span * 60).astype(int)
    offsets = np.zeros(n)
    order = np.argsort(x, kind="stable")
    counts: dict[int, int] = {}
    for idx in order:
        c = counts.get(bins[idx], 0)
        counts[bins[idx]] = c + 1
        offsets[idx] = ((c + 1) // 2) * (1 if c % 2 else -1)
    peak = np.abs(offsets).max() or 1.0
    return offsets / peak * width


def scatter(
    explanation: Any,
    player: int | str,
    *,
    color: int | str | None = None,
    output: int | str = 0,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Dependence plot: feature value of ``player`` (x) vs its attribution (y), ±1 s.e.

    ``color`` names another player whose feature value colours the dots.
    """
    exp = as_explanation(explanation, call="scatter")
    o = output_index(exp, output)
    j = _player_index(exp, player, "player")
    if exp.data is None:
        raise ValueError(
            "scatter needs feature values, but this explanation has data=None. Create it with "
            "data=..., e.g. Explanation(..., data=X) or explainer.explain(X) which records them."
        )
    x, y, e = exp.data[:, j], exp.values[:, j, o], exp.std_errors[:, j, o]
    fig, ax = figure_and_axes(ax, (6.0, 4.2))
    if any_errors(e):
        ax.errorbar(x, y, yerr=e, fmt="none", ecolor="#999999", elinewidth=0.8, alpha=0.7, zorder=1)
    if color is None:
        ax.scatter(x, y, s=16, color=pal.NEGATIVE, zorder=2)
    else:
        c = _player_index(exp, color, "color")
        import matplotlib as mpl

        sc = ax.scatter(x, y, s=16, c=exp.data[:, c], cmap=mpl.colormaps[pal.SEQUENTIAL], zorder=2)
        cb = fig.colorbar(sc, ax=ax, pad=0.01)
        cb.set_label(truncate(exp.player_names[c], 32))
    ax.axhline(0, color="#999999", lw=0.8)
    ax.set_xlabel(wrap(truncate(exp.player_names[j], 80), 48))
    ax.set_ylabel(wrap(truncate(f"attribution of {exp.player_names[j]}", 60) + error_note(e), 40))
    ax.spines[["top", "right"]].set_visible(False)
    return finish(ax, show)


def _player_index(exp: Any, player: int | str, name: str) -> int:
    if isinstance(player, str):
        if player not in exp.player_names:
            import difflib

            close = difflib.get_close_matches(player, exp.player_names, n=3, cutoff=0.6)
            hint = f" Did you mean {close}?" if close else ""
            raise ValueError(
                f"{name}={player!r} is not a player; players are "
                f"{[truncate(p, 24) for p in exp.player_names[:8]]}{'…' if exp.n_players > 8 else ''}.{hint}"
            )
        return exp.player_names.index(player)
    if isinstance(player, bool) or not isinstance(player, int | np.integer):
        raise TypeError(f"{name} must be a player name or index; received {player!r}.")
    if not -exp.n_players <= player < exp.n_players:
        raise ValueError(f"{name}={player} is out of range for {exp.n_players} players.")
    return int(player) % exp.n_players


def decision(
    explanation: Any,
    *,
    output: int | str = 0,
    max_display: int | None = 20,
    max_label: int = 32,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """One line per instance from the base value (bottom) to f(x) (top), adding players in order
    of mean |value|; line colour = f(x) − base on the diverging palette."""
    exp = as_explanation(explanation, call="decision")
    o = output_index(exp, output)
    max_display = check_max_display(max_display)
    vals = exp.values[:, :, o]
    shown, rest = order_by_importance(np.abs(vals).mean(axis=0), max_display)
    cols = [vals[:, j] for j in shown[::-1]]
    labels = [truncate(exp.player_names[j], max_label) for j in shown[::-1]]
    if len(rest):
        cols.insert(0, vals[:, rest].sum(axis=1))
        labels.insert(0, f"{len(rest)} other players")
    steps = np.column_stack(cols)
    base = exp.base_values[:, o]
    path = base[:, None] + np.concatenate(
        [np.zeros((exp.n_instances, 1)), np.cumsum(steps, axis=1)], axis=1
    )
    fig, ax = figure_and_axes(ax, (6.8, _label_height(len(labels) + 1)))
    delta = exp.outputs[:, o] - base
    norm = pal.symmetric_norm(delta)
    cmap = pal.diverging_cmap()
    y = np.arange(path.shape[1]) - 0.5
    for k in range(exp.n_instances):
        (line,) = ax.plot(path[k], y, color=cmap(norm(delta[k])), lw=1.2, alpha=0.9)
        tooltip(line, f"instance {k}: f(x) = {exp.outputs[k, o]:.4g}, base = {base[k]:.4g}")
    ax.set_yticks(np.arange(len(labels)), labels)
    ax.set_ylim(-0.5, len(labels) - 0.5)
    ax.axvline(float(np.mean(base)), color=pal.MUTED, ls="--", lw=0.8)
    ax.grid(axis="y", color="#e6e6e6", lw=0.6)
    pad = 0.05 * (float(np.ptp(path)) or 1.0)
    ax.set_xlim(path.min() - pad, path.max() + pad)
    ax.set_xlabel(wrap(f"{exp.output_names[o]} (dashed: mean base value)", 56))
    import matplotlib as mpl

    cb = fig.colorbar(mpl.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax, pad=0.01, aspect=40)
    cb.set_label("f(x) − base value")
    return finish(ax, show)


def heatmap(
    explanation: Any,
    *,
    output: int | str = 0,
    max_display: int | None = 12,
    max_label: int = 32,
    instance_order: str = "output",
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Players (rows, by mean |value|) × instances (columns) coloured by value.

    ``instance_order``: ``"output"`` (by f(x)), ``"similarity"`` (hierarchical clustering of the
    attribution vectors) or ``"input"`` (as given).
    """
    exp = as_explanation(explanation, call="heatmap")
    o = output_index(exp, output)
    max_display = check_max_display(max_display)
    if instance_order not in ("output", "similarity", "input"):
        raise ValueError(
            f"instance_order must be 'output', 'similarity' or 'input'; received {instance_order!r}."
        )
    vals = exp.values[:, :, o]
    shown, rest = order_by_importance(np.abs(vals).mean(axis=0), max_display)
    ses = exp.std_errors[:, :, o]
    rows = [vals[:, j] for j in shown]
    se_rows = [ses[:, j] for j in shown]
    labels = [truncate(exp.player_names[j], max_label) for j in shown]
    names = [exp.player_names[j] for j in shown]
    if len(rest):
        rows.append(vals[:, rest].sum(axis=1))
        se_rows.append(np.sqrt((ses[:, rest] ** 2).sum(axis=1)))
        labels.append(f"{len(rest)} other players")
        names.append(f"{len(rest)} other players")
    grid = np.vstack(rows)
    std = np.vstack(se_rows)
    if instance_order == "output":
        cols = np.argsort(exp.outputs[:, o], kind="stable")
    elif instance_order == "similarity" and exp.n_instances > 2:
        from scipy.cluster.hierarchy import leaves_list, linkage

        cols = leaves_list(linkage(vals, method="average"))
    else:
        cols = np.arange(exp.n_instances)
    grid, std = grid[:, cols], std[:, cols]
    fig, ax = figure_and_axes(
        ax, (max(6.0, min(12.0, 3 + 0.12 * exp.n_instances)), _label_height(len(rows)))
    )
    from ._grid import draw_grid

    draw_grid(
        ax,
        grid,
        row_names=names,
        col_names=[f"instance {c}" for c in cols],
        std=std,
        annotate=False,
    )
    ax.set_yticks(np.arange(len(labels)), labels)
    step = max(1, len(cols) // 12)
    ax.set_xticks(np.arange(0, len(cols), step), [str(c) for c in cols[::step]])
    ax.set_xlabel(f"instances (ordered by {instance_order})")
    ax.set_title(
        truncate(f"attribution to {exp.output_names[o]}", 60) + uncertainty_note(std, exp.exact),
        fontsize=10,
    )
    return finish(ax, show)
