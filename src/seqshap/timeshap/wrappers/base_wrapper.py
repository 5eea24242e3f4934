"""``timeshap.wrappers.base_wrapper`` (import path kept for drop-in use)."""

from .._wrappers import TimeSHAPWrapper

__all__ = ["TimeSHAPWrapper"]
