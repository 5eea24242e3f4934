"""Keras 3 adapter (any backend): ``keras.Model`` → :class:`Model`.

Calls ``model(x, training=False)`` (under ``torch.no_grad()`` with the torch backend; the other
backends record no gradients outside a tape) in batches sized by a memory budget. Nothing on the model is changed; with the torch backend the
modules' ``training`` flags are restored after each call as for torch models.
"""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

import numpy as np

from .._optional import import_optional
from ._common import DEFAULT_MEMORY_BUDGET, check_batching, rows_for_budget
from .base import Model


class KerasModel(Model):
    """A Keras 3 model mapping ``(n, *S)`` inputs to ``(n, k)`` scores."""

    def __init__(
        self,
        model: Any,
        *,
        batch_size: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
    ):
        keras = import_optional("keras", "Keras models")
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model; received {type(model).__name__}.")
        self.model = model
        self._fixed_batch, self.memory_budget = check_batching(batch_size, memory_budget)
        self.batch_size = self._fixed_batch
        dtype = getattr(model, "compute_dtype", None) or "float32"
        self._dtype = np.dtype(dtype if dtype in ("float16", "float32", "float64") else "float32")

    def __call__(self, x: np.ndarray) -> np.ndarray:
        if self._fixed_batch is None:
            self.batch_size = rows_for_budget(x.shape[1:], self._dtype.itemsize, self.memory_budget)
        return super().__call__(x)

    def _modes(self) -> Any:
        if hasattr(self.model, "modules") and hasattr(self.model, "training"):
            from ._torch import eval_no_grad  # torch backend: keras layers are torch modules

            return eval_no_grad(self.model)
        return nullcontext()

    def predict(self, x: np.ndarray) -> np.ndarray:
        keras = import_optional("keras", "Keras models")
        with self._modes():
            out = self.model(np.ascontiguousarray(x, dtype=self._dtype), training=False)
            if isinstance(out, dict):
                out = next(iter(out.values()))
            if isinstance(out, list | tuple):
                out = out[0]
            if type(out).__module__.startswith("torch"):
                from ._torch import _to_numpy  # np.array(tensor) warns under numpy 2

                return _to_numpy(out)
            out = keras.ops.convert_to_numpy(out)
        return np.asarray(out, dtype=float)

    def __repr__(self) -> str:
        return f"KerasModel({getattr(self.model, 'name', type(self.model).__name__)!r})"
