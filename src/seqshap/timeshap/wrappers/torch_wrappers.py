"""``timeshap.wrappers.torch_wrappers`` (import path kept for drop-in use)."""

from .._wrappers import TorchModelWrapper

__all__ = ["TorchModelWrapper"]
