"""Model adapters: turn what the user has into a :class:`Model` seqshap can call.

Framework adapters are imported lazily: importing this package does not import torch,
keras, onnxruntime, transformers, scikit-learn or sktime.
"""

from __future__ import annotations

from typing import Any

from ._export import export_onnx
from ._load import UnsafeModelFileError, load_model
from ._state import ModelInfo, model_info
from .adapt import adapt
from .base import CallableModel, Model, RecurrentCallableModel, RecurrentModel

_LAZY = {
    "TorchModel": "._torch",
    "TorchRecurrentModel": "._torch",
    "KerasModel": "._keras",
    "OnnxModel": "._onnx",
    "OnnxRecurrentModel": "._onnx",
    "SklearnModel": "._sklearn",
    "HFTextModel": "._hf",
    "HFPipelineModel": "._hf",
    "TorchHookedModel": "._torch_hooks",
    "OnnxStateModel": "._onnx_state",
}

__all__ = [
    "CallableModel",
    "HFPipelineModel",
    "HFTextModel",
    "KerasModel",
    "Model",
    "ModelInfo",
    "OnnxModel",
    "OnnxRecurrentModel",
    "OnnxStateModel",
    "RecurrentCallableModel",
    "RecurrentModel",
    "SklearnModel",
    "TorchHookedModel",
    "TorchModel",
    "TorchRecurrentModel",
    "UnsafeModelFileError",
    "adapt",
    "export_onnx",
    "load_model",
    "model_info",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
