"""``report(...)``: one self-contained, offline, interactive HTML file from explanations.

It draws with :mod:`seqshap.plots` and reads tables from the results; it computes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..explanation import Explanation
from ..plots._text import TEXT_LEVELS
from ..sequence.global_run import GlobalRun
from ._html import esc, num, page, table

_LEVEL_ORDER = ("event", "feature", "cell", "window")
_IMAGE_FORMATS = ("svg", "png")
PREDICTED = "predicted"
#: tolerances shown beside the run's own in pruning tables and statistics
TOL_LADDER = (0.01, 0.025, 0.05, 0.1, 0.2)

#: one "how to read this" line per view
HOW = {
    "pruning": "How to read: the solid line is the value of all events before t together; once "
    "it stays inside the grey band (± tolerance) those older events are grouped into “Pruned "
    "Events”. The dotted line marks where that happens.",
    "event": "How to read: one row per event (most recent first); orange pushes the output up, "
    "blue down, darker is stronger. Hatched cells: the 95% interval includes 0, so the sign is "
    "not established. Long sequences show the largest events and one row summing the rest.",
    "cell": "How to read: each cell is one (event, feature) pair, coloured by its attribution; "
    "“Other …” rows and columns group what is not shown alone; hatched = 95% interval includes 0.",
    "waterfall": "How to read: start at the base value E[f] at the bottom; each bar adds one "
    "player's attribution until f(x) at the top. Whiskers are ±1 standard error.",
    "text": "How to read: tokens are shaded by attribution (orange raises the score, blue lowers "
    "it); the bar chart ranks them.",
    "pruning_stats": "How to read: bar height is the mean number of events kept per tolerance; "
    "whiskers are ±1 std over sequences, cut at 0 and at the sequence length.",
    "global_event": "How to read: each dot is one event of one sequence at its position t (−1 = "
    "most recent); the black line is the mean per t. Hollow dots: the 95% interval includes 0.",
    "global_feature": "How to read: each dot is one sequence's attribution to the feature; the "
    "diamond is the mean; features are sorted by mean |attribution|. Hollow: interval includes 0.",
    "bar": "How to read: mean |attribution| per player over the instances; longer bars matter more.",
    "beeswarm": "How to read: one dot per instance and player, placed by its attribution and "
    "coloured by the feature value (red high, blue low).",
    "heatmap": "How to read: players (rows) × instances (columns) coloured by attribution; "
    "hatched cells: the 95% interval includes 0.",
}


def report(
    local: Any = None,
    global_: Any = None,
    *,
    path: str | Path | None = None,
    title: str = "seqshap report",
    output: int | str | None = None,
    max_display: int = 15,
    max_instances: int = 10,
    pruning_tols: Sequence[float] | None = None,
    labels: Any = None,
    image_format: str = "svg",
) -> str:
    """Write one self-contained HTML report and return its text.

    Parameters
    ----------
    local : what to show one sequence at a time — a ``LocalExplanation`` (pruning, event,
        feature, cell levels), an :class:`~seqshap.Explanation` (any level, ``"token"``
        included; each instance up to ``max_instances`` gets a section), or a list / dict
        (name → item) of those.
    global_ : a :class:`~seqshap.GlobalRun` (``explainer.explain_global(X)`` or
        ``explain_many(...)``: pruning statistics, global event and feature plots) or an
        Explanation over many instances (mean |value| bars, beeswarm, heatmap).
    path : where to write the file (UTF-8); nothing is written when None.
    title : page title (escaped like every user string).
    output : one output (index or name); ``"predicted"``: each sequence's own top output (its
        predicted class); None (default): every output in local sections and, for a global
        result with several outputs, ``"predicted"`` — one section per predicted class in which
        each sequence is explained for the class it is predicted as.
    max_display : players shown per plot before the rest are grouped.
    pruning_tols : tolerances for the pruning tables and statistics (default: the run's own
        and 0.01, 0.025, 0.05, 0.1, 0.2 where the curves answer them).
    labels : true labels of the global result's sequences: a list in their order or a dict
        ``{entity: label}``; the sequences table then shows them beside the predicted class.
    image_format : ``"svg"`` (inline vector plots, values on hover) or ``"png"`` (base64).

    The file needs no network: plots are inline SVG (or data-URI PNG), CSS and JS are inline,
    and a Content-Security-Policy forbids any request. Tables sort on a header click.
    """
    if local is None and global_ is None:
        raise ValueError(
            "report needs something to show; pass local=explainer.explain(x) and/or "
            "global_=explainer.explain_global(X) (or Explanation objects)."
        )
    if image_format not in _IMAGE_FORMATS:
        raise ValueError(f"image_format must be 'svg' or 'png'; received {image_format!r}.")
    if not isinstance(title, str):
        raise TypeError(f"title must be a str; received {type(title).__name__}.")
    for name, val, low in (("max_display", max_display, 1), ("max_instances", max_instances, 1)):
        if isinstance(val, bool) or not isinstance(val, int) or val < low:
            raise ValueError(f"{name} must be an int >= {low}; received {val!r}.")
    target = None
    if path is not None:
        target = Path(path)
        if target.is_dir():
            raise ValueError(
                f"path must be a file such as {str(target / 'report.html')!r}; received a directory."
            )
    builder = _Builder(
        output=output, max_display=max_display, image_format=image_format, tols=pruning_tols
    )
    nav: list[tuple[str, str]] = []
    parts: list[str] = []
    if local is not None:
        for name, item in _local_items(local, max_instances):
            anchor = builder.anchor("local")
            nav.append((anchor, f"Local: {name}"))
            parts.append(builder.local_section(anchor, name, item))
    if global_ is not None:
        anchor = builder.anchor("global")
        nav.append((anchor, "Global"))
        parts.append(builder.global_section(anchor, global_, pruning_tols, labels))
    from .. import __version__

    text = page(
        title,
        nav,
        "\n".join(parts),
        subtitle=f"{builder.n_plots} plot(s) · hover a bar or cell for its value · click a "
        "table header to sort",
        footer=f"seqshap {__version__} · self-contained: no network requests",
    )
    if target is not None:
        target.write_text(text, encoding="utf-8")
    return text


# ---------------------------------------------------------------------------- inputs
def _is_local_result(obj: Any) -> bool:
    return any(isinstance(getattr(obj, lvl, None), Explanation) for lvl in _LEVEL_ORDER) or (
        hasattr(obj, "pruning") and hasattr(obj, "levels")
    )


def _is_global_result(obj: Any) -> bool:
    if isinstance(obj, GlobalRun):
        return True
    return hasattr(obj, "locals") and (hasattr(obj, "event_frame") or hasattr(obj, "feature_frame"))


def _local_items(local: Any, max_instances: int) -> list[tuple[str, Any]]:
    if isinstance(local, Mapping):
        pairs = [(str(k), v) for k, v in local.items()]
    elif isinstance(local, Sequence) and not isinstance(local, str | bytes):
        pairs = [(None, v) for v in local]
    else:
        pairs = [(None, local)]
    items: list[tuple[str, Any]] = []
    for k, (name, obj) in enumerate(pairs):
        if _is_global_result(obj):
            raise TypeError(
                "local received a global result; pass it as report(global_=result), or one "
                "sequence as report(local=result[0])."
            )
        if isinstance(obj, Explanation):
            for i in range(min(obj.n_instances, max_instances)):
                label = name or _entity_of(obj, i) or f"{obj.level} explanation {k}"
                if obj.n_instances > 1:
                    label = f"{label} · instance {i}"
                items.append((label, obj[i]))
        elif _is_local_result(obj):
            entity = getattr(obj, "entity", None)
            items.append(
                (name or (f"entity {entity}" if entity is not None else f"sequence {k}"), obj)
            )
        else:
            raise TypeError(
                "local must be a LocalExplanation (explainer.explain(x)), an Explanation, or a "
                f"list/dict of them; received {type(obj).__name__}."
            )
    return items


def _entity_of(exp: Explanation, i: int) -> str | None:
    per = exp.meta.get("per_instance") if isinstance(exp.meta, dict) else None
    if isinstance(per, dict) and "entity" in per and i < len(per["entity"]):
        return f"entity {per['entity'][i]}"
    ent = exp.meta.get("entity") if isinstance(exp.meta, dict) else None
    return None if ent is None else f"entity {ent}"


# ---------------------------------------------------------------------------- builder
class _Builder:
    def __init__(
        self,
        *,
        output: int | str | None,
        max_display: int,
        image_format: str,
        tols: Sequence[float] | None = None,
    ) -> None:
        self.output = output
        self.max_display = max_display
        self.image_format = image_format
        self.tols = tols
        self.predicted_name: str | None = None
        self.n_plots = 0
        self._anchors = 0

    def anchor(self, kind: str) -> str:
        self._anchors += 1
        return f"{kind}-{self._anchors}"

    # ------------------------------------------------------------ figures
    def figure(self, draw: Any, label: str, caption: str = "") -> str:
        import matplotlib.pyplot as plt

        from ._svg import figure_to_png_data_uri, figure_to_svg

        ax = draw()
        fig = ax.figure
        try:
            if self.image_format == "svg":
                markup = figure_to_svg(fig, label=label)
            else:
                markup = (
                    f'<img class="plot" alt="{esc(label)}" src="{figure_to_png_data_uri(fig)}">'
                )
        finally:
            plt.close(fig)
        self.n_plots += 1
        cap = f"<figcaption>{esc(caption)}</figcaption>" if caption else ""
        return f"<figure>{markup}{cap}</figure>"

    def outputs_of(self, exp: Explanation) -> list[int]:
        if self.output is None:
            return list(range(exp.n_outputs))
        if self.output == PREDICTED and PREDICTED not in exp.output_names:
            return [int(np.argmax(exp.outputs[0]))]
        from ..plots._common import output_index

        return [output_index(exp, self.output)]

    # ------------------------------------------------------------ local
    def local_section(self, anchor: str, name: str, item: Any) -> str:
        out = [
            f'<section class="report-part" id="{esc(anchor)}"><h2>Local report — {esc(name)}</h2>'
        ]
        if isinstance(item, Explanation):
            out.append(self.summary_cards(item))
            out.append(self.level_block(item))
            out.append("</section>")
            return "\n".join(out)
        levels = {lvl: getattr(item, lvl, None) for lvl in _LEVEL_ORDER}
        levels = {k: v for k, v in levels.items() if isinstance(v, Explanation)}
        first = next(iter(levels.values()), None)
        self.predicted_name = None
        if first is not None:
            out.append(self.summary_cards(first))
            self.predicted_name = first.output_names[int(np.argmax(first.outputs[0]))]
        pruning = getattr(item, "pruning", None)
        if pruning is not None and isinstance(getattr(pruning, "curve", None), pd.DataFrame):
            out.append(self.pruning_block(pruning))
        for exp in levels.values():
            out.append(self.level_block(exp))
        out.append("</section>")
        return "\n".join(out)

    def summary_cards(self, exp: Explanation) -> str:
        cards = []
        for o in self.outputs_of(exp):
            oname = exp.output_names[o]
            fx, base = exp.outputs[0, o], exp.base_values[0, o]
            cards.append(_card(num(fx), f"model output f(x) · {oname}"))
            cards.append(_card(num(base), f"base value E[f] · {oname}"))
            cards.append(_card(num(fx - base), f"f(x) − E[f] · {oname}"))
        kind = "exact" if exp.exact else f"{exp.method} estimate (± std. errors)"
        cards.append(_card(esc(kind), "values"))
        cards.append(_card(esc(exp.link), "link (values are in link space)"))
        return f'<div class="cards">{"".join(cards)}</div>'

    def pruning_block(self, pruning: Any) -> str:
        from .. import plots

        tol = getattr(pruning, "tol", None)
        idx = getattr(pruning, "pruned_index", None)
        curve = pruning.curve
        outs = (
            [str(o) for o in pd.unique(curve["output"])]
            if "output" in curve.columns
            else ["output"]
        )
        if self.output is None:
            chosen = outs
        elif self.output == PREDICTED:
            chosen = [self.predicted_name or outs[0]]
        else:
            chosen = [outs[self.output] if isinstance(self.output, int) else self.output]
        figs = [
            self.figure(
                lambda o=o: plots.pruning_plot(pruning, output=o),
                label=f"pruning curve for {o}",
                caption=f"{o}: Shapley value of the older and the recent events at every split. "
                + HOW["pruning"],
            )
            for o in chosen
        ]
        tol_rows = []
        for t in _tol_ladder(tol, self.tols):
            try:
                k = pruning.index_for(t)
            except (ValueError, AttributeError):
                continue
            tol_rows.append([t, k, -k])
        tol_table = table(
            ["tolerance", "pruning index", "events kept"],
            tol_rows,
            numeric=[True, True, True],
            caption="Pruning index at every tolerance (no model calls: read off the curve).",
        )
        wide = curve.pivot_table(index="t", columns=["player", "output"], values="value", sort=True)
        wide = wide.sort_index(ascending=False)
        cols = ["t"] + [f"{p} · {o}" for p, o in wide.columns]
        rows = [[t, *row] for t, row in zip(wide.index, wide.to_numpy())]
        text = (
            f"Pruning index t = {esc(idx)} with tolerance {esc(tol)}: events before it are grouped "
            "into “Pruned Events”."
            if idx is not None
            else "Pruning curve (no tolerance given)."
        )
        return (
            f'<h3>Pruning</h3><p class="note">{text}</p><div class="grid"><div>{"".join(figs)}</div>'
            f"<div>{tol_table}{table(cols, rows, numeric=[True] * len(cols))}</div></div>"
        )

    def level_block(self, exp: Explanation) -> str:
        from .. import plots

        level = exp.level
        parts = [f"<h3>{esc(level.capitalize())} level</h3>"]
        outs = self.outputs_of(exp)
        figs = []
        if level in TEXT_LEVELS:
            for o in outs:
                parts.append(plots.text_html(exp, output=o))
            figs = [
                self.figure(
                    lambda o=o: plots.bar(exp, output=o, max_display=self.max_display),
                    label=f"token attributions to {exp.output_names[o]}",
                    caption=HOW["text"],
                )
                for o in outs
            ]
        elif level == "event":
            figs.append(
                self.figure(
                    lambda: plots.event_heatmap(
                        exp,
                        output=None if self.output is None else outs[0],
                        max_display=self.max_display,
                    ),
                    label="event attributions",
                    caption=HOW["event"],
                )
            )
        elif level == "cell":
            figs = [
                self.figure(
                    lambda o=o: plots.cell_heatmap(exp, output=o),
                    label=f"cell attributions to {exp.output_names[o]}",
                    caption=HOW["cell"],
                )
                for o in outs
            ]
        else:
            figs = [
                self.figure(
                    lambda o=o: plots.waterfall(exp, output=o, max_display=self.max_display),
                    label=f"{level} attributions to {exp.output_names[o]}",
                    caption=f"From the base value to f(x) for {exp.output_names[o]}. "
                    + HOW["waterfall"],
                )
                for o in outs
            ]
        parts.append(
            f'<div class="grid"><div>{"".join(figs)}</div><div>{self.values_table(exp, outs)}</div></div>'
        )
        return "\n".join(parts)

    def values_table(self, exp: Explanation, outs: list[int]) -> str:
        from ..plots import _palette as pal

        cols = ["player"]
        numeric = [False]
        has_data = exp.data is not None and np.isfinite(exp.data[0]).any()
        if has_data:
            cols.append("feature value")
            numeric.append(True)
        for o in outs:
            cols += [f"value · {exp.output_names[o]}", f"std. error · {exp.output_names[o]}"]
            numeric += [True, True]
        rows, swatches = [], []
        norm = pal.symmetric_norm(exp.values[0][:, outs])
        for j, player in enumerate(exp.player_names):
            row: list[Any] = [player]
            if has_data:
                row.append(exp.data[0, j])
            for o in outs:
                row += [exp.values[0, j, o], exp.std_errors[0, j, o]]
            rows.append(row)
            swatches.append(pal.hex_color(pal.value_color(exp.values[0, j, outs[0]], norm)))
        return table(cols, rows, numeric=numeric, swatches=swatches)

    # ------------------------------------------------------------ global
    def global_section(
        self, anchor: str, data: Any, tols: Sequence[float] | None, labels: Any = None
    ) -> str:
        out = [f'<section class="report-part" id="{esc(anchor)}"><h2>Global report</h2>']
        if isinstance(data, Explanation):
            out.append(self.global_explanation(data))
        elif _is_global_result(data):
            out.append(self.global_result(data, tols, labels))
        elif _is_local_result(data):
            raise TypeError(
                "global_ received one sequence's result; pass it as report(local=result), or "
                "pass explainer.explain_global(X) as global_."
            )
        else:
            raise TypeError(
                "global_ must be a GlobalRun (explainer.explain_global(X) or explain_many(...)) "
                f"or an Explanation over many instances; received {type(data).__name__}."
            )
        out.append("</section>")
        return "\n".join(out)

    def global_result(self, res: Any, tols: Sequence[float] | None, labels: Any = None) -> str:
        from .. import plots

        seqs = _sequence_rows(res)
        names = seqs.attrs["output_names"]
        if labels is None:
            labels = getattr(res, "labels", None)  # given to explain_global
        label_of = _labels_by_entity(labels, seqs["entity"].tolist())
        parts = [f'<p class="note">{len(seqs)} sequence(s).</p>']
        stats, note = self._pruning_stats(res, tols)
        if stats is not None:
            fig = self.figure(
                lambda: plots.pruning_stats_plot(stats),
                label="pruning statistics",
                caption=HOW["pruning_stats"],
            )
            rows = stats.to_numpy().tolist()
            numeric = [c != stats.columns[0] for c in stats.columns]
            extra = f'<p class="note">{esc(note)}</p>' if note else ""
            parts.append(
                f'<h3>Pruning statistics</h3>{extra}<div class="grid"><div>{fig}</div><div>'
                f"{table(list(stats.columns), rows, numeric=numeric)}</div></div>"
            )
        parts.append(self._sequences_table(seqs, label_of))
        per_class = len(names) > 1 and (self.output is None or self.output == PREDICTED)
        if per_class:
            parts.append(
                '<p class="note">Each sequence is explained for the class it is predicted as '
                "(its highest output); one section per predicted class.</p>"
            )
            for cls in names:
                members = seqs.loc[seqs["predicted"] == cls, "entity"].tolist()
                if not members:
                    continue
                known = [label_of[e] for e in members if e in label_of]
                correct = (
                    f"; {sum(lbl == cls for lbl in known)} of the {len(known)} labelled ones "
                    f"are labelled {cls}"
                    if known
                    else ""
                )
                parts.append(
                    f"<h3>Predicted class: {esc(cls)}</h3>"
                    f'<p class="note">{len(members)} sequence(s) predicted {esc(cls)}'
                    f"{esc(correct)}.</p>"
                )
                parts += self._global_views(res, [cls], set(map(str, members)), level=4)
        elif len(names) == 0:
            pass
        else:
            chosen = names if self.output is None else [self._pick(names)]
            parts += self._global_views(res, chosen, None, level=3)
        return "\n".join(parts)

    def _pruning_stats(self, res: Any, tols: Sequence[float] | None) -> tuple[Any, str]:
        """Statistics at every tolerance the curves answer (the ladder unless ``tols``)."""
        if not hasattr(res, "pruning_stats"):
            return None, ""
        if isinstance(res, GlobalRun):
            own = res.tolerances
        else:
            own = [] if getattr(res, "tol", None) is None else [float(res.tol)]
        wanted = _tol_ladder(own, tols)
        try:
            return res.pruning_stats(wanted), ""
        except (ValueError, AttributeError, TypeError) as exc:
            if not own:
                return None, ""
            usable = [t for t in wanted if t >= min(own)]
            try:
                return res.pruning_stats(usable), (
                    f"Tolerances below the run's {min(own):g} are not shown: the pruning curves "
                    "stop at its pruning index (full_curve=True computes them whole)."
                    if len(usable) < len(wanted)
                    else ""
                )
            except (ValueError, AttributeError, TypeError):
                pass
            try:
                return res.pruning_stats(None), (
                    "Only the run's own tolerances are shown: it kept no pruning curves "
                    "(keep_curve=True keeps them, and full_curve=True for smaller tolerances)."
                )
            except (ValueError, AttributeError, TypeError):
                return None, str(exc)

    def _global_views(
        self, res: Any, outs: list[str], members: set[str] | None, *, level: int
    ) -> list[str]:
        """Global event and feature plots and tables for outputs ``outs`` (over ``members``)."""
        from .. import plots

        parts = []
        for kind, key in (("event", "t"), ("feature", "feature")):
            try:
                frame = getattr(res, f"{kind}_frame")
            except (ValueError, AttributeError):
                continue
            if members is not None:
                frame = frame[frame["entity"].astype(str).isin(members)]
            figs = []
            for o in outs:
                if frame[frame["output"].astype(str) == o].empty:
                    continue
                if kind == "event":
                    draw = partial(plots.global_event_plot, frame, output=o)
                else:
                    draw = partial(
                        plots.global_feature_plot, frame, output=o, max_display=self.max_display
                    )
                figs.append(
                    self.figure(
                        draw,
                        label=f"global {kind} attributions to {o}",
                        caption=HOW[f"global_{kind}"],
                    )
                )
            if not figs:
                continue
            summary = self._summary_table(frame, key, outs)
            parts.append(
                f"<h{level}>Global {kind} attributions · {esc(', '.join(outs))}</h{level}>"
                f'<div class="grid"><div>{"".join(figs)}</div><div>{summary}</div></div>'
            )
        return parts

    def _sequences_table(self, seqs: pd.DataFrame, label_of: dict) -> str:
        """One row per sequence: entity, label, predicted class, length, pruned index, f(x)
        and E[f] per output."""
        names = seqs.attrs["output_names"]
        cols = ["entity"]
        if label_of:
            cols.append("label")
        cols += ["predicted", "length", "pruned index"]
        for name in names:
            cols += [f"f(x) · {name}", f"E[f] · {name}"]
        rows = []
        for rec in seqs.to_dict("records"):
            row = [rec["entity"]]
            if label_of:
                row.append(label_of.get(rec["entity"], ""))
            row += [rec["predicted"], rec["length"], rec["pruned_index"]]
            for name in names:
                row += [rec[f"f(x) · {name}"], rec[f"E[f] · {name}"]]
            rows.append(row)
        numeric = [c not in ("entity", "label", "predicted") for c in cols]
        return f"<h3>Sequences</h3>{table(cols, rows, numeric=numeric)}"

    def _pick(self, outs: list[str]) -> str:
        if isinstance(self.output, str):
            if self.output not in outs:
                raise ValueError(f"output {self.output!r} not found; outputs are {outs}.")
            return self.output
        return outs[int(self.output)]

    def _summary_table(self, frame: pd.DataFrame, key: str, outs: list[str]) -> str:
        frame = frame[frame["output"].astype(str).isin(outs)]
        keyed = frame.assign(
            _key=frame[key].astype(object).where(frame[key].notna(), frame.get("player", ""))
        )
        grouped = keyed.groupby(["_key", "output"], sort=False)["value"]
        stats = pd.DataFrame(
            {
                "mean": grouped.mean(),
                "mean |value|": grouped.apply(lambda s: s.abs().mean()),
                "std": grouped.std(),
                "n": grouped.count(),
            }
        ).reset_index()
        stats = stats.sort_values("mean |value|", ascending=False, kind="stable")
        rows = stats[["_key", "output", "mean", "mean |value|", "std", "n"]].to_numpy().tolist()
        label = "t" if key == "t" else "feature"
        return table(
            [label, "output", "mean", "mean |value|", "std", "n"],
            rows,
            numeric=[key == "t", False, True, True, True, True],
        )

    def global_explanation(self, exp: Explanation) -> str:

        parts = [f'<p class="note">{exp.n_instances} instance(s), level “{esc(exp.level)}”.</p>']
        if exp.n_outputs > 1 and self.output in (None, PREDICTED):
            # one section per predicted class: its instances, explained for that class
            top = np.argmax(exp.outputs, axis=1)
            parts.append(
                '<p class="note">Each instance is explained for the class it is predicted as '
                "(its highest output); one section per predicted class.</p>"
            )
            for o in range(exp.n_outputs):
                idx = np.flatnonzero(top == o)
                if len(idx):
                    parts.append(self._explanation_views(exp[idx], o, predicted=True))
            return "\n".join(parts)
        for o in self.outputs_of(exp):
            parts.append(self._explanation_views(exp, o, predicted=False))
        return "\n".join(parts)

    def _explanation_views(self, exp: Explanation, o: int, *, predicted: bool) -> str:
        from .. import plots

        parts = []
        oname = exp.output_names[o]
        figs = [
            self.figure(
                lambda o=o: plots.bar(exp, output=o, max_display=self.max_display),
                label=f"mean absolute attribution to {oname}",
                caption=HOW["bar"],
            )
        ]
        if exp.n_instances > 1:
            figs.append(
                self.figure(
                    lambda o=o: plots.beeswarm(exp, output=o, max_display=self.max_display),
                    label=f"beeswarm for {oname}",
                    caption=HOW["beeswarm"],
                )
            )
            figs.append(
                self.figure(
                    lambda o=o: plots.heatmap(exp, output=o, max_display=self.max_display),
                    label=f"heatmap for {oname}",
                    caption=HOW["heatmap"],
                )
            )
        absv = np.abs(exp.values[:, :, o])
        rows = [
            [
                p,
                float(exp.values[:, j, o].mean()),
                float(absv[:, j].mean()),
                float(exp.values[:, j, o].std(ddof=1)) if exp.n_instances > 1 else float("nan"),
            ]
            for j, p in enumerate(exp.player_names)
        ]
        tab = table(
            ["player", "mean", "mean |value|", "std"], rows, numeric=[False, True, True, True]
        )
        head = (
            f"Predicted class: {esc(oname)} ({exp.n_instances} instance(s))"
            if predicted
            else esc(oname)
        )
        parts.append(
            f'<h3>{head}</h3><div class="grid"><div>{"".join(figs)}</div><div>{tab}</div></div>'
        )
        return "\n".join(parts)


def _tol_ladder(run_tol: Any, tols: Sequence[float] | None) -> list[float]:
    """The tolerances to report: ``tols`` if given, else the ladder plus the run's own."""
    if tols is not None:
        return sorted({float(t) for t in tols})
    own = run_tol if isinstance(run_tol, list | tuple) else [run_tol]
    return sorted({*TOL_LADDER, *(float(t) for t in own if t is not None)})


def _sequence_rows(res: Any) -> pd.DataFrame:
    """Entity (the run's ids, as in every other table), predicted class (the highest explained
    output), length, pruned index, f(x) and E[f] per output; ``attrs["output_names"]``."""
    if isinstance(res, GlobalRun):
        return _run_sequence_rows(res)
    ids = list(getattr(res, "entity_ids", []) or [])
    records, names = [], []
    for k, loc in enumerate(getattr(res, "locals", [])):
        exp = next(
            (
                e
                for e in (getattr(loc, lvl, None) for lvl in _LEVEL_ORDER)
                if isinstance(e, Explanation)
            ),
            None,
        )
        pruning = getattr(loc, "pruning", None)
        entity = ids[k] if k < len(ids) else getattr(loc, "entity", k)
        rec = {
            "entity": entity,
            "length": getattr(loc, "length", float("nan")),
            "pruned_index": getattr(pruning, "pruned_index", None) if pruning is not None else None,
            "predicted": "",
        }
        if exp is not None:
            names = names or list(exp.output_names)
            rec["predicted"] = exp.output_names[int(np.argmax(exp.outputs[0]))]
            for o, name in enumerate(exp.output_names):
                rec[f"f(x) · {name}"] = exp.outputs[0, o]
                rec[f"E[f] · {name}"] = exp.base_values[0, o]
        records.append(rec)
    frame = pd.DataFrame.from_records(records)
    for name in names:
        for col in (f"f(x) · {name}", f"E[f] · {name}"):
            if col not in frame.columns:
                frame[col] = float("nan")
    frame.attrs["output_names"] = names
    return frame


def _run_sequence_rows(res: GlobalRun) -> pd.DataFrame:
    """:func:`_sequence_rows` of a GlobalRun, from its ``sequences_frame`` (the smallest
    tolerance's pruned index)."""
    seqs = res.sequences_frame()
    names = [str(o) for o in pd.unique(seqs["output"])]
    records = []
    for _, g in seqs.groupby("position", sort=True):
        first = g.iloc[0]
        idx = first["pruned_index"]
        rec = {
            "entity": str(first["entity"]),
            "length": int(first["length"]),
            "pruned_index": None if pd.isna(idx) else int(idx),
            "predicted": str(first["predicted"]),
        }
        by_out = g.set_index(g["output"].astype(str))
        for name in names:
            rec[f"f(x) · {name}"] = float(by_out.at[name, "model_output"])
            rec[f"E[f] · {name}"] = float(by_out.at[name, "base_value"])
        records.append(rec)
    frame = pd.DataFrame.from_records(
        records,
        columns=["entity", "length", "pruned_index", "predicted"]
        + [f"{k} · {n}" for n in names for k in ("f(x)", "E[f]")],
    )
    frame.attrs["output_names"] = names
    return frame


def _labels_by_entity(labels: Any, entities: list[Any]) -> dict:
    """``labels`` (a list in sequence order or a dict by entity) as ``{entity: str}``."""
    if labels is None:
        return {}
    if isinstance(labels, Mapping):
        by_str = {str(k): v for k, v in labels.items()}
        return {e: str(by_str[str(e)]) for e in entities if str(e) in by_str}
    if isinstance(labels, str | bytes) or not hasattr(labels, "__len__"):
        raise TypeError(
            "labels must be a list (one label per sequence, in order) or a dict {entity: label}; "
            f"received {type(labels).__name__}."
        )
    if len(labels) != len(entities):
        raise ValueError(
            f"labels has {len(labels)} entries but the global result holds {len(entities)} "
            "sequences; give one label per sequence, or a dict {entity: label}."
        )
    return {e: str(lbl) for e, lbl in zip(entities, labels)}


def _card(value: str, label: str) -> str:
    """``value`` is already-safe markup; ``label`` is escaped here."""
    return f'<div class="card"><b>{value}</b><span>{esc(label)}</span></div>'
