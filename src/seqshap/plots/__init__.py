"""Plots of Explanations (matplotlib, object-oriented; nothing here computes attributions).

Every function takes an :class:`~seqshap.Explanation` (or its ``to_frame()`` table), draws on
``ax`` (a new constrained-layout figure when None), returns the Axes and shows nothing unless
``show=True``; save with ``ax.figure.savefig(path, dpi=...)`` in any format.
"""

from __future__ import annotations

from ._accessor import PlotAccessor
from ._palette import NEGATIVE, POSITIVE, diverging_cmap, symmetric_norm
from ._shap_views import bar, beeswarm, decision, feature_bar, force, heatmap, scatter, waterfall
from ._text import text_html, text_plot
from ._timeshap_views import (
    cell_heatmap,
    event_heatmap,
    global_event_plot,
    global_feature_plot,
    pruning_plot,
    pruning_stats_plot,
)

summary = beeswarm
dependence = scatter

__all__ = [
    "NEGATIVE",
    "POSITIVE",
    "PlotAccessor",
    "bar",
    "beeswarm",
    "cell_heatmap",
    "decision",
    "dependence",
    "diverging_cmap",
    "event_heatmap",
    "feature_bar",
    "force",
    "global_event_plot",
    "global_feature_plot",
    "heatmap",
    "pruning_plot",
    "pruning_stats_plot",
    "scatter",
    "summary",
    "symmetric_norm",
    "text_html",
    "text_plot",
    "waterfall",
]
