"""``timeshap.utils``'s public functions (import path kept for drop-in use)."""

from ._explain import get_tolerances_to_test
from ._utils import (
    calc_avg_event,
    calc_avg_sequence,
    get_avg_score_with_avg_event,
    get_score_of_avg_sequence,
)

__all__ = [
    "calc_avg_event",
    "calc_avg_sequence",
    "get_avg_score_with_avg_event",
    "get_score_of_avg_sequence",
    "get_tolerances_to_test",
]
