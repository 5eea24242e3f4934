"""The text game: players are groups of token positions; absent tokens are masked.

For a coalition ``z`` the present positions are the special tokens plus every position of a
player in ``z``; ``v(z) = link(f(text with the other positions masked))``. What "masked" means
(``masking``):

* ``"mask"``: the token is replaced by the tokenizer's mask token (``[MASK]``): the position
  stays, its content is hidden (what masked-language-model encoders such as BERT were trained
  to read; shap's text masker does the same);
* ``"pad"``: token-id models see the pad id with attention off (the position is skipped but
  the others keep their positions); string models see the pad token's text;
* ``"delete"``: the token is removed and the text closes up (lime's choice for bag-of-words
  models, and the natural one for models that read strings without a mask token);
* any other string (string models only): the replacement text, e.g. ``"UNKWORDZ"`` or ``"..."``.

Models take either token ids (a Hugging Face model with its tokenizer: no re-tokenisation,
the masked ids are exactly the ones above) or strings (pipelines and ``f(list[str])``: the text
is rebuilt from the original with each absent token's character span replaced).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._validation import check_int, check_model_output, check_names
from ..games.base import Game
from ..links import get_link
from .tokenize import TokenizedText

MASKINGS = ("mask", "pad", "delete")


class StringModel:
    """``f(list[str]) -> (n, k)`` called on Python lists (not numpy arrays), output checked."""

    output_names: list[str] | None = None

    def __init__(self, fn: Callable[[list[str]], Any], output_names: list[str] | None = None):
        self.fn = fn
        self.output_names = output_names

    def __call__(self, texts: list[str]) -> np.ndarray:
        return check_model_output(self.fn(list(texts)), n_rows=len(texts))

    def __repr__(self) -> str:
        return f"StringModel({getattr(self.fn, '__name__', self.fn)!r})"


class TextGame(Game):
    """Value function of one tokenised text.

    Parameters
    ----------
    model : ``model(ids (n, L) int64) -> (n, k)`` when ``model_input="ids"``, else
        ``model(list[str]) -> (n, k)``.
    tokenized : the text's :class:`~seqshap.text.tokenize.TokenizedText`.
    groups : one integer array of positions per player (never special positions).
    masking : "mask", "pad", "delete" (or, for string models, a replacement string).
    mask_id, pad_id : token ids used by "mask" and "pad"/"delete" (token-id models).
    mask_text : text written for an absent token by string models (ignored for ids).
    link : "identity" or "logit".
    batch_size : most texts per model call.
    """

    def __init__(
        self,
        model: Callable[[Any], np.ndarray],
        tokenized: TokenizedText,
        groups: list[np.ndarray],
        *,
        model_input: str = "strings",
        masking: str = "mask",
        mask_id: int | None = None,
        pad_id: int | None = None,
        mask_text: str = "",
        link: Any = "identity",
        batch_size: int = 64,
        player_names: list[str] | None = None,
        output_names: list[str] | None = None,
    ):
        super().__init__()
        self.model = model
        self.tokenized = tokenized
        self.model_input = model_input
        self.masking = masking
        self.batch_size = check_int(batch_size, name="batch_size", minimum=1)
        self.link_name, self._link = get_link(link)
        n_pos = len(tokenized)
        cover = np.zeros((len(groups), n_pos), dtype=bool)
        for j, g in enumerate(groups):
            cover[j, np.asarray(g, dtype=np.int64)] = True
        if (cover & tokenized.special[None, :]).any():
            raise ValueError("special tokens cannot be players; remove them from the groups.")
        self.cover = cover
        self.n_players = len(groups)
        self.player_names = check_names(
            player_names, n=self.n_players, name="player_names", default_prefix="token "
        )
        self._always = tokenized.special | ~cover.any(axis=0)
        if model_input == "ids":
            if tokenized.ids is None:
                raise ValueError("a token-id model needs a Hugging Face tokenizer (token ids).")
            fill = {"mask": mask_id, "pad": pad_id, "delete": pad_id}.get(masking)
            if masking not in MASKINGS:
                raise ValueError(
                    f"masking must be one of {list(MASKINGS)} for a token-id model; received {masking!r}."
                )
            if fill is None:
                what = "mask token" if masking == "mask" else "pad token"
                raise ValueError(
                    f"masking={masking!r} needs the tokenizer's {what}, which it does not have; "
                    f"use masking={'pad' if masking == 'mask' else 'mask'!r} instead."
                )
            self._fill = int(fill)
        else:
            self._mask_text = mask_text
            self._build_pieces()
        full = self._call(np.ones((1, n_pos), dtype=bool))
        self.n_outputs = full.shape[1]
        self.output_names = output_names or getattr(model, "output_names", None)
        self._fx_raw = full[0]

    # ---------------------------------------------------------------------- inputs
    def present(self, coalitions: np.ndarray) -> np.ndarray:
        """``(c, L)`` positions kept for each coalition."""
        return (coalitions.astype(np.float32) @ self.cover.astype(np.float32) > 0) | self._always

    def masked_ids(self, present: np.ndarray) -> np.ndarray:
        """Token ids ``(c, L')`` for present-position rows (deletion shortens and right-pads)."""
        ids = self.tokenized.ids
        if self.masking != "delete":
            return np.where(present, ids[None, :], self._fill)
        order = np.argsort(~present, axis=1, kind="stable")  # kept positions first, in order
        lengths = present.sum(axis=1)
        width = int(lengths.max())
        out = ids[order[:, :width]]
        out[np.arange(width)[None, :] >= lengths[:, None]] = self._fill
        return out

    def _build_pieces(self) -> None:
        tok = self.tokenized
        keep = np.flatnonzero(~tok.special)
        self._text_pos = keep
        spans = tok.offsets[keep]
        gaps, prev = [], 0
        for s, e in spans:
            gaps.append(tok.text[prev:s] if s >= prev else "")
            prev = max(prev, int(e))
        gaps.append(tok.text[prev:])
        self._gaps = gaps
        self._words = [tok.text[s:e] for s, e in spans]

    def masked_texts(self, present: np.ndarray) -> list[str]:
        """The text rebuilt with absent tokens replaced by ``mask_text`` (or removed)."""
        keep = present[:, self._text_pos]
        gaps, words, sub = self._gaps, self._words, self._mask_text
        out = []
        for row in keep:
            parts = [gaps[0]]
            for j, on in enumerate(row):
                parts.append(words[j] if on else sub)
                parts.append(gaps[j + 1])
            out.append("".join(parts))
        return out

    # ---------------------------------------------------------------------- values
    def _call(self, present: np.ndarray) -> np.ndarray:
        outs = []
        for i in range(0, len(present), self.batch_size):
            rows = present[i : i + self.batch_size]
            batch = self.masked_ids(rows) if self.model_input == "ids" else self.masked_texts(rows)
            outs.append(np.asarray(self.model(batch), dtype=float).reshape(len(rows), -1))
            self.n_model_calls += 1
        self.n_model_rows += len(present)
        return np.concatenate(outs, axis=0)

    def _evaluate(self, coalitions: np.ndarray) -> np.ndarray:
        return self._link(self._call(self.present(coalitions)))
