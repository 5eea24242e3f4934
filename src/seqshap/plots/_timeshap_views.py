"""TimeSHAP's views: pruning curve, event and cell heatmaps, global event/feature plots and
pruning statistics — as matplotlib figures whose axes follow the data (no hard-coded ranges).
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from ..explanation import Explanation
from . import _palette as pal
from ._common import (
    as_explanation,
    check_max_display,
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
from ._grid import draw_grid, fit_row_labels, uncertain_cells

_EVENT_RE = re.compile(r"^Event\s+(-?\d+)$")
_CELL_SEPARATORS = (" | ", ", ", " × ", " x ", ": ", " / ")
ALL_FEATURES = "(all features)"
OTHER_FEATURES = "Other features"
OTHER_EVENTS = "Other events"


# ---------------------------------------------------------------------------- pruning
def _pruning_frame(pruning: Any) -> tuple[pd.DataFrame, float | None, int | None]:
    if isinstance(pruning, pd.DataFrame):
        return pruning, None, None
    curve = getattr(pruning, "curve", None)
    if isinstance(curve, pd.DataFrame):
        return curve, getattr(pruning, "tol", None), getattr(pruning, "pruned_index", None)
    inner = getattr(pruning, "pruning", None)
    if inner is not None and isinstance(getattr(inner, "curve", None), pd.DataFrame):
        raise TypeError(
            f"pruning must be a PruningResult or its curve DataFrame; received a "
            f"{type(pruning).__name__}. Use pruning_plot(result.pruning)."
        )
    raise TypeError(
        "pruning must be a PruningResult (with .curve) or a DataFrame with columns t, player, "
        f"output, value; received {type(pruning).__name__}."
    )


def pruning_plot(
    pruning: Any,
    *,
    output: int | str = 0,
    tol: float | None = None,
    pruned_index: int | None = None,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Value of the older events (before t) and of the recent ones, for every split t.

    The shaded band is ±``tol``; the dotted line marks the pruning index (the earliest split
    whose older coalition stays within the tolerance).
    """
    curve, tol0, idx0 = _pruning_frame(pruning)
    tol = tol0 if tol is None else tol
    pruned_index = idx0 if pruned_index is None else pruned_index
    missing = [c for c in ("t", "player", "value") if c not in curve.columns]
    if missing:
        raise ValueError(
            f"the pruning curve lacks column(s) {missing}; received columns {list(curve.columns)}."
        )
    if "output" in curve.columns:
        outs = [str(o) for o in pd.unique(curve["output"])]
        if isinstance(output, str):
            if output not in outs:
                raise ValueError(f"output {output!r} not found; outputs are {outs}.")
            name = output
        else:
            if not -len(outs) <= int(output) < len(outs):
                raise ValueError(f"output index {output} out of range for {len(outs)} output(s).")
            name = outs[int(output)]
        curve = curve[curve["output"].astype(str) == name]
    else:
        name = "output"
    fig, ax = figure_and_axes(ax, (7.0, 3.6))
    styles = {
        "older": (pal.NEGATIVE, "-", "events before t (older)"),
        "recent": (pal.POSITIVE, "--", "events from t on (recent)"),
    }
    for player, part in curve.groupby("player", sort=False):
        part = part.sort_values("t")
        color, ls, label = styles.get(str(player), (pal.MUTED, ":", str(player)))
        (line,) = ax.plot(
            part["t"],
            part["value"],
            color=color,
            ls=ls,
            marker="o" if len(part) <= 60 else None,  # long curves: a line, not a bead chain
            ms=3,
            lw=1.5,
            label=truncate(label, 40),
        )
        tooltip(
            line,
            f"{player}: "
            + ", ".join(f"t={t}: {v:.4g}" for t, v in zip(part["t"], part["value"]))[:400],
        )
    if tol is not None:
        ax.axhspan(-tol, tol, color="#bbbbbb", alpha=0.35, lw=0, label=f"tolerance ±{tol:g}")
    if pruned_index is not None:
        ax.axvline(
            pruned_index, color="black", ls=":", lw=1.2, label=f"pruning index t = {pruned_index}"
        )
    ax.axhline(0, color="#999999", lw=0.6)
    ax.set_xlabel("t (split: events before t vs. from t on; −1 = last event)")
    ax.set_ylabel(f"Shapley value ({truncate(name, 24)})")
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(ax, show)


# ---------------------------------------------------------------------------- local heatmaps
def _outputs_for(exp: Explanation, output: int | str | None) -> list[int]:
    return list(range(exp.n_outputs)) if output is None else [output_index(exp, output)]


def event_heatmap(
    explanation: Any,
    *,
    instance: int = 0,
    output: int | str | None = None,
    max_display: int | None = 20,
    max_label: int = 28,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Events (rows, most recent first) × outputs, coloured and annotated with their values.

    Readable at any sequence length: with more than ``max_display`` event players, the
    ``max_display − 1`` with the largest |value| (over the outputs shown) keep their rows, in
    time order, and one last row holds the sum of the others (its standard error assumes
    independent errors). Cells whose 95% interval includes zero are hatched.
    """
    exp = as_explanation(explanation, call="event_heatmap")
    i = instance_index(exp, instance, call="event_heatmap")
    max_display = check_max_display(max_display)
    outs = _outputs_for(exp, output)
    values = exp.values[i][:, outs]
    ses = exp.std_errors[i][:, outs]
    shown, rest = order_by_importance(np.abs(values).max(axis=1), max_display)
    shown = np.sort(shown)  # time order (the explainer lists the most recent event first)
    rows = [exp.player_names[j] for j in shown]
    grid, std = values[shown], ses[shown]
    if len(rest):
        rows.append(f"{len(rest)} other events (sum)")
        grid = np.vstack([grid, values[rest].sum(axis=0)])
        std = np.vstack([std, np.sqrt((ses[rest] ** 2).sum(axis=0))])
    width = min(3.0 + 1.3 * len(outs), 12.0)
    fig, ax = figure_and_axes(ax, (width, min(max(2.4, 0.34 * len(rows) + 1.3), 14.0)))
    names = [exp.output_names[o] for o in outs]
    draw_grid(
        ax,
        grid,
        row_names=rows,
        col_names=names,
        std=std,
        annotate=len(rows) * len(outs) <= 400,
    )
    fit_row_labels(ax, [truncate(p, max_label) for p in rows])
    ax.set_xticks(np.arange(len(outs)), [wrap(truncate(n, 36), 14) for n in names])
    ax.xaxis.tick_top()
    note = uncertainty_note(std, exp.exact).strip()
    shown_note = f"; top {len(shown)} of {exp.n_players} events" if len(rest) else ""
    ax.set_xlabel(
        wrap(
            f"event attributions{shown_note}; f(x) − E[f] = {_delta_text(exp, i, outs)}"
            + (f"; {note}" if note else ""),
            40,
        ),
        fontsize=9,
    )
    return finish(ax, show)


def _delta_text(exp: Explanation, i: int, outs: list[int]) -> str:
    return ", ".join(f"{exp.outputs[i, o] - exp.base_values[i, o]:.3g}" for o in outs)


_CELL_PATTERNS = (
    (re.compile(r"^(Event -\d+), (.+)$"), lambda m: (m.group(1), m.group(2))),
    (re.compile(r"^Other features of (Event -\d+)$"), lambda m: (m.group(1), OTHER_FEATURES)),
    (re.compile(r"^(.+) over other events$"), lambda m: (OTHER_EVENTS, m.group(1))),
    (re.compile(r"^Other cells$"), lambda m: (OTHER_EVENTS, OTHER_FEATURES)),
    (re.compile(r"^Pruned Events$"), lambda m: ("Pruned Events", ALL_FEATURES)),
)


def cell_coordinates(exp: Explanation) -> list[tuple[str, str]]:
    """(event, feature) of every cell player.

    From ``meta["cells"]`` (a list of ``[event, feature]``) when present; else from the names
    the sequence explainer gives (``"Event -1, amount"``, ``"Other features of Event -1"``,
    ``"amount over other events"``, ``"Other cells"``, ``"Pruned Events"``), else by splitting
    on ``" | "`` and similar separators.
    """
    cells = exp.meta.get("cells") if isinstance(exp.meta, dict) else None
    if isinstance(cells, list | tuple) and len(cells) == exp.n_players:
        return [(str(a), str(b)) for a, b in cells]
    coords = []
    for name in exp.player_names:
        for pattern, parts in _CELL_PATTERNS:
            if m := pattern.match(name):
                coords.append(parts(m))
                break
        else:
            for sep in _CELL_SEPARATORS:
                if sep in name:
                    event, feature = name.split(sep, 1)
                    coords.append((event.strip(), feature.strip()))
                    break
            else:
                coords.append((name, ALL_FEATURES))
    for k, (event, feature) in enumerate(coords):
        if event == feature:  # TimeSHAP's ("Pruned Events", "Pruned Events")
            coords[k] = (event, ALL_FEATURES)
    return coords


def _order_last(items: list[str], last: tuple[str, ...]) -> list[str]:
    return [x for x in items if x not in last] + [x for x in last if x in items]


def cell_heatmap(
    explanation: Any,
    *,
    instance: int = 0,
    output: int | str = 0,
    max_label: int = 24,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Events (rows) × features (columns) of a cell-level explanation; grey cells: not a player.

    Cells are placed by ``explanation.meta["cells"]`` (a list of ``[event, feature]``) when
    present, else by splitting player names such as ``"Event -1 | amount"``.
    """
    exp = as_explanation(explanation, call="cell_heatmap")
    i = instance_index(exp, instance, call="cell_heatmap")
    o = output_index(exp, output)
    coords = cell_coordinates(exp)
    events = _order_last(list(dict.fromkeys(e for e, _ in coords)), (OTHER_EVENTS, "Pruned Events"))
    features = _order_last(
        list(dict.fromkeys(f for _, f in coords)), (OTHER_FEATURES, ALL_FEATURES)
    )
    grid = np.full((len(events), len(features)), np.nan)
    std = np.zeros_like(grid)
    for j, (e, f) in enumerate(coords):
        grid[events.index(e), features.index(f)] = exp.values[i, j, o]
        std[events.index(e), features.index(f)] = exp.std_errors[i, j, o]
    fig, ax = figure_and_axes(
        ax, (min(3.5 + 1.1 * len(features), 14.0), min(max(2.4, 0.42 * len(events) + 1.4), 14.0))
    )
    draw_grid(ax, grid, row_names=events, col_names=features, std=std, annotate=grid.size <= 300)
    fit_row_labels(ax, [truncate(e, max_label) for e in events])
    ax.set_xticks(
        np.arange(len(features)),
        [wrap(truncate(f, max_label), 12) for f in features],
        rotation=30 if len(features) > 6 else 0,
        ha="left" if len(features) > 6 else "center",
    )
    ax.xaxis.tick_top()
    note = uncertainty_note(std, exp.exact).strip()
    ax.set_xlabel(
        wrap(
            f"cell attributions to {truncate(exp.output_names[o], 32)}"
            + (f"; {note}" if note else ""),
            40,
        ),
        fontsize=9,
    )
    return finish(ax, show)


# ---------------------------------------------------------------------------- global views
def _global_frame(data: Any, kind: str) -> tuple[pd.DataFrame, str]:
    """Tidy frame with the key column (``t`` or ``feature``) and ``value``, ``output``."""
    key = "t" if kind == "event" else "feature"
    attr = f"{kind}_frame"
    if not isinstance(data, pd.DataFrame | Explanation) and isinstance(
        getattr(data, attr, None), pd.DataFrame
    ):
        data = getattr(data, attr)
    if isinstance(data, Explanation):
        frame = data.to_frame()
        if kind == "event":
            backs = data.meta.get("steps_back")
            if backs is not None and len(backs) == data.n_players:  # the integers, not labels
                by_name = {
                    p: np.nan if b is None else -int(b) for p, b in zip(data.player_names, backs)
                }
                t = frame["player"].map(by_name)
            else:  # an Explanation without steps_back (older files): read the labels
                t = frame["player"].map(
                    lambda p: int(m.group(1)) if (m := _EVENT_RE.match(str(p))) else np.nan
                )
            frame = frame.assign(t=t).dropna(subset=["t"])
            frame["t"] = frame["t"].astype(int)
        else:
            frame = frame.assign(feature=frame["player"])
        return frame, key
    if isinstance(data, pd.DataFrame):
        if key not in data.columns and "player" in data.columns:
            return _global_frame(as_explanation(data), kind)
        missing = [c for c in (key, "value") if c not in data.columns]
        if missing:
            raise ValueError(
                f"data lacks column(s) {missing}; received columns {list(data.columns)}. Pass "
                f"the global result's {attr} or an {kind}-level Explanation."
            )
        return data, key
    raise TypeError(
        f"data must be a global result (with .{attr}), its {attr} DataFrame or an {kind}-level "
        f"Explanation; received {type(data).__name__}."
    )


def _select_output(frame: pd.DataFrame, output: int | str) -> tuple[pd.DataFrame, str]:
    if "output" not in frame.columns:
        return frame, "output"
    outs = [str(o) for o in pd.unique(frame["output"])]
    if isinstance(output, str):
        if output not in outs:
            raise ValueError(f"output {output!r} not found; outputs are {outs}.")
        name = output
    else:
        if not -len(outs) <= int(output) < len(outs):
            raise ValueError(f"output index {output} out of range for {len(outs)} output(s).")
        name = outs[int(output)]
    return frame[frame["output"].astype(str) == name], name


def global_event_plot(
    data: Any,
    *,
    output: int | str = 0,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Attribution of every event of every sequence against its index t, with the mean per t."""
    frame, key = _global_frame(data, "event")
    frame, name = _select_output(frame, output)
    numeric_t = pd.to_numeric(frame[key], errors="coerce").astype(float)  # NA (pruned) -> NaN
    frame = frame.assign(**{key: numeric_t})[np.isfinite(numeric_t.to_numpy())]
    if frame.empty:
        raise ValueError("no event rows with a numeric t to plot (pruned events are not placed).")
    t = frame[key].to_numpy(dtype=float)
    v = frame["value"].to_numpy(dtype=float)
    rng = np.random.default_rng(0)  # local generator: deterministic jitter, global state untouched
    jitter = rng.uniform(-0.18, 0.18, size=len(t))
    fig, ax = figure_and_axes(ax, (7.2, 3.8))
    _scatter_with_uncertainty(
        ax, t + jitter, v, v, _weak(frame), label="one event of one sequence", s=10
    )
    mean = frame.groupby(key)["value"].agg(["mean", "count"]).sort_index()
    (line,) = ax.plot(
        mean.index.to_numpy(dtype=float),
        mean["mean"],
        color="black",
        lw=1.6,
        marker="o",
        ms=3,
        label="mean per t",
    )
    tooltip(
        line,
        "mean per t: "
        + ", ".join(
            f"t={int(k)}: {m:.4g} (n={c})"
            for k, m, c in zip(mean.index, mean["mean"], mean["count"])
        )[:600],
    )
    ax.axhline(0, color="#999999", lw=0.6)
    ax.set_xlabel("event index t (−1 = most recent)")
    ax.set_ylabel(f"attribution to {truncate(name, 24)}")
    ax.legend(fontsize=8, frameon=False, loc="best")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(ax, show)


def global_feature_plot(
    data: Any,
    *,
    output: int | str = 0,
    max_display: int | None = 15,
    max_label: int = 32,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Distribution of each feature's attribution over sequences (dots) and its mean (diamond);
    features sorted by mean |attribution|."""
    frame, key = _global_frame(data, "feature")
    frame, name = _select_output(frame, output)
    stats = frame.groupby(key, sort=False)["value"].agg(
        mean="mean", mean_abs=lambda s: s.abs().mean(), count="count"
    )
    stats = stats.sort_values("mean_abs", ascending=False, kind="stable")
    if max_display is not None:
        stats = stats.iloc[:max_display]
    feats = list(stats.index)
    fig, ax = figure_and_axes(ax, (7.0, min(max(2.4, 0.36 * len(feats) + 1.3), 14.0)))
    rng = np.random.default_rng(0)
    weak_all = _weak(frame)
    for row, feat in enumerate(feats):
        sel = (frame[key] == feat).to_numpy()
        vals = frame.loc[sel, "value"].to_numpy(dtype=float)
        y = len(feats) - 1 - row
        _scatter_with_uncertainty(
            ax,
            vals,
            y + rng.uniform(-0.22, 0.22, len(vals)),
            vals,
            weak_all[sel],
            label="one sequence" if row == 0 else None,
            s=9,
        )
        (mk,) = ax.plot([stats.loc[feat, "mean"]], [y], marker="D", color="black", ms=5, ls="none")
        tooltip(
            mk,
            f"{feat}: mean {stats.loc[feat, 'mean']:.4g}, mean |value| "
            f"{stats.loc[feat, 'mean_abs']:.4g}, n = {int(stats.loc[feat, 'count'])}",
        )
    ax.set_yticks(np.arange(len(feats))[::-1], [truncate(f, max_label) for f in feats])
    ax.axvline(0, color="#999999", lw=0.6)
    ax.set_xlabel(wrap(f"attribution to {truncate(name, 40)} (◆ mean)", 56))
    if weak_all.any():
        ax.legend(fontsize=8, frameon=False, loc="best")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(ax, show)


def _weak(frame: pd.DataFrame) -> np.ndarray:
    """Rows whose 95% interval (value ± 1.96 std_error) contains zero (sampled values only)."""
    if "std_error" not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    se = np.nan_to_num(pd.to_numeric(frame["std_error"], errors="coerce").to_numpy(dtype=float))
    return uncertain_cells(frame["value"].to_numpy(dtype=float), se)


def _scatter_with_uncertainty(
    ax: Any,
    x: np.ndarray,
    y: np.ndarray,
    values: np.ndarray,
    weak: np.ndarray,
    *,
    label: str | None,
    s: float,
) -> None:
    """Filled dots for values whose sign is established, hollow rings for the others."""
    colors = np.asarray(pal.sign_colors(values), dtype=object)
    strong = ~weak
    ax.scatter(
        x[strong],
        y[strong],
        s=s,
        c=list(colors[strong]) if strong.any() else None,
        linewidths=0,
        alpha=0.55,
        rasterized=int(strong.sum()) > 2000,
        label=label,
    )
    if weak.any():
        ax.scatter(
            x[weak],
            y[weak],
            s=s,
            facecolors="none",
            edgecolors=list(colors[weak]),
            linewidths=0.8,
            alpha=0.7,
            rasterized=int(weak.sum()) > 2000,
            label="95% interval includes 0 (hollow)" if label else None,
        )


def pruning_stats_plot(
    stats: Any,
    *,
    ax: Any = None,
    show: bool = False,
) -> Any:
    """Mean sequence length kept (± std) per pruning tolerance, from ``pruning_stats(tols)``."""
    if not isinstance(stats, pd.DataFrame):
        method = getattr(stats, "pruning_stats", None)
        hint = " Call pruning_stats_plot(result.pruning_stats([0.01, 0.05]))." if method else ""
        raise TypeError(f"stats must be a DataFrame; received {type(stats).__name__}.{hint}")
    cols = {c.lower(): c for c in stats.columns}
    tol_col = next((cols[c] for c in cols if "tol" in c), None)
    mean_col = next((cols[c] for c in cols if c == "mean" or c.startswith("mean")), None)
    if tol_col is None or mean_col is None:
        raise ValueError(
            "stats needs a tolerance column and a mean column (like TimeSHAP's Tolerance, Mean, "
            f"Std); received columns {list(stats.columns)}."
        )
    std_col = next((cols[c] for c in cols if c == "std" or c.startswith("std")), None)
    labels = [str(t) if not isinstance(t, float) else f"{t:g}" for t in stats[tol_col]]
    mean = stats[mean_col].to_numpy(dtype=float)
    std = None if std_col is None else np.nan_to_num(stats[std_col].to_numpy(dtype=float))
    fig, ax = figure_and_axes(ax, (max(4.5, 1.0 + 0.9 * len(labels)), 3.4))
    x = np.arange(len(labels))
    bars = ax.bar(x, mean, color=pal.NEGATIVE, width=0.6)
    # error bars stay within what is possible: no fewer than 0 events kept, no more than the
    # sequences hold (the "No Pruning" row: mean length + std)
    spread = np.zeros_like(mean) if std is None else std
    no_pruning = [k for k, lbl in enumerate(labels) if lbl.lower().startswith("no prun")]
    ceiling = mean[no_pruning[0]] + spread[no_pruning[0]] if no_pruning else np.inf
    lower = np.minimum(spread, np.maximum(mean, 0.0))
    upper = np.clip(np.minimum(spread, ceiling - mean), 0.0, None)
    if std is not None:
        ax.errorbar(
            x, mean, yerr=np.vstack([lower, upper]), fmt="none", ecolor="#333333", capsize=3, lw=1
        )
    for patch, lbl, m, s, top in zip(bars.patches, labels, mean, spread, mean + upper):
        tooltip(patch, f"tolerance {lbl}: mean length {fmt(m)} (std {s:.3g})")
        ax.annotate(  # above the error bar, never struck through by it
            f"{m:.3g}",
            (patch.get_x() + patch.get_width() / 2, top),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xticks(x, [truncate(lbl, 14) for lbl in labels])
    top = float(np.nanmax(mean + upper)) if len(mean) else 1.0
    ax.set_ylim(0, top * 1.15 if top > 0 else 1.0)
    ax.set_xlabel("pruning tolerance")
    ax.set_ylabel("events kept (mean ± std)")
    ax.spines[["top", "right"]].set_visible(False)
    return finish(ax, show)
