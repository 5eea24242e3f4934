"""``timeshap.explainer.global_methods`` (import path kept for drop-in use)."""

from .._explain import calc_global_explanations, global_report
from .._levels import validate_global_input

__all__ = ["calc_global_explanations", "global_report", "validate_global_input"]
