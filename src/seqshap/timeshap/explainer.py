"""``timeshap.explainer``'s public functions (import path kept for drop-in use)."""

from ._explain import (
    calc_global_explanations,
    calc_local_report,
    calc_prun_indexes,
    event_explain_all,
    feat_explain_all,
    global_report,
    local_cell_level,
    local_event,
    local_feat,
    local_pruning,
    local_report,
    prune_all,
    prune_given_data,
    pruning_statistics,
)

__all__ = [
    "calc_global_explanations",
    "calc_local_report",
    "calc_prun_indexes",
    "event_explain_all",
    "feat_explain_all",
    "global_report",
    "local_cell_level",
    "local_event",
    "local_feat",
    "local_pruning",
    "local_report",
    "prune_all",
    "prune_given_data",
    "pruning_statistics",
]
