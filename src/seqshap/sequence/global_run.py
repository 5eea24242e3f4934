"""``GlobalRun``: the result table of a large run (in memory or in a run directory) and its
summaries.

The table has one row per (sequence, tolerance, level, player, output); columns are
:data:`seqshap.runner.COLUMNS`: ``position`` (order in the input), ``entity`` (id as a
string), ``tol`` (NaN without pruning), ``pruned_index``, ``length``, ``level``, ``player``,
``player_index``, ``t`` (−i for ``"Event -i"``; the split for ``level="pruning"`` curve rows),
``output``, ``value``, ``std_error``, ``base_value``, ``model_output``, ``exact``. Rows are
ordered by position, so the table does not depend on chunking or workers.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._optional import import_optional
from .._validation import check_tol
from ..explanation import Explanation, reading_saved_file
from ._gate import SequenceError
from ._work import (
    Chunk,
    ChunkResult,
    ExecOptions,
    RunOptions,
    _typed,
    empty_frame,
    explain_chunk,
)
from .plan import SequencePlan
from .pruning import pruned_index

#: parts of a run directory (written by seqshap.runner's ChunkStore) and their metadata key
_PART = re.compile(r"^part-(\d{6,})\.parquet$")
_META_KEY = b"seqshap"


def part_name(index: int) -> str:
    return f"part-{index:06d}.parquet"


_PART_WHAT = (
    "part of a seqshap run (run the same explain_many(..., out=...) call again: it moves "
    "unreadable parts aside and recomputes them)"
)


def _read_part(pq: Any, part: Path, columns: list[str] | None = None) -> pd.DataFrame:
    with reading_saved_file(part, _PART_WHAT):
        table = pq.read_table(part, columns=columns, page_checksum_verification=True)
        return table.to_pandas()


def read_parts(path: str | os.PathLike, columns: list[str] | None = None) -> pd.DataFrame:
    """The result table of a run directory (parts in chunk order). A part that cannot be read
    raises :class:`~seqshap.SavedFileError` naming it."""
    pq = import_optional("pyarrow.parquet", "reading results")
    path = Path(path)
    indices = sorted(int(m.group(1)) for e in os.listdir(path) if (m := _PART.match(e)))
    frames = [_read_part(pq, path / part_name(i), columns) for i in indices]
    frames = [f for f in frames if len(f)]
    if not frames:
        frame = empty_frame()
        return frame if columns is None else frame[columns]
    frame = pd.concat(frames, ignore_index=True)
    return _typed(frame) if columns is None else frame


def read_meta(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The metadata of every part (entities, errors, timings), in chunk order."""
    pq = import_optional("pyarrow.parquet", "reading results")
    path = Path(path)
    indices = sorted(int(m.group(1)) for e in os.listdir(path) if (m := _PART.match(e)))
    metas = []
    for i in indices:
        with reading_saved_file(path / part_name(i), _PART_WHAT):
            metas.append(json.loads(pq.read_schema(path / part_name(i)).metadata[_META_KEY]))
    return metas


class GlobalRun:
    """Results of :func:`~seqshap.runner.explain_many`.

    Attributes
    ----------
    path : the run directory (None for an in-memory run).
    stats : timings and counts of the call that produced this object: ``n_sequences`` (in the
        input), ``n_explained`` and ``n_errors`` (this call), ``wall_seconds``,
        ``sequences_per_second``, ``worker_seconds`` (time spent in chunks, summed over
        workers), ``model_seconds`` (inside the model), ``model_share`` (model / worker time),
        ``batching_seconds`` (packing and splitting shared calls), ``n_model_calls``,
        ``n_model_rows``, ``overhead_ms_per_sequence`` (worker time outside the model per
        sequence: games, estimators, batching, tables), ``runner_ms_per_sequence`` (the
        runner's own share of it: reading and gating the input, building the rows, writing
        parts).
    """

    def __init__(
        self,
        *,
        path: str | os.PathLike | None = None,
        frames: list[pd.DataFrame] | None = None,
        metas: list[dict[str, Any]] | None = None,
        stats: dict[str, float] | None = None,
    ) -> None:
        self.path = None if path is None else Path(path)
        self._frames = frames
        self._metas = metas
        self._table: pd.DataFrame | None = None
        self.stats = dict(stats or {})
        self._labels: dict[str, str] | None = None

    @classmethod
    def open(cls, path: str | os.PathLike) -> GlobalRun:
        """A run directory written by ``explain_many(..., out=path)`` (finished or not)."""
        path = Path(path)
        if not path.is_dir():
            raise FileNotFoundError(f"run directory {str(path)!r} does not exist.")
        return cls(path=path)

    def __repr__(self) -> str:
        where = "in memory" if self.path is None else str(self.path)
        return f"<GlobalRun {where}: {len(self.entities)} sequences, {len(self.errors)} errors>"

    # ------------------------------------------------------------------ tables
    def read(self, columns: Sequence[str] | None = None) -> pd.DataFrame:
        """The result table (all columns, or only ``columns``)."""
        cols = None if columns is None else list(columns)
        if self.path is not None:
            return read_parts(self.path, cols)
        frames = [f for f in (self._frames or []) if len(f)]
        frame = _typed(pd.concat(frames, ignore_index=True)) if frames else empty_frame()
        return frame if cols is None else frame[cols]

    @property
    def table(self) -> pd.DataFrame:
        """The whole result table (read once and kept)."""
        if self._table is None:
            self._table = self.read()
        return self._table

    def _meta(self) -> list[dict[str, Any]]:
        return read_meta(self.path) if self.path is not None else list(self._metas or [])

    @property
    def entities(self) -> list[str]:
        """Entity ids of every finished sequence (explained or not), in input order."""
        return [e for meta in self._meta() for e in meta["entities"]]

    @property
    def errors(self) -> pd.DataFrame:
        """Sequences that were skipped: ``position``, ``entity``, ``reason``."""
        rows = [err for meta in self._meta() for err in meta["errors"]]
        return pd.DataFrame(rows, columns=["position", "entity", "reason"])

    def __len__(self) -> int:
        """Number of sequences explained (errors not counted)."""
        return len(self.entities) - len(self.errors)

    def _repr_html_(self) -> str:
        """Notebook display: predicted classes, mean |feature value| table and a small plot."""
        from .._report._repr import global_html

        return global_html(self)

    # ------------------------------------------------------------------ classes and labels
    def _explained(self) -> list[str]:
        """Entity ids of the explained sequences (errors left out), in input order."""
        failed = set(self.errors["entity"].astype(str))
        return [e for e in self.entities if e not in failed]

    @property
    def output_names(self) -> list[str]:
        """The explained outputs, in the model's order."""
        t = self.table
        return [str(o) for o in pd.unique(t.loc[t["level"] != "pruning", "output"])]

    @property
    def labels(self) -> list[str] | None:
        """True labels of the explained sequences, in input order (None unless given to
        ``explain_global(labels=)`` or set here, as a list in that order or a dict
        ``{entity: label}``); the tables then carry a ``label`` column. Labels live on this
        object only; they are not written to a run directory."""
        if self._labels is None:
            return None
        return [self._labels.get(e, "") for e in self._explained()]

    @labels.setter
    def labels(self, labels: Any) -> None:
        if labels is None:
            self._labels = None
            return
        ids = self._explained()
        if isinstance(labels, dict):
            unknown = [k for k in labels if str(k) not in set(ids)]
            if unknown:
                raise ValueError(
                    f"labels names entities {unknown[:5]} that this run did not explain; its "
                    f"entities are {ids[:5]}{' …' if len(ids) > 5 else ''}."
                )
            self._labels = {str(k): str(v) for k, v in labels.items()}
            return
        if isinstance(labels, str | bytes) or not hasattr(labels, "__len__"):
            raise TypeError(
                "labels must be a list with one label per sequence (in input order) or a dict "
                f"{{entity: label}}; received {type(labels).__name__}."
            )
        if len(labels) != len(ids):
            raise ValueError(
                f"labels has {len(labels)} entries but {len(ids)} sequences were explained; "
                "give one label per sequence, in their order (or a dict {entity: label})."
            )
        self._labels = {e: str(v) for e, v in zip(ids, labels)}

    def _predicted_by_entity(self) -> dict[str, str]:
        """Each explained sequence's top output f(x) (its predicted class for a classifier),
        among the explained outputs."""
        cols = ["position", "entity", "level", "output", "model_output"]
        t = self.table[cols] if self._table is not None else self.read(cols)
        t = t[t["level"] != "pruning"].drop_duplicates(["position", "output"])
        if t.empty:
            return {}
        top = t.loc[t.groupby("position", sort=True)["model_output"].idxmax()]
        return dict(zip(top["entity"].astype(str), top["output"].astype(str)))

    @property
    def predicted(self) -> list[str]:
        """Each explained sequence's predicted class (its highest explained output), in input
        order."""
        by = self._predicted_by_entity()
        return [by[e] for e in self._explained() if e in by]

    def with_classes(self, frame: pd.DataFrame) -> pd.DataFrame:
        """``frame`` with ``predicted`` (and ``label`` when labels are set) by entity."""
        ent = frame["entity"].astype(str)
        frame = frame.assign(predicted=ent.map(self._predicted_by_entity()).astype("string"))
        if self._labels is not None:
            frame["label"] = ent.map(self._labels).astype("string")
        return frame

    def frame(self, level: str = "event", output: str | int | None = "predicted") -> pd.DataFrame:
        """The ``level`` table (``"event"`` or ``"feature"``) for one output per sequence:
        ``"predicted"`` (default) keeps each sequence's rows for the class it is predicted as;
        a name or index keeps that output for every sequence; None keeps every output."""
        if level not in ("event", "feature"):
            raise ValueError(f"level must be 'event' or 'feature'; received {level!r}.")
        table = self.event_frame if level == "event" else self.feature_frame
        if output is None:
            return table
        if isinstance(output, str) and output == "predicted":
            return table[table["output"] == table["predicted"]].reset_index(drop=True)
        names = self.output_names
        if isinstance(output, str):
            if output not in names:
                raise ValueError(
                    f"output {output!r} not found; outputs are {names} (or 'predicted', None)."
                )
            name = output
        elif (
            isinstance(output, int | np.integer)
            and not isinstance(output, bool)
            and -len(names) <= int(output) < len(names)
        ):
            name = names[int(output)]
        else:
            raise ValueError(
                f"output must be 'predicted', None, an output name or an index in "
                f"[0, {len(names)}); received {output!r}."
            )
        return table[table["output"] == name].reset_index(drop=True)

    # ------------------------------------------------------------------ pruning
    @property
    def tolerances(self) -> list[float]:
        """The pruning tolerances of the run, ascending (empty without pruning)."""
        t = self._pruning_rows()
        return sorted(float(v) for v in pd.unique(t["tol"]))

    def _pruning_rows(self) -> pd.DataFrame:
        cols = ["position", "entity", "tol", "pruned_index", "length", "level"]
        t = self.table[cols] if self._table is not None else self.read(cols)
        t = t[(t["level"] != "pruning") & t["tol"].notna()]
        f = t.drop(columns="level").drop_duplicates(["position", "tol"]).reset_index(drop=True)
        f["kept"] = -f["pruned_index"].astype("int64")
        return f

    def pruning_frame(self, tols: Sequence[float] | float | None = None) -> pd.DataFrame:
        """One row per (sequence, tolerance): ``position``, ``entity``, ``tol``,
        ``pruned_index``, ``length`` (events of the sequence), ``kept`` (events kept).

        ``tols`` (default: the run's own tolerances): each one is answered from the run's rows
        when the run used it, else from the pruning curves kept with ``keep_curve=True`` (the
        index rule of :func:`seqshap.sequence.pruning.pruned_index`). A curve searched only
        back to the pruned index (``full_curve=False``) answers tolerances at or above the
        run's smallest."""
        own = self._pruning_rows()
        if tols is None:
            if own.empty:
                raise ValueError(
                    "this run has no pruning (pruning_tol=None); run it with a pruning_tol, "
                    "e.g. 0.025, for pruning statistics."
                )
            return own
        tols = [tols] if np.isscalar(tols) else list(tols)
        tols = [check_tol(t, name="tols", allow_none=False) for t in tols]
        if not tols:
            raise ValueError("tols must hold at least one tolerance (or be None).")
        done = set(own["tol"].tolist())
        missing = [t for t in tols if t not in done]
        parts = [own[own["tol"].isin(tols)]]
        if missing:
            parts.append(self._pruning_from_curves(missing))
        f = pd.concat(parts, ignore_index=True)
        order = {t: i for i, t in enumerate(dict.fromkeys(tols))}
        f = f.assign(_o=f["tol"].map(order)).sort_values(["_o", "position"], kind="stable")
        return f.drop(columns="_o").reset_index(drop=True)

    def _pruning_from_curves(self, tols: list[float]) -> pd.DataFrame:
        cols = ["position", "entity", "length", "level", "player", "t", "output", "value"]
        c = self.table[cols] if self._table is not None else self.read(cols)
        c = c[(c["level"] == "pruning") & (c["player"] == "older")]
        if c.empty:
            raise ValueError(
                f"the run computed the pruning tolerances {self.tolerances}, not {tols}, and "
                "kept no pruning curves; pass every tolerance to pruning_tol=[...] or run with "
                "keep_curve=True (and full_curve=True for tolerances below the smallest)."
            )
        rows = []
        for position, g in c.groupby("position", sort=True):
            length = int(g["length"].iloc[0])
            outs = list(dict.fromkeys(g["output"]))
            older = np.full((length + 1, len(outs)), np.nan)
            back = -g["t"].to_numpy(dtype=np.int64)
            col = g["output"].map({o: j for j, o in enumerate(outs)}).to_numpy()
            older[back, col] = g["value"].to_numpy(dtype=float)
            for tol in tols:
                idx = pruned_index(older, tol)
                if np.isnan(older[1 : -idx + 1]).any():
                    raise ValueError(
                        f"the pruning curve of sequence {g['entity'].iloc[0]!r} stops before "
                        f"the pruned index for tol={tol} (it was searched back to the run's "
                        "smallest tolerance only); run with full_curve=True."
                    )
                rows.append((position, g["entity"].iloc[0], tol, idx, length, -idx))
        return pd.DataFrame(
            rows, columns=["position", "entity", "tol", "pruned_index", "length", "kept"]
        ).astype({"position": "int64", "entity": "string", "pruned_index": "Int64"})

    def pruning_stats(self, tols: Sequence[float] | float | None = None) -> pd.DataFrame:
        """Like TimeSHAP's ``pruning_statistics``: ``Tolerance`` ("No Pruning", then each
        tolerance: ``tols``, default the run's own), ``Mean`` and ``Std`` of the number of
        events kept. ``tols`` as in :meth:`pruning_frame`."""
        f = self.pruning_frame(tols)
        first = f.drop_duplicates("position")
        rows = [("No Pruning", float(first["length"].mean()), _std(first["length"]))]
        for tol, group in f.groupby("tol", sort=tols is None):
            rows.append((float(tol), float(group["kept"].mean()), _std(group["kept"])))
        return pd.DataFrame(rows, columns=["Tolerance", "Mean", "Std"])

    # ------------------------------------------------------------------ levels
    def _level_rows(self, level: str, tol: float | None) -> pd.DataFrame:
        t = self.table
        rows = t[t["level"] == level]
        if rows.empty:
            present = sorted(set(t["level"]) - {"pruning"})
            raise ValueError(
                f"no sequence was explained at {level} level (levels present: {present}); add "
                "it to levels=."
            )
        tols = sorted(float(v) for v in pd.unique(rows["tol"].dropna()))
        if tol is None:
            tol = tols[0] if tols else None
        if tol is None:
            return rows[rows["tol"].isna()]
        if tol not in tols:
            raise ValueError(f"tol must be one of the run's tolerances {tols}; received {tol}.")
        return rows[rows["tol"] == tol]

    def level_frame(self, level: str, tol: float | None = None) -> pd.DataFrame:
        """Values of one level for every sequence at one tolerance (None: the run's smallest):
        ``position``, ``entity``, ``player``, ``t`` (−steps back for event players, else
        missing), ``output``, ``value``, ``std_error``, ``predicted`` (the sequence's predicted
        class) and ``label`` when labels are set."""
        r = self._level_rows(level, tol)
        cols = ["position", "entity", "player", "t", "output", "value", "std_error"]
        return self.with_classes(r[cols].reset_index(drop=True))

    @property
    def event_frame(self) -> pd.DataFrame:
        """Event values of every sequence (the smallest tolerance): ``entity``, ``player``
        ("Event -i" / "Pruned Events"), ``t`` (−i; missing for the pruned player), ``output``,
        ``value``, ``std_error``, ``predicted`` and ``label`` when labels are set."""
        return self.level_frame("event").drop(columns="position")

    @property
    def feature_frame(self) -> pd.DataFrame:
        """Feature values of every sequence (the smallest tolerance): ``entity``, ``feature``,
        ``output``, ``value``, ``std_error``, ``predicted`` and ``label`` when labels are set."""
        f = self.level_frame("feature").drop(columns=["position", "t"])
        return f.rename(columns={"player": "feature"})

    def explanation(self, level: str = "feature", tol: float | None = None) -> Explanation:
        """One level of every sequence as one Explanation ``(n, M, k)`` (players in order of
        first appearance); a player a sequence lacks (e.g. ``"Pruned Events"`` when nothing
        was pruned) gets value 0. ``meta["per_instance"]`` holds ``entity``,
        ``pruned_index``."""
        r = self._level_rows(level, tol)
        positions = list(dict.fromkeys(r["position"]))
        names = list(dict.fromkeys(r["player"]))
        outs = list(dict.fromkeys(r["output"]))
        n, m, k = len(positions), len(names), len(outs)
        i = r["position"].map({p: j for j, p in enumerate(positions)}).to_numpy()
        j = r["player"].map({p: j for j, p in enumerate(names)}).to_numpy()
        o = r["output"].map({p: j for j, p in enumerate(outs)}).to_numpy()
        values, ses = np.zeros((n, m, k)), np.zeros((n, m, k))
        values[i, j, o] = r["value"].to_numpy(dtype=float)
        ses[i, j, o] = r["std_error"].to_numpy(dtype=float)
        base, out = np.zeros((n, k)), np.zeros((n, k))
        base[i, o] = r["base_value"].to_numpy(dtype=float)
        out[i, o] = r["model_output"].to_numpy(dtype=float)
        first = r.drop_duplicates("position")
        t_of = r.drop_duplicates("player").set_index("player")["t"]
        steps_back = [None if pd.isna(t_of[p]) else -int(t_of[p]) for p in names]
        return Explanation(
            values=values,
            std_errors=ses,
            base_values=base,
            outputs=out,
            player_names=names,
            output_names=outs,
            level=level,
            exact=bool(r["exact"].all()),
            meta={
                "steps_back": steps_back,
                "per_instance": {
                    "entity": [str(e) for e in first["entity"]],
                    "pruned_index": [None if pd.isna(v) else int(v) for v in first["pruned_index"]],
                },
            },
        )

    @property
    def feature(self) -> Explanation:
        """The feature level as one Explanation (see :meth:`explanation`)."""
        return self.explanation("feature")

    def sequences_frame(self, tol: float | None = None) -> pd.DataFrame:
        """One row per (sequence, output): ``position``, ``entity``, ``length``,
        ``pruned_index``, ``output``, ``model_output`` (f(x)), ``base_value`` (E[f]),
        ``predicted`` (the sequence's predicted class) and ``label`` when labels are set."""
        t = self.table
        t = t[t["level"] != "pruning"]
        if t.empty:
            return self.with_classes(
                pd.DataFrame(
                    columns=["position", "entity", "length", "pruned_index", "output"]
                    + ["model_output", "base_value"]
                )
            )
        tols = sorted(float(v) for v in pd.unique(t["tol"].dropna()))
        tol = (tols[0] if tols else None) if tol is None else tol
        t = t[t["tol"].isna()] if tol is None else t[t["tol"] == tol]
        cols = ["position", "entity", "length", "pruned_index", "output"]
        cols += ["model_output", "base_value"]
        return self.with_classes(
            t.drop_duplicates(["position", "output"])[cols].reset_index(drop=True)
        )

    def summary(self, level: str = "feature") -> pd.DataFrame:
        """Global importance of each player of ``level``: per (tol, player, output), the mean
        of |value| and of value over the sequences, and how many sequences have the player."""
        t = self.table
        t = t[t["level"] == level]
        if t.empty:
            raise ValueError(
                f"no rows at level {level!r}; levels present: {sorted(set(self.table['level']))}."
            )
        t = t.assign(abs_value=t["value"].abs(), tol=t["tol"].fillna(-1.0))
        g = t.groupby(["tol", "player", "output"], sort=False)
        out = g.agg(
            mean_abs_value=("abs_value", "mean"),
            mean_value=("value", "mean"),
            n_sequences=("position", "nunique"),
        ).reset_index()
        out["tol"] = out["tol"].where(out["tol"] >= 0, np.nan)
        return out.sort_values(
            ["tol", "output", "mean_abs_value"], ascending=[True, True, False], ignore_index=True
        )


def new_totals() -> dict[str, float]:
    """Counters of a global run, summed over its chunks (see :func:`add_chunk_stats`)."""
    return dict.fromkeys(
        (
            "n_explained",
            "n_errors",
            "worker_seconds",
            "explain_seconds",
            "model_seconds",
            "batching_seconds",
            "n_model_calls",
            "n_model_rows",
            "parent_seconds",
        ),
        0.0,
    )


def add_chunk_stats(totals: dict[str, float], res: ChunkResult) -> None:
    totals["n_explained"] += res.stats["n_explained"]
    totals["n_errors"] += len(res.errors)
    totals["worker_seconds"] += res.stats["wall_seconds"]
    totals["explain_seconds"] += res.stats["explain_seconds"]
    totals["model_seconds"] += res.stats["model_seconds"]
    totals["batching_seconds"] += res.stats["batching_seconds"]
    totals["n_model_calls"] += res.stats["n_model_calls"]
    totals["n_model_rows"] += res.stats["n_model_rows"]


def run_stats(totals: dict[str, float], n_seen: int, wall: float) -> dict[str, float]:
    """The ``GlobalRun.stats`` of a run from its totals, sequences seen and wall time."""
    stats = dict(totals)
    n = totals["n_explained"]
    stats.update(
        n_sequences=float(n_seen),
        wall_seconds=wall,
        sequences_per_second=n / wall if wall > 0 else float("nan"),
        model_share=(
            totals["model_seconds"] / totals["worker_seconds"]
            if totals["worker_seconds"] > 0
            else float("nan")
        ),
        overhead_ms_per_sequence=(
            1e3 * (totals["worker_seconds"] - totals["model_seconds"]) / n if n else float("nan")
        ),
        runner_ms_per_sequence=(
            1e3
            * (totals["parent_seconds"] + totals["worker_seconds"] - totals["explain_seconds"])
            / n
            if n
            else float("nan")
        ),
    )
    return stats


def run_in_memory(
    plan: SequencePlan,
    items: Sequence[tuple[str, np.ndarray]],
    opts: RunOptions,
    exec_opts: ExecOptions,
    chunk_size: int,
) -> GlobalRun:
    """Explain checked ``(entity key, (T, d) array)`` items chunk by chunk in this process
    (the same :func:`~seqshap.sequence._work.explain_chunk` as every global run) and keep the
    rows in memory; the first failing sequence raises :class:`SequenceError`."""
    start = time.perf_counter()
    totals = new_totals()
    frames, metas = [], []
    for index, lo in enumerate(range(0, len(items), chunk_size)):
        chunk = Chunk(
            index, [(p, e, x) for p, (e, x) in enumerate(items) if lo <= p < lo + chunk_size]
        )
        res = explain_chunk(plan, chunk, opts, exec_opts)
        if res.errors:
            err = res.errors[0]
            raise SequenceError(err["entity"], err["reason"], err["position"])
        frames.append(res.frame)
        metas.append(
            {"chunk": res.index, "entities": res.entities, "errors": res.errors, "stats": res.stats}
        )
        add_chunk_stats(totals, res)
    return GlobalRun(
        frames=frames, metas=metas, stats=run_stats(totals, len(items), time.perf_counter() - start)
    )


def _std(values: pd.Series) -> float:
    return float(np.std(values.to_numpy(dtype=float), ddof=1)) if len(values) > 1 else float("nan")
