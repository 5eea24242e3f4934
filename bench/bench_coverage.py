"""Calibration of seqshap's standard errors on the AReM GRU: coverage and width vs budget.

    python bench/bench_coverage.py               # all test sequences, 20 seeds per budget
    python bench/bench_coverage.py --quick       # 6 sequences, 8 seeds

Workload: the TimeSHAP tutorial model (``bench/_arem.py``: 2-layer GRU(32), "cycling vs rest"),
average-event baseline, event level after temporal pruning (tol 0.025) of each AReM test
sequence, valued by SequenceExplainer's own game (prefix-state path). Reference: exact values by
enumerating all 2^M coalitions. For each estimator, budget and seed, every event value gives one
interval φ̂ ± 1.96·SE; coverage is the share containing the exact value. Intervals of one run
share the run's randomness, so the ± next to coverage is a cluster-robust 95% margin (runs as
clusters); width is the mean of 2·1.96·SE; RMSE the root mean squared error over all values;
SE/RMSE compares the reported standard errors (root mean square) with the actual errors.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _arem import prepare  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="6 sequences, 8 seeds")
    parser.add_argument("--seeds", type=int, default=None, help="seeds per budget (default 20)")
    parser.add_argument("--tol", type=float, default=0.025, help="pruning tolerance")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from seqshap.estimators import estimate
    from seqshap.metrics import sequence_game
    from seqshap.sequence import SequenceExplainer

    n_seeds = args.seeds or (8 if args.quick else 20)
    data = prepare()
    base_event = data.average_event.to_numpy()[0].astype(np.float64)
    xs = data.x_test.astype(np.float64)
    if args.quick:
        xs = xs[:6]
    explainer = SequenceExplainer(
        data.model, base_event, batch_size=4096, method="exact", budget=2**20
    )

    games, exact = [], []
    t0 = time.perf_counter()
    for x in xs:
        loc = explainer.explain(x, levels=("event",), pruning_tol=args.tol)
        games.append(sequence_game(explainer, x, loc.event))
        exact.append(loc.event.values[0, :, 0])
    sizes = [g.n_players for g in games]
    print(
        f"# AReM GRU, {len(xs)} test sequences, event level after pruning (tol {args.tol}): "
        f"M = {min(sizes)}..{max(sizes)} players (median {int(np.median(sizes))}); exact "
        f"values by enumeration in {time.perf_counter() - t0:.1f} s; {n_seeds} seeds per cell\n"
    )
    print(
        "| method | budget (x M) | intervals | coverage | width (mean 2·1.96·SE) | RMSE | SE/RMSE |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    plans = [("kernel", (4, 8, 16, 64, 256)), ("permutation", (24, 64, 256))]
    for method, multipliers in plans:
        for mult in multipliers:
            hits, widths, errs, ses, runs = [], [], [], [], []
            for g, (game, ex) in enumerate(zip(games, exact)):
                m = game.n_players
                budget = mult * m if method == "kernel" else mult * (m - 1) + 2
                if method == "kernel" and budget >= 2**m:
                    continue  # would be enumerated exactly
                for seed in range(n_seeds):
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        est = estimate(game, method, budget=budget, seed=1000 * g + seed)
                    if est.exact:
                        continue
                    err = est.values[:, 0] - ex
                    se = est.std_errors[:, 0]
                    hits.append(np.abs(err) <= 1.96 * se)
                    widths.append(2 * 1.96 * se)
                    errs.append(err)
                    ses.append(se)
                    runs.append(np.mean(np.abs(err) <= 1.96 * se))
            if not hits:
                continue
            h = np.concatenate(hits)
            cov = h.mean()
            # cluster-robust margin: runs are independent, intervals within a run are not
            per_run = np.array([x.sum() for x in hits]), np.array([len(x) for x in hits])
            resid = per_run[0] - cov * per_run[1]
            margin = 1.96 * np.sqrt((resid**2).sum()) / per_run[1].sum()
            e, s = np.concatenate(errs), np.concatenate(ses)
            rmse = np.sqrt(np.mean(e**2))
            label = f"{mult} M" if method == "kernel" else f"{mult} (M-1) ({mult // 2} pairs)"
            print(
                f"| {method} | {label} | {len(h)} | {cov:.3f} ± {margin:.3f} | "
                f"{np.mean(np.concatenate(widths)):.2e} | {rmse:.2e} | "
                f"{np.sqrt(np.mean(s**2)) / rmse:.2f} |"
            )


if __name__ == "__main__":
    main()
