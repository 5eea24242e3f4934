"""Error per evaluation, per row-step and per model second on the recurrent path.

On a recurrent model seqshap values coalitions through the prefix tree
(:class:`seqshap.games.recurrent.RecurrentMaskedGame`): rows sorted by prefix, each distinct
prefix of the earliest players advanced once, so a coalition costs the steps after the first
player where it differs from every row already run. Evaluations are then not the cost; this
bench reports the error of each estimate against exact values beside three costs:

* evaluations (coalitions valued, as in ``bench_estimators.py``);
* row-steps sent to the model (rows × recurrent steps; on the plain path rows × T);
* model seconds (inside the model function, perf_counter around every call) and the estimate's
  wall seconds (model + the game's and the estimator's own work).

Paths: ``prefix`` (``RecurrentMaskedGame``, the model in its ``(x, h) -> (scores, h)`` form
behind a fresh ``PrefixCache`` per estimate holding what ``SequenceExplainer``'s pruning pass
leaves in it: the states of x and of the background rows after the pruned prefix and after all
T steps, computed untimed) and ``plain`` (``MaskedGame``: every coalition one full-length call), the same weights, the same
players, the same value function (exact values equal on both to float32 rounding). Methods:
seqshap's default ``estimate(game, "auto")`` on both paths; the default with prefix groups
(``kernel._PREFIX_GROUP`` = 4 or 16 pairs a group agreeing on a random head of the earliest
players; not the library's default, measured here); shapiq 1.4.1 KernelSHAP(pairing) and
kADDSHAP(k=2, pairing) and shap's KernelExplainer(l1_reg=False) on both paths (they value one
batch of coalitions, so the prefix tree serves them too).

Games (exact references by enumeration on the prefix path, 2^M coalitions):

* ``arem-gru-<i>``: the TimeSHAP tutorial's AReM model (2-layer GRU(32), ``bench/_arem.py``),
  test sequence ``i`` (T = 480, d = 6), the average-event baseline, players the last 15 events
  and the pruned prefix (the older 465 events, one player): 16 players;
* ``lstm-steps``: a random-weight torch LSTM (hidden 16) over 18 steps × 3 features, zero
  baseline, every step a player: 18 players;
* ``gru-bg``: a random-weight 2-layer torch GRU (hidden 16) over 16 steps × 4 features, a
  background of 4 rows, every step a player: 16 players (4 rows per coalition).

Printed per game: mean relative L2 error per budget; the cost of one estimate to reach each of
``--targets`` (5% and 2%) error in each unit (evaluations, row-steps, model and wall
milliseconds; log-log interpolation of the mean cost against the mean error over the budgets),
row-steps per evaluation and the coverage of the 95% intervals of seqshap's estimates; and for
the prefix groups, at each budget, the relative cost of equal error against the default,
(error ratio)² × (cost ratio) (an estimate's variance falls as 1/cost, so this is the cost the
variant needs for the default's error), in evaluations, row-steps and model seconds, with its
geometric mean over the budgets. One thread (torch and OMP_NUM_THREADS); the machine is a
shared 2-core one, so seconds move with its load (row-steps and evaluations do not); every
method is timed the same way in the same process (one untimed warm-up each, then the budgets
and seeds in the same order).

``--requests``: only the default with the enumerated borders and the first round's pairs valued
in one request (the library's default) against two (before), on the prefix path.

Run:  OMP_NUM_THREADS=1 python bench/bench_recurrent_estimators.py [--seeds 10] [--games ...]
      OMP_NUM_THREADS=1 python bench/bench_recurrent_estimators.py --requests [--repeat 9]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench_estimators as peers  # noqa: E402

from seqshap.estimators import estimate, kernel  # noqa: E402
from seqshap.games import MaskedGame  # noqa: E402
from seqshap.games.recurrent import RecurrentMaskedGame  # noqa: E402
from seqshap.models import CallableModel, PrefixCache, RecurrentCallableModel  # noqa: E402
from seqshap.sequence.players import event_players  # noqa: E402

BUDGETS = [100, 150, 200, 280, 400, 560, 800, 1130, 1600, 2260, 3200]


# ------------------------------------------------------------------------------------ model
class Clock:
    """``f(x, h=None) -> (scores, h)`` timed and counted: seconds inside it, calls, row-steps."""

    def __init__(self, f):
        self.f = f
        self.reset()

    def reset(self) -> None:
        self.seconds, self.calls, self.row_steps = 0.0, 0, 0

    def __call__(self, x, h=None):
        t0 = time.perf_counter()
        out = self.f(x, h)
        self.seconds += time.perf_counter() - t0
        self.calls += 1
        self.row_steps += int(x.shape[0]) * int(x.shape[1])
        return out


def torch_xh(net):
    """``f(x, h=None) -> (scores (n, 1) float64, h)`` of a torch module ``net(x, h)``, numpy
    in and out, no grad, float32."""
    import torch

    def f(x, h=None):
        with torch.no_grad():
            xt = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
            if h is None:
                s, h_new = net(xt)
            elif isinstance(h, tuple):
                s, h_new = net(xt, tuple(torch.from_numpy(a) for a in h))
            else:
                s, h_new = net(xt, torch.from_numpy(h))
        h_np = tuple(a.numpy() for a in h_new) if isinstance(h_new, tuple) else h_new.numpy()
        return s.double().numpy(), h_np

    return f


def random_net(kind: str, d: int, hidden: int, layers: int, seed: int, scale: float = 0.5):
    import torch

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            cls = torch.nn.LSTM if kind == "lstm" else torch.nn.GRU
            self.rnn = cls(d, hidden, num_layers=layers, batch_first=True)
            self.head = torch.nn.Linear(hidden, 1)

        def forward(self, x, h=None):
            out, h = self.rnn(x, h)
            return self.head(out[:, -1]), h

    gen = torch.Generator().manual_seed(seed)
    net = Net()
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * scale)
    return net.eval()


# ------------------------------------------------------------------------------------ games
@dataclass
class RecGame:
    name: str
    f: Callable  # (x, h=None) -> (scores, h)
    x: np.ndarray  # (T, d)
    background: np.ndarray  # (b, T, d)
    masks: np.ndarray  # (M, T, d)
    pruned: int = 0  # steps of the pruned prefix (one player), 0 if none
    exact: np.ndarray | None = None

    @property
    def m(self) -> int:
        return len(self.masks)

    def make(self, path: str):
        """(a fresh game on ``path``, its clock): fresh, so no state kept by an earlier
        estimate's game serves this one."""
        clock = Clock(self.f)
        if path == "prefix":
            # as SequenceExplainer runs it: behind a PrefixCache holding what its pruning pass
            # leaves (x and the background rows at the pruned index and at T), not timed
            model = PrefixCache(RecurrentCallableModel(clock))
            game = RecurrentMaskedGame(model, self.x, self.background, self.masks)
            rows = np.concatenate([game.x[None], game.background])
            for b in sorted({self.pruned, len(self.x)} - {0}):
                model.remember(rows[:, :b], *model.base.forward(rows[:, :b]))
        else:
            game = MaskedGame(
                CallableModel(lambda x: clock(x)[0]), self.x, self.background, self.masks
            )
        game.n_evaluations = 0
        clock.reset()
        return game, clock


def arem_game(index: int, n_events: int = 15) -> RecGame:
    data = _arem_data()
    x = data.x_test[index]
    base = np.broadcast_to(data.average_event.to_numpy(dtype=np.float32), x.shape)[None]
    masks = event_players(len(x), x.shape[1], len(x) - n_events).masks
    return RecGame(
        f"arem-gru-{index}", torch_xh(data.model), x, np.array(base), masks, len(x) - n_events
    )


_AREM = {}


def _arem_data():
    if "data" not in _AREM:
        from _arem import prepare

        _AREM["data"] = prepare()
    return _AREM["data"]


def lstm_steps() -> RecGame:
    t, d = 18, 3
    net = random_net("lstm", d, 16, 1, seed=0)
    x = np.random.default_rng(0).normal(size=(t, d)).astype(np.float32)
    masks = event_players(t, d, 0).masks
    return RecGame("lstm-steps", torch_xh(net), x, np.zeros((1, t, d), np.float32), masks)


def gru_bg() -> RecGame:
    t, d = 16, 4
    net = random_net("gru", d, 16, 2, seed=1, scale=0.6)
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(t, d)) + np.linspace(-1, 1, t)[:, None]).astype(np.float32)
    background = rng.normal(size=(4, t, d)).astype(np.float32)
    masks = event_players(t, d, 0).masks
    return RecGame("gru-bg", torch_xh(net), x, background, masks)


GAMES = {
    "arem-gru-0": lambda: arem_game(0),
    "arem-gru-1": lambda: arem_game(1),
    "lstm-steps": lstm_steps,
    "gru-bg": gru_bg,
}


# ---------------------------------------------------------------------------------- methods
def seqshap_default(game, budget, seed):
    est = estimate(game, "auto", budget=budget, seed=seed)
    return est.values[:, 0], est.std_errors[:, 0]


def seqshap_grouped(group: int):
    def run(game, budget, seed):
        old = kernel._PREFIX_GROUP
        kernel._PREFIX_GROUP = group
        try:
            return seqshap_default(game, budget, seed)
        finally:
            kernel._PREFIX_GROUP = old

    return run


def peer(fn):
    def run(game, budget, seed):
        v = peers.Counted(lambda z: game(z)[:, 0])
        return fn(v, game.n_players, budget, seed)

    return run


#: name -> (path, method)
METHODS: dict[str, tuple[str, Callable]] = {
    "seqshap default": ("prefix", seqshap_default),
    "seqshap prefix groups 4": ("prefix", seqshap_grouped(4)),
    "seqshap prefix groups 16": ("prefix", seqshap_grouped(16)),
    "shapiq KernelSHAP": ("prefix", peer(peers.run_shapiq("kernel"))),
    "shapiq kADDSHAP": ("prefix", peer(peers.run_shapiq("kadd"))),
    "shap Kernel": ("prefix", peer(peers.run_shap_kernel)),
    "seqshap default, plain": ("plain", seqshap_default),
    "shapiq KernelSHAP, plain": ("plain", peer(peers.run_shapiq("kernel"))),
    "shapiq kADDSHAP, plain": ("plain", peer(peers.run_shapiq("kadd"))),
    "shap Kernel, plain": ("plain", peer(peers.run_shap_kernel)),
}


# ---------------------------------------------------------------------------------- measure
@dataclass
class Result:
    errors: np.ndarray  # mean relative L2 error per budget
    evals: np.ndarray  # mean evaluations of one estimate per budget
    steps: np.ndarray  # mean row-steps
    model: np.ndarray  # mean model seconds
    wall: np.ndarray  # mean wall seconds of one estimate
    coverage: np.ndarray  # share of exact values inside φ̂ ± 1.96 SE (NaN: no SEs)


def measure(rg: RecGame, methods: dict, budgets: list[int], seeds: int) -> dict[str, Result]:
    norm = np.linalg.norm(rg.exact)
    out = {}
    for name, (path, fn) in methods.items():
        game, _ = rg.make(path)
        fn(game, budgets[len(budgets) // 2], seeds)  # warm-up, untimed, the same for all
        rows = []
        for b in budgets:
            per = []
            for s in range(seeds):
                game, clock = rg.make(path)
                t0 = time.perf_counter()
                res = fn(game, b, s)
                wall = time.perf_counter() - t0
                phi, se = res if isinstance(res, tuple) else (res, None)
                if game.n_evaluations > b:
                    raise RuntimeError(f"{name} used {game.n_evaluations} > budget {b}")
                err = np.linalg.norm(phi - rg.exact) / norm
                hit = np.nan if se is None else np.mean(np.abs(phi - rg.exact) <= 1.96 * se)
                per.append((err, game.n_evaluations, clock.row_steps, clock.seconds, wall, hit))
            rows.append(np.mean(np.array(per, dtype=float), axis=0))
        r = np.array(rows)
        out[name] = Result(*(r[:, j] for j in range(6)))
    return out


def cost_to_reach(res: Result, cost: np.ndarray, target: float) -> float:
    """The cost of one estimate at the evaluations where the mean error first crosses
    ``target`` (log-log interpolation over the budgets, in budget order), log-log interpolated
    between the budgets around it: costs need not grow with the budget (the default's fit
    changes with the number of pairs), so the crossing is found on evaluations, not on cost."""
    evals = peers.evals_to_reach(res.evals, res.errors, target)
    if not np.isfinite(evals):
        return float("nan")
    ok = cost > 0
    return float(np.exp(np.interp(np.log(evals), np.log(res.evals[ok]), np.log(cost[ok]))))


def report(rg: RecGame, table: dict[str, Result], budgets: list[int], seeds: int, targets):
    print(
        f"\n## {rg.name}: {rg.m} players, T = {len(rg.x)}, background {len(rg.background)} "
        f"row(s); mean relative L2 error over {seeds} seeds"
    )
    head = f"{'method':28s}" + "".join(f"{b:>7d}" for b in budgets)
    print(head)
    print("-" * len(head))
    for name, res in table.items():
        print(f"{name:28s}" + "".join(f"{e:7.3f}" for e in res.errors))
    for target in targets:
        print(f"\ncost of one estimate to reach {target:.0%} error")
        head = (
            f"{'method':28s}{'evals':>9s}{'row-steps':>12s}{'model ms':>10s}{'wall ms':>10s}"
            f"{'steps/eval':>11s}{'coverage':>9s}"
        )
        print(head)
        print("-" * len(head))
        for name, res in table.items():
            cells = [
                cost_to_reach(res, c, target)
                for c in (res.evals, res.steps, res.model * 1e3, res.wall * 1e3)
            ]
            per_eval = res.steps.sum() / max(res.evals.sum(), 1)
            cov = np.nanmean(res.coverage) if np.isfinite(res.coverage).any() else np.nan
            print(
                f"{name:28s}{cells[0]:9.0f}{cells[1]:12.0f}{cells[2]:10.1f}{cells[3]:10.1f}"
                f"{per_eval:11.1f}{cov:9.3f}"
            )
    print("\nwall ms of one estimate per budget (model ms in brackets)")
    for name, res in table.items():
        print(
            f"{name:28s}"
            + "".join(f"{w * 1e3:7.1f}({m * 1e3:4.1f})" for w, m in zip(res.wall, res.model))
        )
    print(
        "\nsteps/eval: row-steps per evaluation over all budgets; coverage: of the 95% intervals, "
        "mean over the budgets; per budget:"
    )
    for name, res in table.items():
        if np.isfinite(res.coverage).any():
            print(f"{name:28s}" + "".join(f"{c:7.3f}" for c in res.coverage))
    base = table.get("seqshap default")
    variants = [n for n, (path, _) in METHODS.items() if n in table and "groups" in n]
    if base is None or not variants:
        return
    print(
        "\nprefix groups against the default at each budget: relative cost of equal error, "
        "(error ratio)^2 x (cost ratio), in evaluations / row-steps / model s (< 1: the groups "
        "are cheaper)"
    )
    head = f"{'method':28s}" + "".join(f"{b:>17d}" for b in budgets)
    print(head)
    print("-" * len(head))
    for name in variants:
        res = table[name]
        sq = (res.errors / base.errors) ** 2
        cells = [
            f"{e:5.2f}/{s:5.2f}/{t:5.2f}"
            for e, s, t in zip(
                sq * res.evals / base.evals,
                sq * res.steps / base.steps,
                sq * res.model / base.model,
            )
        ]
        print(f"{name:28s}" + "".join(f"{c:>17s}" for c in cells))
    for name in ["seqshap default", *variants]:
        res = table[name]
        print(
            f"{name:28s} pooled over the budgets: row-steps/eval "
            f"{res.steps.sum() / res.evals.sum():.2f}, mean relative cost of equal error vs the "
            "default: "
            + " / ".join(
                f"{np.exp(np.mean(np.log((res.errors / base.errors) ** 2 * c / c0))):.3f}"
                for c, c0 in (
                    (res.evals, base.evals),
                    (res.steps, base.steps),
                    (res.model, base.model),
                )
            )
        )


def fits_ab(rg: RecGame, budgets: list[int], seeds: int) -> None:
    """The kernel estimator's fits on the same draws (prefix path): the odd-kernel fit used up
    to 1,000 pairs with its posterior standard errors and with its jackknife, against the ridge
    fit; mean error and coverage of the 95% intervals per budget (why the default stops the
    odd-kernel fit at ``_odd_kernel.MAX_PAIRS`` = 400 pairs)."""
    from seqshap.estimators import _odd_kernel

    print(f"\n## {rg.name}: the kernel fits on the same draws, {seeds} seeds, prefix path")
    print(
        f"{'budget':>7s}"
        + "".join(f"{n:>30s}" for n in ("odd posterior", "odd jackknife", "ridge"))
    )
    norm = np.linalg.norm(rg.exact)
    fits = {
        "odd posterior": (True, "posterior"),
        "odd jackknife": (True, "jackknife"),
        "ridge": (False, "posterior"),
    }
    old = kernel.ODD_KERNEL, _odd_kernel.STANDARD_ERRORS, kernel.MAX_PAIRS
    try:
        kernel.MAX_PAIRS = 1000
        for b in budgets:
            cells = []
            for odd, se_kind in fits.values():
                kernel.ODD_KERNEL, _odd_kernel.STANDARD_ERRORS = odd, se_kind
                errs, hits = [], []
                for s in range(seeds):
                    game, _ = rg.make("prefix")
                    est = estimate(game, "auto", budget=b, seed=s)
                    phi, se = est.values[:, 0], est.std_errors[:, 0]
                    errs.append(np.linalg.norm(phi - rg.exact) / norm)
                    hits.append(np.mean(np.abs(phi - rg.exact) <= 1.96 * se))
                cells.append(f"error {np.mean(errs):.4f} cover {np.mean(hits):.3f}")
            print(f"{b:7d}" + "".join(f"{c:>30s}" for c in cells))
    finally:
        kernel.ODD_KERNEL, _odd_kernel.STANDARD_ERRORS, kernel.MAX_PAIRS = old


def requests_ab(rg: RecGame, budgets: list[int], repeat: int) -> None:
    """seqshap's default with the borders and the first pairs in one request against two
    (``kernel._ONE_REQUEST``), on the prefix path: interleaved (one, two, one, two, …) after
    one untimed warm-up of each, the same seed in every repeat; median (min) of each cost."""
    print(f"\n## {rg.name}: one request vs two, {repeat} interleaved repeats, prefix path")
    print(
        f"{'budget':>7s}{'requests':>9s}{'row-steps':>11s}{'calls':>7s}{'model ms':>16s}"
        f"{'wall ms':>16s}{'max |dphi|':>12s}"
    )
    old = kernel._ONE_REQUEST
    try:
        for b in budgets:
            runs: dict[bool, list] = {True: [], False: []}
            values = {}
            for rep in range(repeat + 1):
                for one in (True, False):
                    kernel._ONE_REQUEST = one
                    game, clock = rg.make("prefix")
                    t0 = time.perf_counter()
                    est = estimate(game, "auto", budget=b, seed=0)
                    wall = time.perf_counter() - t0
                    values[one] = est.values
                    if rep:  # the first round is the warm-up
                        runs[one].append((clock.row_steps, clock.calls, clock.seconds, wall))
            diff = float(np.abs(values[True] - values[False]).max())
            for one in (True, False):
                r = np.array(runs[one])
                print(
                    f"{b:7d}{'one' if one else 'two':>9s}{np.median(r[:, 0]):11.0f}"
                    f"{np.median(r[:, 1]):7.0f}"
                    f"{np.median(r[:, 2]) * 1e3:9.2f} ({r[:, 2].min() * 1e3:5.2f})"
                    f"{np.median(r[:, 3]) * 1e3:9.2f} ({r[:, 3].min() * 1e3:5.2f})"
                    + (f"{diff:12.1e}" if one else "")
                )
    finally:
        kernel._ONE_REQUEST = old


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--games", nargs="*", default=list(GAMES), choices=list(GAMES))
    parser.add_argument("--methods", nargs="*", default=list(METHODS), choices=list(METHODS))
    parser.add_argument("--budgets", nargs="*", type=int, default=BUDGETS)
    parser.add_argument("--targets", nargs="*", type=float, default=[0.05, 0.02])
    parser.add_argument(
        "--requests",
        action="store_true",
        help="only: the default with borders and first pairs in one request vs two",
    )
    parser.add_argument("--repeat", type=int, default=9, help="repeats of --requests")
    parser.add_argument(
        "--fits",
        action="store_true",
        help="only: the odd-kernel fit up to 1,000 pairs (posterior / jackknife SEs) vs the ridge fit",
    )
    parser.add_argument("--json", help="also write every mean per budget to this JSON file")
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    if os.environ.get("OMP_NUM_THREADS") != "1":
        print("note: run with OMP_NUM_THREADS=1 for comparable timings")
    warnings.filterwarnings("ignore")
    methods = {name: METHODS[name] for name in args.methods}
    print(
        "shared 2-core machine: seconds are noisy; errors, evaluations and row-steps are not. "
        + ("seed 0" if args.requests else f"{args.seeds} seeds (0..{args.seeds - 1})")
        + "; budgets = evaluations allowed"
    )
    dump: dict[str, dict] = {}
    for name in args.games:
        rg = GAMES[name]()
        if args.requests:
            requests_ab(rg, [400, 1600], args.repeat)
            continue
        game, clock = rg.make("prefix")
        t0 = time.perf_counter()
        rg.exact = estimate(game, "exact", budget=2**rg.m).values[:, 0]
        print(
            f"\n{name}: exact reference by enumeration, {2**rg.m:,} coalitions, "
            f"{clock.row_steps:,} row-steps, {time.perf_counter() - t0:.1f} s"
        )
        if args.fits:
            fits_ab(rg, [560, 800, 1130, 1600], args.seeds)
            continue
        table = measure(rg, methods, args.budgets, args.seeds)
        report(rg, table, args.budgets, args.seeds, args.targets)
        dump[name] = {
            method: {k: v.tolist() for k, v in vars(res).items()} for method, res in table.items()
        }
        if args.json:
            Path(args.json).write_text(json.dumps({"budgets": args.budgets, "games": dump}))


if __name__ == "__main__":
    main()
