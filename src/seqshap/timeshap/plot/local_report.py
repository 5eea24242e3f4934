"""``timeshap.plot.local_report`` (import path kept for drop-in use)."""

from .._plots import plot_local_report

__all__ = ["plot_local_report"]
