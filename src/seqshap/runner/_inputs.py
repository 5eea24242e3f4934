"""Streaming inputs of a large run: everything becomes an iterator of ``(entity, raw)`` pairs,
read lazily so that memory does not grow with the number of sequences.

Accepted:

* an iterator, generator or other iterable of ``(entity_id, array)`` pairs;
* a dict ``{entity_id: array}``;
* a ``(n, T, d)`` array or a list of ``(T_i, d)`` arrays (ids ``entity_ids`` or 0..n−1);
* a long-format DataFrame (one row per event: ``entity_col``, optional ``time_col``, feature
  columns);
* the path of a long-format parquet file (same columns), read in record batches. Rows of an
  entity must be contiguous (written grouped by entity); an entity met again after other
  entities is reported as a bad sequence.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import import_optional
from .._validation import check_unique_names

#: rows per parquet record batch read at once
PARQUET_BATCH_ROWS = 65_536


class _Bad:
    """A raw sequence known to be bad before the gate (e.g. non-contiguous parquet rows)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason


def iter_items(
    data: Any,
    *,
    entity_ids: Sequence[Any] | None = None,
    entity_col: str | None = None,
    time_col: str | None = None,
    feature_cols: Sequence[str] | None = None,
) -> tuple[Iterator[tuple[Any, Any]], int | None, list[str] | None]:
    """``(items, n, feature_names)``: the pairs, their number when known, and the feature
    columns of a DataFrame/parquet input (None otherwise)."""
    if isinstance(data, str | os.PathLike):
        path = Path(data)
        if not path.exists():
            raise FileNotFoundError(f"data path {str(path)!r} does not exist.")
        return _from_parquet(path, entity_col, time_col, feature_cols)
    if hasattr(data, "columns") and hasattr(data, "groupby"):
        return _from_frame(data, entity_col, time_col, feature_cols)
    if isinstance(data, Mapping):
        if entity_ids is not None:
            raise ValueError("entity_ids is for arrays and lists; a dict already names its ids.")
        return iter(data.items()), len(data), None
    if isinstance(data, np.ndarray) or (
        isinstance(data, list | tuple) and len(data) and _is_2d(data[0])
    ):
        n = len(data)
        if isinstance(data, np.ndarray) and data.ndim != 3:
            raise ValueError(
                f"data as an array must be (n, T, d); received shape {data.shape}. Pass a list "
                "of (T_i, d) arrays for sequences of different lengths."
            )
        ids = list(range(n)) if entity_ids is None else list(entity_ids)
        if len(ids) != n:
            raise ValueError(
                f"entity_ids must have {n} entries (one per sequence); received {len(ids)}."
            )
        return zip(ids, data), n, None
    if isinstance(data, Iterable):
        if entity_ids is not None:
            raise ValueError(
                "entity_ids is for arrays and lists; an iterable yields (id, array) pairs."
            )
        n = len(data) if hasattr(data, "__len__") else None
        return _pairs(data), n, None
    raise TypeError(
        "data must be an iterable of (entity_id, array) pairs, a dict, a (n, T, d) array, a list "
        f"of (T_i, d) arrays, a long DataFrame or a parquet path; received {type(data).__name__}."
    )


def _is_2d(x: Any) -> bool:
    if hasattr(x, "ndim"):
        return x.ndim == 2
    try:
        return np.ndim(x) == 2
    except ValueError:  # ragged, e.g. an (id, array) pair
        return False


def _pairs(data: Iterable) -> Iterator[tuple[Any, Any]]:
    for i, item in enumerate(data):
        if isinstance(item, tuple | list) and len(item) == 2:
            yield item[0], item[1]
        else:
            yield (
                f"<item {i}>",
                _Bad(
                    f"items of an iterable must be (entity_id, array) pairs; item {i} is a "
                    f"{type(item).__name__}."
                ),
            )


def _feature_cols(columns: list[str], entity_col, time_col, feature_cols, numeric) -> list[str]:
    if entity_col is None or entity_col not in columns:
        raise ValueError(
            "long-format data needs entity_col, the column that identifies sequences; received "
            f"entity_col={entity_col!r}, columns are {columns}."
        )
    if time_col is not None and time_col not in columns:
        raise ValueError(f"time_col {time_col!r} is not a column: {columns}.")
    if feature_cols is None:
        feature_cols = [c for c in columns if c not in (entity_col, time_col) and numeric(c)]
    feature_cols = check_unique_names(feature_cols, name="feature_cols")
    missing = [c for c in feature_cols if c not in columns]
    if missing or not feature_cols:
        raise ValueError(
            f"feature_cols must name numeric columns of the data; missing {missing}, columns are "
            f"{columns}."
        )
    return feature_cols


def _from_frame(df, entity_col, time_col, feature_cols):
    cols = _feature_cols(
        list(df.columns),
        entity_col,
        time_col,
        feature_cols,
        lambda c: np.issubdtype(df[c].dtype, np.number),
    )

    def gen() -> Iterator[tuple[Any, Any]]:
        for ent, group in df.groupby(entity_col, sort=False):
            if time_col is not None:
                group = group.sort_values(time_col, kind="stable")
            yield ent, group[cols].to_numpy()

    return gen(), int(df[entity_col].nunique()), [str(c) for c in cols]


def _from_parquet(path: Path, entity_col, time_col, feature_cols):
    pq = import_optional("pyarrow.parquet", "parquet input")
    pa = import_optional("pyarrow", "parquet input")
    pfile = pq.ParquetFile(path)
    schema = pfile.schema_arrow
    cols = _feature_cols(
        list(schema.names),
        entity_col,
        time_col,
        feature_cols,
        lambda c: (
            pa.types.is_integer(schema.field(c).type) or pa.types.is_floating(schema.field(c).type)
        ),
    )
    read = [entity_col, *([time_col] if time_col else []), *cols]

    def gen() -> Iterator[tuple[Any, Any]]:
        finished: set[Any] = set()
        cur_id: Any = None
        parts: list[np.ndarray] = []
        times: list[np.ndarray] = []

        def emit():
            x = np.concatenate(parts)
            if time_col is not None:
                x = x[np.argsort(np.concatenate(times), kind="stable")]
            return cur_id, x

        for batch in pfile.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=read):
            ents = batch.column(0).to_numpy(zero_copy_only=False)
            feats = np.column_stack(
                [batch.column(c).to_numpy(zero_copy_only=False).astype(float) for c in cols]
            )
            tcol = batch.column(time_col).to_numpy(zero_copy_only=False) if time_col else None
            change = np.flatnonzero(ents[1:] != ents[:-1]) + 1
            starts = np.r_[0, change]
            ends = np.r_[change, len(ents)]
            for a, b in zip(starts, ends):
                ent = ents[a].item() if hasattr(ents[a], "item") else ents[a]
                if ent != cur_id or not parts:
                    if parts:
                        yield emit()
                        finished.add(cur_id)
                    if ent in finished:
                        yield (
                            ent,
                            _Bad(
                                "its rows are not contiguous in the parquet file (the entity appears "
                                "again after other entities); write the file grouped by entity."
                            ),
                        )
                        cur_id, parts, times = None, [], []
                        continue
                    cur_id, parts, times = ent, [], []
                parts.append(feats[a:b])
                if tcol is not None:
                    times.append(tcol[a:b])
        if parts:
            yield emit()

    # the number of sequences is unknown without a pass over the entity column
    return gen(), None, [str(c) for c in cols]
