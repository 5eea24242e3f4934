"""TimeSHAP 1.0.4 vs seqshap on the AReM tutorial workload, in one process.

    python bench/bench_timeshap.py                 # full run (several minutes: TimeSHAP is slow)
    python bench/bench_timeshap.py --quick         # 4 test sequences in the global run, T <= 240

Needs TimeSHAP 1.0.4 (``pip install timeshap==1.0.4 --no-deps`` plus altair,
feedzai-altair-theme, plotly, seaborn; it imports with current shap only after
``shap.explainers._kernel.Kernel = shap.KernelExplainer``, done below) and the AReM data
(``$SEQSHAP_AREM_DIR`` or ``../shared/data/arem``; see ``bench/_arem.py``).

Workload (the tutorial's): 2-layer GRU(32) -> Linear -> Sigmoid trained on "cycling vs rest",
average-event baseline (median of the training events), pruning tolerance 0.025,
nsamples 32000, cells top 2 events x top 2 features. Both libraries get the same torch model
through their own ``TorchModelWrapper`` (``f_hs = lambda x, y=None: w.predict_last_hs(x, y)``);
calls and rows are counted by wrapping ``f_hs``. Exact event values: brute-force enumeration of
all 2^M coalitions of the pruned window (the pruned prefix's hidden state for x and for the
baseline computed once; Shapley's formula applied to the 2^M values), independent of both.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import warnings
from math import factorial
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _arem import MODEL_FEATURES, PLOT_FEATS, prepare  # noqa: E402
from _timing import Counted, timed  # noqa: E402


def ratio(ref: tuple[float, float], t: tuple[float, float]) -> str:
    """Speed-up of ``t`` over ``ref``, median over median and min over min."""
    return f"{ref[0] / t[0]:.0f}x; {ref[1] / t[1]:.0f}x"


def exact_event_values(model, x: np.ndarray, base_event: np.ndarray, n_pruned: int) -> np.ndarray:
    """Exact event-level Shapley values (players: kept events, most recent first, then the
    pruned prefix) by enumerating all 2^M coalitions with the torch model directly."""
    import torch

    t_len, _ = x.shape
    kept = t_len - n_pruned
    m = kept + (1 if n_pruned else 0)
    base_seq = np.repeat(base_event[None], t_len, axis=0)
    with torch.no_grad():
        if n_pruned:
            _, h_x = model(torch.from_numpy(x[None, :n_pruned]).float())
            _, h_b = model(torch.from_numpy(base_seq[None, :n_pruned]).float())
        z = ((np.arange(2**m)[:, None] >> np.arange(m)) & 1).astype(bool)  # bit i = player i
        values = np.empty(2**m)
        for lo in range(0, 2**m, 8192):
            zc = z[lo : lo + 8192]
            # player i < kept is "Event -(i+1)", i.e. row t_len - 1 - i
            present = np.zeros((len(zc), kept), dtype=bool)
            present[:, ::-1] = zc[:, :kept]
            suffix = np.where(present[:, :, None], x[None, n_pruned:], base_seq[None, n_pruned:])
            inp = torch.from_numpy(suffix).float()
            if n_pruned:
                use_x = torch.from_numpy(zc[:, kept]).view(1, -1, 1)
                h0 = torch.where(use_x, h_x.expand(-1, len(zc), -1), h_b.expand(-1, len(zc), -1))
                out, _ = model(inp, h0.contiguous())
            else:
                out, _ = model(inp)
            values[lo : lo + len(zc)] = out[:, 0].double().numpy()
    sizes = z.sum(1)
    w_in = np.array(
        [factorial(s - 1) * factorial(m - s) / factorial(m) if s else 0 for s in range(m + 1)]
    )
    w_out = np.array(
        [factorial(s) * factorial(m - s - 1) / factorial(m) if s < m else 0 for s in range(m + 1)]
    )
    return (z * (w_in[sizes] * values)[:, None]).sum(0) - (
        ~z * (w_out[sizes] * values)[:, None]
    ).sum(0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4 global sequences, T <= 240")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    parser.add_argument("--n-global", type=int, default=None, help="test sequences (default all)")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per side after one warm-up (default 3)"
    )
    args = parser.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore")
    try:
        import shap

        shap.explainers._kernel.Kernel = shap.KernelExplainer  # TimeSHAP subclasses the old name
        import timeshap
        import timeshap.explainer as ts_explainer
        import timeshap.wrappers as ts_wrappers
    except ImportError as exc:
        raise SystemExit(
            f"TimeSHAP is needed for this benchmark ({exc}); install it with: pip install "
            "timeshap==1.0.4 --no-deps altair feedzai-altair-theme plotly seaborn"
        ) from None
    import seqshap
    import seqshap.timeshap as ss

    quiet = contextlib.redirect_stdout(io.StringIO())
    data = prepare()
    model = data.model
    average_event = data.average_event
    base_event = average_event.to_numpy()[0]
    pos = [i for i, name in enumerate(data.test_ids) if name.startswith("cycling")][0]
    x = data.x_test[pos : pos + 1].astype(np.float64)
    print(
        f"# AReM: {data.x_train.shape[0]} train / {data.x_test.shape[0]} test sequences of "
        f"{x.shape[1]} x {x.shape[2]}; explained: {data.test_ids[pos]}; timeshap "
        f"{timeshap.__version__}, seqshap {seqshap.__version__}, torch {torch.__version__}, "
        f"{args.threads} thread(s)"
    )

    ts_w = ts_wrappers.TorchModelWrapper(model)
    ss_w = ss.TorchModelWrapper(model)
    ts_f = Counted(lambda a, h=None: ts_w.predict_last_hs(a, h))
    ss_f = Counted(lambda a, h=None: ss_w.predict_last_hs(a, h))

    pruning_dict = {"tol": 0.025}
    event_dict = {"rs": 42, "nsamples": 32000}
    feature_dict = {
        "rs": 42,
        "nsamples": 32000,
        "feature_names": MODEL_FEATURES,
        "plot_features": PLOT_FEATS,
    }
    cell_dict = {"rs": 42, "nsamples": 32000, "top_x_feats": 2, "top_x_events": 2}

    # ------------------------------------------------------------------ local report
    def local(lib, f):
        return lib.calc_local_report(
            f,
            x,
            dict(pruning_dict),
            dict(event_dict),
            dict(feature_dict),
            dict(cell_dict),
            average_event,
        )

    rep = args.repeat
    with quiet:
        ts_out, *ts_time = timed(lambda: (ts_f.reset(), local(ts_explainer, ts_f))[1], rep)
    ts_calls, ts_rows = ts_f.calls, ts_f.rows
    ss_out, *ss_time = timed(lambda: (ss_f.reset(), local(ss, ss_f))[1], rep)
    ss_calls, ss_rows = ss_f.calls, ss_f.rows
    prun_idx = ss.prune_given_data(ss_out[0], 0.025)
    ts_idx = ts_explainer.prune_given_data(ts_out[0], 0.025)
    n_pruned = x.shape[1] + prun_idx
    exact, exact_time, _ = timed(
        lambda: exact_event_values(model, x[0], base_event, n_pruned), 1, warmup=False
    )
    ts_ev = ts_out[1]["Shapley Value"].to_numpy(dtype=float)
    ss_ev = ss_out[1]["Shapley Value"].to_numpy(dtype=float)
    m = len(exact)

    def err(v):
        if len(v) != m:
            return "n/a (other pruning)"
        return f"{np.abs(v - exact).max():.1e} (rel {np.abs(v - exact).max() / np.abs(exact).max():.1e})"

    native = seqshap.sequence.SequenceExplainer(ss_f, base_event, batch_size=4096)
    ss_f.reset()
    _, *native_time = timed(lambda: native.explain(x[0], pruning_tol=0.025), rep)

    print(
        f"\n## Local report (pruning tol 0.025 -> pruning index {prun_idx} [TimeSHAP "
        f"{ts_idx}]; event level {m} players; exact enumeration {exact_time:.2f} s)\n"
    )
    rows = [
        ("TimeSHAP 1.0.4 calc_local_report", ts_time, ts_rows, ts_calls, err(ts_ev)),
        ("seqshap.timeshap calc_local_report", ss_time, ss_rows, ss_calls, err(ss_ev)),
        ("seqshap SequenceExplainer.explain", native_time, None, None, "(same engine)"),
    ]
    print(
        f"wall s: median and min of {rep} timed runs after one warm-up, every row measured the "
        "same way in this run; speed-up: TimeSHAP's median / this median; min / min\n"
    )
    print(
        "| run | wall s median | wall s min | speed-up | model rows | calls | "
        "event max abs error vs exact |"
    )
    print("|---|---:|---:|---:|---:|---:|---|")
    for name, t, r, c, e in rows:
        print(
            f"| {name} | {t[0]:.3f} | {t[1]:.3f} | {ratio(ts_time, t)} | "
            f"{r if r is not None else '-'} | {c if c is not None else '-'} | {e} |"
        )

    # ------------------------------------------------------------------ global
    tols = [0.05, 0.075]
    test_df = data.d_test
    ids = list(dict.fromkeys(test_df["all_id"]))
    n_global = args.n_global or (4 if args.quick else len(ids))
    if n_global < len(ids):
        ids = ids[:n_global]
        test_df = test_df[test_df["all_id"].isin(ids)]
    # TimeSHAP's global run stops with an AssertionError on a sequence whose score is within
    # tol of the baseline's (its pruning index becomes 0): find those from the scores, time
    # TimeSHAP on the others, seqshap on the same subset and on all of them
    with torch.no_grad():
        seqs = torch.from_numpy(np.stack([data.x_test[data.test_ids.index(i)] for i in ids]))
        fx = model(seqs)[0][:, 0].numpy()
        base_seq = torch.from_numpy(np.repeat(base_event[None, None], 480, axis=1)).float()
        fb = float(model(base_seq)[0][0, 0])
    failing = [i for i, v in zip(ids, fx) if abs(v - fb) <= max(tols)]
    subset_df = test_df[~test_df["all_id"].isin(failing)]
    g_prun = {"tol": list(tols)}
    g_event = {"rs": 42, "nsamples": 32000}
    g_feat = {
        "rs": 42,
        "nsamples": 32000,
        "feature_names": MODEL_FEATURES,
        "plot_features": PLOT_FEATS,
    }

    def run_global(lib, f, df):
        schema = list(df.columns)
        common = (MODEL_FEATURES, schema, "all_id", "timestamp")
        pr = lib.prune_all(f, df, dict(g_prun), average_event, *common)
        ev = lib.event_explain_all(f, df, dict(g_event), pr, average_event, *common)
        fe = lib.feat_explain_all(f, df, dict(g_feat), pr, average_event, *common)
        return pr, ev, fe

    rows = []
    with quiet:
        ts_g, *ts_gtime = timed(
            lambda: (ts_f.reset(), run_global(ts_explainer, ts_f, subset_df))[1], rep
        )
    rows.append(("TimeSHAP 1.0.4", len(ids) - len(failing), ts_gtime, ts_f.rows, ts_f.calls))
    ss_g, *ss_sub = timed(lambda: (ss_f.reset(), run_global(ss, ss_f, subset_df))[1], rep)
    rows.append(("seqshap.timeshap", len(ids) - len(failing), ss_sub, ss_f.rows, ss_f.calls))
    ss_all, *ss_alltime = timed(lambda: (ss_f.reset(), run_global(ss, ss_f, test_df))[1], rep)
    rows.append(("seqshap.timeshap (all)", len(ids), ss_alltime, ss_f.rows, ss_f.calls))
    stats = ss.pruning_statistics(ss_all[0], tols)
    print(
        f"\n## Global: prune_all + event_explain_all + feat_explain_all, AReM test sequences, "
        f"tolerances {tols}\n\nTimeSHAP 1.0.4 stops with an AssertionError on {len(failing)} of "
        f"{len(ids)} sequences (score within tol of the baseline's: {failing}); it is timed on "
        "the others.\n"
    )
    print(
        "| run | sequences | wall s median | wall s min | speed-up (median; min) | model rows "
        "| calls |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, n, t, r, c in rows:
        # the "(all)" row explains more sequences than TimeSHAP's: its speed-up is per sequence
        per_seq = (t[0] * (len(ids) - len(failing)) / n, t[1] * (len(ids) - len(failing)) / n)
        print(
            f"| {name} | {n} | {t[0]:.2f} | {t[1]:.2f} | {ratio(ts_gtime, per_seq)} | {r} | {c} |"
        )
    same = ts_g[0]["Pruning idx"].to_numpy(float) == ss_g[0]["Pruning idx"].to_numpy(float)
    a = ts_g[1].merge(ss_g[1], on=["Entity", "Tolerance", "Event"], suffixes=("_ts", "_ss"))
    diff = np.abs(a["Shapley Value_ts"] - a["Shapley Value_ss"]).max()
    print(
        f"\npruning indexes equal: {int(same.sum())}/{len(same)}; max |event value "
        f"TimeSHAP - seqshap| over {len(a)} shared rows: {diff:.1e}"
    )
    print("\nseqshap pruning statistics (all sequences):\n" + stats.to_string(index=False))

    # ------------------------------------------------------------------ pruning cost vs T
    lengths = [60, 120, 240] if args.quick else [60, 120, 240, 480, 960, 1920]
    long_x = np.concatenate(list(data.x_test)).astype(np.float64)  # test sequences end to end
    print(
        "\n## Pruning cost vs sequence length T (one sequence: its last T events; tol 0.025)\n"
        "\nindex search = what prune_all uses (back from the most recent event, stops at the "
        "pruning index); full curve = all T+1 splits (local_pruning's table); row-steps = "
        "rows x steps sent to the model; times: median (min) of the timed runs after a warm-up\n"
    )
    print(
        "| T | pruning index | index search s | calls | row-steps | row-steps / T | "
        "full curve s | row-steps | TimeSHAP local_pruning s | row-steps |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for t_len in lengths:
        seq = long_x[-t_len:]
        engine = seqshap.sequence.SequenceExplainer(ss_f, base_event, batch_size=4096)
        res, *t_idx = timed(
            lambda seq=seq, engine=engine: (
                ss_f.reset(),
                engine.prune(seq, 0.025, full_curve=False),
            )[1],
            rep,
        )
        idx_calls, idx_steps = ss_f.calls, ss_f.row_steps
        _, *t_full = timed(
            lambda seq=seq, engine=engine: (ss_f.reset(), engine.prune(seq, 0.025))[1], rep
        )
        full_steps = ss_f.row_steps
        ts_cell, ts_steps = "-", "-"
        if t_len <= (240 if args.quick else 480):
            with quiet:
                _, *t_ts = timed(
                    lambda seq=seq: (
                        ts_f.reset(),
                        ts_explainer.local_pruning(ts_f, seq[None], {"tol": 0.025}, average_event),
                    )[1],
                    rep,
                )
            ts_cell, ts_steps = f"{t_ts[0]:.2f} ({t_ts[1]:.2f})", f"{ts_f.row_steps:,}"
        print(
            f"| {t_len} | {res.pruned_index} | {t_idx[0]:.4f} ({t_idx[1]:.4f}) | {idx_calls} | "
            f"{idx_steps:,} | {idx_steps / t_len:.1f} | {t_full[0]:.3f} ({t_full[1]:.3f}) | "
            f"{full_steps:,} | {ts_cell} | {ts_steps} |"
        )
    print(
        f"\n(python {sys.version.split()[0]}, {os.cpu_count()} CPUs; torch threads {args.threads})"
    )


if __name__ == "__main__":
    main()
