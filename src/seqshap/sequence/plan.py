"""``SequencePlan``: everything one configuration needs to explain sequences, checked once.

The pipeline of a sequence explanation reads top to bottom:

    plan → players → game → estimate → Explanation

A plan holds the user's model and its prepared form (adapted, probed, output/time-step
selected, wrapped in a prefix-state cache when the model exposes its hidden state), the
background (:class:`~seqshap.sequence.baselines.Background`), the feature names, the link and
the estimator settings (method, budget, seed, batch size). Given a sequence it returns the
background for it (:meth:`SequencePlan.background_for`), the pruning
(:meth:`SequencePlan.prune`), the players of a level (:meth:`SequencePlan.players`), their
game (:meth:`SequencePlan.game`), one level's estimate (:meth:`SequencePlan.estimate`) and all
requested levels (:meth:`SequencePlan.explain_sequence`).

:class:`~seqshap.sequence.SequenceExplainer` (one sequence, user-facing options) and the global
runs (a loop over sequences, :func:`seqshap.runner.explain_many`) both work through this
public interface; neither reaches into the other. A plan is prepared once (the first sequence
it sees fixes the input width); :meth:`SequencePlan.copy` gives an independent plan and
:meth:`SequencePlan.with_model` one whose prepared model is replaced (e.g. by a proxy that packs
the calls of many sequences into shared batches).
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from .._validation import (
    Budget,
    Integer,
    OneOf,
    Seed,
    Tolerance,
    check_int,
    check_names,
    check_output_names,
    check_tol,
    check_unique_names,
    frame_names,
    is_frame,
    select_columns,
    validate,
)
from ..estimators import METHODS, default_budget, estimate
from ..estimators.owen import owen_values
from ..explanation import Explanation, explanation_from_estimates
from ..games import MaskedGame
from ..games.recurrent import DEFAULT_CALL_COST, RecurrentMaskedGame
from ..links import get_link
from ..models import Model, PrefixCache, RecurrentModel
from ..models._state import PLAIN, PREFIX_STATE, ModelInfo, model_info
from .baselines import Background, background_for
from .model import prepare_model
from .players import (
    PRUNED,
    Players,
    cell_players,
    event_players,
    feature_players,
    resolve_groups,
    time_hierarchy,
    window_players,
)
from .pruning import PruningResult, compute_pruning

LEVELS = ("event", "feature", "cell", "window")
#: with budget=None, levels of up to this many players are enumerated exactly
EXACT_DEFAULT_PLAYERS = 16
#: with method="auto", event levels with more kept events than this are explained in levels
#: over time: Owen values over contiguous blocks of events (:func:`time_hierarchy`,
#: :func:`~seqshap.estimators.owen.owen_blocks`)
HIERARCHY_MIN_EVENTS = 32
#: the hierarchical event level stops once max SE ≤ this × the spread of the event values ...
HIERARCHY_TOL = 0.01
#: ... or once every block has had this many sampled orderings (its default budget)
HIERARCHY_MAX_SAMPLES = 64

#: the arguments of a plan (SequenceExplainer's constructor), each checked once by validate
PLAN_CONSTRAINTS = {
    "method": OneOf(*METHODS),
    "order": OneOf(3, 1),
    "budget": Budget(),
    "tol": Tolerance(),
    "seed": Seed(),
    "batch_size": Integer(1),
    "call_cost": Integer(0),
    "recurrent": OneOf(None, True, False, error=TypeError),
    "time_step": Integer(none=True),
}
#: the options of one explanation (explain, explain_global, explain_many)
OPTION_CONSTRAINTS = {
    "pruning_tol": Tolerance(),
    "top_events": Integer(0, none=True),
    "top_features": Integer(0, none=True),
    "event_threshold": Tolerance(),
    "feature_threshold": Tolerance(),
    "window": Integer(1, none=True),
}


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
        from .._report._repr import local_html

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


@dataclass(frozen=True)
class ExplainOptions:
    """What :meth:`SequencePlan.explain_sequence` computes for one sequence (checked values).

    ``levels`` (a subset of :data:`LEVELS`), ``tol`` (pruning tolerance, None: no pruning),
    ``top_events``/``top_features`` (how many events/features get their own cells at cell
    level: the largest ``|value|``; None: all), ``event_threshold``/``feature_threshold``
    (only those at or above), ``window`` (events per window), ``full_curve`` (pruning over
    every split), ``curve_grid`` (without ``full_curve``: a coarse display curve beyond the
    search, linear in ``T``), ``pruned_index`` (a fixed split instead of a search), ``feature_groups``.
    """

    levels: tuple[str, ...] = ("event", "feature", "cell")
    tol: float | None = 0.025
    top_events: int | None = 2
    top_features: int | None = 2
    event_threshold: float | None = None
    feature_threshold: float | None = None
    window: int | None = None
    full_curve: bool = True
    curve_grid: bool = False
    pruned_index: int | None = None
    feature_groups: Mapping[str, Sequence] | None = None


def check_options(
    levels: Any = ("event", "feature", "cell"),
    pruning_tol: Any = 0.025,
    top_events: Any = 2,
    top_features: Any = 2,
    event_threshold: Any = None,
    feature_threshold: Any = None,
    window: Any = None,
    *,
    full_curve: Any = True,
    curve_grid: bool = False,
    feature_groups: Mapping[str, Sequence] | None = None,
) -> ExplainOptions:
    """The user's options as :class:`ExplainOptions`, each checked once (errors name them)."""
    if isinstance(levels, str):
        levels = (levels,)
    levels = tuple(levels)
    unknown = [lv for lv in levels if lv not in LEVELS]
    if unknown or not levels:
        raise ValueError(
            f"levels must be a non-empty subset of {list(LEVELS)}; received {list(levels)}."
        )
    args = validate(
        {
            "pruning_tol": pruning_tol,
            "top_events": top_events,
            "top_features": top_features,
            "event_threshold": event_threshold,
            "feature_threshold": feature_threshold,
            "window": window,
        },
        OPTION_CONSTRAINTS,
    )
    if args["window"] is not None:
        if "window" not in levels:
            levels = (*levels, "window")
    elif "window" in levels:
        raise ValueError("levels includes 'window': give window=<events per window>, e.g. 10.")
    return ExplainOptions(
        levels=levels,
        tol=args["pruning_tol"],
        top_events=args["top_events"],
        top_features=args["top_features"],
        event_threshold=args["event_threshold"],
        feature_threshold=args["feature_threshold"],
        window=args["window"],
        full_curve=bool(full_curve),
        curve_grid=bool(curve_grid),
        feature_groups=None if feature_groups is None else dict(feature_groups),
    )


def check_pruned_index(pruned_index: Any, length: int) -> int | None:
    """A fixed split ``-k`` (keep the last ``k`` of ``length`` events) or None."""
    if pruned_index is None:
        return None
    pruned_index = check_int(pruned_index, name="pruned_index")
    if not -length <= pruned_index <= -1:
        raise ValueError(
            f"pruned_index must lie in [-{length}, -1] (keep the last k events) or be None (no "
            f"pruning); received {pruned_index}."
        )
    return pruned_index


def check_tolerances(pruning_tol: Any) -> tuple[float | None, ...]:
    """``pruning_tol`` of a global run: a tolerance, several (distinct, in the given order), or
    None (no pruning)."""
    if pruning_tol is None or np.isscalar(pruning_tol):
        return (check_tol(pruning_tol, name="pruning_tol"),)
    tols = [check_tol(t, name="pruning_tol", allow_none=False) for t in pruning_tol]
    if not tols:
        raise ValueError("pruning_tol must be a number, a non-empty list of numbers, or None.")
    return tuple(dict.fromkeys(tols))


def sequence_rng(entropy: int, entity: str, n_pruned: int) -> np.random.Generator:
    """The one seeding rule of sequence explanations in a global run: the generator of one
    sequence's estimations, from the run's ``entropy`` (the seed), the entity id (as a string)
    and the number of pruned events. It does not depend on the sequence's position, the chunk,
    the worker or the other tolerances."""
    digest = hashlib.blake2b(entity.encode("utf-8"), digest_size=16).digest()
    words = tuple(int.from_bytes(digest[i : i + 4], "little") for i in range(0, 16, 4))
    return np.random.default_rng(np.random.SeedSequence(entropy, spawn_key=(*words, n_pruned)))


class SequencePlan:
    """Model, background and estimator settings for explaining sequences (see module docs).

    Parameters are those of :class:`~seqshap.sequence.SequenceExplainer` (checked here), with
    ``background`` a resolved :class:`~seqshap.sequence.baselines.Background`.

    Attributes set by :meth:`prepare` (None before): ``model`` (the prepared model),
    ``output_names``, ``uses_hidden_states`` (the prefix-state path is used).
    """

    def __init__(
        self,
        model: Any,
        background: Background,
        *,
        feature_names: Sequence[str] | None = None,
        link: str = "identity",
        output: Any = None,
        output_names: Sequence[str] | None = None,
        time_step: int | None = None,
        method: str = "auto",
        order: int = 3,
        budget: int | str | None = None,
        tol: float | None = None,
        seed: Any = 0,
        batch_size: int = 1024,
        recurrent: bool | None = None,
        call_cost: int = DEFAULT_CALL_COST,
    ) -> None:
        args = validate(
            {
                "method": method,
                "order": order,
                "budget": budget,
                "tol": tol,
                "seed": seed,
                "batch_size": batch_size,
                "call_cost": call_cost,
                "recurrent": recurrent,
                "time_step": time_step,
            },
            PLAN_CONSTRAINTS,
        )
        self.method, self.budget, self.tol, self.seed = (
            args["method"],
            args["budget"],
            args["tol"],
            args["seed"],
        )
        #: the kernel estimator's fit (``method`` "auto" or "kernel"): 3 or 1
        self.order = args["order"]
        self.batch_size, self.call_cost = args["batch_size"], args["call_cost"]
        self.recurrent, self.time_step = args["recurrent"], args["time_step"]
        self.link_name, self.link = get_link(link)
        self.output = output
        #: names of all the model's outputs as given (None: the model's own, else "output i")
        self.given_output_names = check_output_names(output_names)
        self.user_model = model
        if not isinstance(background, Background):
            raise TypeError(
                "background must be a seqshap.sequence.baselines.Background (resolve_baseline "
                f"builds one); received {type(background).__name__}."
            )
        self.background = background
        names = None
        if feature_names is not None:
            names = check_unique_names(list(feature_names), name="feature_names")
        #: True when the feature names are known (given, or from a DataFrame): DataFrame
        #: inputs are then matched to them by column name, never by position (:meth:`by_name`)
        self.named = names is not None
        d = background.data.shape[2]
        self.n_features: int | None = d if d > 0 else (len(names) if names else None)
        if names is not None and self.n_features is not None and len(names) != self.n_features:
            raise ValueError(
                f"feature_names must have {self.n_features} entries (the baseline's width); "
                f"received {len(names)}."
            )
        self.feature_names = names
        self.model: Model | None = None
        self.output_names: list[str] | None = None
        self.uses_hidden_states = False

    def by_name(self, x: Any, name: str = "x") -> Any:
        """A wide DataFrame ``x`` (a sequence, one row per event) with its columns matched to
        the feature names by name; other input as it is. Without known names, a DataFrame with
        named columns gives them (and later frames are matched to those)."""
        if not is_frame(x):
            return x
        if self.named:
            return select_columns(x, self.feature_names, name=name)
        if self.feature_names is None:
            names = frame_names(x)
            if names is not None and (self.n_features is None or len(names) == self.n_features):
                self.feature_names, self.named = names, True
        return x

    # ------------------------------------------------------------------ copies
    def copy(self) -> SequencePlan:
        """An independent plan (its preparation and names do not change this one; the
        prepared model and its cache are shared until either prepares anew)."""
        return copy.copy(self)

    def with_estimation(self, budget: Any = None, tol: Any = None) -> SequencePlan:
        """This plan, or a copy with another ``budget`` and/or ``tol`` (None keeps the plan's
        own): the per-call settings of ``explain``, ``explain_level`` and ``explain_many``."""
        args = validate({"budget": budget, "tol": tol}, PLAN_CONSTRAINTS)
        budget, tol = args["budget"], args["tol"]
        if budget is None and tol is None:
            return self
        out = copy.copy(self)
        if budget is not None:
            out.budget = budget
        if tol is not None:
            out.tol = tol
        return out

    def with_model(self, model: Model) -> SequencePlan:
        """A prepared copy that calls ``model`` instead (same outputs and path), e.g. a proxy
        of :class:`seqshap.models.SharedBatcher`."""
        if self.model is None:
            raise ValueError("prepare the plan on a sequence before replacing its model.")
        out = copy.copy(self)
        out.model = model
        return out

    # ------------------------------------------------------------------ setup
    @property
    def prepared(self) -> bool:
        return self.model is not None

    def prepare(self, seq: np.ndarray, *, keep_states: bool = False) -> None:
        """Check the width of ``seq`` (a checked ``(T, d)`` array), adapt and probe the model
        on it the first time, and clear the prefix-state cache unless ``keep_states``."""
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
        if self.model is None:
            model, out_names, per_step = prepare_model(
                self.user_model,
                seq[None],
                recurrent=self.recurrent,
                time_step=self.time_step,
                output=self.output,
                check_rows=self._check_rows(seq),
                output_names=self.given_output_names,
            )
            use_states = isinstance(model, RecurrentModel) and self.recurrent is not False
            if use_states and per_step and self.time_step not in (None, -1):
                use_states = False  # a step other than the last: whole inputs on the plain path
            if use_states:
                model = PrefixCache(model)
            self.model, self.output_names, self.uses_hidden_states = model, out_names, use_states
        if not keep_states:
            self.clear_states()  # one sequence at a time: never reuse across model changes

    def _check_rows(self, seq: np.ndarray) -> np.ndarray | None:
        """Background rows for the model's split check (None when they do not fit ``seq``)."""
        try:
            return self.background_for(seq).data[:7]
        except ValueError:
            return None

    @property
    def model_info(self) -> ModelInfo | None:
        """Which path the model is on (``"prefix-state"`` or ``"plain"``), how its states are
        reached and why; None before :meth:`prepare`."""
        if self.model is None:
            return None
        info = model_info(self.model)
        if info.path == PREFIX_STATE and not self.uses_hidden_states:
            why = "recurrent=False" if self.recurrent is False else f"time_step={self.time_step}"
            return ModelInfo(PLAIN, info.access, f"{why} was asked for.", info.detail)
        return info

    def clear_states(self) -> None:
        """Forget the cached prefix states (a no-op on the plain path)."""
        clear = getattr(self.model, "clear", None)
        if callable(clear):
            clear()

    def background_for(self, seq: np.ndarray) -> Background:
        """The background rows (and weights) aligned with ``seq``'s length."""
        return background_for(self.background, len(seq), seq.shape[1])

    def budget_for(self, n_players: int) -> int | str:
        """The plan's budget (an int or ``"auto"``), or by default exact up to
        :data:`EXACT_DEFAULT_PLAYERS` players and the estimators' default budget beyond."""
        if self.budget is not None:
            return self.budget
        exact = 2**n_players if n_players <= EXACT_DEFAULT_PLAYERS else 0
        return max(default_budget(n_players), exact)

    def level_budget(self, players: Players, hierarchy: list | None) -> int | str:
        """The budget of one level when none is given per call: :meth:`budget_for` its
        players on a flat level; the plan's budget (None: ``"auto"``) on a hierarchical one.
        A subclass may give another rule (the TimeSHAP façade derives it from ``nsamples``)."""
        if hierarchy is None:
            return self.budget_for(players.n_players)
        return self.budget if self.budget is not None else "auto"

    # ------------------------------------------------------------------ pruning
    def prune(
        self,
        seq: np.ndarray,
        tol: float | None,
        *,
        full_curve: bool = True,
        grid: bool = False,
        counter: dict[str, int] | None = None,
    ) -> PruningResult:
        """Temporal coalition pruning of ``seq`` (see :mod:`seqshap.sequence.pruning`)."""
        bg = self.background_for(seq)
        return compute_pruning(
            self.model,
            seq,
            bg.data,
            bg.weights,
            self.link,
            tol,
            output_names=self.output_names,
            batch_size=self.batch_size,
            recurrent=self.uses_hidden_states,
            full_curve=full_curve,
            grid=grid,
            counter=counter,
        )

    # ------------------------------------------------------------------ players and games
    def players(
        self,
        seq: np.ndarray,
        level: str,
        n_pruned: int,
        feature_groups: Mapping[str, Sequence] | None = None,
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

    def game(self, seq: np.ndarray, players: Players, bg: Background | None = None) -> MaskedGame:
        """The game of ``players`` for ``seq``: a :class:`~seqshap.games.MaskedGame`, or a
        :class:`~seqshap.games.recurrent.RecurrentMaskedGame` on the prefix-state path."""
        bg = self.background_for(seq) if bg is None else bg
        kwargs = dict(
            weights=bg.weights,
            link=self.link_name,
            batch_size=self.batch_size,
            player_names=players.names,
            output_names=self.output_names,
        )
        if self.uses_hidden_states:
            return RecurrentMaskedGame(
                self.model, seq, bg.data, players.masks, call_cost=self.call_cost, **kwargs
            )
        return MaskedGame(self.model, seq, bg.data, players.masks, **kwargs)

    # ------------------------------------------------------------------ estimation
    def estimate(
        self,
        seq: np.ndarray,
        players: Players,
        rng: np.random.Generator,
        meta: dict[str, Any],
        *,
        bg: Background | None = None,
        method: str | None = None,
        budget: int | str | None = None,
        seed: Any = None,
    ) -> Explanation:
        """Estimate one level; ``method``/``budget``/``seed`` default to the plan's (``seed``
        is only recorded: ``rng`` draws), ``tol`` is the plan's (:meth:`with_estimation`)."""
        game = self.game(seq, players, bg)
        method = self.method if method is None else method
        seed = self.seed if seed is None else seed
        hierarchy = self.time_hierarchy(players, method)
        level_meta = dict(meta)
        budget = self.level_budget(players, hierarchy) if budget is None else budget
        if hierarchy is None:
            kernel_options = {"order": self.order} if method in ("auto", "kernel") else {}
            est = estimate(game, method, budget, seed=rng, tol=self.tol, **kernel_options)
        else:
            if budget == "auto":
                budget = hierarchy_budget(hierarchy)
            tol = HIERARCHY_TOL if self.tol is None else self.tol
            # a coalition that first differs at an event b steps back costs b steps on the
            # prefix tree; the same costs on the plain path, so that both draw the same samples
            back = players.steps_back
            costs = np.array([len(seq) if s is None else s for s in back], dtype=float)
            est = owen_values(game, hierarchy, budget, rng, tol=tol, sampler="blocks", costs=costs)
            level_meta["time_blocks"] = [[back[b[0]], back[b[-1]]] for b in hierarchy]
            level_meta["converged"] = bool(est.extras.get("converged", est.exact))
            level_meta["block_samples"] = list(est.extras.get("samples", [0] * len(hierarchy)))
        if budget == "auto" or self.tol is not None:
            level_meta["budget_rule"] = {"budget": budget, "tol": self.tol}
        level_meta["steps_back"] = list(players.steps_back)
        level_meta["path"] = "recurrent" if isinstance(game, RecurrentMaskedGame) else "plain"
        level_meta["n_model_calls"] = int(game.n_model_calls)
        if isinstance(game, RecurrentMaskedGame):
            level_meta["n_steps"] = int(game.n_steps)
        return explanation_from_estimates(
            [est],
            player_names=players.names,
            output_names=game.output_names,
            level=players.level,
            budget=None if budget == "auto" else budget,
            seed=seed if isinstance(seed, int) else None,
            link=self.link_name,
            n_model_rows=[game.n_model_rows],
            meta=level_meta,
        )

    def time_hierarchy(self, players: Players, method: str) -> list | None:
        """Blocks of event players for a hierarchical event level (None: a flat level): with
        ``method="auto"`` and more than :data:`HIERARCHY_MIN_EVENTS` kept events."""
        if players.level != "event" or method != "auto":
            return None
        pruned = bool(players.names) and players.names[-1] == PRUNED
        n_events = players.n_players - int(pruned)
        if n_events <= HIERARCHY_MIN_EVENTS:
            return None
        return time_hierarchy(n_events, pruned=pruned)

    def explain_sequence(
        self,
        seq: np.ndarray,
        opts: ExplainOptions,
        rng: np.random.Generator,
        entity: Any = None,
        pruning: PruningResult | None = None,
    ) -> LocalExplanation:
        """Every level of ``opts`` for one prepared sequence. ``pruning``: a result already
        computed for ``seq`` at ``opts.tol`` (a global run computes the curve once and reuses
        it across tolerances); None computes it."""
        t_len = len(seq)
        bg = self.background_for(seq)
        n_pruned = 0
        if opts.tol is None:
            pruning = None
        elif pruning is None:
            pruning = self.prune(seq, opts.tol, full_curve=opts.full_curve, grid=opts.curve_grid)
        if pruning is not None:
            n_pruned = pruning.n_pruned
        fixed = opts.pruned_index
        if fixed is not None:
            n_pruned = t_len + fixed
        meta = {
            "pruned_index": fixed if pruning is None else pruning.pruned_index,
            "pruning_tol": opts.tol,
            "length": t_len,
            "entity": None if entity is None else str(entity),
        }
        out = LocalExplanation(pruning=pruning, entity=entity, length=t_len, meta=meta)
        levels = opts.levels
        results: dict[str, Explanation] = {}

        def run(level: str, **spec: Any) -> Explanation:
            players, extra = self.players(seq, level, n_pruned, opts.feature_groups, **spec)
            return self.estimate(seq, players, rng, {**meta, **extra}, bg=bg)

        if "event" in levels or "cell" in levels:
            results["event"] = run("event")
        if "feature" in levels or "cell" in levels:
            results["feature"] = run("feature")
        if "cell" in levels:
            top_ev = top_players(results["event"], opts.top_events, opts.event_threshold)
            top_ft = top_players(results["feature"], opts.top_features, opts.feature_threshold)
            back = dict(zip(results["event"].player_names, results["event"].meta["steps_back"]))
            results["cell"] = run("cell", top_events=[back[n] for n in top_ev], top_features=top_ft)
        if "window" in levels:
            results["window"] = run("window", window=opts.window)
        for name in levels:
            setattr(out, name, results[name])
        return out

    def explain_tolerances(
        self,
        seq: np.ndarray,
        entity: str,
        opts: ExplainOptions,
        tolerances: Sequence[float | None],
        entropy: int,
        *,
        keep_curve: bool = False,
        pruned_indexes: Mapping[float, int] | None = None,
    ) -> tuple[PruningResult | None, list[tuple[float | None, LocalExplanation]]]:
        """One sequence of a global run at every tolerance: ``(pruning, [(tol, local)])``.

        The sequence is pruned once, back to the pruned index of the smallest tolerance (or
        over every split with ``opts.full_curve``; ``keep_curve`` only keeps what was valued); every tolerance picks its
        index from that curve and each distinct pruned index is explained once, with the
        generator :func:`sequence_rng` ``(entropy, entity, pruned events)``.

        ``pruned_indexes``: a given pruned index (``-k``: keep the last ``k`` events) per
        tolerance instead of a search (e.g. TimeSHAP's pruning table); nothing is pruned here."""
        pruning = None
        tols = [tol for tol in tolerances if tol is not None]
        if pruned_indexes is not None:
            return None, self._explain_fixed(seq, entity, opts, tolerances, entropy, pruned_indexes)
        if tols:
            # the smallest tolerance prunes furthest back: its search answers every other one
            pruning = self.prune(seq, min(tols), full_curve=opts.full_curve)
        done: dict[int, LocalExplanation] = {}
        out = []
        for tol in tolerances:
            pr = None
            if tol is not None:
                pr = replace(pruning, pruned_index=pruning.index_for(tol), tol=tol)
            n_pruned = 0 if pr is None else pr.n_pruned
            if n_pruned not in done:
                rng = sequence_rng(entropy, entity, n_pruned)
                done[n_pruned] = self.explain_sequence(
                    seq, replace(opts, tol=tol), rng, entity, pruning=pr
                )
            out.append((tol, done[n_pruned]))
        return pruning, out

    def _explain_fixed(self, seq, entity, opts, tolerances, entropy, pruned_indexes):
        done: dict[int, LocalExplanation] = {}
        out = []
        for tol in tolerances:
            fixed = None if tol is None else check_pruned_index(pruned_indexes[tol], len(seq))
            n_pruned = 0 if fixed is None else len(seq) + fixed
            if n_pruned not in done:
                rng = sequence_rng(entropy, entity, n_pruned)
                fixed_opts = replace(opts, tol=None, pruned_index=fixed)
                done[n_pruned] = self.explain_sequence(seq, fixed_opts, rng, entity)
            out.append((tol, done[n_pruned]))
        return out


def hierarchy_budget(blocks: list) -> int:
    """The quotient game of the blocks plus :data:`HIERARCHY_MAX_SAMPLES` orderings a block."""
    return 2 ** len(blocks) + sum(HIERARCHY_MAX_SAMPLES * (len(b) - 1) for b in blocks)


def top_players(exp: Explanation, count: int | None, threshold: float | None) -> list[str]:
    """Names of the players (pruned player excluded) with the largest max-over-outputs |value|:
    the first ``count`` (None: all) of those at or above ``threshold`` (None: all)."""
    mag = np.abs(exp.values[0]).max(axis=1)
    order = [i for i in np.argsort(-mag, kind="stable") if exp.player_names[i] != PRUNED]
    if threshold is not None:
        order = [i for i in order if mag[i] >= threshold]
    if count is not None:
        order = order[:count]
    return [exp.player_names[i] for i in order]
