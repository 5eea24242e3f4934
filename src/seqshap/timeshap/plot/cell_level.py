"""``timeshap.plot.cell_level`` (import path kept for drop-in use)."""

from .._plots import plot_cell_level

__all__ = ["plot_cell_level"]
