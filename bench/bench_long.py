"""Long sequences: default ``explain()`` time and row-steps vs T, and 480 unpruned events.

    OMP_NUM_THREADS=1 python bench/bench_long.py            # T = 480, 2,000, 20,000, 100,000
    OMP_NUM_THREADS=1 python bench/bench_long.py --quick    # T = 480, 2,000, 20,000

Model and data: the AReM tutorial GRU (``bench/_arem.py``) in its (x, h) form (seqshap's
``TorchModelWrapper(model).predict_last_hs``), average-event baseline; long inputs are the test
sequences end to end, tiled to length T; the explained sequence ends with a cycling recording
so that its last events drive the score. Row-steps = rows × steps sent to the model, counted by
wrapping ``f(x, h)``. Times: median and min of ``--repeat`` runs after one warm-up (one run at
T >= 20,000); the pruned and unpruned reports are timed in interleaved rounds, so that a change
of load hits both alike. The machine is shared: read ratios measured in the same run, not
absolute times.

Targets (issue 13): growth of default ``explain()`` from T = 2,000 to 20,000 at most 15×;
T = 20,000 in seconds. 480 unpruned events (``pruning_tol=None``) in at most 3× the default
pruned report's time, max standard error at most 2% of the spread of the event values, values
within 3 standard errors of a reference with 20× the budget for at least 97% of events. The
reference draws 20× the samples of every time block (another seed); the standard errors
compared are the reported ones (t-scaled, floored at the model's float32 resolution); no other
tolerance. Also shown: the same with ``tol=0.02`` (the 2% target as the stopping rule; the
default is 0.01).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from _arem import prepare  # noqa: E402
from _timing import Counted, timed, timed_interleaved  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="T up to 20,000 only")
    parser.add_argument("--repeat", type=int, default=3, help="runs per row (T < 20,000)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(args.threads)
    import seqshap
    import seqshap.timeshap as ss
    from seqshap.estimators.owen import owen_blocks

    data = prepare()
    base_event = data.average_event.to_numpy()[0]
    wrapper = ss.TorchModelWrapper(data.model)
    f = Counted(lambda a, h=None: wrapper.predict_last_hs(a, h))
    cyc = [i for i, n in enumerate(data.test_ids) if n.startswith("cycling")][0]
    order = [i for i in range(len(data.x_test)) if i != cyc] + [cyc]
    tile = np.concatenate([data.x_test[i] for i in order]).astype(np.float64)
    print(
        f"# AReM GRU, seqshap {seqshap.__version__}, torch {torch.__version__}, "
        f"{args.threads} thread(s), {os.cpu_count()} CPUs (shared machine)\n"
    )

    def explainer():
        return seqshap.sequence.SequenceExplainer(f, base_event, batch_size=4096)

    # ------------------------------------------------------------------ default explain vs T
    lengths = [480, 2_000, 20_000] if args.quick else [480, 2_000, 20_000, 100_000]
    print("## Default explain() (event, feature, cell levels; pruning tol 0.025)\n")
    print("| T | pruned index | curve points | s (median) | s (min) | calls | row-steps |")
    print("|---:|---:|---:|---:|---:|---:|---:|")
    rows = {}
    for t_len in lengths:
        reps = int(np.ceil(t_len / len(tile)))
        x = np.concatenate([tile] * reps)[-t_len:]
        ex = explainer()
        repeat = args.repeat if t_len < 20_000 else 1
        ex.explain(x)  # warm-up (model probe, imports)
        f.reset()
        out, med, best = timed(lambda x=x, ex=ex: ex.explain(x), repeat, warmup=False)
        pts = int((~np.isnan(out.pruning.older).any(axis=1)).sum())
        rows[t_len] = (med, f.row_steps // repeat)
        print(
            f"| {t_len:,} | {out.pruning.pruned_index} | {pts} | {med:.3f} | {best:.3f} | "
            f"{f.calls // repeat} | {f.row_steps // repeat:,} |"
        )
    if 2_000 in rows and 20_000 in rows:
        (t2, s2), (t20, s20) = rows[2_000], rows[20_000]
        print(
            f"\ngrowth T = 2,000 -> 20,000: time {t20 / t2:.1f}x, row-steps {s20 / s2:.1f}x "
            "(target: time <= 15x)"
        )

    # ------------------------------------------------------------------ 480 unpruned events
    x = data.x_test[cyc].astype(np.float64)
    ex = explainer()
    ex02 = seqshap.sequence.SequenceExplainer(f, base_event, batch_size=4096, tol=0.02)

    steps: dict[str, int] = {}

    def run(name, explainer_, **kwargs):
        f.reset()  # the counts kept are those of each side's last call
        out = explainer_.explain(x, **kwargs)
        steps[name] = f.row_steps
        return out

    # each side: one untimed warm-up, then --repeat timed rounds with the three sides
    # interleaved, so that the machine's load moves all of them alike (bench/_timing.py)
    (pruned, t_p, t_p_min), (unpruned, t_u, t_u_min), (loose, t_l, t_l_min) = timed_interleaved(
        [
            lambda: run("pruned", ex),
            lambda: run("unpruned", ex, pruning_tol=None),
            lambda: run("loose", ex02, pruning_tol=None),
        ],
        args.repeat,
    )
    steps_p, steps_u, steps_l = steps["pruned"], steps["unpruned"], steps["loose"]
    ev = unpruned.event
    v, se = ev.values[0, :, 0], ev.std_errors[0, :, 0]
    spread = float(np.ptp(v))
    blocks = [list(range(a - 1, b)) for a, b in ev.meta["time_blocks"]]
    game = ex.game(x, "event")
    # the reference: 20x the samples of every block (20x the evaluations, the same
    # allocation), from another seed
    first = [20 * n for n in ev.meta["block_samples"]]
    budget = 2 ** len(blocks) + sum(n * (len(b) - 1) for n, b in zip(first, blocks))
    ref = owen_blocks(
        game, blocks, budget, np.random.default_rng(12345), tol=None, first_samples=first
    )
    rv, rse = ref.values[:, 0], ref.std_errors[:, 0]
    within = np.abs(v - rv) <= 3 * se
    within_both = np.abs(v - rv) <= 3 * np.sqrt(se**2 + rse**2)
    levels = {name: e.meta.get("n_steps", 0) for name, e in unpruned.levels.items()}
    print("\n## 480 unpruned events (pruning_tol=None) vs the default pruned report, same run\n")
    print("| report | s (median) | s (min) | row-steps | event players | event method |")
    print("|---|---:|---:|---:|---:|---|")
    print(
        f"| default (pruned) | {t_p:.3f} | {t_p_min:.3f} | {steps_p:,} | "
        f"{pruned.event.n_players} | {pruned.event.method} |"
    )
    print(
        f"| pruning_tol=None | {t_u:.3f} | {t_u_min:.3f} | {steps_u:,} | {ev.n_players} | "
        f"{ev.method} |"
    )
    print(
        f"| pruning_tol=None, tol=0.02 | {t_l:.3f} | {t_l_min:.3f} | {steps_l:,} | "
        f"{loose.event.n_players} | {loose.event.method} |"
    )
    print(
        f"\ntime ratio {t_u / t_p:.2f}x (median), {t_u_min / t_p_min:.2f}x (min), row-steps "
        f"{steps_u / steps_p:.2f}x; target <= 3x. Row-steps of the unpruned report by level: "
        + ", ".join(f"{k} {n:,}" for k, n in levels.items())
    )
    lv, lse = loose.event.values[0, :, 0], loose.event.std_errors[0, :, 0]
    print(
        f"tol=0.02 (the issue's 2% target as the stopping rule, default tol 0.01): time "
        f"{t_l / t_p:.2f}x (median), {t_l_min / t_p_min:.2f}x (min), row-steps "
        f"{steps_l / steps_p:.2f}x; max SE / spread {lse.max() / np.ptp(lv):.4f}; within 3 SE "
        f"of the reference {(np.abs(lv - rv) <= 3 * lse).mean():.3f}"
    )
    print(
        f"max SE / spread of event values: {se.max() / spread:.4f} (target <= 0.02); "
        f"evaluations {int(ev.n_evaluations[0]):,}; converged {ev.meta['converged']}"
    )
    res = float(game.resolution[0])
    print(
        f"within 3 SE of a 20x-budget reference ({int(ref.n_evaluations):,} evaluations, max "
        f"SE {rse.max():.1e}): {within.mean():.3f} of events with our SE alone, "
        f"{within_both.mean():.3f} with the reference's SE added in quadrature (target >= "
        f"0.97). Every SE includes, in quadrature, the floor at the model's float32 "
        f"resolution, {res:.2e} (eps x max |f|); no other tolerance is used."
    )
    print("\nper block (events back: samples ours/reference, max |value|, max SE, misses):")
    for (a, b), idx, n_ours, n_ref in zip(
        ev.meta["time_blocks"], blocks, ev.meta["block_samples"], ref.extras["samples"]
    ):
        print(
            f"  {a}..{b}: {n_ours}/{n_ref}, max|v| {np.abs(v[idx]).max():.2e}, max SE "
            f"{se[idx].max():.2e}, misses {int((~within[idx]).sum())}"
        )


if __name__ == "__main__":
    main()
