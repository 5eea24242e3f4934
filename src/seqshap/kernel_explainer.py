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
  value carries a standard error (``explainer(X).std_errors``).
* Results do not depend on ``batch_size``; a ``seed`` makes them reproducible without touching
  numpy's global random state.
* ``save`` writes JSON + npz (no pickle); ``load(path, model)`` takes the model back, since a
  model cannot be stored safely without pickle.
"""

from __future__ import annotations

import gc
import json
import numbers
import re
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import (
    check_array,
    check_budget,
    check_int,
    check_names,
    check_output_names,
    check_random_state,
)
from .background import Background, as_background
from .estimators import default_budget, estimate
from .explanation import Explanation, explanation_from_estimates
from .games import MaskedGame
from .links import get_link
from .models import adapt

_L1_PATTERN = re.compile(r"num_features\(\d+\)")
_SHAP_KWARGS = {"keep_index", "keep_index_ordered"}


class KernelExplainer:
    """Shapley values of any function of a feature matrix (KernelSHAP).

    Parameters
    ----------
    model : callable mapping ``(n_samples, n_features)`` to a vector or ``(n_samples, k)``.
    data : background rows standing in for absent features — numpy array, pandas DataFrame
        (feature names from its columns), scipy.sparse matrix, or a summary from
        :func:`seqshap.kmeans` / :func:`seqshap.sample` (or ``shap.kmeans``).
    feature_names : names of the columns (default: DataFrame columns, else ``"Feature i"``).
    output_names : names of the model's k outputs (default: the names the model carries, e.g.
        a scikit-learn classifier's ``classes_``, else ``"output 0"`` …).
    link : ``"identity"`` or ``"logit"`` (values then explain log-odds).
    batch_size : most rows per model call.
    seed : seed of the local random generator (None: fresh entropy each call).
    method : ``"kernel"`` (default), ``"exact"``, ``"permutation"`` or ``"auto"``.
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
        output_names: list[str] | None = None,
        **kwargs: Any,
    ):
        unknown = set(kwargs) - _SHAP_KWARGS
        if unknown:
            raise TypeError(
                f"KernelExplainer got unexpected keyword argument(s) {sorted(unknown)}; accepted are "
                "model, data, feature_names, link, batch_size, seed, method, output_names."
            )
        if method not in ("kernel", "exact", "permutation", "auto"):
            raise ValueError(
                f"method must be 'kernel', 'exact', 'permutation' or 'auto'; received {method!r}."
            )
        if feature_names is None and hasattr(data, "columns"):
            feature_names = [str(c) for c in data.columns]
        self.data: Background = as_background(data, name="data", ndim=2)
        self.n_features = self.data.data.shape[1]
        self.feature_names = check_names(
            feature_names, n=self.n_features, name="feature_names", default_prefix="Feature "
        )
        self.link_name, self._link = get_link(link)
        self.model = adapt(model)
        self.batch_size = check_int(batch_size, name="batch_size", minimum=1)
        check_random_state(seed)  # validate now, use later
        self.seed = seed
        self.method = method
        null = self._predict(self.data.data)
        self.n_outputs = null.shape[1]
        self._fnull = self._link(self.data.weights @ null)
        names = check_output_names(output_names)
        if names is None:
            carried = getattr(self.model, "output_names", None)
            names = list(carried) if carried and len(carried) == self.n_outputs else None
        elif len(names) != self.n_outputs:
            raise ValueError(
                f"output_names has {len(names)} names but the model returns {self.n_outputs} "
                "output(s) per row; give one name per output."
            )
        self.output_names: list[str] | None = names

    def _predict(self, x: np.ndarray) -> np.ndarray:
        parts = [self.model(x[i : i + self.batch_size]) for i in range(0, len(x), self.batch_size)]
        return np.concatenate(parts, axis=0)

    @property
    def expected_value(self) -> float | np.ndarray:
        """link(E[f(data)]): a float for one output, an array of k values otherwise."""
        return float(self._fnull[0]) if self.n_outputs == 1 else self._fnull.copy()

    # ------------------------------------------------------------------ explaining
    def _check_x(self, X: Any) -> tuple[np.ndarray, bool]:
        single = getattr(X, "ndim", np.ndim(X)) == 1
        x = check_array(X, name="X", ndim=(1, 2))
        if single:
            x = x[None]
        if x.shape[1] != self.n_features:
            raise ValueError(
                f"X has {x.shape[1]} features but the background data has {self.n_features}; "
                "pass rows with the same columns, in the same order, as `data`."
            )
        return x, single

    def _nsamples(self, nsamples: Any) -> int:
        if isinstance(nsamples, str):
            if nsamples != "auto":
                raise ValueError(f"nsamples must be 'auto' or an integer; received {nsamples!r}.")
            return default_budget(self.n_features)
        return check_budget(nsamples, name="nsamples")

    def explain(
        self,
        X: Any,
        nsamples: int | str = "auto",
        l1_reg: Any = "auto",
        silent: bool = True,
        gc_collect: bool = False,
    ) -> Explanation:
        """Explain the rows of ``X``; returns an :class:`~seqshap.Explanation`."""
        x, _ = self._check_x(X)
        budget = self._nsamples(nsamples)
        l1 = _check_l1_reg(l1_reg)
        seeds = np.random.SeedSequence(self.seed).spawn(len(x))
        estimates, rows = [], []
        iterator: Any = range(len(x))
        if not silent and len(x) > 1:  # a bar only for work that can take a while
            from tqdm.auto import tqdm  # notebook widget in Jupyter, text elsewhere

            iterator = tqdm(iterator, desc="seqshap", unit="row")
        for i in iterator:
            est, n_rows = self._explain_row(x[i], budget, l1, np.random.default_rng(seeds[i]))
            estimates.append(est)
            rows.append(n_rows)
            if gc_collect:
                gc.collect()
        return explanation_from_estimates(
            estimates,
            player_names=self.feature_names,
            output_names=self.output_names,
            data=x,
            level="feature",
            budget=budget,
            seed=self.seed,
            link=self.link_name,
            n_model_rows=rows,
        )

    __call__ = explain

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
        options = {"l1_reg": l1_reg} if self.method in ("kernel", "auto") else {}
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
        nsamples: int | str = "auto",
        l1_reg: Any = "auto",
        silent: bool = False,
        gc_collect: bool = False,
        **kwargs: Any,
    ) -> np.ndarray:
        """shap's layout: ``(n, M)`` for one output, ``(n, M, k)`` for several; a 1-D ``X`` drops n.

        Each row sums to ``f(x) − expected_value`` (in link space).
        """
        unknown = set(kwargs) - {"nsamples", "l1_reg", "silent", "gc_collect"}
        if unknown:
            raise TypeError(f"shap_values got unexpected keyword argument(s) {sorted(unknown)}.")
        _, single = self._check_x(X)
        exp = self.explain(
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
        settings = {
            "format": "seqshap.KernelExplainer",
            "feature_names": self.feature_names,
            "link": self.link_name,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "method": self.method,
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
        with np.load(path, allow_pickle=False) as npz:
            settings = json.loads(str(npz["settings"]))
            data = Background(npz["data"], npz["weights"])
        if settings.get("format") != "seqshap.KernelExplainer":
            raise ValueError(f"{str(path)!r} was not written by KernelExplainer.save().")
        return cls(
            model,
            data,
            feature_names=settings["feature_names"],
            link=settings["link"],
            batch_size=settings["batch_size"],
            seed=settings["seed"],
            method=settings["method"],
            output_names=settings.get("output_names"),
        )


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
