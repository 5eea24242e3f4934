"""``timeshap.plot.pruning`` (import path kept for drop-in use)."""

from .._plots import plot_temp_coalition_pruning

__all__ = ["plot_temp_coalition_pruning"]
