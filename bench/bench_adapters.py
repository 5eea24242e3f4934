"""Rows per second through each model adapter for the AReM-shaped GRU.

Model: 2-layer GRU(32) → Linear → sigmoid on sequences of T=480 steps × d=6 features (the
TimeSHAP tutorial's AReM model; untrained weights: throughput does not depend on them). Inputs
are real AReM sequences from $SEQSHAP_AREM_DIR or ../shared/data/arem (tiled to the number of rows). Each row is a
whole 480-step sequence; "state path" rows run the last 60 steps from a prefix state (what the
sequence explainer does beyond the pruned prefix), so they are cheaper per row.

    python bench/bench_adapters.py [--rows 2048] [--threads 1] [--batches 64,256,2048]

Prints a table: adapter, device, batch size (the adapter's memory-budget choice unless stated),
rows/s (best of --repeat). A CUDA row is added when torch sees a GPU.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "torch")
T, D, HIDDEN, LAYERS = 480, 6, 32, 2
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _arem import AREM_DIR as AREM  # noqa: E402


def arem_rows(n: int) -> np.ndarray:
    """``n`` AReM sequences (480 × 6), z-scored, repeated to ``n`` rows."""
    seqs = []
    for f in sorted(AREM.glob("*/dataset*.csv")):
        rows = [
            line.strip().split(",")[1:]
            for line in f.read_text().splitlines()
            if line.strip() and not line.startswith("#")
        ]
        arr = np.asarray(rows, dtype=float)
        if len(arr) == T:
            seqs.append(arr)
    if not seqs:
        sys.exit(f"no AReM data under {AREM}")
    x = np.stack(seqs)
    x = (x - x.mean((0, 1))) / (x.std((0, 1)) + 1e-9)
    return np.resize(x, (n, T, D))


def best_rate(fn, x: np.ndarray, repeat: int) -> float:
    fn(x[:8])  # warm-up
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn(x)
        best = min(best, time.perf_counter() - t)
    return len(x) / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=2048)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batches", default="64,256,2048", help="extra fixed batch sizes")
    args = parser.parse_args()

    import torch

    from seqshap.models import adapt

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)

    class GRUNet(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = torch.nn.GRU(D, HIDDEN, LAYERS, batch_first=True)
            self.head = torch.nn.Linear(HIDDEN, 1)

        def forward(self, x, h: torch.Tensor | None = None):
            out, h = self.rnn(x, h)
            return torch.sigmoid(self.head(out[:, -1])), h

    net = GRUNet().eval()
    x = arem_rows(args.rows)
    rows = []

    def record(name, device, model, fn=None, batch="budget"):
        rate = best_rate(fn or model, x, args.repeat)
        chosen = getattr(model, "batch_size", None) if batch == "budget" else batch
        rows.append((name, device, chosen, rate))

    def callable_f(a):
        with torch.no_grad():
            return net(torch.as_tensor(a, dtype=torch.float32))[0].numpy()

    record("callable (numpy→torch by hand, one call)", "cpu", adapt(callable_f), batch="all")
    torch_model = adapt(net)
    record("torch nn.Module", "cpu", torch_model)
    for b in [int(v) for v in args.batches.split(",") if v]:
        record("torch nn.Module", "cpu", adapt(net, batch_size=b), batch=b)
    prefix_state = torch_model.forward(x[:, : T - 60])[1]
    record(
        "torch state path (last 60 steps)",
        "cpu",
        torch_model,
        fn=lambda a: torch_model.forward(a[:, T - 60 :], prefix_state),
    )
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ts = Path(tmp) / "gru.pt"
        torch.jit.script(net).save(str(ts))
        record("TorchScript .pt", "cpu", adapt(str(ts)))
        onnx_path = Path(tmp) / "gru.onnx"
        torch.onnx.export(
            net,
            (torch.zeros(2, T, D), torch.zeros(LAYERS, 2, HIDDEN)),
            str(onnx_path),
            dynamo=False,
            opset_version=17,
            input_names=["x", "h0"],
            output_names=["p", "hn"],
            dynamic_axes={"x": {0: "n", 1: "t"}, "h0": {1: "n"}, "p": {0: "n"}, "hn": {1: "n"}},
        )
        onnx_model = adapt(str(onnx_path), threads=args.threads)
        record("onnxruntime (state inputs)", "cpu", onnx_model)
        for b in [int(v) for v in args.batches.split(",") if v]:
            record(
                "onnxruntime (state inputs)",
                "cpu",
                adapt(str(onnx_path), threads=args.threads, batch_size=b),
                batch=b,
            )
        onnx_state = onnx_model.forward(x[:, : T - 60])[1]
        record(
            "onnxruntime state path (last 60 steps)",
            "cpu",
            onnx_model,
            fn=lambda a: onnx_model.forward(a[:, T - 60 :], onnx_state),
        )
    try:
        import keras

        inp = keras.Input(shape=(None, D))
        h = keras.layers.GRU(HIDDEN, return_sequences=True)(inp)
        h = keras.layers.GRU(HIDDEN)(h)
        km = keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(h))
        keras_model = adapt(km)
        record(f"keras 3 ({keras.backend.backend()} backend)", "cpu", keras_model)
    except ImportError as exc:  # pragma: no cover
        print(f"(keras skipped: {exc})")
    if torch.cuda.is_available():
        cuda_model = adapt(net, device="cuda")
        record("torch nn.Module", "cuda", cuda_model)
        for b in (256, 1024, 2048):
            record("torch nn.Module", "cuda", adapt(net, device="cuda", batch_size=b), batch=b)
    else:
        rows.append(("torch nn.Module", "cuda", "-", float("nan")))

    print(
        f"AReM-shaped GRU: T={T}, d={D}, {LAYERS}-layer GRU({HIDDEN}); {args.rows} rows, "
        f"{args.threads} thread(s), best of {args.repeat}; torch {torch.__version__}"
    )
    print(f"{'adapter':44s} {'device':6s} {'batch':>6s} {'rows/s':>10s}")
    for name, device, batch, rate in rows:
        shown = "n/a (no GPU)" if np.isnan(rate) else f"{rate:10.0f}"
        print(f"{name:44s} {device:6s} {str(batch):>6s} {shown:>10s}")


if __name__ == "__main__":
    main()
