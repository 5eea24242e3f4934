"""seqshap: Shapley values and LIME for sequence models.

Entry points:

- :class:`SequenceExplainer` — pruning, event, feature, cell and window explanations of models
  over ``(n, T, d)`` sequences; :func:`explain_many` for large, parallel, resumable global runs;
- :class:`KernelExplainer` — shap's interface for any function of a feature matrix;
- :class:`TextExplainer` — token, word and sentence attributions for text classifiers;
- :func:`report` — one self-contained HTML file; ``seqshap.plots`` — matplotlib views;
- ``seqshap.metrics`` — faithfulness (deletion/insertion) and global importance with intervals;
- ``seqshap.timeshap`` and ``seqshap.lime`` — drop-in façades for TimeSHAP's and LIME's APIs.

Submodules with heavier imports (plots, metrics, timeshap, lime) load on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._report import report
from .background import Background, kmeans, sample
from .explanation import Explanation, SavedFileError
from .games import FunctionGame, Game, MaskedGame
from .kernel_explainer import KernelExplainer
from .models import adapt, export_onnx, load_model, model_info
from .runner import GlobalRun, SequenceError, explain_many
from .sequence import (
    GlobalExplanation,
    LocalExplanation,
    PruningResult,
    SequenceExplainer,
    average_sequence,
    mean_event,
    median_event,
    mode_event,
)
from .text import RegexTokenizer, TextExplainer

__version__ = "0.1.0"

_LAZY_SUBMODULES = ("plots", "metrics", "timeshap", "lime", "estimators", "models", "testing")

__all__ = [
    "Background",
    "Explanation",
    "FunctionGame",
    "Game",
    "GlobalExplanation",
    "GlobalRun",
    "KernelExplainer",
    "LocalExplanation",
    "MaskedGame",
    "PruningResult",
    "RegexTokenizer",
    "SavedFileError",
    "SequenceError",
    "SequenceExplainer",
    "TextExplainer",
    "adapt",
    "average_sequence",
    "explain_many",
    "export_onnx",
    "kmeans",
    "load_model",
    "mean_event",
    "median_event",
    "mode_event",
    "model_info",
    "report",
    "sample",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY_SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'seqshap' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_SUBMODULES))
