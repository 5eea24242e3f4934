"""``adapt(model)``: one entry point from any supported model object to a :class:`Model`."""

from __future__ import annotations

from typing import Any

from .base import CallableModel, Model, RecurrentCallableModel


def adapt(model: Any, *, recurrent: bool | None = None, batch_size: int | None = None) -> Model:
    """Wrap ``model`` so that it maps numpy ``(n, ...)`` arrays to ``(n, k)`` float scores.

    ``recurrent=True`` declares a plain callable in TimeSHAP's form ``f(x, h=None) ->
    (scores, h)``; the sequence explainers then reuse hidden states of shared prefixes.
    """
    if isinstance(model, Model):
        return model
    if callable(model):
        if recurrent:
            return RecurrentCallableModel(model, batch_size=batch_size)
        return CallableModel(model, batch_size=batch_size)
    raise TypeError(
        f"model must be a callable or a supported model object; received "
        f"{type(model).__module__}.{type(model).__name__}."
    )
