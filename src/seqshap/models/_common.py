"""Helpers shared by the framework adapters: batch sizing and framework detection."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .._validation import check_int

#: default bound on the bytes one model call may use (inputs plus a guess at activations)
DEFAULT_MEMORY_BUDGET = 128 * 2**20
#: activations are assumed to take this many times the input's bytes per row
ACTIVATION_FACTOR = 16
#: no batch is made larger than this, whatever the budget
MAX_BATCH = 2048


def rows_for_budget(row_shape: tuple[int, ...], itemsize: int, memory_budget: int) -> int:
    """Rows per call so that ``rows * prod(row_shape) * itemsize * ACTIVATION_FACTOR <= budget``."""
    cells = int(np.prod(row_shape)) if row_shape else 1
    per_row = max(1, cells * itemsize * ACTIVATION_FACTOR)
    return int(min(MAX_BATCH, max(1, memory_budget // per_row)))


def check_batching(batch_size: Any, memory_budget: Any) -> tuple[int | None, int]:
    """Validate the two batching options every framework adapter takes."""
    if batch_size is not None:
        batch_size = check_int(batch_size, name="batch_size", minimum=1)
    memory_budget = check_int(memory_budget, name="memory_budget", minimum=1)
    return batch_size, memory_budget


def is_instance_of(obj: Any, module: str, qualname: str) -> bool:
    """``isinstance(obj, module.qualname)`` without importing ``module`` when it is not loaded.

    If the framework was never imported, ``obj`` cannot be one of its objects.
    """
    top = module.split(".")[0]
    if top not in sys.modules:
        return False
    mod = sys.modules.get(module)
    if mod is None:
        try:
            import importlib

            mod = importlib.import_module(module)
        except ImportError:
            return False
    cls: Any = mod
    for part in qualname.split("."):
        cls = getattr(cls, part, None)
        if cls is None:
            return False
    return isinstance(obj, cls)


def type_module(obj: Any) -> str:
    """Top-level package that defines ``obj``'s class (``"sktime"``, ``"sklearn"``, ...)."""
    return type(obj).__module__.split(".")[0]
