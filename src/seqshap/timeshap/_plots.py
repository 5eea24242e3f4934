"""TimeSHAP's ``plot_*`` functions drawn with matplotlib instead of Altair.

Same names, arguments and input DataFrames as TimeSHAP 1.0.4; each returns a matplotlib
``Figure`` (not an Altair chart): save it with ``fig.savefig("report.png")``; in a notebook it
displays itself. Every function also takes ``ax=`` to draw into an existing Axes (then it returns
that Axes' figure). Colours are seqshap's colour-blind-safe palette (:mod:`seqshap.plots`).
Nothing here changes global matplotlib state, calls ``plt.show()`` or modifies the DataFrames
and dicts it is given (TimeSHAP's ``plot_feat_barplot`` adds a key to ``plot_features``,
``plot_cell_level`` adds columns to ``cell_data``)."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from .._optional import import_optional

_OLDER = "Sum of contribution of events \u2264 t"
_RECENT = "Sum of contribution of events > t"
_PRUNED = "Pruned Events"


def _figure(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    if ax is not None:
        return ax.figure, ax
    figure_mod = import_optional("matplotlib.figure", "TimeSHAP-style plots")
    fig = figure_mod.Figure(figsize=figsize, layout="constrained")
    return fig, fig.add_subplot()


def _diverging(vmax: float):
    """seqshap's diverging palette (:mod:`seqshap.plots`), symmetric around 0."""
    colors = import_optional("matplotlib.colors", "TimeSHAP-style plots")
    from ..plots import diverging_cmap

    return diverging_cmap(), colors.Normalize(vmin=-vmax, vmax=vmax)


def _sign_colors(values: np.ndarray) -> list[str]:
    from ..plots import NEGATIVE, POSITIVE

    return [POSITIVE if v >= 0 else NEGATIVE for v in values]


def _event_number(name: str) -> int:
    found = re.findall(r"\d+", str(name))
    return int(found[0]) if found else 0


# --------------------------------------------------------------------------- local plots


def plot_temp_coalition_pruning(
    df: pd.DataFrame,
    pruned_idx: int,
    plot_limit: int = 50,
    solve_negatives: bool = True,
    *,
    ax: Any = None,
) -> Any:
    """Pruning curve: the Shapley value of the events before each split t; a vertical line at
    the pruning index. Returns a matplotlib Figure (TimeSHAP: an Altair chart)."""
    data = df[df["t (event index)"] >= -plot_limit].copy()
    if solve_negatives:  # move a negative coalition value onto the other coalition (TimeSHAP)
        for _, group in data.groupby("t (event index)"):
            neg = group[group["Shapley Value"] < 0]
            for idx, row in neg.iterrows():
                other = group.index[group["Coalition"] != row["Coalition"]]
                if len(other):
                    data.loc[other[0], "Shapley Value"] += row["Shapley Value"]
                    data.loc[idx, "Shapley Value"] = 0.0
    fig, ax = _figure(ax, (5.0, 3.2))
    older = data[data["Coalition"] == _OLDER].sort_values("t (event index)")
    t = older["t (event index)"].to_numpy(dtype=float)
    v = older["Shapley Value"].to_numpy(dtype=float)
    ax.fill_between(t, v, alpha=0.4, color="#0072B2", linewidth=0)
    ax.plot(t, v, color="#0072B2", label=_OLDER)
    ax.axvline(pruned_idx, color="#D55E00")
    ax.text(
        pruned_idx - 0.5,
        ax.get_ylim()[0],
        "Pruning",
        rotation=90,
        va="bottom",
        ha="right",
        color="#D55E00",
        fontweight="bold",
    )
    ax.set_xlabel("t (event index)")
    ax.set_ylabel("Shapley Value")
    ax.legend(loc="best", frameon=False, fontsize=8)
    return fig


def plot_event_heatmap(event_data: pd.DataFrame, *, ax: Any = None) -> Any:
    """Event-level values as a one-column heatmap, most recent event first, pruned last.
    Returns a matplotlib Figure (TimeSHAP: an Altair chart)."""
    data = event_data.copy()
    data["_order"] = [len(data) + 1 if f == _PRUNED else _event_number(f) for f in data["Feature"]]
    data = data.sort_values("_order")
    values = data["Shapley Value"].to_numpy(dtype=float)
    fig, ax = _figure(ax, (2.4, max(2.0, 0.32 * len(values) + 0.8)))
    cmap, norm = _diverging(max(0.5, float(np.abs(values).max(initial=0))))
    ax.imshow(values[:, None], cmap=cmap, norm=norm, aspect="auto")
    for i, val in enumerate(values):
        ax.text(0, i, f"{val:.3f}", ha="center", va="center", fontsize=8, color="#333333")
    ax.set_yticks(range(len(values)), list(data["Feature"]))
    ax.set_xticks([])
    ax.set_xlabel("Shapley Value")
    ax.set_ylabel("Event")
    return fig


def plot_feat_barplot(
    feat_data: pd.DataFrame,
    top_x_feats: int = 15,
    plot_features: dict | None = None,
    *,
    ax: Any = None,
) -> Any:
    """Feature-level values as horizontal bars, largest |value| first (at most ``top_x_feats``).
    Returns a matplotlib Figure (TimeSHAP: an Altair chart)."""
    data = feat_data.copy()
    if plot_features:
        names = {**plot_features, _PRUNED: _PRUNED}
        data["Feature"] = [names.get(f, f) for f in data["Feature"]]
    data = data.reindex(data["Shapley Value"].abs().sort_values(ascending=False).index)
    if top_x_feats is not None:
        data = data.iloc[:top_x_feats]
    values = data["Shapley Value"].to_numpy(dtype=float)
    fig, ax = _figure(ax, (4.0, max(2.0, 0.35 * len(values) + 0.8)))
    y = np.arange(len(values))
    ax.barh(y, values, color=_sign_colors(values), height=0.6)
    ax.axvline(0, color="#666666", linewidth=0.8)
    ax.set_yticks(y, list(data["Feature"]))
    ax.invert_yaxis()
    ax.set_xlabel("Shapley Value")
    ax.set_ylabel("Feature")
    return fig


def plot_cell_level(
    cell_data: pd.DataFrame,
    model_features: list[str],
    plot_features: dict | None,
    plot_parameters: dict | None = None,
    *,
    ax: Any = None,
) -> Any:
    """Cell-level values as an events x features heatmap (other events/features and the pruned
    cell included). Returns a matplotlib Figure (TimeSHAP: an Altair chart)."""
    data = cell_data.copy()
    params = plot_parameters or {}
    events = sorted(  # oldest first, as TimeSHAP
        {e for e in data["Event"] if e not in ("Other Events", _PRUNED)},
        key=_event_number,
        reverse=True,
    )
    events += [e for e in ("Other Events", _PRUNED) if e in set(data["Event"])]
    feats = [f for f in model_features if f in set(data["Feature"])]
    feats += sorted({f for f in data["Feature"] if f not in feats and f != _PRUNED})
    if _PRUNED in set(data["Feature"]):
        feats.append(_PRUNED)
    grid = np.full((len(feats), len(events)), np.nan)
    for _, row in data.iterrows():
        grid[feats.index(row["Feature"]), events.index(row["Event"])] = row["Shapley Value"]
    labels = [(plot_features or {}).get(f, f) for f in feats]
    fig, ax = _figure(ax, (1.2 * len(events) + 2.5, 0.5 * len(feats) + 1.2))
    lim = params.get("axis_lim", [-0.5, 0.5])
    cmap, norm = _diverging(max(abs(lim[0]), abs(lim[1]), float(np.nanmax(np.abs(grid)))))
    ax.imshow(np.ma.masked_invalid(grid), cmap=cmap, norm=norm, aspect="auto")
    for (i, j), val in np.ndenumerate(grid):
        if np.isfinite(val):
            ax.text(j, i, f"{val:.3f}", ha="center", va="center", fontsize=8, color="#333333")
    ax.set_xticks(range(len(events)), events, rotation=30, ha="right")
    ax.set_yticks(range(len(feats)), labels)
    ax.set_title("Shapley Value", fontsize=10)
    return fig


def plot_local_report(
    pruning_dict: dict | None,
    event_dict: dict,
    feature_dict: dict,
    cell_dict: dict | None,
    coal_plot_data: pd.DataFrame | None = None,
    event_data: pd.DataFrame | None = None,
    feat_data: pd.DataFrame | None = None,
    cell_data: pd.DataFrame | None = None,
) -> Any:
    """Pruning curve, event heatmap, feature bars and cell heatmap side by side in one
    matplotlib Figure (TimeSHAP: an Altair chart). Missing frames are read from the dicts'
    ``path`` CSVs, as in TimeSHAP."""
    from ._explain import prune_given_data

    if coal_plot_data is None and pruning_dict is not None and pruning_dict.get("path"):
        coal_plot_data = pd.read_csv(pruning_dict["path"])
    event_data = event_data if event_data is not None else _read(event_dict, "event")
    feat_data = feat_data if feat_data is not None else _read(feature_dict, "feature")
    if cell_dict and cell_data is None:
        cell_data = _read(cell_dict, "cell")
    panels = ["pruning"] if coal_plot_data is not None else []
    panels += ["event", "feature"] + (["cell"] if cell_dict else [])
    figure_mod = import_optional("matplotlib.figure", "TimeSHAP-style plots")
    widths = {"pruning": 4.0, "event": 1.6, "feature": 3.2, "cell": 3.6}
    fig = figure_mod.Figure(
        figsize=(sum(widths[p] for p in panels) + 1.5, 4.0), layout="constrained"
    )
    axes = fig.subplots(1, len(panels), width_ratios=[widths[p] for p in panels])
    axes = np.atleast_1d(axes)
    for panel, ax in zip(panels, axes):
        if panel == "pruning":
            idx = prune_given_data(coal_plot_data, pruning_dict.get("tol"))
            plot_temp_coalition_pruning(coal_plot_data, idx, max(abs(idx) + 10, 40), ax=ax)
        elif panel == "event":
            plot_event_heatmap(event_data, ax=ax)
        elif panel == "feature":
            plot_feat_barplot(
                feat_data, feature_dict.get("top_feats"), feature_dict.get("plot_features"), ax=ax
            )
        else:
            names = [f for f in feat_data["Feature"] if f != _PRUNED]
            plot_cell_level(cell_data, names, feature_dict.get("plot_features"), ax=ax)
    return fig


def _read(d: dict | None, what: str) -> pd.DataFrame:
    if not d or not d.get("path"):
        raise ValueError(f"No {what} data given and no path to read it from in the {what} dict.")
    return pd.read_csv(d["path"])


# --------------------------------------------------------------------------- global plots


def _parameter_sets(data: pd.DataFrame) -> list[tuple[Any, Any, Any]]:
    return [
        (tol, rs, ns)
        for tol in np.unique(data["Tolerance"].to_numpy())
        for rs in np.unique(data["Random Seed"].to_numpy())
        for ns in np.unique(data["NSamples"].to_numpy())
    ]


def _filter(data: pd.DataFrame, tol: Any, rs: Any, ns: Any) -> pd.DataFrame:
    keep = (data["Tolerance"] == tol) & (data["Random Seed"] == rs) & (data["NSamples"] == ns)
    return data[keep]


def _global_event_ax(ax: Any, data: pd.DataFrame, params: dict) -> None:
    data = data[data["t (event index)"] < 1]
    t_limit = params.get("t_limit", -20)
    lo, hi = params.get("axis_lim", [-0.3, 0.9])
    data = data[data["t (event index)"] >= t_limit]
    t = data["t (event index)"].to_numpy(dtype=float)
    v = data["Shapley Value"].to_numpy(dtype=float)
    ax.scatter(t, v, s=14, alpha=0.25, color="#0072B2", label="Shapley Value")
    mean = data.groupby("t (event index)")["Shapley Value"].mean()
    ax.scatter(
        mean.index.to_numpy(dtype=float), mean.to_numpy(), s=30, color="#D55E00", label="Mean"
    )
    ax.set_ylim(lo, hi)
    ax.xaxis.set_major_locator(import_optional("matplotlib.ticker").MaxNLocator(integer=True))
    ax.set_xlabel("t (event index)")
    ax.set_ylabel("Shapley Value")
    ax.legend(loc="upper left", frameon=False)


def plot_global_event(
    event_data: pd.DataFrame, plot_parameters: dict | None = None, *, ax: Any = None
) -> Any:
    """Event values of many sequences by event index, with their mean; one panel per
    (tolerance, seed, nsamples). Returns a matplotlib Figure (TimeSHAP: an Altair chart)."""
    params = plot_parameters or {}
    sets = _parameter_sets(event_data)
    if ax is not None:
        _global_event_ax(ax, event_data, params)
        return ax.figure
    figure_mod = import_optional("matplotlib.figure", "TimeSHAP-style plots")
    fig = figure_mod.Figure(figsize=(5.5, 3.0 * len(sets)), layout="constrained")
    for axis, (tol, rs, ns) in zip(np.atleast_1d(fig.subplots(len(sets), 1)), sets):
        _global_event_ax(axis, _filter(event_data, tol, rs, ns), params)
        if len(sets) > 1:
            axis.set_title(f"NSamples={ns} | Random Seed={rs} | Pruning Tol={tol}", fontsize=9)
    return fig


def _global_feat_ax(ax, data, top_x_feats, threshold, plot_features, params) -> None:
    mean = data.groupby("Feature")["Shapley Value"].mean()
    if threshold is None and top_x_feats is not None and len(mean) >= top_x_feats:
        threshold = mean.abs().sort_values(ascending=False).iloc[top_x_feats - 1]
    if threshold:
        mean = mean[mean.abs() >= threshold]
    order = list(mean.sort_values(ascending=False).index)
    names = {**(plot_features or {}), _PRUNED: _PRUNED}
    for i, feat in enumerate(order):
        vals = data.loc[data["Feature"] == feat, "Shapley Value"].to_numpy(dtype=float)
        ax.scatter(
            vals,
            np.full(len(vals), i),
            s=14,
            alpha=0.15,
            color="#0072B2",
            label="Shapley Value" if i == 0 else None,
        )
        ax.scatter([mean[feat]], [i], s=30, color="#D55E00", label="Mean" if i == 0 else None)
    ax.set_yticks(range(len(order)), [names.get(f, f) for f in order])
    ax.invert_yaxis()
    ax.set_xlim(*params.get("axis_lim", [-0.2, 0.6]))
    ax.set_xlabel("Shapley Value")
    ax.legend(loc="lower right", frameon=False)


def plot_global_feat(
    feat_data: pd.DataFrame,
    top_x_feats: int = 12,
    threshold: float | None = None,
    plot_features: dict | None = None,
    plot_parameters: dict | None = None,
    *,
    ax: Any = None,
    **kwargs: Any,
) -> Any:
    """Feature values of many sequences with their mean, the ``top_x_feats`` largest |mean|
    (or those above ``threshold``); one panel per (tolerance, seed, nsamples). Returns a
    matplotlib Figure (TimeSHAP: an Altair chart). Extra keyword arguments (the rest of a
    feature_dict) are ignored, as in TimeSHAP."""
    params = plot_parameters or {}
    top_x_feats = kwargs.get("top_feats", top_x_feats) if top_x_feats is None else top_x_feats
    if ax is not None:
        _global_feat_ax(ax, feat_data, top_x_feats, threshold, plot_features, params)
        return ax.figure
    sets = _parameter_sets(feat_data)
    n_feats = feat_data["Feature"].nunique()
    figure_mod = import_optional("matplotlib.figure", "TimeSHAP-style plots")
    fig = figure_mod.Figure(figsize=(5.5, (0.35 * n_feats + 1.2) * len(sets)), layout="constrained")
    for axis, (tol, rs, ns) in zip(np.atleast_1d(fig.subplots(len(sets), 1)), sets):
        sub = _filter(feat_data, tol, rs, ns)
        _global_feat_ax(axis, sub, top_x_feats, threshold, plot_features, params)
        if len(sets) > 1:
            axis.set_title(f"NSamples={ns} | Random Seed={rs} | Pruning Tol={tol}", fontsize=9)
    return fig


def plot_global_report(
    pruning_dict: dict | None,
    event_dict: dict,
    feature_dict: dict,
    prun_indexes: pd.DataFrame | None = None,
    event_data: pd.DataFrame | None = None,
    feat_data: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame | None, Any]:
    """``(pruning statistics, Figure)``: global event and feature panels per (tolerance, seed,
    nsamples). Returns a matplotlib Figure (TimeSHAP: an Altair chart)."""
    from ._explain import pruning_statistics

    if prun_indexes is None and pruning_dict is not None and pruning_dict.get("path"):
        prun_indexes = pd.read_csv(pruning_dict["path"])
    event_data = event_data if event_data is not None else _read(event_dict, "event")
    feat_data = feat_data if feat_data is not None else _read(feature_dict, "feature")
    stats = None
    if pruning_dict is not None and prun_indexes is not None:
        stats = pruning_statistics(prun_indexes, pruning_dict.get("tol"))
    sets = [s for s in _parameter_sets(event_data) if len(_filter(feat_data, *s))]
    figure_mod = import_optional("matplotlib.figure", "TimeSHAP-style plots")
    n_feats = feat_data["Feature"].nunique()
    fig = figure_mod.Figure(
        figsize=(11.0, max(3.0, 0.35 * n_feats + 1.2) * max(1, len(sets))), layout="constrained"
    )
    grid = np.atleast_2d(fig.subplots(max(1, len(sets)), 2))
    options = {k: feature_dict.get(k) for k in ("plot_features",)}
    for row, (tol, rs, ns) in zip(grid, sets):
        plot_global_event(_filter(event_data, tol, rs, ns), ax=row[0])
        plot_global_feat(_filter(feat_data, tol, rs, ns), ax=row[1], **options)
        row[0].set_title(f"NSamples={ns} | Random Seed={rs} | Pruning Tol={tol}", fontsize=9)
    return stats, fig
