"""TimeSHAP 1.0.4's defects, fixed in seqshap.timeshap: one test each.

Defects (TimeSHAP behaviour in brackets): missing ``nsamples`` [TypeError deep in the kernel];
DataFrame input [AttributeError/assertion]; the torch wrapper leaves the model in train mode;
a sequence whose score is within ``tol`` of the baseline's breaks global pruning [pruning
index 0, then an assertion in event_explain_all]; a 2-row background is mistaken for a hidden
state [``len(out) == 2``]; AIC-lasso silently zeroes values [``l1_reg='auto'`` below 20% of the
coalitions]; dicts given are mutated [``verify_*_dict`` rewrites ``rs``/``nsamples``/``tol``].
"""

from __future__ import annotations

import copy
from math import factorial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

import seqshap.timeshap as ts  # noqa: E402
from seqshap.timeshap._engine import coalitions_budget  # noqa: E402

FIX = Path(__file__).parent / "fixtures" / "timeshap"
T, D = 8, 3


def make_gru(seed: int = 3, dropout: float = 0.0):
    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.gru = torch.nn.GRU(D, 5, num_layers=2, batch_first=True, dropout=dropout)
            self.drop = torch.nn.Dropout(dropout)
            self.head = torch.nn.Linear(5, 1)

        def forward(self, x, h=None):
            _, hidden = self.gru(x) if h is None else self.gru(x, h)
            return torch.sigmoid(self.head(self.drop(hidden[-1])) * 3), hidden

    with torch.random.fork_rng():
        torch.manual_seed(seed)
        net = Net()
    return net.eval()


@pytest.fixture(scope="module")
def net():
    return make_gru()


@pytest.fixture(scope="module")
def f_hs(net):
    w = ts.TorchModelWrapper(net)
    return lambda x, y=None: w.predict_last_hs(x, y)


@pytest.fixture(scope="module")
def f_plain(net):
    w = ts.TorchModelWrapper(net)
    return lambda x: w.predict_last_hs(x)[0]


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).normal(size=(1, T, D))


@pytest.fixture(scope="module")
def base():
    return np.random.default_rng(1).normal(scale=0.2, size=(1, D))


def brute_force_events(f, seq, background):
    """Shapley values of the T events (Event -1 first) with background rows (m, T, d)."""
    m = seq.shape[0]
    z = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(bool)
    rows = z[:, ::-1]  # player i = Event -(i+1) = row T-1-i
    inputs = np.where(rows[:, None, :, None], seq[None, None], background[None])
    v = np.asarray(f(inputs.reshape(-1, m, seq.shape[1]))).reshape(2**m, len(background)).mean(1)
    phi = np.zeros(m)
    for i in range(m):
        for k, zk in enumerate(z):
            if not zk[i]:
                s = int(zk.sum())
                w = factorial(s) * factorial(m - s - 1) / factorial(m)
                phi[i] += w * (v[k | (1 << i)] - v[k])
    return phi


def test_missing_nsamples_uses_default_instead_of_crashing(f_hs, x, base):
    no_ns = ts.local_event(f_hs, x, {"rs": 42}, None, None, base, 0)
    explicit = ts.local_event(f_hs, x, {"rs": 42, "nsamples": 32000}, None, None, base, 0)
    assert list(no_ns["NSamples"]) == [32000] * T
    np.testing.assert_allclose(no_ns["Shapley Value"], explicit["Shapley Value"], atol=1e-12)
    feat = ts.local_feat(f_hs, x, {}, None, None, base, 0)  # neither rs nor nsamples
    assert list(feat["Random seed"]) == [42] * D


def test_dataframe_input_accepted_and_left_unchanged(f_hs, x, base):
    frame = pd.DataFrame(x[0], columns=["a", "b", "c"])
    frame.insert(0, "time", np.arange(T)[::-1] * 10)  # descending: must be sorted by time
    frame.insert(0, "id", "seq")
    shuffled = frame.iloc[::-1].reset_index(drop=True)  # now ascending time order reversed
    before = shuffled.copy()
    dicts = ({"tol": 0.05}, {"rs": 1, "nsamples": 1000}, {"rs": 1, "nsamples": 1000})
    out_df = ts.calc_local_report(
        f_hs, shuffled, *dicts, None, base, ["a", "b", "c"], "id", "seq", "time"
    )
    out_np = ts.calc_local_report(f_hs, x[0, ::-1][None], *dicts, None, base)
    pd.testing.assert_frame_equal(shuffled, before)
    for a, b in zip(out_df[:3], out_np[:3]):
        np.testing.assert_allclose(a["Shapley Value"], b["Shapley Value"], atol=1e-12)
    event = ts.local_event(f_hs, shuffled[["a", "b", "c"]], {}, None, None, base, 0)
    assert len(event) == T


def test_torch_wrapper_restores_train_mode_and_disables_dropout():
    net = make_gru(dropout=0.5)
    net.train()
    net.head.eval()  # a mixed state must come back as it was
    w = ts.TorchModelWrapper(net)
    xs = np.random.default_rng(2).normal(size=(4, T, D))
    first, _ = w.predict_last_hs(xs)
    second, _ = w.predict_last_hs(xs)
    np.testing.assert_array_equal(first, second)  # dropout off during the call
    assert net.training and net.gru.training and not net.head.training


def test_torch_wrapper_batches_and_states_round_trip(net):
    w = ts.TorchModelWrapper(net, batch_budget=3 * T)  # 3 sequences per forward pass
    xs = np.random.default_rng(3).normal(size=(7, T, D))
    full, h = ts.TorchModelWrapper(net).predict_last_hs(xs)
    batched, hb = w.predict_last_hs(xs)
    np.testing.assert_allclose(batched, full, atol=1e-6)
    np.testing.assert_allclose(hb, h, atol=1e-6)
    # continuing from the state of a prefix equals running the whole sequence
    _, h_pre = w.predict_last_hs(xs[:, :5])
    cont, _ = w.predict_last_hs(xs[:, 5:], h_pre)
    np.testing.assert_allclose(cont, full, atol=1e-6)


def test_sequence_near_baseline_does_not_break_global_pruning(f_hs):
    """TimeSHAP's prune_given_data returned 0 here and event_explain_all then failed."""
    with np.load(FIX / "inputs.npz", allow_pickle=False) as z:
        weights = {k[2:]: torch.from_numpy(z[k]) for k in z.files if k.startswith("w.")}
        near, far, baseline = z["near_x"], z["global_x"][:1], z["baseline"]
    from test_timeshap_compat import TinyGRU

    model = TinyGRU(3, 4)
    model.load_state_dict(weights)
    w = ts.TorchModelWrapper(model.eval())
    f = lambda a, h=None: w.predict_last_hs(a, h)  # noqa: E731
    tols = [0.05, 0.075]
    fx = f(near)[0][0, 0]
    fb = f(np.repeat(baseline[None], near.shape[1], axis=1))[0][0, 0]
    assert abs(fx - fb) < min(tols)  # the defect's precondition
    data = np.concatenate([near, far])
    prun = ts.prune_all(f, data, {"tol": tols}, baseline)
    idx = prun[prun["Tolerance"] > 0]["Pruning idx"].to_numpy()
    assert (idx <= -1).all()  # never 0: at least the most recent event is kept
    event = ts.event_explain_all(f, data, {"nsamples": 4000}, prun, baseline)
    assert set(event["Entity"]) == {0, 1}
    for (ent, _tol), rows in event.groupby(["Entity", "Tolerance"]):
        fx_e = f(data[ent : ent + 1])[0][0, 0]
        assert rows["Shapley Value"].sum() == pytest.approx(fx_e - fb, abs=1e-6)
    stats = ts.pruning_statistics(prun, tols)
    assert (stats["Mean"] >= 1).all()


def test_two_row_background_is_not_mistaken_for_a_hidden_state(f_plain, x):
    """A plain f returning 2 rows of scores for a 2-row background: values are Shapley values
    against the average over both background sequences."""
    background = np.random.default_rng(4).normal(size=(2, T, D))
    event = ts.local_event(f_plain, x, {"nsamples": 32000}, None, None, background, 0)
    expected = brute_force_events(f_plain, x[0], background)
    np.testing.assert_allclose(event["Shapley Value"], expected, atol=1e-6)
    assert ts.local_pruning(f_plain, x, {"tol": 0.01}, background)[1] < 0


def test_no_l1_regularisation_zeroes_values(f_hs, x, base):
    """100 of 2^8 - 2 coalitions (< 20%): TimeSHAP's l1_reg='auto' ran AIC-lasso here."""
    assert coalitions_budget(T, 100) == 102  # sampled, not enumerated
    exact = ts.local_event(f_hs, x, {"nsamples": 32000}, None, None, base, 0)["Shapley Value"]
    for rs in range(3):
        sampled = ts.local_event(f_hs, x, {"rs": rs, "nsamples": 100}, None, None, base, 0)
        vals = sampled["Shapley Value"].to_numpy()
        assert (vals != 0).all()
        assert vals.sum() == pytest.approx(exact.sum(), abs=1e-6)
        big = np.abs(exact.to_numpy()) > 0.2 * np.abs(exact).max()
        assert np.sign(vals[big]).tolist() == np.sign(exact.to_numpy()[big]).tolist()


def test_too_few_nsamples_still_determine_the_values():
    """nsamples below the number of players cannot determine a regression; the budget is
    raised to 2M + 2 so that the values stay finite and efficient."""

    def f(a):
        return np.tanh(np.asarray(a).sum(axis=(1, 2)))[:, None]

    seq = np.random.default_rng(0).normal(size=(1, 12, 2))
    b = np.zeros((1, 2))
    target = (f(seq) - f(np.zeros((1, 12, 2))))[0, 0]
    for rs in range(6):
        vals = ts.local_event(f, seq, {"rs": rs, "nsamples": 20}, None, None, b, 0)["Shapley Value"]
        assert vals.sum() == pytest.approx(target, abs=1e-9)
        assert np.abs(vals).max() < 2


def test_dicts_and_arrays_given_are_never_modified(f_hs, x, base):
    dicts = {
        "pruning": {"tol": 0.05},
        "event": {"rs": 42, "nsamples": 2000},
        "feature": {"rs": 42, "nsamples": 2000, "feature_names": ["a", "b", "c"],
                    "plot_features": {"a": "A", "b": "B", "c": "C"}},
        "cell": {"rs": 42, "nsamples": 2000, "top_x_events": 2, "top_x_feats": 2},
        "global_pruning": {"tol": [0.05, 0.1]},
    }  # fmt: skip
    saved = copy.deepcopy(dicts)
    x_saved, base_saved = x.copy(), base.copy()
    out = ts.calc_local_report(
        f_hs, x, dicts["pruning"], dicts["event"], dicts["feature"], dicts["cell"], base
    )
    ts.plot_local_report(dicts["pruning"], dicts["event"], dicts["feature"], dicts["cell"], *out)
    data = np.random.default_rng(5).normal(size=(3, T, D))
    data_saved = data.copy()
    prun = ts.prune_all(f_hs, data, dicts["global_pruning"], base)
    ev = ts.event_explain_all(f_hs, data, dicts["event"], prun, base)
    fe = ts.feat_explain_all(f_hs, data, dicts["feature"], prun, base)
    ts.plot_global_report(dicts["global_pruning"], dicts["event"], dicts["feature"], prun, ev, fe)
    assert dicts == saved
    np.testing.assert_array_equal(x, x_saved)
    np.testing.assert_array_equal(base, base_saved)
    np.testing.assert_array_equal(data, data_saved)


def test_multi_output_f_gets_a_clear_error(x, base):
    def two_outputs(a):
        a = np.asarray(a)
        return np.stack([a[:, -1, 0], a[:, -1, 1]], axis=1)

    with pytest.raises(ValueError, match="2 scores per sequence"):
        ts.local_event(two_outputs, x, {}, None, None, base, 0)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda f, x, b: ts.local_event(f, x, {}, None, None, b, T), "pruned_idx"),
        (lambda f, x, b: ts.local_event(f, x, {"nsamples": "many"}, None, None, b, 0), "nsamples"),
        (lambda f, x, b: ts.local_pruning(f, x, {"tol": -0.1}, b), "tol"),
        (lambda f, x, b: ts.local_pruning(f, x, {}, b), "tol"),
        (lambda f, x, b: ts.local_pruning(f, x, {"tol": [0.1, 0.2]}, b), "one pruning tolerance"),
        (lambda f, x, b: ts.local_event(f, x, {}, None, None, None, 0), "baseline"),
        (lambda f, x, b: ts.local_event(f, np.ones((2, T, D)), {}, None, None, b, 0), "one sequence"),
        (lambda f, x, b: ts.local_event(f, x, {}, None, None, np.ones((1, D + 1)), 0), "width|features"),
        (lambda f, x, b: ts.local_feat(f, x, {"feature_names": ["a"]}, None, None, b, 0), "feature_names"),
        (lambda f, x, b: ts.local_cell_level(f, x, {"rs": 1}, None, None, None, None, b, 0), "threshold"),
        (lambda f, x, b: ts.local_event(f, np.where(x > 1, np.nan, x), {}, None, None, b, 0), "NaN"),
        (lambda f, x, b: ts.local_pruning(f, np.ones((1, 0, D)), {"tol": 0.1}, b), "empty|at least"),
        (lambda f, x, b: ts.prune_all(f, np.ones((2, T)), {"tol": 0.1}, b), "entity_col"),
    ],
)  # fmt: skip
def test_bad_input_gets_a_clear_error(call, match, f_hs, x, base):
    with pytest.raises((ValueError, TypeError), match=match):
        call(f_hs, x, base)


def test_torch_wrapper_lstm_state_tuples_give_the_plain_path_values(x, base):
    class LSTMNet(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = torch.nn.LSTM(D, 4, num_layers=2, batch_first=True)
            self.head = torch.nn.Linear(4, 1)

        def forward(self, a, h=None):
            _, (hid, cell) = self.rnn(a) if h is None else self.rnn(a, h)
            return torch.sigmoid(self.head(hid[-1])), (hid, cell)

    with torch.random.fork_rng():
        torch.manual_seed(5)
        net = LSTMNet().eval()
    w = ts.TorchModelWrapper(net, batch_budget=2 * T)
    f_hs = lambda a, h=None: w.predict_last_hs(a, h)  # noqa: E731
    scores, (h, c) = f_hs(np.repeat(x, 5, axis=0))
    assert h.shape == c.shape == (2, 5, 4)
    with_states = ts.local_event(f_hs, x, {}, None, None, base, 3)
    plain = ts.local_event(lambda a: f_hs(a)[0], x, {}, None, None, base, 3)
    np.testing.assert_allclose(with_states["Shapley Value"], plain["Shapley Value"], atol=1e-6)
    assert with_states["Shapley Value"].sum() == pytest.approx(
        scores[0, 0] - f_hs(np.repeat(base[None], T, axis=1))[0][0, 0], abs=1e-6
    )
