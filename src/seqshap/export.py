"""Writing explanations to a folder: tables (CSV and/or parquet) and plots (PNG and SVG).

One code path for everything that writes results to disk — the ``seqshap explain`` command and
the ``seqshap demo`` — so that a table or a plot is written the same way wherever it comes
from. :class:`Exporter` collects the paths it wrote in ``files``.

>>> ex = Exporter("out/tables", "out/plots")                         # doctest: +SKIP
>>> ex.local(explainer.explain(x))              # one plot per output  # doctest: +SKIP
>>> ex.global_(explainer.explain_global(X), output="predicted")      # doctest: +SKIP
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ._csv import write_csv

__all__ = ["FORMATS", "Exporter"]

#: table formats written by default
FORMATS = ("csv", "parquet")
#: ``output=`` of :meth:`Exporter.global_`: each sequence for its predicted class
PREDICTED = "predicted"


def output_suffixes(names: Sequence[str]) -> list[tuple[int, str]]:
    """``(index, file suffix)`` of every output: ``""`` for a single output, else ``_<name>``
    (lower case, runs of other characters as ``-``; the index is prefixed when two names
    would give the same file)."""
    if len(names) <= 1:
        return [(0, "")]
    slugs = [
        re.sub(r"[^A-Za-z0-9]+", "-", str(n)).strip("-").lower() or str(o)
        for o, n in enumerate(names)
    ]
    if len(set(slugs)) != len(slugs):
        slugs = [f"{o}-{s}" for o, s in enumerate(slugs)]
    return [(o, f"_{s}") for o, s in enumerate(slugs)]


class Exporter:
    """Writes tables under ``tables`` and plots under ``figures`` (default: ``tables``).

    ``formats``: any of ``"csv"``, ``"parquet"``. ``plots=False`` writes no plots. Plots are
    drawn on a :class:`matplotlib.figure.Figure` (no pyplot: no global state, no display).
    """

    def __init__(
        self,
        tables: str | os.PathLike,
        figures: str | os.PathLike | None = None,
        *,
        formats: Sequence[str] = FORMATS,
        plots: bool = True,
    ) -> None:
        unknown = [f for f in formats if f not in FORMATS]
        if unknown or not formats:
            raise ValueError(
                f"formats must be a non-empty subset of {list(FORMATS)}; received {list(formats)}."
            )
        self.tables = Path(tables)
        self.figures = self.tables if figures is None else Path(figures)
        self.formats = tuple(formats)
        self.plots = bool(plots)
        self.files: list[Path] = []
        self.tables.mkdir(parents=True, exist_ok=True)
        if self.plots:
            self.figures.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ primitives
    def table(self, frame: pd.DataFrame, name: str) -> None:
        """``frame`` as ``<tables>/<name>.csv`` / ``.parquet`` (object columns as strings, so
        that parquet gets one type per column; the caller's frame is not changed). Text cells
        of the CSV that a spreadsheet would run as formulas get a leading ``'``
        (:mod:`seqshap._csv`); parquet keeps them verbatim."""
        frame = frame.copy()
        for col in frame.columns:
            if frame[col].dtype == object:
                frame[col] = frame[col].map(lambda v: v if v is None else str(v))
        stem = self.tables / name
        if "csv" in self.formats:
            write_csv(frame, stem.with_suffix(".csv"))  # text cells cannot run as formulas
            self.files.append(stem.with_suffix(".csv"))
        if "parquet" in self.formats:
            frame.to_parquet(stem.with_suffix(".parquet"), index=False)
            self.files.append(stem.with_suffix(".parquet"))

    def plot(
        self, draw: Callable[[Any], Any], name: str, size: tuple[float, float] = (7.0, 4.5)
    ) -> None:
        """``draw(ax)`` saved as ``<figures>/<name>.png`` and ``.svg`` (nothing without plots)."""
        if not self.plots:
            return
        from matplotlib.figure import Figure

        fig = Figure(figsize=size, layout="constrained")
        draw(fig.add_subplot())
        stem = self.figures / name
        for suffix in (".png", ".svg"):
            fig.savefig(stem.with_suffix(suffix), dpi=120)
            self.files.append(stem.with_suffix(suffix))

    def report(self, path: str | os.PathLike | None = None, **kwargs: Any) -> Path:
        """:func:`seqshap.report` (``local=``, ``global_=``, ``title=``, …) written to ``path``
        (default ``<figures>/report.html``)."""
        from ._report import report

        path = self.figures / "report.html" if path is None else Path(path)
        report(path=path, **kwargs)
        self.files.append(path)
        return path

    # ------------------------------------------------------------------ results
    def local(
        self,
        local: Any,
        *,
        output: int | str | None = None,
        prefix: str = "",
        level_tables: bool = True,
        explanation_name: str = "explanations",
        curve_name: str = "pruning",
    ) -> None:
        """One sequence (a :class:`~seqshap.sequence.LocalExplanation`): the table of all its
        levels (``<prefix><explanation_name>``), with ``level_tables`` one table per level
        (``<prefix>events`` …), the pruning curve (``<prefix><curve_name>``), and the plots
        ``<prefix>pruning``, ``features``, ``cells``, ``windows`` of ``output`` — None (default):
        one file per explained output, named ``<plot>_<output name>`` when there are several —
        and ``<prefix>events`` (the event heatmap: ``output``, or every output side by side)."""
        from . import plots

        self.table(local.to_frame(), f"{prefix}{explanation_name}")
        if level_tables:
            for level, exp in local.levels.items():
                self.table(exp.to_frame(), f"{prefix}{level}s")
        if local.pruning is not None:
            self.table(local.pruning.curve, f"{prefix}{curve_name}")
        first = next(iter(local.levels.values()), None)
        names = list(first.output_names) if first is not None else []
        if local.event is not None:
            shown = 1 if output is not None else len(names)
            self.plot(
                lambda ax: plots.event_heatmap(local.event, output=output, ax=ax),
                f"{prefix}events",
                (min(3.0 + 1.3 * shown, 12.0), 6.5),
            )
        pairs = [(output, "")] if output is not None else output_suffixes(names)
        for o, suffix in pairs:
            if local.pruning is not None:
                self.plot(
                    lambda ax, o=o: plots.pruning_plot(local.pruning, output=o, ax=ax),
                    f"{prefix}pruning{suffix}",
                )
            if local.feature is not None:
                self.plot(
                    lambda ax, o=o: plots.bar(local.feature, output=o, ax=ax),
                    f"{prefix}features{suffix}",
                )
            if local.cell is not None:
                self.plot(
                    lambda ax, o=o: plots.cell_heatmap(local.cell, output=o, ax=ax),
                    f"{prefix}cells{suffix}",
                )
            if local.window is not None:
                self.plot(
                    lambda ax, o=o: plots.bar(local.window, output=o, ax=ax),
                    f"{prefix}windows{suffix}",
                )

    def global_(
        self,
        run: Any,
        *,
        output: int | str | None = None,
        prefix: str = "",
        full_table: bool = True,
    ) -> pd.DataFrame | None:
        """Many sequences (a :class:`~seqshap.GlobalRun`): with ``full_table`` the whole result
        table (``<prefix>explanations``); the event and feature rows (``<prefix>events``,
        ``<prefix>features``, every tolerance); with pruning ``<prefix>pruning``
        (``pruning_frame()``) and ``<prefix>pruning_stats``. Every table but the pruning ones
        carries each sequence's ``predicted`` class (and ``label`` when the run has labels).
        Plots at the run's smallest tolerance: ``output`` None (default) draws every output
        over all sequences (``<plot>_<output name>`` when there are several); ``"predicted"``
        draws one pair per predicted class over the sequences predicted as it, each explained
        for that class; a name or index draws that output. Returns the pruning statistics
        (None without pruning)."""
        from . import plots

        table = run.with_classes(run.table)
        if full_table:
            self.table(table, f"{prefix}explanations")
        levels = set(table["level"])
        frames: dict[str, pd.DataFrame] = {}
        if "event" in levels:
            self.table(table[table["level"] == "event"], f"{prefix}events")
            frames["events"] = run.event_frame
        if "feature" in levels:
            rows = table[table["level"] == "feature"].rename(columns={"player": "feature"})
            self.table(rows, f"{prefix}features")
            frames["features"] = run.feature_frame
        draw = {"events": plots.global_event_plot, "features": plots.global_feature_plot}
        if isinstance(output, str) and output == PREDICTED:
            names = run.output_names
            chosen = [n for n in names if n in set(run.predicted)]
            suffixes = dict(output_suffixes(names)) if len(names) > 1 else {}
            for name in chosen:
                suffix = suffixes.get(names.index(name), "")
                for kind, frame in frames.items():
                    mine = frame[(frame["predicted"] == name) & (frame["output"] == name)]
                    self.plot(
                        lambda ax, f=mine, n=name, k=kind: draw[k](f, output=n, ax=ax),
                        f"{prefix}{kind}{suffix}",
                    )
        else:
            names = run.output_names
            pairs = [(output, "")] if output is not None else output_suffixes(names)
            for o, suffix in pairs:
                for kind, frame in frames.items():
                    self.plot(
                        lambda ax, f=frame, o=o, k=kind: draw[k](f, output=o, ax=ax),
                        f"{prefix}{kind}{suffix}",
                    )
        stats = None
        if run.tolerances:
            self.table(run.pruning_frame(), f"{prefix}pruning")
            stats = run.pruning_stats()
            self.table(stats, f"{prefix}pruning_stats")
            self.plot(lambda ax: plots.pruning_stats_plot(stats, ax=ax), f"{prefix}pruning_stats")
        return stats
