"""``adapt(model)``: one entry point from any supported model object to a :class:`Model`.

Frameworks are recognised without importing them: an object can only be a torch module if
torch was already imported by the user, and so on.
"""

from __future__ import annotations

import os
from typing import Any

from ._common import is_instance_of, type_module
from .base import CallableModel, Model, RecurrentCallableModel


def adapt(
    model: Any,
    *,
    recurrent: bool | None = None,
    batch_size: int | None = None,
    **options: Any,
) -> Model:
    """Wrap ``model`` so that it maps numpy ``(n, ...)`` arrays to ``(n, k)`` float scores.

    Supported: :class:`Model` (returned as is); a path to an ``.onnx``, TorchScript ``.pt``
    or ``.keras`` file; ``torch.nn.Module``; ``keras.Model``; ``onnxruntime.InferenceSession``;
    transformers sequence-classification models (pass ``tokenizer=``) and text-classification
    pipelines; scikit-learn, sktime and aeon estimators; plain callables.

    ``recurrent``: None detects a state path where the framework allows it: torch modules
    whose ``forward(x, h)`` returns ``(scores, h)`` and ONNX graphs with state inputs/outputs
    are used as given; plain torch modules with ``nn.GRU``/``nn.LSTM``/``nn.RNN`` layers (hooks),
    ONNX graphs with ``GRU``/``LSTM``/``RNN`` operators (graph rewrite) and Keras models
    chaining ``GRU``/``LSTM``/``SimpleRNN`` layers (``initial_state``) get a ``state_candidate``
    that the sequence explainer uses once a split check on the explained data passes
    (``model_info`` says which path and why). True requires a state path (checked now);
    False never uses one. For a plain callable, ``recurrent=True`` declares TimeSHAP's form
    ``f(x, h=None) -> (scores, h)``.

    Output names come from the model where it carries them: scikit-learn ``classes_``,
    Hugging Face ``id2label``, ONNX metadata (``seqshap.output_names``), and a ``classes_`` or
    ``class_names`` attribute on any other model (e.g. set on a Keras or torch model). The
    explainers take ``output_names=`` to name them otherwise.

    ``options`` go to the framework adapter: ``device``, ``memory_budget``, ``output`` and
    ``example`` (torch; ``example`` rows also for Keras: the split check runs on them now); ``state_inputs``, ``state_outputs``, ``input_name``, ``output_name``,
    ``threads`` (ONNX); ``method``, ``layout`` (scikit-learn/sktime); ``tokenizer``,
    ``output``, ``max_length`` (transformers).
    """
    if isinstance(model, Model):
        return model
    adapted = _adapt(model, recurrent=recurrent, batch_size=batch_size, **options)
    if not adapted.output_names:
        adapted.output_names = carried_output_names(model)
    return adapted


def carried_output_names(model: Any) -> list[str] | None:
    """Class names a model object carries itself: ``classes_`` (scikit-learn convention, also
    set by skorch and by users on torch/Keras models), ``class_names``, or a Hugging Face-style
    ``config.id2label``. None when there are none."""
    for attr in ("classes_", "class_names"):
        names = getattr(model, attr, None)
        if names is not None and not isinstance(names, str | bytes) and len(names) > 0:
            try:
                return [str(n) for n in names]
            except TypeError:
                return None
    id2label = getattr(getattr(model, "config", None), "id2label", None)
    if isinstance(id2label, dict) and id2label:
        try:
            return [str(id2label[i]) for i in range(len(id2label))]
        except KeyError:
            return None
    return None


def _adapt(
    model: Any,
    *,
    recurrent: bool | None,
    batch_size: int | None,
    **options: Any,
) -> Model:
    if batch_size is not None:
        options["batch_size"] = batch_size
    if isinstance(model, str | os.PathLike):
        from ._load import load_model

        return load_model(model, recurrent=recurrent, **options)
    if is_instance_of(model, "transformers", "Pipeline"):
        from ._hf import HFPipelineModel

        return HFPipelineModel(model, **options)
    if is_instance_of(model, "transformers", "PreTrainedModel"):
        from ._hf import HFTextModel

        return HFTextModel(model, options.pop("tokenizer", None), **options)
    if is_instance_of(model, "keras", "Model"):
        from ._keras import adapt_keras

        return adapt_keras(model, recurrent=recurrent, **options)
    if is_instance_of(model, "torch", "nn.Module"):
        from ._torch import adapt_torch

        return adapt_torch(model, recurrent=recurrent, **options)
    if is_instance_of(model, "onnxruntime", "InferenceSession"):
        from ._onnx import adapt_onnx

        return adapt_onnx(model, recurrent=recurrent, **options)
    if type_module(model) in ("sklearn", "sktime", "aeon") or _estimator_like(model):
        from ._sklearn import SklearnModel

        return SklearnModel(model, **options)
    if callable(model):
        if options.keys() - {"batch_size", "state_batch_axis"}:
            raise TypeError(
                f"unexpected options {sorted(options)} for a plain callable model; only "
                "batch_size (and state_batch_axis with recurrent=True) apply."
            )
        if recurrent:
            return RecurrentCallableModel(model, **options)
        options.pop("state_batch_axis", None)
        return CallableModel(model, **options)
    raise TypeError(
        f"model must be a callable or a supported model object (torch, keras, onnxruntime, "
        f"scikit-learn/sktime/aeon, transformers, or a model file path); received "
        f"{type(model).__module__}.{type(model).__name__}."
    )


def _estimator_like(model: Any) -> bool:
    from ._sklearn import looks_like_estimator

    return not callable(model) and looks_like_estimator(model)
