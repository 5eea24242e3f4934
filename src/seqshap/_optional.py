"""Lazy imports of optional frameworks, with a one-line install hint when missing."""

from __future__ import annotations

import importlib
from types import ModuleType

# import name -> (pip extra of seqshap, pip package)
_HINTS: dict[str, tuple[str, str]] = {
    "torch": ("torch", "torch"),
    "keras": ("keras", "keras"),
    "onnxruntime": ("onnx", "onnxruntime"),
    "onnx": ("onnx", "onnx"),
    "sklearn": ("sklearn", "scikit-learn"),
    "sktime": ("sktime", "sktime"),
    "aeon": ("sktime", "aeon"),
    "transformers": ("hf", "transformers"),
    "dask": ("dask", "dask[distributed]"),
    "distributed": ("dask", "dask[distributed]"),
    "pyarrow": ("parquet", "pyarrow"),
    "shap": ("shap", "shap"),
    "joblib": ("sklearn", "joblib"),
}


def import_optional(name: str, purpose: str = "") -> ModuleType:
    """Import ``name`` or raise ImportError with the command that installs it."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        top = name.split(".")[0]
        extra, package = _HINTS.get(top, (None, top))
        what = f" for {purpose}" if purpose else ""
        hint = f"pip install 'seqshap[{extra}]'" if extra else f"pip install {package}"
        raise ImportError(f"{package} is required{what} but is not installed; run: {hint}") from exc
