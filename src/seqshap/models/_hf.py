"""Hugging Face adapter: sequence-classification models with their tokenizer, and pipelines.

Text models take an array of strings ``(n,)`` (or token-id rows ``(n, L)``, padded with the
tokenizer's pad id) and return ``(n, k)`` scores: probabilities (softmax, or sigmoid for
multi-label models) or raw logits with ``output="logits"``. Token-level explanations are
built on top of this by the text explainer.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._optional import import_optional
from .._validation import check_model_output
from .base import Model

_OUTPUTS = ("probabilities", "logits")


def _labels(config: Any, k: int | None = None) -> list[str] | None:
    id2label = getattr(config, "id2label", None)
    if not id2label:
        return None
    return [str(id2label[i]) for i in sorted(id2label)]


def _as_texts(x: Any, name: str = "x") -> list[str] | np.ndarray:
    arr = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
    if arr.ndim == 0:
        arr = arr[None]
    if arr.dtype.kind in "iu" and arr.ndim == 2:
        return arr
    if arr.ndim != 1 or not all(isinstance(v, str) for v in arr):
        raise TypeError(
            f"{name} must be a list or 1-D array of strings (or 2-D integer token ids); "
            f"received an array of shape {arr.shape} and dtype {arr.dtype}."
        )
    return [str(v) for v in arr]


class HFTextModel(Model):
    """A transformers ``...ForSequenceClassification`` model with its tokenizer.

    Parameters
    ----------
    model : the (PyTorch) transformers model; train/eval flags restored after each call.
    tokenizer : its tokenizer (padding and truncation on).
    output : "probabilities" (default) or "logits".
    max_length : truncation length (None: the tokenizer's model maximum).
    batch_size : texts per call.
    device : None (where the model is), "auto" or a torch device.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        output: str = "probabilities",
        max_length: int | None = None,
        batch_size: int = 32,
        device: Any = None,
    ):
        from ._torch import resolve_device

        if tokenizer is None or not callable(tokenizer):
            raise TypeError(
                "tokenizer is required for a Hugging Face model: adapt(model, tokenizer=tok)."
            )
        if output not in _OUTPUTS:
            raise ValueError(f"output must be one of {list(_OUTPUTS)}; received {output!r}.")
        self.user_model = model
        self.model, self.device = resolve_device(model, device)
        self.tokenizer = tokenizer
        self.output = output
        self.max_length = max_length
        self.batch_size = batch_size
        self.output_names = _labels(getattr(model, "config", None))

    def __call__(self, x: Any) -> np.ndarray:
        texts = _as_texts(x)
        n = len(texts)
        parts = [self.predict(texts[i : i + self.batch_size]) for i in range(0, n, self.batch_size)]
        return check_model_output(np.concatenate(parts, axis=0), n_rows=n)

    def _encode(self, texts: Any) -> dict[str, Any]:
        torch = import_optional("torch", "Hugging Face models")
        if isinstance(texts, np.ndarray):  # token ids
            ids = torch.as_tensor(texts, dtype=torch.long, device=self.device)
            pad = getattr(self.tokenizer, "pad_token_id", None)
            mask = torch.ones_like(ids) if pad is None else (ids != pad).long()
            return {"input_ids": ids, "attention_mask": mask}
        enc = self.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        return {k: v.to(self.device) for k, v in enc.items()}

    def predict(self, texts: Any) -> np.ndarray:
        from ._torch import _to_numpy, eval_no_grad

        torch = import_optional("torch", "Hugging Face models")
        with eval_no_grad(self.model):
            logits = self.model(**self._encode(texts)).logits
            if self.output == "probabilities":
                multi = (
                    getattr(self.model.config, "problem_type", None) == "multi_label_classification"
                )
                logits = torch.sigmoid(logits) if multi else torch.softmax(logits, dim=-1)
        return _to_numpy(logits)

    def __repr__(self) -> str:
        return f"HFTextModel({type(self.user_model).__name__}, output={self.output!r})"


class HFPipelineModel(Model):
    """A transformers text-classification ``Pipeline``: texts → ``(n, k)`` class scores.

    Scores come from the pipeline (its ``function_to_apply``, softmax by default), one column
    per label in the order of ``model.config.id2label``.
    """

    def __init__(self, pipeline: Any, *, batch_size: int = 32):
        task = getattr(pipeline, "task", None)
        if task not in ("text-classification", "sentiment-analysis"):
            raise ValueError(
                f"only text-classification pipelines are supported; received task {task!r}."
            )
        self.pipeline = pipeline
        self.batch_size = batch_size
        self.output_names = _labels(pipeline.model.config)
        if not self.output_names:
            raise ValueError(
                "the pipeline's model config has no id2label; set it before explaining."
            )

    def __call__(self, x: Any) -> np.ndarray:
        texts = _as_texts(x)
        if isinstance(texts, np.ndarray):
            raise TypeError("a pipeline takes strings, not token ids.")
        return check_model_output(self.predict(texts), n_rows=len(texts))

    def predict(self, texts: Any) -> np.ndarray:
        from ._torch import eval_no_grad

        index = {name: j for j, name in enumerate(self.output_names)}
        with eval_no_grad(self.pipeline.model):
            results = self.pipeline(list(texts), top_k=None, batch_size=self.batch_size)
        out = np.zeros((len(texts), len(index)))
        for i, row in enumerate(results):
            for item in row:
                out[i, index[str(item["label"])]] = item["score"]
        return out

    def __repr__(self) -> str:
        return f"HFPipelineModel({type(self.pipeline.model).__name__})"
