"""Train the demo model shipped in ``src/seqshap/data/`` and export it to ONNX.

A 1-layer GRU(16) → Linear(4) → softmax classifier of sktime's BasicMotions (6 sensor
channels × 100 steps, 4 activities), trained in torch on the train split (40 sequences),
with the channel standardisation inside the graph so that the demo feeds raw data.
Exported with its hidden state as an input/output (``x, h0 -> probabilities, hn``) so that
seqshap's recurrent (prefix-state) path runs on onnxruntime without torch.

Run (needs torch, onnx, onnxruntime, sktime):

    python scripts/train_demo_model.py [--out src/seqshap/data/basic_motions_gru.onnx]

Prints train and test accuracy; deterministic on CPU for a given --seed.
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import numpy as np
import torch

HIDDEN = 16
CLASSES = ["badminton", "running", "standing", "walking"]
FEATURES = ["accel_x", "accel_y", "accel_z", "gyro_x", "gyro_y", "gyro_z"]


class DemoGRU(torch.nn.Module):
    def __init__(self, mean: np.ndarray, std: np.ndarray, hidden: int = HIDDEN, k: int = 4):
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
        self.gru = torch.nn.GRU(len(mean), hidden, 1, batch_first=True)
        self.head = torch.nn.Linear(hidden, k)

    def forward(self, x: torch.Tensor, h: torch.Tensor | None = None):
        z = ((x - self.mean) / self.std).clamp(-5.0, 5.0)
        out, h = self.gru(z, h)
        return torch.softmax(self.head(out[:, -1]), dim=-1), h


def load_basic_motions():
    from sktime.datasets import load_basic_motions as load

    x_tr, y_tr = load(split="train", return_type="numpy3D")
    x_te, y_te = load(split="test", return_type="numpy3D")
    to_seq = lambda a: np.ascontiguousarray(np.transpose(a, (0, 2, 1)), dtype=np.float32)  # noqa: E731
    code = {c: i for i, c in enumerate(CLASSES)}
    return (
        to_seq(x_tr),
        np.array([code[str(v).lower()] for v in y_tr]),
        to_seq(x_te),
        np.array([code[str(v).lower()] for v in y_te]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1] / "src/seqshap/data/basic_motions_gru.onnx"
    parser.add_argument("--out", type=Path, default=default)
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    torch.set_num_threads(1)
    x_tr, y_tr, x_te, y_te = load_basic_motions()
    events = x_tr.reshape(-1, x_tr.shape[2])
    net = DemoGRU(events.mean(0), events.std(0) + 1e-6)
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    xt, yt = torch.as_tensor(x_tr), torch.as_tensor(y_tr)
    for _ in range(args.epochs):
        opt.zero_grad()
        probs, _ = net(xt)
        loss = torch.nn.functional.nll_loss(torch.log(probs + 1e-9), yt)
        loss.backward()
        opt.step()
    net.eval()
    with torch.no_grad():
        acc_tr = float((net(xt)[0].argmax(1) == yt).float().mean())
        acc_te = float((net(torch.as_tensor(x_te))[0].argmax(1).numpy() == y_te).mean())
    print(
        f"train accuracy {acc_tr:.3f}  test accuracy {acc_te:.3f}  (final loss {loss.item():.4f})"
    )

    args.out.parent.mkdir(parents=True, exist_ok=True)
    h0 = torch.zeros(1, 2, HIDDEN)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript-based exporter is deprecated, still exact
        torch.onnx.export(
            net,
            (xt[:2], h0),
            str(args.out),
            dynamo=False,
            opset_version=17,
            input_names=["x", "h0"],
            output_names=["probabilities", "hn"],
            dynamic_axes={
                "x": {0: "n", 1: "t"},
                "h0": {1: "n"},
                "probabilities": {0: "n"},
                "hn": {1: "n"},
            },
        )
    import onnx

    graph = onnx.load(str(args.out))
    for key, names in (("output_names", CLASSES), ("feature_names", FEATURES)):
        onnx.helper.set_model_props(
            graph,
            {**{p.key: p.value for p in graph.metadata_props}, f"seqshap.{key}": json.dumps(names)},
        )
    onnx.save(graph, str(args.out))
    meta = {
        "dataset": "BasicMotions (sktime)",
        "classes": CLASSES,
        "features": FEATURES,
        "hidden": HIDDEN,
        "epochs": args.epochs,
        "seed": args.seed,
        "train_accuracy": round(acc_tr, 4),
        "test_accuracy": round(acc_te, 4),
        "torch": torch.__version__,
    }
    args.out.with_suffix(".json").write_text(json.dumps(meta, indent=2) + "\n")
    print(
        f"wrote {args.out} ({args.out.stat().st_size} bytes) and {args.out.with_suffix('.json').name}"
    )


if __name__ == "__main__":
    main()
