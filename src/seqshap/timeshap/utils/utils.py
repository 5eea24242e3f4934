"""``timeshap.utils.utils`` (import path kept for drop-in use): baselines, baseline scores and
TimeSHAP's small input helpers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..._validation import _describe
from .._explain import get_tolerances_to_test
from .._levels import validate_input
from .._utils import (
    calc_avg_event,
    calc_avg_sequence,
    get_avg_score_with_avg_event,
    get_score_of_avg_sequence,
)


def make_list(element: Any) -> list:
    """A number as a one-item list; a list as is."""
    if isinstance(element, list):
        return element
    if isinstance(element, int | float) and not isinstance(element, bool):
        return [element]
    raise ValueError(f"expected a number or a list; received {_describe(element)}.")


def calculate_list_intersection(a: list, b: list) -> list:
    """The common items of two lists (the other list when one is empty)."""
    if len(b) == 0:
        return a
    if len(a) == 0:
        return b
    common = list(set(a).intersection(b))
    if not common:
        raise ValueError(f"the lists {a!r} and {b!r} have no item in common.")
    return common


def convert_to_indexes(
    model_features: list[int | str] | None = None,
    schema: list[str] | None = None,
    entity_col: int | str | None = None,
    time_col: int | str | None = None,
) -> tuple[list[int] | None, int | None, int | None]:
    """Column names as indexes into ``schema``: ``(model feature indexes, entity, time)``."""

    def index(col: Any, name: str) -> int | None:
        if col is None or isinstance(col, int | np.integer):
            return None if col is None else int(col)
        if schema is None or col not in schema:
            raise ValueError(f"{name} {col!r} is not in the schema {schema}.")
        return list(schema).index(col)

    feats = None if model_features is None else [index(f, "model feature") for f in model_features]
    return feats, index(entity_col, "entity_col"), index(time_col, "time_col")


def convert_data_to_3d(
    data: pd.DataFrame | np.ndarray | list,
    entity_col_index: int | None = None,
    time_col_index: int | None = None,
) -> list[np.ndarray]:
    """Sequences ``(1, T_i, d)`` from a long table (grouped by the entity column, sorted by the
    time column), a 3-D array or a list of sequences. The data given is not modified."""
    if isinstance(data, list) and data and np.ndim(data[0]) == 3:
        return list(data)
    out = []
    if isinstance(data, pd.DataFrame):
        if entity_col_index is None:
            raise ValueError("a DataFrame needs entity_col_index to split it into sequences.")
        ids = data.iloc[:, entity_col_index]
        for entity in ids.unique():
            seq = data[ids == entity]
            if time_col_index is not None:
                seq = seq.sort_values(by=seq.columns[time_col_index], kind="stable")
            out.append(seq.to_numpy()[None])
        return out
    arr = np.asarray(data)
    if arr.ndim == 3:
        for seq in arr:
            if entity_col_index is not None and not np.all(
                seq[:, entity_col_index] == seq[0, entity_col_index]
            ):
                raise ValueError("every event of a sequence must have the same entity id.")
            if time_col_index is not None:
                seq = seq[np.argsort(seq[:, time_col_index], kind="stable")]
            out.append(seq[None])
        return out
    if arr.ndim == 2:
        if entity_col_index is None:
            raise ValueError("a 2-D array needs entity_col_index to split it into sequences.")
        for entity in pd.unique(arr[:, entity_col_index]):
            seq = arr[arr[:, entity_col_index] == entity]
            if time_col_index is not None:
                seq = seq[np.argsort(seq[:, time_col_index], kind="stable")]
            out.append(seq[None])
        return out
    raise ValueError(f"data must be a DataFrame, 2-D or 3-D array; received {_describe(data)}.")


__all__ = [
    "calc_avg_event",
    "calc_avg_sequence",
    "calculate_list_intersection",
    "convert_data_to_3d",
    "convert_to_indexes",
    "get_avg_score_with_avg_event",
    "get_score_of_avg_sequence",
    "get_tolerances_to_test",
    "make_list",
    "validate_input",
]
