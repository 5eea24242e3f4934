"""``SequenceExplainer``: Shapley values of sequence models at event, feature, cell and window
level, with temporal coalition pruning, for one or many (variable-length) sequences.

Every level is a set of players given as boolean cell masks over the ``(T, d)`` sequence
(:mod:`seqshap.sequence.players`), valued by one game: :class:`~seqshap.games.MaskedGame`
(plain path) or, for models that expose their hidden state,
:class:`~seqshap.games.recurrent.RecurrentMaskedGame` (prefix-tree path, same values). The
values of one level sum to ``f(x) − E_b[f(baseline_b)]`` (in link space).

One level at a time: :meth:`SequenceExplainer.game` is the game of a level (given pruned index,
cell-level events/features, window), :meth:`SequenceExplainer.explain_level` estimates it with
a per-call budget/seed/method, and :meth:`SequenceExplainer.game_for` rebuilds the game of an
explanation from what ``explain`` records in its ``meta``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from .._validation import (
    check_budget,
    check_int,
    check_names,
    check_output_names,
    check_random_state,
    check_tol,
)
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

    def _repr_html_(self) -> str:
        """Notebook display: one line per level and a small plot (lazy: a display hook)."""
        from ..report._repr import local_html

        return local_html(self)

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
    output_names : k names of the model's outputs (class names; default: the names the model
        carries — scikit-learn ``classes_``, Hugging Face ``id2label``, ONNX metadata — else
        ``"output 0"`` …). ``output`` may then select by these names.
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
        output_names: Sequence[str] | None = None,
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
        self._output_names_arg = check_output_names(output_names)
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
    def prepare(self, x: Any, *, lengths: Any = None, padding: str = "post") -> list[str]:
        """Adapt and probe the model on sequence ``x`` (once per explainer) and check its width;
        returns the names of the explained outputs. Every other method does this itself; call
        it to check a model and data before long work. Clears the prefix-state cache."""
        self._prepare(check_sequence(x, name="x", lengths=lengths, padding=padding))
        return list(self._prepared[1])

    @property
    def output_names(self) -> list[str] | None:
        """Names of the explained outputs; None until a sequence was seen (:meth:`prepare`)."""
        return None if self._prepared is None else list(self._prepared[1])

    def _prepare(self, seq: np.ndarray, keep_states: bool = False) -> None:
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
                output_names=self._output_names_arg,
            )
            use_states = isinstance(model, RecurrentModel) and self.recurrent is not False
            if use_states and per_step and self.time_step not in (None, -1):
                use_states = False  # a step other than the last: whole inputs on the plain path
            if use_states:
                model = PrefixCache(model)
            self._prepared = (model, out_names, use_states)
        if isinstance(self._prepared[0], PrefixCache) and not keep_states:
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

        def run(level: str, **spec: Any) -> Explanation:
            players, extra = self._level_players(seq, level, n_pruned, feature_groups, **spec)
            return self._level(seq, bg, players, rng, {**meta, **extra})

        if need_event:
            results["event"] = run("event")
        if need_feature:
            results["feature"] = run("feature")
        if "cell" in levels:
            top_ev = _top(results["event"], opts["top_events"], opts["event_threshold"])
            top_ft = _top(results["feature"], opts["top_features"], opts["feature_threshold"])
            top_back = [int(name.split("-")[1]) for name in top_ev]
            results["cell"] = run("cell", top_events=top_back, top_features=top_ft)
        if "window" in levels:
            results["window"] = run("window", window=opts["window"])
        for name in levels:
            setattr(out, name, results[name])
        return out

    def _level_players(
        self,
        seq: np.ndarray,
        level: str,
        n_pruned: int,
        feature_groups: Mapping[str, Sequence] | None,
        *,
        top_events: list[int] | None = None,
        top_features: list[str] | None = None,
        window: int | None = None,
    ) -> tuple[Players, dict[str, Any]]:
        """The players of ``level`` (checked arguments) and the meta that rebuilds them:
        ``level``, ``feature_groups`` (``{name: [columns]}`` or None), ``top_events`` (steps
        back), ``top_features`` (feature or group names) and ``window``, where they apply."""
        t_len, d = seq.shape
        extra: dict[str, Any] = {"level": level}
        if level in ("feature", "cell"):
            groups = resolve_groups(self.feature_names, feature_groups)
            extra["feature_groups"] = (
                None if feature_groups is None else {name: list(cols) for name, cols in groups}
            )
        if level == "event":
            return event_players(t_len, d, n_pruned), extra
        if level == "feature":
            return feature_players(t_len, self.feature_names, n_pruned, feature_groups), extra
        if level == "cell":
            by_name = dict(groups)
            top_groups = [(name, by_name[name]) for name in top_features]
            extra["top_events"] = [int(b) for b in top_events]
            extra["top_features"] = [str(name) for name in top_features]
            players = cell_players(t_len, self.feature_names, top_events, top_groups, n_pruned)
            return players, extra
        extra["window"] = int(window)
        return window_players(t_len, d, window, n_pruned), extra

    def _level(
        self,
        seq,
        bg,
        players: Players,
        rng,
        meta,
        *,
        method: str | None = None,
        budget: int | None = None,
        seed: Any = None,
    ) -> Explanation:
        """Estimate one level; ``method``/``budget``/``seed`` default to the explainer's
        (``seed`` is only recorded: ``rng`` draws)."""
        game = self._game(seq, bg, players)
        method = self.method if method is None else method
        budget = self._budget_for(players.n_players) if budget is None else budget
        seed = self.seed if seed is None else seed
        est = estimate(game, method, budget, seed=rng)
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
            budget=budget,
            seed=seed if isinstance(seed, int) else None,
            link=self.link_name,
            n_model_rows=[game.n_model_rows],
            meta=level_meta,
        )

    # ------------------------------------------------------------------ one level, public
    def game(
        self,
        x: Any,
        level: str | None = None,
        *,
        players: Players | None = None,
        pruned_index: int | None = None,
        top_events: Sequence[int | str] | None = None,
        top_features: Sequence[int | str] | None = None,
        feature_groups: Mapping[str, Sequence] | None = None,
        window: int | None = None,
        lengths: Any = None,
        padding: str = "post",
        reuse_states: bool = False,
    ) -> MaskedGame:
        """The game whose players are those of ``level`` for sequence ``x``: the value function
        :meth:`explain` estimates (same players, order, baseline, link and path).

        Returns a :class:`~seqshap.games.MaskedGame`, or a
        :class:`~seqshap.games.recurrent.RecurrentMaskedGame` on the prefix-state path; value
        it with :func:`seqshap.estimators.estimate` or any ``Game`` consumer.

        Parameters
        ----------
        level : "event", "feature", "cell" or "window"; or None with ``players``.
        players : a :class:`~seqshap.sequence.Players` of your own (masks ``(M, T, d)``)
            instead of a level; the other level options must then be left out.
        pruned_index : ``-k`` keeps the last ``k`` events as players and the ones before form
            ``"Pruned Events"``; None prunes nothing.
        top_events, top_features : cell level only: the events (steps back, 1 = the most
            recent, or labels ``"Event -i"``) and features (names, or with ``feature_groups``
            group names; or indices into them) given their own cells, in this order.
        feature_groups : ``{name: [features]}`` players at feature and cell level.
        window : window level only: events per window.
        lengths, padding : as in :meth:`explain`.
        reuse_states : keep the prefix states cached by earlier calls (pruning, other levels of
            the same sequence) instead of starting afresh: fewer model steps, values equal up
            to float rounding. Only while the model is unchanged.
        """
        seq = check_sequence(x, name="x", lengths=lengths, padding=padding)
        self._prepare(seq, keep_states=_check_bool(reuse_states, "reuse_states"))
        players, _ = self._resolve_level(
            seq, level, players, pruned_index, top_events, top_features, feature_groups, window
        )
        return self._game(seq, self._background_for(seq), players)

    def game_for(
        self,
        x: Any,
        explanation: Explanation,
        *,
        lengths: Any = None,
        padding: str = "post",
        reuse_states: bool = False,
    ) -> MaskedGame:
        """The game that produced ``explanation`` (one level of :meth:`explain` or
        :meth:`explain_level` for sequence ``x``), rebuilt from what its ``meta`` records
        (``pruned_index``, ``top_events``, ``top_features``, ``feature_groups``, ``window``).

        Estimating it again (e.g. ``estimate(game, "exact", 2**game.n_players)``) gives the
        explanation's values (exactly, where those were exact). Raises ``ValueError`` when
        ``x`` is not the sequence that was explained.
        """
        if not isinstance(explanation, Explanation):
            raise TypeError(
                "explanation must be a seqshap Explanation (one level of explain()); received "
                f"{type(explanation).__name__}."
            )
        level, meta = explanation.level, explanation.meta
        if level not in LEVELS:
            raise ValueError(
                f"explanation.level must be one of {list(LEVELS)} to rebuild its game; received "
                f"{level!r}."
            )
        if meta.get("custom_players"):
            raise ValueError(
                "explanation was computed for players=... of your own, which its meta does not "
                "record; rebuild the game with game(x, players=<the same Players>)."
            )
        needed = {"cell": ("top_events", "top_features"), "window": ("window",)}.get(level, ())
        missing = [key for key in needed if meta.get(key) is None]
        if missing:
            raise ValueError(
                f"the {level} players cannot be rebuilt: explanation.meta lacks {missing} (explain "
                "records them; this explanation predates that or was built elsewhere). Explain x "
                "again, or build the game from the players' masks: game(x, players=Players(names, "
                "masks, level))."
            )
        seq = check_sequence(x, name="x", lengths=lengths, padding=padding)
        length = meta.get("length")
        if length is not None and int(length) != len(seq):
            raise ValueError(
                f"the explanation's players do not match x: it explains a sequence of {length} "
                f"events and x has {len(seq)}; pass the sequence that was explained."
            )
        spec: dict[str, Any] = {}
        if level == "cell":
            spec = {"top_events": meta["top_events"], "top_features": meta["top_features"]}
        elif level == "window":
            spec = {"window": meta["window"]}
        game = self.game(
            seq,
            level,
            pruned_index=meta.get("pruned_index"),
            feature_groups=meta.get("feature_groups") if level in ("feature", "cell") else None,
            reuse_states=reuse_states,
            **spec,
        )
        if list(game.player_names) != list(explanation.player_names):
            raise ValueError(
                f"the {level} players rebuilt for x ({game.n_players}: {game.player_names[:3]}…) "
                f"do not match the explanation's ({explanation.n_players}: "
                f"{explanation.player_names[:3]}…); pass the sequence and explainer (feature "
                "names) that produced it."
            )
        return game

    def explain_level(
        self,
        x: Any,
        level: str | None = None,
        *,
        players: Players | None = None,
        budget: int | None = None,
        seed: Any = None,
        method: str | None = None,
        pruned_index: int | None = None,
        top_events: Sequence[int | str] | None = None,
        top_features: Sequence[int | str] | None = None,
        feature_groups: Mapping[str, Sequence] | None = None,
        window: int | None = None,
        lengths: Any = None,
        padding: str = "post",
        entity: Any = None,
        reuse_states: bool = False,
    ) -> Explanation:
        """Explain one level of ``x`` with the players of :meth:`game` (same arguments) and a
        per-call ``budget``, ``seed`` and ``method`` (None: the explainer's own).

        Unlike :meth:`explain`, nothing is searched: the pruned index and, at cell level, the
        top events and features are given. With the explainer's seed, the values equal those of
        ``explain(x, levels=(level,), pruned_index=...)`` for event and window levels (and for
        every exact level). The result's ``meta`` lets :meth:`game_for` rebuild the game.
        """
        if method is not None and method not in METHODS:
            raise ValueError(f"method must be one of {list(METHODS)}; received {method!r}.")
        if budget is not None:
            budget = check_budget(budget)
        rng = check_random_state(self.seed if seed is None else seed)
        seq = check_sequence(x, name="x", lengths=lengths, padding=padding)
        self._prepare(seq, keep_states=_check_bool(reuse_states, "reuse_states"))
        players, extra = self._resolve_level(
            seq, level, players, pruned_index, top_events, top_features, feature_groups, window
        )
        meta = {
            "pruned_index": None if pruned_index is None else int(pruned_index),
            "pruning_tol": None,
            "length": len(seq),
            "entity": None if entity is None else str(entity),
            **extra,
        }
        return self._level(
            seq,
            self._background_for(seq),
            players,
            rng,
            meta,
            method=method,
            budget=budget,
            seed=self.seed if seed is None else seed,
        )

    def _resolve_level(
        self, seq, level, players, pruned_index, top_events, top_features, feature_groups, window
    ) -> tuple[Players, dict[str, Any]]:
        """Check the arguments of :meth:`game` / :meth:`explain_level` and build the players."""
        t_len, d = seq.shape
        if players is not None:
            if not isinstance(players, Players):
                raise TypeError(
                    "players must be a seqshap.sequence.Players (names, masks (M, T, d), level); "
                    f"received {type(players).__name__}."
                )
            given = {
                "pruned_index": pruned_index,
                "top_events": top_events,
                "top_features": top_features,
                "feature_groups": feature_groups,
                "window": window,
            }
            extra_args = [key for key, val in given.items() if val is not None]
            if extra_args:
                raise ValueError(
                    f"players defines the players itself; leave out {extra_args} (they build "
                    "the players of a level)."
                )
            if level is not None and level != players.level:
                raise ValueError(
                    f"level is {level!r} but players.level is {players.level!r}; pass one of them."
                )
            masks = np.asarray(players.masks)
            if masks.dtype != bool or masks.shape != (players.n_players, t_len, d):
                raise ValueError(
                    f"players.masks must be a boolean array ({players.n_players}, {t_len}, {d}) "
                    f"(one mask per name, over x's cells); received {masks.dtype} array of "
                    f"shape {masks.shape}."
                )
            return players, {"level": players.level, "custom_players": True}
        if level not in LEVELS:
            raise ValueError(
                f"level must be one of {list(LEVELS)} (or give players=...); received {level!r}."
            )
        n_pruned = 0
        if pruned_index is not None:
            pruned_index = check_int(pruned_index, name="pruned_index")
            if not -t_len <= pruned_index <= -1:
                raise ValueError(
                    f"pruned_index must lie in [-{t_len}, -1] (keep the last k events) or be "
                    f"None (no pruning); received {pruned_index}."
                )
            n_pruned = t_len + pruned_index
        for name, val, where in (
            ("top_events", top_events, "cell"),
            ("top_features", top_features, "cell"),
            ("window", window, "window"),
        ):
            if val is not None and level != where:
                raise ValueError(
                    f"{name} is used at {where} level only; received {name}={val!r} with "
                    f"level={level!r}. Leave it out."
                )
        groups = resolve_groups(self.feature_names, feature_groups)  # validates feature_groups
        spec: dict[str, Any] = {}
        if level == "cell":
            spec["top_events"] = _check_top_events(top_events, t_len - n_pruned)
            spec["top_features"] = _check_top_features(top_features, groups, feature_groups)
        elif level == "window":
            if window is None:
                raise ValueError("level='window' needs window=<events per window>, e.g. 10.")
            spec["window"] = check_int(window, name="window", minimum=1)
        return self._level_players(seq, level, n_pruned, feature_groups, **spec)

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


def _check_bool(value: Any, name: str) -> bool:
    if not isinstance(value, bool | np.bool_):
        raise TypeError(f"{name} must be True or False; received {value!r}.")
    return bool(value)


def _check_top_events(top_events: Any, kept: int) -> list[int]:
    """Cell-level events as steps back (1 = the most recent), from ints or ``"Event -i"``."""
    if top_events is None:
        raise ValueError(
            "level='cell' needs top_events, the events given their own cells: steps back "
            "(e.g. [1, 3]) or labels (['Event -1', 'Event -3']). For the top-k events by value, "
            "use explain(x, levels=('cell',), top_events=k)."
        )
    if isinstance(top_events, str) or np.ndim(top_events) != 1:
        raise TypeError(
            "top_events must be a list of events (steps back such as [1, 3], or labels such as "
            f"['Event -1']); received {top_events!r}. For the top-k events by value, use "
            "explain(x, levels=('cell',), top_events=k)."
        )
    backs: list[int] = []
    for ev in top_events:
        if isinstance(ev, str):
            head, _, num = ev.partition("Event -")
            if head or not num.isdigit():
                raise ValueError(
                    f"top_events holds {ev!r}, which is not an event label like 'Event -1'."
                )
            back = int(num)
        elif isinstance(ev, int | np.integer) and not isinstance(ev, bool):
            back = int(ev)
        else:
            raise TypeError(
                f"top_events must hold steps back (ints >= 1) or 'Event -i' labels; received "
                f"{ev!r}."
            )
        if not 1 <= back <= kept:
            raise ValueError(
                f"top_events holds event -{back}, outside the {kept} unpruned events (steps back "
                f"1..{kept}); pick events after the pruned index."
            )
        if back in backs:
            raise ValueError(f"top_events names event -{back} twice; give each event once.")
        backs.append(back)
    return backs


def _check_top_features(
    top_features: Any, groups: list[tuple[str, list[int]]], feature_groups: Any
) -> list[str]:
    """Cell-level features (or groups) as names, from names or indices into the groups."""
    kind = "feature group" if feature_groups is not None else "feature"
    names = [name for name, _ in groups]
    if top_features is None:
        raise ValueError(
            f"level='cell' needs top_features, the {kind}s given their own cells: names from "
            f"{names} or their indices. For the top-k by value, use explain(x, levels=('cell',), "
            "top_features=k)."
        )
    if isinstance(top_features, str) or np.ndim(top_features) != 1:
        raise TypeError(
            f"top_features must be a list of {kind} names or indices (e.g. [{names[0]!r}]); "
            f"received {top_features!r}. For the top-k by value, use explain(x, "
            "levels=('cell',), top_features=k)."
        )
    out: list[str] = []
    for ft in top_features:
        if isinstance(ft, str):
            if ft not in names:
                raise ValueError(
                    f"top_features names {ft!r}, which is not one of the {kind}s {names}."
                )
            name = ft
        elif isinstance(ft, int | np.integer) and not isinstance(ft, bool):
            if not 0 <= int(ft) < len(names):
                raise ValueError(
                    f"top_features index {int(ft)} is out of range for {len(names)} {kind}s."
                )
            name = names[int(ft)]
        else:
            raise TypeError(f"top_features must hold {kind} names or indices; received {ft!r}.")
        if name in out:
            raise ValueError(f"top_features names {name!r} twice; give each {kind} once.")
        out.append(name)
    return out
