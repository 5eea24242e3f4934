"""``timeshap.explainer.kernel`` (import path kept for drop-in use)."""

from .timeshap_kernel import TimeShapKernel

__all__ = ["TimeShapKernel"]
