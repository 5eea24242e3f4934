"""seqshap.timeshap reproduces TimeSHAP 1.0.4's recorded outputs.

Fixtures come from really running TimeSHAP 1.0.4 (``scripts/record_timeshap_fixtures.py``) on a
tiny fixed-weight 2-layer GRU. Where TimeSHAP's ``nsamples`` covered every coalition its
values are exact Shapley values, so ours must agree to float32 precision; where it sampled,
ours must agree within its measured sampling error. TimeSHAP itself is not needed here.
"""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

import seqshap.timeshap as ts  # noqa: E402

FIX = Path(__file__).parent / "fixtures" / "timeshap"
META = json.loads((FIX / "meta.json").read_text())
FEATURES = META["features"]
ATOL = 1e-6  # float32 model, float64 Shapley arithmetic


class TinyGRU(torch.nn.Module):
    """Same architecture as the recording script's model (weights from inputs.npz)."""

    def __init__(self, d: int, hidden: int) -> None:
        super().__init__()
        self.gru = torch.nn.GRU(d, hidden, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x, h=None):
        _, hidden = self.gru(x) if h is None else self.gru(x, h)
        return torch.sigmoid(self.head(hidden[-1])), hidden


@pytest.fixture(scope="module")
def inputs():
    with np.load(FIX / "inputs.npz", allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


@pytest.fixture(scope="module")
def model(inputs):
    m = TinyGRU(META["d"], META["hidden"])
    state = {k[2:]: torch.from_numpy(v) for k, v in inputs.items() if k.startswith("w.")}
    m.load_state_dict(state)
    return m.eval()


@pytest.fixture(scope="module")
def f_hs(model):
    wrapped = ts.TorchModelWrapper(model)
    return lambda x, y=None: wrapped.predict_last_hs(x, y)


@pytest.fixture(scope="module")
def baseline(inputs):
    return pd.DataFrame(inputs["baseline"], columns=FEATURES)


def read(name: str, **kwargs) -> pd.DataFrame:
    return pd.read_csv(FIX / name, **kwargs)


def assert_same_table(ours: pd.DataFrame, ref: pd.DataFrame, value="Shapley Value", atol=ATOL):
    assert list(ours.columns) == list(ref.columns)
    assert len(ours) == len(ref)
    for col in ref.columns:
        if col == value:
            np.testing.assert_allclose(
                ours[col].to_numpy(float), ref[col].to_numpy(float), atol=atol
            )
        else:
            assert [str(v) for v in ours[col]] == [str(v) for v in ref[col]], col


# ------------------------------------------------------------------------------ local
def test_local_pruning_matches_timeshap(f_hs, inputs, baseline):
    data, idx = ts.local_pruning(f_hs, inputs["x"], {"tol": META["tol"]}, baseline)
    assert idx == META["coal_prun_idx"]
    assert_same_table(data, read("local_pruning.csv"))


@pytest.fixture(scope="module")
def local_tables(f_hs, inputs, baseline):
    p = META["pruning_idx"]
    event = ts.local_event(
        f_hs, inputs["x"], {"rs": 42, "nsamples": 32000}, None, None, baseline, p
    )
    feat_dict = {"rs": 42, "nsamples": 32000, "feature_names": FEATURES}
    feat = ts.local_feat(f_hs, inputs["x"], feat_dict, None, None, baseline, p)
    cell_dict = {"rs": 42, "nsamples": 32000, "top_x_events": 2, "top_x_feats": 2}
    cell = ts.local_cell_level(f_hs, inputs["x"], cell_dict, event, feat, None, None, baseline, p)
    return event, feat, cell


def test_local_event_matches_timeshap_exactly(local_tables):
    assert_same_table(local_tables[0], read("local_event.csv"))


def test_local_feat_matches_timeshap_exactly(local_tables):
    assert_same_table(local_tables[1], read("local_feat.csv"))


def test_local_cell_matches_timeshap_exactly_with_row_labels(local_tables):
    ref = read("local_cell.csv", index_col="row")
    ours = local_tables[2]
    assert list(ours.index) == list(ref.index)  # TimeSHAP's construction index, sorted by value
    assert_same_table(ours, ref)


def test_each_level_is_efficient(local_tables, f_hs, inputs, baseline):
    """Values of every level sum to f(x) - f(baseline) (exact enumeration)."""
    fx = f_hs(inputs["x"])[0][0, 0]
    fb = f_hs(np.repeat(inputs["baseline"][None], inputs["x"].shape[1], axis=1))[0][0, 0]
    for table in local_tables:
        assert table["Shapley Value"].sum() == pytest.approx(fx - fb, abs=1e-6)


def test_sampled_event_level_within_timeshap_sampling_error(f_hs, inputs, baseline):
    """No pruning: 10 players, 1,022 coalitions; TimeSHAP sampled 300 under 10 seeds."""
    rec = read("event_sampled.csv").pivot(
        index="Random seed", columns="Feature", values="Shapley Value"
    )
    exact = ts.local_event(f_hs, inputs["x"], {"rs": 0, "nsamples": 32000}, None, None, baseline, 0)
    exact = exact.set_index("Feature")["Shapley Value"]
    rec = rec[exact.index]
    # our exact values lie within 4 standard errors of TimeSHAP's mean over seeds
    se = rec.std(ddof=1) / np.sqrt(len(rec))
    assert ((rec.mean() - exact).abs() <= 4 * se + 1e-7).all()
    # our own estimate from the same 300 coalitions is as accurate as TimeSHAP's
    ts_rms = float(np.sqrt(((rec - exact) ** 2).to_numpy().mean()))
    for rs in range(3):
        ours = ts.local_event(
            f_hs, inputs["x"], {"rs": rs, "nsamples": 300}, None, None, baseline, 0
        )
        err = ours.set_index("Feature")["Shapley Value"] - exact
        assert float(np.sqrt((err**2).mean())) <= 3 * ts_rms
        assert ours["Shapley Value"].sum() == pytest.approx(exact.sum(), abs=ATOL)


# ------------------------------------------------------------------------------ global
@pytest.fixture(scope="module")
def global_tables(f_hs, baseline):
    data = read("global_data.csv")
    schema = list(data.columns)
    args = (baseline, FEATURES, schema, "entity", "timestamp")
    prun = ts.prune_all(f_hs, data, {"tol": META["global_tols"]}, *args)
    event = ts.event_explain_all(f_hs, data, {"rs": 42, "nsamples": 32000}, prun, *args)
    feat_dict = {"rs": 42, "nsamples": 32000, "feature_names": FEATURES}
    feat = ts.feat_explain_all(f_hs, data, feat_dict, prun, *args)
    return prun, event, feat


def test_prune_all_matches_timeshap(global_tables):
    assert_same_table(global_tables[0], read("prune_all.csv"), value="Pruning idx", atol=0)


def test_pruning_statistics_match_timeshap(global_tables):
    stats = ts.pruning_statistics(global_tables[0], META["global_tols"])
    ref = read("pruning_statistics.csv")
    assert [str(t) for t in stats["Tolerance"]] == [str(t) for t in ref["Tolerance"]]
    np.testing.assert_allclose(stats[["Mean", "Std"]].to_numpy(float), ref[["Mean", "Std"]])


def test_event_explain_all_matches_timeshap(global_tables):
    assert_same_table(global_tables[1], read("event_all.csv"))


def test_feat_explain_all_matches_timeshap(global_tables):
    assert_same_table(global_tables[2], read("feat_all.csv"))


def test_global_on_3d_array_without_entity_column(f_hs, inputs, baseline, global_tables):
    """TimeSHAP crashes without an entity column; here entities are 0..n-1, values the same."""
    prun = ts.prune_all(f_hs, inputs["global_x"], {"tol": META["global_tols"]}, baseline)
    ref = global_tables[0]
    np.testing.assert_array_equal(prun["Pruning idx"], ref["Pruning idx"])
    assert sorted(set(prun["Entity"])) == [0, 1, 2, 3]
    event = ts.event_explain_all(f_hs, inputs["global_x"], {"nsamples": 32000}, prun, baseline)
    np.testing.assert_allclose(event["Shapley Value"], global_tables[1]["Shapley Value"], atol=ATOL)


# ------------------------------------------------------------------------------ API shape
TIMESHAP_SIGNATURES = {  # parameter names of TimeSHAP 1.0.4's public functions, in order
    "local_pruning": ["f", "data", "pruning_dict", "baseline", "entity_uuid", "entity_col", "verbose"],
    "local_event": ["f", "data", "event_dict", "entity_uuid", "entity_col", "baseline", "pruned_idx"],
    "local_feat": ["f", "data", "feature_dict", "entity_uuid", "entity_col", "baseline", "pruned_idx"],
    "local_cell_level": ["f", "data", "cell_dict", "event_data", "feat_data", "entity_uuid",
                         "entity_col", "baseline", "pruned_idx"],
    "calc_local_report": ["f", "data", "pruning_dict", "event_dict", "feature_dict", "cell_dict",
                          "baseline", "model_features", "entity_col", "entity_uuid", "time_col",
                          "verbose"],
    "local_report": ["f", "data", "pruning_dict", "event_dict", "feature_dict", "cell_dict",
                     "baseline", "model_features", "entity_col", "entity_uuid", "time_col",
                     "verbose"],
    "prune_all": ["f", "data", "pruning_dict", "baseline", "model_features", "schema",
                  "entity_col", "time_col", "append_to_files", "verbose"],
    "pruning_statistics": ["df", "tol"],
    "event_explain_all": ["f", "data", "event_dict", "pruning_data", "baseline", "model_features",
                          "schema", "entity_col", "time_col", "append_to_files", "verbose"],
    "feat_explain_all": ["f", "data", "feat_dict", "pruning_data", "baseline", "model_features",
                         "schema", "entity_col", "time_col", "append_to_files", "verbose"],
    "global_report": ["f", "data", "pruning_dict", "event_dict", "feature_dict", "baseline",
                      "model_features", "schema", "entity_col", "time_col", "append_to_files",
                      "max_instances", "verbose"],
    "calc_avg_event": ["data", "numerical_feats", "categorical_feats", "model_features"],
    "calc_avg_sequence": ["data", "numerical_feats", "categorical_feats", "model_features",
                          "entity_col"],
    "get_avg_score_with_avg_event": ["model", "med", "top"],
    "plot_temp_coalition_pruning": ["df", "pruned_idx", "plot_limit", "solve_negatives"],
    "plot_event_heatmap": ["event_data"],
    "plot_feat_barplot": ["feat_data", "top_x_feats", "plot_features"],
    "plot_cell_level": ["cell_data", "model_features", "plot_features", "plot_parameters"],
    "plot_local_report": ["pruning_dict", "event_dict", "feature_dict", "cell_dict",
                          "coal_plot_data", "event_data", "feat_data", "cell_data"],
    "plot_global_event": ["event_data", "plot_parameters"],
    "plot_global_feat": ["feat_data", "top_x_feats", "threshold", "plot_features",
                         "plot_parameters"],
    "plot_global_report": ["pruning_dict", "event_dict", "feature_dict", "prun_indexes",
                           "event_data", "feat_data"],
    "TorchModelWrapper": ["model", "batch_budget", "device"],
}  # fmt: skip


@pytest.mark.parametrize("name", sorted(TIMESHAP_SIGNATURES))
def test_signature_matches_timeshap(name):
    params = list(inspect.signature(getattr(ts, name)).parameters)
    expected = TIMESHAP_SIGNATURES[name]
    assert params[: len(expected)] == expected
    assert name in ts.__all__


def test_submodules_mirror_timeshap_import_paths():
    from seqshap.timeshap.explainer import event_explain_all, local_report, prune_all
    from seqshap.timeshap.plot import plot_global_report, plot_temp_coalition_pruning
    from seqshap.timeshap.utils import calc_avg_event, get_avg_score_with_avg_event
    from seqshap.timeshap.wrappers import TorchModelWrapper

    assert local_report is ts.local_report and prune_all is ts.prune_all
    assert event_explain_all is ts.event_explain_all
    assert plot_global_report is ts.plot_global_report
    assert plot_temp_coalition_pruning is ts.plot_temp_coalition_pruning
    assert calc_avg_event is ts.calc_avg_event
    assert get_avg_score_with_avg_event is ts.get_avg_score_with_avg_event
    assert TorchModelWrapper is ts.TorchModelWrapper


@pytest.mark.parametrize("recurrent", [True, False])
def test_prune_all_index_search_equals_full_curve(f_hs, baseline, tmp_path, recurrent):
    """Without a path, prune_all searches back from the most recent event and stops; with a
    path it writes every split's values. The pruning indexes must be the same."""
    data = np.random.default_rng(11).normal(size=(5, 30, 3))
    f = f_hs if recurrent else (lambda a: f_hs(a)[0])
    tols = [0.0, 0.005, 0.02, 0.05, 0.2]
    searched = ts.prune_all(f, data, {"tol": tols}, baseline)
    curve_path = str(tmp_path / f"curve_{recurrent}.csv")
    from_curve = ts.prune_all(f, data, {"tol": tols, "path": curve_path}, baseline)
    # both paths are exact; f_hs runs in float32, so the two orders of evaluation round
    # differently (measured up to 7e-8): an explicit absolute tolerance, not pandas' default
    pd.testing.assert_frame_equal(searched, from_curve, check_dtype=False, rtol=0, atol=1e-6)
    assert len(pd.read_csv(curve_path)) == 5 * 2 * 31
    on_the_fly = ts.event_explain_all(f, data, {"nsamples": 500, "tol": tols[1:]}, None, baseline)
    given = ts.event_explain_all(
        f, data, {"nsamples": 500}, searched[searched["Tolerance"] != 0], baseline
    )
    pd.testing.assert_frame_equal(on_the_fly, given, rtol=0, atol=1e-6)
