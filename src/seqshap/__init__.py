"""seqshap: Shapley values and LIME for sequence models."""

from .background import Background, kmeans, sample
from .explanation import Explanation
from .games import FunctionGame, Game, MaskedGame
from .kernel_explainer import KernelExplainer
from .models import adapt

__version__ = "0.1.0"

__all__ = [
    "Background",
    "Explanation",
    "FunctionGame",
    "Game",
    "KernelExplainer",
    "MaskedGame",
    "adapt",
    "kmeans",
    "sample",
    "__version__",
]
