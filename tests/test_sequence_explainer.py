"""SequenceExplainer: closed forms on linear models, brute force on GRU/LSTM, both paths,
variable length, multi-output, global summaries."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqshap.games import MaskedGame
from seqshap.sequence import (
    SequenceExplainer,
    average_sequence,
    cell_players,
    event_players,
    feature_players,
    mean_event,
    median_event,
    mode_event,
    window_players,
)
from seqshap.testing import brute_force_shapley

T, D = 8, 3
NAMES = ["a", "b", "c"]


# ---------------------------------------------------------------------------- linear model
@pytest.fixture(scope="module")
def linear():
    """f(x) = (Σ W1 ⊙ x, Σ W2 ⊙ x); only the last 3 steps have weight in W1 and W2."""
    rng = np.random.default_rng(1)
    w = rng.normal(size=(2, T, D))
    w[:, : T - 3] = 0.0
    x = rng.normal(size=(T, D))
    bg = rng.normal(size=(2, T, D))
    bw = np.array([0.25, 0.75])

    def f(v):
        return np.einsum("ntd,ktd->nk", v, w)

    contrib = w * (x - np.einsum("m,mtd->td", bw, bg))[None]  # (k, T, d)
    return f, x, bg, bw, contrib


def _bg(bg, bw):
    from seqshap.background import Background

    return Background(bg, bw)


def test_linear_closed_forms_every_level(linear):
    f, x, bg, bw, c = linear
    ex = SequenceExplainer(f, _bg(bg, bw), feature_names=NAMES)
    loc = ex.explain(
        x,
        levels=("event", "feature", "cell", "window"),
        window=2,
        pruning_tol=1e-9,
        top_events=1,
        top_features=1,
    )
    # pruning: steps before T-3 have no weight, so the older events stop mattering at t = -3
    assert loc.pruning.pruned_index == -3
    assert loc.pruning.n_pruned == T - 3
    curve = loc.pruning.curve
    assert list(curve.columns) == ["t", "player", "output", "value"]
    assert len(curve) == 2 * (T + 1) * 2
    for s in range(T + 1):
        t = s - T
        older = curve[(curve.t == t) & (curve.player == "older")].value.to_numpy()
        recent = curve[(curve.t == t) & (curve.player == "recent")].value.to_numpy()
        np.testing.assert_allclose(older, c[:, :s].sum((1, 2)), atol=1e-12)
        np.testing.assert_allclose(recent, c[:, s:].sum((1, 2)), atol=1e-12)
    # event level: Event -1..-3, then Pruned Events (value 0: no weight there)
    ev = loc.event
    assert ev.player_names == ["Event -1", "Event -2", "Event -3", "Pruned Events"]
    expected = np.stack([c[:, T - 1], c[:, T - 2], c[:, T - 3]]).sum(2)
    np.testing.assert_allclose(ev.values[0, :3], expected, atol=1e-12)
    np.testing.assert_allclose(ev.values[0, 3], 0.0, atol=1e-12)
    # feature level over the kept window
    np.testing.assert_allclose(loc.feature.values[0, :3], c[:, T - 3 :].sum(1).T, atol=1e-12)
    # window level: windows of 2 counted back, the oldest shorter
    assert loc.window.player_names == ["Events -2..-1", "Events -3..-3", "Pruned Events"]
    np.testing.assert_allclose(loc.window.values[0, 0], c[:, T - 2 :].sum((1, 2)), atol=1e-12)
    # cell level: top event and feature by max |value| over outputs
    top_e = int(np.argmax(np.abs(expected).max(1)))
    top_f = int(np.argmax(np.abs(c[:, T - 3 :].sum(1)).max(0)))
    row = T - 1 - top_e
    cell = dict(zip(loc.cell.player_names, loc.cell.values[0]))
    np.testing.assert_allclose(
        cell[f"Event -{top_e + 1}, {NAMES[top_f]}"], c[:, row, top_f], atol=1e-12
    )
    others = [j for j in range(D) if j != top_f]
    np.testing.assert_allclose(
        cell[f"Other features of Event -{top_e + 1}"], c[:, row, others].sum(1), atol=1e-12
    )
    for exp in loc.levels.values():
        assert exp.exact
        assert exp.efficiency_gap.max() < 1e-12
        np.testing.assert_allclose(exp.outputs[0] - exp.base_values[0], c.sum((1, 2)), atol=1e-12)
    frame = loc.to_frame()
    assert set(frame.level) == {"event", "feature", "cell", "window"}
    assert {"player", "output", "value", "std_error", "level", "entity"} <= set(frame.columns)


def test_output_selection_and_names(linear):
    f, x, bg, bw, c = linear
    full = SequenceExplainer(f, _bg(bg, bw)).explain(x, levels=("event",), pruning_tol=None)
    one = SequenceExplainer(f, _bg(bg, bw), output=1).explain(
        x, levels=("event",), pruning_tol=None
    )
    named = SequenceExplainer(f, _bg(bg, bw), output="output 1").explain(
        x, levels=("event",), pruning_tol=None
    )
    assert one.event.output_names == ["output 1"]
    np.testing.assert_allclose(one.event.values[0, :, 0], full.event.values[0, :, 1])
    np.testing.assert_allclose(named.event.values, one.event.values)
    with pytest.raises(ValueError, match="output 'nope' not found"):
        SequenceExplainer(f, _bg(bg, bw), output="nope").explain(x, pruning_tol=None)


def test_per_step_outputs_explain_the_chosen_step(linear):
    f, x, bg, bw, c = linear

    w = f_w(f)

    def per_step(v):  # (n, T, 2): the linear score of the prefix up to each step
        return np.cumsum(np.einsum("ntd,ktd->ntk", v, w), axis=1)

    last = SequenceExplainer(per_step, _bg(bg, bw)).explain(x, levels=("event",), pruning_tol=None)
    ref = SequenceExplainer(f, _bg(bg, bw)).explain(x, levels=("event",), pruning_tol=None)
    np.testing.assert_allclose(last.event.values, ref.event.values, atol=1e-12)
    mid = SequenceExplainer(per_step, _bg(bg, bw), time_step=T - 2).explain(
        x, levels=("event",), pruning_tol=None
    )
    np.testing.assert_allclose(mid.event.values[0, 0], 0.0, atol=1e-12)  # Event -1 is later
    np.testing.assert_allclose(mid.event.values[0, 1], c[:, T - 2].sum(1), atol=1e-12)


def f_w(f):
    """Recover the weights of the linear fixture model by probing unit inputs."""
    eye = np.eye(T * D).reshape(T * D, T, D)
    return f(eye).T.reshape(2, T, D)


# ---------------------------------------------------------------------------- GRU / LSTM
torch = pytest.importorskip("torch")


class Net(torch.nn.Module):
    def __init__(self, cell: str, hidden: int = 6, k: int = 2):
        super().__init__()
        rnn = torch.nn.GRU if cell == "gru" else torch.nn.LSTM
        self.rnn = rnn(D, hidden, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(hidden, k)

    def forward(self, x, h=None):
        out, h = self.rnn(x, h)
        return torch.sigmoid(self.head(out[:, -1])), h


@pytest.fixture(scope="module", params=["gru", "lstm"])
def net(request):
    torch.manual_seed(7)
    model = Net(request.param).double()
    with torch.no_grad():
        for p in model.parameters():
            p.mul_(3.0)
    model.train()  # the explainer must leave the user's mode alone
    return model


@pytest.fixture(scope="module")
def seqs():
    rng = np.random.default_rng(2)
    return rng.normal(size=(T, D)), rng.normal(size=(2, T, D))


def _reference(model, x, bg, players):
    def f(v):
        with torch.no_grad():
            was = model.training
            model.eval()
            out = model(torch.as_tensor(v))[0].numpy()
            model.train(was)
        return out

    return brute_force_shapley(MaskedGame(f, x, bg, players.masks))


@pytest.mark.parametrize("tol", [None, 0.02])
def test_gru_lstm_every_level_equals_brute_force_on_both_paths(net, seqs, tol):
    x, bg = seqs
    x_before, bg_before = x.copy(), bg.copy()
    results = {}
    for recurrent in (True, False):
        ex = SequenceExplainer(net, bg, feature_names=NAMES, recurrent=recurrent)
        loc = ex.explain(x, levels=("event", "feature", "cell"), pruning_tol=tol)
        assert ex.uses_hidden_states is recurrent
        results[recurrent] = loc
    fast, plain = results[True], results[False]
    n_pruned = 0 if tol is None else fast.pruning.n_pruned
    if tol is not None:
        assert fast.pruning.pruned_index == plain.pruning.pruned_index
        np.testing.assert_allclose(fast.pruning.older, plain.pruning.older, atol=1e-10)
        assert -T <= fast.pruning.pruned_index <= -1
    top_e = [int(n.split(", ")[0].split("-")[1]) for n in fast.cell.player_names if ", " in n]
    refs = {
        "event": event_players(T, D, n_pruned),
        "feature": feature_players(T, NAMES, n_pruned),
    }
    for level, players in refs.items():
        phi = _reference(net, x, bg, players)
        for loc in (fast, plain):
            exp = getattr(loc, level)
            assert exp.player_names == players.names
            np.testing.assert_allclose(exp.values[0], phi, atol=1e-9)
            assert exp.efficiency_gap.max() < 1e-9
    np.testing.assert_allclose(fast.cell.values, plain.cell.values, atol=1e-9)
    assert fast.cell.player_names == plain.cell.player_names
    assert fast.cell.efficiency_gap.max() < 1e-9
    assert top_e  # the cells of at least one top event were players
    assert net.training  # mode restored
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(bg, bg_before)


def test_cell_level_equals_brute_force(net, seqs):
    x, bg = seqs
    ex = SequenceExplainer(net, bg, feature_names=NAMES, recurrent=True)
    loc = ex.explain(x, levels=("cell",), pruning_tol=0.02, top_events=2, top_features=1)
    assert loc.event is None and loc.feature is None
    names = loc.cell.player_names
    back = sorted({int(n.split(", ")[0].split("-")[1]) for n in names if ", " in n})
    feats = sorted({NAMES.index(n.split(", ")[1]) for n in names if ", " in n})
    n_pruned = loc.pruning.n_pruned
    # rebuild the same players in any order of the tops
    ev_order = [int(n.split(", ")[0].split("-")[1]) for n in names if ", " in n]
    ev_order = list(dict.fromkeys(ev_order))
    players = cell_players(T, NAMES, ev_order, [(NAMES[j], [j]) for j in feats], n_pruned)
    assert players.names == names
    assert len(back) <= 2 and len(feats) == 1
    np.testing.assert_allclose(loc.cell.values[0], _reference(net, x, bg, players), atol=1e-9)


def test_timeshap_callable_with_hidden_states_equals_module(net, seqs):
    x, bg = seqs

    def f(v, h=None):  # TimeSHAP's convention
        with torch.no_grad():
            s, h = net.eval()(torch.as_tensor(v), h)
        return s.numpy(), h

    try:
        a = SequenceExplainer(f, bg).explain(x, levels=("event", "window"), window=3)
    finally:
        net.train()
    b = SequenceExplainer(net, bg, recurrent=False).explain(x, levels=("event", "window"), window=3)
    np.testing.assert_allclose(a.event.values, b.event.values, atol=1e-10)
    np.testing.assert_allclose(a.window.values, b.window.values, atol=1e-10)
    assert a.event.meta["path"] == "recurrent" and b.event.meta["path"] == "plain"


@pytest.mark.parametrize("batch_size", [1, 7, 1024])
def test_batch_size_invariance(net, seqs, batch_size):
    x, bg = seqs
    ref = SequenceExplainer(net, bg, batch_size=1024).explain(x, levels=("event", "feature"))
    got = SequenceExplainer(net, bg, batch_size=batch_size).explain(x, levels=("event", "feature"))
    np.testing.assert_allclose(got.event.values, ref.event.values, atol=1e-12)
    np.testing.assert_allclose(got.feature.values, ref.feature.values, atol=1e-12)
    np.testing.assert_allclose(got.pruning.older, ref.pruning.older, atol=1e-12)


def test_kernel_method_seeded_and_efficient(net, seqs):
    x, bg = seqs
    kw = dict(method="kernel", budget=40, seed=5)
    a = SequenceExplainer(net, bg, **kw).explain(x, levels=("event",), pruning_tol=None)
    b = SequenceExplainer(net, bg, **kw).explain(x, levels=("event",), pruning_tol=None)
    c = SequenceExplainer(net, bg, **kw, recurrent=False).explain(
        x, levels=("event",), pruning_tol=None
    )
    np.testing.assert_array_equal(a.event.values, b.event.values)
    np.testing.assert_allclose(a.event.values, c.event.values, atol=1e-10)
    assert not a.event.exact
    assert a.event.efficiency_gap.max() < 1e-9


# ---------------------------------------------------------------------------- many sequences
def _level_values(run, entity, level="event"):
    """Values ``(M, k)`` of one sequence of a GlobalRun, players in the table's order."""
    f = run.level_frame(level)
    f = f[f.entity == str(entity)]
    return f.value.to_numpy().reshape(f.player.nunique(), -1), list(dict.fromkeys(f.player))


def test_variable_length_list_padded_and_frame_agree(net):
    rng = np.random.default_rng(4)
    lens = [5, 8, 3]
    parts = [rng.normal(size=(n, D)) for n in lens]
    ev = mean_event(parts)
    ex = SequenceExplainer(net, ev, feature_names=NAMES)
    glob = ex.explain_global(parts, levels=("event", "feature"), pruning_tol=0.02)
    pf = glob.pruning_frame()
    for i, part in enumerate(parts):
        single = ex.explain(part, levels=("event", "feature"), pruning_tol=0.02)
        values, names = _level_values(glob, i)
        assert names == single.event.player_names
        np.testing.assert_allclose(values, single.event.values[0], rtol=0, atol=1e-12)
        row = pf[pf.entity == str(i)].iloc[0]
        assert row.length == len(part) and row.pruned_index == single.pruning.pruned_index
    post = np.zeros((3, 8, D))
    pre = np.full((3, 8, D), np.nan)
    for i, p in enumerate(parts):
        post[i, : len(p)] = p
        pre[i, 8 - len(p) :] = p
    for padded, padding in ((post, "post"), (pre, "pre")):
        g2 = ex.explain_global(padded, lengths=lens, padding=padding, levels=("event",))
        for i in range(3):
            np.testing.assert_allclose(
                _level_values(g2, i)[0], _level_values(glob, i)[0], rtol=0, atol=1e-12
            )
    long = pd.DataFrame(
        [
            {"id": f"s{i}", "time": t, **dict(zip(NAMES, row))}
            for i, p in enumerate(parts)
            for t, row in reversed(list(enumerate(p)))  # unsorted on purpose
        ]
    )
    g3 = ex.explain_global(long, entity_col="id", time_col="time", levels=("event",))
    assert g3.entities == ["s0", "s1", "s2"]
    for i in range(3):
        np.testing.assert_allclose(
            _level_values(g3, f"s{i}")[0], _level_values(glob, i)[0], rtol=0, atol=1e-12
        )


def test_global_summaries(net):
    rng = np.random.default_rng(6)
    X = rng.normal(size=(4, T, D))
    ex = SequenceExplainer(net, "mean_event", data=X, feature_names=NAMES)
    ids = ["a", "b", "c", "d"]
    glob = ex.explain_global(X, entity_ids=ids, pruning_tol=0.02, keep_curve=True)
    stats = glob.pruning_stats(tols=(0.05, 0.075))  # from the kept curves
    assert list(stats.columns) == ["Tolerance", "Mean", "Std"]
    assert stats.Tolerance.tolist() == ["No Pruning", 0.05, 0.075]
    assert stats.Mean[0] == T
    kept = [-ex.prune(x, 0.05).pruned_index for x in X]
    assert stats.Mean[1] == pytest.approx(np.mean(kept), rel=0, abs=1e-12)
    assert stats.Mean[1] >= stats.Mean[2]  # a larger tolerance prunes at least as much
    # the same statistics from a run at those tolerances: one meaning everywhere
    direct = ex.explain_global(X, entity_ids=ids, pruning_tol=[0.05, 0.075], levels=("event",))
    pd.testing.assert_frame_equal(direct.pruning_stats(), stats)
    pd.testing.assert_frame_equal(direct.pruning_stats((0.05, 0.075)), stats)
    with pytest.raises(ValueError, match="keep_curve=True"):
        direct.pruning_stats((0.01,))
    ev = glob.event_frame
    assert list(ev.columns) == [
        "entity",
        "player",
        "t",
        "output",
        "value",
        "std_error",
        "predicted",
    ]
    assert set(ev.entity) == {"a", "b", "c", "d"}
    rows = ev[ev.player != "Pruned Events"]
    assert (rows.t == -rows.player.str.slice(7).astype(int)).all()
    assert ev[ev.player == "Pruned Events"].t.isna().all()
    ft = glob.feature_frame
    assert list(ft.columns) == ["entity", "feature", "output", "value", "std_error", "predicted"]
    feat = glob.feature
    assert feat.values.shape[0] == 4 and feat.player_names[:3] == NAMES
    assert feat.efficiency_gap.max() < 1e-9
    pf = glob.pruning_frame((0.05,))
    assert list(pf.columns) == ["position", "entity", "tol", "pruned_index", "length", "kept"]
    assert (pf.length == T).all() and (pf.kept == -pf.pruned_index).all()


def test_global_seeds_depend_only_on_entity(net):
    rng = np.random.default_rng(8)
    a, b, c = rng.normal(size=(3, T, D))
    ex = SequenceExplainer(net, np.zeros(D), method="kernel", budget=30, seed=3)
    kw = dict(levels=("event",), pruning_tol=None)
    g1 = ex.explain_global([a, b], entity_ids=["a", "b"], **kw)
    g2 = ex.explain_global([c, b, a], entity_ids=["c", "b", "a"], chunk_size=1, **kw)
    for ent in ("a", "b"):
        np.testing.assert_array_equal(_level_values(g1, ent)[0], _level_values(g2, ent)[0])
    other = SequenceExplainer(net, np.zeros(D), method="kernel", budget=30, seed=4)
    g3 = other.explain_global([a, b], entity_ids=["a", "b"], **kw)
    assert not np.array_equal(_level_values(g1, "a")[0], _level_values(g3, "a")[0])


# ---------------------------------------------------------------------------- baselines
def test_baseline_helpers():
    seqs = [np.array([[1.0, 0.0], [3.0, 0.0]]), np.array([[5.0, 1.0]])]
    np.testing.assert_allclose(mean_event(seqs), [3.0, 1 / 3])
    np.testing.assert_allclose(median_event(seqs), [3.0, 0.0])
    np.testing.assert_allclose(mode_event(seqs), [1.0, 0.0])
    # aligned at the most recent event: last step averages 3 and 5, the first only has 1
    np.testing.assert_allclose(average_sequence(seqs), [[1.0, 0.0], [4.0, 0.5]])
    padded = np.array([[[1.0, 0.0], [3.0, 0.0]], [[5.0, 1.0], [np.nan, np.nan]]])
    np.testing.assert_allclose(mean_event(padded, lengths=[2, 1]), [3.0, 1 / 3])


def test_baseline_kinds_agree(linear):
    f, x, bg, bw, c = linear
    ev = bg[0].mean(0)
    vals = [
        SequenceExplainer(f, b).explain(x, levels=("event",), pruning_tol=None).event.values
        for b in (ev, np.tile(ev, (T, 1)), np.tile(ev, (1, T, 1)))
    ]
    np.testing.assert_allclose(vals[0], vals[1], atol=1e-12)
    np.testing.assert_allclose(vals[0], vals[2], atol=1e-12)
    zeros = SequenceExplainer(f, "zeros").explain(x, levels=("event",), pruning_tol=None)
    np.testing.assert_allclose(zeros.event.base_values, 0.0, atol=1e-12)


# ---------------------------------------------------------------------------- bad input
def test_bad_input_messages(linear):
    f, x, bg, bw, c = linear
    ex = SequenceExplainer(f, bg)
    bad = x.copy()
    bad[2, 1] = np.nan
    with pytest.raises(ValueError, match="x contains NaN"):
        ex.explain(bad)
    with pytest.raises(ValueError, match="x must be 2-D or 3-D"):
        ex.explain(x[0, 0])
    with pytest.raises(ValueError, match="must be one sequence"):
        ex.explain(np.stack([x, x]))
    with pytest.raises(ValueError, match="x has 3 features per event but the baseline.* has 2"):
        SequenceExplainer(f, np.zeros(2)).explain(x)
    with pytest.raises(ValueError, match="pruning_tol must be >= 0"):
        ex.explain(x, pruning_tol=-0.1)
    with pytest.raises(ValueError, match="empty sequence"):
        ex.explain(np.zeros((0, D)))
    with pytest.raises(ValueError, match="empty sequence"):
        ex.explain_global([x, np.zeros((0, D))])
    with pytest.raises(ValueError, match="lengths must lie in"):
        ex.explain_global(np.stack([x, x]), lengths=[3, 0])
    with pytest.raises(ValueError, match="give window="):
        ex.explain(x, levels=("window",))
    with pytest.raises(ValueError, match="levels must be"):
        ex.explain(x, levels=("events",))
    with pytest.raises(ValueError, match="data is None"):
        SequenceExplainer(f, "mean_event")
    with pytest.raises(ValueError, match="baseline sequences have 4 steps"):
        SequenceExplainer(f, bg[:, -4:]).explain(x)
    with pytest.raises(ValueError, match="in two feature groups"):
        SequenceExplainer(f, bg, feature_names=NAMES).explain(
            x, feature_groups={"g1": ["a", "b"], "g2": ["b"]}
        )
    with pytest.raises(ValueError, match="method must be one of"):
        SequenceExplainer(f, bg, method="magic")
    with pytest.raises(ValueError, match=r"must return \(scores, hidden_state\)"):
        SequenceExplainer(f, bg, recurrent=True).explain(x)


def test_unknown_hidden_state_layout_through_the_explainer(seqs):
    x, bg = seqs

    def f(v, h=None):
        return np.ones((len(v), 1)), np.zeros((len(v), 2, 4))  # batch on axis 0

    with pytest.raises(ValueError, match="hidden state has an unknown layout"):
        SequenceExplainer(f, bg, recurrent=True).explain(x, levels=("event",))


def test_feature_groups(linear):
    f, x, bg, bw, c = linear
    ex = SequenceExplainer(f, _bg(bg, bw), feature_names=NAMES)
    loc = ex.explain(
        x, levels=("feature", "cell"), pruning_tol=None, feature_groups={"ab": ["a", "b"]}
    )
    assert loc.feature.player_names == ["ab", "Other features"]
    np.testing.assert_allclose(loc.feature.values[0, 0], c[:, :, :2].sum((1, 2)), atol=1e-12)
    assert loc.cell.efficiency_gap.max() < 1e-12


def test_window_players_partition_the_window():
    p = window_players(10, 2, 3, n_pruned=2)
    assert p.names == ["Events -3..-1", "Events -6..-4", "Events -8..-7", "Pruned Events"]
    assert (p.masks.sum(0) == 1).all()


def test_logit_link_efficiency_and_dataframe_sequence(net, seqs):
    x, bg = seqs
    ex = SequenceExplainer(net, bg, link="logit", feature_names=NAMES)
    loc = ex.explain(pd.DataFrame(x, columns=NAMES), levels=("event", "feature"))
    with torch.no_grad():
        was = net.training
        net.eval()
        fx = net(torch.as_tensor(x[None]))[0].numpy()[0]
        fb = net(torch.as_tensor(bg))[0].numpy().mean(0)
        net.train(was)
    logit = np.log(fx / (1 - fx))
    np.testing.assert_allclose(loc.event.outputs[0], logit, atol=1e-9)
    np.testing.assert_allclose(loc.event.base_values[0], np.log(fb / (1 - fb)), atol=1e-9)
    for exp in loc.levels.values():
        assert exp.link == "logit"
        assert exp.efficiency_gap.max() < 1e-9
    plain = SequenceExplainer(net, bg, link="logit", recurrent=False).explain(x, levels=("event",))
    np.testing.assert_allclose(plain.event.values, loc.event.values, atol=1e-9)
    np.testing.assert_allclose(plain.pruning.older, loc.pruning.older, atol=1e-9)
    with pytest.raises(ValueError, match="give entity_col"):
        ex.explain_global(pd.DataFrame(x, columns=NAMES))


def test_fixed_pruned_index(linear):
    f, x, bg, bw, c = linear
    ex = SequenceExplainer(f, _bg(bg, bw))
    loc = ex.explain(x, levels=("event",), pruned_index=-5)
    assert loc.pruning is None and loc.event.meta["pruned_index"] == -5
    assert loc.event.player_names[-1] == "Pruned Events" and loc.event.n_players == 6
    np.testing.assert_allclose(loc.event.values[0, -1], c[:, : T - 5].sum((1, 2)), atol=1e-12)
    with pytest.raises(ValueError, match="pruned_index must lie in"):
        ex.explain(x, pruned_index=0)


def test_per_step_recurrent_module_uses_states_for_the_last_step(seqs):
    x, bg = seqs

    class PerStep(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.GRU(D, 5, batch_first=True)
            self.head = torch.nn.Linear(5, 2)

        def forward(self, v, h=None):
            out, h = self.rnn(v, h)
            return self.head(out), h  # (n, T, 2): a score per step

    torch.manual_seed(1)
    net = PerStep().double().eval()

    def f(v, h=None):  # TimeSHAP's form, scores per step
        with torch.no_grad():
            out, h = net(torch.as_tensor(v), h)
        return out.numpy(), h

    fast = SequenceExplainer(f, bg, recurrent=True).explain(x, levels=("event", "feature"))
    plain = SequenceExplainer(net, bg, recurrent=False).explain(x, levels=("event", "feature"))
    assert fast.event.meta["path"] == "recurrent"
    np.testing.assert_allclose(fast.event.values, plain.event.values, atol=1e-10)
    np.testing.assert_allclose(fast.feature.values, plain.feature.values, atol=1e-10)
    with torch.no_grad():
        last = net(torch.as_tensor(x[None]))[0][0, -1].numpy()
    np.testing.assert_allclose(fast.event.outputs[0], last, atol=1e-10)
    mid = SequenceExplainer(f, bg, time_step=3).explain(x, levels=("event",), pruning_tol=None)
    assert mid.event.meta["path"] == "plain"  # another step: whole sequences
    np.testing.assert_allclose(mid.event.values[0, : T - 4], 0.0, atol=1e-12)  # later events
