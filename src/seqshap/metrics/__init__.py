"""How far to trust an explanation: faithfulness curves and global importance with intervals.

>>> from seqshap.metrics import faithfulness, sequence_faithfulness, global_importance
>>> res = faithfulness(game, est.values)                      # doctest: +SKIP
>>> res.summary[["deletion_auc", "random_deletion_auc"]]      # doctest: +SKIP
>>> res.plot()                                                # doctest: +SKIP
"""

from .explained import (
    explanation_faithfulness,
    masked_faithfulness,
    sequence_faithfulness,
    sequence_game,
    stack_faithfulness,
)
from .faithfulness import DEFAULT_FRACTIONS, Faithfulness, faithfulness, ranking
from .global_view import global_importance
from .plot import plot_faithfulness, plot_global_importance

__all__ = [
    "DEFAULT_FRACTIONS",
    "Faithfulness",
    "explanation_faithfulness",
    "faithfulness",
    "global_importance",
    "masked_faithfulness",
    "plot_faithfulness",
    "plot_global_importance",
    "ranking",
    "sequence_faithfulness",
    "sequence_game",
    "stack_faithfulness",
]
