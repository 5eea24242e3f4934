"""``timeshap.utils.compatibility`` (import path kept for drop-in use)."""

from __future__ import annotations

import importlib.util


def is_torch_installed() -> bool:
    """Whether torch can be imported (without importing it)."""
    return importlib.util.find_spec("torch") is not None


def is_tensorflow_installed() -> bool:
    """Whether tensorflow can be imported (without importing it)."""
    return importlib.util.find_spec("tensorflow") is not None


__all__ = ["is_tensorflow_installed", "is_torch_installed"]
