"""Peak memory of a global run does not grow with the number of sequences.

    python bench/bench_memory.py                    # 2,000 and 20,000 sequences
    python bench/bench_memory.py --sizes 2000 20000 200000

Each size runs in a fresh subprocess that streams its sequences from a generator (T=50, d=6,
drawn one by one, never held together) through :func:`seqshap.runner.explain_many` into
parquet parts in a temporary directory, with a small GRU (6 -> 16 -> 1) and a small budget.
The subprocess reports its peak resident set size (``ru_maxrss``) after importing and building
the model ("floor") and at the end of the run ("peak").
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

T, D = 50, 6


def child(n: int, out: str) -> None:
    import resource

    import numpy as np
    import torch
    from torch import nn

    torch.set_num_threads(1)
    from seqshap.runner import explain_many
    from seqshap.sequence import SequenceExplainer

    class SmallGRU(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = nn.GRU(D, 16, batch_first=True)
            self.head = nn.Linear(16, 1)

        def forward(self, x, h=None):
            _, hn = self.rnn(x) if h is None else self.rnn(x, h)
            return torch.sigmoid(self.head(hn[-1])), hn

    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = SmallGRU().eval()

    def sequences():
        for i in range(n):
            g = np.random.default_rng(i)
            yield f"seq-{i:07d}", g.normal(size=(T, D))

    ex = SequenceExplainer(model, np.zeros(D), budget=64, seed=0)
    floor = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    run = explain_many(
        ex,
        sequences(),
        levels=("feature",),
        pruning_tol=0.05,
        out=out,
        chunk_size=256,
        progress=False,
    )
    wall = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    parts = len([f for f in os.listdir(out) if f.startswith("part-")])
    print(
        json.dumps(
            {
                "n": n,
                "floor_mb": floor,
                "peak_mb": peak,
                "wall_s": wall,
                "explained": run.stats["n_explained"],
                "parts": parts,
                "model_share": run.stats["model_share"],
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[2000, 20000])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child(args.child, args.out)
        return
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    results = []
    for n in args.sizes:
        with tempfile.TemporaryDirectory() as tmp:
            out = subprocess.run(
                [sys.executable, __file__, "--child", str(n), "--out", os.path.join(tmp, "run")],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            )
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(
        f"# peak RSS of a streamed global run (T={T}, d={D}, GRU 6->16->1, feature level, "
        "pruning tol 0.05, budget 64, chunks of 256 written to parquet), one fresh process "
        "per size\n"
    )
    print(
        "| sequences | peak RSS MB | after imports MB | growth MB | wall s | sequences/s | parts |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|")
    for r in results:
        print(
            f"| {r['n']:,} | {r['peak_mb']:.0f} | {r['floor_mb']:.0f} | "
            f"{r['peak_mb'] - r['floor_mb']:.0f} | {r['wall_s']:.1f} | "
            f"{r['explained'] / r['wall_s']:.0f} | {r['parts']} |"
        )


if __name__ == "__main__":
    main()
