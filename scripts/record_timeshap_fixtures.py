"""Record TimeSHAP 1.0.4's outputs on a small shared example, for seqshap's compat tests.

Run once (TimeSHAP installed; it imports with current shap only after the alias below):

    python scripts/record_timeshap_fixtures.py

Writes ``tests/fixtures/timeshap/``:

- ``inputs.npz``: the tiny 2-layer GRU's weights (``w.<state-dict key>``), the explained
  sequence ``x`` (1, T, d), the average event ``baseline`` (1, d), and the global data
  ``global_x`` (n, T, d);
- ``local_pruning.csv``, ``local_event.csv``, ``local_feat.csv``, ``local_cell.csv``: the
  tutorial's local calls with nsamples large enough to enumerate every coalition;
- ``event_sampled.csv``: event level without pruning (10 players, 1,022 coalitions) sampled with
  ``nsamples=300`` under 10 seeds, to bound TimeSHAP's sampling error;
- ``prune_all.csv``, ``pruning_statistics.csv``, ``event_all.csv``, ``feat_all.csv``: the global
  calls on a long-format DataFrame with entity and time columns;
- ``meta.json``: parameters and the pruning index.

Nothing here is edited by hand; rerun the script to regenerate.
"""

from __future__ import annotations

import contextlib
import io
import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

OUT = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "timeshap"
SEED = 7
T, D, HIDDEN = 10, 3, 4
FEATURES = ["f0", "f1", "f2"]
TOL = 0.05
GLOBAL_TOLS = [0.05, 0.075]
NSAMPLES = 32000


class TinyGRU(nn.Module):
    """2-layer GRU -> Linear -> Sigmoid, forward(x, h=None) -> (scores, h) (the tutorial's form)."""

    def __init__(self) -> None:
        super().__init__()
        self.gru = nn.GRU(D, HIDDEN, num_layers=2, batch_first=True)
        self.head = nn.Linear(HIDDEN, 1)

    def forward(self, x, h=None):
        _, hidden = self.gru(x) if h is None else self.gru(x, h)
        return torch.sigmoid(self.head(hidden[-1])), hidden


def build() -> tuple[TinyGRU, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    with torch.random.fork_rng():
        torch.manual_seed(SEED)
        model = TinyGRU()
        # larger input weights so that recent events matter and old ones fade (pruning bites)
        with torch.no_grad():
            for name, p in model.named_parameters():
                p.mul_(2.5 if "weight" in name else 1.0)
    model.eval()
    rng = np.random.default_rng(SEED)
    x = rng.normal(size=(1, T, D))
    baseline = np.zeros((1, D)) + rng.normal(scale=0.1, size=(1, D))
    candidates = rng.normal(size=(40, T, D))
    with torch.no_grad():
        fx = model(torch.from_numpy(candidates).float())[0][:, 0].numpy()
        fb = model(torch.from_numpy(np.repeat(baseline[None], T, axis=1)).float())[0][0, 0].item()
    # TimeSHAP's global pruning crashes on a sequence whose score is within tol of the
    # baseline's (its pruning index becomes 0); record on sequences clear of that, and keep
    # one that is not for seqshap's test of the fix.
    far = np.flatnonzero(np.abs(fx - fb) > 2 * max(GLOBAL_TOLS))[:4]
    near = np.flatnonzero(np.abs(fx - fb) < min(GLOBAL_TOLS) / 2)[:1]
    return model, x, baseline, candidates[far], candidates[near]


def main() -> None:
    import shap

    shap.explainers._kernel.Kernel = shap.KernelExplainer  # TimeSHAP subclasses the old name
    warnings.filterwarnings("ignore")
    from timeshap.explainer import (
        event_explain_all,
        feat_explain_all,
        local_cell_level,
        local_event,
        local_feat,
        local_pruning,
        prune_all,
        pruning_statistics,
    )
    from timeshap.wrappers import TorchModelWrapper

    torch.set_num_threads(1)
    OUT.mkdir(parents=True, exist_ok=True)
    model, x, baseline, global_x, near_x = build()
    wrapped = TorchModelWrapper(model)

    def f_hs(data, h=None):
        return wrapped.predict_last_hs(data, h)

    base_df = pd.DataFrame(baseline, columns=FEATURES)
    quiet = contextlib.redirect_stdout(io.StringIO())

    with quiet:
        # ---- local: the tutorial's calls, one by one
        pruning_data, prun_idx = local_pruning(f_hs, x, {"tol": TOL}, base_df, None, None)
        pruning_idx = x.shape[1] + prun_idx
        event_data = local_event(
            f_hs, x, {"rs": 42, "nsamples": NSAMPLES}, None, None, base_df, pruning_idx
        )
        feature_dict = {"rs": 42, "nsamples": NSAMPLES, "feature_names": FEATURES}
        feat_data = local_feat(f_hs, x, feature_dict, None, None, base_df, pruning_idx)
        cell_dict = {"rs": 42, "nsamples": NSAMPLES, "top_x_events": 2, "top_x_feats": 2}
        cell_data = local_cell_level(
            f_hs, x, cell_dict, event_data, feat_data, None, None, base_df, pruning_idx
        )
        # ---- sampled event level without pruning: 10 players, 1,022 coalitions, 300 samples
        sampled = []
        for rs in range(10):
            ev = local_event(f_hs, x, {"rs": rs, "nsamples": 300}, None, None, base_df, 0)
            sampled.append(ev)
        # ---- global, from a long-format DataFrame (the tutorial's form)
        rows = []
        for i, seq in enumerate(global_x):
            frame = pd.DataFrame(seq, columns=FEATURES)
            frame.insert(0, "timestamp", np.arange(T) * 250)
            frame.insert(0, "entity", f"seq_{i}")
            rows.append(frame)
        long_df = pd.concat(rows, ignore_index=True)
        schema = list(long_df.columns)
        prun_all = prune_all(
            f_hs,
            long_df,
            {"tol": list(GLOBAL_TOLS)},
            base_df,
            FEATURES,
            schema,
            "entity",
            "timestamp",
        )
        prun_stats = pruning_statistics(prun_all, list(GLOBAL_TOLS))
        event_all = event_explain_all(
            f_hs,
            long_df,
            {"rs": 42, "nsamples": NSAMPLES},
            prun_all,
            base_df,
            FEATURES,
            schema,
            "entity",
            "timestamp",
        )
        feat_all = feat_explain_all(
            f_hs,
            long_df,
            {"rs": 42, "nsamples": NSAMPLES, "feature_names": FEATURES},
            prun_all,
            base_df,
            FEATURES,
            schema,
            "entity",
            "timestamp",
        )

    arrays = {f"w.{k}": v.detach().numpy() for k, v in model.state_dict().items()}
    np.savez(OUT / "inputs.npz", x=x, baseline=baseline, global_x=global_x, near_x=near_x, **arrays)
    pruning_data.to_csv(OUT / "local_pruning.csv", index=False)
    event_data.to_csv(OUT / "local_event.csv", index=False)
    feat_data.to_csv(OUT / "local_feat.csv", index=False)
    cell_data.to_csv(OUT / "local_cell.csv", index=True, index_label="row")
    pd.concat(sampled, ignore_index=True).to_csv(OUT / "event_sampled.csv", index=False)
    long_df.to_csv(OUT / "global_data.csv", index=False)
    prun_all.to_csv(OUT / "prune_all.csv", index=False)
    prun_stats.to_csv(OUT / "pruning_statistics.csv", index=False)
    event_all.to_csv(OUT / "event_all.csv", index=False)
    feat_all.to_csv(OUT / "feat_all.csv", index=False)
    import timeshap

    meta = {
        "timeshap_version": timeshap.__version__,
        "shap_version": shap.__version__,
        "torch_version": torch.__version__,
        "seed": SEED,
        "T": T,
        "d": D,
        "hidden": HIDDEN,
        "features": FEATURES,
        "tol": TOL,
        "global_tols": GLOBAL_TOLS,
        "nsamples": NSAMPLES,
        "coal_prun_idx": int(prun_idx),
        "pruning_idx": int(pruning_idx),
    }
    (OUT / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    print(f"wrote {len(list(OUT.iterdir()))} files to {OUT}; pruning index {prun_idx}")
    print(event_data.to_string())
    print(feat_data.to_string())
    print(cell_data.to_string())
    print(prun_all.to_string())
    print(prun_stats.to_string())


if __name__ == "__main__":
    main()
