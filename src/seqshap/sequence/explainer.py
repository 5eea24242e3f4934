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

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from .._validation import (
    Flag,
    check_int,
    check_random_state,
    check_tol,
    frame_names,
    is_frame,
    validate,
)
from ..explanation import Explanation
from ..games import MaskedGame, SparseMasks
from ..games.recurrent import DEFAULT_CALL_COST
from ..models import DEFAULT_BATCH_MEMORY, ModelInfo
from ._gate import entity_key
from ._work import GLOBAL_CONSTRAINTS, ExecOptions, RunOptions
from .baselines import resolve_baseline
from .global_run import GlobalRun, run_in_memory
from .inputs import as_sequences, check_sequence
from .plan import (
    EXACT_DEFAULT_PLAYERS,
    LEVELS,
    PLAN_CONSTRAINTS,
    LocalExplanation,
    SequencePlan,
    check_options,
    check_pruned_index,
)
from .players import Players, resolve_groups
from .pruning import PruningResult

__all__ = ["EXACT_DEFAULT_PLAYERS", "LEVELS", "LocalExplanation", "SequenceExplainer"]


def _plan_attribute(name: str, doc: str) -> property:
    return property(lambda self: getattr(self.plan, name), doc=doc)


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
        ``EXACT_DEFAULT_PLAYERS`` players, else ``2M + 2048``; ``"auto"``: sample until
        ``tol`` is met), seed of a local generator.
    order : the kernel estimator's fit (``method`` ``"auto"`` or ``"kernel"``): 3 (default) adds
        odd third-order terms to the regression (fewer evaluations for the same error; see
        :mod:`seqshap.estimators.kernel`), 1 is paired linear KernelSHAP.
    tol : stopping rule of the sampled estimators: stop once the largest standard error of a
        level is at most ``tol`` times the spread of its values (per output); with
        ``budget="auto"`` the default is :data:`seqshap.estimators.AUTO_TOL`. ``budget`` and
        ``tol`` are the defaults of ``explain``, ``explain_level``, ``explain_global`` and
        ``explain_many``, which each take their own.
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
        output_names: Sequence[str] | None = None,
        time_step: int | None = None,
        method: str = "auto",
        order: int = 3,
        budget: int | str | None = None,
        tol: float | None = None,
        seed: int | None = 0,
        batch_size: int = 1024,
        recurrent: bool | None = None,
        call_cost: int = DEFAULT_CALL_COST,
    ) -> None:
        names = list(feature_names) if feature_names is not None else None
        if names is None and not isinstance(baseline, str):
            names = frame_names(baseline)  # a DataFrame/Series baseline names its features
        if names is None and is_frame(data):
            names = frame_names(data)  # events (N, d) as a DataFrame
        #: the checked configuration, background and prepared model (see SequencePlan)
        self.plan = SequencePlan(
            model,
            resolve_baseline(baseline, data, len(names) if names else None),
            feature_names=names,
            link=link,
            output=output,
            output_names=output_names,
            time_step=time_step,
            method=method,
            order=order,
            budget=budget,
            tol=tol,
            seed=seed,
            batch_size=batch_size,
            recurrent=recurrent,
            call_cost=call_cost,
        )

    model = _plan_attribute("user_model", "The model as given.")
    method = _plan_attribute("method", "The estimator.")
    order = _plan_attribute("order", "The kernel estimator's fit (3 or 1).")
    budget = _plan_attribute("budget", "Coalitions per level (None: the default rule).")
    tol = _plan_attribute("tol", "Stopping rule of the sampled estimators (None: the budget).")
    seed = _plan_attribute("seed", "Seed of the local generators.")
    batch_size = _plan_attribute("batch_size", "Most rows per model call.")
    call_cost = _plan_attribute("call_cost", "Cost of a model call in row-steps.")
    link_name = _plan_attribute("link_name", "The link (``identity`` or ``logit``).")
    recurrent = _plan_attribute("recurrent", "The prefix-state path setting.")
    time_step = _plan_attribute("time_step", "The explained step of per-step models.")
    output = _plan_attribute("output", "The explained outputs as given.")
    n_features = _plan_attribute("n_features", "Features per event (None until known).")
    feature_names = _plan_attribute("feature_names", "Feature names (None until known).")

    # ------------------------------------------------------------------ setup
    def prepare(self, x: Any, *, lengths: Any = None, padding: str = "post") -> list[str]:
        """Adapt and probe the model on sequence ``x`` (once per explainer) and check its width;
        returns the names of the explained outputs. Every other method does this itself; call
        it to check a model and data before long work. Clears the prefix-state cache."""
        self.plan.prepare(
            check_sequence(self.plan.by_name(x), name="x", lengths=lengths, padding=padding)
        )
        return list(self.plan.output_names)

    @property
    def output_names(self) -> list[str] | None:
        """Names of the explained outputs; None until a sequence was seen (:meth:`prepare`)."""
        names = self.plan.output_names
        return None if names is None else list(names)

    @property
    def model_info(self) -> ModelInfo | None:
        """Which path the model is on (``"prefix-state"`` or ``"plain"``), how its states are
        reached and why (:class:`seqshap.models.ModelInfo`); None until a sequence was seen
        (:meth:`prepare`)."""
        return self.plan.model_info

    @property
    def uses_hidden_states(self) -> bool:
        """True once a sequence was explained through the prefix-state path."""
        return bool(self.plan.prepared and self.plan.uses_hidden_states)

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
        seq = check_sequence(self.plan.by_name(x), name="x", lengths=lengths, padding=padding)
        tol = check_tol(tol, name="pruning_tol")
        self.plan.prepare(seq)
        return self.plan.prune(seq, tol, full_curve=full_curve)

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
        full_curve: bool = False,
        pruned_index: int | None = None,
        budget: int | str | None = None,
        tol: float | None = None,
    ) -> LocalExplanation:
        """Explain one sequence ``x`` (``(T, d)``, ``(1, T, d)``, or padded with ``lengths``).

        ``levels``: any of "event", "feature", "cell", "window". ``pruning_tol``: tolerance of
        temporal coalition pruning (None: no pruning). Cell level: the ``top_events`` events
        and ``top_features`` features with the largest ``|value|`` (max over outputs) in the
        event and feature levels, those at or above ``event_threshold``/``feature_threshold``
        when given. ``feature_groups``: ``{name: [features]}`` players at feature and cell
        level. ``window``: events per window at window level.

        Pruning, by default linear in ``T``: the pruned index is exact (a search from the most
        recent split back to it, see :meth:`prune`), and ``pruning`` holds those splits plus a
        coarse geometric grid beyond them for display (:func:`~seqshap.sequence.pruning.
        curve_grid`; ``pruning.complete`` is False). ``full_curve=True`` values every split
        (``≈ m T²`` recurrent row-steps: minutes at ``T = 20,000``). ``pruned_index``: a fixed
        split ``-k`` (keep the last ``k`` events) instead of a search; ``pruning_tol`` is then
        not used and ``pruning`` is None. ``budget`` (an int or ``"auto"``) and ``tol``
        (largest standard error ≤ ``tol`` × the spread of a level's values) for this call;
        None uses the explainer's.

        ``top_events``/``top_features`` mean the same in every method: here a count (the ``k``
        largest by value; None: all), in :meth:`game`/:meth:`explain_level` a list of the
        events and features themselves (there no values are computed to rank them by).
        """
        seq = check_sequence(self.plan.by_name(x), name="x", lengths=lengths, padding=padding)
        opts = check_options(
            levels,
            pruning_tol,
            top_events,
            top_features,
            event_threshold,
            feature_threshold,
            window,
            full_curve=full_curve,
            curve_grid=True,
            feature_groups=feature_groups,
        )
        pruned_index = check_pruned_index(pruned_index, len(seq))
        if pruned_index is not None:
            opts = replace(opts, tol=None, pruned_index=pruned_index)
        self.plan.prepare(seq)
        plan = self.plan.with_estimation(budget, tol)  # after preparing: shares the model
        resolve_groups(plan.feature_names, feature_groups)  # validate early
        rng = check_random_state(plan.seed)
        return plan.explain_sequence(seq, opts, rng, entity)

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
        seq = check_sequence(self.plan.by_name(x), name="x", lengths=lengths, padding=padding)
        self.plan.prepare(seq, keep_states=Flag()(reuse_states, "reuse_states"))
        players, _ = self._resolve_level(
            seq, level, players, pruned_index, top_events, top_features, feature_groups, window
        )
        return self.plan.game(seq, players)

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
        seq = check_sequence(self.plan.by_name(x), name="x", lengths=lengths, padding=padding)
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
        budget: int | str | None = None,
        tol: float | None = None,
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
        per-call ``budget`` (an int or ``"auto"``), ``tol``, ``seed`` and ``method`` (None: the
        explainer's own).

        Unlike :meth:`explain`, nothing is searched: the pruned index and, at cell level, the
        top events and features are given. With the explainer's seed, the values equal those of
        ``explain(x, levels=(level,), pruned_index=...)`` for event and window levels (and for
        every exact level). The result's ``meta`` lets :meth:`game_for` rebuild the game.
        """
        if method is not None:
            method = PLAN_CONSTRAINTS["method"](method, "method")
        self.plan.with_estimation(budget, tol)  # checks them before any work
        rng = check_random_state(self.seed if seed is None else seed)
        seq = check_sequence(self.plan.by_name(x), name="x", lengths=lengths, padding=padding)
        self.plan.prepare(seq, keep_states=Flag()(reuse_states, "reuse_states"))
        plan = self.plan.with_estimation(budget, tol)  # after preparing: shares the model
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
        return plan.estimate(
            seq, players, rng, meta, method=method, seed=self.seed if seed is None else seed
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
            masks = players.masks  # dense, or SparseMasks (checked without densifying)
            if not isinstance(masks, SparseMasks):
                masks = np.asarray(masks)
            if masks.dtype != bool or tuple(masks.shape) != (players.n_players, t_len, d):
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
        pruned_index = check_pruned_index(pruned_index, t_len)
        n_pruned = 0 if pruned_index is None else t_len + pruned_index
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
        groups = resolve_groups(self.plan.feature_names, feature_groups)  # validates feature_groups
        spec: dict[str, Any] = {}
        if level == "cell":
            spec["top_events"] = _check_top_events(top_events, t_len - n_pruned)
            spec["top_features"] = _check_top_features(top_features, groups, feature_groups)
        elif level == "window":
            if window is None:
                raise ValueError("level='window' needs window=<events per window>, e.g. 10.")
            spec["window"] = check_int(window, name="window", minimum=1)
        return self.plan.players(seq, level, n_pruned, feature_groups, **spec)

    # ------------------------------------------------------------------ global
    def explain_global(
        self,
        X: Any,
        lengths: Any = None,
        *,
        levels: Sequence[str] = ("event", "feature"),
        pruning_tol: float | Sequence[float] | None = 0.025,
        entity_ids: Sequence[Any] | None = None,
        labels: Sequence[Any] | None = None,
        entity_col: str | None = None,
        time_col: str | None = None,
        feature_cols: Sequence[str] | None = None,
        padding: str = "post",
        top_events: int | None = 2,
        top_features: int | None = 2,
        event_threshold: float | None = None,
        feature_threshold: float | None = None,
        feature_groups: Mapping[str, Sequence] | None = None,
        window: int | None = None,
        keep_curve: bool = False,
        full_curve: bool = False,
        concurrency: int = 1,
        chunk_size: int = 64,
        memory_budget: int = DEFAULT_BATCH_MEMORY,
        budget: int | str | None = None,
        tol: float | None = None,
    ) -> GlobalRun:
        """Explain many sequences: ``(n, T, d)`` (padded with ``lengths``), a list of
        ``(T_i, d)`` arrays, or a long DataFrame (``entity_col``, ``time_col``, features).

        This is :func:`seqshap.runner.explain_many` with ``out=None`` in this process: the
        same options (see there), the same work per chunk, the same result type
        (:class:`~seqshap.sequence.GlobalRun`) and, for the same seed, ``chunk_size`` and
        ``concurrency``, the same table. Sequence ``entity`` draws from the generator
        :func:`~seqshap.sequence.sequence_rng` ``(seed, entity id, pruned events)``, so values
        do not depend on the order of the sequences, the chunking or the workers. Ids are
        ``entity_ids``, the DataFrame's, or 0..n−1. By default (``full_curve=False``) each
        pruning search stops at the pruned index; ``pruning_tol`` may list several tolerances
        (each then has its rows), and ``keep_curve=True`` keeps the curves so that
        ``pruning_stats(tols)`` answers other tolerances. ``concurrency > 1`` explains that
        many sequences at a time with their model calls packed into shared batches (values
        equal up to the model's float rounding in batches of other sizes). For very many
        sequences, in parallel, resumable: :func:`seqshap.runner.explain_many`. ``labels``: the
        true label of each sequence; the tables then show it beside the predicted class.
        """
        if hasattr(X, "columns") and hasattr(X, "groupby") and entity_col is None:
            raise ValueError(
                "X is a DataFrame: give entity_col (the column that identifies sequences) and "
                f"time_col (the order of events); its columns are {list(X.columns)}."
            )
        plan = self.plan.with_estimation(budget, tol).copy()  # the explainer is not modified
        if isinstance(X, list | tuple):
            X = [plan.by_name(s, name=f"X[{i}]") for i, s in enumerate(X)]
        elif entity_col is None:
            X = plan.by_name(X, name="X")
        elif feature_cols is None and plan.named:
            feature_cols = list(plan.feature_names)  # long format: the features by name
        seqs, ids, frame_cols = as_sequences(
            X,
            name="X",
            lengths=lengths,
            padding=padding,
            entity_col=entity_col,
            time_col=time_col,
            feature_cols=feature_cols,
        )
        if frame_cols is not None and plan.feature_names is None:
            plan.feature_names, plan.named = frame_cols, True
        if entity_ids is not None:
            entity_ids = list(entity_ids)
            if len(entity_ids) != len(seqs):
                raise ValueError(
                    f"entity_ids must have one id per sequence ({len(seqs)}); received "
                    f"{len(entity_ids)}."
                )
        else:
            entity_ids = ids if ids is not None else list(range(len(seqs)))
        keys = [entity_key(e) for e in entity_ids]
        if len(set(keys)) != len(keys):
            dup = next(k for i, k in enumerate(keys) if k in keys[:i])
            raise ValueError(f"entity_ids repeats {dup!r}; give each sequence its own id.")
        if labels is not None and (
            isinstance(labels, str | bytes)
            or not hasattr(labels, "__len__")
            or len(labels) != len(seqs)
        ):
            got = len(labels) if hasattr(labels, "__len__") else type(labels).__name__
            raise ValueError(
                f"labels must have one label per sequence ({len(seqs)}), in their order; "
                f"received {got}."
            )
        opts = RunOptions.check(
            levels,
            pruning_tol,
            top_events,
            top_features,
            event_threshold,
            feature_threshold,
            window,
            feature_groups,
            keep_curve,
            full_curve,
        )
        for seq in seqs:
            plan.prepare(seq)  # every width checked before any work
        resolve_groups(plan.feature_names, feature_groups)
        seed = plan.seed if isinstance(plan.seed, int | np.integer) else None
        args = validate(
            {"concurrency": concurrency, "memory_budget": memory_budget, "chunk_size": chunk_size},
            GLOBAL_CONSTRAINTS,
        )
        exec_opts = ExecOptions(
            entropy=int(seed) if seed is not None else int(np.random.SeedSequence().entropy),
            concurrency=args["concurrency"],
            memory_budget=args["memory_budget"],
        )
        chunk_size = args["chunk_size"]
        run = run_in_memory(plan, list(zip(keys, seqs)), opts, exec_opts, chunk_size)
        if labels is not None:
            run.labels = dict(zip(keys, labels))  # shown beside the predicted class
        return run


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
