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

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._store import read_meta, read_parts
from ._work import _typed, empty_frame


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

    # ------------------------------------------------------------------ summaries
    def pruning_frame(self) -> pd.DataFrame:
        """One row per (sequence, tolerance): ``position``, ``entity``, ``tol``,
        ``pruned_index``, ``length`` (events of the sequence), ``kept`` (events kept)."""
        cols = ["position", "entity", "tol", "pruned_index", "length", "level"]
        t = self.table[cols] if self._table is not None else self.read(cols)
        t = t[(t["level"] != "pruning") & t["tol"].notna()]
        f = t.drop(columns="level").drop_duplicates(["position", "tol"]).reset_index(drop=True)
        f["kept"] = -f["pruned_index"].astype("int64")
        return f

    def pruning_stats(self) -> pd.DataFrame:
        """Like TimeSHAP's ``pruning_statistics``: ``Tolerance`` ("No Pruning", then each
        tolerance), ``Mean`` and ``Std`` of the number of events kept."""
        f = self.pruning_frame()
        first = f.drop_duplicates("position")
        rows = [("No Pruning", float(first["length"].mean()), _std(first["length"]))]
        for tol, group in f.groupby("tol", sort=True):
            rows.append((float(tol), float(group["kept"].mean()), _std(group["kept"])))
        return pd.DataFrame(rows, columns=["Tolerance", "Mean", "Std"])

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


def _std(values: pd.Series) -> float:
    return float(np.std(values.to_numpy(dtype=float), ddof=1)) if len(values) > 1 else float("nan")
