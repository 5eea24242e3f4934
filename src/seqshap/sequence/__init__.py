"""Native sequence explanations: pruning, event, feature, cell and window levels.

>>> from seqshap.sequence import SequenceExplainer
>>> ex = SequenceExplainer(model, "mean_event", data=X_train)      # doctest: +SKIP
>>> loc = ex.explain(X_test[0], levels=("event", "feature", "cell"))  # doctest: +SKIP

The pipeline, top to bottom: :mod:`~seqshap.sequence.plan` (options checked once, background,
prepared model) → :mod:`~seqshap.sequence.players` (who is a player, with integer time steps)
→ a game (:mod:`seqshap.games`) → an estimator (:mod:`seqshap.estimators`) →
:class:`~seqshap.Explanation`. :mod:`~seqshap.sequence.pruning` holds all temporal pruning.
"""

from .baselines import average_sequence, mean_event, median_event, mode_event
from .explainer import SequenceExplainer
from .plan import (
    EXACT_DEFAULT_PLAYERS,
    LEVELS,
    ExplainOptions,
    LocalExplanation,
    SequencePlan,
    check_options,
    sequence_rng,
)
from .players import (
    PRUNED,
    Players,
    cell_players,
    event_players,
    feature_players,
    window_players,
)
from .pruning import PruningResult, pruned_index
from .summary import GlobalExplanation

__all__ = [
    "EXACT_DEFAULT_PLAYERS",
    "ExplainOptions",
    "GlobalExplanation",
    "LEVELS",
    "LocalExplanation",
    "PRUNED",
    "Players",
    "PruningResult",
    "SequenceExplainer",
    "SequencePlan",
    "average_sequence",
    "cell_players",
    "check_options",
    "event_players",
    "feature_players",
    "mean_event",
    "median_event",
    "mode_event",
    "pruned_index",
    "sequence_rng",
    "window_players",
]
