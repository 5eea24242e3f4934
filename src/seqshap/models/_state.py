"""Which path a model is on, and the split check that decides it.

Adapters of plain models (a torch ``nn.Module`` whose ``forward(x)`` returns scores, an ONNX
graph with ``GRU``/``LSTM``/``RNN`` operators) may carry a ``state_candidate``: a
:class:`~seqshap.models.RecurrentModel` that reaches the recurrent layers' states from outside
(torch hooks, a rewritten graph). A candidate is used only after :func:`check_split` proved it
on real inputs: for rows of the explained sequence and its background, running the rows in
pieces (random split points, states handed over, re-ordered with ``take_state`` and joined with
``concat_states`` on the way) must give the scores of the plain model on the whole rows (the
sequence, background rows, and mixtures of the two at random steps), within

    |piecewise - plain| <= tolerance * max(1, max |plain|)

(``tolerance`` 1e-5 for float32 models: splitting a recurrent layer changes only the blocking of
its input matmuls, ~1e-7 here, while a layer that sees the whole sequence at once -- a
bidirectional RNN, a convolution or attention over time, a mean over the RNN's outputs --
differs at the split by ~1e-2). Otherwise the plain path is kept and the reason is logged and
readable as ``model_info``.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from .base import Model, RecurrentModel

logger = logging.getLogger("seqshap.models")

PREFIX_STATE = "prefix-state"
PLAIN = "plain"

#: default relative tolerance of the split check (float32 models)
SPLIT_TOLERANCE = 1e-5
#: rows of the check: the explained sequence and up to this many background rows in all
SPLIT_ROWS = 8
#: steps (the most recent) of each row that the split check runs
SPLIT_STEPS = 64


@dataclass
class ModelInfo:
    """Which evaluation path a model is on, how its states are reached, and why.

    ``path``: ``"prefix-state"`` (recurrent states shared across coalitions) or ``"plain"``
    (every coalition runs whole sequences). ``access``: how the states are reached (e.g.
    ``"torch hooks"``). ``reason``: one sentence a user can act on. ``detail``: layers found,
    the largest split error measured, and the like.
    """

    path: str
    access: str
    reason: str
    detail: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.path} path ({self.access}): {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def model_info(model: Any) -> ModelInfo:
    """The :class:`ModelInfo` of an adapted model (looked up through wrappers' ``.base``)."""
    m = model
    while m is not None:
        info = getattr(m, "model_info", None)
        if isinstance(info, ModelInfo):
            return info
        m = getattr(m, "base", None)
    if isinstance(model, RecurrentModel):
        return ModelInfo(
            PREFIX_STATE, "forward(x, state)", "the model exposes its state as (scores, state)."
        )
    return ModelInfo(
        PLAIN,
        "none",
        "the model does not expose a recurrent state; see the README section 'Make it fast'.",
    )


def _as_array(out: Any) -> np.ndarray:
    if type(out).__module__.startswith("torch"):
        out = out.detach().cpu().double().numpy()
    return np.asarray(out, dtype=float)


def _comparable(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Scores of the last step when the model returns one row of scores per step."""
    if a.ndim == 3:
        a = a[:, -1]
    if b.ndim == 3:
        b = b[:, -1]
    if a.ndim == 2 and b.ndim == 2 and a.shape[1] != b.shape[1]:
        a, b = a[:, -1:], b[:, -1:]
    return a.reshape(len(a), -1), b.reshape(len(b), -1)


class SplitMismatch(Exception):
    """Internal: the piecewise run differs from the whole run."""


def check_split(
    candidate: RecurrentModel,
    reference: Model,
    rows: np.ndarray,
    *,
    tolerance: float | None = None,
    seed: int = 0,
) -> float:
    """Largest error of the state path against ``reference`` on ``rows`` ``(n, T, d)``.

    Raises :class:`SplitMismatch` (with the reason) when the error exceeds the tolerance, or
    any exception the candidate raised. Four runs, each of ``n`` rows: whole rows from the
    initial state; one random split; two random splits with the first piece run in two batches
    (``concat_states``) and the rows re-ordered in between (``take_state``); the last step
    alone. Only the last :data:`SPLIT_STEPS` steps of the rows are run: whether a model runs
    a sequence in pieces as it runs it whole does not depend on the length (what breaks it --
    bidirectional layers, attention, convolution, pooling or normalisation over time -- shows
    on any window), and the check then costs O(1) instead of a few passes over all T steps.
    """
    rows = np.asarray(rows, dtype=float)[:, -SPLIT_STEPS:]
    n, t_len = rows.shape[0], rows.shape[1]
    if t_len < 2:
        raise SplitMismatch("sequences of one step have no prefix to share")
    if tolerance is None:
        tolerance = getattr(candidate, "split_tolerance", SPLIT_TOLERANCE)
    rng = np.random.default_rng(seed)
    plain = _as_array(reference.predict(rows))
    scale = max(1.0, float(np.max(np.abs(plain)))) if plain.size else 1.0
    worst = 0.0

    def compare(got: Any, want: np.ndarray, what: str) -> None:
        nonlocal worst
        a, b = _comparable(_as_array(got), want)
        if a.shape != b.shape:
            raise SplitMismatch(
                f"{what}: scores of shape {a.shape} against {b.shape} from the plain model"
            )
        err = float(np.max(np.abs(a - b))) / scale if a.size else 0.0
        worst = max(worst, err)
        if not err <= tolerance:
            raise SplitMismatch(
                f"{what}: the scores differ from the plain model's by {err:.2e} (relative; "
                f"tolerance {tolerance:.0e})"
            )

    scores, _ = candidate.forward(rows, None)
    compare(scores, plain, "whole sequences through the state path")
    s = int(rng.integers(1, t_len))
    _, state = candidate.forward(rows[:, :s], None)
    scores, _ = candidate.forward(rows[:, s:], state)
    compare(scores, plain, f"split at step {s} of {t_len}")
    if t_len >= 3:
        s1, s2 = sorted(int(v) for v in rng.choice(np.arange(1, t_len), size=2, replace=False))
        h = max(1, n // 2)
        parts = [candidate.forward(rows[:h, :s1], None)[1]]
        if h < n:
            parts.append(candidate.forward(rows[h:, :s1], None)[1])
        state = parts[0] if len(parts) == 1 else candidate.concat_states(parts)
        perm = rng.permutation(n)
        state = candidate.take_state(state, perm)
        _, state = candidate.forward(rows[perm, s1:s2], state)
        scores, _ = candidate.forward(rows[perm, s2:], state)
        compare(scores, plain[perm], f"splits at steps {s1} and {s2} with rows re-ordered")
    _, state = candidate.forward(rows[:, : t_len - 1], None)
    scores, _ = candidate.forward(rows[:, t_len - 1 :], state)
    compare(scores, plain, "the last step alone")
    return worst


def check_rows(rows: np.ndarray, n_mixed: int = 3, seed: int = 0) -> np.ndarray:
    """The rows of the split check: the first :data:`SPLIT_ROWS` of ``rows`` (the explained
    sequence, then background rows) and ``n_mixed`` mixtures of the first row with the others
    at random time steps -- inputs like the ones the game will evaluate."""
    rows = np.asarray(rows, dtype=float)[:SPLIT_ROWS]
    if len(rows) < 2 or rows.ndim < 2:
        return rows
    rng = np.random.default_rng(seed)
    t_len = rows.shape[1]
    mixed = []
    for _ in range(n_mixed):
        other = rows[rng.integers(1, len(rows))]
        keep = (rng.random(t_len) < 0.5).reshape(t_len, *([1] * (rows.ndim - 2)))
        mixed.append(np.where(keep, rows[0], other))
    return np.concatenate([rows, np.stack(mixed)], axis=0)


def resolve_state_path(model: Model, rows: np.ndarray, *, recurrent: bool | None) -> Model:
    """``model``'s verified state candidate when it passes :func:`check_split` on ``rows``
    (with ``recurrent`` not False), else ``model`` itself with the reason in ``model_info``."""
    candidate = getattr(model, "state_candidate", None)
    if candidate is None:
        return model
    if recurrent is False:
        model.model_info = ModelInfo(
            PLAIN, candidate.access, "recurrent=False was asked for.", dict(candidate.detail)
        )
        return model
    rows = check_rows(rows)
    try:
        err = check_split(candidate, model, rows)
    except Exception as exc:  # noqa: BLE001 - any failure keeps the plain path, with its cause
        if isinstance(exc, SplitMismatch):
            reason = (
                f"the state path failed the split check on the explained data ({exc}): the "
                "model does not run a sequence in pieces as it runs it whole; it looks at the "
                "whole sequence at once (e.g. a bidirectional RNN, attention, convolution or "
                "normalisation over time, pooling of the RNN outputs)."
            )
        else:
            first = str(exc).splitlines()[0] if str(exc) else ""
            reason = (
                "the state path failed the split check on the explained data: it raised "
                f"{type(exc).__name__}: {first}"
            )
        model.model_info = ModelInfo(
            PLAIN, candidate.access, reason, {**candidate.detail, "check_rows": int(len(rows))}
        )
        logger.warning("seqshap: %s", model.model_info)
        return model
    candidate.model_info = ModelInfo(
        PREFIX_STATE,
        candidate.access,
        f"split check passed on {len(rows)} rows of the explained data (the sequence, "
        f"background rows and mixtures of both; largest relative error {err:.1e}).",
        {**candidate.detail, "check_rows": int(len(rows)), "max_error": err},
    )
    logger.info("seqshap: %s", candidate.model_info)
    if not candidate.output_names and model.output_names:
        candidate.output_names = list(model.output_names)  # names the adapter found (classes_)
    return candidate
