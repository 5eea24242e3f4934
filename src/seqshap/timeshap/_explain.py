"""TimeSHAP 1.0.4's explanation functions, computed by seqshap's sequence engine.

Names, signatures, dict parameters and returned DataFrames (columns, row labels, row order)
follow TimeSHAP 1.0.4, so its tutorial runs by changing ``timeshap`` to ``seqshap.timeshap`` in
the imports. The values come from :class:`seqshap.sequence.SequenceExplainer` (prefix-state
path for ``f(x, h=None) -> (scores, h)`` models): exact when ``nsamples`` reaches half of the
level's ``2^M`` coalitions (then every coalition is enumerated), paired KernelSHAP with
``nsamples`` coalitions otherwise, never l1-regularised.

Fixed TimeSHAP defects: a missing ``nsamples``/``rs`` uses TimeSHAP's documented defaults
(32000, 42) instead of crashing; DataFrame sequences are accepted; a sequence whose score is
within ``tol`` of the baseline's gets pruning index -1 instead of 0 (which crashed the global
event/feature explanations); a background of 2 rows is never mistaken for a hidden state;
values are never silently zeroed by AIC-lasso; global functions work without an entity column;
dicts, DataFrames and arrays given are never modified; nothing is printed (``verbose`` logs to
the ``seqshap.timeshap`` logger).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validation import _describe, check_array, check_int, check_tol
from ..sequence import PRUNED, cell_players, event_players, feature_players, pruned_index
from ._engine import Engine
from ._utils import split_sequences

log = logging.getLogger("seqshap.timeshap")

OLDER = "Sum of contribution of events \u2264 t"
RECENT = "Sum of contribution of events > t"
DEFAULT_NSAMPLES = 32000
DEFAULT_RS = 42
_LOCAL_COLUMNS = ["Random seed", "NSamples", "Feature", "Shapley Value"]
_EVENT_COLUMNS = [
    "Random Seed", "NSamples", "Event", "Shapley Value", "t (event index)", "Entity", "Tolerance",
]  # fmt: skip
_FEAT_COLUMNS = ["Random Seed", "NSamples", "Feature", "Shapley Value", "Entity", "Tolerance"]


# =========================================================================== dict parameters
def _check_dict(d: Any, name: str, *, allow_none: bool = False) -> dict:
    if d is None and allow_none:
        return {}
    if not isinstance(d, dict):
        raise TypeError(f"{name} must be a dict; received {_describe(d)}.")
    return d


def _int_option(d: dict, key: str, default: int, name: str) -> int:
    """One int from ``d[key]`` (an int, or a one-element list as TimeSHAP's verifiers leave it)."""
    value = d.get(key)
    if value is None:
        return default
    if isinstance(value, list | tuple) and len(value) == 1:
        value = value[0]
    return check_int(value, name=f"{name}[{key!r}]", minimum=0 if key == "rs" else 1)


def _int_list(d: dict, key: str, default: int, name: str) -> list[int]:
    value = d.get(key)
    if value is None:
        return [default]
    values = list(value) if isinstance(value, list | tuple) else [value]
    out = [check_int(v, name=f"{name}[{key!r}]", minimum=0 if key == "rs" else 1) for v in values]
    return sorted(set(out))


def _tolerance_list(value: Any, name: str) -> list[float]:
    values = list(value) if isinstance(value, list | tuple | np.ndarray) else [value]
    if not values:
        raise ValueError(f"{name} must hold at least one tolerance.")
    return [check_tol(v, name=name, allow_none=False) for v in values]


def _one_tolerance(pruning_dict: dict) -> float:
    if "tol" not in pruning_dict or pruning_dict.get("tol") is None:
        raise ValueError("pruning_dict must have a tolerance: {'tol': 0.025}.")
    tols = _tolerance_list(pruning_dict["tol"], "pruning_dict['tol']")
    if len(tols) != 1:
        raise ValueError(
            f"a local explanation takes one pruning tolerance; received {tols}. Use prune_all "
            "and pruning_statistics to compare several."
        )
    return tols[0]


def _path(d: dict) -> str | None:
    path = d.get("path")
    if path is not None and not isinstance(path, str | os.PathLike):
        raise TypeError(f"'path' must be a string; received {_describe(path)}.")
    return None if path is None else str(path)


def _write(frame: pd.DataFrame, path: str, append: bool = False) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    exists = os.path.exists(path)
    frame.to_csv(
        path, mode="a" if append and exists else "w", header=not (append and exists), index=False
    )


# =========================================================================== inputs
def _one_sequence(
    data: Any,
    model_features: Sequence[Any] | None = None,
    entity_col: Any = None,
    time_col: Any = None,
    entity_uuid: Any = None,
) -> np.ndarray:
    """The explained sequence ``(T, d)`` from ``(1, T, d)``, ``(T, d)`` or a DataFrame."""
    if isinstance(data, pd.DataFrame):
        frame = data
        if entity_col is not None and entity_col in frame.columns:
            if entity_uuid is not None:
                frame = frame[frame[entity_col] == entity_uuid]
            if frame[entity_col].nunique() > 1:
                raise ValueError(
                    f"data holds {frame[entity_col].nunique()} entities; a local explanation "
                    "takes one sequence. Pass entity_uuid to select it."
                )
        if time_col is not None:
            frame = frame.sort_values(time_col, kind="stable", key=pd.to_numeric)
        if model_features is not None:
            frame = frame[list(model_features)]
        else:
            frame = frame.drop(columns=[c for c in (entity_col, time_col) if c in frame.columns])
        seq = check_array(frame, name="data", ndim=2, copy=True)
    else:
        arr = check_array(data, name="data", ndim=(2, 3))
        if arr.ndim == 3:
            if arr.shape[0] != 1:
                raise ValueError(
                    f"data must hold one sequence, (1, T, d); received shape {arr.shape}. Use "
                    "the global functions (prune_all, event_explain_all, ...) for many."
                )
            arr = arr[0]
        seq = arr.copy()
    if seq.shape[0] < 1:
        raise ValueError("data is an empty sequence (0 events); give at least one event.")
    return seq


def _check_pruned_idx(pruned_idx: Any, length: int) -> int:
    value = check_int(pruned_idx, name="pruned_idx")
    if value == -1:  # TimeSHAP's feature level reads -1 as "no pruning"
        value = 0
    if not 0 <= value < length:
        raise ValueError(
            f"pruned_idx must be in [0, {length}) (the number of pruned events, "
            f"T + coal_prun_idx); received {pruned_idx} for a sequence of {length} events."
        )
    return value


# =========================================================================== pruning
def _pruning_frame(result) -> pd.DataFrame:
    rows = []
    for i in range(result.length + 1):
        rows.append([RECENT, -i, float(result.recent[i, 0])])
        rows.append([OLDER, -i, float(result.older[i, 0])])
    return pd.DataFrame(rows, columns=["Coalition", "t (event index)", "Shapley Value"])


def prune_given_data(data: pd.DataFrame, tolerance: float) -> int:
    """Pruning index from pruning data: the first split ``t < 0`` (going back from the most
    recent event) where the events up to ``t`` are worth at most ``tolerance``; ``-T`` if none.

    Unlike TimeSHAP, ``t = 0`` is never returned: a sequence whose whole score is within
    ``tolerance`` of the baseline's keeps one event instead of none (TimeSHAP's 0 made the
    global event and feature explanations fail).
    """
    tolerance = check_tol(tolerance, name="tolerance", allow_none=False)
    older = data[data["Coalition"] == OLDER]
    t = pd.to_numeric(older["t (event index)"]).to_numpy().astype(np.int64)
    v = pd.to_numeric(older["Shapley Value"]).to_numpy(dtype=float)
    curve = np.full((int(-t.min()) + 1, 1), np.nan)  # row i is the split t = -i
    curve[-t, 0] = v
    tol = 1e-11 if tolerance == 0 else tolerance  # TimeSHAP: filter float imprecision
    return pruned_index(curve, tol)  # the one index rule (seqshap.sequence.pruning)


def local_pruning(
    f: Callable,
    data: Any,
    pruning_dict: dict,
    baseline: Any,
    entity_uuid: Any = None,
    entity_col: Any = None,
    verbose: bool = False,
) -> tuple[pd.DataFrame, int]:
    """Temporal coalition pruning of one sequence: ``(pruning data, coal_prun_idx)``.

    Pruning data: columns ``Coalition`` ("Sum of contribution of events > t" / "... ≤ t"),
    ``t (event index)`` (0, -1, ..., -T), ``Shapley Value``. ``coal_prun_idx`` is negative:
    ``T + coal_prun_idx`` events are pruned. With ``pruning_dict['path']`` an existing CSV is
    read (rows of ``entity_uuid`` when it holds many), a missing one written.
    """
    pruning_dict = _check_dict(pruning_dict, "pruning_dict")
    tol = _one_tolerance(pruning_dict)
    path = _path(pruning_dict)
    if path is not None and os.path.exists(path):
        frame = pd.read_csv(path)
        if len(frame.columns) > 3:
            if entity_uuid is None or entity_col is None:
                raise ValueError(
                    f"{path} holds pruning data of several sequences; pass entity_uuid and "
                    "entity_col to select one."
                )
            frame = frame[frame[entity_col] == entity_uuid]
        return frame, prune_given_data(frame, tol)
    seq = _one_sequence(data, entity_col=entity_col, entity_uuid=entity_uuid)
    result = Engine(f, baseline).prune(seq)
    frame = _pruning_frame(result)
    idx = prune_given_data(frame, tol)
    if verbose:
        log.info("pruning tolerance %s: coal_prun_idx %d of %d events", tol, idx, len(seq))
    if path is not None:
        _write(frame, path)
    return frame, idx


def calc_prun_indexes(df: pd.DataFrame, tol: float | list[float]) -> pd.DataFrame:
    """Pruning index of every entity per tolerance from ``prune_all``'s pruning data: columns
    ``Entity``, ``Tolerance`` (-1 = no pruning), ``Pruning idx``. Returned as is when ``df``
    already has a ``Tolerance`` column."""
    if "Tolerance" in df.columns:
        return df
    tols = _tolerance_list(tol, "tol")
    entity = df.iloc[:, -1]
    rows = []
    for uuid in np.unique(entity.to_numpy()):
        part = df[entity == uuid]
        rows.append([uuid, -1, -(part.shape[0] / 2) + 1])
        for tolerance in tols:
            rows.append([uuid, tolerance, prune_given_data(part, tolerance)])
    return pd.DataFrame(rows, columns=["Entity", "Tolerance", "Pruning idx"])


def pruning_statistics(df: pd.DataFrame, tol: float | list[float]) -> pd.DataFrame:
    """Mean and standard deviation of the kept sequence length per tolerance (and with no
    pruning): columns ``Tolerance``, ``Mean``, ``Std``."""
    tols = _tolerance_list(tol, "tol")
    if "Tolerance" not in df.columns:
        df = calc_prun_indexes(df, tols)
    rows = [
        ["Original", "No Pruning", r["Entity"], -r["Pruning idx"]]
        for _, r in df[df["Tolerance"] == -1].iterrows()
    ]
    for tolerance in tols:
        for _, r in df[df["Tolerance"] == tolerance].iterrows():
            rows.append(["Pruning", tolerance, r["Entity"], -r["Pruning idx"]])
    resume = pd.DataFrame(rows, columns=["Algorithm", "Tolerance", "Entity", "Sequence Length"])
    resume["Mean"] = resume["Sequence Length"]
    resume["Std"] = resume["Sequence Length"]
    resume = resume.groupby("Tolerance").agg({"Mean": "mean", "Std": "std"})
    return resume.reset_index()


# =========================================================================== local levels
def local_event(
    f: Callable,
    data: Any,
    event_dict: dict,
    entity_uuid: Any,
    entity_col: Any,
    baseline: Any,
    pruned_idx: int,
) -> pd.DataFrame:
    """Event-level values: columns ``Random seed``, ``NSamples``, ``Feature`` ("Event -1" is
    the most recent event, then "Pruned Events"), ``Shapley Value``. ``pruned_idx`` events at
    the start form the "Pruned Events" player. ``event_dict``: ``rs`` (42), ``nsamples``
    (32000), optional ``path`` (read if it exists, else written)."""
    event_dict = _check_dict(event_dict, "event_dict")
    path = _path(event_dict)
    if path is not None and os.path.exists(path):
        return _read_local(path, entity_col, entity_uuid)
    seq = _one_sequence(data, entity_col=entity_col, entity_uuid=entity_uuid)
    frame = _event_frame(
        Engine(f, baseline),
        seq,
        _check_pruned_idx(pruned_idx, len(seq)),
        _int_option(event_dict, "rs", DEFAULT_RS, "event_dict"),
        _int_option(event_dict, "nsamples", DEFAULT_NSAMPLES, "event_dict"),
    )
    if path is not None:
        _write(frame, path)
    return frame


def _event_frame(engine: Engine, seq: np.ndarray, n_pruned: int, rs: int, ns: int) -> pd.DataFrame:
    players = event_players(seq.shape[0], seq.shape[1], n_pruned)
    values = engine.values(seq, players, ns, rs)
    rows = [[rs, ns, name, float(v)] for name, v in zip(players.names, values)]
    return pd.DataFrame(rows, columns=_LOCAL_COLUMNS)


def _feature_names(names: Any, d: int, name: str) -> list[str]:
    if names is None:
        return [f"Feature {i}" for i in range(d)]
    names = [str(n) for n in names]
    if len(names) != d:
        raise ValueError(
            f"{name} must name the sequence's {d} features; received {len(names)} names."
        )
    return names


def local_feat(
    f: Callable,
    data: Any,
    feature_dict: dict,
    entity_uuid: Any,
    entity_col: Any,
    baseline: Any,
    pruned_idx: int,
) -> pd.DataFrame:
    """Feature-level values over the unpruned events: columns ``Random seed``, ``NSamples``,
    ``Feature`` (``feature_dict['feature_names']`` or "Feature i", then "Pruned Events"),
    ``Shapley Value``. ``feature_dict``: ``rs``, ``nsamples``, ``feature_names``, ``path``."""
    feature_dict = _check_dict(feature_dict, "feature_dict")
    path = _path(feature_dict)
    if path is not None and os.path.exists(path):
        return _read_local(path, entity_col, entity_uuid)
    seq = _one_sequence(data, entity_col=entity_col, entity_uuid=entity_uuid)
    frame = _feat_frame(
        Engine(f, baseline),
        seq,
        _check_pruned_idx(pruned_idx, len(seq)),
        _int_option(feature_dict, "rs", DEFAULT_RS, "feature_dict"),
        _int_option(feature_dict, "nsamples", DEFAULT_NSAMPLES, "feature_dict"),
        _feature_names(feature_dict.get("feature_names"), seq.shape[1], "feature_names"),
    )
    if path is not None:
        _write(frame, path)
    return frame


def _feat_frame(engine, seq, n_pruned, rs, ns, names) -> pd.DataFrame:
    players = feature_players(seq.shape[0], names, n_pruned)
    values = engine.values(seq, players, ns, rs)
    rows = [[rs, ns, name, float(v)] for name, v in zip(players.names, values)]
    return pd.DataFrame(rows, columns=_LOCAL_COLUMNS)


def _read_local(path: str, entity_col: Any, entity_uuid: Any) -> pd.DataFrame:
    frame = pd.read_csv(path)
    if len(frame.columns) == 5 and entity_col is not None:
        return frame[frame[entity_col] == entity_uuid]
    if len(frame.columns) in (3, 4):
        return frame
    raise ValueError(
        f"{path} is not a local explanation written by TimeSHAP or seqshap.timeshap "
        f"(columns {list(frame.columns)}); pass entity_col and entity_uuid for a global file."
    )


def _cell_selection(cell_dict: dict) -> dict[str, float | int | None]:
    def num(key):
        value = cell_dict.get(key)
        if value is None:
            return None
        if key.startswith("top"):
            return check_int(value, name=f"cell_dict[{key!r}]", minimum=1)
        return check_tol(value, name=f"cell_dict[{key!r}]", allow_none=False)

    if cell_dict.get("threshold"):
        return {"event_threshold": num("threshold"), "feat_threshold": num("threshold")}
    if cell_dict.get("event_threshold") and cell_dict.get("feat_threshold"):
        return {"event_threshold": num("event_threshold"), "feat_threshold": num("feat_threshold")}
    if cell_dict.get("top_x"):
        return {"top_x_events": num("top_x"), "top_x_feats": num("top_x")}
    if cell_dict.get("top_x_events") and cell_dict.get("top_x_feats"):
        return {"top_x_events": num("top_x_events"), "top_x_feats": num("top_x_feats")}
    raise ValueError(
        "No threshold condition provided for cell level: give cell_dict 'top_x_events' and "
        "'top_x_feats' (or 'top_x'), or 'event_threshold' and 'feat_threshold' (or 'threshold')."
    )


def _top_rows(values: np.ndarray, count: int | None, threshold: float | None) -> list[int]:
    order = np.argsort(-np.abs(values), kind="stable")
    chosen = []
    for i in order:
        if threshold is not None and abs(values[i]) < threshold:
            break
        chosen.append(int(i))
        if count is not None and len(chosen) == count:
            break
    return chosen


def _event_back(name: str) -> int:
    found = re.fullmatch(r"\s*Event\s*-\s*(\d+)\s*", str(name))
    if not found:
        raise ValueError(
            f"event_data row {name!r} is not an event label like 'Event -1'; pass local_event's "
            "output."
        )
    return int(found.group(1))


def _cell_frame(engine, seq, n_pruned, rs, ns, event_data, feat_data, selection) -> pd.DataFrame:
    t_len, d = seq.shape
    ev = event_data[event_data["Feature"] != PRUNED]
    ev_pick = _top_rows(
        ev["Shapley Value"].to_numpy(dtype=float),
        selection.get("top_x_events"),
        selection.get("event_threshold"),
    )
    events = sorted(
        ((_event_back(ev["Feature"].iloc[i]), ev["Feature"].iloc[i]) for i in ev_pick), reverse=True
    )  # oldest first, as TimeSHAP
    kept = t_len - n_pruned
    bad = [name for back, name in events if back > kept]
    if bad:
        raise ValueError(
            f"event_data names events {bad} outside the {kept} unpruned events of this sequence; "
            "pass the event_data of this sequence and pruned_idx."
        )
    ft = feat_data[feat_data["Feature"] != PRUNED]
    if len(ft) != d:
        raise ValueError(
            f"feat_data must have one row per feature ({d}) plus 'Pruned Events'; received "
            f"{len(ft)} feature rows."
        )
    feat_names = [str(n) for n in ft["Feature"]]
    ft_pick = sorted(
        _top_rows(
            ft["Shapley Value"].to_numpy(dtype=float),
            selection.get("top_x_feats"),
            selection.get("feat_threshold"),
        )
    )
    groups = [(feat_names[j], [j]) for j in ft_pick]
    players = cell_players(t_len, feat_names, [b for b, _ in events], groups, n_pruned)
    labels = [(e, feat_names[j]) for _, e in events for j in ft_pick]
    if len(ft_pick) < d:
        labels += [(e, "Other Features") for _, e in events]
    if len(events) < kept:
        labels += [("Other Events", feat_names[j]) for j in ft_pick]
    if len(ft_pick) < d and len(events) < kept:
        labels.append(("Other Events", "Other Features"))
    if n_pruned > 0:
        labels.append((PRUNED, PRUNED))
    if len(labels) != players.n_players:  # pragma: no cover - the two must describe one game
        raise RuntimeError(f"cell labels {labels} do not match players {players.names}.")
    values = engine.values(seq, players, ns, rs)
    frame = pd.DataFrame(
        [[e, feat, float(v)] for (e, feat), v in zip(labels, values)],
        columns=["Event", "Feature", "Shapley Value"],
    )
    return frame.sort_values("Shapley Value", ascending=False, kind="stable")


def local_cell_level(
    f: Callable,
    data: Any,
    cell_dict: dict,
    event_data: pd.DataFrame,
    feat_data: pd.DataFrame,
    entity_uuid: Any,
    entity_col: Any,
    baseline: Any,
    pruned_idx: int,
) -> pd.DataFrame:
    """Cell-level values of the top events x top features (chosen from ``event_data`` and
    ``feat_data`` by ``cell_dict``'s ``top_x_events``/``top_x_feats``, ``top_x``,
    ``event_threshold``/``feat_threshold`` or ``threshold``), plus "Other Features" of each top
    event, "Other Events" of each top feature, the other cells and the pruned events: columns
    ``Event``, ``Feature``, ``Shapley Value``, sorted by value (largest first)."""
    cell_dict = _check_dict(cell_dict, "cell_dict")
    path = _path(cell_dict)
    if path is not None and os.path.exists(path):
        return _read_local(path, entity_col, entity_uuid)
    selection = _cell_selection(cell_dict)
    seq = _one_sequence(data, entity_col=entity_col, entity_uuid=entity_uuid)
    frame = _cell_frame(
        Engine(f, baseline),
        seq,
        _check_pruned_idx(pruned_idx, len(seq)),
        _int_option(cell_dict, "rs", DEFAULT_RS, "cell_dict"),
        _int_option(cell_dict, "nsamples", DEFAULT_NSAMPLES, "cell_dict"),
        event_data,
        feat_data,
        selection,
    )
    if path is not None:
        _write(frame, path)
    return frame


def calc_local_report(
    f: Callable,
    data: Any,
    pruning_dict: dict | None,
    event_dict: dict,
    feature_dict: dict,
    cell_dict: dict | None = None,
    baseline: Any = None,
    model_features: list[str | int] | None = None,
    entity_col: Any = None,
    entity_uuid: Any = None,
    time_col: Any = None,
    verbose: bool = False,
) -> tuple[pd.DataFrame | None, pd.DataFrame, pd.DataFrame, pd.DataFrame | None]:
    """Pruning data, event, feature and (with ``cell_dict``) cell tables of one sequence.

    ``data``: ``(1, T, d)``, ``(T, d)`` or a DataFrame (sorted by ``time_col``, the
    ``model_features`` columns selected, the rows of ``entity_uuid`` when it holds several).
    ``pruning_dict=None`` skips pruning. One model probe and one engine serve all levels.
    """
    event_dict = _check_dict(event_dict, "event_dict")
    feature_dict = _check_dict(feature_dict, "feature_dict")
    seq = _one_sequence(data, model_features, entity_col, time_col, entity_uuid)
    engine = Engine(f, baseline)
    if pruning_dict is None:
        coal_plot_data, pruning_idx = None, 0
    else:
        pruning_dict = _check_dict(pruning_dict, "pruning_dict")
        tol = _one_tolerance(pruning_dict)
        path = _path(pruning_dict)
        if path is not None and os.path.exists(path):
            coal_plot_data, coal_prun_idx = local_pruning(
                f, seq, pruning_dict, baseline, entity_uuid, entity_col, verbose
            )
        else:
            coal_plot_data = _pruning_frame(engine.prune(seq))
            coal_prun_idx = prune_given_data(coal_plot_data, tol)
            if path is not None:
                _write(coal_plot_data, path)
        pruning_idx = len(seq) + coal_prun_idx

    def level(d: dict, compute):
        path = _path(d)
        if path is not None and os.path.exists(path):
            return _read_local(path, entity_col, entity_uuid)
        frame = compute(
            _int_option(d, "rs", DEFAULT_RS, "dict"),
            _int_option(d, "nsamples", DEFAULT_NSAMPLES, "dict"),
        )
        if path is not None:
            _write(frame, path)
        return frame

    event_data = level(event_dict, lambda rs, ns: _event_frame(engine, seq, pruning_idx, rs, ns))
    names = _feature_names(feature_dict.get("feature_names"), seq.shape[1], "feature_names")
    feature_data = level(
        feature_dict, lambda rs, ns: _feat_frame(engine, seq, pruning_idx, rs, ns, names)
    )
    cell_data = None
    if cell_dict:
        cell_dict = _check_dict(cell_dict, "cell_dict")
        selection = _cell_selection(cell_dict)
        cell_data = level(
            cell_dict,
            lambda rs, ns: _cell_frame(
                engine, seq, pruning_idx, rs, ns, event_data, feature_data, selection
            ),
        )
    return coal_plot_data, event_data, feature_data, cell_data


def local_report(
    f: Callable,
    data: Any,
    pruning_dict: dict | None,
    event_dict: dict,
    feature_dict: dict,
    cell_dict: dict | None = None,
    baseline: Any = None,
    model_features: list[str | int] | None = None,
    entity_col: Any = None,
    entity_uuid: Any = None,
    time_col: Any = None,
    verbose: bool = False,
) -> Any:
    """:func:`calc_local_report` drawn by :func:`plot_local_report`: returns a matplotlib
    Figure (TimeSHAP: an Altair chart)."""
    from ._plots import plot_local_report

    pruning_data, event_data, feature_data, cell_data = calc_local_report(
        f, data, pruning_dict, event_dict, feature_dict, cell_dict, baseline, model_features,
        entity_col, entity_uuid, time_col, verbose,
    )  # fmt: skip
    return plot_local_report(
        pruning_dict, event_dict, feature_dict, cell_dict, pruning_data, event_data,
        feature_data, cell_data,
    )  # fmt: skip


# =========================================================================== global
def get_tolerances_to_test(pruning_data: pd.DataFrame | None, explanation_dict: dict) -> list:
    """Tolerances a global explanation runs at (TimeSHAP's rule): those of ``pruning_data``
    (restricted to the dict's ``tol`` when given), or the dict's ``tol``, or ``[-1]`` (no
    pruning)."""
    if pruning_data is None:
        if explanation_dict.get("tol"):
            return _tolerance_list(explanation_dict["tol"], "tol")
        return [-1.0]
    values = [v for v in pruning_data["Tolerance"].to_numpy() if v != "No Pruning"]
    present = sorted({float(v) for v in values} - {-1.0})
    if explanation_dict.get("tol"):
        wanted = sorted(set(_tolerance_list(explanation_dict["tol"], "tol")))
        missing = [t for t in wanted if t not in present]
        if missing:
            raise ValueError(
                f"tolerances {missing} are not in the pruning data (it has {present}); run "
                "prune_all with them first."
            )
        return wanted
    return present


def _global_inputs(data, model_features, schema, entity_col, time_col):
    return split_sequences(data, model_features, schema, entity_col, time_col)


def _entity_name(entity_col: Any) -> str:
    return entity_col if isinstance(entity_col, str) else "Entity"


def _prune_frames(engine, seqs, entities, entity_col, verbose) -> pd.DataFrame:
    frames = []
    for i, (seq, ent) in enumerate(zip(seqs, entities)):
        frame = _pruning_frame(engine.prune(seq))
        frame[_entity_name(entity_col)] = ent
        frames.append(frame)
        if verbose:
            log.info("pruned sequence %d/%d (%r)", i + 1, len(seqs), ent)
    return pd.concat(frames, ignore_index=True)


def prune_all(
    f: Callable,
    data: Any,
    pruning_dict: dict,
    baseline: Any = None,
    model_features: list[str | int] | None = None,
    schema: list[str] | None = None,
    entity_col: Any = None,
    time_col: Any = None,
    append_to_files: bool = False,
    verbose: bool = False,
) -> pd.DataFrame:
    """Pruning index of every sequence at every tolerance of ``pruning_dict['tol']``: columns
    ``Entity``, ``Tolerance`` (-1 = no pruning), ``Pruning idx``. ``data``: a long DataFrame
    (``entity_col``, ``time_col``, ``model_features``), a 2-D array with an entity column, a 3-D
    array or a list of sequences (entities 0..n-1 without an entity column). With
    ``pruning_dict['path']``, pruning data is read from that CSV when it exists, else written."""
    pruning_dict = _check_dict(pruning_dict, "pruning_dict")
    if pruning_dict.get("tol") is None:
        raise ValueError("pruning_dict must have tolerance(s): {'tol': [0.05, 0.075]}.")
    tols = _tolerance_list(pruning_dict["tol"], "pruning_dict['tol']")
    path = _path(pruning_dict)
    if path is not None and os.path.exists(path) and not append_to_files:
        return calc_prun_indexes(pd.read_csv(path), tols)
    seqs, entities = _global_inputs(data, model_features, schema, entity_col, time_col)
    return _prune_indexes(
        Engine(f, baseline), seqs, entities, entity_col, tols, path, append_to_files, verbose
    )


def _prune_indexes(engine, seqs, entities, entity_col, tols, path, append, verbose):
    """Pruning indexes table; the full curves only when they are written to ``path``."""
    if path is not None:
        frame = _prune_frames(engine, seqs, entities, entity_col, verbose)
        _write(frame, path, append=append)
        return calc_prun_indexes(frame, tols)
    found = {}
    for i, (seq, ent) in enumerate(zip(seqs, entities)):
        found[ent] = (len(seq), engine.pruned_indexes(seq, tols))
        if verbose:
            log.info("pruned sequence %d/%d (%r)", i + 1, len(seqs), ent)
    rows = []
    for uuid in np.unique(np.asarray(list(found), dtype=object)):
        length, idx = found[uuid]
        rows.append([uuid, -1, float(-length)])
        rows.extend([uuid, tol, float(idx[tol])] for tol in tols)
    return pd.DataFrame(rows, columns=["Entity", "Tolerance", "Pruning idx"])


def _pruned_count(pruning_data, entity, tol, length) -> int:
    if tol == -1:
        return 0
    rows = pruning_data[(pruning_data["Entity"] == entity) & (pruning_data["Tolerance"] == tol)]
    if len(rows) == 0:
        raise ValueError(
            f"pruning_data has no pruning index for entity {entity!r} at tolerance {tol}; pass "
            "prune_all's output for the same data and tolerances."
        )
    return int(length + rows["Pruning idx"].iloc[0])


def _explain_all(level, engine, seqs, entities, d, pruning_data, tols, names):
    """Rows of one global level for every seed, nsamples, sequence and tolerance."""
    rss = _int_list(d, "rs", DEFAULT_RS, "dict")
    nss = _int_list(d, "nsamples", DEFAULT_NSAMPLES, "dict")
    chunks = []
    for rs in rss:
        for ns in nss:
            for seq, ent in zip(seqs, entities):
                prev_n, prev = None, None
                on_the_fly = None
                for tol in tols:
                    if tol != -1 and pruning_data is None:
                        if on_the_fly is None:
                            on_the_fly = engine.pruned_indexes(seq, [t for t in tols if t != -1])
                        n_pruned = len(seq) + on_the_fly[tol]
                    else:
                        n_pruned = _pruned_count(pruning_data, ent, tol, len(seq))
                    if n_pruned != prev_n:
                        if level == "event":
                            prev = _event_frame(engine, seq, n_pruned, rs, ns)
                        else:
                            prev = _feat_frame(engine, seq, n_pruned, rs, ns, names)
                    frame = prev.copy()
                    if level == "event":
                        frame["t (event index)"] = [
                            1 if n == PRUNED else 1 - _event_back(n) for n in frame["Feature"]
                        ]
                    frame["Entity"] = [ent] * len(frame)
                    frame["Tolerance"] = tol
                    chunks.append(frame)
                    prev_n = n_pruned
    out = pd.concat(chunks, ignore_index=True)
    out.columns = _EVENT_COLUMNS if level == "event" else _FEAT_COLUMNS
    types = {
        "NSamples": "int",
        "Random Seed": "int",
        "Tolerance": "float",
        "Shapley Value": "float",
    }
    if level == "event":
        types["t (event index)"] = "int"
    return out.astype(types)


def _global_level(
    level, f, data, d, pruning_data, baseline, model_features, schema, entity_col, time_col,
    append_to_files, engine=None, split=None,
):  # fmt: skip
    path = _path(d)
    if path is not None and os.path.exists(path) and not append_to_files:
        return pd.read_csv(path)
    tols = get_tolerances_to_test(pruning_data, d)
    seqs, entities = split or _global_inputs(data, model_features, schema, entity_col, time_col)
    names = None
    if level == "feature":
        names = _feature_names(d.get("feature_names"), seqs[0].shape[1], "feature_names")
    frame = _explain_all(
        level, engine or Engine(f, baseline), seqs, entities, d, pruning_data, tols, names
    )
    if path is not None:
        _write(frame, path, append=append_to_files)
    return frame


def event_explain_all(
    f: Callable,
    data: Any,
    event_dict: dict,
    pruning_data: pd.DataFrame | None = None,
    baseline: Any = None,
    model_features: list[str | int] | None = None,
    schema: list[str] | None = None,
    entity_col: Any = None,
    time_col: Any = None,
    append_to_files: bool = False,
    verbose: bool = False,
) -> pd.DataFrame:
    """Event-level values of every sequence at every tolerance of ``pruning_data`` (pruning on
    the fly with ``event_dict['tol']`` when it is None; no pruning without either): columns
    ``Random Seed``, ``NSamples``, ``Event``, ``Shapley Value``, ``t (event index)`` (0 for
    "Event -1", -1 for "Event -2", ..., 1 for "Pruned Events"), ``Entity``, ``Tolerance``."""
    event_dict = _check_dict(event_dict, "event_dict")
    return _global_level(
        "event", f, data, event_dict, pruning_data, baseline, model_features, schema,
        entity_col, time_col, append_to_files,
    )  # fmt: skip


def feat_explain_all(
    f: Callable,
    data: Any,
    feat_dict: dict,
    pruning_data: pd.DataFrame | None,
    baseline: Any = None,
    model_features: list[str | int] | None = None,
    schema: list[str] | None = None,
    entity_col: Any = None,
    time_col: Any = None,
    append_to_files: bool = False,
    verbose: bool = False,
) -> pd.DataFrame:
    """Feature-level values of every sequence at every tolerance: columns ``Random Seed``,
    ``NSamples``, ``Feature``, ``Shapley Value``, ``Entity``, ``Tolerance``."""
    feat_dict = _check_dict(feat_dict, "feat_dict")
    return _global_level(
        "feature", f, data, feat_dict, pruning_data, baseline, model_features, schema,
        entity_col, time_col, append_to_files,
    )  # fmt: skip


def calc_global_explanations(
    f: Callable,
    data: Any,
    pruning_dict: dict | None,
    event_dict: dict,
    feature_dict: dict,
    baseline: Any = None,
    model_features: list[str | int] | None = None,
    schema: list[str] | None = None,
    entity_col: Any = None,
    time_col: Any = None,
    append_to_files: bool = False,
    max_instances: int = 10000,
    verbose: bool = False,
) -> tuple[pd.DataFrame | None, pd.DataFrame, pd.DataFrame]:
    """``(pruning indexes, event table, feature table)`` of many sequences; the data is split
    once and one engine serves the three. Above ``max_instances`` sequences, that many are
    drawn with a local generator (seed 0; TimeSHAP draws from numpy's global one)."""
    event_dict = _check_dict(event_dict, "event_dict")
    feature_dict = _check_dict(feature_dict, "feature_dict")
    max_instances = check_int(max_instances, name="max_instances", minimum=1)
    seqs, entities = split_sequences(data, model_features, schema, entity_col, time_col)
    if len(seqs) > max_instances:
        keep = np.sort(np.random.default_rng(0).choice(len(seqs), max_instances, replace=False))
        seqs, entities = [seqs[i] for i in keep], [entities[i] for i in keep]
    engine = Engine(f, baseline)
    prun_indexes = None
    if pruning_dict is not None:
        pruning_dict = _check_dict(pruning_dict, "pruning_dict")
        if pruning_dict.get("tol") is None:
            raise ValueError("pruning_dict must have tolerance(s): {'tol': [0.05, 0.075]}.")
        tols = _tolerance_list(pruning_dict["tol"], "pruning_dict['tol']")
        path = _path(pruning_dict)
        if path is not None and os.path.exists(path) and not append_to_files:
            prun_indexes = calc_prun_indexes(pd.read_csv(path), tols)
        else:
            # entity column "Entity" in the pruning CSV, as TimeSHAP's global path writes it
            prun_indexes = _prune_indexes(
                engine, seqs, entities, None, tols, path, append_to_files, verbose
            )
    common = dict(
        baseline=baseline, model_features=model_features, schema=schema, entity_col=entity_col,
        time_col=time_col, append_to_files=append_to_files, engine=engine,
        split=(seqs, entities),
    )  # fmt: skip
    event_data = _global_level("event", f, None, event_dict, prun_indexes, **common)
    feat_data = _global_level("feature", f, None, feature_dict, prun_indexes, **common)
    return prun_indexes, event_data, feat_data


def global_report(
    f: Callable,
    data: Any,
    pruning_dict: dict | None,
    event_dict: dict,
    feature_dict: dict,
    baseline: Any = None,
    model_features: list[str | int] | None = None,
    schema: list[str] | None = None,
    entity_col: Any = None,
    time_col: Any = None,
    append_to_files: bool = False,
    max_instances: int = 10000,
    verbose: bool = False,
) -> tuple[pd.DataFrame | None, Any]:
    """:func:`calc_global_explanations` then :func:`plot_global_report`: returns
    ``(pruning statistics, matplotlib Figure)`` (TimeSHAP: an Altair chart)."""
    from ._plots import plot_global_report

    prun_indexes, event_data, feat_data = calc_global_explanations(
        f, data, pruning_dict, event_dict, feature_dict, baseline, model_features, schema,
        entity_col, time_col, append_to_files, max_instances, verbose,
    )  # fmt: skip
    return plot_global_report(
        pruning_dict, event_dict, feature_dict, prun_indexes, event_data, feat_data
    )
