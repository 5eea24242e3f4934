"""``export_onnx``: a torch module → an ONNX file with its recurrent state exposed.

Exports with the installed torch's TorchScript-based exporter (``dynamo=False``), which needs
no optional package (the default exporter of torch ≥ 2.9 wants ``onnxscript``), then rewrites
the graph's ``GRU``/``LSTM``/``RNN`` operators to take their initial states as inputs and give
their final states as outputs (:func:`seqshap.models._onnx_state.expose_states`), names them in
the graph metadata (``seqshap.state_inputs`` / ``seqshap.state_outputs``), and checks the file
against the module on ``example``: whole rows, and rows run in pieces with the states handed
over, must give the module's scores. The file is then on seqshap's prefix-state path when
loaded (``seqshap.adapt(path)``), and any ONNX runtime can run it in pieces: feed zeros of shape
``(1, n, hidden)`` per state to start.
"""

from __future__ import annotations

import io
import json
import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import import_optional
from ._state import ModelInfo, check_split

logger = logging.getLogger("seqshap.models")


def _scores_only(module: Any) -> Any:
    torch = import_optional("torch", "PyTorch models")
    from ._torch import _first_tensor

    class ScoresOnly(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, x: Any) -> Any:
            return _first_tensor(self.inner(x))

    return ScoresOnly(module)


def export_onnx(
    model: Any,
    example: Any,
    path: str | os.PathLike,
    *,
    output_names: Sequence[str] | None = None,
    feature_names: Sequence[str] | None = None,
    opset_version: int = 17,
) -> ModelInfo:
    """Write ``model`` (a ``torch.nn.Module`` whose ``forward(x)`` returns scores, or
    ``(scores, state)``) to ``path`` as ONNX with its recurrent state exposed.

    ``example``: real input rows ``(n, T, d)`` (n ≥ 1, T ≥ 2) — traced, and used to check the
    written file. ``output_names``/``feature_names`` are stored in the metadata (the CLI reads
    them). Returns the :class:`~seqshap.models.ModelInfo` of the check. Raises ``ValueError``
    with the reason when the module has no ONNX recurrent operator to expose (e.g. a Python loop
    over cells) or the file does not run in pieces like the module; nothing is written then.
    """
    torch = import_optional("torch", "PyTorch models")
    onnx = import_optional("onnx", "writing ONNX files")
    from ._onnx import OnnxRecurrentModel
    from ._onnx_state import expose_states, state_metadata
    from ._torch import TorchModel, eval_no_grad

    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module; received {type(model).__name__}.")
    rows = np.asarray(example.detach().cpu() if hasattr(example, "detach") else example)
    if rows.ndim == 2:
        rows = rows[None]
    if rows.ndim != 3 or rows.shape[0] < 1 or rows.shape[1] < 2:
        raise ValueError(
            f"example must be input rows of shape (n, T, d) with T >= 2; received shape "
            f"{rows.shape}. Pass a few real sequences, e.g. x_test[:4]."
        )
    path = Path(path)
    reference = TorchModel(model)
    wrapped = _scores_only(model)
    xt = reference.to_tensor(rows)
    buffer = io.BytesIO()
    with eval_no_grad(model), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        try:
            torch.onnx.export(
                wrapped,
                (xt,),
                buffer,
                dynamo=False,
                opset_version=opset_version,
                input_names=["x"],
                output_names=["scores"],
                dynamic_axes={"x": {0: "batch", 1: "time"}, "scores": {0: "batch"}},
            )
        except Exception as exc:
            raise ValueError(
                f"torch.onnx.export (dynamo=False) could not export {type(model).__name__}: "
                f"{str(exc).splitlines()[0]}"
            ) from exc
    proto = onnx.load_from_string(buffer.getvalue())
    exposed, problem = expose_states(proto, "x")
    if exposed is None:
        raise ValueError(
            f"{type(model).__name__} exported, but its state cannot be exposed: {problem}."
        )
    meta = state_metadata(exposed)
    if output_names is not None:
        meta["seqshap.output_names"] = json.dumps([str(n) for n in output_names])
    if feature_names is not None:
        meta["seqshap.feature_names"] = json.dumps([str(n) for n in feature_names])
    onnx.helper.set_model_props(exposed.model, meta)
    data = exposed.model.SerializeToString()
    candidate = OnnxRecurrentModel(
        _session(data),
        state_inputs=exposed.state_inputs,
        state_outputs=exposed.state_outputs,
    )
    try:
        err = check_split(candidate, reference, rows.astype(float))
    except Exception as exc:
        raise ValueError(
            f"the exported file does not run in pieces like {type(model).__name__} on example "
            f"({exc}); nothing was written. Explain the module itself (the plain path), or "
            "check that its recurrent layers start from zeros and feed the head from the last "
            "step."
        ) from exc
    path.write_bytes(data)
    info = ModelInfo(
        "prefix-state",
        "graph state inputs/outputs",
        f"{path.name} checked against the module on {len(rows)} example rows (largest "
        f"relative error {err:.1e}).",
        {**exposed.detail, "state_inputs": exposed.state_inputs, "max_error": err},
    )
    logger.info("seqshap: %s", info)
    return info


def _session(data: bytes) -> Any:
    ort = import_optional("onnxruntime", "ONNX models")
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(data, sess_options=opts, providers=["CPUExecutionProvider"])
