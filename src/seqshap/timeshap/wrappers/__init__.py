"""``timeshap.wrappers`` (import path kept for drop-in use)."""

from .._wrappers import TimeSHAPWrapper, TorchModelWrapper

__all__ = ["TimeSHAPWrapper", "TorchModelWrapper"]
