"""Faithfulness of event explanations on the AReM GRU: deletion/insertion AUC of seqshap,
TimeSHAP and random orders, all scored on the same game.

    python bench/bench_faithfulness.py              # all test sequences, TimeSHAP nsamples 32000
    python bench/bench_faithfulness.py --quick      # 6 sequences, TimeSHAP nsamples 4000

Workload: the TimeSHAP tutorial model (``bench/_arem.py``), average-event baseline, temporal
pruning at tol 0.025 (seqshap's split, given to TimeSHAP too so both explain the same
players), event level. Orders compared: seqshap exact values (enumeration), seqshap KernelSHAP
at 2M + 2048 evaluations (the default budget), TimeSHAP 1.0.4 ``event_level`` (its KernelSHAP,
rs 42), and 50 uniformly random orders per sequence. Every order is scored by
``seqshap.metrics.faithfulness`` on SequenceExplainer's game (absent events take the baseline
event): deletion AUC (lower is better), insertion AUC (higher is better), comprehensiveness
and sufficiency (AOPC over 1, 5, 10, 20, 50% of the events). Values are means over sequences
± the standard error across sequences; "beats random" is the mean share of random orders with
a deletion AUC at least as high.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _arem import prepare  # noqa: E402


def timeshap_event_values(model, x, average_event, n_pruned, nsamples):
    """TimeSHAP 1.0.4's event values for the seqshap split, or None if it does not import."""
    try:
        import shap

        shap.explainers._kernel.Kernel = shap.KernelExplainer  # TimeSHAP subclasses the old name
        import timeshap.explainer  # noqa: F401
        import timeshap.wrappers as ts_wrappers

        event_level = sys.modules["timeshap.explainer.event_level"].event_level
    except Exception as exc:  # noqa: BLE001 - report any import failure and go on
        return None, f"{type(exc).__name__}: {exc}"
    wrapper = ts_wrappers.TorchModelWrapper(model)

    def f(a, h=None):
        return wrapper.predict_last_hs(a, h)

    with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        frame = event_level(f, x[None], average_event, n_pruned, 42, nsamples)
    return frame["Shapley Value"].to_numpy(dtype=float), None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 sequences, TimeSHAP nsamples 4000")
    parser.add_argument("--nsamples", type=int, default=None, help="TimeSHAP nsamples")
    parser.add_argument("--no-timeshap", action="store_true", help="skip TimeSHAP")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from seqshap.estimators import default_budget, estimate
    from seqshap.metrics import faithfulness, sequence_game, stack_faithfulness
    from seqshap.sequence import SequenceExplainer

    nsamples = args.nsamples or (4000 if args.quick else 32000)
    data = prepare()
    average_event = data.average_event
    base_event = average_event.to_numpy()[0].astype(np.float64)
    xs = data.x_test.astype(np.float64)
    names = data.test_ids
    if args.quick:
        xs, names = xs[:6], names[:6]
    explainer = SequenceExplainer(
        data.model, base_event, batch_size=4096, method="exact", budget=2**20
    )

    results: dict[str, list] = {"seqshap exact": [], "seqshap kernel (2M+2048)": [], "TimeSHAP": []}
    ts_note, ts_time = None, 0.0
    sizes = []
    for i, x in enumerate(xs):
        loc = explainer.explain(x, levels=("event",), pruning_tol=0.025)
        game = sequence_game(explainer, x, loc.event)
        m = game.n_players
        sizes.append(m)
        exact = loc.event.values[0]
        kernel = estimate(game, "kernel", budget=default_budget(m), seed=i).values
        orders = {"seqshap exact": exact, "seqshap kernel (2M+2048)": kernel}
        if not args.no_timeshap and ts_note is None:
            t0 = time.perf_counter()
            n_pruned = x.shape[0] + int(loc.event.meta["pruned_index"])
            ts_vals, ts_note = timeshap_event_values(
                data.model, x, average_event, n_pruned, nsamples
            )
            ts_time += time.perf_counter() - t0
            if ts_vals is not None:
                orders["TimeSHAP"] = ts_vals[:, None]
        for label, vals in orders.items():
            # the same seed: every explainer is compared with the same random orders
            results[label].append(faithfulness(game, vals, n_random=50, seed=i))

    print(
        f"# AReM GRU, {len(xs)} test sequences ({', '.join(names)}), event level after "
        f"pruning (tol 0.025): M = {min(sizes)}..{max(sizes)} players; model output is "
        f"P(cycling); TimeSHAP nsamples {nsamples}"
        + (f", {ts_time:.0f} s in TimeSHAP" if ts_time else "")
        + "\n"
    )
    if args.no_timeshap:
        print("TimeSHAP: skipped (--no-timeshap)\n")
    elif ts_note is not None:
        print(f"TimeSHAP: not run, it does not import here ({ts_note})\n")

    print_table(results, sizes, 0, stack_faithfulness)
    print(f"\nSequences with at least 8 players ({sum(m >= 8 for m in sizes)}):\n")
    print_table(results, sizes, 8, stack_faithfulness)
    if results["TimeSHAP"]:
        a = np.array([r.summary["deletion_auc"].iloc[0] for r in results["seqshap exact"]])
        b = np.array([r.summary["deletion_auc"].iloc[0] for r in results["TimeSHAP"]])
        d = a - b
        print(
            f"\nPaired deletion AUC, seqshap exact − TimeSHAP: {d.mean():.5f} ± "
            f"{d.std(ddof=1) / np.sqrt(len(d)):.5f} (mean ± SE over sequences; negative = seqshap "
            f"better); max |difference| {np.abs(d).max():.5f}"
        )


def print_table(results, sizes, min_players, stack_faithfulness) -> None:
    keep = [i for i, m in enumerate(sizes) if m >= min_players]
    rows = []
    random_row = None
    for label, res in results.items():
        res = [res[i] for i in keep if i < len(res)]
        if not res:
            continue
        s = stack_faithfulness(res).summary if len(res) > 1 else res[0].summary
        n = len(s)

        def ms(col, frame=s, n=n):
            vals = frame[col].to_numpy(dtype=float)
            se = vals.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
            return f"{vals.mean():.4f} ± {se:.4f}"

        rows.append(
            {
                "order": label,
                "deletion AUC ↓": ms("deletion_auc"),
                "insertion AUC ↑": ms("insertion_auc"),
                "comprehensiveness ↑": ms("comprehensiveness"),
                "sufficiency ↓": ms("sufficiency"),
                "random orders beaten (deletion)": f"{1 - s['deletion_rank'].mean():.3f}",
            }
        )
        if random_row is None:
            random_row = {
                "order": "random (mean of 50 per sequence)",
                "deletion AUC ↓": ms("random_deletion_auc"),
                "insertion AUC ↑": ms("random_insertion_auc"),
                "comprehensiveness ↑": ms("random_comprehensiveness"),
                "sufficiency ↓": ms("random_sufficiency"),
                "random orders beaten (deletion)": "-",
            }
    rows.append(random_row)
    table = pd.DataFrame(rows)
    print("| " + " | ".join(table.columns) + " |")
    print("|" + "---|" * len(table.columns))
    for _, r in table.iterrows():
        print("| " + " | ".join(str(v) for v in r) + " |")


if __name__ == "__main__":
    main()
