"""ONNX Runtime adapter: an ``InferenceSession`` or an ``.onnx`` file → :class:`Model`.

The graph's first input takes the sequences and its first output gives the scores (or name
them). A recurrent graph exports its state as extra inputs and outputs — e.g. a torch GRU
exported with ``input_names=["x", "h0"], output_names=["scores", "hn"]`` and a dynamic batch
axis on ``h0``/``hn``. Name them with ``state_inputs=["h0"], state_outputs=["hn"]``; when
the names are not given and every extra input has a matching extra output of the same shape,
they are paired automatically. The initial state is zeros (torch's default for GRU/LSTM).

A plain graph (scores only) whose recurrence is ONNX ``GRU``/``LSTM``/``RNN`` operators gets
a rewritten copy with those states exposed as a candidate (:mod:`seqshap.models._onnx_state`),
used once the split check passes on the explained data. ``seqshap.export_onnx`` writes files
with the states exposed and named in the metadata (``seqshap.state_inputs`` /
``seqshap.state_outputs``, read here).

Names of the outputs (and of the input features, for the CLI) are read from the graph's
metadata when present: ``metadata_props`` keys ``seqshap.output_names`` and
``seqshap.feature_names`` holding JSON lists (see ``scripts/train_demo_model.py``).
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._optional import import_optional
from ._common import DEFAULT_MEMORY_BUDGET, check_batching, rows_for_budget
from .base import Model, RecurrentModel, State, _slice_rows

_DTYPES = {
    "tensor(float)": np.float32,
    "tensor(double)": np.float64,
    "tensor(float16)": np.float16,
    "tensor(int64)": np.int64,
    "tensor(int32)": np.int32,
}


def load_session(
    path: str | os.PathLike, *, threads: int | None = None, providers: Any = None
) -> Any:
    """An ``onnxruntime.InferenceSession`` for ``path`` (CUDA first when the build has it)."""
    ort = import_optional("onnxruntime", "ONNX models")
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model file {str(path)!r} does not exist.")
    opts = ort.SessionOptions()
    if threads is not None:
        opts.intra_op_num_threads = int(threads)
        opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    if providers is None:
        providers = ort.get_available_providers()
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=providers)
    except Exception as exc:  # onnxruntime raises its own Fail/InvalidGraph types
        raise ValueError(
            f"model file {str(path)!r} could not be loaded as ONNX: {str(exc).splitlines()[0]}"
        ) from None


def graph_names(session: Any, key: str) -> list[str] | None:
    """A JSON list stored under ``seqshap.<key>`` in the graph's metadata, if any."""
    try:
        raw = session.get_modelmeta().custom_metadata_map.get(f"seqshap.{key}")
        names = json.loads(raw) if raw else None
    except (AttributeError, ValueError):
        return None
    if isinstance(names, list) and all(isinstance(v, str) for v in names):
        return names
    return None


def _dtype(arg: Any) -> Any:
    dtype = _DTYPES.get(arg.type)
    if dtype is None:
        raise TypeError(
            f"ONNX input {arg.name!r} has type {arg.type}; seqshap feeds numeric tensors."
        )
    return dtype


def _batch_axis(arg: Any) -> int:
    symbolic = [i for i, s in enumerate(arg.shape) if not isinstance(s, int)]
    if len(symbolic) != 1:
        raise ValueError(
            f"ONNX state input {arg.name!r} has shape {arg.shape}; it needs exactly one dynamic "
            "(batch) axis. Export with dynamic_axes={'" + arg.name + "': {1: 'batch'}}."
        )
    return symbolic[0]


class OnnxModel(Model):
    """An ONNX Runtime session: first (or ``input_name``) input → first (or ``output_name``) output.

    Parameters
    ----------
    session : ``onnxruntime.InferenceSession`` or a path to an ``.onnx`` file.
    input_name, output_name : graph names (default: first input / first output).
    batch_size : rows per call; None sizes batches from ``memory_budget``.
    threads : intra-op threads when the session is created from a path (None: runtime default).
    """

    def __init__(
        self,
        session: Any,
        *,
        input_name: str | None = None,
        output_name: str | None = None,
        batch_size: int | None = None,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        threads: int | None = None,
        providers: Any = None,
    ):
        if isinstance(session, str | os.PathLike):
            session = load_session(session, threads=threads, providers=providers)
        if not (hasattr(session, "run") and hasattr(session, "get_inputs")):
            raise TypeError(
                f"session must be an onnxruntime.InferenceSession or a path to an .onnx file; "
                f"received {type(session).__name__}."
            )
        self.session = session
        inputs = {a.name: a for a in session.get_inputs()}
        outputs = [a.name for a in session.get_outputs()]
        self.input_name = input_name or session.get_inputs()[0].name
        self.output_name = output_name or outputs[0]
        if self.input_name not in inputs:
            raise ValueError(
                f"input_name {self.input_name!r} is not a graph input; inputs are {list(inputs)}."
            )
        if self.output_name not in outputs:
            raise ValueError(
                f"output_name {self.output_name!r} is not a graph output; outputs are {outputs}."
            )
        self._input_dtype = _dtype(inputs[self.input_name])
        self._fixed_batch, self.memory_budget = check_batching(batch_size, memory_budget)
        self.batch_size = self._fixed_batch
        self._extra_inputs = [n for n in inputs if n != self.input_name]
        self.output_names = graph_names(session, "output_names")
        self.feature_names = graph_names(session, "feature_names")

    # pickling (process pools): the session is rebuilt from its model file or bytes
    def __getstate__(self) -> dict[str, Any]:
        state = {k: v for k, v in self.__dict__.items() if k not in ("session", "_state_args")}
        source = getattr(self.session, "_model_bytes", None) or getattr(
            self.session, "_model_path", None
        )
        if source is None:
            raise TypeError("this ONNX session cannot be re-created in another process.")
        opts = self.session.get_session_options()
        state["_session_source"] = (source, opts.intra_op_num_threads, self.session.get_providers())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        ort = import_optional("onnxruntime", "ONNX models")
        source, threads, providers = state.pop("_session_source")
        self.__dict__.update(state)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.log_severity_level = 3
        self.session = ort.InferenceSession(source, sess_options=opts, providers=providers)
        if hasattr(self, "state_inputs"):
            inputs = {a.name: a for a in self.session.get_inputs()}
            self._state_args = [inputs[n] for n in self.state_inputs]

    def _rows(self, x: np.ndarray) -> int:
        if self._fixed_batch is not None:
            return self._fixed_batch
        return rows_for_budget(
            x.shape[1:], np.dtype(self._input_dtype).itemsize, self.memory_budget
        )

    def __call__(self, x: np.ndarray) -> np.ndarray:
        self.batch_size = self._rows(x)
        return super().__call__(x)

    def _feed(self, x: np.ndarray) -> dict[str, np.ndarray]:
        return {self.input_name: np.ascontiguousarray(x, dtype=self._input_dtype)}

    def predict(self, x: np.ndarray) -> np.ndarray:
        if self._extra_inputs:
            raise ValueError(
                f"the ONNX graph has further inputs {self._extra_inputs}; name the recurrent "
                "state with state_inputs=[...] and state_outputs=[...]."
            )
        return self.session.run([self.output_name], self._feed(x))[0]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(input={self.input_name!r}, output={self.output_name!r})"


class OnnxRecurrentModel(OnnxModel, RecurrentModel):
    """An ONNX graph with state inputs/outputs; states are tuples of numpy arrays."""

    def __init__(
        self,
        session: Any,
        *,
        state_inputs: Sequence[str],
        state_outputs: Sequence[str],
        **options: Any,
    ):
        super().__init__(session, **options)
        inputs = {a.name: a for a in self.session.get_inputs()}
        outputs = [a.name for a in self.session.get_outputs()]
        state_inputs, state_outputs = list(state_inputs), list(state_outputs)
        if not state_inputs or len(state_inputs) != len(state_outputs):
            raise ValueError(
                "state_inputs and state_outputs must name the same number (≥ 1) of graph "
                f"inputs/outputs; received {state_inputs} and {state_outputs}."
            )
        for name in state_inputs:
            if name not in inputs:
                raise ValueError(
                    f"state input {name!r} is not a graph input; inputs are {list(inputs)}."
                )
        for name in state_outputs:
            if name not in outputs:
                raise ValueError(
                    f"state output {name!r} is not a graph output; outputs are {outputs}."
                )
        missing = [n for n in inputs if n != self.input_name and n not in state_inputs]
        if missing:
            raise ValueError(
                f"ONNX graph inputs {missing} are neither the sequence nor a state input."
            )
        self.state_inputs, self.state_outputs = state_inputs, state_outputs
        self._extra_inputs = []
        axes = {_batch_axis(inputs[n]) for n in state_inputs}
        if len(axes) != 1:
            raise ValueError(
                f"state inputs {state_inputs} keep the batch on different axes {axes}."
            )
        self.state_batch_axis = axes.pop()
        self._state_args = [inputs[n] for n in state_inputs]

    def initial_state(self, n: int) -> tuple[np.ndarray, ...]:
        return tuple(
            np.zeros(
                [n if i == self.state_batch_axis else s for i, s in enumerate(arg.shape)],
                dtype=_dtype(arg),
            )
            for arg in self._state_args
        )

    def forward(self, x: np.ndarray, state: State = None) -> tuple[np.ndarray, State]:
        rows = self.batch_size = self._rows(x)
        scores, states = [], []
        for i in range(0, len(x), rows):
            chunk = x[i : i + rows]
            if state is None:
                part = self.initial_state(len(chunk))
            elif rows >= len(x):
                part = state
            else:  # a chunk: views of its rows (copied once, contiguous, below)
                part = _slice_rows(state, i, i + len(chunk), self.state_batch_axis)
            feed = self._feed(chunk)
            for arg, value in zip(self._state_args, part):
                feed[arg.name] = np.ascontiguousarray(value, dtype=_dtype(arg))
            out = self.session.run([self.output_name, *self.state_outputs], feed)
            scores.append(out[0])
            states.append(tuple(out[1:]))
        new_state = states[0] if len(states) == 1 else self.concat_states(states)
        return np.concatenate(scores, axis=0), new_state

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x, None)[0]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self._checked(self.forward(x, None)[0], x.shape[0])


def _auto_pairs(session: Any, input_name: str | None) -> tuple[list[str], list[str]]:
    """Extra inputs paired (in order) with extra outputs of the same shape, or ([], [])."""
    ins = session.get_inputs()
    outs = session.get_outputs()
    main = input_name or ins[0].name
    extra_in = [a for a in ins if a.name != main]
    extra_out = list(outs[1:])
    if not extra_in or len(extra_in) != len(extra_out):
        return [], []
    if all(a.shape == b.shape for a, b in zip(extra_in, extra_out)):
        return [a.name for a in extra_in], [b.name for b in extra_out]
    return [], []


def adapt_onnx(
    session: Any,
    *,
    recurrent: bool | None = None,
    state_inputs: Sequence[str] | None = None,
    state_outputs: Sequence[str] | None = None,
    **options: Any,
) -> OnnxModel:
    """Plain or recurrent ONNX adapter (see the module docstring)."""
    if isinstance(session, str | os.PathLike):
        session = load_session(
            session, threads=options.pop("threads", None), providers=options.pop("providers", None)
        )
    from ._state import PLAIN, PREFIX_STATE, ModelInfo

    if recurrent is False:
        model = OnnxModel(session, **options)
        model.model_info = ModelInfo(PLAIN, "none", "recurrent=False was asked for.")
        return model
    if state_inputs is None and state_outputs is None:
        state_inputs = graph_names(session, "state_inputs")
        state_outputs = graph_names(session, "state_outputs")
        if state_inputs is None or state_outputs is None:
            state_inputs, state_outputs = _auto_pairs(session, options.get("input_name"))
        if not state_inputs:
            return _plain_with_candidate(session, recurrent, options)
    if state_inputs is None or state_outputs is None:
        raise ValueError("give both state_inputs and state_outputs (graph names), or neither.")
    model = OnnxRecurrentModel(
        session, state_inputs=state_inputs, state_outputs=state_outputs, **options
    )
    model.model_info = ModelInfo(
        PREFIX_STATE,
        "graph state inputs/outputs",
        f"the graph takes its state as {state_inputs} and returns it as {state_outputs}.",
    )
    return model


def _plain_with_candidate(session: Any, recurrent: bool | None, options: dict) -> OnnxModel:
    """The plain adapter, carrying a rewritten graph (``state_candidate``) when the graph has
    ONNX GRU/LSTM/RNN operators; ``recurrent=True`` checks it now on random rows."""
    from ._onnx_state import onnx_candidate
    from ._state import PLAIN, ModelInfo, resolve_state_path

    model = OnnxModel(session, **options)
    candidate, problem, detail = onnx_candidate(model)
    if candidate is None:
        model.model_info = ModelInfo(PLAIN, "none", f"{problem}.", detail)
        if recurrent:
            raise ValueError(
                f"recurrent=True, but the ONNX graph has no state path: {problem}. Name its "
                "state with state_inputs=[...] and state_outputs=[...] if it has one; inputs "
                f"are {[a.name for a in session.get_inputs()]}, outputs "
                f"{[a.name for a in session.get_outputs()]}."
            )
        return model
    model.state_candidate = candidate
    model.model_info = ModelInfo(
        PLAIN,
        candidate.access,
        "recurrent operators found; the state path is used once the split check passes on "
        "the explained data.",
        detail,
    )
    if not recurrent:
        return model
    shape = session.get_inputs()[0].shape if options.get("input_name") is None else None
    d = shape[-1] if shape and isinstance(shape[-1], int) else None
    if d is None:
        raise ValueError(
            "recurrent=True: the graph's number of input features is not fixed, so the split "
            "check has no rows; pass recurrent=None and let the explainer check on its data."
        )
    rows = np.random.default_rng(0).normal(size=(5, 8, d))
    chosen = resolve_state_path(model, rows, recurrent=True)
    if chosen is model:
        raise ValueError(f"recurrent=True, but the ONNX graph: {model.model_info}")
    return chosen
