"""Faithfulness metrics from theory: on an additive game every curve is known in closed form.

For v(S) = v(∅) + Σ_{i∈S} φ_i (a linear model against a baseline, φ_i = w_i (x_i − b_i)):
D(k) = f(x) − Σ_{j≤k} φ_(j), I(k) = v(∅) + Σ_{j≤k} φ_(j), comprehensiveness(k) = Σ_{j≤k} φ_(j),
sufficiency(k) = Σ_{j>k} φ_(j); AUC_del = f − (1/M) Σ_i φ_i (M + ½ − pos_i); over random orders
E[AUC_del] = (f + v(∅))/2 and sd(AUC_del) = √(M(M+1)/12 · Σ(φ − φ̄)²) / M.
"""

from __future__ import annotations

import dataclasses
import itertools

import matplotlib
import numpy as np
import pandas as pd
import pytest

from seqshap.estimators import estimate
from seqshap.explanation import Explanation
from seqshap.games import FunctionGame, MaskedGame
from seqshap.metrics import (
    explanation_faithfulness,
    faithfulness,
    global_importance,
    masked_faithfulness,
    plot_faithfulness,
    plot_global_importance,
    sequence_faithfulness,
    sequence_game,
)

matplotlib.use("Agg")

M = 7


@pytest.fixture
def linear(rng):
    w = rng.normal(size=M) * 2
    x, b = rng.normal(size=M), rng.normal(size=M)
    game = MaskedGame(lambda z: z @ w + 0.3, x, b[None], np.eye(M, dtype=bool))
    return game, w * (x - b), float(x @ w + 0.3), float(b @ w + 0.3)


def test_curves_and_top_k_match_closed_forms_on_a_linear_model(linear):
    game, phi, f, base = linear
    res = faithfulness(game, phi, n_random=0, fractions=[1 / M, 3 / M, 1.0])
    srt = np.sort(phi)[::-1]
    cum = np.r_[0.0, np.cumsum(srt)]
    att = res.curves[res.curves["order"] == "attribution"]
    np.testing.assert_allclose(att[att["curve"] == "deletion"]["value"], f - cum, atol=1e-10)
    np.testing.assert_allclose(att[att["curve"] == "insertion"]["value"], base + cum, atol=1e-10)
    pos = np.empty(M)
    pos[np.argsort(-phi, kind="stable")] = np.arange(1, M + 1)
    s = res.summary.iloc[0]
    np.testing.assert_allclose(s["deletion_auc"], f - (phi * (M + 0.5 - pos)).sum() / M, atol=1e-10)
    np.testing.assert_allclose(
        s["insertion_auc"], base + (phi * (M + 0.5 - pos)).sum() / M, atol=1e-10
    )
    top = res.top_k.set_index("k")
    for k in (1, 3, M):
        np.testing.assert_allclose(top.loc[k, "comprehensiveness"], srt[:k].sum(), atol=1e-10)
        np.testing.assert_allclose(top.loc[k, "sufficiency"], srt[k:].sum(), atol=1e-10)
    np.testing.assert_allclose(s["comprehensiveness"], np.mean([srt[:k].sum() for k in (1, 3, M)]))
    assert (s["full"], s["base"]) == pytest.approx((f, base))


def test_random_reference_matches_its_closed_form(linear):
    game, phi, f, base = linear
    n_random = 400
    s = faithfulness(game, phi, n_random=n_random, seed=3).summary.iloc[0]
    sd = np.sqrt(M * (M + 1) / 12 * ((phi - phi.mean()) ** 2).sum()) / M
    assert abs(s["random_deletion_auc"] - (f + base) / 2) < 4 * sd / np.sqrt(n_random)
    assert abs(s["random_insertion_auc"] - (f + base) / 2) < 4 * sd / np.sqrt(n_random)
    # the sd of a sample sd of n normal-ish values is ≈ sd / √(2n): 5% here; allow 4 of those
    assert s["random_deletion_auc_sd"] == pytest.approx(sd, rel=4 / np.sqrt(2 * n_random))


def test_exact_explanation_of_a_linear_model_beats_every_order(linear):
    game, _, f, base = linear
    exact = estimate(game, "exact", budget=2**M)
    res = faithfulness(game, exact.values, n_random=100, seed=0)
    s = res.summary.iloc[0]
    assert s["deletion_rank"] == 0.0 and s["insertion_rank"] == 0.0
    assert s["deletion_auc"] < s["random_deletion_auc"] - 2 * s["random_deletion_auc_sd"]
    assert s["insertion_auc"] > s["random_insertion_auc"] + 2 * s["random_insertion_auc_sd"]
    # rearrangement: no order of the players has a lower deletion area
    perms = np.array(list(itertools.permutations(range(M))))
    prefix = np.arange(1, M)[None, :, None] > np.argsort(perms, axis=1)[:, None, :]
    inner = game(~prefix.reshape(-1, M)).reshape(len(perms), M - 1)
    curves = np.column_stack([np.full(len(perms), f), inner, np.full(len(perms), base)])
    aucs = (curves[:, :-1] + curves[:, 1:]).sum(1) / (2 * M)
    assert s["deletion_auc"] == pytest.approx(aucs.min(), abs=1e-10)


def test_a_bad_ranking_does_worse_than_random(linear):
    game, phi, _, _ = linear
    s = faithfulness(game, -phi, n_random=100, seed=0).summary.iloc[0]
    assert s["deletion_rank"] == 1.0 and s["deletion_auc"] > s["random_deletion_auc"]


def test_one_game_call_for_all_curves_and_outputs(rng):
    w = rng.normal(size=(M, 2))
    game = FunctionGame(lambda z: z @ w, M)
    game.empty_value, game.full_value  # noqa: B018 - cached before counting
    calls, evals = game.n_model_calls, game.n_evaluations
    res = faithfulness(game, w, n_random=30)
    assert game.n_model_calls - calls == 1
    assert res.n_evaluations == game.n_evaluations - evals == (2 + 30) * 2 * (M - 1)
    # each output is ranked by its own values
    for o in range(2):
        att = res.curves.query(
            f"output == 'output {o}' and order == 'attribution' and curve == 'insertion'"
        )
        np.testing.assert_allclose(
            att["value"], np.r_[0, np.cumsum(np.sort(w[:, o])[::-1])], atol=1e-10
        )


def test_abs_ranking_orders_by_magnitude():
    phi = np.array([1.0, -3.0, 2.0])
    game = FunctionGame(lambda z: z @ phi, 3)
    res = faithfulness(game, phi, n_random=0, by="abs")
    att = res.curves.query("order == 'attribution' and curve == 'deletion'")["value"]
    np.testing.assert_allclose(att, [0.0, 3.0, 1.0, 0.0])


@pytest.mark.parametrize(
    "kwargs,exc,match",
    [
        ({"values": np.zeros(M + 1)}, ValueError, r"one row per player of the game \(7\)"),
        ({"values": np.zeros((M, 2))}, ValueError, "1 column"),
        ({"by": "rank"}, ValueError, "by must be one of"),
        ({"fractions": [0.0, 0.5]}, ValueError, r"fractions must be numbers in \(0, 1\]"),
        ({"n_random": -1}, ValueError, "n_random must be >= 0"),
        ({"values": "abc"}, TypeError, "values must be numeric"),
    ],
)
def test_bad_arguments_are_named(linear, kwargs, exc, match):
    game, phi, _, _ = linear
    kwargs = {"values": phi, **kwargs}
    with pytest.raises(exc, match=match):
        faithfulness(game, **kwargs)


def _sequence_linear(rng, t_len=6, d=2):
    w = rng.normal(size=(t_len, d))
    x, b = rng.normal(size=(t_len, d)), rng.normal(size=d)

    def model(batch):
        return (batch * w).sum(axis=(1, 2))

    phi_events = (w * (x - b)).sum(axis=1)  # one player per time step
    return model, x, b, w, phi_events


def test_wrappers_agree_with_the_game_form(rng):
    model, x, b, _, phi_events = _sequence_linear(rng)
    t_len, d = x.shape
    masks = np.zeros((t_len, t_len, d), dtype=bool)
    masks[np.arange(t_len), np.arange(t_len)] = True
    exp = Explanation(
        values=phi_events[:, None],
        std_errors=None,
        base_values=[0.0],
        outputs=[0.0],
        player_names=[f"step {i}" for i in range(t_len)],
        level="event",
    )
    via_model = masked_faithfulness(exp, model, x, b, masks, n_random=20, seed=1)
    game = MaskedGame(model, x, np.broadcast_to(b, x.shape)[None], masks)
    via_game = explanation_faithfulness(exp, game, n_random=20, seed=1)
    pd.testing.assert_frame_equal(via_model.curves, via_game.curves)
    two = Explanation(
        values=np.stack([phi_events[:, None]] * 2),
        std_errors=None,
        base_values=[[0.0]] * 2,
        outputs=[[0.0]] * 2,
        player_names=exp.player_names,
    )
    both = masked_faithfulness(two, model, np.stack([x, x]), b, masks, n_random=5)
    assert list(both.summary["instance"]) == [0, 1]
    agg = both.aggregate().set_index("metric")
    assert agg.loc["deletion_auc", "n"] == 2 and agg.loc["deletion_auc", "se"] == pytest.approx(0)
    with pytest.raises(ValueError, match="one game per explained instance"):
        explanation_faithfulness(two, game)
    with pytest.raises(ValueError, match="masks must be a boolean array"):
        masked_faithfulness(exp, model, x, b, masks[:-1])


def test_sequence_faithfulness_uses_the_explainers_game(rng):
    from seqshap.sequence import SequenceExplainer

    model, x, b, _, phi_events = _sequence_linear(rng)
    explainer = SequenceExplainer(model, b)
    local = explainer.explain(x, levels=("event", "feature"), pruning_tol=None)
    np.testing.assert_allclose(local.event.values[0, :, 0], phi_events[::-1], atol=1e-9)
    res = sequence_faithfulness(explainer, x, local, level="event", n_random=0)
    srt = np.sort(phi_events)[::-1]
    dele = res.curves.query("curve == 'deletion'")["value"].to_numpy()
    np.testing.assert_allclose(
        dele, local.event.outputs[0, 0] - np.r_[0, np.cumsum(srt)], atol=1e-9
    )
    feat = sequence_faithfulness(explainer, x, local, level="feature", n_random=0)
    assert feat.summary["n_players"].iloc[0] == x.shape[1]
    game = sequence_game(explainer, x, local.event)
    np.testing.assert_allclose(
        estimate(game, "exact", budget=2**game.n_players).values, local.event.values[0], atol=1e-9
    )
    with pytest.raises(ValueError, match="needs masks"):
        sequence_game(explainer, x, dataclasses.replace(local.event, level="cell"))
    with pytest.raises(ValueError, match="do not match"):
        sequence_game(explainer, x[1:], local.event)


def test_global_importance_intervals():
    frame = pd.DataFrame(
        {
            "entity": [0, 0, 1, 1, 2, 2],
            "player": ["Event -1", "Pruned Events"] * 3,
            "t": pd.array([-1, None] * 3, dtype="Int64"),
            "output": "y",
            "value": [1.0, 0.5, -3.0, 0.0, 2.0, -0.5],
            "std_error": [0.1, 0.0, 0.2, 0.0, 0.2, 0.0],
        }
    )
    table = global_importance(frame).set_index("t")
    assert list(table.index) == [-1, "Pruned Events"]
    row = table.loc[-1]
    a = np.array([1.0, 3.0, 2.0])
    assert (
        row["n"] == 3
        and row["mean_abs"] == pytest.approx(2.0)
        and row["mean"] == pytest.approx(0.0)
    )
    assert row["se_sequences"] == pytest.approx(a.std(ddof=1) / np.sqrt(3))
    assert row["se_estimation"] == pytest.approx(np.sqrt(0.01 + 0.04 + 0.04) / 3)
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * a.std(ddof=1) / np.sqrt(3)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((2.0 - half, 2.0 + half))
    assert table.loc["Pruned Events", "se_estimation"] == 0.0
    by_player = global_importance(frame, by="player")
    assert list(by_player["player"]) == ["Event -1", "Pruned Events"]
    with pytest.raises(ValueError, match="missing"):
        global_importance(frame, by="feature")
    with pytest.raises(TypeError, match="pandas DataFrame"):
        global_importance(frame.to_numpy())


def test_plots_return_axes(linear):
    game, phi, _, _ = linear
    res = faithfulness(game, phi, n_random=10)
    ax = plot_faithfulness(res)
    assert len(ax.lines) == 4 and "AUC" in ax.get_legend().get_texts()[0].get_text()
    ax2 = res.plot(curve="deletion")
    assert len(ax2.lines) == 2
    with pytest.raises(ValueError, match="curve must be"):
        res.plot(curve="area")
    frame = pd.DataFrame({"feature": ["a", "b"] * 3, "value": [1, 2, 3, 4, 5, 6.0], "output": "y"})
    ax3 = plot_global_importance(global_importance(frame))
    assert len(ax3.patches) == 2
    import matplotlib.pyplot as plt

    plt.close("all")


def test_global_importance_of_a_global_explanation(rng):
    from seqshap.sequence import SequenceExplainer

    model, _, b, w, _ = _sequence_linear(rng)
    xs = rng.normal(size=(5, *w.shape))
    glob = SequenceExplainer(model, b).explain_global(
        xs, levels=("event", "feature"), pruning_tol=None
    )
    events = global_importance(glob.event_frame).set_index("t")
    phi = (w * (xs - b)).sum(axis=2)  # (n, T): event values, oldest first
    np.testing.assert_allclose(events.loc[-1, "mean_abs"], np.abs(phi[:, -1]).mean(), atol=1e-9)
    np.testing.assert_allclose(events["se_estimation"], 0.0)  # exact values
    feats = global_importance(glob.feature_frame)
    assert list(feats["feature"]) == ["Feature 0", "Feature 1"] and (feats["n"] == 5).all()
