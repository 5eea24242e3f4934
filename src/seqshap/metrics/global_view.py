"""Global importance: mean |value| per event position or feature across sequences, with intervals.

From a tidy frame with one row per (sequence, player, output) — ``GlobalRun.event_frame``
or ``.feature_frame``, ``Explanation.to_frame()`` — and for each group g (a player name, an
event position ``t``, a feature) over the n sequences j that have it:

    I_g = (1/n) Σ_j |φ̂_gj|

Two standard errors, because two things are uncertain:

* across sequences (reported interval): the n sequences are a sample of the sequences the
  model sees; |φ̂_gj| are independent across sequences, so
  SE_seq = sd_j(|φ̂_gj|) / √n  and the interval is  I_g ± t_{0.975, n−1} · SE_seq.
  This already contains the estimators' noise (the spread of |φ̂| is that of |φ| plus the
  estimation noise), so the per-value standard errors are not added again.
* estimation only (``se_estimation``): how well the estimator pinned down I_g for *these*
  sequences, by the delta method  SE_est = √(Σ_j s_gj²) / n  (s = per-value standard errors;
  0 for exact values). When SE_est ≪ SE_seq, more evaluations would not change the picture;
  more sequences would.

|φ̂| overstates |φ| by up to ≈ 0.8·s when φ ≈ 0 (E|φ + s·Z| ≥ |φ|); ``bias_bound`` = mean of
s·√(2/π) over sequences bounds that bias.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import stats


def global_importance(
    frame: pd.DataFrame,
    by: str | None = None,
    *,
    value: str = "value",
    std_error: str = "std_error",
    output: str | Sequence[str] | None = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """Mean |value| per group with intervals (see the module docstring for which interval).

    ``by``: the grouping column (default ``"t"`` if present — event positions — then
    ``"feature"``, then ``"player"``). Returns one row per (output, group), in the order
    the groups first appear, with columns ``n``, ``mean_abs``, ``mean`` (signed),
    ``se_sequences``, ``se_estimation``, ``ci_low``, ``ci_high``, ``bias_bound``.
    """
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"frame must be a pandas DataFrame (e.g. GlobalRun.event_frame); received "
            f"{type(frame).__name__}."
        )
    if by is None:
        by = next((c for c in ("t", "feature", "player") if c in frame.columns), None)
    missing = [c for c in (by, value) if c is None or c not in frame.columns]
    if missing:
        raise ValueError(
            f"frame must have the columns {[c for c in (by, value) if c]}; missing "
            f"{missing} (columns: {list(frame.columns)}). Pass by=/value= to name them."
        )
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); received {level}.")
    data = frame
    if by == "t" and "player" in frame.columns and frame["t"].isna().any():
        data = frame.assign(t=frame["t"].astype(object).where(frame["t"].notna(), frame["player"]))
    if "output" not in data.columns:
        data = data.assign(output="output")
    if output is not None:
        wanted = [output] if isinstance(output, str) else list(output)
        data = data[data["output"].isin(wanted)]
        if data.empty:
            raise ValueError(f"output {output!r} not in the frame's outputs.")
    se = data[std_error] if std_error in data.columns else pd.Series(0.0, index=data.index)
    work = pd.DataFrame(
        {
            "output": data["output"].to_numpy(),
            "group": data[by].to_numpy(),
            "abs": np.abs(data[value].to_numpy(dtype=float)),
            "signed": data[value].to_numpy(dtype=float),
            "var": se.fillna(0.0).to_numpy(dtype=float) ** 2,
        }
    )
    g = work.groupby(["output", "group"], sort=False)
    out = g.agg(
        n=("abs", "size"),
        mean_abs=("abs", "mean"),
        mean=("signed", "mean"),
        sd_abs=("abs", lambda a: a.std(ddof=1) if len(a) > 1 else np.nan),
        sum_var=("var", "sum"),
        bias_bound=("var", lambda v: float(np.mean(np.sqrt(v))) * np.sqrt(2 / np.pi)),
    ).reset_index()
    n = out["n"].to_numpy(dtype=float)
    out["se_sequences"] = out["sd_abs"] / np.sqrt(n)
    out["se_estimation"] = np.sqrt(out["sum_var"]) / n
    q = stats.t.ppf(0.5 + level / 2, np.maximum(n - 1, 1))
    half = np.where(n > 1, q * out["se_sequences"].to_numpy(), np.nan)
    out["ci_low"] = out["mean_abs"] - half
    out["ci_high"] = out["mean_abs"] + half
    out = out.rename(columns={"group": by}).drop(columns=["sd_abs", "sum_var"])
    cols = [
        "output",
        by,
        "n",
        "mean_abs",
        "ci_low",
        "ci_high",
        "se_sequences",
        "se_estimation",
        "bias_bound",
        "mean",
    ]
    return out[cols]
