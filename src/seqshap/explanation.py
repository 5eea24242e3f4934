"""The result object: attributions with standard errors and everything needed to read them.

An :class:`Explanation` holds ``n`` explained instances over the same ``M`` players and ``k``
outputs. Its central identity (efficiency, in link space) is

    sum_i values[j, i, o] = outputs[j, o] - base_values[j, o]      for every instance j, output o,

and :attr:`efficiency_gap` reports how far from it the stored numbers are.
"""

from __future__ import annotations

import json
import zipfile
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ._optional import import_optional

_FORMAT_VERSION = 1
_ARRAYS = (
    "values",
    "std_errors",
    "base_values",
    "outputs",
    "data",
    "n_evaluations",
    "n_model_rows",
)


@dataclass
class Explanation:
    """Attributions of ``n`` instances over ``M`` players for ``k`` outputs.

    Attributes
    ----------
    values, std_errors : (n, M, k) arrays. ``std_errors`` is 0 where values are exact.
    base_values : (n, k) value of the empty coalition (E[f(background)] in link space).
    outputs : (n, k) model output for the explained instance (link space).
    player_names : M labels (events ``"Event -1"``, features, cells, tokens, ...).
    output_names : k labels.
    data : optional (n, M) values shown beside each player (feature values), NaN if none.
    level : "feature", "event", "cell", "window", "token", ...
    method : estimator that produced the values ("exact", "kernel", "permutation", "lime").
    budget, seed : what the estimator was given.
    n_evaluations : (n,) coalitions evaluated per instance; n_model_rows: (n,) model rows.
    exact : True when the values are exact Shapley values (enumeration).
    link : "identity" or "logit".
    meta : JSON-serialisable extras (pruning index, entity ids, tolerance, ...).
    """

    values: np.ndarray
    std_errors: np.ndarray
    base_values: np.ndarray
    outputs: np.ndarray
    player_names: list[str]
    output_names: list[str] = field(default_factory=list)
    data: np.ndarray | None = None
    level: str = "feature"
    method: str = "kernel"
    budget: int | None = None
    seed: int | None = None
    n_evaluations: np.ndarray | None = None
    n_model_rows: np.ndarray | None = None
    exact: bool = False
    link: str = "identity"
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.values = np.asarray(self.values, dtype=float)
        if self.values.ndim == 2:  # (M, k) single instance
            self.values = self.values[None]
        if self.values.ndim != 3:
            raise ValueError(f"values must be (n, M, k); received shape {self.values.shape}.")
        n, m, k = self.values.shape
        self.std_errors = (
            np.zeros_like(self.values)
            if self.std_errors is None
            else np.asarray(self.std_errors, dtype=float).reshape(n, m, k)
        )
        self.base_values = np.asarray(self.base_values, dtype=float).reshape(n, k)
        self.outputs = np.asarray(self.outputs, dtype=float).reshape(n, k)
        self.player_names = [str(p) for p in self.player_names]
        if len(self.player_names) != m:
            raise ValueError(
                f"player_names must have {m} entries; received {len(self.player_names)}."
            )
        if not self.output_names:
            self.output_names = [f"output {o}" for o in range(k)] if k > 1 else ["output"]
        self.output_names = [str(o) for o in self.output_names]
        if self.data is not None:
            self.data = np.asarray(self.data, dtype=float).reshape(n, m)
        for name in ("n_evaluations", "n_model_rows"):
            v = getattr(self, name)
            setattr(
                self,
                name,
                np.zeros(n, dtype=np.int64)
                if v is None
                else np.asarray(v, dtype=np.int64).reshape(n),
            )

    # ------------------------------------------------------------------ shape and access
    @property
    def n_instances(self) -> int:
        return self.values.shape[0]

    @property
    def n_players(self) -> int:
        return self.values.shape[1]

    @property
    def n_outputs(self) -> int:
        return self.values.shape[2]

    @property
    def shape(self) -> tuple[int, int, int]:
        return self.values.shape  # type: ignore[return-value]

    def __len__(self) -> int:
        return self.n_instances

    def __getitem__(self, index: int | slice | np.ndarray | list[int]) -> Explanation:
        """Select instances (``exp[0]``, ``exp[:10]``); the result keeps the 3-D layout."""
        idx = np.arange(self.n_instances)[index]
        idx = np.atleast_1d(idx)
        meta = dict(self.meta)
        per_instance = meta.get("per_instance")
        if isinstance(per_instance, dict):
            meta["per_instance"] = {key: [val[i] for i in idx] for key, val in per_instance.items()}
        return Explanation(
            values=self.values[idx],
            std_errors=self.std_errors[idx],
            base_values=self.base_values[idx],
            outputs=self.outputs[idx],
            player_names=list(self.player_names),
            output_names=list(self.output_names),
            data=None if self.data is None else self.data[idx],
            level=self.level,
            method=self.method,
            budget=self.budget,
            seed=self.seed,
            n_evaluations=self.n_evaluations[idx],
            n_model_rows=self.n_model_rows[idx],
            exact=self.exact,
            link=self.link,
            meta=meta,
        )

    def output(self, output: int | str) -> np.ndarray:
        """Values ``(n, M)`` of one output, by index or name."""
        return self.values[:, :, self._output_index(output)]

    def _output_index(self, output: int | str) -> int:
        if isinstance(output, str):
            if output not in self.output_names:
                raise ValueError(f"output {output!r} not found; outputs are {self.output_names}.")
            return self.output_names.index(output)
        if not -self.n_outputs <= int(output) < self.n_outputs:
            raise ValueError(f"output index {output} out of range for {self.n_outputs} output(s).")
        return int(output) % self.n_outputs

    @property
    def efficiency_gap(self) -> np.ndarray:
        """``|sum_i values - (outputs - base_values)|``, shape (n, k)."""
        return np.abs(self.values.sum(axis=1) - (self.outputs - self.base_values))

    def __repr__(self) -> str:
        n, m, k = self.shape
        kind = (
            "exact" if self.exact else f"{self.method}, max std error {self.std_errors.max():.3g}"
        )
        return (
            f"<Explanation level={self.level!r} instances={n} players={m} outputs={k} ({kind}); "
            f"max efficiency gap {self.efficiency_gap.max():.2g}>"
        )

    def _repr_html_(self) -> str:
        """Notebook display: a compact table and a small bar plot (lazy: a display hook)."""
        from ._report._repr import explanation_html

        return explanation_html(self)

    @property
    def plot(self) -> Any:
        """Plots of this explanation: ``exp.plot.bar()``, ``exp.plot.waterfall(instance=0)``,
        ``exp.plot.beeswarm()``, ... (see :mod:`seqshap.plots`); imports matplotlib on use."""
        from .plots import PlotAccessor

        return PlotAccessor(self)

    # ------------------------------------------------------------------ tables
    def to_frame(self) -> pd.DataFrame:
        """Tidy table: one row per (instance, player, output)."""
        n, m, k = self.shape
        inst = np.repeat(np.arange(n), m * k)
        player_idx = np.tile(np.repeat(np.arange(m), k), n)
        out_idx = np.tile(np.arange(k), n * m)
        frame = pd.DataFrame(
            {
                "instance": inst,
                "player": np.asarray(self.player_names, dtype=object)[player_idx],
                "player_index": player_idx,
                "output": np.asarray(self.output_names, dtype=object)[out_idx],
                "value": self.values.reshape(-1),
                "std_error": self.std_errors.reshape(-1),
                "feature_value": (
                    np.nan if self.data is None else np.repeat(self.data.reshape(-1), k)
                ),
                "base_value": self.base_values[inst, out_idx],
                "model_output": self.outputs[inst, out_idx],
                "level": self.level,
                "method": self.method,
            }
        )
        per_instance = self.meta.get("per_instance")
        if isinstance(per_instance, dict):
            for key, vals in per_instance.items():
                if len(vals) == n:
                    frame[key] = np.asarray(vals, dtype=object)[inst]
        return frame

    # ------------------------------------------------------------------ persistence
    def _meta_dict(self) -> dict[str, Any]:
        return {
            "format": "seqshap.Explanation",
            "version": _FORMAT_VERSION,
            "player_names": self.player_names,
            "output_names": self.output_names,
            "level": self.level,
            "method": self.method,
            "budget": self.budget,
            "seed": self.seed,
            "exact": self.exact,
            "link": self.link,
            "meta": self.meta,
        }

    def save(self, path: str | Path) -> Path:
        """Save as ``.json`` (human-readable) or ``.npz`` (compact); never pickle."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".json":
            doc = self._meta_dict()
            for name in _ARRAYS:
                arr = getattr(self, name)
                doc[name] = None if arr is None else np.asarray(arr).tolist()
            doc["shape"] = list(self.shape)
            path.write_text(json.dumps(doc, default=_json_default))
        elif suffix == ".npz":
            arrays = {
                name: getattr(self, name) for name in _ARRAYS if getattr(self, name) is not None
            }
            np.savez_compressed(
                path,
                __meta__=np.array(json.dumps(self._meta_dict(), default=_json_default)),
                **arrays,
            )
        else:
            raise ValueError(
                f"path must end in .json or .npz; received {str(path)!r}. Pickle is not offered."
            )
        return path

    @classmethod
    def load(cls, path: str | Path) -> Explanation:
        """Load a file written by :meth:`save` (no unpickling). A file that cannot be read
        back (cut short, bytes changed, not a saved Explanation) raises
        :class:`SavedFileError` naming it."""
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"path {str(path)!r} does not exist.")
        suffix = path.suffix.lower()
        if suffix not in (".json", ".npz"):
            raise ValueError(f"path must end in .json or .npz; received {str(path)!r}.")
        with reading_saved_file(path, "seqshap Explanation (Explanation.save)"):
            return cls._load(path, suffix)

    @classmethod
    def _load(cls, path: Path, suffix: str) -> Explanation:
        if suffix == ".json":
            doc = json.loads(path.read_text())
            _check_format(doc, path)
            arrays = {name: doc.get(name) for name in _ARRAYS}
            shape = tuple(doc["shape"])
            for name in ("values", "std_errors"):
                arrays[name] = np.asarray(arrays[name], dtype=float).reshape(shape)
        else:
            # our own handle: np.load leaves its file open when the zip is broken
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
                if "__meta__" not in npz.files:
                    raise ValueError(f"{str(path)!r} is not a saved seqshap Explanation.")
                doc = json.loads(str(npz["__meta__"]))
                _check_format(doc, path)
                arrays = {name: (npz[name] if name in npz.files else None) for name in _ARRAYS}
        return cls(
            values=arrays["values"],
            std_errors=arrays["std_errors"],
            base_values=arrays["base_values"],
            outputs=arrays["outputs"],
            data=None if arrays["data"] is None else np.asarray(arrays["data"], dtype=float),
            n_evaluations=arrays["n_evaluations"],
            n_model_rows=arrays["n_model_rows"],
            player_names=doc["player_names"],
            output_names=doc["output_names"],
            level=doc["level"],
            method=doc["method"],
            budget=doc["budget"],
            seed=doc["seed"],
            exact=doc["exact"],
            link=doc["link"],
            meta=doc.get("meta", {}),
        )

    # ------------------------------------------------------------------ interop
    def to_shap(self) -> Any:
        """A ``shap.Explanation`` (values ``(n, M)`` for one output, ``(n, M, k)`` otherwise)."""
        shap = import_optional("shap", "Explanation.to_shap()")
        single = self.n_outputs == 1
        return shap.Explanation(
            values=self.values[:, :, 0] if single else self.values,
            base_values=self.base_values[:, 0] if single else self.base_values,
            data=self.data,
            feature_names=list(self.player_names),
            output_names=None if single else list(self.output_names),
        )


class SavedFileError(ValueError):
    """A file seqshap wrote (an Explanation, a KernelExplainer, a run) cannot be read back:
    cut short, changed, or not such a file. The message names the file and the cause."""

    def __init__(self, path: Path | str, what: str, cause: BaseException) -> None:
        self.path = Path(path)
        detail = " ".join(str(cause).split())[:300] or type(cause).__name__
        super().__init__(
            f"{str(path)!r} cannot be read as a saved {what}: {type(cause).__name__}: {detail}. "
            "The file may be truncated or modified, or be another kind of file; save it again."
        )


@contextmanager
def reading_saved_file(path: Path, what: str) -> Iterator[None]:
    """Turn any failure to parse ``path`` into a :class:`SavedFileError` naming it."""
    try:
        yield
    except SavedFileError:
        raise
    except (
        OSError,  # unreadable
        EOFError,  # npz members cut short
        zipfile.BadZipFile,  # npz cut short or changed
        zlib.error,  # compressed npz members changed
        ValueError,  # JSONDecodeError, reshape, shapes that do not fit
        KeyError,  # a field missing
        TypeError,  # a field of the wrong type
        IndexError,
        AttributeError,
    ) as exc:
        raise SavedFileError(path, what, exc) from exc


def _check_format(doc: Any, path: Path) -> None:
    if not isinstance(doc, dict) or doc.get("format") != "seqshap.Explanation":
        raise ValueError(f"{str(path)!r} is not a saved seqshap Explanation.")


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"meta value of type {type(obj).__name__} is not JSON-serialisable")


def explanation_from_estimates(
    estimates: list,
    *,
    player_names: list[str],
    output_names: list[str] | None = None,
    data: np.ndarray | None = None,
    level: str = "feature",
    budget: int | None = None,
    seed: int | None = None,
    link: str = "identity",
    n_model_rows: list[int] | None = None,
    meta: dict[str, Any] | None = None,
) -> Explanation:
    """Stack per-instance estimator results (same players) into one :class:`Explanation`."""
    return Explanation(
        values=np.stack([e.values for e in estimates]),
        std_errors=np.stack([e.std_errors for e in estimates]),
        base_values=np.stack([e.base for e in estimates]),
        outputs=np.stack([e.full for e in estimates]),
        player_names=player_names,
        output_names=output_names or [],
        data=data,
        level=level,
        method=estimates[0].method,
        budget=budget,
        seed=seed if isinstance(seed, int | type(None)) else None,
        n_evaluations=[e.n_evaluations for e in estimates],
        n_model_rows=n_model_rows,
        exact=all(e.exact for e in estimates),
        link=link,
        meta=meta or {},
    )
