"""``timeshap.utils``'s public functions (import path kept for drop-in use); submodules
``utils``, ``timeshap_legacy`` and ``compatibility`` as in TimeSHAP."""

from .timeshap_legacy import (
    TimeShapDenseData,
    time_shap_convert_to_data,
    time_shap_match_instance_to_data,
    time_shap_match_model_to_data,
)
from .utils import (
    calc_avg_event,
    calc_avg_sequence,
    calculate_list_intersection,
    convert_data_to_3d,
    convert_to_indexes,
    get_avg_score_with_avg_event,
    get_score_of_avg_sequence,
    get_tolerances_to_test,
    make_list,
    validate_input,
)

__all__ = [
    "TimeShapDenseData",
    "calc_avg_event",
    "calc_avg_sequence",
    "calculate_list_intersection",
    "convert_data_to_3d",
    "convert_to_indexes",
    "get_avg_score_with_avg_event",
    "get_score_of_avg_sequence",
    "get_tolerances_to_test",
    "make_list",
    "time_shap_convert_to_data",
    "time_shap_match_instance_to_data",
    "time_shap_match_model_to_data",
    "validate_input",
]
