"""``timeshap.explainer.pruning`` (import path kept for drop-in use)."""

from .._explain import (
    calc_prun_indexes,
    local_pruning,
    prune_all,
    prune_given_data,
    pruning_statistics,
)
from .._levels import temp_coalition_pruning, verify_pruning_dict

__all__ = [
    "calc_prun_indexes",
    "local_pruning",
    "prune_all",
    "prune_given_data",
    "pruning_statistics",
    "temp_coalition_pruning",
    "verify_pruning_dict",
]
