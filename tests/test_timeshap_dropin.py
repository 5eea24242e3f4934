"""seqshap.timeshap as a drop-in for TimeSHAP 1.0.4: its module layout and names, TimeShapKernel
(closed forms, brute force, hidden-state path == plain path, TimeSHAP's call pattern), the
level functions, validators, list-returning stateful models and table dtypes."""

from __future__ import annotations

import importlib
import itertools

import numpy as np
import pandas as pd
import pytest

import seqshap.timeshap as ts
from seqshap.games import FunctionGame
from seqshap.testing import brute_force_shapley
from seqshap.timeshap.explainer.kernel import TimeShapKernel

T, D, H = 6, 3, 4


class TinyRNN:
    """A numpy Elman RNN in TimeSHAP's form ``f(x, h=None) -> (scores, h)`` (h: (1, n, H))."""

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.w = rng.normal(scale=0.8, size=(D, H))
        self.u = rng.normal(scale=0.5, size=(H, H))
        self.v = rng.normal(size=H)
        self.calls = 0

    def __call__(self, x, h=None):
        self.calls += 1
        x = np.asarray(x, dtype=float)
        state = np.zeros((len(x), H)) if h is None else np.asarray(h)[0]
        for t in range(x.shape[1]):
            state = np.tanh(x[:, t] @ self.w + state @ self.u)
        return 1 / (1 + np.exp(-(state @ self.v)))[:, None], state[None]

    def plain(self, x):
        return self(x)[0]


@pytest.fixture
def rnn():
    return TinyRNN()


@pytest.fixture(scope="module")
def seq():
    return np.random.default_rng(1).normal(size=(1, T, D))


BASELINE = pd.DataFrame([[0.1, -0.2, 0.3]], columns=["a", "b", "c"])
W = np.random.default_rng(2).normal(size=(T, D))


def linear(x):
    return (np.asarray(x, dtype=float) * W).sum(axis=(1, 2))[:, None]


def masked_value(f, x, bg, masks):
    """Brute-force game: v(S) = f(x where players of S are present, else the baseline)."""

    def value(z):
        z = np.atleast_2d(z).astype(bool)
        present = np.tensordot(z, masks, axes=1) > 0
        return f(np.where(present, x, bg))[:, 0]

    return value


# ---------------------------------------------------------------------- layout and names
@pytest.mark.parametrize(
    "module,names",
    [
        ("seqshap.timeshap", ["__version__", "TimeShapKernel", "event_level", "local_report"]),
        ("seqshap.timeshap.explainer", ["TimeShapKernel", "validate_local_input", "prune_all"]),
        ("seqshap.timeshap.explainer.kernel", ["TimeShapKernel"]),
        ("seqshap.timeshap.explainer.kernel.timeshap_kernel", ["TimeShapKernel"]),
        ("seqshap.timeshap.explainer.pruning", ["temp_coalition_pruning", "verify_pruning_dict"]),
        ("seqshap.timeshap.explainer.event_level", ["event_level", "verify_event_dict"]),
        ("seqshap.timeshap.explainer.feature_level", ["feature_level", "verify_feature_dict"]),
        ("seqshap.timeshap.explainer.cell_level", ["cell_level", "considered_cells"]),
        ("seqshap.timeshap.explainer.local_methods", ["validate_local_input", "local_report"]),
        ("seqshap.timeshap.explainer.global_methods", ["validate_global_input", "global_report"]),
        ("seqshap.timeshap.plot", ["pruning_statistics", "plot_temp_coalition_pruning"]),
        ("seqshap.timeshap.plot.pruning", ["plot_temp_coalition_pruning"]),
        ("seqshap.timeshap.plot.global_report", ["plot_global_report"]),
        ("seqshap.timeshap.utils", ["calc_avg_event", "TimeShapDenseData", "make_list"]),
        ("seqshap.timeshap.utils.utils", ["convert_to_indexes", "convert_data_to_3d"]),
        ("seqshap.timeshap.utils.timeshap_legacy", ["time_shap_convert_to_data"]),
        ("seqshap.timeshap.utils.compatibility", ["is_torch_installed"]),
        ("seqshap.timeshap.wrappers", ["TorchModelWrapper", "TimeSHAPWrapper"]),
        ("seqshap.timeshap.wrappers.torch_wrappers", ["TorchModelWrapper"]),
    ],
)
def test_timeshap_module_paths_and_names(module, names):
    mod = importlib.import_module(module)
    for name in names:
        assert hasattr(mod, name), f"{module}.{name}"
    assert set(getattr(mod, "__all__", names)) >= set(names) - {"__version__"}


def test_version_and_pruning_statistics_alias():
    from seqshap.timeshap import __version__
    from seqshap.timeshap.plot import pruning_statistics

    assert __version__ == "1.0.4"
    assert pruning_statistics is ts.pruning_statistics


# ---------------------------------------------------------------------- TimeShapKernel
def kernel_masks(kernel: TimeShapKernel) -> np.ndarray:
    return np.stack(kernel._groups(T, D, kernel.pruning_idx)[0])


@pytest.mark.parametrize(
    "mode,varying,pruning_idx",
    [
        ("pruning", None, 3),
        ("event", None, 3),
        ("event", None, 0),
        ("feature", None, 2),
        ("cell", ([4, 5], [0, 2]), 2),
    ],
)
def test_kernel_exact_equals_brute_force(rnn, seq, mode, varying, pruning_idx):
    kernel = TimeShapKernel(rnn.plain, BASELINE, 7, mode, varying=varying)
    values = kernel.shap_values(seq, pruning_idx=pruning_idx, nsamples=10_000)
    bg = np.tile(BASELINE.to_numpy(), (T, 1))[None]
    masks = kernel_masks(kernel)
    game = FunctionGame(masked_value(rnn.plain, seq, bg, masks), len(masks))
    expected = brute_force_shapley(game)
    np.testing.assert_allclose(values, np.ravel(expected), atol=1e-12)
    total = rnn.plain(seq)[0, 0] - rnn.plain(bg)[0, 0]
    assert values.sum() == pytest.approx(total, abs=1e-12)
    assert kernel.expected_value == pytest.approx(rnn.plain(bg)[0, 0], abs=1e-15)


def test_kernel_group_order_is_timeshaps(seq):
    kernel = TimeShapKernel(linear, BASELINE, 0, "cell", varying=([3, 5], [1]))
    kernel.shap_values(seq, pruning_idx=2)
    assert kernel.group_names == [
        "(3, 1)", "(5, 1)", "Other feats on event 3", "Other feats on event 5",
        "Other events on feature 1", "Other Cells", "Pruned Cells",
    ]  # fmt: skip
    assert kernel.special_cells == [True, True, True, True]
    kernel = TimeShapKernel(linear, BASELINE, 0, "event")
    kernel.shap_values(seq, pruning_idx=4)
    assert kernel.group_names == ["Event: 6", "Event: 5", "Pruned Events"]


@pytest.mark.parametrize(
    "mode,varying,nsamples",
    [
        ("event", None, 10_000),
        ("event", None, 12),  # 5 players, 30 proper coalitions: sampled
        ("feature", None, 10_000),
        ("feature", None, 8),  # 4 players, 14 proper coalitions: sampled
        ("cell", ([3, 5], [0, 1]), 10_000),
        ("cell", ([3, 5], [0, 1]), 300),  # 10 players, 1022 proper coalitions: sampled
    ],
)
def test_kernel_hidden_state_path_equals_plain_path(seq, mode, varying, nsamples):
    plain, stateful = TinyRNN(), TinyRNN()
    a = TimeShapKernel(plain.plain, BASELINE, 3, mode, varying=varying)
    b = TimeShapKernel(lambda x, h=None: stateful(x, h), BASELINE, 3, mode, varying=varying)
    va = a.shap_values(seq, pruning_idx=2, nsamples=nsamples)
    vb = b.shap_values(seq, pruning_idx=2, nsamples=nsamples)
    np.testing.assert_allclose(vb, va, atol=1e-12)
    assert b.returns_hs and not a.returns_hs
    # TimeSHAP's calls: background, [pruned background, pruned x,] x, one coalition batch
    assert (plain.calls, stateful.calls) == (3, 5)


def test_kernel_accepts_scores_and_state_as_a_list(seq):
    rnn = TinyRNN()
    listed = TimeShapKernel(lambda x, h=None: list(rnn(x, h)), BASELINE, 0, "event")
    values = listed.shap_values(seq, pruning_idx=3, nsamples=10_000)
    assert listed.returns_hs
    plain = TimeShapKernel(TinyRNN().plain, BASELINE, 0, "event")
    np.testing.assert_allclose(values, plain.shap_values(seq, pruning_idx=3), atol=1e-12)


def test_kernel_sampled_is_exact_for_additive_models_and_leaves_global_state(seq):
    np.random.seed(5)  # noqa: NPY002 - the test checks that global state is left alone
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    kernel = TimeShapKernel(linear, BASELINE, 11, "feature")
    values = kernel.shap_values(seq, pruning_idx=1, nsamples=5)  # 2^4 - 2 = 14 > 5: sampled
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    diff = (seq[0] - BASELINE.to_numpy()) * W
    expected = np.append(diff[1:].sum(axis=0), diff[:1].sum())
    np.testing.assert_allclose(values, expected, atol=1e-10)


def test_kernel_sampled_design_and_seed():
    from seqshap.timeshap.explainer.kernel.timeshap_kernel import _timeshap_design

    z, w = _timeshap_design(7, 100, 42)
    assert len(z) == 100 and len({tuple(r) for r in z}) == 100
    # sizes 1 and 2 (with complements) enumerated: 14 + 42 rows, then paired draws of size 3
    assert z[:56].sum(axis=1).tolist().count(1) == 7
    assert set(z[56:].sum(axis=1)) == {3.0, 4.0}
    assert w.sum() == pytest.approx(1.0, abs=1e-12)
    again = _timeshap_design(7, 100, 42)
    np.testing.assert_array_equal(again[0], z)
    assert not np.array_equal(_timeshap_design(7, 100, 43)[0], z)


def test_kernel_rejects_bad_input(seq):
    with pytest.raises(ValueError, match="mode must be one of"):
        TimeShapKernel(linear, BASELINE, 0, "window")
    with pytest.raises(ValueError, match="mode 'cell' needs varying"):
        TimeShapKernel(linear, BASELINE, 0, "cell")
    kernel = TimeShapKernel(linear, BASELINE, 0, "event")
    with pytest.raises(ValueError, match="pruning_idx must be at most 5"):
        kernel.shap_values(seq, pruning_idx=6)
    with pytest.raises(ValueError, match="pruning_idx is required"):
        kernel.shap_values(seq)
    with pytest.raises(ValueError, match="X must be one sequence"):
        kernel.shap_values(np.concatenate([seq, seq]), pruning_idx=0)
    with pytest.raises(ValueError, match="varying must name distinct unpruned events"):
        TimeShapKernel(linear, BASELINE, 0, "cell", varying=([0], [1])).shap_values(
            seq, pruning_idx=2
        )


# ---------------------------------------------------------------------- level functions
def test_level_functions_match_local_ones(rnn, seq):
    f = rnn.plain
    events = ts.event_level(f, seq, BASELINE, 2, 42, 10_000)
    local = ts.local_event(f, seq, {"rs": 42, "nsamples": 10_000}, None, None, BASELINE, 2)
    pd.testing.assert_frame_equal(events, local)
    kernel = TimeShapKernel(f, BASELINE, 42, "event").shap_values(seq, pruning_idx=2)
    np.testing.assert_allclose(events["Shapley Value"], kernel, atol=1e-12)
    shown = ts.event_level(f, seq, BASELINE, 2, 42, 10_000, display_events=list("uvwxyz"))
    assert list(shown["Feature"]) == ["w", "x", "y", "z", "Pruned Events"]

    feats = ts.feature_level(f, seq, BASELINE, -1, 42, 10_000, model_feats=["a", "b", "c"])
    assert list(feats["Feature"]) == ["a", "b", "c"]
    kernel = TimeShapKernel(f, BASELINE, 42, "feature").shap_values(seq, pruning_idx=0)
    np.testing.assert_allclose(feats["Shapley Value"], kernel, atol=1e-12)

    cell_dict = {"top_x_events": 2, "top_x_feats": 2}
    feats2 = ts.feature_level(f, seq, BASELINE, 2, 42, 10_000)
    cells = ts.cell_level(f, seq, BASELINE, events, feats2, 42, 10_000, cell_dict, 2)
    local_cells = ts.local_cell_level(f, seq, cell_dict, events, feats2, None, None, BASELINE, 2)
    pd.testing.assert_frame_equal(cells, local_cells)
    (ev_idx, ft_idx), (ev_names, _) = ts.explainer.considered_cells(events, feats2, **cell_dict)
    assert all(i < 0 for i in ev_idx) and ev_idx == sorted(ev_idx)
    assert [f"Event {i}" for i in ev_idx] == ev_names and ft_idx == sorted(ft_idx)


def test_temp_coalition_pruning_forms(rnn, seq):
    f = rnn.plain
    frame = ts.temp_coalition_pruning(f, seq, BASELINE)
    assert list(frame.columns) == ["Coalition", "t (event index)", "Shapley Value"]
    assert len(frame) == 2 * (T + 1)
    idx = ts.temp_coalition_pruning(f, seq, BASELINE, tolerance=1.0)
    assert idx == ts.prune_given_data(frame, 1.0) == -T + T - 1  # everything but one event
    idx2, frame2 = ts.temp_coalition_pruning(f, seq, BASELINE, tolerance=1e-12, ret_plot_data=True)
    assert idx2 == -T
    pd.testing.assert_frame_equal(frame2, frame)
    older = frame[frame["Coalition"].str.contains("≤")]
    for t, value in zip(older["t (event index)"], older["Shapley Value"]):
        if -T < t < 0:
            kernel = TimeShapKernel(f, BASELINE, 0, "pruning")
            assert kernel.shap_values(seq, pruning_idx=T + t)[1] == pytest.approx(value, abs=1e-9)


# ---------------------------------------------------------------------- validators
def test_verify_dicts_normalise_a_copy():
    given = {"rs": 3, "nsamples": 100, "tol": 0.1}
    out = ts.verify_event_dict(given)
    assert out == {"rs": [3], "nsamples": [100], "tol": [0.1]}
    assert given == {"rs": 3, "nsamples": 100, "tol": 0.1}
    assert ts.verify_feature_dict({})["nsamples"] == [32000]
    assert ts.verify_pruning_dict({"tol": [0.05, 0.1]})["tol"] == [0.05, 0.1]
    with pytest.raises(ValueError, match="must give 'tol'"):
        ts.verify_pruning_dict({})
    with pytest.raises(TypeError, match=r"event_dict\['rs'\] must be an int"):
        ts.verify_event_dict({"rs": "42"})
    with pytest.raises(TypeError, match=r"feature_dict\['feature_names'\] must be a list"):
        ts.verify_feature_dict({"feature_names": ["a", 1]})
    with pytest.raises(TypeError, match=r"pruning_dict\['path'\] must be a string"):
        ts.verify_pruning_dict({"tol": 0.1, "path": 3})


def test_validate_inputs(seq):
    ok = ({"tol": 0.05}, {"rs": 1, "nsamples": 10}, {"rs": 1, "nsamples": 10})
    cell = {"top_x_events": 1, "top_x_feats": 1}
    assert ts.validate_local_input(linear, seq, *ok, cell, BASELINE) is None
    with pytest.raises(ValueError, match=r"one sequence of shape \(1, T, d\)"):
        ts.validate_local_input(linear, np.concatenate([seq, seq]), *ok)
    with pytest.raises(ValueError, match="gives both 'top_x'"):
        ts.validate_local_input(linear, seq, *ok, {"top_x": 1, "top_x_feats": 1})
    with pytest.raises(ValueError, match="no way to choose the events"):
        ts.validate_local_input(linear, seq, *ok, {"top_x_feats": 1})
    with pytest.raises(ValueError, match=r"pruning_dict\['tol'\] must be one tolerance"):
        ts.validate_local_input(linear, seq, {"tol": [0.1]}, *ok[1:])
    with pytest.raises(TypeError, match="f must be callable"):
        ts.validate_local_input(None, seq, *ok)
    frame = pd.DataFrame({"id": [1, 1, 2], "t": [0, 1, 0], "a": [0.1, 0.2, 0.3]})
    with pytest.raises(ValueError, match="holds 2 entities"):
        ts.validate_local_input(linear, frame, *ok, model_features=["a"], entity_col="id")
    assert ts.validate_global_input(linear, np.concatenate([seq, seq]), *ok) is None
    with pytest.raises(ValueError, match="columns \\['z'\\] are not in the data's columns"):
        ts.validate_global_input(linear, frame, *ok, model_features=["z"], entity_col="id")
    with pytest.raises(ValueError, match="2-D array of events: give entity_col"):
        ts.validate_global_input(linear, np.zeros((4, 3)), *ok)


# ---------------------------------------------------------------------- utilities
def test_list_returning_stateful_model_in_reports(seq):
    rnn = TinyRNN()
    as_tuple = ts.local_event(
        lambda x, h=None: rnn(x, h), seq, {"nsamples": 10_000}, None, None, BASELINE, 2
    )
    as_list = ts.local_event(
        lambda x, h=None: list(rnn(x, h)), seq, {"nsamples": 10_000}, None, None, BASELINE, 2
    )
    pd.testing.assert_frame_equal(as_list, as_tuple)


@pytest.mark.parametrize("stateful", [False, True])
def test_avg_score_with_avg_event_calls_the_model_top_times(stateful):
    rnn = TinyRNN()
    f = (lambda x, h=None: rnn(x, h)) if stateful else rnn.plain
    scores = ts.get_avg_score_with_avg_event(f, BASELINE, top=4)
    assert rnn.calls == 4
    event = BASELINE.to_numpy()[None]
    for length in range(1, 5):
        full = TinyRNN().plain(np.repeat(event, length, axis=1))[0, 0]
        assert scores[length] == pytest.approx(full, abs=1e-6)


def test_calc_avg_event_keeps_integer_columns():
    frame = pd.DataFrame(
        {
            "x": [0.5, 1.5, 2.5, 9.0],
            "y": [1.0, 2.0, 3.0, 4.0],
            "cat": [2, 2, 3, 1],
            "flag": [0, 1, 1, 1],
        }
    )
    avg = ts.calc_avg_event(frame, ["x", "y"], ["cat", "flag"])
    assert avg.dtypes.to_dict() == {
        "x": np.float64, "y": np.float64, "cat": np.int64, "flag": np.int64,
    }  # fmt: skip
    assert avg.iloc[0].tolist() == [2.0, 2.5, 2, 1]
    arr = ts.calc_avg_event(frame.to_numpy(dtype=np.int64), [0, 1], [2])
    assert arr.dtypes.iloc[2] == np.int64


def test_legacy_helpers():
    from seqshap.timeshap.utils import timeshap_legacy as legacy

    data = np.zeros((1, 10, 6))
    dense, special = legacy.time_shap_convert_to_data(data, "cell", 5, varying=([9, 7], [2]))
    assert dense.group_names == [
        "(9, 2)", "(7, 2)", "Other feats on event 9", "Other feats on event 7",
        "Other events on feature 2", "Other Cells", "Pruned Cells",
    ]  # fmt: skip
    assert special == [4, 3, 2, 1]
    assert legacy.time_shap_convert_to_data(data, "event", 8).group_names == [
        "Event: 10", "Event: 9", "Pruned Events",
    ]  # fmt: skip
    assert dense.weights.tolist() == [1.0] and dense.groups_size == 7

    class Model:
        out_names = None

        @staticmethod
        def f(x):
            return np.array([[0.2], [0.4]])  # two rows of scores: not (scores, h)

    out, returns_hs = legacy.time_shap_match_model_to_data(Model(), legacy.TimeShapDenseData(
        np.zeros((2, 3, 1)), "event", ["a"]
    ))  # fmt: skip
    assert not returns_hs and out.shape == (2, 1)


def test_global_pruning_csv_names_entity_column_as_timeshap(tmp_path):
    rnn = TinyRNN()
    rows = [
        [ent, t, *np.random.default_rng(i).normal(size=D)]
        for i, (ent, t) in enumerate(itertools.product(["s1", "s2"], range(T)))
    ]
    frame = pd.DataFrame(rows, columns=["all_id", "timestamp", "a", "b", "c"])
    path = tmp_path / "prun_all.csv"
    ts.calc_global_explanations(
        rnn.plain,
        frame,
        {"tol": [0.1], "path": str(path)},
        {"rs": 1, "nsamples": 64},
        {"rs": 1, "nsamples": 64},
        BASELINE,
        ["a", "b", "c"],
        entity_col="all_id",
        time_col="timestamp",
    )
    written = pd.read_csv(path)
    assert list(written.columns) == ["Coalition", "t (event index)", "Shapley Value", "Entity"]
    assert set(written["Entity"]) == {"s1", "s2"}
