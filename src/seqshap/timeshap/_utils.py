"""TimeSHAP's utilities (baselines, baseline scores) and the input handling of the façade.

Fixes relative to TimeSHAP 1.0.4: ``calc_avg_event`` accepts numpy events ``(N, d)`` and
sequences ``(n, T, d)`` (TimeSHAP crashes on both); ``calc_avg_sequence`` selects the named
feature columns of a DataFrame (TimeSHAP indexes all columns by the position of the feature in
``model_features``, so the tutorial's average sequence held the timestamp and raw columns);
model scores are read without inspecting ``__code__`` (works for any callable).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import _describe, check_array, check_int
from ..sequence.baselines import median_event, mode_event

# --------------------------------------------------------------------------- model calls


def _is_state_list(out: Any) -> bool:
    """A 2-item list ``[scores, hidden_state]`` (TimeSHAP's models may return a list): scores
    with a row axis and a state that is an array of at least 2 dimensions or a tuple/list of
    them. A list of plain scores (numbers, or 1-D rows) does not qualify."""
    if not (isinstance(out, list) and len(out) == 2):
        return False
    scores, state = out
    if np.ndim(scores) < 1 or isinstance(scores, list) and not scores:
        return False
    if isinstance(state, tuple | list):
        return len(state) > 0 and all(isinstance(s, tuple | list) or _ndim(s) >= 2 for s in state)
    return _ndim(state) >= 2


def _ndim(x: Any) -> int:
    shape = getattr(x, "shape", None)
    return len(shape) if shape is not None else np.ndim(x)


def as_output_pair(out: Any) -> tuple[np.ndarray, Any]:
    """``(scores (n, k) float array, hidden state or None)`` from ``f``'s output: a
    ``(scores, h)`` tuple, a ``[scores, h]`` list, or scores."""
    state = None
    if (isinstance(out, tuple) and len(out) == 2) or _is_state_list(out):
        out, state = out
    if type(out).__module__.startswith("torch"):
        out = out.detach().cpu().numpy()
    arr = np.asarray(out, dtype=float)
    return (arr.reshape(len(arr), -1) if arr.ndim else arr.reshape(1, 1)), state


def returns_state(f: Any) -> Any:
    """``f`` with a ``[scores, h]`` list output turned into the ``(scores, h)`` tuple the engine
    recognises; other outputs (and ``f`` itself, for non-list outputs) pass unchanged."""

    def call(*args: Any, **kwargs: Any) -> Any:
        out = f(*args, **kwargs)
        return tuple(out) if _is_state_list(out) else out

    call.__wrapped__ = f  # type: ignore[attr-defined]
    return call


def is_recurrent(f: Any, probe: np.ndarray) -> bool:
    """True when ``f`` follows TimeSHAP's ``f(x, h=None) -> (scores, h)`` convention.

    Decided from the *type* of what ``f`` returns on a one-row probe (a 2-tuple, or a 2-item
    list of scores and a state array), never from ``len(output) == 2`` alone — TimeSHAP's test,
    which mistakes 2 rows of scores for ``(scores, h)``.
    """
    return as_output_pair(f(probe))[1] is not None


def scores_of(out: Any) -> np.ndarray:
    """Scores as a float ``(n, k)`` array from ``f``'s output (``(scores, h)`` or scores)."""
    return as_output_pair(out)[0]


def _as_event(med: Any) -> np.ndarray:
    arr = check_array(med, name="med", ndim=(1, 2, 3))
    return arr.reshape(1, 1, -1)


def get_avg_score_with_avg_event(model: Any, med: Any, top: int = 1000) -> dict[int, float]:
    """Score of the average event repeated ``1..top`` times: ``{length: score}`` (rounded to 6
    decimals, as TimeSHAP), in ``top`` model calls. The first call, on one event, tells the
    model's form: a recurrent model (``(scores, h)``) then advances one step per call from its
    state; any other model gets the event repeated ``length`` times."""
    top = check_int(top, name="top", minimum=1)
    event = _as_event(med)
    pred, hs = as_output_pair(model(event.copy()))
    scores: dict[int, float] = {1: round(float(pred[0, 0]), 6)}
    for length in range(2, top + 1):
        if hs is not None:
            pred, hs = as_output_pair(model(event.copy(), hs))
        else:
            pred = scores_of(model(np.repeat(event, length, axis=1)))
        scores[length] = round(float(pred[0, 0]), 6)
    return scores


def get_score_of_avg_sequence(model: Any, data: Any) -> np.ndarray:
    """Score of the average sequence ``(T, d)`` (or ``(1, T, d)``): the model's first row."""
    arr = check_array(data, name="data", ndim=(2, 3))
    if arr.ndim == 2:
        arr = arr[None]
    return scores_of(model(arr))[0]


# --------------------------------------------------------------------------- baselines


def _feature_indexes(
    feats: Sequence[Any], columns: list[Any] | None, name: str, d: int
) -> list[int]:
    out = []
    for f in feats:
        if isinstance(f, str):
            if columns is None or f not in columns:
                raise ValueError(
                    f"{name} names feature {f!r}, which is not among the columns "
                    f"{columns}. Pass model_features (the column names in order) or indexes."
                )
            out.append(columns.index(f))
        elif isinstance(f, int | np.integer) and 0 <= int(f) < d:
            out.append(int(f))
        else:
            raise ValueError(f"{name} entry {f!r} is not a feature name or an index in [0, {d}).")
    return out


def calc_avg_event(
    data: pd.DataFrame | np.ndarray,
    numerical_feats: list[str | int],
    categorical_feats: list[str | int],
    model_features: list[str] | None = None,
) -> pd.DataFrame:
    """Average event: median of ``numerical_feats`` and mode of ``categorical_feats`` over all
    events of ``data`` (a DataFrame of events, numpy events ``(N, d)`` or sequences ``(n, T, d)``).
    Returns a one-row DataFrame with columns ``numerical_feats + categorical_feats``."""
    numerical_feats, categorical_feats = list(numerical_feats), list(categorical_feats)
    if isinstance(data, pd.DataFrame):
        columns = list(data.columns)
        events = data
    else:
        columns = list(model_features) if model_features is not None else None
        arr = np.asarray(data)
        if arr.ndim == 3:
            arr = arr.reshape(-1, arr.shape[-1])
        if arr.ndim != 2:
            raise ValueError(
                f"data must be a DataFrame of events, events (N, d) or sequences (n, T, d); "
                f"received {_describe(data)}."
            )
        events = arr
    d = events.shape[1]
    num_idx = _feature_indexes(numerical_feats, columns, "numerical_feats", d)
    cat_idx = _feature_indexes(categorical_feats, columns, "categorical_feats", d)
    values = np.asarray(
        events.iloc[:, num_idx + cat_idx]
        if isinstance(events, pd.DataFrame)
        else events[:, num_idx + cat_idx]
    )
    parts = []
    if num_idx:
        parts.append(median_event(check_array(values[:, : len(num_idx)], name="data", ndim=2)))
    if cat_idx:
        parts.append(mode_event(check_array(values[:, len(num_idx) :], name="data", ndim=2)))
    row = np.concatenate(parts) if parts else np.zeros(0)
    frame = pd.DataFrame([row], columns=numerical_feats + categorical_feats)
    # a mode is a value of its column: integer and boolean columns keep their dtype (TimeSHAP)
    for name, j in zip(categorical_feats, cat_idx):
        dtype = events.dtypes.iloc[j] if isinstance(events, pd.DataFrame) else events.dtype
        if isinstance(dtype, np.dtype) and dtype.kind in "iub":
            frame[name] = frame[name].astype(dtype)
    return frame


def calc_avg_sequence(
    data: pd.DataFrame | np.ndarray,
    numerical_feats: list[str | int],
    categorical_feats: list[str | int],
    model_features: list[str] | None = None,
    entity_col: str | None = None,
) -> np.ndarray:
    """Average sequence ``(T, n_feats)``: step-wise median of the numerical and mode of the
    categorical features over sequences of equal length (a DataFrame grouped by ``entity_col``
    in row order, or ``(n, T, d)``)."""
    numerical_feats, categorical_feats = list(numerical_feats), list(categorical_feats)
    if isinstance(data, pd.DataFrame):
        if entity_col is None or entity_col not in data.columns:
            raise ValueError(
                "calc_avg_sequence on a DataFrame needs entity_col, the column that identifies "
                f"sequences; received entity_col={entity_col!r}."
            )
        columns = list(data.columns)
        feats = numerical_feats + categorical_feats
        idx = _feature_indexes(feats, columns, "features", len(columns))
        groups = [g.iloc[:, idx].to_numpy() for _, g in data.groupby(entity_col, sort=False)]
        lengths = {len(g) for g in groups}
        if len(lengths) != 1:
            raise ValueError(
                f"calc_avg_sequence needs sequences of one length; received lengths "
                f"{sorted(lengths)}. Use seqshap.sequence.average_sequence (aligned at the most "
                "recent event) for variable lengths."
            )
        seqs = check_array(np.stack(groups), name="data", ndim=3)
        num_idx = list(range(len(numerical_feats)))
        cat_idx = list(range(len(numerical_feats), len(feats)))
    else:
        seqs = check_array(data, name="data", ndim=3)
        columns = list(model_features) if model_features is not None else None
        num_idx = _feature_indexes(numerical_feats, columns, "numerical_feats", seqs.shape[2])
        cat_idx = _feature_indexes(categorical_feats, columns, "categorical_feats", seqs.shape[2])
    parts = []
    if num_idx:
        parts.append(np.median(seqs[:, :, num_idx], axis=0))
    if cat_idx:
        cats = seqs[:, :, cat_idx]
        mode = np.empty(cats.shape[1:])
        for t in range(cats.shape[1]):
            mode[t] = mode_event(cats[:, t, :])
        parts.append(mode)
    return np.concatenate(parts, axis=1).astype(float)


# --------------------------------------------------------------------------- global inputs


def _index_of(col: Any, schema: list[str] | None, name: str) -> int | None:
    if col is None:
        return None
    if isinstance(col, str):
        if schema is None or col not in schema:
            raise ValueError(
                f"{name}={col!r} is a column name, but it is not in the schema {schema}. Pass "
                "schema (the column names of data) or the column index."
            )
        return schema.index(col)
    if isinstance(col, int | np.integer):
        return int(col)
    raise TypeError(f"{name} must be a column name or index; received {col!r}.")


def split_sequences(
    data: Any,
    model_features: list[str | int] | None,
    schema: list[str] | None,
    entity_col: str | int | None,
    time_col: str | int | None,
) -> tuple[list[np.ndarray], list[Any]]:
    """TimeSHAP's global inputs as ``(sequences (T_i, d), entity ids)``.

    ``data``: a long DataFrame, a 2-D array with an entity column, a 3-D array, or a list of
    ``(1, T, d)``/``(T, d)`` arrays. Without an entity column the ids are 0..n-1 (TimeSHAP
    crashes there). Sequences are sorted by ``time_col`` when given; the user's data is not
    modified.
    """
    if isinstance(data, pd.DataFrame):
        schema = [str(c) for c in data.columns]
        table = data.to_numpy(dtype=object)
    elif isinstance(data, list | tuple):
        table = None
    else:
        table = np.asarray(data)
    ent = _index_of(entity_col, schema, "entity_col")
    tim = _index_of(time_col, schema, "time_col")
    feats = None
    if model_features is not None:
        feats = [_index_of(f, schema, "model_features") for f in model_features]
    sequences: list[np.ndarray] = []
    entities: list[Any] = []
    if table is None:  # list of sequences
        blocks = [np.asarray(s) for s in data]
        blocks = [b[0] if b.ndim == 3 and b.shape[0] == 1 else b for b in blocks]
    elif table.ndim == 3:
        blocks = list(table)
    elif table.ndim == 2:
        if ent is None:
            raise ValueError(
                "data is a 2-D table: give entity_col, the column that identifies sequences."
            )
        keys = pd.unique(pd.Series(table[:, ent]))
        blocks = [table[table[:, ent] == k] for k in keys]
    else:
        raise ValueError(f"data must be a DataFrame, 2-D or 3-D array; received {_describe(data)}.")
    for i, block in enumerate(blocks):
        if block.ndim != 2:
            raise ValueError(f"data[{i}] must be one sequence (T, d); received {block.shape}.")
        if tim is not None:
            order = np.argsort(pd.to_numeric(pd.Series(block[:, tim])).to_numpy(), kind="stable")
            block = block[order]
        entities.append(block[0, ent] if ent is not None else i)
        if feats is not None:
            block = block[:, feats]
        elif ent is not None or tim is not None:
            keep = [j for j in range(block.shape[1]) if j not in {ent, tim}]
            block = block[:, keep]
        sequences.append(
            check_array(block, name=f"data (sequence {entities[-1]!r})", ndim=2, copy=True)
        )
    if not sequences:
        raise ValueError("data holds no sequences.")
    return sequences, entities
