"""The explanation object of the lime-compatible API (``lime.explanation.Explanation``'s interface).

Attributes as in lime: ``local_exp`` (label → ``[(feature_id, weight), ...]`` sorted by
``|weight|``), ``intercept`` (label → float), ``score`` and ``local_pred`` (of the last label
fitted, as lime keeps them; every label's in ``scores`` / ``local_preds``), ``predict_proba``
(classification) or ``predicted_value``, ``min_value``, ``max_value`` (regression),
``class_names``, ``mode``, ``top_labels``. Methods: ``available_labels()``, ``as_list()``,
``as_map()``, ``as_pyplot_figure()``, ``as_html()``, ``save_to_file()``, and
``to_explanation()`` for seqshap's plots and tables.

The HTML page is self-contained (no JavaScript bundle, no network): every user string (texts,
feature and class names) is escaped.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from ..explanation import Explanation


class LimeExplanation:
    """What ``explain_instance`` returns (see the module docstring)."""

    def __init__(
        self,
        *,
        mode: str,
        feature_names: list[str],
        class_names: list[str] | None,
        domain: str,
        text: str | None = None,
        feature_spans: list[list[tuple[int, int]]] | None = None,
        feature_values: np.ndarray | None = None,
    ):
        self.mode = mode
        self.feature_names = list(feature_names)
        self.class_names = class_names
        self.domain = domain
        self.text = text
        self.feature_spans = feature_spans
        self.feature_values = feature_values
        self.local_exp: dict[int, list[tuple[int, float]]] = {}
        self.intercept: dict[int, float] = {}
        self.scores: dict[int, float] = {}
        self.local_preds: dict[int, np.ndarray] = {}
        self.score: float | None = None
        self.local_pred: np.ndarray | None = None
        self.top_labels: list[int] | None = None
        self.predict_proba: np.ndarray | None = None
        self.predicted_value: float | None = None
        self.min_value = 0.0
        self.max_value = 1.0
        self.dummy_label = 1
        #: seqshap extras: coalitions evaluated (= num_samples) and the estimate itself
        self.n_evaluations = 0
        self.estimate: Any = None

    # ------------------------------------------------------------------ lime's accessors
    def available_labels(self) -> list[int]:
        if self.mode != "classification":
            raise NotImplementedError("Not supported for regression explanations.")
        return list(self.top_labels) if self.top_labels else list(self.local_exp.keys())

    def _label(self, label: int) -> int:
        use = label if self.mode == "classification" else self.dummy_label
        if use not in self.local_exp:
            raise KeyError(
                f"label {label} was not explained; explained labels: {sorted(self.local_exp)}. "
                f"Pass labels=({label},) or top_labels to explain_instance."
            )
        return use

    def as_list(self, label: int = 1, *, positions: bool = False) -> list[tuple[str, float]]:
        """``[(feature name, weight), ...]`` sorted by ``|weight|`` (text: the word)."""
        out = []
        for fid, w in self.local_exp[self._label(label)]:
            name = self.feature_names[fid]
            if positions and self.feature_spans is not None:
                name = f"{name}_{'-'.join(str(s) for s, _ in self.feature_spans[fid])}"
            out.append((name, float(w)))
        return out

    def as_map(self) -> dict[int, list[tuple[int, float]]]:
        """label → ``[(feature id, weight), ...]``."""
        return self.local_exp

    # ------------------------------------------------------------------ seqshap view
    def to_explanation(self, label: int = 1) -> Explanation:
        """A seqshap :class:`Explanation` of one label (unselected features at 0).

        Text explanations are spread over token positions (level "token", in reading order), so
        that :func:`seqshap.plots.text_plot` and ``text_html`` can draw them.
        """
        use = self._label(label)
        weights = np.zeros(len(self.feature_names))
        errors = np.zeros(len(self.feature_names))
        est_label = use if self.mode == "classification" else 0
        for fid, w in self.local_exp[use]:
            weights[fid] = w
            if self.estimate is not None:
                errors[fid] = self.estimate.std_errors[fid, est_label]
        name = self._class_name(use)
        pred = float(self.local_preds.get(use, np.array([np.nan])).reshape(-1)[0])
        base = float(self.intercept[use])
        if self.domain == "text" and self.feature_spans is not None and self.text is not None:
            pos = sorted(
                (s, e, fid) for fid, spans in enumerate(self.feature_spans) for s, e in spans
            )
            names = [self.text[s:e] for s, e, _ in pos]
            values = np.array([weights[fid] for _, _, fid in pos])
            errors = np.array([errors[fid] for _, _, fid in pos])
            level = "token"
        else:
            names, values, level = self.feature_names, weights, "cell"
        return Explanation(
            values=values[None, :, None],
            std_errors=errors[None, :, None],
            base_values=[[base]],
            outputs=[[base + values.sum() if np.isnan(pred) else pred]],
            player_names=names,
            output_names=[name],
            level=level,
            method="lime",
            meta={"lime_label": int(use), "lime_score": self.scores.get(use)},
        )

    def _class_name(self, label: int) -> str:
        if self.mode != "classification":
            return "prediction"
        if self.class_names is not None and 0 <= label < len(self.class_names):
            return str(self.class_names[label])
        return str(label)

    # ------------------------------------------------------------------ figures and HTML
    def as_pyplot_figure(
        self,
        label: int = 1,
        *,
        figsize: tuple[float, float] | None = None,
        ax: Any = None,
        **kwargs: Any,
    ) -> Any:
        """A horizontal bar chart of :meth:`as_list` (lime's figure); returns the Figure."""
        from .._optional import import_optional

        plt = import_optional("matplotlib.pyplot", "as_pyplot_figure()")
        exp = self.as_list(label=label, **kwargs)[::-1]
        if ax is None:
            fig, ax = plt.subplots(
                figsize=figsize or (6.0, 0.6 + 0.35 * max(len(exp), 1)), layout="constrained"
            )
        else:
            fig = ax.figure
        vals = [w for _, w in exp]
        pos = np.arange(len(exp))
        ax.barh(pos, vals, align="center", color=["#1a9850" if v > 0 else "#d73027" for v in vals])
        ax.set_yticks(pos, [str(n) for n, _ in exp])
        ax.axvline(0.0, color="#444", linewidth=0.8)
        title = "Local explanation"
        if self.mode == "classification":
            title += f" for class {self._class_name(self._label(label))}"
        ax.set_title(title)
        ax.set_xlabel("weight (LIME surrogate coefficient)")
        return fig

    def as_html(
        self,
        labels: Any = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> str:
        """A self-contained HTML page (no scripts; every user string escaped)."""
        esc = _esc
        if labels is None:
            labels = (
                self.available_labels() if self.mode == "classification" else [self.dummy_label]
            )
        parts = [
            "<!DOCTYPE html><html><head><meta charset='utf-8'><title>LIME explanation</title>",
            f"<style>{_CSS}</style></head><body><h1>Local explanation (seqshap LIME)</h1>",
        ]
        if self.mode == "classification" and predict_proba and self.predict_proba is not None:
            rows = "".join(
                f"<tr><td>{esc(self._class_name(j))}</td><td>{_bar(p, 1.0, '#4575b4')}</td>"
                f"<td>{p:.3f}</td></tr>"
                for j, p in enumerate(np.asarray(self.predict_proba, dtype=float))
            )
            parts.append(f"<h2>Prediction probabilities</h2><table>{rows}</table>")
        if self.mode == "regression" and show_predicted_value and self.predicted_value is not None:
            parts.append(
                f"<h2>Predicted value</h2><p>{self.predicted_value:.4g} (neighbourhood range "
                f"{self.min_value:.4g} to {self.max_value:.4g})</p>"
            )
        if self.domain == "text" and self.text is not None:
            parts.append(f"<h2>Text</h2><p class='text'>{esc(self.text)}</p>")
        for label in labels:
            exp = self.as_list(label=label, **kwargs)
            top = max([abs(w) for _, w in exp] + [1e-12])
            rows = "".join(
                f"<tr><td>{esc(n)}</td><td>{_bar(w, top, '#1a9850' if w > 0 else '#d73027')}</td>"
                f"<td>{w:+.4f}</td></tr>"
                for n, w in exp
            )
            use = self._label(label)
            score = self.scores.get(use)
            note = (
                "" if score is None else f" <span class='note'>(surrogate R² = {score:.3f})</span>"
            )
            parts.append(f"<h2>{esc(self._class_name(use))}{note}</h2><table>{rows}</table>")
            if self.domain == "text":
                parts.append(self._text_html(label))
            elif self.feature_values is not None:
                vals = "".join(
                    f"<tr><td>{esc(self.feature_names[fid])}</td><td>{self.feature_values[fid]:.4g}</td></tr>"
                    for fid, _ in self.local_exp[use]
                )
                parts.append(f"<h3>Feature values</h3><table>{vals}</table>")
        parts.append("</body></html>")
        return "".join(parts)

    def _text_html(self, label: int) -> str:
        try:
            from ..plots import text_html
        except ImportError:  # plots not available: plain escaped text
            return f"<p>{_esc(self.text or '')}</p>"
        return text_html(self.to_explanation(label))

    def save_to_file(
        self,
        file_path: str | Path,
        labels: Any = None,
        predict_proba: bool = True,
        show_predicted_value: bool = True,
        **kwargs: Any,
    ) -> None:
        """Write :meth:`as_html` to ``file_path`` (UTF-8)."""
        Path(file_path).write_text(
            self.as_html(labels, predict_proba, show_predicted_value, **kwargs), encoding="utf-8"
        )

    def show_in_notebook(
        self, labels: Any = None, predict_proba: bool = True, **kwargs: Any
    ) -> None:
        from .._optional import import_optional

        display = import_optional("IPython.display", "show_in_notebook()")
        display.display(display.HTML(self.as_html(labels, predict_proba, **kwargs)))

    def __repr__(self) -> str:
        labels = sorted(self.local_exp)
        return f"<LimeExplanation mode={self.mode!r} domain={self.domain!r} labels={labels}>"


def _esc(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _bar(value: float, top: float, color: str) -> str:
    width = 0.0 if top <= 0 else min(100.0, 100.0 * abs(value) / top)
    return (
        f"<div class='track'><div class='fill' style='width:{width:.1f}%;background:{color}'>"
        "</div></div>"
    )


_CSS = (
    "body{font-family:system-ui,sans-serif;margin:1.5em;color:#222}"
    "table{border-collapse:collapse;margin:0.4em 0 1em}"
    "td{padding:2px 8px;vertical-align:middle}"
    ".track{width:180px;background:#eee;height:12px}.fill{height:12px}"
    ".note{font-size:0.7em;color:#666;font-weight:normal}"
    ".text{white-space:pre-wrap;max-width:60em}"
)


def fill_from_estimate(
    exp: LimeExplanation,
    estimate: Any,
    labels: Any,
    top_labels: int | None,
    num_features: int,
) -> LimeExplanation:
    """Copy a ``lime_surrogate`` estimate into ``exp`` for ``labels`` (lime's bookkeeping)."""
    coef = estimate.values  # (M, k)
    m, k = coef.shape
    full = np.asarray(estimate.full, dtype=float)
    if exp.mode == "classification":
        exp.predict_proba = full.copy()
        if top_labels:
            chosen = [int(j) for j in np.argsort(full)[-int(top_labels) :]][::-1]
            exp.top_labels = list(chosen)
        else:
            chosen = [int(j) for j in labels]
        for j in chosen:
            if not 0 <= j < k:
                raise ValueError(
                    f"labels must be output indices 0..{k - 1} of classifier_fn; received {j}."
                )
    else:
        exp.predicted_value = float(full[0])
        chosen = [0]
    keep = min(int(num_features), m)
    for j in chosen:
        order = np.argsort(-np.abs(coef[:, j]), kind="stable")[:keep]
        exp.local_exp[j] = [(int(f), float(coef[f, j])) for f in order]
        exp.intercept[j] = float(estimate.base[j])
        exp.scores[j] = float(estimate.extras["score"][j])
        exp.local_preds[j] = np.array([float(estimate.extras["local_pred"][j])])
        exp.score, exp.local_pred = exp.scores[j], exp.local_preds[j]
    if exp.mode == "regression":  # lime's convention: label 1 is the prediction, 0 its negative
        exp.intercept[1] = exp.intercept[0]
        exp.scores[1], exp.local_preds[1] = exp.scores[0], exp.local_preds[0]
        exp.local_exp[1] = list(exp.local_exp[0])
        exp.local_exp[0] = [(f, -w) for f, w in exp.local_exp[1]]
    exp.n_evaluations = int(estimate.n_evaluations)
    exp.estimate = estimate
    return exp
