"""``TextExplainer``: token, word and sentence attributions of text classifiers.

Models understood:

* a Hugging Face ``...ForSequenceClassification`` model with its (fast) tokenizer: masked
  token ids go straight to the model (no re-tokenisation); scores are probabilities by default
  (``output="logits"`` for logits);
* a Hugging Face text-classification pipeline: masked texts go through the pipeline;
* a fitted scikit-learn estimator or ``Pipeline`` over raw texts (e.g. ``TfidfVectorizer``
  then ``LogisticRegression``): ``predict_proba`` (else ``decision_function``, else
  ``predict``) on the masked texts, outputs named after ``classes_``;
* any ``f(list[str]) -> (n, k)`` with a tokenizer (Hugging Face, a :class:`RegexTokenizer`,
  ``"whitespace"``, a regular expression or any callable ``str -> list[str]`` such as
  ``str.split``; default: words and punctuation marks), or, with
  ``model_input="ids"``, any ``f(ids (n, L) int64) -> (n, k)`` with a Hugging Face tokenizer
  (e.g. a Keras or PyTorch LSTM over token ids). A recurrent token-id model in TimeSHAP's
  form ``f(ids (n, t, 1) float, state=None) -> (scores, state)`` with ``recurrent=True`` gets
  the prefix-state fast path (:class:`~seqshap.games.recurrent.RecurrentMaskedGame`): coalitions
  that agree on their first tokens share the hidden state after them.

Masking default per model type: the mask token for token-id models and Hugging Face tokenizers
that have one (``[MASK]``), else ``"pad"`` (token ids: attention off) or ``"delete"`` (strings).
Special tokens (``[CLS]``, ``[SEP]``, padding) are never players and always present; so are
punctuation-only tokens (``"."``, ``","``, ``"--"``) unless ``keep_punctuation=True``.

Methods: ``"exact"``, ``"kernel"``, ``"permutation"``, ``"lime"`` (a surrogate, not Shapley
values), ``"owen"`` (Owen values over the text's hierarchy sub-token → word → phrase → sentence,
see :mod:`seqshap.estimators.owen`: exact at polynomial cost, the choice for long texts) and
``"auto"`` (exact when 2^M fits the budget, else kernel).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._validation import (
    check_budget,
    check_int,
    check_output_names,
    check_random_state,
    check_tol,
)
from ..estimators import default_budget, estimate
from ..estimators.owen import owen_values
from ..explanation import Explanation, explanation_from_estimates
from ..games.base import Game
from ..models._common import is_instance_of, type_module
from ..models._sklearn import looks_like_estimator
from .game import MASKINGS, StringModel, TextGame
from .hierarchy import text_hierarchy
from .tokenize import (
    TokenizedText,
    as_tokenizer,
    is_hf_tokenizer,
    is_punctuation,
    model_max_length,
    tokenize,
)

LEVELS = ("token", "word", "sentence")
METHODS = ("auto", "exact", "kernel", "permutation", "lime", "owen")


class TextExplainer:
    """Explain a text classifier's scores for every class at once.

    Parameters
    ----------
    model : Hugging Face model (with ``tokenizer``), text-classification pipeline, or callable.
    tokenizer : Hugging Face tokenizer, :class:`RegexTokenizer`, ``"whitespace"``, a regex, None.
    masking : "mask", "pad", "delete", or (string models) a replacement text; None = default.
    level : players: "token" (sub-tokens), "word" (sub-tokens merged) or "sentence".
    method, budget, seed, tol : estimator, evaluations per text, randomness, early stop.
    output : "probabilities" or "logits" (Hugging Face models only).
    class_names, output_names : names of the k outputs (two spellings of one option; default:
        the model's ``id2label`` or a scikit-learn estimator's ``classes_``).
    keep_punctuation : punctuation-only tokens are players too (default False: they stay in
        every masked text and get no attribution).
    link : "identity" or "logit" (attributions additive in that space).
    batch_size : most texts (rows) per model call.
    max_length : most token positions; longer texts are truncated with a warning (default:
        the tokenizer's / model's maximum).
    max_children : branching cap of the Owen hierarchy.
    model_input : "strings" or "ids" for callables (None: strings).
    recurrent : with ``model_input="ids"``: the callable is recurrent (see the module docstring);
        masking must be "mask" or "pad" (positions stay, so prefixes can be shared).
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        masking: str | None = None,
        level: str = "token",
        method: str = "auto",
        budget: int | None = None,
        seed: Any = None,
        tol: float | None = None,
        output: str | None = None,
        class_names: list[str] | None = None,
        output_names: list[str] | None = None,
        keep_punctuation: bool = False,
        link: Any = "identity",
        batch_size: int = 64,
        max_length: int | None = None,
        max_children: int = 4,
        model_input: str | None = None,
        recurrent: bool = False,
    ):
        self.recurrent = bool(recurrent)
        self.level = _check_choice(level, LEVELS, "level")
        self.method = _check_choice(method, METHODS, "method")
        self.budget = None if budget is None else check_budget(budget)
        self.seed = seed
        check_random_state(seed)
        self.tol = check_tol(tol)
        self.link = link
        self.batch_size = check_int(batch_size, name="batch_size", minimum=1)
        self.max_children = check_int(max_children, name="max_children", minimum=2)
        names, class_names = check_output_names(output_names), check_output_names(class_names)
        if names is not None and class_names is not None and names != class_names:
            raise ValueError(
                "class_names and output_names are two spellings of one option and differ "
                f"({class_names} vs {names}); pass one of them."
            )
        self.class_names = names if names is not None else class_names
        if not isinstance(keep_punctuation, bool):
            raise TypeError(f"keep_punctuation must be a bool; received {keep_punctuation!r}.")
        self.keep_punctuation = keep_punctuation
        self._resolve_model(model, tokenizer, output, model_input)
        if max_length is not None:
            max_length = check_int(max_length, name="max_length", minimum=1)
        self.max_length = max_length if max_length is not None else self._default_max_length
        self.masking = self._resolve_masking(masking)
        if self.recurrent and (self.model_input != "ids" or self.masking == "delete"):
            raise ValueError(
                "recurrent=True needs a callable over token ids (model_input='ids') and masking "
                f"'mask' or 'pad'; received model_input={self.model_input!r}, masking={self.masking!r}."
            )

    # ------------------------------------------------------------------ set-up
    def _resolve_model(self, model: Any, tokenizer: Any, output: str | None, model_input) -> None:
        from ..models import adapt

        self._hf_model = None
        if is_instance_of(model, "transformers", "Pipeline"):
            tokenizer = tokenizer if tokenizer is not None else model.tokenizer
            self.model = adapt(model, batch_size=self.batch_size)
            self.model_input = "strings"
            self._hf_model = model.model
            if output is not None:
                raise ValueError(
                    "output applies to Hugging Face models, not pipelines (a pipeline returns "
                    "its own scores); pass function_to_apply to the pipeline instead."
                )
        elif is_instance_of(model, "transformers", "PreTrainedModel"):
            if not is_hf_tokenizer(tokenizer):
                raise TypeError(
                    "a Hugging Face model needs its tokenizer: TextExplainer(model, tokenizer); "
                    f"received tokenizer={type(tokenizer).__name__}."
                )
            self.model = adapt(
                model,
                tokenizer=tokenizer,
                output=output or "probabilities",
                batch_size=self.batch_size,
            )
            self.model_input = "ids"
            self._hf_model = model
        elif not callable(model) and (
            type_module(model) == "sklearn" or looks_like_estimator(model)
        ):
            if output is not None:
                raise ValueError(
                    "output applies to Hugging Face models only; a scikit-learn estimator "
                    "returns its own scores."
                )
            if model_input not in (None, "strings"):
                raise ValueError(
                    "a scikit-learn estimator over raw text takes strings; received "
                    f"model_input={model_input!r}."
                )
            self.model = StringModel(*_sklearn_text_scores(model))
            self.model_input = "strings"
        elif callable(model):
            if output is not None:
                raise ValueError(
                    "output applies to Hugging Face models only; a callable returns its own scores."
                )
            self.model_input = _check_choice(
                model_input or "strings", ("strings", "ids"), "model_input"
            )
            if self.model_input == "ids":
                if not is_hf_tokenizer(tokenizer):
                    raise TypeError(
                        "model_input='ids' needs a Hugging Face tokenizer (it supplies the ids); "
                        f"received {type(tokenizer).__name__}."
                    )
                fn = model
                if self.recurrent:
                    self.model = adapt(fn, recurrent=True)
                else:
                    self.model = lambda ids: fn(np.asarray(ids, dtype=np.int64))
            else:
                self.model = StringModel(model)
        else:
            raise TypeError(
                "model must be a Hugging Face model (with its tokenizer), a text-classification "
                "pipeline, a fitted scikit-learn estimator or Pipeline over raw texts, or a "
                f"callable f(list[str]) -> scores; received {type(model).__name__}."
            )
        self.tokenizer = as_tokenizer(tokenizer)
        self._default_max_length = (
            model_max_length(self.tokenizer, self._hf_model)
            if is_hf_tokenizer(self.tokenizer)
            else None
        )

    def _resolve_masking(self, masking: str | None) -> str:
        tok = self.tokenizer
        hf = is_hf_tokenizer(tok)
        has_mask = hf and getattr(tok, "mask_token_id", None) is not None
        has_pad = hf and getattr(tok, "pad_token_id", None) is not None
        if masking is None:
            if self.model_input == "ids":
                if not (has_mask or has_pad):
                    raise ValueError(
                        "the tokenizer has neither a mask nor a pad token; set tokenizer.pad_token "
                        "(e.g. to its eos token) so that absent tokens can be hidden."
                    )
                return "mask" if has_mask else "pad"
            return "mask" if has_mask else "delete"
        if not isinstance(masking, str):
            raise TypeError(f"masking must be a string; received {type(masking).__name__}.")
        if masking in MASKINGS:
            if masking == "mask" and not has_mask:
                raise ValueError(
                    "masking='mask' needs a tokenizer with a mask token; this one has none. Use "
                    "masking='delete' (or 'pad' for token-id models), or a replacement text."
                )
            if masking == "pad" and not has_pad:
                raise ValueError(
                    "masking='pad' needs a tokenizer with a pad token; use 'mask' or 'delete'."
                )
            if masking == "delete" and self.model_input == "ids" and not has_pad:
                raise ValueError("masking='delete' pads shortened rows and needs a pad token.")
            return masking
        if self.model_input == "ids":
            raise ValueError(
                f"masking must be one of {list(MASKINGS)} for a token-id model; received {masking!r}."
            )
        return masking  # replacement text for string models

    def _mask_text(self) -> str:
        if self.masking == "mask":
            return str(self.tokenizer.mask_token)
        if self.masking == "pad":
            return str(self.tokenizer.pad_token)
        if self.masking == "delete":
            return ""
        return self.masking

    # ------------------------------------------------------------------ building blocks
    def tokenize(self, text: str, *, name: str = "text") -> TokenizedText:
        return tokenize(text, self.tokenizer, max_length=self.max_length, name=name)

    def groups(self, tokenized: TokenizedText, level: str | None = None) -> list[np.ndarray]:
        """Positions of each player at ``level``, in text order."""
        level = _check_choice(level or self.level, LEVELS, "level")
        keep = np.flatnonzero(~tokenized.special)
        if not self.keep_punctuation:
            words = [
                k for k in keep if not is_punctuation(tokenized.text[slice(*tokenized.offsets[k])])
            ]
            if words:  # a text of punctuation only keeps it (something must be explained)
                keep = np.asarray(words, dtype=np.int64)
        if level == "token":
            return [np.array([i]) for i in keep]
        ids = tokenized.word_ids if level == "word" else tokenized.sentence_ids
        return [keep[ids[keep] == g] for g in np.unique(ids[keep])]

    def game(self, text: str | TokenizedText, level: str | None = None) -> Game:
        """The value function of ``text`` at ``level`` (for inspection and tests)."""
        tok = text if isinstance(text, TokenizedText) else self.tokenize(text)
        groups = self.groups(tok, level)
        names = [_span_text(tok, g) for g in groups]
        hf = is_hf_tokenizer(self.tokenizer)
        if self.recurrent:
            return self._recurrent_game(tok, groups, names)
        return TextGame(
            self.model,
            tok,
            groups,
            model_input=self.model_input,
            masking=self.masking if self.masking in MASKINGS else "mask",
            mask_id=getattr(self.tokenizer, "mask_token_id", None) if hf else None,
            pad_id=getattr(self.tokenizer, "pad_token_id", None) if hf else None,
            mask_text=self._mask_text(),
            link=self.link,
            batch_size=self.batch_size,
            player_names=names,
            output_names=self.class_names or getattr(self.model, "output_names", None),
        )

    def _recurrent_game(self, tok: TokenizedText, groups, names) -> Game:
        """Token ids as a (T, 1) sequence; absent players' steps take the mask/pad id."""
        from ..games.recurrent import RecurrentMaskedGame

        fill = (
            self.tokenizer.mask_token_id if self.masking == "mask" else self.tokenizer.pad_token_id
        )
        ids = tok.ids.astype(float)
        background = np.where(tok.special, ids, float(fill))
        masks = np.zeros((len(groups), len(ids), 1), dtype=bool)
        for j, g in enumerate(groups):
            masks[j, g, 0] = True
        return RecurrentMaskedGame(
            self.model,
            ids[:, None],
            background[None, :, None],
            masks,
            link=self.link,
            batch_size=self.batch_size,
            player_names=names,
            output_names=self.class_names,
        )

    def hierarchy(self, text: str | TokenizedText, level: str | None = None) -> Any:
        """The Owen hierarchy over the players of ``text`` (nested lists of player indices)."""
        tok = text if isinstance(text, TokenizedText) else self.tokenize(text)
        return text_hierarchy(tok, self.groups(tok, level), max_children=self.max_children)

    # ------------------------------------------------------------------ explaining
    def explain(
        self,
        texts: str | list[str],
        *,
        level: str | None = None,
        method: str | None = None,
        budget: int | None = None,
        seed: Any = None,
        tol: float | None = None,
        **options: Any,
    ) -> Explanation | list[Explanation]:
        """Attributions of one text (an :class:`Explanation`) or of each text in a list.

        Each explanation holds one instance whose players are the text's tokens, words or
        sentences (``player_names`` are their text), every class as an output, and in ``meta``
        the text, each player's character spans, the masking and (Owen) the hierarchy.
        ``options`` go to the estimator (e.g. ``num_features`` for LIME).
        """
        single = isinstance(texts, str)
        if single:
            items = [texts]
        elif isinstance(texts, list | tuple) or (isinstance(texts, np.ndarray) and texts.ndim == 1):
            items = list(texts)
            if not items:
                raise ValueError("texts is an empty list; pass at least one string.")
        else:
            raise TypeError(
                f"texts must be a string or a list of strings; received {type(texts).__name__}."
            )
        level = _check_choice(level or self.level, LEVELS, "level")
        method = _check_choice(method or self.method, METHODS, "method")
        budget = self.budget if budget is None else check_budget(budget)
        tol = self.tol if tol is None else check_tol(tol)
        rng = check_random_state(self.seed if seed is None else seed)
        tokenized = [
            self.tokenize(t, name="text" if single else f"texts[{i}]") for i, t in enumerate(items)
        ]
        out = [
            self._explain_one(tok, level, method, budget, rng, tol, seed, options)
            for tok in tokenized
        ]
        return out[0] if single else out

    __call__ = explain

    def _explain_one(self, tok, level, method, budget, rng, tol, seed, options) -> Explanation:
        game = self.game(tok, level)
        m = game.n_players
        budget = default_budget(m) if budget is None else budget
        meta: dict[str, Any] = {
            "text": tok.text,
            "player_spans": [tok.offsets[g].tolist() for g in self.groups(tok, level)],
            "masking": self.masking,
            "truncated": tok.truncated,
            "model_input": self.model_input,
        }
        if method == "owen":
            hierarchy = text_hierarchy(tok, self.groups(tok, level), max_children=self.max_children)
            est = owen_values(game, hierarchy, budget, rng, tol=tol)
            meta["hierarchy"] = est.extras["hierarchy"]
        else:
            est = estimate(game, method, budget, rng, tol, **options)
            if method == "lime":
                meta["lime_score"] = np.asarray(est.extras["score"]).tolist()
        return explanation_from_estimates(
            [est],
            player_names=game.player_names,
            output_names=game.output_names,
            level=level,
            budget=budget,
            seed=_int_or_none(seed if seed is not None else self.seed),
            link=game.link_name,
            n_model_rows=[game.n_model_rows],
            meta=meta,
        )


def _sklearn_text_scores(estimator: Any) -> tuple[Any, list[str] | None]:
    """``(f(list[str]) -> scores, output names)`` for a fitted estimator over raw texts."""
    for method in ("predict_proba", "decision_function", "predict"):
        fn = getattr(estimator, method, None)
        if fn is not None:
            break
    classes = getattr(estimator, "classes_", None)
    names = [str(c) for c in classes] if classes is not None else None
    if method != "predict_proba" or (names is not None and len(names) < 2):
        names = None  # decision_function of a binary classifier is one column
    return (lambda texts: fn(list(texts))), names


def _span_text(tok: TokenizedText, positions: np.ndarray) -> str:
    start, end = int(tok.offsets[positions, 0].min()), int(tok.offsets[positions, 1].max())
    return tok.text[start:end].strip()


def _int_or_none(seed: Any) -> int | None:
    return seed if isinstance(seed, int) and not isinstance(seed, bool) else None


def _check_choice(value: Any, choices: tuple[str, ...], name: str) -> str:
    if value not in choices:
        raise ValueError(f"{name} must be one of {list(choices)}; received {value!r}.")
    return value
