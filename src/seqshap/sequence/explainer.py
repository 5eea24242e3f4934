"""``SequenceExplainer``: Shapley values of sequence models at event, feature, cell and window
level, with temporal coalition pruning, for one or many (variable-length) sequences.

Every level is a set of players given as boolean cell masks over the ``(T, d)`` sequence
(:mod:`seqshap.sequence.players`), valued by one game: :class:`~seqshap.games.MaskedGame`
(plain path) or, for models that expose their hidden state,
:class:`~seqshap.games.recurrent.RecurrentMaskedGame` (prefix-tree path, same values). The
values of one level sum to ``f(x) − E_b[f(baseline_b)]`` (in link space).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import check_budget, check_int, check_names, check_random_state, check_tol
from ..estimators import METHODS, default_budget, estimate
from ..explanation import Explanation, explanation_from_estimates
from ..games import MaskedGame
from ..games.recurrent import DEFAULT_CALL_COST, PrefixCache, RecurrentMaskedGame
from ..links import get_link
from ..models import RecurrentModel
from .baselines import background_for, resolve_baseline
from .inputs import as_sequences, check_sequence
from .model import prepare_model
from .players import (
    PRUNED,
    Players,
    cell_players,
    event_players,
    feature_players,
    resolve_groups,
    window_players,
)
from .pruning import PruningResult, compute_pruning

if TYPE_CHECKING:
    from .summary import GlobalExplanation

LEVELS = ("event", "feature", "cell", "window")
#: with budget=None, levels of up to this many players are enumerated exactly
EXACT_DEFAULT_PLAYERS = 16


@dataclass
class LocalExplanation:
    """Explanations of one sequence. Levels not asked for are None.

    ``pruning`` is a :class:`~seqshap.sequence.pruning.PruningResult` (None without a tolerance);
    ``event``, ``feature``, ``cell``, ``window`` are :class:`~seqshap.explanation.Explanation`
    objects with one instance; ``meta['pruned_index']`` etc. are repeated in each.
    """

    pruning: PruningResult | None = None
    event: Explanation | None = None
    feature: Explanation | None = None
    cell: Explanation | None = None
    window: Explanation | None = None
    entity: Any = None
    length: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def levels(self) -> dict[str, Explanation]:
        return {name: getattr(self, name) for name in LEVELS if getattr(self, name) is not None}

    def to_frame(self) -> pd.DataFrame:
        """All levels in one tidy table (columns of ``Explanation.to_frame()``; ``level``
        tells them apart), plus ``entity``."""
        frames = [exp.to_frame() for exp in self.levels.values()]
        if not frames:
            return pd.DataFrame()
        frame = pd.concat(frames, ignore_index=True)
        frame["entity"] = self.entity
        return frame


class SequenceExplainer:
    """Explain a sequence model ``f: (n, T, d) → (n, k)`` against a baseline.

    Parameters
    ----------
    model : a seqshap ``Model``, a torch/keras/onnx model (adapted by :func:`seqshap.adapt`), a
        callable ``f(x) -> scores``, or TimeSHAP's ``f(x, h=None) -> (scores, h)``.
    baseline : ``"mean_event"``, ``"median_event"``, ``"mode_event"``, ``"average_sequence"``
        (computed from ``data``), ``"zeros"``, an event ``(d,)``, a sequence ``(T, d)``,
        background sequences ``(m, T, d)`` or a :class:`seqshap.Background`. Events are tiled
        to each sequence's length; sequences are aligned at the most recent event.
    data : training sequences (``(n, T, d)``, a list of ``(T_i, d)``, or events ``(N, d)``) for
        the named baselines.
    feature_names : d names (default ``"Feature 0"`` …).
    link : ``"identity"`` or ``"logit"`` (values explain log-odds of probabilities).
    output : index, name, or list of them: the outputs explained (default all, in one pass).
    time_step : for models with one output per time step ``(n, T, k)``, the step explained
        (default the last).
    method, budget, seed : estimator (``"auto"``, ``"exact"``, ``"kernel"``, ``"permutation"``,
        ``"lime"``), coalitions per level and sequence (None: exact up to
        ``EXACT_DEFAULT_PLAYERS`` players, else ``2M + 2048``), seed of a local generator.
    batch_size : most rows per model call.
    recurrent : None uses the prefix-state path when the adapted model is a ``RecurrentModel``;
        True requires it; False always uses the plain path (the values are the same).
    call_cost : cost of a model call in row-steps, for merging recurrent segments.
    """

    def __init__(
        self,
        model: Any,
        baseline: Any,
        data: Any = None,
        *,
        feature_names: Sequence[str] | None = None,
        link: str = "identity",
        output: int | str | Sequence[int | str] | None = None,
        time_step: int | None = None,
        method: str = "auto",
        budget: int | None = None,
        seed: int | None = 0,
        batch_size: int = 1024,
        recurrent: bool | None = None,
        call_cost: int = DEFAULT_CALL_COST,
    ) -> None:
        if method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}; received {method!r}.")
        self.method = method
        self.budget = None if budget is None else check_budget(budget)
        check_random_state(seed)
        self.seed = seed
        self.batch_size = check_int(batch_size, name="batch_size", minimum=1)
        self.call_cost = check_int(call_cost, name="call_cost", minimum=0)
        self.link_name, self._link = get_link(link)
        if recurrent not in (None, True, False):
            raise TypeError(f"recurrent must be None, True or False; received {recurrent!r}.")
        self.recurrent = recurrent
        if time_step is not None:
            time_step = check_int(time_step, name="time_step")
        self.time_step = time_step
        self.output = output
        self.model = model
        names = list(feature_names) if feature_names is not None else None
        self._background = resolve_baseline(baseline, data, len(names) if names else None)
        d = self._background.data.shape[2]
        self.n_features: int | None = d if d > 0 else (len(names) if names else None)
        if names is not None and self.n_features is not None and len(names) != self.n_features:
            raise ValueError(
                f"feature_names must have {self.n_features} entries (the baseline's width); "
                f"received {len(names)}."
            )
        self.feature_names = names
        self._prepared: tuple | None = None

    # ------------------------------------------------------------------ setup
    def _prepare(self, seq: np.ndarray) -> None:
        d = seq.shape[1]
        if self.n_features is None:
            self.n_features = d
        if d != self.n_features:
            raise ValueError(
                f"x has {d} features per event but the baseline (or feature_names) has "
                f"{self.n_features}; give a baseline of width {d}, the same columns as x, in "
                "the order the model expects."
            )
        self.feature_names = check_names(
            self.feature_names, n=d, name="feature_names", default_prefix="Feature "
        )
        if self._prepared is None:
            model, out_names, per_step = prepare_model(
                self.model,
                seq[None],
                recurrent=self.recurrent,
                time_step=self.time_step,
                output=self.output,
            )
            use_states = isinstance(model, RecurrentModel) and self.recurrent is not False
            if use_states and per_step and self.time_step not in (None, -1):
                use_states = False  # a step other than the last: whole inputs on the plain path
            if use_states:
                model = PrefixCache(model)
            self._prepared = (model, out_names, use_states)
        if isinstance(self._prepared[0], PrefixCache):
            self._prepared[0].clear()  # one sequence at a time: never reuse across model changes

    @property
    def uses_hidden_states(self) -> bool:
        """True once a sequence was explained through the prefix-state path."""
        return bool(self._prepared and self._prepared[2])

    def _background_for(self, seq: np.ndarray):
        return background_for(self._background, len(seq), seq.shape[1])

    def _game(self, seq, bg, players: Players) -> MaskedGame:
        model, out_names, use_states = self._prepared
        kwargs = dict(
            weights=bg.weights,
            link=self.link_name,
            batch_size=self.batch_size,
            player_names=players.names,
            output_names=out_names,
        )
        if use_states:
            return RecurrentMaskedGame(
                model, seq, bg.data, players.masks, call_cost=self.call_cost, **kwargs
            )
        return MaskedGame(model, seq, bg.data, players.masks, **kwargs)

    def _budget_for(self, n_players: int) -> int:
        if self.budget is not None:
            return self.budget
        exact = 2**n_players if n_players <= EXACT_DEFAULT_PLAYERS else 0
        return max(default_budget(n_players), exact)

    # ------------------------------------------------------------------ pruning
    def prune(
        self,
        x: Any,
        tol: float | None = 0.025,
        *,
        lengths: Any = None,
        padding: str = "post",
        full_curve: bool = True,
    ) -> PruningResult:
        """Temporal coalition pruning of one sequence: the curve and the pruned index.

        ``tol=None`` computes the curve only (pruned index None; ``index_for(tol)`` later).
        ``full_curve=False`` stops at the pruned index (much cheaper for long sequences: the
        splits near the end need short suffixes only); the curve then covers the splits from
        the most recent back to about the pruned index.
        """
        seq = check_sequence(x, name="x", lengths=lengths, padding=padding)
        tol = check_tol(tol, name="pruning_tol")
        self._prepare(seq)
        return self._prune(seq, tol, full_curve=full_curve)

    def _prune(
        self, seq: np.ndarray, tol: float | None, counter=None, full_curve: bool = True
    ) -> PruningResult:
        model, out_names, use_states = self._prepared
        bg = self._background_for(seq)
        return compute_pruning(
            model,
            seq,
            bg.data,
            bg.weights,
            self._link,
            tol,
            output_names=out_names,
            batch_size=self.batch_size,
            recurrent=use_states,
            full_curve=full_curve,
            counter=counter,
        )

    # ------------------------------------------------------------------ local
    def explain(
        self,
        x: Any,
        lengths: Any = None,
        *,
        levels: Sequence[str] = ("event", "feature", "cell"),
        pruning_tol: float | None = 0.025,
        top_events: int | None = 2,
        top_features: int | None = 2,
        event_threshold: float | None = None,
        feature_threshold: float | None = None,
        feature_groups: Mapping[str, Sequence] | None = None,
        window: int | None = None,
        padding: str = "post",
        entity: Any = None,
        full_curve: bool = True,
        pruned_index: int | None = None,
    ) -> LocalExplanation:
        """Explain one sequence ``x`` (``(T, d)``, ``(1, T, d)``, or padded with ``lengths``).

        ``levels``: any of "event", "feature", "cell", "window". ``pruning_tol``: tolerance of
        temporal coalition pruning (None: no pruning). Cell level: the ``top_events`` events
        and ``top_features`` features with the largest ``|value|`` (max over outputs) in the
        event and feature levels, those at or above ``event_threshold``/``feature_threshold``
        when given. ``feature_groups``: ``{name: [features]}`` players at feature and cell
        level. ``window``: events per window at window level. ``full_curve=False`` stops the
        pruning search at the pruned index (see :meth:`prune`). ``pruned_index``: a fixed
        split ``-k`` (keep the last ``k`` events) instead of a search; ``pruning_tol`` is then
        not used and ``pruning`` is None.
        """
        seq = check_sequence(x, name="x", lengths=lengths, padding=padding)
        opts = self._check_options(
            levels,
            pruning_tol,
            top_events,
            top_features,
            event_threshold,
            feature_threshold,
            window,
        )
        opts["full_curve"] = bool(full_curve)
        if pruned_index is not None:
            pruned_index = check_int(pruned_index, name="pruned_index")
            if not -len(seq) <= pruned_index <= -1:
                raise ValueError(
                    f"pruned_index must lie in [-{len(seq)}, -1] (keep the last k events); "
                    f"received {pruned_index}."
                )
            opts["tol"] = None
            opts["pruned_index"] = pruned_index
        self._prepare(seq)
        resolve_groups(self.feature_names, feature_groups)  # validate early
        rng = check_random_state(self.seed)
        return self._explain_one(seq, opts, feature_groups, rng, entity)

    def _check_options(
        self,
        levels,
        pruning_tol,
        top_events,
        top_features,
        event_threshold,
        feature_threshold,
        window,
    ) -> dict[str, Any]:
        if isinstance(levels, str):
            levels = (levels,)
        levels = tuple(levels)
        unknown = [lv for lv in levels if lv not in LEVELS]
        if unknown or not levels:
            raise ValueError(
                f"levels must be a non-empty subset of {list(LEVELS)}; received {list(levels)}."
            )
        if window is not None:
            window = check_int(window, name="window", minimum=1)
            if "window" not in levels:
                levels = (*levels, "window")
        elif "window" in levels:
            raise ValueError("levels includes 'window': give window=<events per window>, e.g. 10.")
        return {
            "levels": levels,
            "tol": check_tol(pruning_tol, name="pruning_tol"),
            "top_events": None
            if top_events is None
            else check_int(top_events, name="top_events", minimum=0),
            "top_features": None
            if top_features is None
            else check_int(top_features, name="top_features", minimum=0),
            "event_threshold": check_tol(event_threshold, name="event_threshold"),
            "feature_threshold": check_tol(feature_threshold, name="feature_threshold"),
            "window": window,
        }

    def _explain_one(
        self, seq, opts, feature_groups, rng, entity, pruning: PruningResult | None = None
    ) -> LocalExplanation:
        """``pruning``: a result already computed for ``seq`` at ``opts["tol"]`` (the runner
        computes the curve once and reuses it across tolerances); None computes it."""
        t_len, d = seq.shape
        bg = self._background_for(seq)
        n_pruned = 0
        if opts["tol"] is None:
            pruning = None
        elif pruning is None:
            pruning = self._prune(seq, opts["tol"], full_curve=opts.get("full_curve", True))
        if pruning is not None:
            n_pruned = pruning.n_pruned
        fixed = opts.get("pruned_index")
        if fixed is not None:
            n_pruned = t_len + fixed
        meta = {
            "pruned_index": fixed if pruning is None else pruning.pruned_index,
            "pruning_tol": opts["tol"],
            "length": t_len,
            "entity": None if entity is None else str(entity),
        }
        levels = opts["levels"]
        out = LocalExplanation(pruning=pruning, entity=entity, length=t_len, meta=meta)
        need_event = "event" in levels or "cell" in levels
        need_feature = "feature" in levels or "cell" in levels
        results: dict[str, Explanation] = {}
        if need_event:
            results["event"] = self._level(seq, bg, event_players(t_len, d, n_pruned), rng, meta)
        if need_feature:
            players = feature_players(t_len, self.feature_names, n_pruned, feature_groups)
            results["feature"] = self._level(seq, bg, players, rng, meta)
        if "cell" in levels:
            top_ev = _top(results["event"], opts["top_events"], opts["event_threshold"])
            groups = resolve_groups(self.feature_names, feature_groups)
            top_ft = _top(results["feature"], opts["top_features"], opts["feature_threshold"])
            by_name = dict(groups)
            top_groups = [(name, by_name[name]) for name in top_ft]
            top_back = [int(name.split("-")[1]) for name in top_ev]
            players = cell_players(t_len, self.feature_names, top_back, top_groups, n_pruned)
            results["cell"] = self._level(seq, bg, players, rng, meta)
        if "window" in levels:
            players = window_players(t_len, d, opts["window"], n_pruned)
            results["window"] = self._level(seq, bg, players, rng, meta)
        for name in levels:
            setattr(out, name, results[name])
        return out

    def _level(self, seq, bg, players: Players, rng, meta) -> Explanation:
        game = self._game(seq, bg, players)
        est = estimate(game, self.method, self._budget_for(players.n_players), seed=rng)
        level_meta = dict(meta)
        level_meta["path"] = "recurrent" if isinstance(game, RecurrentMaskedGame) else "plain"
        level_meta["n_model_calls"] = int(game.n_model_calls)
        if isinstance(game, RecurrentMaskedGame):
            level_meta["n_steps"] = int(game.n_steps)
        return explanation_from_estimates(
            [est],
            player_names=players.names,
            output_names=game.output_names,
            level=players.level,
            budget=self._budget_for(players.n_players),
            seed=self.seed if isinstance(self.seed, int) else None,
            link=self.link_name,
            n_model_rows=[game.n_model_rows],
            meta=level_meta,
        )

    # ------------------------------------------------------------------ global
    def explain_global(
        self,
        X: Any,
        lengths: Any = None,
        *,
        levels: Sequence[str] = ("event", "feature"),
        pruning_tol: float | None = 0.025,
        entity_ids: Sequence[Any] | None = None,
        entity_col: str | None = None,
        time_col: str | None = None,
        feature_cols: Sequence[str] | None = None,
        padding: str = "post",
        top_events: int | None = 2,
        top_features: int | None = 2,
        feature_groups: Mapping[str, Sequence] | None = None,
        window: int | None = None,
        full_curve: bool = False,
        concurrency: int = 1,
    ) -> GlobalExplanation:
        """Explain many sequences: ``(n, T, d)`` (padded with ``lengths``), a list of
        ``(T_i, d)`` arrays, or a long DataFrame (``entity_col``, ``time_col``, features).

        Returns a :class:`~seqshap.sequence.summary.GlobalExplanation`. Sequence ``i`` uses the
        generator spawned from ``(seed, i)``, so results do not depend on the order of runs.
        By default (``full_curve=False``) each pruning search stops at the pruned index, so
        ``pruning_stats`` answers tolerances ≥ ``pruning_tol``; pass ``full_curve=True`` for
        every split of every sequence. ``concurrency > 1`` explains that many sequences at a
        time with their model calls packed into shared batches (fewer, larger calls; values
        equal up to the model's float rounding in batches of other sizes). For very many
        sequences, in parallel, resumable: :func:`seqshap.runner.explain_many`.
        """
        from .summary import GlobalExplanation

        if hasattr(X, "columns") and hasattr(X, "groupby") and entity_col is None:
            raise ValueError(
                "X is a DataFrame: give entity_col (the column that identifies sequences) and "
                f"time_col (the order of events); its columns are {list(X.columns)}."
            )
        seqs, ids, frame_names = as_sequences(
            X,
            name="X",
            lengths=lengths,
            padding=padding,
            entity_col=entity_col,
            time_col=time_col,
            feature_cols=feature_cols,
        )
        if frame_names is not None and self.feature_names is None:
            self.feature_names = frame_names
        if entity_ids is not None:
            entity_ids = list(entity_ids)
            if len(entity_ids) != len(seqs):
                raise ValueError(
                    f"entity_ids must have one id per sequence ({len(seqs)}); received "
                    f"{len(entity_ids)}."
                )
        else:
            entity_ids = ids if ids is not None else list(range(len(seqs)))
        opts = self._check_options(
            levels, pruning_tol, top_events, top_features, None, None, window
        )
        opts["full_curve"] = bool(full_curve)
        self._prepare(seqs[0])
        resolve_groups(self.feature_names, feature_groups)
        root = np.random.SeedSequence(self.seed if isinstance(self.seed, int) else None)
        concurrency = check_int(concurrency, name="concurrency", minimum=1)
        locals_ = []
        if concurrency == 1:
            for i, seq in enumerate(seqs):
                self._prepare(seq)
                rng = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(i,)))
                locals_.append(self._explain_one(seq, opts, feature_groups, rng, entity_ids[i]))
        else:
            from ..runner import map_shared

            for seq in seqs:
                self._prepare(seq)  # every width checked before any work
            model, out_names, use_states = self._prepared

            def one(shared_model, i):
                local = copy.copy(self)
                local._prepared = (shared_model, out_names, use_states)
                rng = np.random.default_rng(np.random.SeedSequence(root.entropy, spawn_key=(i,)))
                return local._explain_one(seqs[i], opts, feature_groups, rng, entity_ids[i])

            locals_ = map_shared(one, range(len(seqs)), model, concurrency=concurrency)
            for res in locals_:
                if isinstance(res, Exception):
                    raise res
        return GlobalExplanation(locals_, entity_ids, opts["tol"], list(self._prepared[1]))


def _top(exp: Explanation, count: int | None, threshold: float | None) -> list[str]:
    """Names of the players (pruned player excluded) with the largest max-over-outputs |value|."""
    mag = np.abs(exp.values[0]).max(axis=1)
    order = [i for i in np.argsort(-mag, kind="stable") if exp.player_names[i] != PRUNED]
    if threshold is not None:
        order = [i for i in order if mag[i] >= threshold]
    if count is not None:
        order = order[:count]
    return [exp.player_names[i] for i in order]
