"""The work of one chunk: explain its sequences (coalitions packed into shared model calls) and
turn the explanations into rows of the result table.

Each sequence is pruned once (back to the pruned index of the smallest tolerance, or the whole
curve with ``full_curve``); every tolerance then picks its pruned index from that curve, and
the levels are computed once per distinct pruned index. The generator of a sequence depends
only on ``(run entropy, entity id, number of pruned events)``, so its
values do not depend on the chunk, the worker, the other sequences or the other tolerances.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..models import DEFAULT_BATCH_MEMORY, SharedBatcher, map_shared
from ..sequence.plan import ExplainOptions, SequencePlan

#: columns of the result table, in order
COLUMNS = (
    "position",
    "entity",
    "tol",
    "pruned_index",
    "length",
    "level",
    "player",
    "player_index",
    "t",
    "output",
    "value",
    "std_error",
    "base_value",
    "model_output",
    "exact",
)


@dataclass(frozen=True)
class RunOptions:
    """What is computed for every sequence (fixed for a run; part of its fingerprint)."""

    levels: tuple[str, ...]
    tolerances: tuple[float | None, ...]
    top_events: int | None = 2
    top_features: int | None = 2
    event_threshold: float | None = None
    feature_threshold: float | None = None
    window: int | None = None
    feature_groups: Mapping[str, Sequence] | None = None
    keep_curve: bool = False
    full_curve: bool = False

    def explain_options(self) -> ExplainOptions:
        """The per-sequence options (the tolerance is set per tolerance of the run)."""
        return ExplainOptions(
            levels=self.levels,
            tol=None,
            top_events=self.top_events,
            top_features=self.top_features,
            event_threshold=self.event_threshold,
            feature_threshold=self.feature_threshold,
            window=self.window,
            full_curve=self.full_curve,
            feature_groups=self.feature_groups,
        )


@dataclass(frozen=True)
class ExecOptions:
    """How a chunk is computed: the run's seed ``entropy``; ``concurrency`` and
    ``memory_budget`` only change how model calls are packed (values equal up to the model's
    float rounding in batches of other sizes)."""

    entropy: int
    concurrency: int = 16
    memory_budget: int = DEFAULT_BATCH_MEMORY


@dataclass
class Chunk:
    """Sequences ``[index * chunk_size, …)`` of the input: ``(position, entity, array)`` for
    the good ones and ``(position, entity, reason)`` for the bad ones."""

    index: int
    items: list[tuple[int, str, np.ndarray]]
    bad: list[tuple[int, str, str]] = field(default_factory=list)

    @property
    def entities(self) -> list[str]:
        rows = [(p, e) for p, e, _ in self.items] + [(p, e) for p, e, _ in self.bad]
        return [e for _, e in sorted(rows)]

    @property
    def n_sequences(self) -> int:
        return len(self.items) + len(self.bad)


@dataclass
class ChunkResult:
    index: int
    frame: pd.DataFrame
    entities: list[str]
    errors: list[dict[str, Any]]
    stats: dict[str, float]


def explain_sequence(
    plan: SequencePlan, seq: np.ndarray, entity: str, opts: RunOptions, entropy: int
):
    """``(pruning, [(tol, LocalExplanation)])`` of one sequence for every tolerance."""
    return plan.explain_tolerances(
        seq, entity, opts.explain_options(), opts.tolerances, entropy, keep_curve=opts.keep_curve
    )


class _Columns:
    """Column arrays of the result table, appended per explanation and stacked once."""

    def __init__(self) -> None:
        self.parts: dict[str, list[np.ndarray]] = {c: [] for c in COLUMNS}

    def add(self, n: int, **cols: Any) -> None:
        for name in COLUMNS:
            val = cols[name]
            if np.ndim(val) == 0:
                val = np.full(n, val, dtype=object if isinstance(val, str) else None)
            self.parts[name].append(np.asarray(val))

    def frame(self) -> pd.DataFrame:
        data = {}
        for name in COLUMNS:
            parts = self.parts[name]
            data[name] = np.concatenate(parts) if parts else np.zeros(0)
        frame = pd.DataFrame(data)
        return _typed(frame)


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """One dtype per column whatever the chunk (so that parts concatenate exactly)."""
    return frame.astype(
        {
            "position": "int64",
            "entity": "string",
            "tol": "float64",
            "pruned_index": "Int64",
            "length": "int64",
            "level": "string",
            "player": "string",
            "player_index": "int64",
            "t": "Int64",
            "output": "string",
            "value": "float64",
            "std_error": "float64",
            "base_value": "float64",
            "model_output": "float64",
            "exact": "bool",
        }
    )


def empty_frame() -> pd.DataFrame:
    return _Columns().frame()


def _event_t(steps_back: list[int | None]) -> np.ndarray:
    return np.array([np.nan if b is None else -int(b) for b in steps_back], dtype=float)


def add_rows(cols: _Columns, position: int, entity: str, pruning, results, opts: RunOptions):
    for tol, loc in results:
        idx = np.nan if tol is None else pruning.index_for(tol)
        for level, exp in loc.levels.items():
            m, k = exp.n_players, exp.n_outputs
            names = list(exp.player_names)
            t = _event_t(exp.meta["steps_back"]) if level == "event" else np.full(m, np.nan)
            cols.add(
                m * k,
                position=position,
                entity=entity,
                tol=np.nan if tol is None else tol,
                pruned_index=idx,
                length=loc.length,
                level=level,
                player=np.repeat(np.asarray(names, dtype=object), k),
                player_index=np.repeat(np.arange(m), k),
                t=np.repeat(t, k),
                output=np.tile(np.asarray(exp.output_names, dtype=object), m),
                value=exp.values[0].reshape(-1),
                std_error=exp.std_errors[0].reshape(-1),
                base_value=np.tile(exp.base_values[0], m),
                model_output=np.tile(exp.outputs[0], m),
                exact=bool(exp.exact),
            )
    if opts.keep_curve and pruning is not None:
        k = pruning.older.shape[1]
        n_t = pruning.length + 1
        out_names = np.asarray(pruning.output_names, dtype=object)
        for name, vals in (("older", pruning.older), ("recent", pruning.recent)):
            cols.add(
                n_t * k,
                position=position,
                entity=entity,
                tol=np.nan,
                pruned_index=np.nan,
                length=pruning.length,
                level="pruning",
                player=name,
                player_index=0 if name == "older" else 1,
                t=np.repeat(-np.arange(n_t), k),
                output=np.tile(out_names, n_t),
                value=vals.reshape(-1),
                std_error=0.0,
                base_value=np.nan,
                model_output=np.nan,
                exact=True,
            )


_STATS = (
    "n_sequences",
    "n_explained",
    "wall_seconds",
    "explain_seconds",
    "model_seconds",
    "batching_seconds",
    "n_model_calls",
    "n_model_rows",
)


def explain_chunk(
    plan: SequencePlan, chunk: Chunk, opts: RunOptions, exec_opts: ExecOptions
) -> ChunkResult:
    """Explain a chunk's sequences; a failure of one sequence becomes an error record."""
    start = time.perf_counter()
    if not chunk.items:  # only bad sequences: nothing to run
        errors = [{"position": p, "entity": e, "reason": r} for p, e, r in chunk.bad]
        stats = dict.fromkeys(_STATS, 0.0)
        stats["n_sequences"] = float(chunk.n_sequences)
        return ChunkResult(chunk.index, empty_frame(), chunk.entities, errors, stats)
    # a prefix-state cache: each chunk starts afresh, so that a chunk's values do not depend
    # on the chunks run before it
    plan.clear_states()
    model = plan.model
    batcher = SharedBatcher(model, exec_opts.memory_budget)
    shared = plan.with_model(batcher.proxy())

    def one(_model, item):  # the shared explainer already holds the proxy model
        _, entity, seq = item
        return explain_sequence(shared, seq, entity, opts, exec_opts.entropy)

    explain_start = time.perf_counter()
    outs = map_shared(one, chunk.items, model, concurrency=exec_opts.concurrency, batcher=batcher)
    explain_seconds = time.perf_counter() - explain_start
    cols = _Columns()
    errors = [{"position": p, "entity": e, "reason": r} for p, e, r in chunk.bad]
    for (position, entity, _), res in zip(chunk.items, outs):
        if isinstance(res, Exception):
            errors.append(
                {"position": position, "entity": entity, "reason": f"{type(res).__name__}: {res}"}
            )
            continue
        add_rows(cols, position, entity, res[0], res[1], opts)
    errors.sort(key=lambda e: e["position"])
    frame = cols.frame()
    wall = time.perf_counter() - start
    stats = {
        "n_sequences": float(chunk.n_sequences),
        "n_explained": float(len(chunk.items) - sum(isinstance(r, Exception) for r in outs)),
        "wall_seconds": wall,
        "explain_seconds": explain_seconds,
        "model_seconds": batcher.model_seconds,
        "batching_seconds": batcher.flush_seconds - batcher.model_seconds,
        "n_model_calls": float(batcher.n_calls),
        "n_model_rows": float(batcher.n_rows),
    }
    return ChunkResult(chunk.index, frame, chunk.entities, errors, stats)
