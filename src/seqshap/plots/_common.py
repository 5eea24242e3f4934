"""Shared plumbing: input coercion, instance/output selection, figures, labels, tooltips.

Plots never compute attributions: they read an :class:`~seqshap.Explanation` (or the tidy table
from ``Explanation.to_frame()``) and draw it.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np
import pandas as pd

from ..explanation import Explanation

ELLIPSIS = "…"
_TIP_COUNTER = itertools.count()
_FRAME_COLUMNS = ("instance", "player", "output", "value")


def as_explanation(obj: Any, *, name: str = "explanation", call: str = "plot") -> Explanation:
    """An Explanation from an Explanation or a tidy ``to_frame()`` DataFrame.

    Result objects of the sequence explainer are rejected with the attribute to pass instead.
    """
    if isinstance(obj, Explanation):
        return obj
    if isinstance(obj, pd.DataFrame):
        return _from_frame(obj, name=name)
    levels = [
        lvl
        for lvl in ("event", "feature", "cell")
        if isinstance(getattr(obj, lvl, None), Explanation)
    ]
    if levels:
        raise TypeError(
            f"{name} must be an Explanation; received a {type(obj).__name__} holding several "
            f"levels. Pick one, e.g. {call}({name}.{levels[0]})."
        )
    raise TypeError(
        f"{name} must be a seqshap Explanation or its tidy DataFrame (Explanation.to_frame()); "
        f"received {type(obj).__name__}."
    )


def _from_frame(frame: pd.DataFrame, *, name: str) -> Explanation:
    missing = [c for c in _FRAME_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{name} DataFrame lacks column(s) {missing}; received columns {list(frame.columns)}. "
            "Pass Explanation.to_frame() or the Explanation itself."
        )
    if frame.empty:
        raise ValueError(f"{name} DataFrame is empty; there is nothing to plot.")
    instances = list(pd.unique(frame["instance"]))
    outputs = [str(o) for o in pd.unique(frame["output"])]
    if "player_index" in frame.columns:
        order = frame.drop_duplicates("player_index").sort_values("player_index")
        players = [str(p) for p in order["player"]]
        key = "player_index"
    else:
        players = [str(p) for p in pd.unique(frame["player"])]
        key = "player"
    n, m, k = len(instances), len(players), len(outputs)
    i_idx = pd.Index(instances).get_indexer(frame["instance"])
    p_idx = (
        frame["player_index"].to_numpy(dtype=int)
        if key == "player_index"
        else pd.Index(players).get_indexer(frame["player"].astype(str))
    )
    o_idx = pd.Index(outputs).get_indexer(frame["output"].astype(str))
    values = np.full((n, m, k), np.nan)
    std = np.zeros((n, m, k))
    values[i_idx, p_idx, o_idx] = frame["value"].to_numpy(dtype=float)
    if "std_error" in frame.columns:
        std[i_idx, p_idx, o_idx] = frame["std_error"].fillna(0.0).to_numpy(dtype=float)
    if np.isnan(values).any():
        raise ValueError(
            f"{name} DataFrame does not hold one row per (instance, player, output); "
            "pass the unfiltered Explanation.to_frame()."
        )
    base = np.zeros((n, k))
    out = values.sum(axis=1)
    if "base_value" in frame.columns:
        base[i_idx, o_idx] = frame["base_value"].to_numpy(dtype=float)
        out = base + values.sum(axis=1)
    if "model_output" in frame.columns:
        out[i_idx, o_idx] = frame["model_output"].to_numpy(dtype=float)
    data = None
    if "feature_value" in frame.columns and frame["feature_value"].notna().any():
        data = np.full((n, m), np.nan)
        data[i_idx, p_idx] = frame["feature_value"].to_numpy(dtype=float)
    level = str(frame["level"].iloc[0]) if "level" in frame.columns else "feature"
    method = str(frame["method"].iloc[0]) if "method" in frame.columns else "unknown"
    return Explanation(
        values=values,
        std_errors=std,
        base_values=base,
        outputs=out,
        player_names=players,
        output_names=outputs,
        data=data,
        level=level,
        method=method,
    )


def output_index(exp: Explanation, output: int | str) -> int:
    """Index of ``output`` (name or position), with a message listing the choices."""
    if isinstance(output, bool) or not isinstance(output, int | np.integer | str):
        raise TypeError(
            f"output must be an int or an output name; received {output!r}. "
            f"Outputs are {exp.output_names}."
        )
    return exp._output_index(output)


def instance_index(exp: Explanation, instance: int, *, call: str) -> int:
    """Check ``instance`` against the explanation's number of instances."""
    if isinstance(instance, bool) or not isinstance(instance, int | np.integer):
        raise TypeError(
            f"instance must be an int; received {instance!r}. Use {call}(explanation, instance=0)."
        )
    n = exp.n_instances
    if not -n <= int(instance) < n:
        raise ValueError(
            f"instance={instance} is out of range for an explanation of {n} instance(s); "
            f"use {call}(explanation, instance=i) with 0 <= i < {n}."
        )
    return int(instance) % n


def check_max_display(max_display: int | None, *, name: str = "max_display") -> int | None:
    if max_display is None:
        return None
    if (
        isinstance(max_display, bool)
        or not isinstance(max_display, int | np.integer)
        or max_display < 1
    ):
        raise ValueError(f"{name} must be a positive int or None; received {max_display!r}.")
    return int(max_display)


def truncate(label: Any, max_chars: int = 32) -> str:
    """``label`` as a string of at most ``max_chars`` characters, ending in an ellipsis if cut."""
    text = " ".join(str(label).split())  # newlines and tabs would break layouts
    if len(text) <= max_chars:
        return text
    return text[: max(max_chars - 1, 1)] + ELLIPSIS


def wrap(label: Any, width: int = 48) -> str:
    """``label`` broken into lines of at most ``width`` characters (for axis labels)."""
    import textwrap

    return "\n".join(textwrap.wrap(" ".join(str(label).split()), width=width)) or ""


def figure_and_axes(ax: Any, figsize: tuple[float, float]) -> tuple[Any, Any]:
    """``(fig, ax)``: a new constrained-layout figure when ``ax`` is None, else ``ax``'s figure.

    New figures go through pyplot so that notebooks display them and ``plt.savefig`` works in
    the same cell; constrained layout keeps every label inside the saved image.
    """
    from matplotlib.axes import Axes

    if ax is None:
        import matplotlib.pyplot as plt

        fig = plt.figure(figsize=figsize, layout="constrained")
        return fig, fig.add_subplot()
    if not isinstance(ax, Axes):
        raise TypeError(
            f"ax must be a matplotlib Axes or None; received {type(ax).__name__}. "
            "Use fig, ax = plt.subplots() and pass ax=ax."
        )
    return ax.figure, ax


def finish(ax: Any, show: bool) -> Any:
    """Show the figure only when asked (``show=True``); return the Axes."""
    if show:
        import matplotlib.pyplot as plt

        plt.show()
    return ax


def tooltip(artist: Any, text: str) -> None:
    """Attach hover text to ``artist``; the HTML report turns it into an SVG ``<title>``."""
    gid = f"seqshap-tip-{next(_TIP_COUNTER)}"
    artist.set_gid(gid)
    fig = artist.figure if artist.figure is not None else artist.axes.figure
    tips = getattr(fig, "_seqshap_tooltips", None)
    if tips is None:
        tips = {}
        fig._seqshap_tooltips = tips
    tips[gid] = text


#: standard errors below this are round-off of exact values, not uncertainty
SE_EPS = 1e-12


def any_errors(std_errors: Any) -> bool:
    """True when some standard error is a real uncertainty (above round-off)."""
    arr = np.asarray(std_errors, dtype=float)
    return bool(np.any(np.nan_to_num(arr) > SE_EPS))


def fmt(value: float, std_error: float = 0.0) -> str:
    """``0.123`` or ``0.123 ± 0.004``."""
    if std_error and np.isfinite(std_error) and std_error > SE_EPS:
        return f"{value:.4g} ± {std_error:.2g}"
    return f"{value:.4g}"


def error_note(std_errors: np.ndarray) -> str:
    """Axis-label suffix saying what error bars mean, or '' when all values are exact."""
    return " (bars: ±1 std. error)" if any_errors(std_errors) else ""


def uncertainty_note(std_errors: Any, exact: bool) -> str:
    """Caption suffix for heatmaps: what hatching means, or that the values are exact
    (nothing for estimates that carry no standard errors)."""
    if any_errors(std_errors):
        return "\nhatched: 95% interval includes 0"
    return "\nexact values" if exact else ""


def order_by_importance(
    values: np.ndarray, max_display: int | None
) -> tuple[np.ndarray, np.ndarray]:
    """Players sorted by decreasing |value| (stable), split into shown and rest."""
    order = np.argsort(-np.abs(values), kind="stable")
    if max_display is None or len(order) <= max_display:
        return order, order[:0]
    keep = max_display - 1  # the last row collects the others
    return order[:keep], order[keep:]
