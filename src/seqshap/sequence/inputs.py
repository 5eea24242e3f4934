"""Sequence inputs: one place that turns what the user has into a list of ``(T_i, d)`` arrays.

Accepted: a ``(T, d)`` sequence (array or DataFrame), a ``(n, T, d)`` array (optionally padded,
with ``lengths``), a list of ``(T_i, d)`` arrays (variable length), or a long-format DataFrame
with one row per event (``entity_col``, ``time_col``, feature columns).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .._validation import (
    check_array,
    check_int,
    check_lengths,
    check_unique_names,
)

PADDING = ("post", "pre")


def _check_lengths(lengths: Any, n: int, t_max: int) -> np.ndarray:
    return check_lengths(lengths, n=n, t_max=t_max)


def as_sequences(
    x: Any,
    *,
    name: str = "x",
    lengths: Any = None,
    padding: str = "post",
    n_features: int | None = None,
    entity_col: str | None = None,
    time_col: str | None = None,
    feature_cols: Sequence[str] | None = None,
) -> tuple[list[np.ndarray], list[Any] | None, list[str] | None]:
    """Return ``(sequences, entity_ids, feature_names)``; each sequence is a fresh float copy.

    With a padded ``(n, T, d)`` array and ``lengths``, sequence ``i`` is ``x[i, :L_i]``
    (``padding="post"``, valid rows first) or ``x[i, T - L_i:]`` (``padding="pre"``).
    """
    if padding not in PADDING:
        raise ValueError(f"padding must be one of {list(PADDING)}; received {padding!r}.")
    entity_ids: list[Any] | None = None
    names: list[str] | None = None
    if hasattr(x, "columns") and hasattr(x, "groupby") and entity_col is not None:  # long format
        seqs, entity_ids, names = _from_frame(x, name, entity_col, time_col, feature_cols)
    elif isinstance(x, list | tuple) and len(x) and not np.isscalar(x[0]) and np.ndim(x[0]) == 2:
        seqs = [check_array(s, name=f"{name}[{i}]", ndim=2, copy=True) for i, s in enumerate(x)]
        if lengths is not None:
            raise ValueError(f"lengths is only for padded arrays; {name} is a list of sequences.")
    else:
        arr = check_array(x, name=name, ndim=(2, 3), allow_nan=lengths is not None)
        if arr.ndim == 2:
            arr = arr[None]
        if lengths is None:
            seqs = [arr[i].copy() for i in range(len(arr))]
        else:
            lens = _check_lengths(lengths, len(arr), arr.shape[1])
            t_max = arr.shape[1]
            seqs = [
                (arr[i, :n] if padding == "post" else arr[i, t_max - n :]).copy()
                for i, n in enumerate(lens)
            ]
            for i, s in enumerate(seqs):
                check_array(s, name=f"{name}[{i}] (its first {len(s)} valid rows)")
    if not seqs:
        raise ValueError(f"{name} holds no sequences; pass at least one (T, d) sequence.")
    d = seqs[0].shape[1] if n_features is None else n_features
    for i, s in enumerate(seqs):
        if s.shape[0] < 1:
            raise ValueError(
                f"{name}[{i}] is an empty sequence (0 time steps); every sequence needs at least "
                "one event. Drop it before explaining."
            )
        if s.shape[1] != d:
            raise ValueError(
                f"{name}[{i}] has {s.shape[1]} features per event; expected {d} (the width of "
                "the model's input and of the baseline). Select the same feature columns."
            )
    return seqs, entity_ids, names


def _from_frame(df, name, entity_col, time_col, feature_cols):
    if entity_col not in df.columns:
        raise ValueError(
            f"{name} is a DataFrame: give entity_col, the column that identifies sequences; "
            f"received entity_col={entity_col!r}, columns are {list(df.columns)}."
        )
    if time_col is not None and time_col not in df.columns:
        raise ValueError(f"time_col {time_col!r} is not a column of {name}: {list(df.columns)}.")
    if feature_cols is None:
        skip = {entity_col, time_col}
        feature_cols = [
            c for c in df.columns if c not in skip and np.issubdtype(df[c].dtype, np.number)
        ]
    feature_cols = list(feature_cols)
    check_unique_names(feature_cols, name="feature_cols")
    missing = [c for c in feature_cols if c not in df.columns]
    if missing:
        raise ValueError(f"feature_cols {missing} are not columns of {name}: {list(df.columns)}.")
    if not feature_cols:
        raise ValueError(f"{name} has no numeric feature columns; pass feature_cols.")
    order = [time_col] if time_col is not None else []
    seqs, ids = [], []
    for ent, group in df.groupby(entity_col, sort=False):
        if order:
            group = group.sort_values(order, kind="stable")
        seqs.append(check_array(group[feature_cols], name=f"{name} (entity {ent!r})", copy=True))
        ids.append(ent)
    return seqs, ids, [str(c) for c in feature_cols]


def check_sequence(
    x: Any, *, name: str = "x", lengths: Any = None, padding: str = "post"
) -> np.ndarray:
    """One sequence ``(T, d)`` from ``(T, d)``, ``(1, T, d)`` (with optional ``lengths``)."""
    if isinstance(x, list | tuple) and len(x) == 1 and np.ndim(x[0]) == 2:
        x = x[0]
    seqs, _, _ = as_sequences(x, name=name, lengths=lengths, padding=padding)
    if len(seqs) != 1:
        raise ValueError(
            f"{name} must be one sequence, (T, d) or (1, T, d); received {len(seqs)} sequences. "
            "Use explain_global for many."
        )
    return seqs[0]


def positive_int(value: Any, name: str) -> int:
    return check_int(value, name=name, minimum=1)
