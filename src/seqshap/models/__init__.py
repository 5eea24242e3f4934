"""Model adapters: turn what the user has into a :class:`Model` seqshap can call.

Framework adapters are imported lazily: importing this package does not import torch,
keras, onnxruntime, transformers, scikit-learn or sktime.
"""

from __future__ import annotations

from typing import Any

from ._batching import DEFAULT_BATCH_MEMORY, SharedBatcher, map_shared
from ._load import UnsafeModelFileError, load_model
from ._prefix import PrefixCache
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
}

__all__ = [
    "DEFAULT_BATCH_MEMORY",
    "CallableModel",
    "HFPipelineModel",
    "HFTextModel",
    "KerasModel",
    "Model",
    "OnnxModel",
    "OnnxRecurrentModel",
    "PrefixCache",
    "RecurrentCallableModel",
    "RecurrentModel",
    "SharedBatcher",
    "SklearnModel",
    "TorchModel",
    "TorchRecurrentModel",
    "UnsafeModelFileError",
    "adapt",
    "load_model",
    "map_shared",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
