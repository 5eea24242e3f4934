"""Relative L2 error against exact Shapley values as a function of the budget.

Game: a small LSTM (hidden 16) over a sequence of 20 time steps × 3 features; each time step is
a player, absent steps take the baseline (zeros). Exact values come from enumerating all 2^20
coalitions. For each budget (model rows), every method runs with several seeds and we report
the mean relative L2 error ‖φ̂ − φ‖ / ‖φ‖, then the rows each method needs to reach 5% error
(log-linear interpolation between measured budgets).

Methods: seqshap kernel (paired, border enumeration, without replacement), seqshap permutation
(antithetic), shap.KernelExplainer(l1_reg=False), captum KernelShap (when installed).

Run:  python bench/bench_estimators.py [--seeds 5] [--quick]
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np
import torch

from seqshap.estimators import estimate
from seqshap.games import MaskedGame

T, D, HIDDEN = 20, 3, 16


def build_model():
    gen = torch.Generator().manual_seed(0)
    lstm = torch.nn.LSTM(D, HIDDEN, batch_first=True)
    head = torch.nn.Linear(HIDDEN, 1)
    with torch.no_grad():
        for p in list(lstm.parameters()) + list(head.parameters()):
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    lstm.eval()

    def model(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out, _ = lstm(torch.as_tensor(x, dtype=torch.float32))
            return head(out[:, -1]).double().numpy()

    return model


class Counter:
    def __init__(self, fn):
        self.fn, self.rows = fn, 0

    def __call__(self, x):
        self.rows += len(x)
        return self.fn(x)


def game_for(model, x, baseline):
    masks = np.zeros((T, T, D), dtype=bool)
    masks[np.arange(T), np.arange(T)] = True
    return MaskedGame(model, x, baseline[None], masks, batch_size=8192)


def run_seqshap(model, x, baseline, method, budget, seed):
    counter = Counter(model)
    game = game_for(counter, x, baseline)
    counter.rows = 0
    est = estimate(game, method, budget=budget, seed=seed)
    return est.values[:, 0], counter.rows


def run_shap(model, x, baseline, budget, seed):
    import shap

    counter = Counter(lambda z: model(np.where(z[:, :, None] > 0.5, x, baseline)))
    explainer = shap.KernelExplainer(counter, np.zeros((1, T)))
    counter.rows = 0
    np.random.seed(seed)  # noqa: NPY002 - shap samples from the global state
    values = explainer.shap_values(np.ones((1, T)), nsamples=budget, l1_reg=False, silent=True)
    return np.asarray(values).reshape(T), counter.rows


def run_captum(model, x, baseline, budget, seed):
    from captum.attr import KernelShap

    counter = Counter(model)

    def forward(inp):
        return torch.as_tensor(counter(inp.detach().numpy().astype(np.float64)))

    torch.manual_seed(seed)
    mask = torch.arange(T).repeat_interleave(D).reshape(1, T, D)
    ks = KernelShap(forward)
    counter.rows = 0
    attr = ks.attribute(
        torch.as_tensor(x[None]),
        baselines=torch.as_tensor(baseline[None]),
        feature_mask=mask,
        n_samples=budget,
        perturbations_per_eval=budget,
    )
    return attr[0, :, 0].numpy(), counter.rows


def rows_to_reach(budgets, errors, target=0.05):
    for (b0, e0), (b1, e1) in zip(zip(budgets, errors), zip(budgets[1:], errors[1:])):
        if e0 > target >= e1:
            frac = (np.log(e0) - np.log(target)) / (np.log(e0) - np.log(e1))
            return float(np.exp(np.log(b0) + frac * (np.log(b1) - np.log(b0))))
    return float(budgets[0]) if errors[0] <= target else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="fewer budgets")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    torch.set_num_threads(2)
    model = build_model()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(T, D))
    baseline = np.zeros((T, D))

    t0 = time.perf_counter()
    exact_game = game_for(model, x, baseline)
    exact = estimate(exact_game, "exact", budget=2**T).values[:, 0]
    t_exact = time.perf_counter() - t0
    print(
        f"exact: 2^{T} = {2**T:,} coalitions in {t_exact:.1f} s "
        f"(efficiency gap {abs(exact.sum() - (exact_game.full_value - exact_game.empty_value)[0]):.1e})"
    )

    budgets = [100, 200, 400, 700, 1000, 2000, 4000] if not args.quick else [200, 700, 2000]
    methods = {
        "seqshap kernel": lambda b, s: run_seqshap(model, x, baseline, "kernel", b, s),
        "seqshap permutation": lambda b, s: run_seqshap(model, x, baseline, "permutation", b, s),
        "shap KernelExplainer(l1_reg=False)": lambda b, s: run_shap(model, x, baseline, b, s),
    }
    try:
        import captum  # noqa: F401

        methods["captum KernelShap"] = lambda b, s: run_captum(model, x, baseline, b, s)
    except ImportError:
        print("captum not installed: skipped")

    norm = np.linalg.norm(exact)
    table = {}
    for name, fn in methods.items():
        errs, rows = [], []
        for b in budgets:
            e, r = [], []
            for s in range(args.seeds):
                try:
                    vals, used = fn(b, s)
                except ValueError:  # budget too small for the method
                    vals, used = np.full(T, np.nan), b
                e.append(np.linalg.norm(vals - exact) / norm)
                r.append(used)
            errs.append(float(np.mean(e)))
            rows.append(float(np.mean(r)))
        table[name] = (errs, rows)

    print(f"\nmean relative L2 error over {args.seeds} seeds (20-player LSTM timestep game)")
    header = f"{'method':38s}" + "".join(f"{b:>9d}" for b in budgets) + f"{'rows@5%':>10s}"
    print(header)
    print("-" * len(header))
    for name, (errs, rows) in table.items():
        finite = [(r, e) for r, e in zip(rows, errs) if np.isfinite(e)]
        reach = (
            rows_to_reach([r for r, _ in finite], [e for _, e in finite])
            if finite
            else float("nan")
        )
        print(f"{name:38s}" + "".join(f"{e:9.3f}" for e in errs) + f"{reach:10.0f}")
    print(
        "\ncolumns: budget given (coalitions / n_samples); rows@5%: model rows needed for 5% error"
    )


if __name__ == "__main__":
    main()
