"""Global explanations at scale: many sequences, batched, parallel, distributed, resumable.

>>> from seqshap.runner import explain_many
>>> ex = SequenceExplainer(model, "median_event", data=X_train)            # doctest: +SKIP
>>> run = explain_many(ex, X_test, pruning_tol=[0.05, 0.075], out="runs/arem",
...                    n_jobs=2, on_error="skip")                           # doctest: +SKIP
>>> run.pruning_stats(); run.summary("feature"); run.errors                 # doctest: +SKIP

Killed at any point, the same call resumes from the finished chunks in ``out`` and ends with
the table of an uninterrupted run.
"""

from ..models import SharedBatcher, map_shared
from ..sequence.plan import sequence_rng
from ._gate import SequenceError
from ._result import GlobalRun
from ._runner import explain_many
from ._work import COLUMNS

__all__ = [
    "COLUMNS",
    "GlobalRun",
    "SequenceError",
    "SharedBatcher",
    "explain_many",
    "map_shared",
    "sequence_rng",
]
