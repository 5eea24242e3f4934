"""SequenceExplainer's public game API: ``game``, ``game_for``, ``explain_level``.

The games must be the ones ``explain`` estimates: brute-force Shapley values of
``explainer.game(...)`` equal ``explain``'s (exact) values at every level, on the recurrent and
the plain path, with and without pruning; ``game_for`` rebuilds the game of an explanation from
its meta (also after a JSON round trip); faithfulness now runs at cell and window level.
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest

from seqshap.estimators import estimate
from seqshap.explanation import Explanation
from seqshap.games import MaskedGame
from seqshap.games.recurrent import RecurrentMaskedGame
from seqshap.metrics import sequence_faithfulness, sequence_game
from seqshap.sequence import Players, SequenceExplainer, event_players
from seqshap.testing import brute_force_shapley

torch = pytest.importorskip("torch")

T, D = 7, 3
NAMES = ["a", "b", "c"]
LEVELS = ("event", "feature", "cell", "window")
ATOL = 1e-9


class Net(torch.nn.Module):
    """Two outputs from a 1-layer GRU; ``forward(x, h=None) -> (scores, h)`` (recurrent)."""

    def __init__(self) -> None:
        super().__init__()
        self.rnn = torch.nn.GRU(D, 5, batch_first=True)
        self.head = torch.nn.Linear(5, 2)

    def forward(self, x, h=None):
        out, h = self.rnn(x, h)
        return torch.sigmoid(self.head(out[:, -1])), h


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(3)
    model = Net().double()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(2.5)
    return model.eval()


def numpy_model(v: np.ndarray) -> np.ndarray:
    """A plain callable with interactions across events and features."""
    w = np.linspace(-1.0, 1.0, T * D).reshape(T, D)
    lin = (v * w).sum(axis=(1, 2))
    return np.c_[np.tanh(lin + v[:, -1, 0] * v[:, -2, 1]), v[:, :, 2].max(axis=1)]


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    return rng.normal(size=(T, D)), rng.normal(size=(2, T, D))


def make_explainer(kind: str, net, bg) -> SequenceExplainer:
    if kind == "numpy":
        return SequenceExplainer(numpy_model, bg, feature_names=NAMES)
    return SequenceExplainer(net, bg, feature_names=NAMES, recurrent=kind == "recurrent")


def top_by_value(exp: Explanation, count: int) -> list[str]:
    """Independent of the explainer's own selection: largest max-over-outputs |value|."""
    mag = np.abs(exp.values[0]).max(axis=1)
    order = [i for i in np.argsort(-mag, kind="stable") if exp.player_names[i] != "Pruned Events"]
    return [exp.player_names[i] for i in order[:count]]


@pytest.mark.parametrize("kind", ["recurrent", "plain", "numpy"])
@pytest.mark.parametrize("pruned_index", [None, -4])
def test_game_valued_by_brute_force_equals_explain_at_every_level(net, data, kind, pruned_index):
    x, bg = data
    x_before = x.copy()
    ex = make_explainer(kind, net, bg)
    loc = ex.explain(
        x, levels=LEVELS, window=3, pruning_tol=None, pruned_index=pruned_index, top_features=1
    )
    top_events = [int(name.split("-")[1]) for name in top_by_value(loc.event, 2)]
    top_features = top_by_value(loc.feature, 1)
    specs = {
        "event": {},
        "feature": {},
        "cell": {"top_events": top_events, "top_features": top_features},
        "window": {"window": 3},
    }
    for level, spec in specs.items():
        game = ex.game(x, level, pruned_index=pruned_index, **spec)
        exp = getattr(loc, level)
        assert isinstance(game, RecurrentMaskedGame) is (kind == "recurrent"), level
        assert game.player_names == exp.player_names, level
        assert exp.exact
        np.testing.assert_allclose(brute_force_shapley(game), exp.values[0], atol=ATOL)
        if pruned_index is not None:
            assert exp.player_names[-1] == "Pruned Events"
    np.testing.assert_array_equal(x, x_before)


@pytest.mark.parametrize("kind", ["recurrent", "numpy"])
def test_game_with_searched_pruning_and_feature_groups(net, data, kind):
    x, bg = data
    ex = make_explainer(kind, net, bg)
    groups = {"ab": ["a", "b"]}
    loc = ex.explain(
        x, levels=("event", "feature", "cell"), pruning_tol=0.01, feature_groups=groups
    )
    idx = loc.pruning.pruned_index
    if kind == "recurrent":
        assert idx == -5  # two events pruned
    assert loc.feature.player_names[:2] == ["ab", "Other features"]
    feature = ex.game(x, "feature", pruned_index=idx, feature_groups=groups)
    np.testing.assert_allclose(brute_force_shapley(feature), loc.feature.values[0], atol=ATOL)
    meta = loc.cell.meta
    assert meta["feature_groups"] == {"ab": [0, 1], "Other features": [2]}
    cell = ex.game(
        x,
        "cell",
        pruned_index=idx,
        top_events=[f"Event -{b}" for b in meta["top_events"]],  # labels work as well
        top_features=meta["top_features"],
        feature_groups=groups,
    )
    assert cell.player_names == loc.cell.player_names
    np.testing.assert_allclose(brute_force_shapley(cell), loc.cell.values[0], atol=ATOL)


@pytest.mark.parametrize("kind", ["recurrent", "plain"])
def test_game_for_reproduces_every_level(net, data, kind, tmp_path):
    x, bg = data
    ex = make_explainer(kind, net, bg)
    loc = ex.explain(x, levels=LEVELS, window=2, pruning_tol=0.01, feature_groups={"g": [0, 2]})
    assert loc.pruning.pruned_index == -5  # two events pruned
    for level, exp in loc.levels.items():
        json.dumps(exp.meta)  # the record is JSON-serialisable
        assert exp.meta["level"] == level
        assert exp.meta["pruned_index"] == loc.pruning.pruned_index
        path = exp.save(tmp_path / f"{level}.json")
        for source in (exp, Explanation.load(path)):
            game = ex.game_for(x, source)
            assert game.player_names == exp.player_names
            est = estimate(game, "exact", budget=2**game.n_players)
            np.testing.assert_allclose(est.values, exp.values[0], atol=ATOL)
            np.testing.assert_allclose(est.base, exp.base_values[0], atol=ATOL)
            np.testing.assert_allclose(est.full, exp.outputs[0], atol=ATOL)
    # the metrics' wrapper is the same game
    game = sequence_game(ex, x, loc.cell)
    np.testing.assert_allclose(brute_force_shapley(game), loc.cell.values[0], atol=ATOL)


def test_explain_level_matches_explain_and_takes_per_call_options(net, data):
    x, bg = data
    ex = SequenceExplainer(net, bg, feature_names=NAMES, seed=4)
    loc = ex.explain(x, levels=("event", "window"), window=2, pruned_index=-5, pruning_tol=None)
    ev = ex.explain_level(x, "event", pruned_index=-5)
    np.testing.assert_array_equal(ev.values, loc.event.values)  # same seed, same generator
    assert ev.player_names == loc.event.player_names and ev.seed == 4
    win = ex.explain_level(x, "window", window=2, pruned_index=-5)
    np.testing.assert_allclose(win.values, loc.window.values, atol=ATOL)

    # a per-call budget, seed and method; the explainer's own stay as they were
    kw = dict(pruned_index=-5, budget=24, method="kernel")
    a = ex.explain_level(x, "event", seed=1, **kw)
    b = ex.explain_level(x, "event", seed=1, **kw)
    c = ex.explain_level(x, "event", seed=2, **kw)
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.array_equal(a.values, c.values)
    assert (a.budget, a.seed, a.method, a.exact) == (24, 1, "kernel", False)
    assert a.n_evaluations[0] <= 24
    assert (ex.budget, ex.seed, ex.method) == (None, 4, "auto")
    assert a.efficiency_gap.max() < 1e-9

    # a cell level with given events and features, rebuilt by game_for
    cell = ex.explain_level(x, "cell", top_events=[1, 4], top_features=["c", 0])
    assert cell.player_names[:2] == ["Event -1, c", "Event -1, a"]
    assert cell.meta["top_events"] == [1, 4] and cell.meta["top_features"] == ["c", "a"]
    assert cell.meta["pruned_index"] is None
    game = ex.game_for(x, cell)
    np.testing.assert_allclose(brute_force_shapley(game), cell.values[0], atol=ATOL)


def test_custom_players(net, data):
    x, bg = data
    ex = SequenceExplainer(net, bg, feature_names=NAMES, recurrent=False)
    masks = np.zeros((2, T, D), dtype=bool)
    masks[0, -2:] = True
    masks[1, :-2] = True
    players = Players(["recent", "older"], masks, "window")
    game = ex.game(x, players=players)
    ref = MaskedGame(lambda v: net(torch.as_tensor(v))[0].detach().numpy(), x, bg, masks)
    np.testing.assert_allclose(brute_force_shapley(game), brute_force_shapley(ref), atol=ATOL)
    exp = ex.explain_level(x, players=players)
    assert exp.meta["custom_players"] and exp.player_names == ["recent", "older"]
    with pytest.raises(ValueError, match="players=... of your own"):
        ex.game_for(x, exp)
    np.testing.assert_allclose(
        brute_force_shapley(sequence_game(ex, x, exp, masks=masks)), exp.values[0], atol=ATOL
    )


def test_faithfulness_runs_at_cell_and_window_level(net, data):
    x, bg = data
    ex = SequenceExplainer(net, bg, feature_names=NAMES)
    loc = ex.explain(x, levels=("cell", "window"), window=3, pruning_tol=0.01)
    for level in ("cell", "window"):
        exp = getattr(loc, level)
        res = sequence_faithfulness(ex, x, loc, level=level, n_random=0)
        assert res.summary["n_players"].iloc[0] == exp.n_players
        dele = res.curves.query("curve == 'deletion' and output == 'output 0'")
        # deleting no player leaves f(x); deleting all of them leaves the base value
        assert dele["value"].iloc[0] == pytest.approx(exp.outputs[0, 0], abs=ATOL)
        assert dele["value"].iloc[-1] == pytest.approx(exp.base_values[0, 0], abs=ATOL)


def test_bad_arguments_say_what_to_do(net, data):
    x, bg = data
    ex = SequenceExplainer(net, bg, feature_names=NAMES)
    with pytest.raises(ValueError, match="level must be one of"):
        ex.game(x, "token")
    with pytest.raises(ValueError, match="level must be one of"):
        ex.game(x)
    with pytest.raises(ValueError, match=r"pruned_index must lie in \[-7, -1\]"):
        ex.game(x, "event", pruned_index=0)
    with pytest.raises(TypeError, match=r"top_events must be a list.*top_events=k"):
        ex.game(x, "cell", top_events=2, top_features=[0])
    with pytest.raises(ValueError, match="needs top_features"):
        ex.game(x, "cell", top_events=[1])
    with pytest.raises(ValueError, match="outside the 3 unpruned events"):
        ex.game(x, "cell", top_events=[4], top_features=["a"], pruned_index=-3)
    with pytest.raises(ValueError, match="not an event label"):
        ex.game(x, "cell", top_events=["last"], top_features=["a"])
    with pytest.raises(ValueError, match="twice"):
        ex.game(x, "cell", top_events=[1, 1], top_features=["a"])
    with pytest.raises(ValueError, match=r"'z', which is not one of the features"):
        ex.game(x, "cell", top_events=[1], top_features=["z"])
    with pytest.raises(ValueError, match="index 3 is out of range for 3 features"):
        ex.game(x, "cell", top_events=[1], top_features=[3])
    with pytest.raises(ValueError, match="top_events is used at cell level only"):
        ex.game(x, "event", top_events=[1])
    with pytest.raises(ValueError, match="needs window="):
        ex.game(x, "window")
    with pytest.raises(TypeError, match="reuse_states must be True or False"):
        ex.game(x, "event", reuse_states="yes")
    with pytest.raises(TypeError, match="players must be a seqshap.sequence.Players"):
        ex.game(x, players=np.ones((1, T, D), dtype=bool))
    players = event_players(T, D)
    with pytest.raises(ValueError, match=r"leave out \['pruned_index'\]"):
        ex.game(x, players=players, pruned_index=-2)
    with pytest.raises(ValueError, match="players.masks must be a boolean array"):
        ex.game(x[1:], players=players)
    with pytest.raises(ValueError, match="level is 'cell' but players.level is 'event'"):
        ex.game(x, "cell", players=players)
    with pytest.raises(ValueError, match="method must be one of"):
        ex.explain_level(x, "event", method="shap")
    with pytest.raises(TypeError, match="budget must be an integer"):
        ex.explain_level(x, "event", budget=1.5)

    loc = ex.explain(x, levels=("event", "cell"), pruning_tol=None)
    with pytest.raises(ValueError, match="do not match x"):
        ex.game_for(x[1:], loc.event)
    with pytest.raises(TypeError, match="explanation must be a seqshap Explanation"):
        ex.game_for(x, loc)
    old = dataclasses.replace(loc.cell, meta={"pruned_index": None, "length": T})
    with pytest.raises(ValueError, match=r"lacks \['top_events', 'top_features'\]"):
        ex.game_for(x, old)
    with pytest.raises(ValueError, match="needs masks"):  # the metrics' wrapper adds the hint
        sequence_game(ex, x, old)
    renamed = dataclasses.replace(loc.event, player_names=list(loc.event.player_names[::-1]))
    with pytest.raises(ValueError, match="do not match the explanation's"):
        ex.game_for(x, renamed)


def test_prepare_and_output_names(net, data):
    x, bg = data
    ex = SequenceExplainer(net, bg, feature_names=NAMES, output=[1])
    assert ex.output_names is None
    assert ex.prepare(x) == ["output 1"]
    assert ex.output_names == ["output 1"]
    with pytest.raises(ValueError, match="x has 2 features per event"):
        ex.prepare(x[:, :2])
