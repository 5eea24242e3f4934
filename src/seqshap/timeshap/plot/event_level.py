"""``timeshap.plot.event_level`` (import path kept for drop-in use)."""

from .._plots import plot_event_heatmap, plot_global_event

__all__ = ["plot_event_heatmap", "plot_global_event"]
