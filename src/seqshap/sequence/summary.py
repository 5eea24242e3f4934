"""Global summaries over many explained sequences: pruning statistics, event and feature tables."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_tol
from ..explanation import Explanation
from .plan import LocalExplanation


class GlobalExplanation:
    """Deprecated: ``explain_global`` returns a :class:`~seqshap.sequence.GlobalRun` (the type
    ``explain_many`` returns). Local explanations of ``n`` sequences and their summaries.

    Attributes
    ----------
    locals : list of :class:`~seqshap.sequence.explainer.LocalExplanation`, one per sequence.
    entity_ids : ids of the sequences (given, from the DataFrame, or 0..n−1).
    pruning : list of :class:`~seqshap.sequence.pruning.PruningResult` (None without a tol).
    labels : true labels of the sequences (None, or one per sequence; set it or pass
        ``labels=`` to ``explain_global``): the tables then carry a ``label`` column.

    Every output is explained for every sequence (one pass costs the same); ``predicted`` is
    each sequence's top output (its predicted class), the tables carry it, and
    :meth:`frame` with ``output="predicted"`` keeps, for each sequence, the rows of the class
    it is predicted as.
    """

    def __init__(
        self,
        locals_: list[LocalExplanation],
        entity_ids: Sequence[Any],
        tol: float | None,
        output_names: list[str],
    ) -> None:
        warnings.warn(
            "GlobalExplanation is deprecated: SequenceExplainer.explain_global returns a "
            "seqshap.GlobalRun (the result of explain_many), whose pruning_frame() columns are "
            "'length' (events of the sequence) and 'kept' (events kept).",
            DeprecationWarning,
            stacklevel=2,
        )
        self.locals = locals_
        self.entity_ids = list(entity_ids)
        self.tol = tol
        self.output_names = output_names
        self.pruning = [loc.pruning for loc in locals_]
        self._labels: list[str] | None = None

    @property
    def labels(self) -> list[str] | None:
        return None if self._labels is None else list(self._labels)

    @labels.setter
    def labels(self, labels: Sequence[Any] | None) -> None:
        if labels is None:
            self._labels = None
            return
        if isinstance(labels, str | bytes) or not hasattr(labels, "__len__"):
            raise TypeError(
                f"labels must be a list with one label per sequence; received {type(labels).__name__}."
            )
        if len(labels) != len(self.locals):
            raise ValueError(
                f"labels has {len(labels)} entries but {len(self.locals)} sequences were "
                "explained; give one label per sequence, in their order."
            )
        self._labels = [str(v) for v in labels]

    @property
    def predicted(self) -> list[str | None]:
        """Each sequence's top output (the predicted class of a classifier), by name; among
        the explained outputs when ``output=`` selected some."""
        out: list[str | None] = []
        for loc in self.locals:
            exp = next(iter(loc.levels.values()), None)
            out.append(None if exp is None else exp.output_names[int(np.argmax(exp.outputs[0]))])
        return out

    def __len__(self) -> int:
        return len(self.locals)

    def __getitem__(self, i: int) -> LocalExplanation:
        return self.locals[i]

    def __repr__(self) -> str:
        levels = sorted({name for loc in self.locals for name in loc.levels})
        return f"<GlobalExplanation sequences={len(self)} levels={levels} tol={self.tol}>"

    def _repr_html_(self) -> str:
        """Notebook display: predicted classes, mean |feature value| table and a small plot."""
        from .._report._repr import global_html

        return global_html(self)

    # ------------------------------------------------------------------ pruning
    def pruning_frame(self, tols: Sequence[float] | float | None = None) -> pd.DataFrame:
        """Pruned index of every sequence at each tolerance: columns ``entity``, ``tol``,
        ``pruned_index``, ``length`` (events kept), ``original_length``."""
        tols = self._tols(tols)
        rows = []
        for ent, res in zip(self.entity_ids, self.pruning):
            for tol in tols:
                idx = res.index_for(tol)
                rows.append((ent, tol, idx, -idx, res.length))
        return pd.DataFrame(
            rows, columns=["entity", "tol", "pruned_index", "length", "original_length"]
        )

    def pruning_stats(self, tols: Sequence[float] | float | None = None) -> pd.DataFrame:
        """Like TimeSHAP's ``pruning_statistics``: columns ``Tolerance`` (``"No Pruning"``,
        then each tolerance), ``Mean`` and ``Std`` of the number of events kept."""
        tols = self._tols(tols)
        original = np.array([res.length for res in self.pruning], dtype=float)
        rows = [("No Pruning", original.mean(), _std(original))]
        for tol in tols:
            kept = np.array([-res.index_for(tol) for res in self.pruning], dtype=float)
            rows.append((tol, kept.mean(), _std(kept)))
        return pd.DataFrame(rows, columns=["Tolerance", "Mean", "Std"])

    def _tols(self, tols) -> list[float]:
        if any(res is None for res in self.pruning):
            raise ValueError(
                "pruning statistics need the pruning curves: run explain_global with a "
                "pruning_tol (e.g. 0.025) instead of None."
            )
        if tols is None:
            tols = [self.tol]
        elif np.isscalar(tols):
            tols = [tols]
        return [check_tol(t, name="tols", allow_none=False) for t in tols]

    # ------------------------------------------------------------------ tables
    def _frame(self, level: str) -> pd.DataFrame:
        frames = []
        for ent, loc in zip(self.entity_ids, self.locals):
            exp = getattr(loc, level)
            if exp is None:
                continue
            f = exp.to_frame()
            back = dict(zip(exp.player_names, exp.meta.get("steps_back", [None] * exp.n_players)))
            frames.append(
                pd.DataFrame(
                    {
                        "entity": [ent] * len(f),
                        "player": f["player"],
                        "output": f["output"],
                        "value": f["value"],
                        "std_error": f["std_error"],
                        "t": pd.array(
                            [None if back[p] is None else -back[p] for p in f["player"]],
                            dtype="Int64",
                        ),
                    }
                )
            )
        if not frames:
            raise ValueError(f"no sequence was explained at {level} level; add it to levels=.")
        frame = pd.concat(frames, ignore_index=True)
        by_entity = dict(zip(map(str, self.entity_ids), self.predicted))
        frame["predicted"] = frame["entity"].astype(str).map(by_entity)
        if self._labels is not None:
            frame["label"] = (
                frame["entity"].astype(str).map(dict(zip(map(str, self.entity_ids), self._labels)))
            )
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
        if output == "predicted":
            return table[table["output"] == table["predicted"]].reset_index(drop=True)
        names = list(self.output_names)
        if isinstance(output, str):
            if output not in names:
                raise ValueError(
                    f"output {output!r} not found; outputs are {names} (or 'predicted', None)."
                )
            name = output
        elif isinstance(output, int | np.integer) and -len(names) <= int(output) < len(names):
            name = names[int(output)]
        else:
            raise ValueError(
                f"output must be 'predicted', None, an output name or an index in "
                f"[0, {len(names)}); received {output!r}."
            )
        return table[table["output"] == name].reset_index(drop=True)

    @property
    def event_frame(self) -> pd.DataFrame:
        """Event values of all sequences: ``entity``, ``player`` ("Event -i" / "Pruned
        Events"), ``t`` (−i; missing for the pruned player), ``output``, ``value``,
        ``std_error``, ``predicted`` (the sequence's top output) and ``label`` when given."""
        f = self._frame("event")
        f.insert(2, "t", f.pop("t"))
        return f

    @property
    def feature_frame(self) -> pd.DataFrame:
        """Feature values of all sequences: ``entity``, ``feature``, ``output``, ``value``,
        ``std_error``, ``predicted`` and ``label`` when given."""
        return self._frame("feature").drop(columns="t").rename(columns={"player": "feature"})

    @property
    def feature(self) -> Explanation:
        """Feature level of all sequences as one Explanation ``(n, M, k)``; sequences without
        pruned events get 0 for ``"Pruned Events"`` (a player that covers no cell)."""
        exps = [loc.feature for loc in self.locals]
        if any(e is None for e in exps):
            raise ValueError("no feature level in this explanation; add 'feature' to levels=.")
        names = list(dict.fromkeys(n for e in exps for n in e.player_names))
        n, m, k = len(exps), len(names), exps[0].n_outputs
        values = np.zeros((n, m, k))
        ses = np.zeros((n, m, k))
        for i, e in enumerate(exps):
            idx = [names.index(p) for p in e.player_names]
            values[i, idx] = e.values[0]
            ses[i, idx] = e.std_errors[0]
        return Explanation(
            values=values,
            std_errors=ses,
            base_values=np.concatenate([e.base_values for e in exps]),
            outputs=np.concatenate([e.outputs for e in exps]),
            player_names=names,
            output_names=exps[0].output_names,
            level="feature",
            method=exps[0].method,
            budget=exps[0].budget,
            seed=exps[0].seed,
            n_evaluations=np.concatenate([e.n_evaluations for e in exps]),
            n_model_rows=np.concatenate([e.n_model_rows for e in exps]),
            exact=all(e.exact for e in exps),
            link=exps[0].link,
            meta={
                "per_instance": {
                    "entity": [str(x) for x in self.entity_ids],
                    "pruned_index": [e.meta.get("pruned_index") for e in exps],
                }
            },
        )

    def to_frame(self) -> pd.DataFrame:
        """Every level of every sequence, tidy (``LocalExplanation.to_frame`` stacked)."""
        return pd.concat([loc.to_frame() for loc in self.locals], ignore_index=True)


def _std(values: np.ndarray) -> float:
    return float(values.std(ddof=1)) if len(values) > 1 else float("nan")
