"""Designs of the kernel estimator measured against the default (one switch each).

The same games, budgets, seeds, counted value function and peers as ``bench_estimators.py``;
each variant is the default (``estimate(game, "auto")``) with one design switched on:

* ``linear fit below 3 pairs per player``: the plain paired linear fit and its jackknife where
  the default runs the horseshoe fit (:mod:`seqshap.estimators._horseshoe`; the default before
  it);
* ``horseshoe fit up to 400 pairs``: the horseshoe fit also where the default hands over to
  the odd-interaction kernel fit (3 pairs per player up to its ``MAX_PAIRS``);
* ``ridge fit``: the third-order fit's values from its ridge regression on the chosen triples
  (:mod:`seqshap.estimators._cubic`; the default before the odd-interaction kernel fit,
  :mod:`seqshap.estimators._odd_kernel`); the variants below switch on top of that fit;
* ``jackknife SE``: the odd-interaction kernel fit with delete-one-pair jackknife standard
  errors instead of its posterior variance (the values are the default's; only coverage moves);
* ``chain pairs``: the first M − 1 sampled pairs are (z_j, ¬z_j), z_j the first j players of
  one random ordering: the chains of an ordering and of its reverse (an antithetic pair of
  permutations) as complementary pairs. Exact on games of order ≤ 2 from 2(M − 1) + 2
  evaluations; then pooled with the random pairs by size (post-stratified weights);
* ``fixed ridge``: the third-order fit with the basis's own ridge (the default before it chose
  its ridge per fit among 0.3, 1 and 3 times that by the kernel-weighted leave-one-pair-out
  error of the pair differences);
* ``terms by LOO``: one or two third-order terms per sampled pair, chosen by the same score
  (each with its ridge chosen).

Printed per variant: the summary lines of ``bench_estimators.py`` (evaluations to 5% against
the best peer, error ratios at 400/800/1,600, coverage) and the error row beside the default's.

Run:  OMP_NUM_THREADS=1 python bench/bench_estimator_variants.py [--seeds 10] [--games ...]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_estimators as base  # noqa: E402

from seqshap.estimators import _cubic, _odd_kernel, kernel  # noqa: E402

CHAIN = (kernel, "_CHAIN_PAIRS", True)
FIXED_RIDGE = (_cubic, "RIDGE_GRID", None)
TERMS = (kernel, "_TERMS_GRID", (1.0, 2.0))
RIDGE_FIT = (kernel, "ODD_KERNEL", False)
JACKKNIFE = (_odd_kernel, "STANDARD_ERRORS", "jackknife")
VARIANTS = {
    "linear fit below 3 pairs per player": [(kernel, "SPARSE", False)],
    "horseshoe fit up to 400 pairs": [(kernel, "MIN_PAIRS_ODD_KERNEL", 10**9)],
    "odd kernel from 1 pair per player": [(kernel, "MIN_PAIRS_ODD_KERNEL", 1)],
    "odd kernel from 4 pairs per player": [(kernel, "MIN_PAIRS_ODD_KERNEL", 4)],
    "ridge fit": [RIDGE_FIT],
    "jackknife SE": [JACKKNIFE],
    "chain pairs": [RIDGE_FIT, CHAIN],
    "fixed ridge": [RIDGE_FIT, FIXED_RIDGE],
    "terms by LOO": [RIDGE_FIT, TERMS],
}


def switched(*switches):
    """``estimate(game, "auto")`` with ``module.name = value`` for each switch during the call."""
    run = base.run_seqshap("auto")

    def call(v, m, budget, seed):
        old = [getattr(module, name) for module, name, _ in switches]
        for module, name, value in switches:
            setattr(module, name, value)
        try:
            return run(v, m, budget, seed)
        finally:
            for (module, name, _), value in zip(switches, old):
                setattr(module, name, value)

    return call


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--games", nargs="*", default=list(base.GAMES), choices=list(base.GAMES))
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    args = parser.parse_args()
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: run with OMP_NUM_THREADS=1 for comparable timings")
    warnings.filterwarnings("ignore")
    budgets = base.BUDGETS
    methods = {base.OURS: base.METHODS[base.OURS]}
    methods.update({v: switched(*VARIANTS[v]) for v in args.variants})
    methods.update({p: base.METHODS[p] for p in base.PEERS})
    print(
        f"shared 2-core machine: timings are noisy. {args.seeds} seeds; each variant is the "
        "default with one design switched on"
    )
    for name in args.games:
        t0 = time.perf_counter()
        game = base.GAMES[name]()
        print(f"\n{name}: reference in {time.perf_counter() - t0:.1f} s")
        table = base.measure(game, methods, budgets, args.seeds)
        base.report(game, table, budgets, args.seeds)
        for variant in args.variants:
            print(f"\n-- variant '{variant}' in place of the default:")
            swapped = {k: v for k, v in table.items() if k not in VARIANTS and k != base.OURS}
            base.report_summary(game, {base.OURS: table[variant], **swapped}, budgets, args.seeds)
        print(
            "\nerror ratio variant / default per budget: "
            + "; ".join(
                f"{v}: "
                + " ".join(
                    f"{r:.2f}"
                    for r in table[v].errors / np.maximum(table[base.OURS].errors, 1e-300)
                )
                for v in args.variants
            )
        )


if __name__ == "__main__":
    main()
