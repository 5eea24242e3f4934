"""Model files → :class:`Model`: ``.onnx``, TorchScript ``.pt``/``.pth``, ``.keras``.

Never unpickles: pickles (``.pkl``, ``.joblib``, …, and ``torch.save`` archives) can run
arbitrary code when loaded, so they are refused with a message that says how to export.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import zipfile
from pathlib import Path
from typing import Any

from .._optional import import_optional
from .base import Model

PICKLE_SUFFIXES = (".pkl", ".pickle", ".joblib", ".sav", ".dill", ".cloudpickle", ".p")
MODEL_SUFFIXES = (".onnx", ".pt", ".pth", ".ts", ".torchscript", ".keras")

_EXPORT_HINT = (
    "export the model to ONNX (torch.onnx.export), TorchScript (torch.jit.script(m).save(path)) "
    "or Keras (model.save('m.keras')) and pass that file"
)


class UnsafeModelFileError(ValueError):
    """A pickle was offered as a model; seqshap does not load pickles."""


def _pickle_error(path: Path, what: str) -> UnsafeModelFileError:
    return UnsafeModelFileError(
        f"model file {str(path)!r} is {what}; seqshap never unpickles (loading a pickle can run "
        f"arbitrary code): {_EXPORT_HINT}."
    )


def _is_torchscript_zip(path: Path) -> bool:
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
    return any(n.endswith("constants.pkl") or "/code/" in n for n in names)


def load_torchscript(path: Path, *, device: Any = None) -> Any:
    """``torch.jit.load`` after checking the file is a TorchScript archive, not a pickle."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:1] == b"\x80":
        raise _pickle_error(path, "a pickle (torch.save of a whole model?)")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"model file {str(path)!r} is not a TorchScript archive; {_EXPORT_HINT}.")
    if not _is_torchscript_zip(path):
        raise _pickle_error(path, "a torch.save pickle archive, not TorchScript")
    torch = import_optional("torch", "TorchScript models")
    return torch.jit.load(str(path), map_location="cpu" if device in (None, "auto") else device)


def load_keras(path: Path) -> Any:
    if "keras" not in sys.modules and not os.environ.get("KERAS_BACKEND"):
        if importlib.util.find_spec("tensorflow") is None:
            raise ImportError(
                "keras needs a backend: tensorflow is not installed, so set KERAS_BACKEND=torch "
                "(or jax) in the environment before running."
            )
    keras = import_optional("keras", "Keras models")
    return keras.saving.load_model(str(path), compile=False, safe_mode=True)


def load_model(path: str | os.PathLike, *, recurrent: bool | None = None, **options: Any) -> Model:
    """Load and adapt a model file by its extension (see the module docstring)."""
    from .adapt import adapt

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in PICKLE_SUFFIXES:
        raise _pickle_error(path, "a pickle")
    if suffix not in MODEL_SUFFIXES:
        raise ValueError(
            f"model file {str(path)!r} has an unknown extension {suffix or '(none)'!r}; expected "
            f"one of {', '.join(MODEL_SUFFIXES)}."
        )
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist.")
    if suffix == ".onnx":
        from ._onnx import adapt_onnx

        return adapt_onnx(path, recurrent=recurrent, **options)
    if suffix == ".keras":
        return adapt(load_keras(path), recurrent=recurrent, **options)
    module = load_torchscript(path, device=options.get("device"))
    return adapt(module, recurrent=recurrent, **options)
