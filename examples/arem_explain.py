"""Explain a GRU on real sensor data (AReM), as in the TimeSHAP tutorial, with seqshap.

Task: cycling vs the rest from 480 × 6 RSS sequences. Features are z-scored and clipped at
±3σ; a 2-layer GRU(32) → Linear → Sigmoid is trained with Adam (lr 0.01) for 8 full-batch
epochs. One cycling test sequence is then explained against the average event with temporal
pruning (tol 0.025) at event, feature and cell level, and the test set globally.

    python examples/arem_explain.py [--data ../shared/data/arem] [--out arem_out] [--compare]

Writes tidy CSVs of every level and prints timings. ``--compare`` also times the prefix-state
(recurrent) path against the plain path (whole masked sequences) on the same sequence and
prints the largest difference of their values. Needs torch (``pip install seqshap[torch]``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

ACTIVITIES = ("cycling", "lying", "sitting", "standing", "walking")
FEATURES = ["avg_rss12", "var_rss12", "avg_rss13", "var_rss13", "avg_rss23", "var_rss23"]


def read_sequence(path: Path) -> np.ndarray:
    """One AReM CSV: '#' header lines, then time + 6 features; mixed line endings."""
    rows = [
        line.split(",")[1:7]
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return np.asarray(rows, dtype=float)


def load_arem(root: Path, length: int = 480):
    """Sequences of exactly ``length`` rows (the tutorial drops sitting/dataset8, 479 rows):
    returns X (n, T, 6), y (n,) 1 = cycling, and the dataset number of each sequence."""
    xs, ys, ids = [], [], []
    for act in ACTIVITIES:
        for path in sorted((root / act).glob("dataset*.csv")):
            seq = read_sequence(path)
            if len(seq) != length:
                continue
            xs.append(seq)
            ys.append(1.0 if act == "cycling" else 0.0)
            ids.append(int(path.stem.replace("dataset", "")))
    return np.stack(xs), np.array(ys), np.array(ids)


def prepare(root: Path, seed: int = 0):
    """Train/test split (datasets 1–11 / 12–15 of every activity), z-score, clip ±3."""
    X, y, ids = load_arem(root)
    train = ids <= 11
    mu = X[train].reshape(-1, X.shape[2]).mean(0)
    sd = X[train].reshape(-1, X.shape[2]).std(0)
    Xz = np.clip((X - mu) / sd, -3, 3)
    return Xz[train], y[train], Xz[~train], y[~train]


def train_gru(X, y, *, epochs: int = 8, seed: int = 0):
    """The tutorial's model: 2-layer GRU(32) → Linear → Sigmoid, Adam lr 0.01, full batch."""
    import torch

    class ExplainedRNN(torch.nn.Module):
        def __init__(self, n_features: int, hidden: int = 32):
            super().__init__()
            self.rnn = torch.nn.GRU(n_features, hidden, num_layers=2, batch_first=True)
            self.head = torch.nn.Linear(hidden, 1)

        def forward(self, x, h=None):
            out, h = self.rnn(x, h)
            return torch.sigmoid(self.head(out[:, -1])), h

    torch.manual_seed(seed)
    model = ExplainedRNN(X.shape[2])
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    xt = torch.as_tensor(X, dtype=torch.float32)
    yt = torch.as_tensor(y, dtype=torch.float32)[:, None]
    loss_fn = torch.nn.BCELoss()
    model.train()
    for _ in range(epochs):
        opt.zero_grad()
        loss = loss_fn(model(xt)[0], yt)
        loss.backward()
        opt.step()
    model.eval()
    return model


def main(argv=None) -> None:
    import torch

    from seqshap.sequence import SequenceExplainer, mean_event

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data",
        default=os.environ.get("SEQSHAP_AREM_DIR")
        or str(Path(__file__).resolve().parents[2] / "shared/data/arem"),
        help="AReM folder (default: $SEQSHAP_AREM_DIR, else ../shared/data/arem)",
    )
    parser.add_argument("--out", default="arem_out")
    parser.add_argument("--compare", action="store_true", help="time recurrent vs plain path")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    X_train, y_train, X_test, y_test = prepare(Path(args.data))
    model = train_gru(X_train, y_train)
    with torch.no_grad():
        p = model(torch.as_tensor(X_test, dtype=torch.float32))[0].numpy()[:, 0]
    print(f"test accuracy {((p > 0.5) == (y_test > 0.5)).mean():.3f} on {len(y_test)} sequences")

    ex = SequenceExplainer(model, mean_event(X_train), feature_names=FEATURES)
    i = int(np.flatnonzero(y_test == 1)[0])
    t0 = time.perf_counter()
    loc = ex.explain(X_test[i], levels=("event", "feature", "cell"), pruning_tol=0.025)
    t_local = time.perf_counter() - t0
    print(
        f"local report of a cycling sequence: {t_local:.2f} s, pruned index "
        f"{loc.pruning.pruned_index}, path {loc.event.meta['path']}"
    )
    for name, exp in loc.levels.items():
        print(
            f"  {name:8s} {exp.n_players:3d} players, exact={exp.exact}, "
            f"efficiency gap {exp.efficiency_gap.max():.1e}, model rows {int(exp.n_model_rows[0])}"
        )
    top = loc.event.to_frame().sort_values("value", key=abs, ascending=False).head(5)
    print(top[["player", "value"]].to_string(index=False))

    t0 = time.perf_counter()
    glob = ex.explain_global(X_test, levels=("event", "feature"), pruning_tol=0.025)
    print(f"global run over {len(X_test)} test sequences: {time.perf_counter() - t0:.2f} s")
    print(glob.pruning_stats(tols=(0.05, 0.075)).to_string(index=False))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    loc.to_frame().to_csv(out / "local.csv", index=False)
    loc.pruning.curve.to_csv(out / "pruning_curve.csv", index=False)
    glob.event_frame.to_csv(out / "global_events.csv", index=False)
    glob.feature_frame.to_csv(out / "global_features.csv", index=False)
    print(f"tables written to {out}/")
    if args.compare:
        compare_paths(model, mean_event(X_train), X_test[i])


def compare_paths(model, event, x) -> None:
    """Wall time and model work of the recurrent (prefix-state) and plain paths on one sequence.

    Rows: the pruning curve (all 481 splits), the pruning search stopped at the index, the
    local report (pruning + event, feature, cell), and exact event values over a fixed window
    of k events (+ the pruned prefix), k = 8, 10, 14. ``steps`` counts rows × time steps sent
    to the model (the plain path sends whole sequences).
    """
    from seqshap.sequence import SequenceExplainer

    ex = {
        rec: SequenceExplainer(model, event, feature_names=FEATURES, recurrent=rec)
        for rec in (True, False)
    }
    for e in ex.values():
        e.prune(x[-8:], 0.025)  # warm up (adapter, torch kernels)

    def timed(fn, explainer):
        t0 = time.perf_counter()
        out = fn(explainer)
        return time.perf_counter() - t0, out

    table = []
    tasks = [
        ("pruning curve, all splits", lambda e: e.prune(x, 0.025), True),
        ("pruning, stop at the index", lambda e: e.prune(x, 0.025, full_curve=False), True),
        ("local report (tol 0.025)", lambda e: e.explain(x, pruning_tol=0.025), True),
    ]
    for k in (8, 10, 14):
        tasks.append(
            (
                f"exact events, window {k}",
                lambda e, k=k: e.explain(x, levels=("event",), pruned_index=-k),
                k <= 10,
            )
        )
    for what, fn, with_plain in tasks:
        t_fast, fast = timed(fn, ex[True])
        t_plain, plain = timed(fn, ex[False]) if with_plain else (float("nan"), None)
        diff = float("nan")
        if plain is not None:
            if hasattr(fast, "older"):
                diff = float(np.nanmax(abs(fast.older - plain.older)))
            else:
                diff = max(
                    float(abs(a.values - b.values).max())
                    for a, b in zip(fast.levels.values(), plain.levels.values())
                )
        table.append((what, t_fast, t_plain, t_plain / t_fast, diff))
    print(f"{'task':30s} {'recurrent s':>11s} {'plain s':>9s} {'speed-up':>8s} {'max |diff|':>10s}")
    for what, a, b, r, dv in table:
        print(f"{what:30s} {a:11.3f} {b:9.3f} {r:8.1f} {dv:10.1e}")


if __name__ == "__main__":
    main()
