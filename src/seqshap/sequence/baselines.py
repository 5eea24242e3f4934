"""Baselines for sequences: what an absent event (or cell) is replaced with.

- an *event* ``(d,)`` (mean, median or mode of all events): tiled over every step;
- an *average sequence* ``(T, d)``: the step-wise mean, aligned at the most recent event;
- *background sequences* ``(m, T, d)``: an average over several references (weights optional);
- ``"zeros"``: the zero event.

For a sequence of length ``L`` shorter than the baseline's ``T``, the last ``L`` rows are used
(the baselines are aligned on the most recent event, like the sequences).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import _describe, check_array
from ..background import Background, as_background
from .inputs import as_sequences

BASELINE_NAMES = ("mean_event", "median_event", "mode_event", "average_sequence", "zeros")


def _events(data: Any, lengths: Any = None) -> np.ndarray:
    """All events of ``data`` as an ``(n_events, d)`` array (2-D input is taken as events)."""
    if hasattr(data, "ndim") and getattr(data, "ndim", 0) == 2 and lengths is None:
        return check_array(data, name="data", ndim=2, min_rows=1)
    if isinstance(data, list | tuple) or np.ndim(data) == 3:
        seqs, _, _ = as_sequences(data, name="data", lengths=lengths)
        return np.concatenate(seqs, axis=0)
    return check_array(data, name="data", ndim=2, min_rows=1)


def mean_event(data: Any, *, lengths: Any = None) -> np.ndarray:
    """Mean of every event: ``(d,)``. ``data``: events ``(N, d)``, sequences ``(n, T, d)``
    (with ``lengths`` if padded) or a list of ``(T_i, d)`` arrays."""
    return _events(data, lengths).mean(axis=0)


def median_event(data: Any, *, lengths: Any = None) -> np.ndarray:
    """Median of every event, feature-wise: ``(d,)`` (TimeSHAP's numerical baseline)."""
    return np.median(_events(data, lengths), axis=0)


def mode_event(data: Any, *, lengths: Any = None) -> np.ndarray:
    """Most frequent value of each feature over all events: ``(d,)`` (for categorical codes;
    ties go to the smallest value)."""
    events = _events(data, lengths)
    out = np.empty(events.shape[1])
    for j in range(events.shape[1]):
        vals, counts = np.unique(events[:, j], return_counts=True)
        out[j] = vals[np.argmax(counts)]
    return out


def average_sequence(data: Any, *, lengths: Any = None) -> np.ndarray:
    """Step-wise mean sequence ``(T_max, d)``, sequences aligned at their most recent event
    (at each step back from the end, the mean over the sequences that are that long)."""
    seqs, _, _ = as_sequences(data, name="data", lengths=lengths)
    t_max = max(len(s) for s in seqs)
    d = seqs[0].shape[1]
    total = np.zeros((t_max, d))
    count = np.zeros((t_max, 1))
    for s in seqs:
        total[t_max - len(s) :] += s
        count[t_max - len(s) :] += 1
    return total / count


def resolve_baseline(baseline: Any, data: Any, n_features: int | None) -> Background:
    """Turn the ``baseline`` argument into background sequences ``(m, T_b, d)``.

    An event baseline is stored with ``T_b = 1`` and tiled to each sequence's length.
    """
    if isinstance(baseline, str):
        if baseline not in BASELINE_NAMES:
            raise ValueError(
                f"baseline must be one of {list(BASELINE_NAMES)} or an array; received "
                f"{baseline!r}."
            )
        if baseline == "zeros":
            if n_features is None and data is None:
                return Background(np.zeros((1, 1, 0)), np.ones(1))  # width set on first use
            d = n_features if n_features is not None else _events(data).shape[1]
            return Background(np.zeros((1, 1, d)), np.ones(1))
        if data is None:
            raise ValueError(
                f"baseline={baseline!r} is computed from data, but data is None. Pass the "
                "training sequences as data=..., or give the baseline as an array."
            )
        fn = {
            "mean_event": mean_event,
            "median_event": median_event,
            "mode_event": mode_event,
        }.get(baseline)
        if fn is not None:
            return Background(fn(data)[None, None, :], np.ones(1))
        return Background(average_sequence(data)[None], np.ones(1))
    if isinstance(baseline, Background) or (
        hasattr(baseline, "weights")
        and hasattr(baseline, "data")
        and not hasattr(baseline, "shape")
    ):
        bg = as_background(baseline, name="baseline")
        if bg.data.ndim != 3:
            raise ValueError(
                f"baseline background rows must be (m, T, d) sequences; received {bg.data.shape}."
            )
        return bg
    arr = check_array(baseline, name="baseline", ndim=(1, 2, 3))
    if arr.ndim == 1:
        arr = arr[None, None, :]
    elif arr.ndim == 2:
        arr = arr[None]
    if arr.shape[1] < 1 or arr.shape[0] < 1:
        raise ValueError(f"baseline must not be empty; received {_describe(arr)}.")
    return as_background(arr, name="baseline", ndim=3)


def background_for(bg: Background, length: int, n_features: int) -> Background:
    """Background rows for a sequence of ``length`` steps: tile events, take the last rows."""
    data = bg.data
    if data.shape[2] == 0:  # "zeros" before the width was known
        data = np.zeros((1, 1, n_features))
    if data.shape[2] != n_features:
        raise ValueError(
            f"baseline has {data.shape[2]} features per event but the sequence has "
            f"{n_features}; give a baseline of width {n_features} (same columns as the model "
            "input)."
        )
    if data.shape[1] == 1:
        return Background(np.repeat(data, length, axis=1), bg.weights)
    if data.shape[1] < length:
        raise ValueError(
            f"baseline sequences have {data.shape[1]} steps but the sequence has {length}; "
            "give baseline sequences at least as long as the longest sequence explained, or an "
            "event baseline (d,) that is tiled to any length."
        )
    return Background(data[:, data.shape[1] - length :], bg.weights)
