"""Faithfulness of attributions to a game: deletion and insertion curves, top-k metrics.

Players are ranked by their attribution φ (largest first; ``by="abs"`` ranks by |φ|). With
π_1, π_2, … that order, S_k = {π_1..π_k} and N the set of all M players, the game (which
knows what an absent player means: its cells take the baseline/background) gives

    deletion   D(k) = v(N ∖ S_k)      from f(x) = v(N) down to the base value v(∅),
    insertion  I(k) = v(S_k)          from v(∅) up to f(x),          k = 0..M,

and their areas over the fraction of players k/M (trapezoid rule, in output units):

    AUC = (1/M) Σ_{k=0}^{M−1} (C(k) + C(k+1)) / 2.

A faithful ranking makes the deletion curve fall fast (low AUC) and the insertion curve rise
fast (high AUC). ERASER's (DeYoung et al. 2020) top-k metrics follow from the same curves:

    comprehensiveness(k) = v(N) − v(N ∖ S_k) = D(0) − D(k)   (drop when the top k are removed)
    sufficiency(k)       = v(N) − v(S_k)     = D(0) − I(k)   (gap when only the top k are kept)

each also averaged over k = ⌈q·M⌉ for q in ``fractions`` (AOPC). Bare numbers mean little, so
every quantity is also computed for ``n_random`` uniformly random orders: their mean and
standard deviation are the reference an attribution must beat. For an additive game
v(S) = v(∅) + Σ_{i∈S} φ_i, a random order gives E[D(k)] = f(x) − (k/M)(f(x) − v(∅)) and
E[AUC_del] = (f(x) + v(∅))/2; ordering by the exact φ minimises AUC_del (rearrangement).

All coalitions of all curves (the attribution order for every output, the random orders) go
to the game in one call.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_array, check_int, check_random_state
from ..games.base import Game

#: ERASER's bins for comprehensiveness and sufficiency (fractions of the players kept/removed)
DEFAULT_FRACTIONS = (0.01, 0.05, 0.1, 0.2, 0.5)
ORDERS = ("value", "abs")


@dataclass
class Faithfulness:
    """Deletion/insertion curves and top-k metrics of one instance, per output.

    Attributes
    ----------
    curves : tidy frame, one row per (output, curve, order, k): ``curve`` ("deletion" or
        "insertion"), ``order`` ("attribution" or "random"), ``k``, ``fraction`` = k/M,
        ``value`` (the game's value; the mean over orders for "random") and ``sd`` (standard
        deviation over random orders; 0 for the attribution order).
    summary : one row per output: ``deletion_auc``, ``insertion_auc``, ``comprehensiveness``,
        ``sufficiency`` (AOPC over ``fractions``), each with ``random_<name>`` (mean over
        random orders) and ``random_<name>_sd``; ``deletion_rank`` = share of random orders
        whose deletion AUC is at most the attribution's (small is good), ``insertion_rank``
        = share at least as high; ``full`` = f(x), ``base`` = v(∅), ``n_players``.
    top_k : one row per (output, k): ``comprehensiveness``, ``sufficiency`` and their random
        means and standard deviations.
    n_evaluations : coalitions the game valued for this result.
    """

    curves: pd.DataFrame
    summary: pd.DataFrame
    top_k: pd.DataFrame
    n_evaluations: int
    meta: dict[str, Any] = field(default_factory=dict)

    def aggregate(self) -> pd.DataFrame:
        """Each summary metric averaged over instances, per output: ``output``, ``metric``,
        ``mean``, ``se`` (standard deviation across instances / √n) and ``n`` instances."""
        numeric = [c for c in self.summary.columns if c not in ("output", "instance")]
        long = self.summary.melt(id_vars=["output"], value_vars=numeric, var_name="metric")
        g = long.groupby(["output", "metric"], sort=False)["value"]
        out = g.agg(mean="mean", sd=lambda v: v.std(ddof=1) if len(v) > 1 else np.nan, n="size")
        out["se"] = out["sd"] / np.sqrt(out["n"])
        return out.drop(columns="sd").reset_index()[["output", "metric", "mean", "se", "n"]]

    def plot(self, ax=None, *, output: int | str = 0, curve: str = "both"):
        """Draw the curves against the random reference (see :func:`plot_faithfulness`)."""
        from .plot import plot_faithfulness

        return plot_faithfulness(self, ax=ax, output=output, curve=curve)


def _auc(curves: np.ndarray) -> np.ndarray:
    """Trapezoid area over k/M ∈ [0, 1] along the last axis (M + 1 points)."""
    m = curves.shape[-1] - 1
    return (curves[..., :-1] + curves[..., 1:]).sum(axis=-1) / (2.0 * m)


def ranking(values: np.ndarray, by: str = "value") -> np.ndarray:
    """Player indices, most important first, per output: ``(k, M)`` from values ``(M, k)``.

    Ties keep the player order (stable sort), so the result is deterministic.
    """
    key = np.abs(values) if by == "abs" else values
    return np.argsort(-key, axis=0, kind="stable").T


def _prefix_coalitions(orders: np.ndarray, m: int) -> np.ndarray:
    """``(n_orders, M + 1, M)``: row k of order o holds its first k players."""
    rank = np.empty_like(orders)
    np.put_along_axis(rank, orders, np.arange(m)[None, :].repeat(len(orders), 0), axis=1)
    return rank[:, None, :] < np.arange(m + 1)[None, :, None]


def faithfulness(
    game: Game,
    values: Any,
    *,
    n_random: int = 50,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    by: str = "value",
    seed: Any = 0,
) -> Faithfulness:
    """Deletion and insertion curves of ``values`` ``(M,)`` or ``(M, k)`` on ``game``.

    ``n_random`` random orders form the reference (0 for none); ``by="value"`` ranks by φ
    (the players that push the output up first), ``by="abs"`` by |φ|.
    """
    m = game.n_players
    phi = check_array(values, name="values", ndim=(1, 2))
    if phi.ndim == 1:
        phi = phi[:, None]
    if phi.shape[0] != m:
        raise ValueError(
            f"values must have one row per player of the game ({m}); received shape "
            f"{phi.shape}. Pass the values of the explanation that matches this game."
        )
    if phi.shape[1] != game.n_outputs:
        raise ValueError(
            f"values must have {game.n_outputs} column(s), one per game output; received "
            f"shape {phi.shape}."
        )
    if by not in ORDERS:
        raise ValueError(f"by must be one of {list(ORDERS)}; received {by!r}.")
    n_random = check_int(n_random, name="n_random", minimum=0)
    fractions = _check_fractions(fractions)
    rng = check_random_state(seed)
    k_out = game.n_outputs
    start = game.n_evaluations

    orders = ranking(phi, by)  # (k, M): one attribution order per output
    random_orders = np.argsort(rng.random((n_random, m)), axis=1)
    all_orders = np.concatenate([orders, random_orders])  # (k + R, M)
    ins = _prefix_coalitions(all_orders, m)  # (k + R, M + 1, M)
    inner = np.concatenate([ins[:, 1:m], ~ins[:, 1:m]], axis=1)  # k = 1..M−1, both curves
    v_inner = game(inner.reshape(-1, m)).reshape(len(all_orders), 2, m - 1, k_out)
    v0, vn = game.empty_value, game.full_value
    n_orders = len(all_orders)
    ins_v = np.concatenate(
        [
            np.broadcast_to(v0, (n_orders, 1, k_out)),
            v_inner[:, 0],
            np.broadcast_to(vn, (n_orders, 1, k_out)),
        ],
        axis=1,
    )  # (orders, M + 1, k)
    del_v = np.concatenate(
        [
            np.broadcast_to(vn, (n_orders, 1, k_out)),
            v_inner[:, 1],
            np.broadcast_to(v0, (n_orders, 1, k_out)),
        ],
        axis=1,
    )
    # attribution curves: order o belongs to output o
    own = np.arange(k_out)
    att_del = del_v[own, :, own]  # (k, M + 1)
    att_ins = ins_v[own, :, own]
    rnd_del = np.moveaxis(del_v[k_out:], 2, 1)  # (R, k, M + 1)
    rnd_ins = np.moveaxis(ins_v[k_out:], 2, 1)

    names = list(game.output_names or [f"output {o}" for o in range(k_out)])
    if len(names) != k_out:
        names = [f"output {o}" for o in range(k_out)]
    ks = sorted({max(1, min(m, int(np.ceil(q * m)))) for q in fractions})
    curves = _curves_frame(names, att_del, att_ins, rnd_del, rnd_ins)
    top_k, summary = _metrics(names, ks, vn, v0, att_del, att_ins, rnd_del, rnd_ins, m)
    return Faithfulness(
        curves=curves,
        summary=summary,
        top_k=top_k,
        n_evaluations=game.n_evaluations - start,
        meta={"by": by, "n_random": n_random, "fractions": list(fractions), "k": ks},
    )


def _check_fractions(fractions: Sequence[float]) -> tuple[float, ...]:
    arr = check_array(fractions, name="fractions", ndim=1)
    if len(arr) == 0 or np.any(arr <= 0) or np.any(arr > 1):
        raise ValueError(
            f"fractions must be numbers in (0, 1] (shares of the players); received "
            f"{list(np.asarray(fractions).tolist())}."
        )
    return tuple(float(q) for q in arr)


def _curves_frame(names, att_del, att_ins, rnd_del, rnd_ins) -> pd.DataFrame:
    k_out, n_pts = att_del.shape
    m = n_pts - 1
    rows = []
    for o, name in enumerate(names):
        for curve, att, rnd in (("deletion", att_del, rnd_del), ("insertion", att_ins, rnd_ins)):
            block = {
                "output": name,
                "curve": curve,
                "k": np.arange(n_pts),
                "fraction": np.arange(n_pts) / m,
            }
            rows.append(pd.DataFrame({**block, "order": "attribution", "value": att[o], "sd": 0.0}))
            if len(rnd):
                sd = rnd[:, o].std(axis=0, ddof=1) if len(rnd) > 1 else np.full(n_pts, np.nan)
                rows.append(
                    pd.DataFrame({**block, "order": "random", "value": rnd[:, o].mean(0), "sd": sd})
                )
    frame = pd.concat(rows, ignore_index=True)
    return frame[["output", "curve", "order", "k", "fraction", "value", "sd"]]


def _mean_sd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    if len(x) == 0:
        nan = np.full(x.shape[1:], np.nan)
        return nan, nan
    return x.mean(0), (x.std(0, ddof=1) if len(x) > 1 else np.full(x.shape[1:], np.nan))


def _metrics(names, ks, vn, v0, att_del, att_ins, rnd_del, rnd_ins, m):
    kk = np.asarray(ks)
    comp = vn[:, None] - att_del[:, kk]  # (k_out, K)
    suff = vn[:, None] - att_ins[:, kk]
    r_comp = vn[None, :, None] - rnd_del[:, :, kk]  # (R, k_out, K)
    r_suff = vn[None, :, None] - rnd_ins[:, :, kk]
    rc_mean, rc_sd = _mean_sd(r_comp)
    rs_mean, rs_sd = _mean_sd(r_suff)
    top_rows = []
    for o, name in enumerate(names):
        for j, k in enumerate(ks):
            top_rows.append(
                {
                    "output": name,
                    "k": k,
                    "fraction": k / m,
                    "comprehensiveness": comp[o, j],
                    "random_comprehensiveness": rc_mean[o, j],
                    "random_comprehensiveness_sd": rc_sd[o, j],
                    "sufficiency": suff[o, j],
                    "random_sufficiency": rs_mean[o, j],
                    "random_sufficiency_sd": rs_sd[o, j],
                }
            )
    auc_del, auc_ins = _auc(att_del), _auc(att_ins)
    r_auc_del, r_auc_ins = _auc(rnd_del), _auc(rnd_ins)  # (R, k_out)
    stats = {
        "deletion_auc": (auc_del, r_auc_del),
        "insertion_auc": (auc_ins, r_auc_ins),
        "comprehensiveness": (comp.mean(1), r_comp.mean(2)),
        "sufficiency": (suff.mean(1), r_suff.mean(2)),
    }
    summary_rows = []
    for o, name in enumerate(names):
        row: dict[str, Any] = {"output": name}
        for key, (att, rnd) in stats.items():
            mean, sd = _mean_sd(rnd[:, o : o + 1])
            row[key] = float(att[o])
            row[f"random_{key}"] = float(mean[0])
            row[f"random_{key}_sd"] = float(sd[0])
        n_r = len(r_auc_del)
        row["deletion_rank"] = float(np.mean(r_auc_del[:, o] <= auc_del[o])) if n_r else np.nan
        row["insertion_rank"] = float(np.mean(r_auc_ins[:, o] >= auc_ins[o])) if n_r else np.nan
        row["full"] = float(vn[o])
        row["base"] = float(v0[o])
        row["n_players"] = m
        summary_rows.append(row)
    return pd.DataFrame(top_rows), pd.DataFrame(summary_rows)
