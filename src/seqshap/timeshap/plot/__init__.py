"""``timeshap.plot``'s functions, drawn with matplotlib: each returns a Figure, not an Altair
chart (import path kept for drop-in use). ``pruning_statistics`` is here too, where TimeSHAP's
README documents it (TimeSHAP defines it in ``timeshap.explainer``)."""

from .._explain import pruning_statistics
from .._plots import (
    plot_cell_level,
    plot_event_heatmap,
    plot_feat_barplot,
    plot_global_event,
    plot_global_feat,
    plot_global_report,
    plot_local_report,
    plot_temp_coalition_pruning,
)

__all__ = [
    "plot_cell_level",
    "plot_event_heatmap",
    "plot_feat_barplot",
    "plot_global_event",
    "plot_global_feat",
    "plot_global_report",
    "plot_local_report",
    "plot_temp_coalition_pruning",
    "pruning_statistics",
]
