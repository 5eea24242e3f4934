"""TimeSHAP 1.0.4's API on seqshap's engine: its tutorial runs by changing the imports.

    from seqshap.timeshap.wrappers import TorchModelWrapper      # was: timeshap.wrappers
    from seqshap.timeshap.utils import calc_avg_event            # was: timeshap.utils
    from seqshap.timeshap.explainer import local_report          # was: timeshap.explainer
    from seqshap.timeshap.plot import plot_temp_coalition_pruning  # was: timeshap.plot
    from seqshap.timeshap.explainer.kernel import TimeShapKernel  # was: timeshap.explainer.kernel

The module layout is TimeSHAP's (``explainer.kernel``, ``explainer.event_level``, ...,
``utils.timeshap_legacy``, ``plot.pruning``, ...), and ``__version__`` is the TimeSHAP release
whose API is mirrored (1.0.4).

Same function names, signatures, dict parameters (``pruning_dict``, ``event_dict``,
``feature_dict``, ``cell_dict``) and returned DataFrames (columns, row labels, row order).
Differences: values are computed by :class:`seqshap.sequence.SequenceExplainer` (exact when
``nsamples`` reaches half of a level's coalitions, prefix-shared hidden states for
``f(x, h=None) -> (scores, h)`` models); the ``plot_*`` functions and reports return
matplotlib Figures instead of Altair charts; TimeSHAP's defects are fixed (see
:mod:`seqshap.timeshap._explain`); dicts and data given are never modified.
"""

from . import explainer, plot, utils, wrappers
from ._explain import (
    calc_global_explanations,
    calc_local_report,
    calc_prun_indexes,
    event_explain_all,
    feat_explain_all,
    get_tolerances_to_test,
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
from ._levels import (
    cell_level,
    event_level,
    feature_level,
    temp_coalition_pruning,
    validate_global_input,
    validate_local_input,
    verify_event_dict,
    verify_feature_dict,
    verify_pruning_dict,
)
from ._plots import (
    plot_cell_level,
    plot_event_heatmap,
    plot_feat_barplot,
    plot_global_event,
    plot_global_feat,
    plot_global_report,
    plot_local_report,
    plot_temp_coalition_pruning,
)
from ._utils import (
    calc_avg_event,
    calc_avg_sequence,
    get_avg_score_with_avg_event,
    get_score_of_avg_sequence,
)
from ._wrappers import TimeSHAPWrapper, TorchModelWrapper
from .explainer.kernel import TimeShapKernel
from .version import __version__

__all__ = [
    "TimeSHAPWrapper",
    "TimeShapKernel",
    "__version__",
    "cell_level",
    "event_level",
    "explainer",
    "feature_level",
    "plot",
    "temp_coalition_pruning",
    "utils",
    "validate_global_input",
    "validate_local_input",
    "verify_event_dict",
    "verify_feature_dict",
    "verify_pruning_dict",
    "wrappers",
    "TorchModelWrapper",
    "calc_avg_event",
    "calc_avg_sequence",
    "calc_global_explanations",
    "calc_local_report",
    "calc_prun_indexes",
    "event_explain_all",
    "feat_explain_all",
    "get_avg_score_with_avg_event",
    "get_score_of_avg_sequence",
    "get_tolerances_to_test",
    "global_report",
    "local_cell_level",
    "local_event",
    "local_feat",
    "local_pruning",
    "local_report",
    "plot_cell_level",
    "plot_event_heatmap",
    "plot_feat_barplot",
    "plot_global_event",
    "plot_global_feat",
    "plot_global_report",
    "plot_local_report",
    "plot_temp_coalition_pruning",
    "prune_all",
    "prune_given_data",
    "pruning_statistics",
]
