"""Self-contained interactive HTML reports of explanations (:func:`report`)."""

from __future__ import annotations

from ._report import report

__all__ = ["report"]
