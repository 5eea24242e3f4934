"""Native sequence explanations: pruning, event, feature, cell and window levels.

>>> from seqshap.sequence import SequenceExplainer
>>> ex = SequenceExplainer(model, "mean_event", data=X_train)      # doctest: +SKIP
>>> loc = ex.explain(X_test[0], levels=("event", "feature", "cell"))  # doctest: +SKIP
"""

from .baselines import average_sequence, mean_event, median_event, mode_event
from .explainer import EXACT_DEFAULT_PLAYERS, LEVELS, LocalExplanation, SequenceExplainer
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
    "GlobalExplanation",
    "LEVELS",
    "LocalExplanation",
    "PRUNED",
    "Players",
    "PruningResult",
    "SequenceExplainer",
    "average_sequence",
    "cell_players",
    "event_players",
    "feature_players",
    "mean_event",
    "median_event",
    "mode_event",
    "pruned_index",
    "window_players",
]
