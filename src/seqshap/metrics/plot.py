"""Plots of faithfulness curves and global importance (object-oriented matplotlib, ``ax`` in,
Axes out; nothing is computed here beyond averaging curves of several instances)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._optional import import_optional

_COLORS = {"deletion": "#d62728", "insertion": "#1f77b4"}
_GRID = np.linspace(0.0, 1.0, 101)


def _axes(ax):
    if ax is None:
        plt = import_optional("matplotlib.pyplot", "plots")
        _, ax = plt.subplots(figsize=(6, 4))
    return ax


def _mean_curve(part: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(fraction, mean value, mean sd) — instances interpolated onto one fraction grid."""
    if "instance" not in part.columns or part["instance"].nunique() == 1:
        return part["fraction"].to_numpy(), part["value"].to_numpy(), part["sd"].to_numpy()
    vals, sds = [], []
    for _, one in part.groupby("instance", sort=False):
        vals.append(np.interp(_GRID, one["fraction"], one["value"]))
        sds.append(np.interp(_GRID, one["fraction"], one["sd"].fillna(0.0)))
    return _GRID, np.mean(vals, axis=0), np.mean(sds, axis=0)


def plot_faithfulness(result: Any, ax=None, *, output: int | str = 0, curve: str = "both"):
    """Deletion/insertion curves of the attribution order (solid) against the mean random
    order (dashed, band ±1 sd over random orders); the legend gives the areas.

    ``result`` is a :class:`~seqshap.metrics.Faithfulness` (several instances are averaged on
    a common fraction grid). Returns the Axes.
    """
    curves = result.curves
    outputs = list(dict.fromkeys(curves["output"]))
    if isinstance(output, int):
        if not -len(outputs) <= output < len(outputs):
            raise ValueError(f"output index {output} out of range for outputs {outputs}.")
        output = outputs[output]
    if output not in outputs:
        raise ValueError(f"output {output!r} not found; outputs are {outputs}.")
    kinds = ("deletion", "insertion") if curve == "both" else (curve,)
    if any(k not in ("deletion", "insertion") for k in kinds):
        raise ValueError(f"curve must be 'deletion', 'insertion' or 'both'; received {curve!r}.")
    ax = _axes(ax)
    summary = result.summary[result.summary["output"] == output]
    for kind in kinds:
        color = _COLORS[kind]
        sel = (curves["output"] == output) & (curves["curve"] == kind)
        auc = summary[f"{kind}_auc"].mean()
        x, y, _ = _mean_curve(curves[sel & (curves["order"] == "attribution")])
        ax.plot(x, y, color=color, lw=2, label=f"{kind} (AUC {auc:.3g})")
        rnd = curves[sel & (curves["order"] == "random")]
        if len(rnd):
            r_auc = summary[f"random_{kind}_auc"].mean()
            x, y, sd = _mean_curve(rnd)
            ax.plot(
                x, y, color=color, lw=1, ls="--", label=f"{kind}, random order (AUC {r_auc:.3g})"
            )
            ax.fill_between(x, y - sd, y + sd, color=color, alpha=0.15, lw=0)
    ax.set_xlabel("fraction of players removed (deletion) / added (insertion)")
    ax.set_ylabel(f"model output ({output})")
    ax.set_xlim(0, 1)
    ax.legend(fontsize="small", frameon=False)
    return ax


def plot_global_importance(table: pd.DataFrame, ax=None, *, top: int | None = 20, output=None):
    """Horizontal bars of mean |value| per group with the interval of
    :func:`~seqshap.metrics.global_importance` (largest first). Returns the Axes."""
    by = [c for c in table.columns if c not in _TABLE_COLUMNS][0]
    data = table
    if output is not None:
        data = data[data["output"] == output]
    elif data["output"].nunique() > 1:
        data = data[data["output"] == data["output"].iloc[0]]
    data = data.sort_values("mean_abs", ascending=False)
    if top is not None:
        data = data.head(top)
    ax = _axes(ax)
    y = np.arange(len(data))[::-1]
    err = np.vstack([data["mean_abs"] - data["ci_low"], data["ci_high"] - data["mean_abs"]])
    ax.barh(
        y,
        data["mean_abs"],
        xerr=np.nan_to_num(err),
        color="#1f77b4",
        alpha=0.8,
        error_kw={"elinewidth": 1, "capsize": 2},
    )
    ax.set_yticks(y, [str(v) for v in data[by]])
    ax.set_xlabel("mean |value| (95% interval across sequences)")
    return ax


_TABLE_COLUMNS = {
    "output",
    "n",
    "mean_abs",
    "ci_low",
    "ci_high",
    "se_sequences",
    "se_estimation",
    "bias_bound",
    "mean",
}
