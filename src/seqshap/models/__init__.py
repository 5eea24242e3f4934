"""Model adapters: turn what the user has into a :class:`Model` seqshap can call."""

from __future__ import annotations

from .adapt import adapt
from .base import CallableModel, Model, RecurrentCallableModel, RecurrentModel

__all__ = ["Model", "RecurrentModel", "CallableModel", "RecurrentCallableModel", "adapt"]
