"""Tokenising a text into the units that become players: tokens, words, sentences.

A :class:`TokenizedText` keeps, for every position of the model's input, the token's character
span in the original text (so masked texts can be rebuilt and tokens highlighted), whether it
is a special token (``[CLS]``, ``[SEP]``, ...: never a player, always present), the word it
belongs to (sub-tokens of one word share a word index) and its sentence.

Three kinds of tokenizer are understood: a Hugging Face tokenizer (fast, with offsets;
``word_ids`` merge sub-tokens into words), :class:`RegexTokenizer` (tokens are regex matches,
or the pieces between separators, as lime's ``split_expression``) and any callable
``str -> list[str]`` such as ``str.split`` (:class:`CallableTokenizer`: its pieces are found in
the text in order, so spans stay exact).
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

#: sentence boundary: whitespace after ., ! or ? (also at line breaks)
SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n")

#: beyond this, a tokenizer's model_max_length is a placeholder ("no limit")
_NO_LIMIT = 10**8


@dataclass
class TokenizedText:
    """One text split into model positions.

    Attributes
    ----------
    text : the (possibly truncated) text.
    tokens : display string of every position (the text span; the token itself for specials).
    offsets : ``(L, 2)`` character spans in ``text`` (``(0, 0)`` for special tokens).
    special : ``(L,)`` True for special tokens.
    word_ids : ``(L,)`` word index of each position (−1 for specials).
    sentence_ids : ``(L,)`` sentence index of each position (−1 for specials).
    ids : ``(L,)`` token ids (Hugging Face) or None (regex tokenizer).
    truncated : True when the text was cut to the model's maximum length.
    """

    text: str
    tokens: list[str]
    offsets: np.ndarray
    special: np.ndarray
    word_ids: np.ndarray
    sentence_ids: np.ndarray
    ids: np.ndarray | None = None
    truncated: bool = False

    def __len__(self) -> int:
        return len(self.tokens)


class RegexTokenizer:
    """Tokens from a regular expression, for models that take strings.

    ``pattern`` matches tokens (default: words and single punctuation marks); with
    ``split_expression`` instead, tokens are the non-empty pieces *between* its matches (lime's
    convention: ``r"\\W+"`` keeps words and drops punctuation and spaces as separators).
    ``"whitespace"`` is a shortcut for ``pattern=r"\\S+"``.
    """

    def __init__(
        self, pattern: str | None = r"\w+|[^\w\s]", *, split_expression: str | None = None
    ):
        if pattern == "whitespace":
            pattern = r"\S+"
        if split_expression is not None:
            pattern = None
        if pattern is None and split_expression is None:
            raise ValueError(
                "RegexTokenizer needs a pattern or a split_expression; received neither."
            )
        try:
            self._re = re.compile(pattern if pattern is not None else split_expression)
        except re.error as exc:
            raise ValueError(
                f"invalid regular expression {pattern or split_expression!r}: {exc}"
            ) from None
        self.pattern = pattern
        self.split_expression = split_expression

    def spans(self, text: str) -> list[tuple[int, int]]:
        if self.pattern is not None:
            return [m.span() for m in self._re.finditer(text) if m.end() > m.start()]
        out, pos = [], 0
        for m in self._re.finditer(text):
            if m.start() > pos:
                out.append((pos, m.start()))
            pos = max(pos, m.end())
        if pos < len(text):
            out.append((pos, len(text)))
        return out

    def __repr__(self) -> str:
        if self.pattern is not None:
            return f"RegexTokenizer({self.pattern!r})"
        return f"RegexTokenizer(split_expression={self.split_expression!r})"


class CallableTokenizer:
    """Tokens from any callable ``str -> list[str]`` (``str.split``, nltk's ``word_tokenize``,
    a scikit-learn vectorizer's ``build_tokenizer()``).

    Each returned piece is located in the text after the previous one (case-insensitively when
    the tokenizer lowercases), so masked texts are rebuilt from the original characters.
    """

    def __init__(self, fn: Callable[[str], Any]):
        if not callable(fn):
            raise TypeError(f"tokenizer must be callable; received {type(fn).__name__}.")
        self.fn = fn

    def spans(self, text: str) -> list[tuple[int, int]]:
        pieces = self.fn(text)
        if isinstance(pieces, str) or not hasattr(pieces, "__iter__"):
            raise TypeError(
                f"tokenizer {self!r} must return a list of strings; it returned "
                f"{type(pieces).__name__}."
            )
        lowered = text.lower()
        if len(lowered) != len(text):  # a few characters change length when lowered
            lowered = text
        out, pos = [], 0
        for piece in pieces:
            if not isinstance(piece, str):
                raise TypeError(
                    f"tokenizer {self!r} must return strings; it returned a "
                    f"{type(piece).__name__} ({piece!r:.40})."
                )
            if not piece.strip():
                continue
            start = text.find(piece, pos)
            if start < 0:
                start = lowered.find(piece.lower(), pos)
            if start < 0:
                raise ValueError(
                    f"tokenizer {self!r} returned {piece!r}, which does not occur in the text "
                    f"after character {pos}; a callable tokenizer must return pieces of the text "
                    "in order (as str.split does). Wrap it, or pass a regular expression."
                )
            out.append((start, start + len(piece)))
            pos = start + len(piece)
        return out

    def __repr__(self) -> str:
        return f"CallableTokenizer({getattr(self.fn, '__qualname__', self.fn)!r})"


def is_punctuation(token: str) -> bool:
    """True for a token made of punctuation marks only (``"."``, ``"--"``, ``"?!"``)."""
    token = token.strip()
    return bool(token) and all(unicodedata.category(c).startswith("P") for c in token)


def is_hf_tokenizer(tokenizer: Any) -> bool:
    return (
        callable(tokenizer)
        and hasattr(tokenizer, "convert_ids_to_tokens")
        and hasattr(tokenizer, "all_special_ids")
    )


def as_tokenizer(tokenizer: Any) -> Any:
    """``None``/"whitespace"/a regex string/RegexTokenizer/Hugging Face tokenizer/a callable
    ``str -> list[str]`` → tokenizer."""
    if tokenizer is None:
        return RegexTokenizer()
    if isinstance(tokenizer, RegexTokenizer | CallableTokenizer) or is_hf_tokenizer(tokenizer):
        return tokenizer
    if isinstance(tokenizer, str):
        return RegexTokenizer(tokenizer)
    if callable(tokenizer):
        return CallableTokenizer(tokenizer)
    raise TypeError(
        "tokenizer must be a Hugging Face tokenizer, a RegexTokenizer, 'whitespace', a regular "
        "expression string, a callable str -> list[str] (e.g. str.split) or None; received "
        f"{type(tokenizer).__module__}.{type(tokenizer).__name__}."
    )


def check_text(text: Any, *, name: str = "text") -> str:
    """A non-empty string, or a clear error."""
    if not isinstance(text, str):
        raise TypeError(
            f"{name} must be a string; received {type(text).__name__} ({text!r:.60}). Pass a str, "
            "or a list of str to explain several texts."
        )
    if not text.strip():
        raise ValueError(f"{name} is empty (or only whitespace); there is nothing to explain.")
    return text


def model_max_length(tokenizer: Any, model: Any = None) -> int | None:
    """The most positions the model accepts (tokenizer limit, else the model's positions)."""
    limit = getattr(tokenizer, "model_max_length", None)
    if isinstance(limit, int) and 0 < limit < _NO_LIMIT:
        return limit
    config = getattr(model, "config", None)
    limit = getattr(config, "max_position_embeddings", None)
    if isinstance(limit, int) and limit > 0:
        return limit
    return None


def tokenize(
    text: str, tokenizer: Any, *, max_length: int | None = None, name: str = "text"
) -> TokenizedText:
    """Split ``text`` with ``tokenizer``; longer than ``max_length`` → truncated with a warning."""
    text = check_text(text, name=name)
    if isinstance(tokenizer, RegexTokenizer | CallableTokenizer):
        spans = tokenizer.spans(text)
        if not spans:
            raise ValueError(f"{name} {text!r:.60} contains no tokens for {tokenizer!r}.")
        truncated = False
        if max_length is not None and len(spans) > max_length:
            _warn_truncated(name, len(spans), max_length)
            spans, truncated = spans[:max_length], True
            text = text[: spans[-1][1]]
        offsets = np.array(spans, dtype=np.int64).reshape(-1, 2)
        n = len(offsets)
        return TokenizedText(
            text=text,
            tokens=[text[s:e] for s, e in spans],
            offsets=offsets,
            special=np.zeros(n, dtype=bool),
            word_ids=np.arange(n),
            sentence_ids=_sentences(text, offsets, np.zeros(n, dtype=bool)),
            truncated=truncated,
        )
    return _tokenize_hf(text, tokenizer, max_length=max_length, name=name)


def _tokenize_hf(text: str, tokenizer: Any, *, max_length: int | None, name: str) -> TokenizedText:
    if not getattr(tokenizer, "is_fast", True):
        raise TypeError(
            "tokenizer must be a fast (Rust-backed) Hugging Face tokenizer that returns offsets; "
            f"received {type(tokenizer).__name__}. Load it with AutoTokenizer.from_pretrained(..., "
            "use_fast=True)."
        )
    kwargs = dict(return_offsets_mapping=True, return_special_tokens_mask=True, verbose=False)
    enc = tokenizer(text, truncation=False, **kwargs)
    truncated = False
    if max_length is not None and len(enc["input_ids"]) > max_length:
        _warn_truncated(name, len(enc["input_ids"]), max_length)
        enc = tokenizer(text, truncation=True, max_length=max_length, **kwargs)
        truncated = True
    ids = np.asarray(enc["input_ids"], dtype=np.int64)
    offsets = np.asarray(enc["offset_mapping"], dtype=np.int64).reshape(-1, 2)
    special = np.asarray(enc["special_tokens_mask"], dtype=bool)
    special |= offsets[:, 1] <= offsets[:, 0]  # empty spans are not tokens of the text
    if special.all():
        raise ValueError(f"{name} {text!r:.60} contains no tokens (only special tokens).")
    if truncated:  # the explained text ends where the model stops reading
        text = text[: int(offsets[~special, 1].max())]
    raw_words = enc.word_ids() if hasattr(enc, "word_ids") else None
    word_ids = _word_ids(raw_words, offsets, special, text)
    raw_tokens = tokenizer.convert_ids_to_tokens(ids.tolist())
    tokens = [
        str(raw_tokens[i]) if special[i] else text[offsets[i, 0] : offsets[i, 1]]
        for i in range(len(ids))
    ]
    return TokenizedText(
        text=text,
        tokens=tokens,
        offsets=offsets,
        special=special,
        word_ids=word_ids,
        sentence_ids=_sentences(text, offsets, special),
        ids=ids,
        truncated=truncated,
    )


def _word_ids(raw: list | None, offsets: np.ndarray, special: np.ndarray, text: str) -> np.ndarray:
    """Word index per position: the tokenizer's word ids, else tokens touching without a gap."""
    n = len(offsets)
    out = np.full(n, -1, dtype=np.int64)
    word, prev_key, prev_end = -1, None, None
    for i in range(n):
        if special[i]:
            continue
        key = raw[i] if raw is not None else None
        if raw is not None and key is not None:
            new = key != prev_key
        else:  # no word ids: a new word starts after whitespace or at a non-word character
            s = offsets[i, 0]
            new = (
                prev_end is None
                or s > prev_end
                or not (text[s].isalnum() and text[s - 1].isalnum())
            )
        if new:
            word += 1
        out[i] = word
        prev_key, prev_end = key, offsets[i, 1]
    return out


def _sentences(text: str, offsets: np.ndarray, special: np.ndarray) -> np.ndarray:
    starts = np.array([0] + [m.end() for m in SENTENCE_END.finditer(text)], dtype=np.int64)
    sid = np.searchsorted(starts, offsets[:, 0], side="right") - 1
    sid = np.where(special, -1, sid)
    # renumber consecutively (sentences without tokens vanish)
    used = np.unique(sid[sid >= 0])
    remap = np.full(int(sid.max()) + 2 if len(sid) else 1, -1, dtype=np.int64)
    remap[used] = np.arange(len(used))
    return np.where(sid >= 0, remap[np.maximum(sid, 0)], -1)


def _warn_truncated(name: str, n: int, limit: int) -> None:
    warnings.warn(
        f"{name} has {n} tokens but the model accepts at most {limit}; explaining the first "
        f"{limit} (the rest is cut off, as the model would do). Split long texts to explain all of them.",
        UserWarning,
        stacklevel=4,
    )
