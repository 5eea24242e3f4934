"""``timeshap.plot.global_report`` (import path kept for drop-in use)."""

from .._plots import plot_global_report

__all__ = ["plot_global_report"]
