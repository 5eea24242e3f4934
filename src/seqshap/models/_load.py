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


#: what a TorchScript archive's pickles may name (read with pickletools, never unpickled):
#: scripted classes (``__torch__.*``), tensor rebuilding, storages and TorchScript's own helpers
_TS_MODULES = ("torch._utils", "torch.jit._pickle")
_TS_GLOBALS = {("collections", "OrderedDict"), ("torch", "device")}


def _pickle_globals(data: bytes) -> list[tuple[str, str]]:
    """The ``(module, name)`` pairs a pickle imports, read by opcode (nothing is executed)."""
    import pickletools

    found, strings = [], []
    for op, arg, _ in pickletools.genops(data):
        if op.name in ("GLOBAL", "INST"):
            module, _, name = str(arg).partition(" ")
            found.append((module, name))
        elif op.name == "STACK_GLOBAL":
            found.append((strings[-2], strings[-1]) if len(strings) >= 2 else ("?", "?"))
        elif isinstance(arg, str):
            strings.append(arg)
    return found


def _ts_global_allowed(module: str, name: str) -> bool:
    return (
        module == "__torch__"
        or module.startswith("__torch__.")
        or module in _TS_MODULES
        or (module, name) in _TS_GLOBALS
        or (module == "torch" and name.endswith("Storage"))
    )


def _torchscript_problem(path: Path) -> str | None:
    """Why ``path`` is not a TorchScript archive (None when it is one).

    A TorchScript archive (``torch.jit.save``) has one root folder holding ``data.pkl``,
    ``constants.pkl``, ``version`` and the scripted code under ``code/__torch__``; its
    ``data.pkl`` starts with a scripted class and names only scripted classes, tensors and
    storages. A ``torch.save`` archive names Python classes (``__main__.Net``,
    ``torch.nn.modules…``) or is a bare state dict, whatever entries were added beside it.
    """
    try:
        with zipfile.ZipFile(path) as zf:
            names = zf.namelist()
            roots = {n.split("/", 1)[0] for n in names}
            if len(roots) != 1:
                return "its entries do not share one root folder"
            root = roots.pop()
            for required in ("data.pkl", "constants.pkl", "version"):
                if f"{root}/{required}" not in names:
                    return f"it has no {required}"
            if not any(n.startswith(f"{root}/code/__torch__") and n.endswith(".py") for n in names):
                return "it holds no scripted code (code/__torch__…py)"
            data = _pickle_globals(zf.read(f"{root}/data.pkl"))
            constants = _pickle_globals(zf.read(f"{root}/constants.pkl"))
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        return f"its archive cannot be read ({type(exc).__name__}: {exc})"
    if not data or not data[0][0].startswith("__torch__"):
        first = ".".join(data[0]) if data else "nothing"
        return f"its data.pkl holds {first}, not a scripted module"
    bad = [f"{m}.{n}" for m, n in data + constants if not _ts_global_allowed(m, n)]
    if bad:
        return f"its pickles name Python objects {sorted(set(bad))[:5]}"
    return None


def load_torchscript(path: Path, *, device: Any = None) -> Any:
    """``torch.jit.load`` after checking the file is a TorchScript archive, not a pickle."""
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head[:1] == b"\x80":
        raise _pickle_error(path, "a pickle (torch.save of a whole model?)")
    if not zipfile.is_zipfile(path):
        raise ValueError(f"model file {str(path)!r} is not a TorchScript archive; {_EXPORT_HINT}.")
    problem = _torchscript_problem(path)
    if problem is not None:
        raise _pickle_error(
            path, f"not a TorchScript archive ({problem}); a torch.save archive is a pickle"
        )
    torch = import_optional("torch", "TorchScript models")
    return torch.jit.load(str(path), map_location="cpu" if device in (None, "auto") else device)


def load_keras(path: Path) -> Any:
    if "keras" not in sys.modules and not os.environ.get("KERAS_BACKEND"):
        if importlib.util.find_spec("tensorflow") is None:
            raise ImportError(
                "keras needs a backend: tensorflow is not installed, so set KERAS_BACKEND=torch "
                "(or jax) in the environment before running."
            )
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(
            f"model file {str(path)!r} is not a Keras archive (a .keras file is a zip written "
            f"by model.save('m.keras'); this one cannot be opened: {exc}). Save the model "
            "again, or export it to ONNX."
        ) from None
    if "config.json" not in names:
        raise ValueError(
            f"model file {str(path)!r} is a zip without config.json, not a Keras archive "
            "(model.save('m.keras') writes config.json, metadata.json and model.weights.h5)."
        )
    keras = import_optional("keras", "Keras models")
    try:
        return keras.saving.load_model(str(path), compile=False, safe_mode=True)
    except (ValueError, OSError, KeyError, TypeError) as exc:
        # keras words a damaged archive as "File not found"; the file is there
        detail = " ".join(str(exc).split())[:300]
        raise ValueError(
            f"model file {str(path)!r} exists but Keras cannot load it ({type(exc).__name__}: "
            f"{detail}). Check that it was saved by model.save('m.keras') with this Keras "
            "version and that custom layers are registered."
        ) from None


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
