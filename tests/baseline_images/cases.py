"""Deterministic Explanations and the plot calls that the image tests compare.

Shared by ``generate.py`` (writes the baselines) and ``tests/test_plots_images.py``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from seqshap import Explanation
from seqshap import plots as sp

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_TITLE = "Report <script>alert(1)</script>"
HOSTILE_ENTITY = '"><svg onload=alert(1)>'
LONG = "a feature name that is much too long to fit beside a bar in any sensible figure"
FEATURES = ["amount", "merchant_risk", HOSTILE, "hour", LONG, "velocity"]
#: rcParams that make text rendering reproducible across machines (DejaVu ships with matplotlib)
RC = {
    "font.family": "DejaVu Sans",
    "text.hinting": "none",
    "svg.hashsalt": "seqshap",
    "figure.dpi": 100,
    "savefig.dpi": 72,
}


def _rng() -> np.random.Generator:
    return np.random.default_rng(20261121)


def local_feature() -> Explanation:
    vals = np.array([0.31, -0.12, 0.05, -0.22, 0.08, 0.015])
    return Explanation(
        values=vals[None, :, None],
        std_errors=np.array([0.02, 0.01, 0.004, 0.03, 0.01, 0.002])[None, :, None],
        base_values=[[0.2]],
        outputs=[[0.2 + vals.sum()]],
        player_names=FEATURES,
        output_names=["P(fraud)"],
        data=np.array([[120.5, 0.8, 3.0, 23.0, 1.0, 7.0]]),
        level="feature",
        method="kernel",
    )


def local_event() -> Explanation:
    names = [f"Event -{k}" for k in range(1, 8)] + ["Pruned Events"]
    vals = np.array([0.4, -0.15, 0.1, 0.06, -0.03, 0.02, 0.01, -0.005])
    vals2 = -0.5 * vals
    return Explanation(
        values=np.stack([vals, vals2], axis=1)[None],
        std_errors=np.full((1, 8, 2), 0.01),
        base_values=[[0.3, 0.7]],
        outputs=[[0.3 + vals.sum(), 0.7 + vals2.sum()]],
        player_names=names,
        output_names=["class A", "class B"],
        level="event",
        method="kernel",
    )


def local_cell() -> Explanation:
    # the sequence explainer's cell players (TimeSHAP's cell level)
    names = [
        "Event -1, amount",
        f"Event -1, {HOSTILE}",
        "Event -2, amount",
        f"Event -2, {HOSTILE}",
        "Other features of Event -1",
        "Other features of Event -2",
        "amount over other events",
        f"{HOSTILE} over other events",
        "Other cells",
        "Pruned Events",
    ]
    vals = np.array([0.2, -0.1, 0.12, 0.0, 0.05, -0.04, 0.03, 0.01, -0.02, 0.005])
    return Explanation(
        values=vals[None, :, None],
        std_errors=None,
        base_values=[[0.1]],
        outputs=[[0.1 + vals.sum()]],
        player_names=names,
        output_names=["score"],
        level="cell",
        method="exact",
        exact=True,
    )


def many_feature(n: int = 60) -> Explanation:
    rng = _rng()
    data = rng.normal(size=(n, len(FEATURES)))
    w = np.array([0.3, -0.2, 0.1, 0.05, -0.15, 0.02])
    vals = data * w + rng.normal(scale=0.02, size=data.shape)
    vals[:, 1] += 0.1 * data[:, 0] * data[:, 1]
    base = np.full((n, 1), 0.4)
    return Explanation(
        values=vals[:, :, None],
        std_errors=np.full(vals.shape + (1,), 0.01),
        base_values=base,
        outputs=base + vals.sum(1, keepdims=True),
        player_names=FEATURES,
        output_names=["score"],
        data=data,
        level="feature",
        method="kernel",
    )


def many_event(n: int = 40, t: int = 10) -> Explanation:
    rng = _rng()
    decay = 0.3 * 0.7 ** np.arange(t)
    vals = rng.normal(size=(n, t)) * decay + decay * 0.5
    names = [f"Event -{k}" for k in range(1, t + 1)]
    base = np.zeros((n, 1))
    return Explanation(
        values=vals[:, :, None],
        std_errors=None,
        base_values=base,
        outputs=vals.sum(1, keepdims=True),
        player_names=names,
        level="event",
    )


def long_event(t: int = 480) -> Explanation:
    """AReM-length sequence (480 events), sampled values: most inside ±1.96 SE of zero."""
    rng = _rng()
    decay = 0.25 * 0.9 ** np.arange(t)
    vals = decay * rng.choice([-1.0, 1.0], size=t) + rng.normal(scale=0.004, size=t)
    vals = np.stack([vals, -0.6 * vals], axis=1)
    se = np.full_like(vals, 0.006)
    names = [f"Event -{k}" for k in range(1, t + 1)]
    return Explanation(
        values=vals[None],
        std_errors=se[None],
        base_values=[[0.3, 0.5]],
        outputs=[[0.3 + vals[:, 0].sum(), 0.5 + vals[:, 1].sum()]],
        player_names=names,
        output_names=["walking", "cycling"],
        level="event",
        method="kernel",
    )


def tokens() -> Explanation:
    toks = [
        "The",
        "movie",
        "was",
        "not",
        "good",
        ",",
        "but",
        "the",
        "<script>alert(1)</script>",
        "acting",
        "was",
        "wonderful",
        "and",
        "the",
        "ending",
        "surprisingly",
        "moving",
        ".",
    ]
    rng = _rng()
    vals = rng.normal(scale=0.1, size=len(toks))
    vals[4], vals[3], vals[11] = 0.35, -0.4, 0.5
    return Explanation(
        values=vals[None, :, None],
        std_errors=None,
        base_values=[[0.5]],
        outputs=[[0.5 + vals.sum()]],
        player_names=toks,
        output_names=["positive"],
        level="token",
        method="exact",
        exact=True,
    )


def pruning_curve() -> pd.DataFrame:
    t = np.arange(-12, 0)
    older = 0.5 * np.exp((t + 1) / 2.5) * -1 + 0.6
    older = 0.6 * np.exp(t / 3.0)
    total = 0.6
    rows = []
    for ti, o in zip(t, older):
        rows.append({"t": int(ti), "player": "older", "output": "score", "value": float(o)})
        rows.append(
            {"t": int(ti), "player": "recent", "output": "score", "value": float(total - o)}
        )
    return pd.DataFrame(rows)


def pruning_stats() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Tolerance": ["No Pruning", 0.01, 0.025, 0.05, 0.1],
            "Mean": [480.0, 31.2, 17.5, 9.8, 4.1],
            "Std": [0.0, 8.1, 5.5, 3.0, 1.2],
        }
    )


def global_event_frame() -> pd.DataFrame:
    exp = many_event()
    frame = exp.to_frame()
    frame["t"] = -(frame["player_index"] + 1)
    frame["entity"] = frame["instance"]
    return frame[["entity", "t", "output", "value", "std_error"]]


def global_feature_frame() -> pd.DataFrame:
    frame = many_feature().to_frame()
    return frame.assign(entity=frame["instance"], feature=frame["player"])[
        ["entity", "feature", "output", "value", "std_error"]
    ]


def sequence_results():
    """A real SequenceExplainer run (tiny numpy model) with a hostile feature name and id."""
    from seqshap.sequence import SequenceExplainer

    rng = np.random.default_rng(0)
    w = rng.normal(size=(4, 2))

    def model(x):
        return 1 / (1 + np.exp(-(np.tanh(x).mean(1) @ w)))

    x = rng.normal(size=(6, 12, 4))
    names = ["amount", HOSTILE, LONG, "hour"]
    ex = SequenceExplainer(model, x[:4], feature_names=names, seed=0)
    loc = ex.explain(x[0], levels=("event", "feature", "cell"), pruning_tol=0.025)
    glob = ex.explain_global(x[:4], pruning_tol=0.025, entity_ids=["a", "b", "c", HOSTILE_ENTITY])
    return loc, glob


#: name -> zero-argument callable drawing one figure and returning its Axes
CASES = {
    "bar_local": lambda: sp.bar(local_feature()),
    "bar_global": lambda: sp.bar(many_feature(), max_display=4),
    "waterfall": lambda: sp.waterfall(local_feature()),
    "force": lambda: sp.force(local_feature()),
    "beeswarm": lambda: sp.beeswarm(many_feature()),
    "scatter": lambda: sp.scatter(many_feature(), "amount", color="merchant_risk"),
    "decision": lambda: sp.decision(many_feature()[:20]),
    "heatmap": lambda: sp.heatmap(many_feature()),
    "event_heatmap": lambda: sp.event_heatmap(local_event()),
    "event_heatmap_long": lambda: sp.event_heatmap(long_event()),
    "feature_bar": lambda: sp.feature_bar(local_feature()),
    "cell_heatmap": lambda: sp.cell_heatmap(local_cell()),
    "pruning": lambda: sp.pruning_plot(pruning_curve(), tol=0.025, pruned_index=-4),
    "pruning_stats": lambda: sp.pruning_stats_plot(pruning_stats()),
    "global_event": lambda: sp.global_event_plot(global_event_frame()),
    "global_feature": lambda: sp.global_feature_plot(global_feature_frame()),
    "text": lambda: sp.text_plot(tokens()),
}
