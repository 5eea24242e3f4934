"""The prefix-state path on the user's own model: plain torch module, ONNX files, Keras, TimeSHAP.

    OMP_NUM_THREADS=1 python bench/bench_state_path.py             # 3 timed runs per row
    OMP_NUM_THREADS=1 python bench/bench_state_path.py --repeat 1  # quicker, noisier
    OMP_NUM_THREADS=1 python bench/bench_state_path.py --skip plain exact timeshap keras \
        --repeat 9                                                # the fast rows only

Workload: the TimeSHAP tutorial's AReM model (2-layer GRU(32) -> Linear -> Sigmoid, trained by
``bench/_arem.py``), one cycling test sequence (T = 480, d = 6), the average-event baseline,
``SequenceExplainer.explain(x, levels=("event", "feature", "cell"), pruning_tol=0.025)``. The
same weights are explained as:

- the ``(x, h)`` form ``forward(x, h=None) -> (scores, h)`` (the reference: the state path as
  it was before automatic state access);
- a plain ``nn.Module`` whose ``forward(x)`` returns the scores: automatic (hooks on its GRU,
  checked on the data) and with ``recurrent=False`` (whole sequences per coalition);
- a plain ONNX export of that module (``torch.onnx.export(..., dynamo=False)``): automatic
  (graph rewritten to expose the GRU states) and ``recurrent=False``; and the file written by
  ``seqshap.export_onnx`` (states exposed in the file);
- a Keras 3 model (torch backend) with the same weights (GRU gates reordered), plain path and
  automatic;
- TimeSHAP 1.0.4 ``calc_local_report`` on the ``(x, h)`` form (same tolerance, nsamples 32000,
  2 x 2 cells), when it imports (``pip install --no-deps timeshap==1.0.4 altair
  feedzai-altair-theme plotly seaborn`` and their imports; a ``--target`` folder on PYTHONPATH
  is enough). Its values come from sampling, so its column shows time only.

Every seqshap row is timed the same way: one untimed run (adapting, the split check, warm-up),
then ``--repeat`` timed runs of a fresh explainer each (so the check and the prefix cache are
inside the timing); median and min are printed. Values: max |difference| of the event, feature
and cell values against the ``(x, h)`` form. One thread everywhere (torch, ONNX Runtime,
OMP_NUM_THREADS); the machine is shared, so absolute times move by 2x between runs; the ratios
are measured side by side in one process.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _arem import MODEL_FEATURES, PLOT_FEATS, prepare  # noqa: E402

LEVELS = ("event", "feature", "cell")


def plain_module(xh_model):
    """The same weights as a plain module: ``forward(x) -> scores``."""
    import torch
    from torch import nn

    class PlainGRU(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.recurrent_block = nn.GRU(6, 32, batch_first=True, num_layers=2)
            self.classifier_block = nn.Linear(32, 1)

        def forward(self, x):
            out, _ = self.recurrent_block(x)
            return torch.sigmoid(self.classifier_block(out[:, -1]))

    net = PlainGRU()
    net.load_state_dict(xh_model.state_dict(), strict=False)
    return net.eval()


def keras_model(xh_model):
    """The same GRU in Keras 3 (torch gates r, z, n -> Keras z, r, h; reset_after=True)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    import keras

    sd = {k: v.detach().numpy() for k, v in xh_model.state_dict().items()}

    def reorder(w):  # rows r, z, n -> z, r, n
        r, z, n = np.split(w, 3, axis=0)
        return np.concatenate([z, r, n], axis=0)

    inp = keras.Input((None, 6))
    h = keras.layers.GRU(32, return_sequences=True, name="gru_0")(inp)
    h = keras.layers.GRU(32, name="gru_1")(h)
    out = keras.layers.Dense(1, activation="sigmoid", name="head")(h)
    model = keras.Model(inp, out)
    for layer in (0, 1):
        p = f"recurrent_block.{{}}_l{layer}"
        model.get_layer(f"gru_{layer}").set_weights(
            [
                reorder(sd[p.format("weight_ih")]).T,
                reorder(sd[p.format("weight_hh")]).T,
                np.stack([reorder(sd[p.format("bias_ih")]), reorder(sd[p.format("bias_hh")])]),
            ]
        )
    model.get_layer("head").set_weights(
        [sd["classifier_block.weight"].T, sd["classifier_block.bias"]]
    )
    return model


def values_of(local) -> list[np.ndarray]:
    return [getattr(local, level).values for level in LEVELS]


def exact_row_steps(xh, plain, x, base_event, repeat: int) -> None:
    """Exact event values over the last 20 events + the pruned prefix (2^21 coalitions):
    recurrent row-steps counted by a forward hook on the GRU, for both torch forms."""
    from seqshap import SequenceExplainer

    print("\n## Exact event values, 20 events + the pruned prefix (21 players, 2^21 coalitions)\n")
    print("| model | path | median s | min s | row-steps | row-steps / 2^22 |")
    print("|---|---|---:|---:|---:|---:|")
    values = {}
    for name, net in (("torch (x, h) form", xh), ("torch plain module, automatic", plain)):
        ex = SequenceExplainer(net, base_event)
        ex.prepare(x)
        steps = []
        handle = net.recurrent_block.register_forward_hook(
            lambda m, a, out, steps=steps: steps.append(a[0].shape[0] * a[0].shape[1])
        )
        times = []
        try:
            for _ in range(1 + repeat):  # the first run untimed, as above
                steps.clear()
                t0 = time.perf_counter()
                exp = ex.explain_level(x, "event", pruned_index=-20, method="exact", budget=2**21)
                times.append(time.perf_counter() - t0)
        finally:
            handle.remove()
        values[name] = exp.values
        med = statistics.median(times[1:])
        print(
            f"| {name} | {ex.model_info.path} | {med:.2f} | {min(times[1:]):.2f} | "
            f"{sum(steps):,} | {sum(steps) / 2**22:.3f} |"
        )
    a, b = values.values()
    print(f"\nmax |difference| of the exact values: {np.max(np.abs(a - b)):.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per row (default 3)")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="parts to skip: report (the local-report table), exact, torch, onnx, keras, "
        "timeshap, plain (the recurrent=False rows)",
    )
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")
    logging.getLogger("seqshap").setLevel(logging.ERROR)
    import seqshap
    from seqshap import SequenceExplainer
    from seqshap.models import adapt

    data = prepare()
    xh = data.model.eval()
    base_event = data.average_event.to_numpy()[0]
    pos = [i for i, name in enumerate(data.test_ids) if name.startswith("cycling")][0]
    x = data.x_test[pos].astype(np.float64)
    plain = plain_module(xh)
    tmp = Path(tempfile.mkdtemp(prefix="seqshap-bench-"))
    plain_onnx = tmp / "plain.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            plain, (torch.zeros(2, 8, 6),), str(plain_onnx), dynamo=False, opset_version=17,
            input_names=["x"], output_names=["scores"],
            dynamic_axes={"x": {0: "n", 1: "t"}, "scores": {0: "n"}},
        )  # fmt: skip
    exposed_onnx = tmp / "exposed.onnx"
    seqshap.export_onnx(plain, data.x_test[:4], exposed_onnx)

    if "exact" not in args.skip:
        exact_row_steps(xh, plain, x, base_event, args.repeat)
    if "report" in args.skip:
        return
    skip = set(args.skip)
    rows = [("torch (x, h) form", lambda: xh, {})]
    if "torch" not in skip:
        rows.append(("torch plain module, automatic", lambda: plain, {}))
        if "plain" not in skip:
            rows.append(
                ("torch plain module, recurrent=False", lambda: plain, {"recurrent": False})
            )
    if "onnx" not in skip:
        rows.append(("ONNX plain export, automatic", lambda: adapt(str(plain_onnx), threads=1), {}))
        if "plain" not in skip:
            rows.append(
                (
                    "ONNX plain export, recurrent=False",
                    lambda: adapt(str(plain_onnx), threads=1, recurrent=False),
                    {"recurrent": False},
                )
            )
        rows.append(
            ("ONNX from seqshap.export_onnx", lambda: adapt(str(exposed_onnx), threads=1), {})
        )
    if "keras" not in skip:
        try:
            km = keras_model(xh)
            rows.append(("Keras 3 GRU (torch backend), automatic", lambda: km, {}))
            if "plain" not in skip:
                rows.append(("Keras 3 GRU, recurrent=False", lambda: km, {"recurrent": False}))
        except ImportError as exc:
            print(f"(Keras row skipped: {exc})")

    results = {}
    for name, make, opts in rows:

        def run(make=make, opts=opts):
            ex = SequenceExplainer(make(), base_event, feature_names=MODEL_FEATURES, **opts)
            return ex, ex.explain(x, levels=LEVELS, pruning_tol=0.025)

        ex, local = run()  # untimed: warm-up
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
        results[name] = (times, values_of(local), ex.model_info, local)
        print(f"  {name}: {statistics.median(times):.2f} s ({ex.model_info.path})", flush=True)

    ts_time = None
    if "timeshap" not in args.skip:
        try:
            import shap

            shap.explainers._kernel.Kernel = shap.KernelExplainer
            import timeshap.explainer as ts_explainer
            import timeshap.wrappers as ts_wrappers

            w = ts_wrappers.TorchModelWrapper(xh)
            f = lambda a, h=None: w.predict_last_hs(a, h)  # noqa: E731
            with contextlib.redirect_stdout(io.StringIO()):
                t0 = time.perf_counter()
                ts_explainer.calc_local_report(
                    f, x[None], {"tol": 0.025}, {"rs": 42, "nsamples": 32000},
                    {"rs": 42, "nsamples": 32000, "feature_names": MODEL_FEATURES,
                     "plot_features": PLOT_FEATS},
                    {"rs": 42, "nsamples": 32000, "top_x_feats": 2, "top_x_events": 2},
                    data.average_event,
                )  # fmt: skip
                ts_time = time.perf_counter() - t0
        except ImportError as exc:
            print(f"(TimeSHAP row skipped: {exc})")

    ref_name = "torch (x, h) form"
    ref_t = statistics.median(results[ref_name][0])
    ref_v = results[ref_name][1]
    pruned = results[ref_name][3].pruning.pruned_index
    print(
        f"\n## Local report on the AReM GRU (T=480, pruning tol 0.025 -> index {pruned}; "
        f"event, feature, cell); {args.repeat} timed runs per row, 1 thread\n"
    )
    print("| model | path (access) | median s | min s | vs (x, h) form | max abs value diff |")
    print("|---|---|---:|---:|---:|---:|")
    for name, (times, vals, info, _) in results.items():
        diff = max(float(np.max(np.abs(a - b))) for a, b in zip(vals, ref_v))
        med = statistics.median(times)
        print(
            f"| {name} | {info.path} ({info.access}) | {med:.2f} | {min(times):.2f} | "
            f"{med / ref_t:.2f}x | {diff:.1e} |"
        )
    if ts_time is not None:
        print(f"| TimeSHAP 1.0.4 calc_local_report, (x, h) form | its own | {ts_time:.2f} | "
              f"{ts_time:.2f} | {ts_time / ref_t:.2f}x | (sampled) |")  # fmt: skip

    def ratio(slow: str, fast: str) -> str:
        if slow not in results or fast not in results:
            return "not measured"
        med = [statistics.median(results[n][0]) for n in (slow, fast)]
        return f"{med[0] / med[1]:.2f}x"

    print(
        "\nplain torch module, automatic / (x, h) form (target <= 1.5x): "
        f"{ratio('torch plain module, automatic', 'torch (x, h) form')}\n"
        "plain torch module, recurrent=False / automatic: "
        f"{ratio('torch plain module, recurrent=False', 'torch plain module, automatic')}\n"
        "plain ONNX export, recurrent=False / automatic (target >= 4x): "
        f"{ratio('ONNX plain export, recurrent=False', 'ONNX plain export, automatic')}\n"
        "Keras GRU, recurrent=False / automatic: "
        f"{ratio('Keras 3 GRU, recurrent=False', 'Keras 3 GRU (torch backend), automatic')}"
    )
    for name in results:
        print(f"- {name}: {results[name][2]}")
    print(f"\n(python {sys.version.split()[0]}, {os.cpu_count()} CPUs, torch {torch.__version__})")


if __name__ == "__main__":
    main()
