"""``TimeShapKernel``: TimeSHAP 1.0.4's explainer class, on seqshap's estimators.

Same constructor ``TimeShapKernel(model, background, rs, mode, varying=None, link=...)`` and
``shap_values(X, pruning_idx=..., nsamples=...)`` over the modes ``"pruning"`` (players: the
events from ``pruning_idx`` on, and the older ones), ``"event"`` (each unpruned event, most
recent first, then the pruned events), ``"feature"`` (each feature over the unpruned events,
then the pruned events) and ``"cell"`` (the cells ``varying = (event indexes, feature
indexes)``, then "other features" of each event, "other events" of each feature, the other
cells and the pruned cells — TimeSHAP's groups and order).

The model is called as TimeSHAP calls it: the background sequence, then (for a model returning
``(scores, hidden_state)``, as a tuple or a 2-item list) the hidden states of the pruned part of
the background and of ``X``, then ``X``, then one batch with the coalitions — each coalition's
unpruned events, and the hidden state of ``X``'s or the background's pruned part.

Values: when ``nsamples`` covers the ``2^M - 2`` proper coalitions they are all evaluated in
shap's enumeration order, in one model call, and the values are exact (seqshap's exact
estimator on those evaluations, equal to TimeSHAP's regression on a full enumeration). With
fewer, the coalitions are TimeSHAP's: whole subset sizes from the borders while the budget
allows, then sizes drawn by kernel weight with a local ``numpy.random.RandomState(rs)`` (the
draws TimeSHAP gets from seeding numpy's *global* state, which is never touched here), and
TimeSHAP's weighted regression under the efficiency constraint — so sampled values reproduce
TimeSHAP's. Unlike TimeSHAP, no AIC-lasso is applied when fewer than 20% of the coalitions are
sampled (it silently zeroes players). The façade's report functions (``local_report``, ...) use
seqshap's faster engine instead (prefix-shared hidden states, paired sampling with standard
errors); this class is for code written against TimeSHAP's class.
"""

from __future__ import annotations

import itertools
from math import comb
from typing import Any

import numpy as np

from ...._validation import _describe, check_array, check_int
from ....estimators import estimate
from ....games import FunctionGame
from ....links import get_link
from ..._utils import as_output_pair

_MODES = ("pruning", "event", "feature", "cell")


class TimeShapKernel:
    """TimeSHAP's KernelSHAP explainer for one sequence at a time (see the module docstring)."""

    def __init__(
        self,
        model: Any,
        background: Any,
        rs: int,
        mode: str,
        varying: tuple[list[int], list[int]] | None = None,
        link: Any = "identity",
        **kwargs: Any,
    ) -> None:
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {list(_MODES)}; received {mode!r}.")
        fn = getattr(model, "f", model)  # shap's legacy Model objects wrap the function in .f
        if not callable(fn):
            raise TypeError(f"model must be callable; received {_describe(model)}.")
        if mode == "cell":
            if varying is None or len(varying) != 2:
                raise ValueError(
                    "mode 'cell' needs varying=(event indexes, feature indexes), the cells to "
                    f"explain; received {varying!r}."
                )
            varying = ([int(e) for e in varying[0]], [int(j) for j in varying[1]])
        self.model = fn
        self.background = background
        self.random_seed = check_int(rs, name="rs", minimum=0)
        self.mode = mode
        self.varying = varying
        self.link_name, self._link = get_link(link)
        self.keep_index = bool(kwargs.get("keep_index", False))
        self.returns_hs: bool | None = None
        self.pruning_idx: int | None = None
        self.expected_value: float | np.ndarray | None = None
        self.special_cells: list[bool] | None = None
        self.group_names: list[str] = []

    # ------------------------------------------------------------------ set-up
    def _background_sequence(self, t_len: int) -> np.ndarray:
        bg = check_array(self.background, name="background", ndim=(2, 3))
        if bg.ndim == 2:
            bg = bg[None]
        if bg.shape[1] == 1:
            return np.repeat(bg, t_len, axis=1)
        if bg.shape[1] != t_len:
            raise ValueError(
                f"background must be one average event (1, d) or a sequence of the explained "
                f"sequence's length {t_len}; received shape {np.shape(self.background)}."
            )
        return bg

    def _groups(self, t_len: int, d: int, p: int) -> tuple[list[np.ndarray], list[str]]:
        """Boolean masks ``(T, d)`` of the players, in TimeSHAP's order, and their names."""

        def mask(rows: Any, cols: Any) -> np.ndarray:
            m = np.zeros((t_len, d), dtype=bool)
            m[np.ix_(np.atleast_1d(rows), np.atleast_1d(cols))] = True
            return m

        every = np.arange(d)
        masks, names = [], []
        if self.mode == "pruning":
            return [mask(np.arange(p, t_len), every), mask(np.arange(p), every)], ["x", "hidden"]
        if self.mode == "event":
            for e in range(t_len - 1, p - 1, -1):
                masks.append(mask(e, every))
                names.append(f"Event: {e + 1}")
        elif self.mode == "feature":
            for j in range(d):
                masks.append(mask(np.arange(p, t_len), j))
                names.append(f"Feat: {j}")
        else:
            events, feats = self._cell_indexes(t_len, d, p)
            other_events = [e for e in range(p, t_len) if e not in events]
            other_feats = [j for j in range(d) if j not in feats]
            for e in events:
                for j in feats:
                    masks.append(mask(e, j))
                    names.append(f"({e}, {j})")
            self.special_cells = [
                bool(other_feats),
                bool(other_events),
                bool(other_events and other_feats),
                p > 0,
            ]
            if other_feats:
                for e in events:
                    masks.append(mask(e, other_feats))
                    names.append(f"Other feats on event {e}")
            if other_events:
                for j in feats:
                    masks.append(mask(other_events, j))
                    names.append(f"Other events on feature {j}")
            if other_events and other_feats:
                masks.append(mask(other_events, other_feats))
                names.append("Other Cells")
        if p > 0:
            masks.append(mask(np.arange(p), every))
            names.append("Pruned Cells" if self.mode == "cell" else "Pruned Events")
        return masks, names

    def _cell_indexes(self, t_len: int, d: int, p: int) -> tuple[list[int], list[int]]:
        events = [e + t_len if e < 0 else e for e in self.varying[0]]
        feats = list(self.varying[1])
        bad_e = [e for e in events if not p <= e < t_len]
        bad_f = [j for j in feats if not 0 <= j < d]
        if bad_e or bad_f or len(set(events)) != len(events) or len(set(feats)) != len(feats):
            raise ValueError(
                f"varying must name distinct unpruned events in [{p}, {t_len}) and features in "
                f"[0, {d}); received {self.varying!r}."
            )
        return events, feats

    # ------------------------------------------------------------------ explaining
    def shap_values(self, X: Any, pruning_idx: int | None = None, **kwargs: Any) -> np.ndarray:
        """Shapley values ``(M,)`` of the players of ``self.mode`` for one sequence
        ``X (1, T, d)``; ``(M, k)`` for a model with ``k > 1`` outputs. ``nsamples`` ("auto":
        ``2M + 2048``, as shap) bounds the coalitions evaluated."""
        unknown = set(kwargs) - {"nsamples", "l1_reg", "silent"}
        if unknown:
            raise TypeError(f"shap_values got unexpected keyword argument(s) {sorted(unknown)}.")
        if kwargs.get("l1_reg") not in (None, False, 0, "auto"):
            raise ValueError(
                "TimeShapKernel computes unregularised values; l1_reg must be left out, False or "
                f"'auto'; received {kwargs['l1_reg']!r}."
            )
        x = check_array(X, name="X", ndim=3, copy=True)
        if x.shape[0] != 1:
            raise ValueError(f"X must be one sequence (1, T, d); received shape {x.shape}.")
        t_len, d = x.shape[1], x.shape[2]
        if pruning_idx is None:
            raise ValueError("pruning_idx is required: the number of older events pruned.")
        p = check_int(pruning_idx, name="pruning_idx", minimum=0)
        limit = t_len if self.mode == "pruning" else t_len - 1
        if p > limit:
            raise ValueError(
                f"pruning_idx must be at most {limit} for mode {self.mode!r} and a sequence of "
                f"{t_len} events; received {pruning_idx}."
            )
        self.pruning_idx = p
        bg = self._background_sequence(t_len)
        masks, self.group_names = self._groups(t_len, d, p)
        n_bg = len(bg)

        scores, state = as_output_pair(self.model(bg))
        self.returns_hs = state is not None
        fnull = scores.mean(axis=0)  # uniform weights over the background sequences
        self.expected_value = float(self._link(fnull)[0]) if len(fnull) == 1 else self._link(fnull)
        hidden = self.returns_hs and self.mode != "pruning" and p > 0
        if hidden:
            bg_state = as_output_pair(self.model(bg[:, :p]))[1]
            x_state = _repeat_state(as_output_pair(self.model(x[:, :p]))[1], n_bg)
        fx = as_output_pair(self.model(x))[0][0]

        # players that cannot change the output (TimeSHAP: features equal to the background
        # over the unpruned events) get 0 and are left out of the coalitions
        players = list(range(len(masks)))
        if self.mode == "feature":
            same = np.all(x[:, p:] == bg[:, p:], axis=(0, 1))
            players = [j for j in range(d) if not same[j]] + list(range(d, len(masks)))
        cells = np.stack([masks[i] for i in players]) if players else np.zeros((0, t_len, d))
        m = len(players)

        def evaluate(z: np.ndarray) -> np.ndarray:
            """Mean raw model output over the background sequences for coalitions ``z``."""
            z = np.asarray(z, dtype=bool)
            present = np.tensordot(z, cells, axes=1) > 0  # (n, T, d)
            batch = np.where(present[:, None], x[None], bg[None]).reshape(-1, t_len, d)
            if not hidden:
                out = as_output_pair(self.model(batch))[0]
            else:
                states = _stack_states([x_state if k else bg_state for k in z[:, -1]])
                out = as_output_pair(self.model(batch[:, p:], states))[0]
            return out.reshape(len(z), n_bg, -1).mean(axis=1)

        nsamples = kwargs.get("nsamples", "auto")
        if nsamples == "auto":
            nsamples = 2 * m + 2048
        nsamples = check_int(nsamples, name="nsamples", minimum=1)
        phi = np.zeros((len(masks), len(fx)))
        if m == 1:
            phi[players[0]] = self._link(fx) - self._link(fnull)
        elif m > 1:
            if m <= 30 and nsamples >= 2**m - 2:
                values = self._exact(evaluate, m, self._link(fnull), self._link(fx))
            else:
                values = self._sampled(evaluate, m, nsamples, fnull, fx)
            phi[players] = values
        return phi[:, 0] if phi.shape[1] == 1 else phi

    def _exact(self, evaluate, m: int, fnull: np.ndarray, fx: np.ndarray) -> np.ndarray:
        """Every proper coalition in shap's enumeration order, valued in one model call; exact
        Shapley values from those evaluations (seqshap's exact estimator)."""
        z = np.array(_shap_enumeration(m), dtype=bool)
        out = self._link(np.asarray(evaluate(z), dtype=float).reshape(len(z), -1))
        known = {bytes(m): fnull, bytes([1] * m): fx}
        known.update({bytes(row.astype(np.uint8)): v for row, v in zip(z, out)})

        def lookup(rows: np.ndarray) -> np.ndarray:
            return np.stack([known[bytes(np.asarray(r, dtype=np.uint8))] for r in rows])

        game = FunctionGame(lookup, m, player_names=self.group_names[:m])
        return estimate(game, "exact").values

    def _sampled(self, evaluate, m, nsamples, fnull, fx) -> np.ndarray:
        """TimeSHAP's sampling design (shap's: whole subset sizes from the borders while the
        budget allows, then sizes drawn by their kernel weight, duplicates adding weight),
        drawn from a local ``RandomState(rs)`` — the same draws as TimeSHAP's seeded global
        state — and its unregularised weighted regression with the efficiency constraint."""
        z, weights = _timeshap_design(m, min(nsamples, 2**30), self.random_seed)
        ey = self._link(np.asarray(evaluate(z.astype(bool)), dtype=float).reshape(len(z), -1))
        gap = self._link(fx) - self._link(fnull)
        phi = np.zeros((m, len(gap)))
        for o in range(len(gap)):
            y = ey[:, o] - self._link(fnull)[o] - z[:, -1] * gap[o]
            design = z[:, :-1] - z[:, -1:]
            weighted = weights[:, None] * design
            try:
                w = np.linalg.solve(design.T @ weighted, weighted.T @ y)
            except np.linalg.LinAlgError:
                root = np.sqrt(weights)
                w = np.linalg.lstsq(root[:, None] * design, root * y, rcond=None)[0]
            phi[:-1, o] = w
            phi[-1, o] = gap[o] - w.sum()
        phi[np.abs(phi) < 1e-10] = 0.0
        return phi


def _timeshap_design(m: int, nsamples: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Coalitions ``(n, m)`` (0/1 floats) and kernel weights in TimeSHAP's order and draws."""
    nsamples = min(nsamples, 2**m - 2) if m <= 30 else nsamples
    n_sizes = int(np.ceil((m - 1) / 2.0))
    n_paired = int(np.floor((m - 1) / 2.0))
    weight_vector = np.array([(m - 1.0) / (i * (m - i)) for i in range(1, n_sizes + 1)])
    weight_vector[:n_paired] *= 2
    weight_vector /= weight_vector.sum()
    rows: list[np.ndarray] = []
    weights: list[float] = []
    n_full = 0
    left = nsamples
    remaining = weight_vector.copy()
    for size in range(1, n_sizes + 1):
        nsubsets = comb(m, size) * (2 if size <= n_paired else 1)
        if left * remaining[size - 1] / nsubsets < 1.0 - 1e-8:
            break
        n_full += 1
        left -= nsubsets
        if remaining[size - 1] < 1.0:
            remaining /= 1 - remaining[size - 1]
        w = weight_vector[size - 1] / comb(m, size) / (2.0 if size <= n_paired else 1.0)
        for members in itertools.combinations(range(m), size):
            mask = np.zeros(m)
            mask[list(members)] = 1.0
            rows.append(mask)
            weights.append(w)
            if size <= n_paired:
                rows.append(1.0 - mask)
                weights.append(w)
    n_fixed = len(rows)
    samples_left = nsamples - n_fixed
    if n_full != n_sizes:
        rng = np.random.RandomState(seed)  # local: numpy's global state is never seeded
        rest = weight_vector.copy()
        rest[:n_paired] /= 2
        rest = rest[n_full:]
        rest /= rest.sum()
        draws = rng.choice(len(rest), 4 * samples_left, p=rest)
        used: dict[tuple, int] = {}
        pos = 0
        while samples_left > 0 and pos < len(draws):
            size = draws[pos] + n_full + 1
            pos += 1
            mask = np.zeros(m)
            mask[rng.permutation(m)[:size]] = 1.0
            key = tuple(mask)
            new = key not in used
            if new:
                used[key] = len(rows)
                samples_left -= 1
                rows.append(mask)
                weights.append(1.0)
            else:
                weights[used[key]] += 1.0
            if samples_left > 0 and size <= n_paired:
                if new:
                    samples_left -= 1
                    rows.append(1.0 - mask)
                    weights.append(1.0)
                else:
                    weights[used[key] + 1] += 1.0
        sampled = np.array(weights[n_fixed:])
        weights[n_fixed:] = list(sampled * weight_vector[n_full:].sum() / sampled.sum())
    return np.array(rows), np.array(weights)


def _repeat_state(state: Any, n: int) -> Any:
    """A single sequence's hidden state repeated for ``n`` background rows (batch axis 1)."""
    if n == 1:
        return state
    if isinstance(state, tuple | list):
        return type(state)(_repeat_state(s, n) for s in state)
    if type(state).__module__.startswith("torch"):
        return state.repeat_interleave(n, dim=1)
    return np.repeat(np.asarray(state), n, axis=1)


def _shap_enumeration(m: int) -> list[list[int]]:
    """shap's KernelExplainer order of the proper coalitions: sizes 1, 2, ... up to half,
    each subset followed by its complement while the complement's size is larger."""
    rows: list[list[int]] = []
    n_sizes = int(np.ceil((m - 1) / 2.0))
    n_paired = int(np.floor((m - 1) / 2.0))
    for size in range(1, n_sizes + 1):
        for members in itertools.combinations(range(m), size):
            row = [0] * m
            for i in members:
                row[i] = 1
            rows.append(row)
            if size <= n_paired:
                rows.append([1 - v for v in row])
    return rows


def _stack_states(states: list[Any]) -> Any:
    """Hidden states of single sequences stacked along the batch axis (axis 1 of arrays
    ``(layers, 1, hidden)``; element-wise for tuples such as LSTM ``(h, c)``)."""
    first = states[0]
    if isinstance(first, tuple | list):
        return type(first)(_stack_states([s[i] for s in states]) for i in range(len(first)))
    if type(first).__module__.startswith("torch"):
        import torch

        return torch.cat(states, dim=1)
    return np.concatenate([np.asarray(s) for s in states], axis=1)


__all__ = ["TimeShapKernel"]
