"""``TorchModelWrapper``: TimeSHAP's torch entry point, without its side effects.

Same constructor and ``predict_last_hs(sequences, hidden_states=None)`` as TimeSHAP 1.0.4, so
``f_hs = lambda x, y=None: TorchModelWrapper(model).predict_last_hs(x, y)`` works unchanged.
Differences (fixes): the train/eval mode of every submodule is restored after each call
(TimeSHAP leaves the model in train mode, which changes dropout/batch-norm models for the rest
of the session); the input is not deep-copied first (one float32 copy is made for torch);
hidden states may be numpy arrays or tensors.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Any

import numpy as np

from .._optional import import_optional
from .._validation import _describe


class TimeSHAPWrapper:
    """Base of the model wrappers: holds ``model`` and ``batch_budget``; calling it calls the model."""

    def __init__(self, model: Any, batch_budget: int) -> None:
        self.model = model
        self.batch_budget = batch_budget

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.model(*args, **kwargs)


@contextmanager
def _eval_mode(model: Any):
    """Evaluation mode for the call; each submodule's own mode restored afterwards."""
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield
    finally:
        for module, mode in modes:
            module.training = mode


class TorchModelWrapper(TimeSHAPWrapper):
    """Wraps a torch ``nn.Module`` that maps ``(n, T, d)`` tensors to scores, or to
    ``(scores, hidden_state)`` when given ``(x, hidden_state)`` (TimeSHAP's convention).

    ``batch_budget`` bounds rows x steps per forward pass (750,000 by default, as in TimeSHAP);
    ``device`` moves the model there (as TimeSHAP does).
    """

    def __init__(self, model: Any, batch_budget: int = 750000, device: Any = None) -> None:
        super().__init__(model, batch_budget)
        if device:
            self.model = self.model.to(device)

    @staticmethod
    def prepare_input(input: Any) -> np.ndarray:
        """``(n, T, d)`` numpy from a DataFrame ``(T, d)``, a ``(T, d)`` or a ``(n, T, d)`` array."""
        if hasattr(input, "to_numpy") and not isinstance(input, np.ndarray):
            input = input.to_numpy()
        if type(input).__module__.startswith("torch"):
            input = input.detach().cpu().numpy()
        sequence = np.asarray(input)
        if sequence.ndim == 2:
            sequence = sequence[None]
        if sequence.ndim != 3:
            raise ValueError(
                f"sequences must be (n, T, d) or one (T, d) sequence; received {_describe(input)}."
            )
        return sequence

    def predict_last_hs(
        self, sequences: Any, hidden_states: Any = None
    ) -> np.ndarray | tuple[np.ndarray, Any]:
        """Scores of the last step, as numpy; with ``(scores, hidden_state)`` if the model
        returns its state (tuples of states for stacked/LSTM models are kept as tuples)."""
        torch = import_optional("torch", "TorchModelWrapper")
        sequences = self.prepare_input(sequences)
        device = next(self.model.parameters()).device
        n, t_len = sequences.shape[0], max(1, sequences.shape[1])
        batch = max(1, math.floor(self.batch_budget / t_len))
        scores, states = [], []
        with torch.no_grad(), _eval_mode(self.model):
            for lo in range(0, n, batch):
                x = torch.as_tensor(
                    np.ascontiguousarray(sequences[lo : lo + batch], dtype=np.float32),
                    device=device,
                )
                if hidden_states is None:
                    out = self.model(x)
                else:
                    h = _map(
                        hidden_states, lambda s, lo=lo: _to_tensor(torch, s, lo, batch, device)
                    )
                    out = self.model(x, h)
                if isinstance(out, tuple) and len(out) == 2:
                    pred, hs = out
                    states.append(_map(hs, lambda s: s.detach().cpu().numpy()))
                elif isinstance(out, tuple):
                    raise NotImplementedError(
                        "Only models that return predictions or (predictions, hidden_states) "
                        f"are supported; the model returned a tuple of {len(out)}."
                    )
                else:
                    pred = out
                scores.append(pred.detach().cpu().numpy())
        pred = np.concatenate(scores, axis=0)
        if not states:
            return pred
        return pred, _concat(states)


def _map(state: Any, fn) -> Any:
    if isinstance(state, tuple | list):
        return tuple(_map(s, fn) for s in state)
    return fn(state)


def _to_tensor(torch: Any, s: Any, lo: int, batch: int, device: Any) -> Any:
    part = s[:, lo : lo + batch]
    if isinstance(part, np.ndarray):
        return torch.as_tensor(np.ascontiguousarray(part, dtype=np.float32), device=device)
    return part.to(device=device, dtype=torch.float32)


def _concat(states: list[Any]) -> Any:
    first = states[0]
    if isinstance(first, tuple):
        return tuple(_concat([s[i] for s in states]) for i in range(len(first)))
    return first if len(states) == 1 else np.concatenate(states, axis=1)
