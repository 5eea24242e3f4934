"""The TimeSHAP AReM tutorial's calls run on seqshap.timeshap by changing the imports only;
utilities and matplotlib plots behave as documented."""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("matplotlib")

from matplotlib.figure import Figure  # noqa: E402

FIX = Path(__file__).parent / "fixtures" / "timeshap"
META = json.loads((FIX / "meta.json").read_text())


@pytest.fixture(scope="module")
def setup():
    """The tutorial's objects on the recorded tiny GRU: a long DataFrame with entity, time,
    a label column and the model features; a trained model's f_hs."""
    from test_timeshap_compat import TinyGRU

    from seqshap.timeshap.wrappers import TorchModelWrapper  # was: timeshap.wrappers

    with np.load(FIX / "inputs.npz", allow_pickle=False) as z:
        weights = {k[2:]: torch.from_numpy(z[k]) for k in z.files if k.startswith("w.")}
    model = TinyGRU(META["d"], META["hidden"])
    model.load_state_dict(weights)
    model.eval()
    model_wrapped = TorchModelWrapper(model)
    f_hs = lambda x, y=None: model_wrapped.predict_last_hs(x, y)  # noqa: E731
    d_all = pd.read_csv(FIX / "global_data.csv").rename(columns={"entity": "all_id"})
    d_all["activity"] = np.where(d_all["all_id"].isin(["seq_0", "seq_2"]), "cycling", "other")
    return f_hs, d_all, META["features"]


def test_tutorial_local_calls_by_changing_imports(setup, tmp_path):
    from seqshap.timeshap.explainer import (  # was: timeshap.explainer
        local_cell_level,
        local_event,
        local_feat,
        local_pruning,
        local_report,
    )
    from seqshap.timeshap.plot import (  # was: timeshap.plot
        plot_cell_level,
        plot_event_heatmap,
        plot_feat_barplot,
        plot_temp_coalition_pruning,
    )
    from seqshap.timeshap.utils import (  # was: timeshap.utils
        calc_avg_event,
        calc_avg_sequence,
        get_avg_score_with_avg_event,
    )

    f_hs, d_all, model_features = setup
    sequence_id_feat = "all_id"
    plot_feats = {f: f.upper() for f in model_features}
    average_event = calc_avg_event(d_all, numerical_feats=model_features, categorical_feats=[])
    average_sequence = calc_avg_sequence(
        d_all, numerical_feats=model_features, categorical_feats=[],
        model_features=model_features, entity_col=sequence_id_feat,
    )  # fmt: skip
    assert average_sequence.shape == (META["T"], len(model_features))
    avg_score_over_len = get_avg_score_with_avg_event(f_hs, average_event, top=META["T"])
    assert sorted(avg_score_over_len) == list(range(1, META["T"] + 1))

    positive_sequence_id = "seq_0"
    pos_x_pd = d_all[d_all["all_id"] == positive_sequence_id]
    pos_x_data = np.expand_dims(pos_x_pd[model_features].to_numpy().copy(), axis=0)

    pruning_dict = {"tol": 0.025}
    event_dict = {"rs": 42, "nsamples": 32000}
    feature_dict = {"rs": 42, "nsamples": 32000, "feature_names": model_features,
                    "plot_features": plot_feats}  # fmt: skip
    cell_dict = {"rs": 42, "nsamples": 32000, "top_x_feats": 2, "top_x_events": 2}
    report = local_report(
        f_hs, pos_x_data, pruning_dict, event_dict, feature_dict, cell_dict=cell_dict,
        entity_uuid=positive_sequence_id, entity_col="all_id", baseline=average_event,
    )  # fmt: skip
    assert isinstance(report, Figure)
    report.savefig(tmp_path / "local_report.png")

    # "Individual plots" section of the tutorial
    coal_plot_data, coal_prun_idx = local_pruning(
        f_hs, pos_x_data, pruning_dict, average_event, positive_sequence_id, sequence_id_feat,
        False,
    )  # fmt: skip
    pruning_idx = pos_x_data.shape[1] + coal_prun_idx
    plot_lim = max(abs(coal_prun_idx) + 10, 40)
    figs = [plot_temp_coalition_pruning(coal_plot_data, coal_prun_idx, plot_lim)]
    event_data = local_event(
        f_hs, pos_x_data, event_dict, positive_sequence_id, sequence_id_feat, average_event,
        pruning_idx,
    )  # fmt: skip
    figs.append(plot_event_heatmap(event_data))
    feature_data = local_feat(
        f_hs, pos_x_data, feature_dict, positive_sequence_id, sequence_id_feat, average_event,
        pruning_idx,
    )  # fmt: skip
    figs.append(
        plot_feat_barplot(
            feature_data, feature_dict.get("top_feats"), feature_dict.get("plot_features")
        )
    )
    cell_data = local_cell_level(
        f_hs, pos_x_data, cell_dict, event_data, feature_data, positive_sequence_id,
        sequence_id_feat, average_event, pruning_idx,
    )  # fmt: skip
    feat_names = list(feature_data["Feature"].values)[:-1]  # exclude pruned events
    figs.append(plot_cell_level(cell_data, feat_names, feature_dict.get("plot_features")))
    for fig in figs:
        assert isinstance(fig, Figure)
        fig.savefig(io.BytesIO(), format="png")
    # the local report's tables are these tables
    assert event_data["Feature"].iloc[-1] == "Pruned Events"
    assert len(event_data) == -coal_prun_idx + 1
    assert list(cell_data.columns) == ["Event", "Feature", "Shapley Value"]


def test_tutorial_global_calls_by_changing_imports(setup, tmp_path, monkeypatch):
    from seqshap.timeshap.explainer import (
        event_explain_all,
        feat_explain_all,
        global_report,
        prune_all,
        pruning_statistics,
    )
    from seqshap.timeshap.plot import plot_global_event, plot_global_feat
    from seqshap.timeshap.utils import calc_avg_event

    monkeypatch.chdir(tmp_path)
    f_hs, d_all, model_features = setup
    d_test = d_all
    schema = list(d_test.columns)
    sequence_id_feat, time_feat = "all_id", "timestamp"
    plot_feats = {f: f.upper() for f in model_features}
    assert calc_avg_event(d_all, numerical_feats=model_features, categorical_feats=[]).shape == (
        1, len(model_features))  # fmt: skip
    with np.load(FIX / "inputs.npz", allow_pickle=False) as z:  # the recording's baseline
        average_event = pd.DataFrame(z["baseline"], columns=model_features)
    pruning_dict = {"tol": [0.05, 0.075], "path": "outputs/prun_all.csv"}
    event_dict = {"path": "outputs/event_all.csv", "rs": 42, "nsamples": 32000}
    feature_dict = {"path": "outputs/feature_all.csv", "rs": 42, "nsamples": 32000,
                    "feature_names": model_features, "plot_features": plot_feats}  # fmt: skip
    prun_stats, global_plot = global_report(
        f_hs, d_test, pruning_dict, event_dict, feature_dict, average_event, model_features,
        schema, sequence_id_feat, time_feat,
    )  # fmt: skip
    assert isinstance(global_plot, Figure)
    global_plot.savefig(tmp_path / "global.png")
    ref = pd.read_csv(FIX / "pruning_statistics.csv")
    np.testing.assert_allclose(prun_stats[["Mean", "Std"]], ref[["Mean", "Std"]])
    for name in ("prun_all.csv", "event_all.csv", "feature_all.csv"):
        assert (tmp_path / "outputs" / name).exists()

    # individual global calls: with the files present, they are read back, not recomputed
    calls = []

    def counting_f(x, y=None):
        calls.append(1)
        return f_hs(x, y)

    prun_indexes = prune_all(
        counting_f, d_test, pruning_dict, average_event, model_features, schema,
        sequence_id_feat, time_feat,
    )  # fmt: skip
    pruning_stats = pruning_statistics(prun_indexes, pruning_dict.get("tol"))
    pd.testing.assert_frame_equal(pruning_stats, prun_stats)
    event_data = event_explain_all(
        counting_f, d_test, event_dict, prun_indexes, average_event, model_features, schema,
        sequence_id_feat, time_feat,
    )  # fmt: skip
    feat_data = feat_explain_all(
        counting_f, d_test, feature_dict, prun_indexes, average_event, model_features, schema,
        sequence_id_feat, time_feat,
    )  # fmt: skip
    assert calls == []
    ref_event = pd.read_csv(FIX / "event_all.csv")
    np.testing.assert_allclose(event_data["Shapley Value"], ref_event["Shapley Value"], atol=1e-6)
    assert isinstance(plot_global_event(event_data), Figure)
    assert isinstance(plot_global_feat(feat_data, **feature_dict), Figure)


# ------------------------------------------------------------------------------ utils
def test_calc_avg_event_median_and_mode_from_frames_and_arrays():
    from seqshap.timeshap import calc_avg_event

    rng = np.random.default_rng(0)
    seqs = rng.normal(size=(4, 5, 3))
    seqs[..., 2] = rng.integers(0, 3, size=(4, 5))
    frame = pd.DataFrame(seqs.reshape(-1, 3), columns=["a", "b", "cat"])
    frame["id"] = np.repeat(np.arange(4), 5)
    ev = calc_avg_event(frame, ["a", "b"], ["cat"])
    assert list(ev.columns) == ["a", "b", "cat"]
    np.testing.assert_allclose(
        ev[["a", "b"]].to_numpy()[0], np.median(seqs[..., :2].reshape(-1, 2), 0)
    )
    values, counts = np.unique(seqs[..., 2], return_counts=True)
    assert ev["cat"].iloc[0] == values[np.argmax(counts)]
    from_3d = calc_avg_event(seqs, [0, 1], [2])  # TimeSHAP crashes on (n, T, d) arrays
    np.testing.assert_allclose(from_3d.to_numpy(), ev.to_numpy())
    from_2d = calc_avg_event(seqs.reshape(-1, 3), [0, 1], [2])
    np.testing.assert_allclose(from_2d.to_numpy(), ev.to_numpy())


def test_calc_avg_sequence_uses_the_named_feature_columns():
    """TimeSHAP indexed all DataFrame columns by the features' positions in model_features."""
    from seqshap.timeshap import calc_avg_sequence

    rng = np.random.default_rng(1)
    seqs = rng.normal(size=(5, 4, 2))
    frame = pd.DataFrame(seqs.reshape(-1, 2), columns=["f0", "f1"])
    frame.insert(0, "timestamp", np.tile(np.arange(4) * 250, 5))
    frame.insert(0, "all_id", np.repeat([f"s{i}" for i in range(5)], 4))
    avg = calc_avg_sequence(
        frame, ["f0", "f1"], [], model_features=["f0", "f1"], entity_col="all_id"
    )
    np.testing.assert_allclose(avg, np.median(seqs, axis=0))
    np.testing.assert_allclose(calc_avg_sequence(seqs, [0, 1], []), np.median(seqs, axis=0))
    with pytest.raises(ValueError, match="entity_col"):
        calc_avg_sequence(frame, ["f0"], [])


def test_avg_score_with_avg_event_same_for_recurrent_and_plain_models(setup):
    from seqshap.timeshap import get_avg_score_with_avg_event, get_score_of_avg_sequence

    f_hs, d_all, features = setup
    event = d_all[features].median().to_numpy()[None]

    def f_plain(x):
        return f_hs(x)[0]

    rec = get_avg_score_with_avg_event(f_hs, event, top=6)
    plain = get_avg_score_with_avg_event(f_plain, pd.DataFrame(event, columns=features), top=6)
    for length in (1, 3, 6):
        direct = float(f_plain(np.repeat(event[None], length, axis=1))[0, 0])
        assert rec[length] == pytest.approx(direct, abs=2e-6)
        assert plain[length] == pytest.approx(direct, abs=2e-6)
    seq = np.repeat(event, 4, axis=0)
    assert get_score_of_avg_sequence(f_hs, seq)[0] == pytest.approx(plain[4], abs=2e-6)


def test_plots_return_figures_and_leave_inputs_alone():
    from seqshap.timeshap import (
        plot_cell_level,
        plot_event_heatmap,
        plot_feat_barplot,
        plot_global_event,
        plot_global_feat,
        plot_temp_coalition_pruning,
    )

    event = pd.read_csv(FIX / "local_event.csv")
    feat = pd.read_csv(FIX / "local_feat.csv")
    cell = pd.read_csv(FIX / "local_cell.csv", index_col="row")
    pruning = pd.read_csv(FIX / "local_pruning.csv")
    event_all = pd.read_csv(FIX / "event_all.csv")
    feat_all = pd.read_csv(FIX / "feat_all.csv")
    plot_features = {"f0": "F zero", "f1": "F one", "f2": "F two"}
    frames = [event, feat, cell, pruning, event_all, feat_all]
    saved = [f.copy() for f in frames]
    saved_features = dict(plot_features)
    figs = [
        plot_temp_coalition_pruning(pruning, META["coal_prun_idx"], 40),
        plot_event_heatmap(event),
        plot_feat_barplot(feat, 2, plot_features),
        plot_cell_level(cell, META["features"], plot_features),
        plot_global_event(event_all),
        plot_global_feat(feat_all, plot_features=plot_features),
    ]
    for fig in figs:
        assert isinstance(fig, Figure)
        fig.savefig(io.BytesIO(), format="png")
    bars = figs[2].axes[0]
    assert [t.get_text() for t in bars.get_yticklabels()] == ["F two", "Pruned Events"]
    assert len(figs[4].axes) == 2  # one panel per tolerance
    for before, after in zip(saved, frames):
        pd.testing.assert_frame_equal(before, after)
    assert plot_features == saved_features
