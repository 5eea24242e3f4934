"""Text: token, word and sentence attributions (Shapley, Owen, LIME) of text classifiers."""

from __future__ import annotations

from .explainer import LEVELS, METHODS, TextExplainer
from .game import MASKINGS, TextGame
from .hierarchy import text_hierarchy
from .tokenize import RegexTokenizer, TokenizedText, tokenize

__all__ = [
    "LEVELS",
    "MASKINGS",
    "METHODS",
    "RegexTokenizer",
    "TextExplainer",
    "TextGame",
    "TokenizedText",
    "text_hierarchy",
    "tokenize",
]
