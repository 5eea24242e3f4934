"""The per-sequence data gate of a large run: each item is checked on its own, and a bad one
is reported with its entity id and the reason instead of stopping the whole stream.

A sequence passes when its entity id is a string or an integer, it converts to a finite
float ``(T, d)`` array with ``T ≥ 1`` and ``d`` equal to the width of the model input, and its
entity id was not seen before in the run. The checks reuse :func:`seqshap._validation.check_array`
(its messages become the reasons).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .._validation import check_array


class SequenceError(ValueError):
    """A sequence that cannot be explained: ``entity``, ``position`` in the input, ``reason``."""

    def __init__(self, entity: Any, reason: str, position: int | None = None) -> None:
        self.entity = entity
        self.reason = reason
        self.position = position
        where = "" if position is None else f" (position {position} in the input)"
        super().__init__(
            f"sequence {entity!r}{where}: {reason} Pass on_error='skip' to record it and go on."
        )


def entity_key(entity: Any) -> str:
    """The entity id as stored in result tables (a string); raises SequenceError if invalid."""
    if isinstance(entity, bool | np.bool_) or entity is None:
        raise SequenceError(
            entity, f"entity id must be a string or an integer; received {entity!r}."
        )
    if isinstance(entity, str):
        return entity
    if isinstance(entity, numbers.Integral):
        return str(int(entity))
    if isinstance(entity, numbers.Real) and np.isfinite(entity) and float(entity).is_integer():
        return str(int(entity))  # ids read from float columns, e.g. 3.0
    raise SequenceError(
        entity,
        f"entity id must be a string or an integer; received {type(entity).__name__} {entity!r}.",
    )


def check_item(entity: Any, raw: Any, n_features: int | None) -> np.ndarray:
    """The sequence as a float64 ``(T, d)`` array, or SequenceError with the reason."""
    try:
        arr = check_array(raw, name=f"sequence {entity!r}", ndim=2)
    except (TypeError, ValueError) as exc:
        raise SequenceError(entity, str(exc)) from None
    if arr.shape[0] < 1:
        raise SequenceError(entity, "empty sequence (0 events); every sequence needs one event.")
    if n_features is not None and arr.shape[1] != n_features:
        raise SequenceError(
            entity,
            f"has {arr.shape[1]} features per event; expected {n_features} (the width of the "
            "model input and of the baseline).",
        )
    return arr
