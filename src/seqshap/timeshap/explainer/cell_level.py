"""``timeshap.explainer.cell_level`` (import path kept for drop-in use)."""

from .._explain import local_cell_level
from .._levels import cell_level, cell_top_events, cell_top_feats, considered_cells

__all__ = [
    "cell_level",
    "cell_top_events",
    "cell_top_feats",
    "considered_cells",
    "local_cell_level",
]
