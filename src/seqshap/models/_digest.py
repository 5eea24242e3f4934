"""A digest of what an adapted model computes with: its weights or its serialised graph.

Used by the runner's fingerprint, so that a resumed run notices another model. Together with
the model's outputs on a fixed probe (computed by the caller), it covers:

- torch modules (TorchScript included): every tensor of ``state_dict()`` (name, dtype, shape,
  bytes) and, for TorchScript, the scripted code;
- ONNX Runtime sessions: the bytes of the model the session was built from (a file or bytes);
- Keras models: every weight (path, dtype, shape, bytes);
- scikit-learn / sktime estimators: the fitted numeric arrays and scalars in their attributes;
- other callables: nothing (None); the probe outputs are then the only check.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np


def weights_digest(model: Any) -> tuple[str, str] | None:
    """``(kind, sha256 hex)`` of an adapted model's weights, or None when it has none we know."""
    inner = model
    while getattr(inner, "base", None) is not None:  # prefix-state cache, output selection
        inner = inner.base
    module = getattr(inner, "user_module", None) or getattr(inner, "user_model", None)
    if module is not None:
        return "torch state_dict", _torch_digest(module)
    session = getattr(inner, "session", None)
    if session is not None:
        data = getattr(session, "_model_bytes", None)
        path = getattr(session, "_model_path", None)
        if data is None and path is not None and Path(path).is_file():
            data = Path(path).read_bytes()
        if data is not None:
            return "onnx model bytes", hashlib.sha256(bytes(data)).hexdigest()
        return None
    keras_model = getattr(inner, "model", None)
    if keras_model is not None and hasattr(keras_model, "weights"):
        return "keras weights", _keras_digest(keras_model)
    estimator = getattr(inner, "estimator", None)
    if estimator is not None:
        return "fitted estimator attributes", _estimator_digest(estimator)
    return None


def _update_array(h: Any, name: str, array: np.ndarray) -> None:
    array = np.ascontiguousarray(array)
    h.update(f"{name}|{array.dtype.str}|{array.shape}|".encode())
    h.update(array.tobytes())


def _torch_digest(module: Any) -> str:
    h = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        t = tensor.detach().cpu()
        if t.dtype.is_floating_point and t.element_size() == 2:
            t = t.float()  # bfloat16/half: numpy has no bfloat16
        _update_array(h, name, t.contiguous().numpy())
    code = getattr(module, "code", None)  # TorchScript: the scripted forward
    if isinstance(code, str):
        h.update(code.encode())
    return h.hexdigest()


def _keras_digest(model: Any) -> str:
    h = hashlib.sha256()
    for i, w in enumerate(model.weights):
        value = w.numpy() if hasattr(w, "numpy") else np.asarray(w)
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        _update_array(h, f"{i}:{getattr(w, 'path', getattr(w, 'name', ''))}", np.asarray(value))
    return h.hexdigest()


def _estimator_digest(estimator: Any, depth: int = 0) -> str:
    h = hashlib.sha256(type(estimator).__qualname__.encode())
    if isinstance(estimator, list | tuple):
        fields = {str(i): v for i, v in enumerate(estimator)}
    else:
        fields = vars(estimator)
    for name in sorted(fields):
        value = fields[name]
        if isinstance(value, np.ndarray) and value.dtype.kind in "biuf":
            _update_array(h, name, value)
        elif isinstance(value, bool | int | float | str) or value is None:
            h.update(f"{name}={value!r}|".encode())
        elif depth < 3 and isinstance(value, list | tuple):
            for i, item in enumerate(value):
                if hasattr(item, "__dict__") or isinstance(item, list | tuple):
                    h.update(f"{name}[{i}]:{_estimator_digest(item, depth + 1)}|".encode())
                elif isinstance(item, str | int | float | bool) or item is None:
                    h.update(f"{name}[{i}]={item!r}|".encode())
        elif depth < 3 and hasattr(value, "__dict__") and not callable(value):
            h.update(f"{name}:{_estimator_digest(value, depth + 1)}|".encode())
    return h.hexdigest()
