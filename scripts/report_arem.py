#!/usr/bin/env python
"""The HTML report at T = 480: a 5-class GRU on AReM, one local and a global section.

    python scripts/report_arem.py [--data ../shared/data/arem] [--out arem_report] [--n 10]

Trains a GRU(16) → Linear → softmax over the five activities (datasets 1–11 train, 12–15
test; z-scored, clipped at ±3σ; Adam, 30 full-batch epochs, local torch seed), explains one
walking test sequence (pruning, event, feature and cell levels) and ``--n`` test sequences
globally against the mean training event, and writes ``report.html`` with the class names
and the true labels. For looking at the report's views on long sequences (screenshots with
``scripts/check_report_chromium.py --screenshot``). Needs torch.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "examples"))

from arem_explain import ACTIVITIES, FEATURES, read_sequence  # noqa: E402


def train(x: np.ndarray, y: np.ndarray, *, epochs: int = 30, seed: int = 0):
    import torch

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.rnn = torch.nn.GRU(x.shape[2], 16, batch_first=True)
            self.head = torch.nn.Linear(16, len(ACTIVITIES))

        def forward(self, inp, h=None):
            out, h = self.rnn(inp, h)
            return torch.softmax(self.head(out[:, -1]), dim=-1), h

    torch.manual_seed(seed)
    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    xt, yt = torch.tensor(x, dtype=torch.float32), torch.tensor(y)
    for _ in range(epochs):
        opt.zero_grad()
        probs, _ = net(xt)
        loss = torch.nn.functional.nll_loss(torch.log(probs + 1e-9), yt)
        loss.backward()
        opt.step()
    return net.eval()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=HERE.parents[1] / "shared" / "data" / "arem")
    ap.add_argument("--out", type=Path, default=Path("arem_report"))
    ap.add_argument("--n", type=int, default=10)
    ap.add_argument(
        "--tol", default="0.025", help="pruning tolerance of the local sequence, or 'none' (T=480)"
    )
    args = ap.parse_args(argv)
    import torch

    from seqshap import report
    from seqshap.sequence import SequenceExplainer

    torch.set_num_threads(1)
    xs, ys, nums = [], [], []
    for k, act in enumerate(ACTIVITIES):
        for path in sorted((args.data / act).glob("dataset*.csv")):
            seq = read_sequence(path)
            if len(seq) == 480:  # sitting/dataset8.csv has 479 rows (dropped, as the tutorial)
                xs.append(seq)
                ys.append(k)
                nums.append(int(path.stem.replace("dataset", "")))
    x, y, num = np.stack(xs), np.array(ys), np.array(nums)
    train_rows = num <= 11
    mu = x[train_rows].reshape(-1, 6).mean(0)
    sd = x[train_rows].reshape(-1, 6).std(0)
    z = np.clip((x - mu) / sd, -3, 3)
    start = time.perf_counter()
    net = train(z[train_rows], y[train_rows])
    test = np.flatnonzero(~train_rows)
    with torch.no_grad():
        probs = net(torch.tensor(z[test], dtype=torch.float32))[0].numpy()
    acc = (probs.argmax(1) == y[test]).mean()
    print(f"trained in {time.perf_counter() - start:.1f} s; test accuracy {acc:.2f}")
    explainer = SequenceExplainer(
        net, "mean_event", data=z[train_rows], feature_names=FEATURES, output_names=ACTIVITIES
    )
    ids = [f"{ACTIVITIES[y[i]]}-{num[i]}" for i in test]
    labels = [ACTIVITIES[y[i]] for i in test]
    pick = [k for k, i in enumerate(test) if ACTIVITIES[y[i]] == "walking"][0]
    start = time.perf_counter()
    local = explainer.explain(
        z[test[pick]],
        levels=("event", "feature", "cell"),
        pruning_tol=None if args.tol == "none" else float(args.tol),
        entity=ids[pick],
    )
    print(
        f"local {ids[pick]}: pruned index {getattr(local.pruning, 'pruned_index', None)}, "
        f"{local.event.n_players} event players, {time.perf_counter() - start:.1f} s"
    )
    chosen = np.linspace(0, len(test) - 1, min(args.n, len(test))).astype(int)
    start = time.perf_counter()
    glob = explainer.explain_global(
        z[test[chosen]],
        levels=("event", "feature"),
        pruning_tol=0.025,
        keep_curve=True,  # the report's pruning table then answers the tolerance ladder
        entity_ids=[ids[k] for k in chosen],
        labels=[labels[k] for k in chosen],  # the run's tables and the report show them
    )
    print(f"global {len(chosen)} sequences: {time.perf_counter() - start:.1f} s")
    args.out.mkdir(parents=True, exist_ok=True)
    report(
        local=local,
        global_=glob,
        path=args.out / "report.html",
        title="seqshap: AReM GRU, 5 activities, T = 480",
        output="predicted",
    )
    print(f"wrote {args.out / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
