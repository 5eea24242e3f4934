"""The default hierarchy of a text for Owen values: sub-token → word → phrase → sentence.

Players that share a sentence form a block; inside a sentence, phrases end at punctuation
(``, ; : ( ) – —`` and quotes); inside a phrase, sub-tokens of one word form a block (when the
players are tokens). A block with more than ``max_children`` children is split into halves
until none has, so exact Owen values stay affordable: their cost grows like 2^children per
node, and the number of contexts doubles (at least) with each level.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np

from .tokenize import TokenizedText

#: a token made only of these characters closes a phrase
PHRASE_END = re.compile(r"^[,;:()\[\]{}\"'“”‘’«»–—-]+$")


def phrase_ids(tokenized: TokenizedText) -> np.ndarray:
    """Phrase index per position (−1 for specials): a new phrase after punctuation or a sentence."""
    out = np.full(len(tokenized), -1, dtype=np.int64)
    phrase, prev_sentence, close = -1, None, True
    for i in np.flatnonzero(~tokenized.special):
        sentence = tokenized.sentence_ids[i]
        if close or sentence != prev_sentence:
            phrase += 1
        out[i] = phrase
        close = bool(PHRASE_END.match(tokenized.tokens[i]))
        prev_sentence = sentence
    return out


def text_hierarchy(
    tokenized: TokenizedText, groups: list[np.ndarray], *, max_children: int = 4
) -> Any:
    """Nested lists of player indices (players = ``groups`` of positions, in text order)."""
    if max_children < 2:
        raise ValueError(f"max_children must be at least 2; received {max_children}.")
    phrases = phrase_ids(tokenized)
    keys = []
    for j, g in enumerate(groups):
        first = int(np.min(g))
        keys.append(
            (
                int(tokenized.sentence_ids[first]),
                int(phrases[first]),
                int(tokenized.word_ids[first]),
                j,
            )
        )
    keys.sort(key=lambda t: (t[0], t[1], t[2], t[3]))

    def build(items: list[tuple[int, ...]], level: int) -> Any:
        if level == 3:
            return [t[3] for t in items]
        out, current, key = [], [], None
        for t in items:
            if current and t[level] != key:
                out.append(build(current, level + 1))
                current = []
            current.append(t)
            key = t[level]
        if current:
            out.append(build(current, level + 1))
        return out

    return _cap(_collapse(build(keys, 0)), max_children)


def _collapse(node: Any) -> Any:
    if isinstance(node, int):
        return node
    children = [_collapse(c) for c in node]
    return children[0] if len(children) == 1 else children


def _cap(node: Any, max_children: int) -> Any:
    if isinstance(node, int):
        return node
    children = [_cap(c, max_children) for c in node]
    while len(children) > max_children:
        half = (len(children) + 1) // 2
        children = [_cap(children[:half], max_children), _cap(children[half:], max_children)]
    return children
