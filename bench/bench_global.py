"""Global run on AReM at scale: sequences per second with 1 and 2 workers and with Dask, the
model's share of the time, beside TimeSHAP 1.0.4's global run on the same sequences.

    python bench/bench_global.py                  # seqshap runs, TimeSHAP on the 4 sequences
    python bench/bench_global.py --no-timeshap    # skip TimeSHAP (~2 min a run): no ratio
                                                  # is printed then (none against old figures)

Workload (the TimeSHAP tutorial's global report): the tutorial's 2-layer GRU(32) trained on
"cycling vs rest" (``bench/_arem.py``), average-event baseline (median of the training
events), pruning tolerances 0.05 and 0.075, event and feature levels (every tolerance), budget
as TimeSHAP's ``nsamples=32000`` (exact enumeration up to 15 players). TimeSHAP runs
``prune_all + event_explain_all + feat_explain_all`` on the 4 test cycling sequences; seqshap
runs :func:`seqshap.runner.explain_many` on the same 4 and, for throughput, on all AReM
sequences (train + test, 74 of 480 x 6), written to parquet parts in a temporary directory.

Timing, the same for both libraries: every measured configuration runs once untimed (warm-up:
imports, caches, worker pools), then ``--repeat`` timed runs; the table gives the median and
the minimum, and "x TimeSHAP" divides TimeSHAP's median by seqshap's median (and min by min),
both measured in this run. The machine is shared and noisy: compare ratios, not seconds.

"model share" is the time inside the model's calls over the time the workers spent on
chunks; "overhead" is the rest, per sequence.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _arem import MODEL_FEATURES, PLOT_FEATS, prepare  # noqa: E402

TOLS = [0.05, 0.075]


def timed_runs(fn, repeat: int) -> tuple[float, float, object]:
    """One untimed warm-up call, then ``repeat`` timed calls: (median s, min s, last result)."""
    fn()
    times, result = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.min(times)), result


def run_timeshap(data, model, cyc_ids) -> tuple[int, int]:
    """TimeSHAP's global report on the test cycling sequences; returns (model rows, calls)."""
    import shap

    shap.explainers._kernel.Kernel = shap.KernelExplainer  # TimeSHAP subclasses the old name
    import timeshap.explainer as ts
    import timeshap.wrappers as tw

    w = tw.TorchModelWrapper(model)
    counts = {"calls": 0, "rows": 0}

    def f(x, h=None):
        counts["calls"] += 1
        counts["rows"] += len(x)
        return w.predict_last_hs(x, h)

    df = data.d_test[data.d_test["all_id"].isin(cyc_ids)]
    schema = list(df.columns)
    avg = data.average_event
    feat = {
        "rs": 42,
        "nsamples": 32000,
        "feature_names": MODEL_FEATURES,
        "plot_features": PLOT_FEATS,
    }
    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pr = ts.prune_all(f, df, {"tol": TOLS}, avg, MODEL_FEATURES, schema, "all_id", "timestamp")
        ts.event_explain_all(
            f,
            df,
            {"rs": 42, "nsamples": 32000},
            pr,
            avg,
            MODEL_FEATURES,
            schema,
            "all_id",
            "timestamp",
        )
        ts.feat_explain_all(f, df, feat, pr, avg, MODEL_FEATURES, schema, "all_id", "timestamp")
    return counts["rows"], counts["calls"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-timeshap", action="store_true", help="skip TimeSHAP's run")
    parser.add_argument(
        "--repeat", type=int, default=3, help="timed runs per configuration, after one warm-up"
    )
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    import seqshap
    from seqshap.runner import explain_many
    from seqshap.sequence import SequenceExplainer

    data = prepare()
    model = data.model
    base = data.average_event.to_numpy()[0]
    cyc = [i for i, name in enumerate(data.test_ids) if name.startswith("cycling")]
    cyc_ids = [data.test_ids[i] for i in cyc]
    four = [(data.test_ids[i], data.x_test[i].astype(np.float64)) for i in cyc]
    train_ids = [f"train-{i}" for i in range(len(data.x_train))]
    everything = four + [
        (name, x.astype(np.float64))
        for name, x in zip(data.test_ids + train_ids, [*data.x_test, *data.x_train])
        if name not in cyc_ids
    ]
    ex = SequenceExplainer(model, base, budget=32000, seed=42, feature_names=MODEL_FEATURES)
    kw = dict(levels=("event", "feature"), pruning_tol=TOLS, progress=False)
    print(
        f"# AReM global run: {len(four)} test cycling sequences and all {len(everything)} "
        f"sequences of {four[0][1].shape[0]} x {four[0][1].shape[1]}; seqshap "
        f"{seqshap.__version__}, torch {torch.__version__}, {os.cpu_count()} CPU cores, "
        "torch threads 1 per worker"
    )

    rows = []

    def bench(label, seqs, repeat=args.repeat, **opts):
        def once():
            with tempfile.TemporaryDirectory() as tmp:
                run = explain_many(ex, seqs, out=Path(tmp) / "run", **kw, **opts)
                return run.stats, run.table  # the table is read back inside the timing

        median, fastest, (stats, table) = timed_runs(once, repeat)
        rows.append((label, len(seqs), median, fastest, stats))
        return table

    ref4 = bench("1 process", four, chunk_size=4)
    bench("1 process, one sequence at a time (concurrency=1)", four, chunk_size=4, concurrency=1)
    one4 = explain_many(ex, four, chunk_size=1, **kw).table  # same chunks as the 2-worker runs
    full4 = bench(
        "1 process, full pruning curve (as prune_all)", four, chunk_size=4, full_curve=True
    )
    bench("2 processes (joblib)", four, n_jobs=2, chunk_size=1)
    ref_all = bench("1 process", everything, chunk_size=8)
    bench("2 processes (joblib)", everything, n_jobs=2, chunk_size=8)
    bench(
        "1 process, one sequence at a time (concurrency=1)",
        everything,
        chunk_size=8,
        concurrency=1,
    )
    from distributed import Client, LocalCluster

    with (
        contextlib.redirect_stderr(io.StringIO()),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            env={"OMP_NUM_THREADS": "1"},
        ) as cluster,
        Client(cluster) as client,
    ):
        client.run(lambda: __import__("torch").set_num_threads(1))
        dask4 = bench(
            "Dask LocalCluster, 2 workers", four, backend="dask", client=client, chunk_size=1
        )
        bench(
            "Dask LocalCluster, 2 workers",
            everything,
            backend="dask",
            client=client,
            chunk_size=8,
        )
    same = dask4.equals(one4)
    diff_chunks = float(np.abs(one4["value"].to_numpy() - ref4["value"].to_numpy()).max())
    diff_full = float(np.abs(full4["value"].to_numpy() - ref4["value"].to_numpy()).max())

    ts = None
    if not args.no_timeshap:
        ts_median, ts_min, (ts_rows, ts_calls) = timed_runs(
            lambda: run_timeshap(data, model, cyc_ids), args.repeat
        )
        ts = (ts_median, ts_min)

    print(
        f"\nwall s: median and min of {args.repeat} timed runs after one warm-up, both libraries "
        "measured the same way in this run"
    )
    print(
        "\n| run | sequences | wall s median | wall s min | sequences/s | x TimeSHAP (median; min) "
        "| model share | non-model ms/seq | of which runner ms/seq | model calls | model rows |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    if ts is not None:
        print(
            f"| TimeSHAP 1.0.4 | {len(four)} | {ts[0]:.1f} | {ts[1]:.1f} | "
            f"{len(four) / ts[0]:.3f} | 1x | - | - | - | {ts_calls} | {ts_rows} |"
        )
    for label, n, median, fastest, st in rows:
        if ts is not None:
            # sequences per second relative to TimeSHAP's on its 4 sequences
            ratio = f"{(n / median) / (len(four) / ts[0]):.0f}x; {(n / fastest) / (len(four) / ts[1]):.0f}x"
        else:
            ratio = "not run (--no-timeshap)"
        print(
            f"| seqshap, {label} | {n} | {median:.2f} | {fastest:.2f} | {n / median:.2f} | {ratio} | "
            f"{st['model_share']:.0%} | {st['overhead_ms_per_sequence']:.1f} | "
            f"{st['runner_ms_per_sequence']:.1f} | "
            f"{int(st['n_model_calls'])} | {int(st['n_model_rows'])} |"
        )
    pf = explain_many(ex, four, chunk_size=4, **kw).pruning_stats()
    print(
        f"\nDask table == 1-process table with the same chunks (4 sequences, bit for bit): "
        f"{same}; chunks of 1 vs 4 sequences (other shared batches, float32 rounding): max "
        f"|value difference| {diff_chunks:.1e}; stopped vs full pruning curve: {diff_full:.1e}; "
        f"{len(ref_all)} table rows for all {len(everything)} sequences."
    )
    print("\nseqshap pruning statistics (4 cycling sequences):\n" + pf.to_string(index=False))


if __name__ == "__main__":
    main()
