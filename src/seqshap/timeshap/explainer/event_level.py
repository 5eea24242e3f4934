"""``timeshap.explainer.event_level`` (import path kept for drop-in use)."""

from .._explain import event_explain_all, local_event
from .._levels import event_level, verify_event_dict

__all__ = ["event_explain_all", "event_level", "local_event", "verify_event_dict"]
