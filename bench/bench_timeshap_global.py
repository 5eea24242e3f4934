"""The TimeSHAP façade's global functions on the shared global path, beside the per-sequence
loop they ran before (issue 11), measured side by side in one run.

    OMP_NUM_THREADS=1 python bench/bench_timeshap_global.py [--repeat 3] [--n 20]

Workload: AReM (``bench/_arem.py``: the tutorial's GRU(32), average-event baseline), the first
``--n`` sequences (test, then train), ``prune_all`` at tolerances 0.05/0.075, then
``event_explain_all`` and ``feat_explain_all`` with TimeSHAP's ``nsamples=32000`` (exact up to
15 players) on that pruning table.

- **shared path**: ``seqshap.timeshap``'s functions as they are now (``explain_many``: the
  coalitions of up to 16 sequences packed into shared model calls);
- **per-sequence loop**: the same engine one sequence at a time, as the façade did before
  (``Engine.pruned_indexes`` then ``Engine.values`` per level, tolerance and sequence).

Both sides run once untimed (warm-up), then ``--repeat`` timed runs: median and min wall
seconds, model calls and rows of the last run. The machine is shared and noisy: compare the
ratio, not the seconds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _arem import MODEL_FEATURES, prepare  # noqa: E402

TOLS = [0.05, 0.075]
DICT = {"rs": 42, "nsamples": 32000}


class Counted:
    def __init__(self, f) -> None:
        self.f, self.calls, self.rows = f, 0, 0

    def __call__(self, x, h=None):
        self.calls += 1
        self.rows += len(x)
        return self.f(x, h)


def timed(fn, repeat: int):
    fn()
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), float(np.min(times)), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--n", type=int, default=20, help="sequences (default 20)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    import seqshap.timeshap as ts
    from seqshap.sequence import event_players, feature_players
    from seqshap.timeshap._engine import Engine

    data = prepare()
    xs = [*data.x_test, *data.x_train][: args.n]
    xs = np.stack(xs).astype(np.float64)
    n = len(xs)
    base = data.average_event.to_numpy()[0]
    wrapper = ts.TorchModelWrapper(data.model)
    f = Counted(lambda a, h=None: wrapper.predict_last_hs(a, h))

    def shared():
        f.calls = f.rows = 0
        pr = ts.prune_all(f, xs, {"tol": TOLS}, base)
        ev = ts.event_explain_all(f, xs, dict(DICT), pr, base)
        fe = ts.feat_explain_all(f, xs, {**DICT, "feature_names": MODEL_FEATURES}, pr, base)
        return pr, ev, fe

    def loop():
        f.calls = f.rows = 0
        engine = Engine(f, base)
        idx = {i: engine.pruned_indexes(x, TOLS) for i, x in enumerate(xs)}
        ev, fe = {}, {}
        for i, x in enumerate(xs):
            for tol in TOLS:
                k = len(x) + idx[i][tol]
                ev[i, tol] = engine.values(x, event_players(len(x), x.shape[1], k), 32000, 42)
        for i, x in enumerate(xs):
            for tol in TOLS:
                k = len(x) + idx[i][tol]
                fe[i, tol] = engine.values(x, feature_players(len(x), MODEL_FEATURES, k), 32000, 42)
        return idx, ev, fe

    rows = []
    s_med, s_min, (pr, ev, fe) = timed(shared, args.repeat)
    rows.append(("shared path (explain_many)", s_med, s_min, f.calls, f.rows))
    l_med, l_min, (idx, lev, lfe) = timed(loop, args.repeat)
    rows.append(("per-sequence loop (before)", l_med, l_min, f.calls, f.rows))
    print(
        f"# AReM, {n} sequences of {xs.shape[1]} x {xs.shape[2]}, tolerances {TOLS}, torch 1 thread"
    )
    print(
        "\n| run | wall s median | wall s min | model calls | model rows |\n|---|---:|---:|---:|---:|"
    )
    for name, med, mn, calls, nrows in rows:
        print(f"| {name} | {med:.2f} | {mn:.2f} | {calls} | {nrows} |")
    print(f"\nloop / shared: {l_med / s_med:.2f}x (median), {l_min / s_min:.2f}x (min)")
    same = all(
        pr[(pr["Entity"] == i) & (pr["Tolerance"] == t)]["Pruning idx"].iloc[0] == idx[i][t]
        for i in range(n)
        for t in TOLS
    )
    diff = max(
        np.abs(
            fe[(fe["Entity"] == i) & (fe["Tolerance"] == t)]["Shapley Value"].to_numpy() - lfe[i, t]
        ).max()
        for i in range(n)
        for t in TOLS
    )
    exact_ev = [
        np.abs(ev[(ev["Entity"] == i) & (ev["Tolerance"] == t)]["Shapley Value"].to_numpy()
               - lev[i, t]).max()
        for i in range(n)
        for t in TOLS
        if ev[(ev["Entity"] == i) & (ev["Tolerance"] == t)].shape[0] <= 15
    ]  # fmt: skip
    print(
        f"pruning indexes equal: {same}; feature values max |diff| {diff:.1e}; event values "
        f"max |diff| on the {len(exact_ev)} exact (<= 15 players) of {2 * n} "
        f"{max(exact_ev) if exact_ev else float('nan'):.1e} (sampled ones differ by seeding: "
        "per entity now, per call before)"
    )


if __name__ == "__main__":
    main()
