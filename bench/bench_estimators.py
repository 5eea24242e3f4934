"""Error per model evaluation of Shapley estimators, seqshap against its peers, on four games.

Every method sees the *same counted value function* v: a boolean coalition matrix (n, M) → (n,)
values, and every call of v counts its rows as evaluations (v(∅) and v(N) included). The x axis
is the number of evaluations each method really used (counted, not requested). Errors are the
relative L2 error ‖φ̂ − φ‖ / ‖φ‖ against exact values, averaged over seeds.

Games (small enough that the reference is exact, of different kinds):

* ``gru-events``: a torch GRU (hidden 16, random weights) over 18 events × 4 features; players
  are the events, absent events take the mean event of a reference set; exact by enumerating
  2^18 coalitions.
* ``lstm-steps``: the README's game: a torch LSTM (hidden 16) over 20 time steps × 3 features,
  absent steps zero; exact by enumerating 2^20 coalitions. (seqshap's design choices were looked
  at on this game: it is the game "tuned on"; the other three are held out.)
* ``gbm-tabular``: scikit-learn gradient boosting (100 trees, depth 4) on 30 features of a
  synthetic regression with interactions, interventional game over a background of 16 rows
  (v(S) = mean_b f(x_S, b_S̄)); the reference is shap's TreeExplainer (interventional), an
  independent exact algorithm.
* ``mlp``: a numpy MLP (20 → 32 → 32 → 1, tanh) over 20 features, background of 8 rows;
  exact by enumerating 2^20 coalitions.

Peers: shapiq 1.4.1 ``KernelSHAP(pairing_trick=True)`` and ``kADDSHAP(max_order=2,
pairing_trick=True)`` (``pip install shapiq==1.4.1``; a bench-only dependency),
``shap.KernelExplainer(l1_reg=False)`` and ``shap.PermutationExplainer``; seqshap's
``estimate(game, "auto")`` (its default: the kernel estimator's third-order fits, the horseshoe
fit below three pairs per player), the linear fit (``order=1``) and its antithetic permutation
estimator.

Printed per game: mean error at each budget of a fine grid (from 30 evaluations, fewer than one
pair per player, so that every game's 5% crossing is inside it), evaluations to reach 5% error
(log-log interpolation over the grid), compute seconds (the method's own work: total minus model
time) and model seconds (inside the value function) over all seeds and budgets, the seconds one
estimate takes to reach 5% (model + compute per estimate, interpolated at the 5% crossing: error
per second rather than per evaluation), and the ratio of seqshap's default to the best peer at
400/800/1,600.

Run:  OMP_NUM_THREADS=1 python bench/bench_estimators.py [--seeds 10] [--games ...] [--quick]
      OMP_NUM_THREADS=1 python bench/bench_estimators.py --fit-timing   # compute per estimate
      python bench/bench_estimators.py --blas-threads   # the fits on one BLAS thread vs its own
"""

from __future__ import annotations

import argparse
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from seqshap.estimators import estimate
from seqshap.games import FunctionGame

BUDGETS = [30, 40, 50, 75, 100, 150, 200, 280, 400, 560, 800, 1130, 1600, 2260, 3200]
MARKS = [400, 800, 1600]


# ------------------------------------------------------------------------------------ games
@dataclass
class BenchGame:
    name: str
    m: int
    value: Callable[[np.ndarray], np.ndarray]  # (n, M) bool -> (n,)
    exact: np.ndarray  # (M,)


def _enumerate_exact(value, m: int) -> np.ndarray:
    game = FunctionGame(value, m)
    return estimate(game, "exact", budget=2**m).values[:, 0]


def _torch_recurrent(kind: str, t: int, d: int, hidden: int, seed: int):
    import torch

    torch.set_num_threads(1)
    gen = torch.Generator().manual_seed(seed)
    cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
    rnn = cls(d, hidden, batch_first=True)
    head = torch.nn.Linear(hidden, 1)
    with torch.no_grad():
        for p in list(rnn.parameters()) + list(head.parameters()):
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    rnn.eval()

    def model(x: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            out, _ = rnn(torch.as_tensor(x, dtype=torch.float32))
            return head(out[:, -1]).double().numpy()[:, 0]

    return model


def _masked_steps(model, x: np.ndarray, base: np.ndarray, chunk: int = 65536):
    def value(z: np.ndarray) -> np.ndarray:
        out = np.empty(len(z))
        for lo in range(0, len(z), chunk):
            zz = z[lo : lo + chunk, :, None]
            out[lo : lo + chunk] = model(np.where(zz, x[None], base[None]))
        return out

    return value


def lstm_steps() -> BenchGame:
    t, d = 20, 3
    model = _torch_recurrent("lstm", t, d, 16, seed=0)
    x = np.random.default_rng(0).normal(size=(t, d))
    value = _masked_steps(model, x, np.zeros((t, d)))
    return BenchGame("lstm-steps", t, value, _enumerate_exact(value, t))


def gru_events() -> BenchGame:
    t, d = 18, 4
    model = _torch_recurrent("gru", t, d, 16, seed=1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(t, d)) + np.linspace(-1, 1, t)[:, None]
    mean_event = rng.normal(size=(200, d)).mean(0)
    value = _masked_steps(model, x, np.broadcast_to(mean_event, (t, d)))
    return BenchGame("gru-events", t, value, _enumerate_exact(value, t))


def _background_value(predict, x: np.ndarray, background: np.ndarray, chunk: int = 8192):
    nb, m = background.shape

    def value(z: np.ndarray) -> np.ndarray:
        out = np.empty(len(z))
        for lo in range(0, len(z), chunk):
            zz = z[lo : lo + chunk]
            rows = np.where(zz[:, None, :], x[None, None, :], background[None])
            out[lo : lo + chunk] = predict(rows.reshape(-1, m)).reshape(len(zz), nb).mean(1)
        return out

    return value


def gbm_tabular() -> BenchGame:
    import shap
    from sklearn.ensemble import GradientBoostingRegressor

    m = 30
    rng = np.random.default_rng(2)
    xs = rng.normal(size=(2000, m))
    y = (
        xs[:, :10] @ rng.normal(size=10)
        + 2 * np.sin(xs[:, 0] * xs[:, 1])
        + xs[:, 2] * xs[:, 3] * xs[:, 4]
        + np.maximum(xs[:, 5], xs[:, 6]) * xs[:, 7]
        + 0.3 * rng.normal(size=2000)
    )
    gbm = GradientBoostingRegressor(n_estimators=100, max_depth=4, random_state=0).fit(xs, y)
    background, x = xs[:16], xs[100]
    value = _background_value(gbm.predict, x, background)
    tree = shap.TreeExplainer(gbm, data=background, feature_perturbation="interventional")
    exact = np.asarray(tree.shap_values(x[None], check_additivity=False))[0]
    gap = exact.sum() - (value(np.ones((1, m), bool)) - value(np.zeros((1, m), bool)))[0]
    if abs(gap) > 1e-6:
        raise RuntimeError(f"TreeExplainer reference is not efficient (gap {gap:.2e})")
    return BenchGame("gbm-tabular", m, value, exact)


def mlp() -> BenchGame:
    m, h = 20, 32
    rng = np.random.default_rng(3)
    w1, w2, w3 = rng.normal(size=(m, h)) / 2, rng.normal(size=(h, h)) / 3, rng.normal(size=h)
    b1, b2 = rng.normal(size=h) * 0.5, rng.normal(size=h) * 0.5

    def predict(a: np.ndarray) -> np.ndarray:
        return np.tanh(np.tanh(a @ w1 + b1) @ w2 + b2) @ w3

    background, x = rng.normal(size=(8, m)), rng.normal(size=m) * 1.5
    value = _background_value(predict, x, background)
    return BenchGame("mlp", m, value, _enumerate_exact(value, m))


GAMES = {"gru-events": gru_events, "lstm-steps": lstm_steps, "gbm-tabular": gbm_tabular, "mlp": mlp}
TUNED_ON = {"lstm-steps"}


# ---------------------------------------------------------------------------------- methods
class Counted:
    """The one value function every method calls; counts evaluations (coalitions)."""

    def __init__(self, value):
        self.value, self.n, self.seconds = value, 0, 0.0

    def __call__(self, z: np.ndarray) -> np.ndarray:
        z = np.asarray(z) > 0.5
        self.n += len(z)
        t0 = time.perf_counter()
        out = self.value(z)
        self.seconds += time.perf_counter() - t0
        return out


def run_seqshap(method: str, **options) -> Callable:
    def run(v: Counted, m: int, budget: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        game = FunctionGame(v, m)
        v.n = 0  # the probe FunctionGame makes at construction is not part of the estimate
        est = estimate(game, method, budget=budget, seed=seed, **options)
        return est.values[:, 0], est.std_errors[:, 0]

    return run


def run_shapiq(kind: str) -> Callable:
    def run(v: Counted, m: int, budget: int, seed: int) -> np.ndarray:
        from shapiq.approximator import KernelSHAP, kADDSHAP

        if kind == "kernel":
            approx = KernelSHAP(m, pairing_trick=True, random_state=seed)
        else:
            approx = kADDSHAP(m, max_order=2, pairing_trick=True, random_state=seed)
        out = approx.approximate(budget, v)
        return np.array([out[(i,)] for i in range(m)])

    return run


def run_shap_kernel(v: Counted, m: int, budget: int, seed: int) -> np.ndarray:
    import shap

    explainer = shap.KernelExplainer(v, np.zeros((1, m)))
    v.n = 0
    np.random.seed(seed)  # noqa: NPY002 - shap samples from numpy's global state
    # shap also evaluates f(x) and f(background): 2 evaluations beyond nsamples
    values = explainer.shap_values(np.ones((1, m)), nsamples=budget - 2, l1_reg=False, silent=True)
    return np.asarray(values).reshape(m)


def run_shap_permutation(v: Counted, m: int, budget: int, seed: int) -> np.ndarray:
    import shap

    masker = shap.maskers.Independent(np.zeros((1, m)), max_samples=1)
    explainer = shap.PermutationExplainer(v, masker, seed=seed)
    v.n = 0
    return explainer(np.ones((1, m)), max_evals=budget, silent=True).values[0]


METHODS: dict[str, Callable] = {
    "seqshap auto (default)": run_seqshap("auto"),
    "seqshap kernel order=1": run_seqshap("auto", order=1),
    "seqshap permutation": run_seqshap("permutation"),
    "shapiq KernelSHAP(pairing)": run_shapiq("kernel"),
    "shapiq kADDSHAP(k=2,pairing)": run_shapiq("kadd"),
    "shap Kernel(l1_reg=False)": run_shap_kernel,
    "shap Permutation": run_shap_permutation,
}
PEERS = [name for name in METHODS if not name.startswith("seqshap")]
#: the seqshap estimator the summary compares with the best peer: its default
OURS = "seqshap auto (default)"


# ---------------------------------------------------------------------------------- measure
def evals_to_reach(evals: np.ndarray, errors: np.ndarray, target: float = 0.05) -> float:
    """Log-log interpolation of the first crossing of ``target``; NaN when never reached."""
    ok = np.isfinite(errors)
    evals, errors = evals[ok], errors[ok]
    if len(errors) and errors[0] <= target:
        return float(evals[0])
    for (b0, e0), (b1, e1) in zip(zip(evals, errors), zip(evals[1:], errors[1:])):
        if e0 > target >= e1:
            frac = (np.log(e0) - np.log(target)) / (np.log(e0) - np.log(e1))
            return float(np.exp(np.log(b0) + frac * (np.log(b1) - np.log(b0))))
    return float("nan")


def measure(game: BenchGame, methods: dict, budgets: list[int], seeds: int):
    """{method: Result}: mean error and counted evaluations per budget, seconds per estimate
    (all and model) per budget, and coverage.

    coverage: share of φ̂_i ± 1.96·SE_i holding the exact value, over seeds and players, for
    methods that report standard errors (NaN for the others).
    """
    norm = np.linalg.norm(game.exact)
    out = {}
    for name, fn in methods.items():
        try:  # warm-up, the same for every method: imports and first-call set-up are not timed
            fn(Counted(game.value), game.m, max(budgets), seeds)
        except ValueError:
            pass
        errs, used, secs, model, cover = [], [], [], [], []
        for b in budgets:
            e, n, hits, t_all, t_model = [], [], [], 0.0, 0.0
            for s in range(seeds):
                v = Counted(game.value)
                t0 = time.perf_counter()
                try:
                    phi = fn(v, game.m, b, s)
                except ValueError:  # the budget is too small for the method
                    phi = np.full(game.m, np.nan)
                t_all += time.perf_counter() - t0
                t_model += v.seconds
                if isinstance(phi, tuple):
                    phi, se = phi
                    hits.append(np.abs(phi - game.exact) <= 1.96 * se)
                if v.n > b:
                    raise RuntimeError(f"{name} used {v.n} evaluations with a budget of {b}")
                e.append(np.linalg.norm(phi - game.exact) / norm)
                n.append(v.n)
            errs.append(float(np.mean(e)))
            used.append(float(np.mean(n)))
            secs.append(t_all / seeds)
            model.append(t_model / seeds)
            cover.append(float(np.mean(hits)) if hits else float("nan"))
        out[name] = Result(
            np.array(errs), np.array(used), np.array(secs), np.array(model), np.array(cover)
        )
    return out


@dataclass
class Result:
    errors: np.ndarray  # mean relative L2 error per budget
    used: np.ndarray  # mean counted evaluations per budget
    seconds: np.ndarray  # mean seconds per estimate (model + compute) per budget
    model: np.ndarray  # mean seconds per estimate inside the value function per budget
    coverage: np.ndarray  # coverage of the 95% intervals per budget (NaN: no SEs)


def seconds_to_reach(res: Result, evals: float) -> float:
    """Seconds of one estimate at ``evals`` evaluations (log-log interpolation over budgets)."""
    if not np.isfinite(evals):
        return float("nan")
    ok = np.isfinite(res.errors) & (res.seconds > 0)
    return float(np.exp(np.interp(np.log(evals), np.log(res.used[ok]), np.log(res.seconds[ok]))))


def report(game: BenchGame, table: dict, budgets: list[int], seeds: int) -> None:
    tuned = " (seqshap's design looked at on this game)" if game.name in TUNED_ON else ""
    print(f"\n## {game.name}: {game.m} players, mean relative L2 error over {seeds} seeds{tuned}")
    head = (
        f"{'method':30s}"
        + "".join(f"{b:>7d}" for b in budgets)
        + f"{'evals@5%':>10s}{'evals@1%':>10s}{'compute s':>10s}{'model s':>9s}{'s to 5%':>9s}"
    )
    print(head)
    print("-" * len(head))
    reach, reach1 = {}, {}
    for name, res in table.items():
        reach[name] = evals_to_reach(res.used, res.errors)
        reach1[name] = evals_to_reach(res.used, res.errors, 0.01)
        cells = "".join(f"{e:7.3f}" if np.isfinite(e) else f"{'-':>7s}" for e in res.errors)
        total, model = res.seconds.sum() * seeds, res.model.sum() * seeds
        print(
            f"{name:30s}{cells}{reach[name]:10.0f}{reach1[name]:10.0f}{total - model:10.2f}"
            f"{model:9.2f}"
            f"{seconds_to_reach(res, reach[name]):9.4f}"
        )
    print(
        "compute s / model s: all seeds and budgets of the method, its own work / inside the "
        "value function; s to 5%: seconds of one estimate (both) at the 5% crossing"
    )
    report_summary(game, table, budgets, seeds)


def report_summary(game: BenchGame, table: dict, budgets: list[int], seeds: int) -> None:
    """seqshap's default (``OURS``) against the best peer: evaluations to 5% and 1%, error
    ratios at ``MARKS``, coverage per budget."""
    if OURS not in table:
        return
    reach = {name: evals_to_reach(res.used, res.errors) for name, res in table.items()}
    reach1 = {name: evals_to_reach(res.used, res.errors, 0.01) for name, res in table.items()}
    peers = [p for p in PEERS if p in table]
    if peers:
        _report_against_peers(table, peers, reach, reach1, budgets)
    cover = table[OURS].coverage
    print(
        f"seqshap default: 95% interval coverage over {seeds} seeds x {game.m} players at "
        + ", ".join(f"{b}: {c:.3f}" for b, c in zip(budgets, cover) if np.isfinite(c))
    )


def _report_against_peers(table: dict, peers: list, reach: dict, reach1: dict, budgets) -> None:
    best_reach = np.nanmin([reach[p] for p in peers])
    best_name = min(peers, key=lambda p: np.inf if np.isnan(reach[p]) else reach[p])
    print(
        f"evaluations to 5%: best peer {best_name} {best_reach:.0f}, seqshap {reach[OURS]:.0f}"
        f" -> {best_reach / reach[OURS]:.2f}x fewer (target >= 1.5x)"
    )
    finite1 = [reach1[p] for p in peers if np.isfinite(reach1[p])]
    if finite1 and np.isfinite(reach1[OURS]):
        print(
            f"evaluations to 1%: best peer {min(finite1):.0f}, seqshap {reach1[OURS]:.0f} -> "
            f"{min(finite1) / reach1[OURS]:.2f}x fewer"
        )
    ratios = []
    for mark in MARKS:
        if mark not in budgets:
            continue
        j = budgets.index(mark)
        best = min(table[p].errors[j] for p in peers)
        ratios.append(f"{mark}: {table[OURS].errors[j] / best:.2f}")
    print("seqshap error / best peer's at " + ", ".join(ratios) + " (target <= 0.75)")


def _timing_game(m: int) -> Callable:
    """The cheap synthetic value function of the timing tables: v(z) = tanh(zᵀa + zᵀBz)."""
    rng = np.random.default_rng(m)
    a, b = rng.normal(size=m), rng.normal(size=(m, m)) / m

    def value(z: np.ndarray) -> np.ndarray:
        zf = z.astype(float)
        return np.tanh(zf @ a + ((zf @ b) * zf).sum(1))

    return value


def fit_timing(repeats: int = 7) -> None:
    """Compute seconds per estimate of the default (order=3: the horseshoe fit below 3 pairs
    per player, the odd-interaction kernel fit up to its MAX_PAIRS pairs), the default without
    those two (the ridge fit from 4 pairs per player, the linear fit below) and the linear fit
    (order=1), side by side, same warm-up, same repeats (median and min), on a cheap synthetic
    game (v(z) = tanh(zᵀa + zᵀBz)); model time is measured and subtracted."""
    from seqshap.estimators import kernel

    print(
        f"\n## compute per estimate (s), {repeats} repeats after one warm-up, model time excluded"
    )
    print(
        f"{'players':>8s}{'evaluations':>12s}{'default median':>16s}{'min':>8s}"
        f"{'ridge/linear median':>20s}{'min':>8s}{'order=1 median':>16s}{'min':>8s}{'fit':>12s}"
    )
    plan = (20, 60), (30, 60), (100, 300), (10, 400), (20, 400), (20, 1600), (30, 800)
    for m, budget in (*plan, (100, 1600), (200, 3200)):
        value = _timing_game(m)
        row, fit = [], None
        for order, fits in ((3, True), (3, False), (1, True)):
            times = []
            kernel.ODD_KERNEL = kernel.SPARSE = fits
            try:
                for r in range(repeats + 1):
                    v = Counted(value)
                    game = FunctionGame(v, m)
                    t0 = time.perf_counter()
                    est = estimate(game, "kernel", budget=budget, seed=r, order=order)
                    if r:  # the first run is the warm-up
                        times.append(time.perf_counter() - t0 - v.seconds)
            finally:
                kernel.ODD_KERNEL = kernel.SPARSE = True
            row += [float(np.median(times)), float(np.min(times))]
            fit = est.extras.get("fit", "linear") if fit is None else fit
        print(
            f"{m:8d}{budget:12d}{row[0]:16.4f}{row[1]:8.4f}{row[2]:20.4f}{row[3]:8.4f}"
            f"{row[4]:16.4f}{row[5]:8.4f}{fit:>12s}"
        )


def blas_timing(repeats: int = 7) -> None:
    """Seconds per estimate of the default (model included) with its fits on one BLAS thread,
    as the library runs them (:mod:`seqshap.estimators._blas`), against the same fits on the
    BLAS's own thread count; same warm-up, same repeats (median and min), interleaved. Run it
    without OMP_NUM_THREADS=1, or both sides run on one thread."""
    from contextlib import nullcontext

    from threadpoolctl import threadpool_info

    from seqshap.estimators import kernel

    blas = [(i["internal_api"], i["num_threads"]) for i in threadpool_info()]
    print(f"\n## one BLAS thread for the fits vs the BLAS's own ({blas}), {repeats} repeats")
    print(
        f"{'players':>8s}{'evaluations':>12s}{'fit':>12s}{'own threads median':>20s}{'min':>8s}"
        f"{'one thread median':>19s}{'min':>8s}{'ratio':>7s}"
    )
    plan = (20, 60), (30, 60), (10, 400), (20, 400), (30, 800), (20, 1600), (100, 1600)
    for m, budget in (*plan, (200, 3200)):
        value = _timing_game(m)
        times: dict[bool, list[float]] = {False: [], True: []}
        limit = kernel.one_blas_thread
        try:
            for r in range(repeats + 1):
                for one in (False, True):
                    kernel.one_blas_thread = limit if one else nullcontext
                    t0 = time.perf_counter()
                    est = estimate(FunctionGame(value, m), "kernel", budget=budget, seed=r)
                    if r:  # the first round is the warm-up
                        times[one].append(time.perf_counter() - t0)
        finally:
            kernel.one_blas_thread = limit
        own, one = np.median(times[False]), np.median(times[True])
        print(
            f"{m:8d}{budget:12d}{est.extras.get('fit', 'linear'):>12s}{own:20.4f}"
            f"{min(times[False]):8.4f}{one:19.4f}{min(times[True]):8.4f}{own / one:7.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--games", nargs="*", default=list(GAMES), choices=list(GAMES))
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--quick", action="store_true", help="budgets 400, 800, 1600 only")
    parser.add_argument(
        "--fit-timing",
        action="store_true",
        help="only the compute per estimate: the default, the ridge fit, order=1",
    )
    parser.add_argument(
        "--blas-threads",
        action="store_true",
        help="only the default's seconds with its fits on one BLAS thread vs the BLAS's own",
    )
    args = parser.parse_args()
    if args.fit_timing:
        fit_timing()
        return
    if args.blas_threads:
        blas_timing()
        return
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: run with OMP_NUM_THREADS=1 for comparable timings")
    warnings.filterwarnings("ignore")
    budgets = MARKS if args.quick else BUDGETS
    methods = {name: METHODS[name] for name in args.methods}
    print(
        "shared 2-core machine: timings are noisy; errors and evaluation counts are not. "
        f"budgets = evaluations allowed; {args.seeds} seeds (0..{args.seeds - 1})"
    )
    for name in args.games:
        t0 = time.perf_counter()
        game = GAMES[name]()
        print(f"\n{name}: reference in {time.perf_counter() - t0:.1f} s")
        report(game, measure(game, methods, budgets, args.seeds), budgets, args.seeds)


if __name__ == "__main__":
    main()
