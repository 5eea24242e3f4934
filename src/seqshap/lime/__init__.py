"""lime's interface on seqshap's engine: ``LimeTextExplainer`` and ``RecurrentTabularExplainer``.

Drop-in for ``from lime.lime_text import LimeTextExplainer`` and
``from lime.lime_tabular import RecurrentTabularExplainer``; explanations offer ``as_list()``,
``as_map()``, ``as_pyplot_figure()``, ``as_html()`` and ``save_to_file()``. The modules
document where results differ from lime's.
"""

from __future__ import annotations

from .explanation import LimeExplanation
from .recurrent import RecurrentTabularExplainer
from .text import LimeTextExplainer

Explanation = LimeExplanation  # lime.explanation.Explanation's name

__all__ = ["Explanation", "LimeExplanation", "LimeTextExplainer", "RecurrentTabularExplainer"]
