"""TimeSHAP 1.0.4's lower-level public functions (one level of one sequence with the pruning
index given; the cell selection; the dict and input validators), on the façade's engine.

Differences from TimeSHAP, on purpose: the ``verify_*_dict`` functions return a normalised copy
(scalars made lists, defaults filled in) instead of modifying the caller's dict, and raise
``ValueError``/``TypeError`` naming the key instead of ``assert``; the validators log their
notices (``seqshap.timeshap`` logger) instead of printing, and accept a DataFrame without an
entity column for a local report (the local functions do).
"""

from __future__ import annotations

import logging
import numbers
import os
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from .._validation import _describe, check_int, check_tol
from ..sequence import PRUNED
from ._engine import Engine
from ._explain import (
    DEFAULT_NSAMPLES,
    DEFAULT_RS,
    _cell_frame,
    _check_pruned_idx,
    _event_frame,
    _feat_frame,
    _feature_names,
    _one_sequence,
    _pruning_frame,
    prune_given_data,
)

log = logging.getLogger("seqshap.timeshap")


# =========================================================================== one level
def event_level(
    f: Callable,
    data: Any,
    baseline: Any,
    pruned_idx: int,
    random_seed: int,
    nsamples: int,
    display_events: list[str] | None = None,
) -> pd.DataFrame:
    """Event-level values of one sequence ``(1, T, d)`` whose first ``pruned_idx`` events form
    the "Pruned Events" player: columns ``Random seed``, ``NSamples``, ``Feature`` ("Event -1"
    is the most recent event, or the last ``display_events``), ``Shapley Value``."""
    seq = _one_sequence(data)
    frame = _event_frame(
        Engine(f, baseline),
        seq,
        _check_pruned_idx(pruned_idx, len(seq)),
        check_int(random_seed, name="random_seed", minimum=0),
        check_int(nsamples, name="nsamples", minimum=1),
    )
    if display_events is not None:
        n_events = int((frame["Feature"] != PRUNED).sum())
        names = [str(e) for e in display_events]
        if len(names) < n_events:
            raise ValueError(
                f"display_events must name at least the {n_events} unpruned events; received "
                f"{len(names)} names."
            )
        frame.loc[frame["Feature"] != PRUNED, "Feature"] = names[len(names) - n_events :]
    return frame


def feature_level(
    f: Callable,
    data: Any,
    baseline: Any,
    pruned_idx: int,
    random_seed: int,
    nsamples: int,
    model_feats: list[str | int] | None = None,
) -> pd.DataFrame:
    """Feature-level values over the unpruned events of one sequence: columns ``Random seed``,
    ``NSamples``, ``Feature`` (``model_feats`` or "Feature i", then "Pruned Events" when
    ``pruned_idx > 0``), ``Shapley Value``. ``pruned_idx=-1`` means no pruning, as in TimeSHAP."""
    seq = _one_sequence(data)
    return _feat_frame(
        Engine(f, baseline),
        seq,
        _check_pruned_idx(pruned_idx, len(seq)),
        check_int(random_seed, name="random_seed", minimum=0),
        check_int(nsamples, name="nsamples", minimum=1),
        _feature_names(model_feats, seq.shape[1], "model_feats"),
    )


def _top(
    frame: pd.DataFrame, name: str, threshold: float | None, count: int | None
) -> list[tuple[int, str]]:
    """(row position, label) of the rows with the largest |value| (stable order of TimeSHAP:
    by decreasing |value|, stopping below ``threshold`` or at ``count``), "Pruned Events" skipped."""
    if not isinstance(frame, pd.DataFrame) or not {"Feature", "Shapley Value"} <= set(frame):
        raise ValueError(
            f"{name} must be a DataFrame with 'Feature' and 'Shapley Value' columns (the output "
            f"of the event or feature level); received {_describe(frame)}."
        )
    values = pd.to_numeric(frame["Shapley Value"]).to_numpy(dtype=float)
    order = np.argsort(-np.abs(values), kind="stable")
    picked = []
    for i in order:
        label = str(frame["Feature"].iloc[i])
        if label == PRUNED:
            continue
        if threshold is not None and abs(values[i]) < threshold:
            break
        picked.append((int(i), label))
        if count is not None and len(picked) == count:
            break
    return picked


def cell_top_events(
    event_data: pd.DataFrame,
    event_threshold: float | None = None,
    top_x_events: int | None = None,
    **kwargs: Any,
) -> tuple[list[int], list[str]]:
    """The events chosen for the cell level: ``(indexes counted back, -1 = most recent; names)``,
    oldest first, as TimeSHAP."""
    picked = _top(event_data, "event_data", event_threshold, top_x_events)
    picked = sorted(((-i - 1, label) for i, label in picked), key=lambda p: p[0])
    return [i for i, _ in picked], [label for _, label in picked]


def cell_top_feats(
    feat_data: pd.DataFrame,
    feat_threshold: float | None = None,
    top_x_feats: int | None = None,
    **kwargs: Any,
) -> tuple[list[int], list[str]]:
    """The features chosen for the cell level: ``(column indexes, names)`` in column order."""
    picked = sorted(_top(feat_data, "feat_data", feat_threshold, top_x_feats))
    return [i for i, _ in picked], [label for _, label in picked]


def considered_cells(
    event_data: pd.DataFrame, feat_data: pd.DataFrame, **kwargs: Any
) -> tuple[tuple[list[int], list[int]], tuple[list[str], list[str]]]:
    """``((event indexes, feature indexes), (event names, feature names))`` of the cell level."""
    events, event_names = cell_top_events(event_data, **kwargs)
    feats, feat_names = cell_top_feats(feat_data, **kwargs)
    return (events, feats), (event_names, feat_names)


def _selection(cell_dict: dict) -> dict[str, Any]:
    from ._explain import _cell_selection

    return _cell_selection(cell_dict)


def cell_level(
    f: Callable,
    data: Any,
    baseline: Any,
    event_data: pd.DataFrame,
    feat_data: pd.DataFrame,
    random_seed: int,
    nsamples: int,
    cell_dict: dict,
    pruned_idx: int,
    model_feats: list[str | int] | None = None,
) -> pd.DataFrame:
    """Cell-level values of one sequence (cells chosen from ``event_data``/``feat_data`` by
    ``cell_dict``): columns ``Event``, ``Feature``, ``Shapley Value``, largest value first."""
    if not isinstance(cell_dict, dict):
        raise TypeError(f"cell_dict must be a dict; received {_describe(cell_dict)}.")
    seq = _one_sequence(data)
    if model_feats is not None:
        names = _feature_names(model_feats, seq.shape[1], "model_feats")
        feat_data = feat_data.assign(
            Feature=[
                names[i] if label != PRUNED and i < len(names) else label
                for i, label in enumerate(feat_data["Feature"])
            ]
        )
    return _cell_frame(
        Engine(f, baseline),
        seq,
        _check_pruned_idx(pruned_idx, len(seq)),
        check_int(random_seed, name="random_seed", minimum=0),
        check_int(nsamples, name="nsamples", minimum=1),
        event_data,
        feat_data,
        _selection(cell_dict),
    )


def temp_coalition_pruning(
    f: Callable,
    data: Any,
    baseline: Any,
    tolerance: float | None = None,
    ret_plot_data: bool = False,
    verbose: bool = False,
) -> int | pd.DataFrame | tuple[int, pd.DataFrame]:
    """Temporal coalition pruning of one sequence. With ``tolerance``: the pruning index
    (negative; ``-T`` when nothing can be pruned), and with ``ret_plot_data`` also the pruning
    data; without ``tolerance``: the pruning data (``Coalition``, ``t (event index)``,
    ``Shapley Value``)."""
    seq = _one_sequence(data)
    frame = _pruning_frame(Engine(f, baseline).prune(seq))
    if tolerance is None:
        return frame
    tolerance = check_tol(tolerance, name="tolerance", allow_none=False)
    idx = prune_given_data(frame, tolerance)
    if verbose:
        log.info("pruning tolerance %s: pruning index %d of %d events", tolerance, idx, len(seq))
    return (idx, frame) if ret_plot_data else idx


# =========================================================================== dict validators
def _int_values(d: dict, key: str, default: int, name: str) -> list[int]:
    value = d.get(key)
    if value is None or value is False:
        log.info("no %r in %s; using TimeSHAP's default %d", key, name, default)
        return [default]
    values = value if isinstance(value, list | tuple) else [value]
    for v in values:
        if not isinstance(v, numbers.Integral) or isinstance(v, bool):
            raise TypeError(
                f"{name}[{key!r}] must be an int or a list of ints; received {value!r}."
            )
    return [int(v) for v in values]


def _tol_values(d: dict, name: str, required: bool) -> list[float] | None:
    value = d.get("tol")
    if value is None:
        if required:
            raise ValueError(
                f"{name} must give 'tol', the pruning tolerance (a float or a list of floats)."
            )
        return None
    values = value if isinstance(value, list | tuple) else [value]
    return [check_tol(v, name=f"{name}['tol']", allow_none=False) for v in values]


def _check_path(d: dict, name: str) -> None:
    path = d.get("path")
    if path is not None and not isinstance(path, str | os.PathLike):
        raise TypeError(f"{name}['path'] must be a string; received {_describe(path)}.")


def _as_dict(d: Any, name: str) -> dict:
    if not isinstance(d, dict):
        raise TypeError(f"{name} must be a dict; received {_describe(d)}.")
    return dict(d)


def verify_pruning_dict(pruning_dict: dict) -> dict:
    """Check a ``pruning_dict`` (``tol`` required: a float or a list; optional ``path``) and
    return a copy with ``tol`` as a list. The given dict is not modified."""
    out = _as_dict(pruning_dict, "pruning_dict")
    _check_path(out, "pruning_dict")
    out["tol"] = _tol_values(out, "pruning_dict", required=True)
    return out


def verify_event_dict(event_dict: dict) -> dict:
    """Check an ``event_dict`` (``rs``, ``nsamples``: ints or lists, defaults 42 and 32000;
    optional ``tol`` and ``path``) and return a normalised copy (lists); the dict given is not
    modified."""
    out = _as_dict(event_dict, "event_dict")
    _check_path(out, "event_dict")
    out["rs"] = _int_values(out, "rs", DEFAULT_RS, "event_dict")
    out["nsamples"] = _int_values(out, "nsamples", DEFAULT_NSAMPLES, "event_dict")
    tol = _tol_values(out, "event_dict", required=False)
    if tol is not None:
        out["tol"] = tol
    return out


def verify_feature_dict(feature_dict: dict) -> dict:
    """As :func:`verify_event_dict`, also checking ``plot_features`` (a dict of strings) and
    ``feature_names`` (a list of strings)."""
    out = _as_dict(feature_dict, "feature_dict")
    _check_path(out, "feature_dict")
    out["rs"] = _int_values(out, "rs", DEFAULT_RS, "feature_dict")
    out["nsamples"] = _int_values(out, "nsamples", DEFAULT_NSAMPLES, "feature_dict")
    tol = _tol_values(out, "feature_dict", required=False)
    if tol is not None:
        out["tol"] = tol
    plot = out.get("plot_features")
    if plot is not None and (
        not isinstance(plot, dict) or not all(isinstance(v, str) for v in plot.values())
    ):
        raise TypeError(
            "feature_dict['plot_features'] must be a dict mapping model features to display "
            f"names (strings); received {_describe(plot)}."
        )
    names = out.get("feature_names")
    if names is not None and (
        not isinstance(names, list | tuple) or not all(isinstance(v, str) for v in names)
    ):
        raise TypeError(
            f"feature_dict['feature_names'] must be a list of strings; received {names!r}."
        )
    return out


def _check_int_key(d: dict | None, key: str, name: str) -> None:
    if d is None or d.get(key) is None:
        return
    value = d[key]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}[{key!r}] must be an int; received {value!r}.")


def validate_input(
    f: Callable,
    data: Any,
    baseline: Any,
    model_features: list[str | int] | None,
    schema: list[str] | None,
    entity_col: str | int | None,
    time_col: str | int | None,
) -> None:
    """Check the arguments every TimeSHAP entry point shares (model, data, baseline, column
    names against the DataFrame's columns or ``schema``)."""
    if not callable(f):
        raise TypeError(f"f must be callable; received {_describe(f)}.")
    if not isinstance(data, pd.DataFrame | np.ndarray | list):
        raise TypeError(
            f"data must be a numpy array or a pandas DataFrame; received {_describe(data)}."
        )
    if baseline is not None and not isinstance(baseline, pd.DataFrame | np.ndarray):
        raise TypeError(
            f"baseline must be a numpy array or a pandas DataFrame; received {_describe(baseline)}."
        )
    for name, col in (("entity_col", entity_col), ("time_col", time_col)):
        if col is not None and not isinstance(col, str | numbers.Integral):
            raise TypeError(f"{name} must be a column name or index; received {col!r}.")
    if model_features is not None and (
        not isinstance(model_features, list | tuple)
        or not model_features
        or not all(isinstance(m, str | numbers.Integral) for m in model_features)
    ):
        raise TypeError(
            "model_features must be a non-empty list of feature names or column indexes; "
            f"received {model_features!r}."
        )
    names = [c for c in (model_features or []) if isinstance(c, str)]
    names += [c for c in (entity_col, time_col) if isinstance(c, str)]
    if isinstance(data, pd.DataFrame):
        schema = [str(c) for c in data.columns]
    if names:
        if schema is None:
            raise ValueError(
                f"columns are given by name ({names}) but data has no column names; pass schema "
                "(the column names of data) or column indexes."
            )
        missing = [c for c in names if c not in schema]
        if missing:
            raise ValueError(f"columns {missing} are not in the data's columns {list(schema)}.")
    if model_features is None:
        log.info("no model_features given: all columns but entity and time are model features")


def validate_local_input(
    f: Callable,
    data: Any,
    pruning_dict: dict | None,
    event_dict: dict,
    feature_dict: dict,
    cell_dict: dict | None = None,
    baseline: Any = None,
    model_features: list[str | int] | None = None,
    entity_col: str | int | None = None,
    time_col: str | int | None = None,
    entity_uuid: Any = None,
) -> None:
    """Check :func:`local_report`'s arguments; raises ``ValueError``/``TypeError`` naming the
    argument. Unlike TimeSHAP, a DataFrame needs no entity column (one sequence is assumed)."""
    validate_input(f, data, baseline, model_features, None, entity_col, time_col)
    if isinstance(data, pd.DataFrame):
        if entity_col is not None:
            ids = (
                data[entity_col]
                if entity_uuid is None
                else data[entity_col][data[entity_col] == entity_uuid]
            )
            if ids.nunique() != 1:
                raise ValueError(
                    f"a local report explains one sequence; data holds {ids.nunique()} entities "
                    f"in {entity_col!r}. Pass entity_uuid or the rows of one entity."
                )
    else:
        shape = np.shape(data)
        if len(shape) != 3 or shape[0] != 1:
            raise ValueError(
                "data must be one sequence of shape (1, T, d) for a local report; received "
                f"shape {shape}."
            )
    if pruning_dict is not None:
        pruning = _as_dict(pruning_dict, "pruning_dict")
        tol = pruning.get("tol")
        if tol is None or isinstance(tol, list | tuple):
            raise ValueError(
                "pruning_dict['tol'] must be one tolerance (a float, or 0) for a local report; "
                f"received {tol!r}."
            )
        check_tol(tol, name="pruning_dict['tol']", allow_none=False)
    for d, name in ((event_dict, "event_dict"), (feature_dict, "feature_dict")):
        _as_dict(d, name)
        _check_int_key(d, "rs", name)
        _check_int_key(d, "nsamples", name)
    _check_int_key(feature_dict, "top_feats", "feature_dict")
    plot = feature_dict.get("plot_features")
    if plot is not None and not isinstance(plot, dict):
        raise TypeError(
            "feature_dict['plot_features'] must be a dict mapping model features to display "
            f"names; received {_describe(plot)}."
        )
    if cell_dict is not None:
        cell = _as_dict(cell_dict, "cell_dict")
        _check_int_key(cell, "rs", "cell_dict")
        _check_int_key(cell, "nsamples", "cell_dict")
        for general in ("threshold", "top_x"):
            if general in cell:
                clash = [
                    k
                    for k in ("feat_threshold", "top_x_feats", "event_threshold", "top_x_events")
                    if k in cell
                ]
                if clash:
                    raise ValueError(
                        f"cell_dict gives both {general!r} and {clash}; give only one way of "
                        "choosing the cells."
                    )
                break
        else:
            if "feat_threshold" not in cell and "top_x_feats" not in cell:
                raise ValueError(
                    "cell_dict gives no way to choose the features: add 'top_x_feats' or "
                    "'feat_threshold' (or 'top_x'/'threshold' for both)."
                )
            if "event_threshold" not in cell and "top_x_events" not in cell:
                raise ValueError(
                    "cell_dict gives no way to choose the events: add 'top_x_events' or "
                    "'event_threshold' (or 'top_x'/'threshold' for both)."
                )


def validate_global_input(
    f: Callable,
    data: Any,
    pruning_dict: dict | None,
    event_dict: dict,
    feature_dict: dict,
    baseline: Any = None,
    model_features: list[str | int] | None = None,
    schema: list[str] | None = None,
    entity_col: str | int | None = None,
    time_col: str | int | None = None,
    append_to_files: bool = False,
    verbose: bool = False,
) -> None:
    """Check :func:`global_report`'s arguments (dicts through the ``verify_*_dict`` functions);
    raises ``ValueError``/``TypeError`` naming the argument, logs notices about paths."""
    validate_input(f, data, baseline, model_features, schema, entity_col, time_col)
    if isinstance(data, np.ndarray) and data.ndim == 2 and entity_col is None:
        raise ValueError(
            "data is a 2-D array of events: give entity_col, the column that identifies sequences."
        )
    dicts = [("event_dict", verify_event_dict(event_dict))]
    dicts.append(("feature_dict", verify_feature_dict(feature_dict)))
    if pruning_dict is not None:
        dicts.insert(0, ("pruning_dict", verify_pruning_dict(pruning_dict)))
    for name, d in dicts:
        path = d.get("path")
        if path is None:
            log.info("%s has no 'path': results are not persisted", name)
        elif os.path.exists(path) and not append_to_files:
            log.info("%s['path'] %s exists and append_to_files is off: it is read", name, path)
