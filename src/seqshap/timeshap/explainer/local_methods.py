"""``timeshap.explainer.local_methods`` (import path kept for drop-in use)."""

from .._explain import calc_local_report, local_report
from .._levels import validate_local_input

__all__ = ["calc_local_report", "local_report", "validate_local_input"]
