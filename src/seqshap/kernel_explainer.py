"""``KernelExplainer``: shap's documented interface on seqshap's engine.

Existing code runs by changing the import::

    from seqshap import KernelExplainer          # was: from shap import KernelExplainer
    explainer = KernelExplainer(model.predict_proba, X_train_summary)
    shap_values = explainer.shap_values(X_test, nsamples=500)

Differences from shap, all deliberate:

* ``l1_reg`` defaults to ``"auto"`` meaning *no* feature selection: every feature keeps its
  attribution (shap ≥ 0.47's default keeps only 10 features, silently zeroing the rest).
  Selection happens only when asked: ``"num_features(k)"``, ``"aic"``, ``"bic"`` or an alpha.
* When ``nsamples`` covers all 2^M coalitions the values are exact (and say so).
* Sampling is paired and without replacement, sizes are enumerated from the borders, and every
  value carries a standard error (``explainer(X).std_errors``). The regression also fits odd
  third-order terms (``order=3``, default; ``order=1`` is shap's linear fit), which reaches
  the same error with fewer evaluations (README, "Estimators").
* Results do not depend on ``batch_size``; a ``seed`` makes them reproducible without touching
  numpy's global random state.
* ``save`` writes JSON + npz (no pickle); ``load(path, model)`` takes the model back, since a
  model cannot be stored safely without pickle.
* ``nsamples``/``l1_reg`` given to the constructor (shap accepts and ignores them) become the
  defaults of the calls, with a warning; ``random_state`` (ignored by shap) seeds the sampling;
  a misspelt keyword raises instead of being ignored.

Results in shap's forms: ``explain(row)`` → ``(M,)`` or ``(M, k)``; ``shap_values(X)`` →
``(n, M)`` or ``(n, M, k)``; ``explainer(X)`` → a ``shap.Explanation`` (standard errors in
``error_std``; a same-indexing stand-in when shap is not installed); :meth:`explanation` →
seqshap's :class:`~seqshap.Explanation`. Columns of strings, booleans, categories or objects are
played as integer codes and decoded before every model call, so the model sees its own values.
"""

from __future__ import annotations

import gc
import importlib.util
import json
import numbers
import re
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from ._shap_like import ShapLikeExplanation
from ._validation import (
    check_array,
    check_budget,
    check_int,
    check_names,
    check_output_names,
    check_random_state,
    check_unique_names,
    frame_names,
    select_columns,
)
from .background import Background, as_background
from .estimators import default_budget, estimate
from .explanation import Explanation, explanation_from_estimates, reading_saved_file
from .games import MaskedGame
from .links import get_link
from .models import adapt
from .models.adapt import carried_output_names

_L1_PATTERN = re.compile(r"num_features\(\d+\)")
#: shap's per-call options; its constructor accepts (and ignores) them, ours uses them as defaults
_CALL_DEFAULTS: dict[str, Any] = {
    "nsamples": "auto",
    "l1_reg": "auto",
    "silent": False,
    "gc_collect": False,
}


class KernelExplainer:
    """Shapley values of any function of a feature matrix (KernelSHAP).

    Parameters
    ----------
    model : callable mapping ``(n_samples, n_features)`` to a vector or ``(n_samples, k)``.
    data : background rows standing in for absent features — numpy array, pandas DataFrame
        (feature names from its columns), scipy.sparse matrix, or a summary from
        :func:`seqshap.kmeans` / :func:`seqshap.sample` (or ``shap.kmeans``). Columns of
        strings, booleans, categories or other objects are handled as shap handles them: the
        model receives the original values, a feature being absent means taking the background
        row's value.
    feature_names : names of the columns (default: DataFrame columns, else ``"Feature i"``).
    output_names : names of the model's k outputs (default: the names the model carries, e.g.
        a scikit-learn classifier's ``classes_``, else ``"output 0"`` …).
    link : ``"identity"`` or ``"logit"`` (values then explain log-odds), or shap's link objects.
    batch_size : most rows per model call.
    seed : seed of the local random generator (None: fresh entropy each call).
    method : ``"kernel"`` (default), ``"exact"``, ``"permutation"`` or ``"auto"``.
    order : the kernel fit: 3 (default) adds odd third-order terms to the regression (fewer
        evaluations for the same error), 1 is shap's linear KernelSHAP fit (paired).
    random_state : shap's name for ``seed`` (shap 0.51 ignores it; here it seeds the sampling).
    keep_index, keep_index_ordered : as in shap: the model receives a DataFrame with the
        background's columns and the explained row's index value (sorted when ordered).
    nsamples, l1_reg, silent, gc_collect : shap accepts these in the constructor and ignores
        them there; seqshap uses them as the defaults of :meth:`shap_values`, :meth:`explain` and
        ``explainer(X)``, and says so with a warning. An ``l1_reg`` value that is not valid is
        ignored with a warning, as shap ignores it.
    """

    def __init__(
        self,
        model: Any,
        data: Any,
        feature_names: list[str] | None = None,
        link: Any = "identity",
        *,
        batch_size: int = 1024,
        seed: int | None = 0,
        method: str = "kernel",
        random_state: int | None = None,
        keep_index: bool = False,
        keep_index_ordered: bool = False,
        output_names: list[str] | None = None,
        order: int = 3,
        **kwargs: Any,
    ):
        unknown = set(kwargs) - set(_CALL_DEFAULTS)
        if unknown:
            raise TypeError(
                f"KernelExplainer got unexpected keyword argument(s) {sorted(unknown)}; accepted "
                "are model, data, feature_names, link, batch_size, seed, method, random_state, "
                "keep_index, keep_index_ordered, output_names, order, nsamples, l1_reg, silent, "
                "gc_collect."
            )
        if method not in ("kernel", "exact", "permutation", "auto"):
            raise ValueError(
                f"method must be 'kernel', 'exact', 'permutation' or 'auto'; received {method!r}."
            )
        if isinstance(order, bool) or order not in (1, 3):
            raise ValueError(
                f"order must be 3 (the third-order kernel fit) or 1 (linear KernelSHAP); "
                f"received {order!r}."
            )
        if random_state is not None:
            if seed not in (0, None) and seed != random_state:
                raise ValueError(
                    f"seed={seed!r} and random_state={random_state!r} disagree; random_state is "
                    "shap's name for seed, pass only one of them."
                )
            seed = random_state
        self._defaults = _call_defaults(kwargs)
        self.keep_index = bool(keep_index)
        self.keep_index_ordered = bool(keep_index_ordered)
        self._columns = list(data.columns) if hasattr(data, "columns") else None
        self._dtypes = data.dtypes if hasattr(data, "dtypes") and hasattr(data, "columns") else None
        if feature_names is None and self._columns is not None:
            feature_names = [str(c) for c in self._columns]
        if feature_names is not None:
            feature_names = check_unique_names(feature_names, name="feature_names")
        #: DataFrame rows X are matched by these names (the data's columns, else the given
        #: feature names), never by position; None: by position
        self._match_names = frame_names(data) or feature_names
        if self.keep_index and self._columns is None:
            raise ValueError(
                "keep_index=True needs data as a pandas DataFrame (its columns and index are "
                f"passed to the model); received {type(data).__name__}."
            )
        self._codes = _Codes.for_data(data)
        if self._codes is not None:
            data = self._codes.encode(data)
        self.data: Background = as_background(data, name="data", ndim=2)
        self.n_features = self.data.data.shape[1]
        self.feature_names = check_names(
            feature_names, n=self.n_features, name="feature_names", default_prefix="Feature "
        )
        self.link_name, self._link = get_link(link)
        self._index_value: Any = None
        self._user_model = model
        wrapped = model
        if self._codes is not None or self.keep_index:
            wrapped = self._model_on_original_values
            if not callable(model) and not hasattr(model, "predict"):
                adapt(model)  # raises the adapter's clear error for non-callables
        self.model = adapt(wrapped)
        self.batch_size = check_int(batch_size, name="batch_size", minimum=1)
        check_random_state(seed)  # validate now, use later
        self.seed = seed
        self.method = method
        self.order = int(order)
        null = self._predict(self.data.data)
        self.n_outputs = null.shape[1]
        self._fnull = self._link(self.data.weights @ null)
        names = check_output_names(output_names)
        if names is None:
            carried = getattr(self.model, "output_names", None) or carried_output_names(model)
            names = list(carried) if carried and len(carried) == self.n_outputs else None
        elif len(names) != self.n_outputs:
            raise ValueError(
                f"output_names has {len(names)} names but the model returns {self.n_outputs} "
                "output(s) per row; give one name per output."
            )
        self.output_names: list[str] | None = names

    def _model_on_original_values(self, z: np.ndarray) -> Any:
        """The user's model on rows given as codes (non-numeric data) or as a DataFrame."""
        rows = self._codes.decode(z) if self._codes is not None else z
        if self.keep_index:
            import pandas as pd

            index = None if self._index_value is None else np.repeat(self._index_value, len(z))
            rows = pd.DataFrame(rows, columns=self._columns, index=index)
            if self._dtypes is not None:
                rows = rows.astype(self._dtypes.to_dict())
            if self.keep_index_ordered and index is not None:
                rows = rows.sort_index()
        target = self._user_model
        if not callable(target) and hasattr(target, "predict"):
            target = target.predict
        return target(rows)

    def _predict(self, x: np.ndarray) -> np.ndarray:
        parts = [self.model(x[i : i + self.batch_size]) for i in range(0, len(x), self.batch_size)]
        return np.concatenate(parts, axis=0)

    @property
    def expected_value(self) -> float | np.ndarray:
        """link(E[f(data)]): a float for one output, an array of k values otherwise."""
        return float(self._fnull[0]) if self.n_outputs == 1 else self._fnull.copy()

    @staticmethod
    def not_equal(i: Any, j: Any) -> int:
        """shap's test of whether two cell values differ (1) or not (0): numbers (NaN equal to
        NaN) by ``allclose``, anything else by ``==``."""
        number_types = (int, float, np.number)
        if isinstance(i, number_types) and isinstance(j, number_types):
            return 0 if np.allclose(i, j, equal_nan=True) else 1
        if hasattr(i, "dtype") and hasattr(j, "dtype"):
            numeric = np.issubdtype(i.dtype, np.number) and np.issubdtype(j.dtype, np.number)
            boolean = np.issubdtype(i.dtype, np.bool_) and np.issubdtype(j.dtype, np.bool_)
            if numeric or boolean:
                return 0 if np.allclose(i, j, equal_nan=True) else 1
            return 0 if np.all(i == j) else 1
        return 0 if i == j else 1

    # ------------------------------------------------------------------ explaining
    def _check_x(self, X: Any) -> tuple[np.ndarray, bool, Any]:
        """Rows of ``X`` as floats (codes for non-numeric data), whether X was one row, and the
        row index values (DataFrame/Series input) for ``keep_index``."""
        single = getattr(X, "ndim", np.ndim(X)) == 1
        index = getattr(X, "index", None)
        if single:
            index = None if getattr(X, "name", None) is None else [X.name]
        if self._match_names is not None:
            X = select_columns(X, self._match_names, name="X")
        if self._codes is not None:
            X = self._codes.encode(X, name="X")
        x = check_array(X, name="X", ndim=(1, 2))
        if single:
            x = x[None]
        if x.shape[1] != self.n_features:
            raise ValueError(
                f"X has {x.shape[1]} features but the background data has {self.n_features}; "
                "pass rows with the same columns, in the same order, as `data`."
            )
        return x, single, None if index is None else np.asarray(index)

    def _nsamples(self, nsamples: Any) -> int:
        if nsamples is None:
            nsamples = self._defaults.get("nsamples", "auto")
        if isinstance(nsamples, str):
            if nsamples != "auto":
                raise ValueError(f"nsamples must be 'auto' or an integer; received {nsamples!r}.")
            return default_budget(self.n_features)
        return check_budget(nsamples, name="nsamples")

    def _option(self, name: str, value: Any) -> Any:
        return self._defaults.get(name, _CALL_DEFAULTS[name]) if value is None else value

    def explanation(
        self,
        X: Any,
        nsamples: int | str | None = None,
        l1_reg: Any = None,
        silent: bool | None = True,
        gc_collect: bool | None = None,
    ) -> Explanation:
        """Explain the rows of ``X``; returns a :class:`~seqshap.Explanation` (values and
        standard errors ``(n, M, k)``, exact flag, ``to_frame()``, ``save()``, plots)."""
        x, _, index = self._check_x(X)
        budget = self._nsamples(nsamples)
        l1 = _check_l1_reg(self._option("l1_reg", l1_reg))
        silent = self._option("silent", silent)
        gc_collect = self._option("gc_collect", gc_collect)
        seeds = np.random.SeedSequence(self.seed).spawn(len(x))
        estimates, rows = [], []
        iterator: Any = range(len(x))
        if not silent and len(x) > 1:  # a bar only for more than one row
            from tqdm.auto import tqdm  # a widget in notebooks, text elsewhere

            iterator = tqdm(iterator, desc="seqshap", unit="row")
        for i in iterator:
            self._index_value = None if index is None else index[i : i + 1]
            try:
                est, n_rows = self._explain_row(x[i], budget, l1, np.random.default_rng(seeds[i]))
            finally:
                self._index_value = None
            estimates.append(est)
            rows.append(n_rows)
            if gc_collect:
                gc.collect()
        return explanation_from_estimates(
            estimates,
            player_names=self.feature_names,
            output_names=self.output_names,
            data=np.full(x.shape, np.nan) if self._codes is not None else x,
            level="feature",
            budget=budget,
            seed=self.seed,
            link=self.link_name,
            n_model_rows=rows,
        )

    def explain(self, incoming_instance: Any, **kwargs: Any) -> np.ndarray:
        """shap's ``explain``: the values of ONE row, ``(M,)`` for one output, ``(M, k)`` for
        several. Keyword arguments as :meth:`shap_values`. For many rows use
        :meth:`shap_values`, ``explainer(X)`` or :meth:`explanation`."""
        unknown = set(kwargs) - set(_CALL_DEFAULTS)
        if unknown:
            raise TypeError(f"explain got unexpected keyword argument(s) {sorted(unknown)}.")
        n_rows = 1 if getattr(incoming_instance, "ndim", np.ndim(incoming_instance)) == 1 else None
        if n_rows is None:
            shape = getattr(incoming_instance, "shape", None)
            n_rows = shape[0] if shape is not None else len(incoming_instance)
            if n_rows != 1:
                raise ValueError(
                    f"incoming_instance must be one row (1-D, or 2-D with one row); received "
                    f"{n_rows} rows. Use shap_values(X) or explainer(X) for several rows."
                )
        kwargs.setdefault("silent", True)
        values = self.explanation(incoming_instance, **kwargs).values[0]
        return values[:, 0] if self.n_outputs == 1 else values

    def __call__(
        self,
        X: Any,
        l1_reg: Any = None,
        silent: bool | None = True,
        nsamples: int | str | None = None,
        gc_collect: bool | None = None,
    ) -> Any:
        """shap's ``explainer(X)``: a ``shap.Explanation`` when shap is installed (so that
        ``shap.plots.*`` take it), else a :class:`~seqshap._shap_like.ShapLikeExplanation` that
        indexes the same way. ``values`` is ``(n, M)`` for one output, ``(n, M, k)`` for several
        (no ``n`` axis for a 1-D ``X``); standard errors are in ``error_std``."""
        start = time.perf_counter()
        _, single, _ = self._check_x(X)
        exp = self.explanation(
            X, nsamples=nsamples, l1_reg=l1_reg, silent=silent, gc_collect=gc_collect
        )
        one = self.n_outputs == 1
        values = exp.values[:, :, 0] if one else exp.values
        errors = exp.std_errors[:, :, 0] if one else exp.std_errors
        base = exp.base_values[:, 0] if one else exp.base_values
        data = _plain_rows(X)
        if single:
            values, errors, base = values[0], errors[0], base[0]
            data = data.reshape(-1)
        kwargs = {
            "base_values": base,
            "data": data,
            "feature_names": list(self.feature_names),
            "error_std": errors,
        }
        if importlib.util.find_spec("shap") is not None:
            import shap

            return shap.Explanation(values, compute_time=time.perf_counter() - start, **kwargs)
        axes = ("feature",) if single else ("instance", "feature")
        if not one:
            axes += ("output",)
            kwargs["output_names"] = [f"Output {o}" for o in range(self.n_outputs)]
        return ShapLikeExplanation(values, axes=axes, **kwargs)

    def _explain_row(self, x: np.ndarray, budget: int, l1_reg: Any, rng: np.random.Generator):
        """One row: features equal to every background row are dummies (exactly 0) and drop out."""
        from .estimators.base import Estimate

        bg = self.data.data
        varying = np.flatnonzero((bg != x).any(axis=0))
        k = self.n_outputs
        if len(varying) == 0:
            fx = self._link(self._predict(x[None]))[0]
            est = Estimate(
                np.zeros((self.n_features, k)),
                np.zeros((self.n_features, k)),
                self._fnull.copy(),
                fx,
                1,
                self.method,
                exact=True,
            )
            return est, 1
        masks = np.zeros((len(varying), self.n_features), dtype=bool)
        masks[np.arange(len(varying)), varying] = True
        # cells no player covers keep x, which for non-varying features equals every background row
        game = MaskedGame(
            self.model,
            x,
            bg,
            masks,
            weights=self.data.weights,
            link=self.link_name,
            batch_size=self.batch_size,
            player_names=[self.feature_names[j] for j in varying],
        )
        kernel = self.method in ("kernel", "auto")
        options = {"l1_reg": l1_reg, "order": self.order} if kernel else {}
        est = estimate(game, self.method, budget=budget, seed=rng, **options)
        full_vals = np.zeros((self.n_features, k))
        full_se = np.zeros((self.n_features, k))
        full_vals[varying] = est.values
        full_se[varying] = est.std_errors
        est.values, est.std_errors = full_vals, full_se
        return est, game.n_model_rows

    def shap_values(
        self,
        X: Any,
        nsamples: int | str | None = None,
        l1_reg: Any = None,
        silent: bool | None = None,
        gc_collect: bool | None = None,
        **kwargs: Any,
    ) -> np.ndarray:
        """shap's layout: ``(n, M)`` for one output, ``(n, M, k)`` for several; a 1-D ``X`` drops n.

        Each row sums to ``f(x) − expected_value`` (in link space).
        """
        if kwargs:
            raise TypeError(f"shap_values got unexpected keyword argument(s) {sorted(kwargs)}.")
        _, single, _ = self._check_x(X)
        exp = self.explanation(
            X, nsamples=nsamples, l1_reg=l1_reg, silent=silent, gc_collect=gc_collect
        )
        values = exp.values[:, :, 0] if self.n_outputs == 1 else exp.values
        return values[0] if single else values

    # ------------------------------------------------------------------ persistence
    def save(self, file: str | Path) -> Path:
        """Write the explainer's background and settings to ``file`` (.npz); no pickle, no model."""
        path = Path(file)
        if path.suffix.lower() != ".npz":
            raise ValueError(f"file must end in .npz; received {str(path)!r}.")
        if self._codes is not None or self.keep_index:
            raise ValueError(
                "save() stores numeric backgrounds only; this explainer's data has non-numeric "
                "columns or keep_index=True. Keep the DataFrame yourself (e.g. to_parquet) and "
                "build the explainer again from it."
            )
        settings = {
            "format": "seqshap.KernelExplainer",
            "feature_names": self.feature_names,
            "link": self.link_name,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "method": self.method,
            "order": self.order,
            "output_names": self.output_names,
        }
        np.savez_compressed(
            path,
            data=self.data.data,
            weights=self.data.weights,
            settings=np.array(json.dumps(settings)),
        )
        return path

    @classmethod
    def load(cls, file: str | Path, model: Any) -> KernelExplainer:
        """Rebuild an explainer saved with :meth:`save`; pass the model again."""
        path = Path(file)
        if not path.exists():
            raise FileNotFoundError(f"file {str(path)!r} does not exist.")
        with reading_saved_file(path, "KernelExplainer (KernelExplainer.save)"):
            with open(path, "rb") as fh, np.load(fh, allow_pickle=False) as npz:
                settings = json.loads(str(npz["settings"]))
                data = Background(npz["data"], npz["weights"])
            if not isinstance(settings, dict) or settings.get("format") != (
                "seqshap.KernelExplainer"
            ):
                raise ValueError(f"{str(path)!r} was not written by KernelExplainer.save().")
            output_names = settings.get("output_names")  # absent in files of older versions
            # files written before order=3 became the default ran the linear fit
            order = settings.get("order", 1)
            settings = {k: settings[k] for k in _SAVED_SETTINGS}
        return cls(
            model,
            data,
            feature_names=settings["feature_names"],
            link=settings["link"],
            batch_size=settings["batch_size"],
            seed=settings["seed"],
            method=settings["method"],
            output_names=output_names,
            order=order,
        )


_SAVED_SETTINGS = ("feature_names", "link", "batch_size", "seed", "method")


def _check_l1_reg(l1_reg: Any) -> Any:
    if l1_reg is False or l1_reg is None or l1_reg == "auto":
        return False
    if isinstance(l1_reg, str):
        if l1_reg in ("aic", "bic") or _L1_PATTERN.fullmatch(l1_reg):
            return l1_reg
    elif isinstance(l1_reg, numbers.Real) and not isinstance(l1_reg, bool) and l1_reg > 0:
        return float(l1_reg)
    raise ValueError(
        "l1_reg must be 'auto' (no selection), False, 'num_features(k)', 'aic', 'bic' or a "
        f"positive float alpha; received {l1_reg!r}."
    )


def _call_defaults(kwargs: dict[str, Any]) -> dict[str, Any]:
    """Per-call options given to the constructor: kept as defaults (with a warning where shap's
    answer would differ, since shap ignores them there); invalid values ignored with a warning."""
    defaults: dict[str, Any] = {}
    for name, value in kwargs.items():
        try:
            if name == "nsamples" and value != "auto":
                check_budget(value, name="nsamples")
            elif name == "l1_reg":
                _check_l1_reg(value)
        except (TypeError, ValueError) as exc:
            warnings.warn(
                f"KernelExplainer({name}={value!r}) is ignored, as shap ignores it: {exc} "
                f"Pass {name} to shap_values() or explainer(X) instead.",
                UserWarning,
                stacklevel=3,
            )
            continue
        defaults[name] = value
        if name in ("nsamples", "l1_reg"):
            warnings.warn(
                f"KernelExplainer({name}={value!r}): shap ignores {name} given to the "
                "constructor; seqshap uses it as the default of shap_values(), explain() and "
                "explainer(X).",
                UserWarning,
                stacklevel=3,
            )
    return defaults


def _is_numeric_dtype(dtype: Any) -> bool:
    return np.dtype(dtype).kind in "fiuc" if isinstance(dtype, np.dtype) else False


class _Codes:
    """Integer codes for the values of non-numeric columns (strings, booleans, categories,
    objects, dates): the game swaps whole cells between the row and the background, so it can
    work on codes while the model receives the original values (``decode``)."""

    def __init__(self, columns: list[list[Any]]):
        self.values = columns
        self.lookup = [{_key(v): i for i, v in enumerate(col)} for col in columns]

    @classmethod
    def for_data(cls, data: Any) -> _Codes | None:
        if hasattr(data, "dtypes") and hasattr(data, "columns"):  # DataFrame
            numeric = all(_is_numeric_dtype(t) for t in data.dtypes)
            width = data.shape[1]
        elif isinstance(data, np.ndarray):
            numeric = _is_numeric_dtype(data.dtype)
            width = data.shape[1] if data.ndim == 2 else 0
        else:
            return None
        if numeric:
            return None
        return cls([[] for _ in range(width)])

    def encode(self, data: Any, name: str = "data") -> np.ndarray:
        rows = data.to_numpy(dtype=object) if hasattr(data, "to_numpy") else np.asarray(data)
        rows = np.asarray(rows, dtype=object)
        one = rows.ndim == 1
        rows = rows[None] if one else rows
        if rows.ndim != 2 or rows.shape[1] != len(self.values):
            raise ValueError(
                f"{name} must have {len(self.values)} columns like the background data; "
                f"received shape {np.shape(data)}."
            )
        codes = np.empty(rows.shape, dtype=float)
        for j, (col, lookup) in enumerate(zip(self.values, self.lookup, strict=True)):
            for i, v in enumerate(rows[:, j]):
                k = _key(v)
                if k not in lookup:
                    lookup[k] = len(col)
                    col.append(v)
                codes[i, j] = lookup[k]
        return codes[0] if one else codes

    def decode(self, codes: np.ndarray) -> np.ndarray:
        codes = np.asarray(codes).astype(np.int64)
        out = np.empty(codes.shape, dtype=object)
        for j, col in enumerate(self.values):
            out[:, j] = np.asarray(col, dtype=object)[codes[:, j]]
        return out


def _key(value: Any) -> Any:
    """Hashable identity of a cell value, NaN equal to NaN (as shap's ``not_equal``)."""
    if value is None or (isinstance(value, float | np.floating) and np.isnan(value)):
        return ("nan",)
    if isinstance(value, np.generic):
        return (type(value).__name__, value.item())
    return (type(value).__name__, value)


def _plain_rows(X: Any) -> np.ndarray:
    """X as shap puts it in ``Explanation.data``: DataFrames and sparse matrices as arrays."""
    if hasattr(X, "toarray") and hasattr(X, "nnz"):
        return X.toarray()
    if hasattr(X, "to_numpy"):
        return X.to_numpy()
    return np.asarray(X)
