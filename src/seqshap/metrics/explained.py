"""Faithfulness of an :class:`~seqshap.explanation.Explanation`: thin wrappers that build the
game each explained instance was valued by, then call :func:`~seqshap.metrics.faithfulness`.

* :func:`explanation_faithfulness` — an Explanation and its game(s);
* :func:`masked_faithfulness` — an Explanation, the model, the instance(s), the baseline and
  the players' cell masks (any level, any data shape);
* :func:`sequence_faithfulness` — a :class:`~seqshap.sequence.SequenceExplainer`, a sequence
  and its local explanation, at event or feature level (other levels: pass ``masks``);
  :func:`sequence_game` is the game it uses (also for estimating again with other budgets).

Several instances give one :class:`~seqshap.metrics.Faithfulness` whose frames carry an
``instance`` column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validation import check_array
from ..explanation import Explanation
from ..games.base import Game
from ..games.masked import MaskedGame
from .faithfulness import Faithfulness, faithfulness


def explanation_faithfulness(
    explanation: Explanation, games: Game | Sequence[Game], **options: Any
) -> Faithfulness:
    """Curves of each instance of ``explanation`` on its game (one game per instance)."""
    if not isinstance(explanation, Explanation):
        raise TypeError(
            f"explanation must be a seqshap Explanation; received {type(explanation).__name__}."
        )
    games = [games] if isinstance(games, Game) else list(games)
    if len(games) != explanation.n_instances:
        raise ValueError(
            f"games must hold one game per explained instance ({explanation.n_instances}); "
            f"received {len(games)}."
        )
    results = []
    for i, game in enumerate(games):
        if game.n_players != explanation.n_players:
            raise ValueError(
                f"game {i} has {game.n_players} players but the explanation has "
                f"{explanation.n_players} ({explanation.level} level); build the game from the "
                "same players."
            )
        results.append(faithfulness(game, explanation.values[i], **options))
    return stack_faithfulness(results)


def stack_faithfulness(results: Sequence[Faithfulness]) -> Faithfulness:
    """One result from several instances' results (``instance`` column = position)."""
    if len(results) == 1:
        return results[0]

    def cat(name: str) -> pd.DataFrame:
        frames = [getattr(r, name).assign(instance=i) for i, r in enumerate(results)]
        frame = pd.concat(frames, ignore_index=True)
        return frame[["instance", *[c for c in frame.columns if c != "instance"]]]

    return Faithfulness(
        curves=cat("curves"),
        summary=cat("summary"),
        top_k=cat("top_k"),
        n_evaluations=sum(r.n_evaluations for r in results),
        meta=dict(results[0].meta),
    )


def masked_faithfulness(
    explanation: Explanation,
    model: Any,
    x: Any,
    baseline: Any,
    masks: Any,
    *,
    link: str = "identity",
    batch_size: int = 1024,
    **options: Any,
) -> Faithfulness:
    """Curves of ``explanation`` for ``model`` at instances ``x`` ``(n, *S)`` (or ``S`` for one).

    ``baseline``: one row ``S``, background rows ``(m, *S)`` or, for sequences ``(T, d)``, one
    event ``(d,)``: what absent cells take;
    ``masks``: ``(M, *S)`` boolean cells covered by each player, in the explanation's order.
    """
    if not isinstance(explanation, Explanation):
        raise TypeError(
            f"explanation must be a seqshap Explanation; received {type(explanation).__name__}."
        )
    masks = np.asarray(masks)
    if masks.dtype != bool or masks.ndim < 2 or len(masks) != explanation.n_players:
        raise ValueError(
            f"masks must be a boolean array (M, *S) with M = {explanation.n_players} players "
            f"(the explanation's); received {masks.dtype} array of shape {masks.shape}."
        )
    shape = masks.shape[1:]
    xs = check_array(x, name="x")
    if xs.shape == shape:
        xs = xs[None]
    if xs.shape[1:] != shape or len(xs) != explanation.n_instances:
        raise ValueError(
            f"x must hold the {explanation.n_instances} explained instance(s) of shape {shape} "
            f"(the masks' cell shape); received shape {xs.shape}."
        )
    bg = check_array(baseline, name="baseline")
    if len(shape) == 2 and bg.shape == shape[1:]:
        bg = np.broadcast_to(bg, shape)  # one event (d,) for every time step
    if bg.shape == shape:
        bg = bg[None]
    if bg.shape[1:] != shape:
        raise ValueError(
            f"baseline must be one instance of shape {shape}, rows (m, {', '.join(map(str, shape))})"
            f" or, for sequences, one event ({shape[-1]},); received shape {bg.shape}."
        )
    games = [MaskedGame(model, xi, bg, masks, link=link, batch_size=batch_size) for xi in xs]
    return explanation_faithfulness(explanation, games, **options)


def sequence_faithfulness(
    explainer: Any,
    x: Any,
    local: Any,
    *,
    level: str = "event",
    masks: Any = None,
    **options: Any,
) -> Faithfulness:
    """Curves of one sequence's explanation at ``level`` with the explainer's own game.

    ``local`` is the :class:`~seqshap.sequence.LocalExplanation` of ``x`` (or the level's
    Explanation); any level of :meth:`~seqshap.sequence.SequenceExplainer.explain` is rebuilt
    (see :func:`sequence_game` for ``masks``).
    """
    exp = getattr(local, level, None) if not isinstance(local, Explanation) else local
    if not isinstance(exp, Explanation):
        raise ValueError(
            f"local has no {level!r} level; explain x with levels including {level!r}."
        )
    game = sequence_game(explainer, x, exp, masks=masks)
    return faithfulness(game, exp.values[0], **options)


def sequence_game(explainer: Any, x: Any, explanation: Explanation, *, masks: Any = None) -> Game:
    """The game that valued ``explanation`` (one sequence ``x``, one level) in ``explainer``.

    The players of every level (event, feature, cell, window, with feature groups) are rebuilt
    by :meth:`~seqshap.sequence.SequenceExplainer.game_for` from what ``explain`` records in
    the explanation's meta. ``masks`` ``(M, T, d)`` (the cells of each player, in the
    explanation's order) values players of your own instead, or explanations whose meta
    predates that record.
    """
    from ..sequence import Players, SequenceExplainer

    if not isinstance(explainer, SequenceExplainer):
        raise TypeError(
            "explainer must be the seqshap.sequence.SequenceExplainer that produced the "
            f"explanation; received {type(explainer).__name__}."
        )
    if not isinstance(explanation, Explanation):
        raise TypeError(
            f"explanation must be a seqshap Explanation; received {type(explanation).__name__}."
        )
    level = explanation.level
    if masks is None:
        try:
            return explainer.game_for(x, explanation)
        except ValueError as err:
            raise ValueError(
                f"{err} Otherwise, level {level!r} needs masks=(M, T, d): the cells of each "
                "player in the explanation's order."
            ) from None
    masks = np.asarray(masks, dtype=bool)
    names = list(explanation.player_names)
    if masks.ndim != 3 or len(masks) != explanation.n_players:
        raise ValueError(
            f"masks must be a boolean array (M, T, d) with M = {explanation.n_players} players "
            f"(the explanation's); received shape {masks.shape}."
        )
    try:
        return explainer.game(x, players=Players(names, masks, level))
    except ValueError as err:
        raise ValueError(
            f"the masks do not match x: {err} Pass the sequence that was explained."
        ) from None
