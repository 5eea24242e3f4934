"""The prefix-state path for ONNX graphs with ``GRU`` / ``LSTM`` / ``RNN`` operators.

A plain export of an "RNN -> head" model (``torch.onnx.export`` of a module with ``nn.GRU``,
Keras/tf2onnx, ...) computes its recurrence with ONNX's ``GRU``/``LSTM``/``RNN`` operators, whose
initial states are optional inputs (``initial_h``, and ``initial_c`` for LSTM) and whose final
states are optional outputs (``Y_h``, ``Y_c``). :func:`expose_states` rewrites a copy of the graph
with the ``onnx`` library so that every such state is a graph input (``seqshap_state_in_k``) and a
graph output, each ``(1, batch, hidden)`` (``layout=0``) or ``(batch, 1, hidden)``
(``layout=1``). The graph's own initial states (zeros from ``ConstantOfShape`` in a torch
export, or anything else it computes) are kept: a small graph extracted from the original
computes them from the input for runs that start at step 0. Nothing else changes, so the
rewritten graph is the user's model run in pieces; whether that composes (a head on the last
step, nothing over the whole time axis) is decided by the split check on the explained data
(:mod:`seqshap.models._state`). ``Scan``/``Loop`` graphs (an unrolled or scripted recurrence)
and bidirectional or reverse operators keep the plain path, with the reason.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._optional import import_optional
from ._onnx import OnnxModel, OnnxRecurrentModel, load_session

_RNN_OPS = ("GRU", "LSTM", "RNN")
_LOOP_OPS = ("Scan", "Loop")
STATE_IN, STATE_OUT = "seqshap_state_in_", "seqshap_state_out_"


@dataclass
class ExposedGraph:
    """A rewritten model: the graph with state inputs/outputs, and how to start it."""

    model: Any  # onnx.ModelProto
    state_inputs: list[str]
    state_outputs: list[str]
    initial: list[str]  # per state: the original graph's value for it ('' = zeros)
    init_model: Any  # onnx.ModelProto computing the non-empty initial values from the input
    detail: dict[str, Any]


def _attr(node: Any, name: str, default: Any) -> Any:
    onnx = import_optional("onnx", "rewriting ONNX graphs")
    for a in node.attribute:
        if a.name == name:
            value = onnx.helper.get_attribute_value(a)
            return value.decode() if isinstance(value, bytes) else value
    return default


def _ops(graph: Any) -> list[Any]:
    """Every node of ``graph`` and of its subgraphs."""
    out = []
    for node in graph.node:
        out.append(node)
        for a in node.attribute:
            if a.g is not None and a.g.node:
                out.extend(_ops(a.g))
            for g in a.graphs:
                out.extend(_ops(g))
    return out


def _elem_type(model: Any, node: Any) -> int:
    onnx = import_optional("onnx", "rewriting ONNX graphs")
    for init in model.graph.initializer:
        if init.name == node.input[1]:  # W
            return init.data_type
    return onnx.TensorProto.FLOAT


def expose_states(model: Any, input_name: str) -> tuple[ExposedGraph | None, str | None]:
    """``(rewritten graph, None)`` or ``(None, why not)`` for an ``onnx.ModelProto``."""
    onnx = import_optional("onnx", "rewriting ONNX graphs")
    helper = onnx.helper
    every = _ops(model.graph)
    loops = sorted({n.op_type for n in every if n.op_type in _LOOP_OPS})
    rnns = [n for n in model.graph.node if n.op_type in _RNN_OPS]
    nested = [n for n in every if n.op_type in _RNN_OPS and n not in rnns]
    if loops:
        return None, (
            f"the graph's recurrence runs in {'/'.join(loops)} operators (an unrolled or scripted "
            "loop), whose state cannot be handed over from outside; export the model with "
            "nn.GRU/nn.LSTM/nn.RNN layers (seqshap.export_onnx writes one with its state exposed)"
        )
    if nested:
        return None, "the graph's recurrent operators sit inside a subgraph"
    if not rnns:
        return None, "no ONNX GRU / LSTM / RNN operator in the graph"
    layouts = set()
    for node in rnns:
        direction = _attr(node, "direction", "forward")
        if direction != "forward":
            return None, (
                f"ONNX {node.op_type} node {node.name!r} runs {direction}: its outputs depend "
                "on later steps, so there is no state after a prefix"
            )
        layouts.add(int(_attr(node, "layout", 0)))
    if len(layouts) != 1:
        return None, "the graph's recurrent operators use different layouts (batch axes)"
    layout = layouts.pop()
    new = onnx.ModelProto()
    new.CopyFrom(model)
    graph = new.graph
    outputs = {o.name for o in graph.output}
    state_in, state_out, initial, layers, elems = [], [], [], [], []
    k = 0
    for node in graph.node:
        if node.op_type not in _RNN_OPS:
            continue
        hidden = int(_attr(node, "hidden_size", 0))
        elem = _elem_type(new, node)
        layers.append(f"{node.op_type}({node.name or '?'}, hidden_size={hidden})")
        for j in range(2 if node.op_type == "LSTM" else 1):
            slot_in, slot_out = 5 + j, 1 + j
            while len(node.input) <= slot_in:
                node.input.append("")
            initial.append(node.input[slot_in])
            elems.append((node.input[slot_in], elem))
            name_in = f"{STATE_IN}{k}"
            node.input[slot_in] = name_in
            shape = [1, "batch", hidden] if layout == 0 else ["batch", 1, hidden]
            graph.input.append(helper.make_tensor_value_info(name_in, elem, shape))
            while len(node.output) <= slot_out:
                node.output.append("")
            if not node.output[slot_out]:
                node.output[slot_out] = f"{STATE_OUT}{k}"
            name_out = node.output[slot_out]
            if name_out not in outputs:
                graph.output.append(helper.make_tensor_value_info(name_out, elem, shape))
                outputs.add(name_out)
            state_in.append(name_in)
            state_out.append(name_out)
            k += 1
    for arg in graph.input:  # sequences of any length and batch
        if arg.name == input_name:
            dims = arg.type.tensor_type.shape.dim
            for i, dim in enumerate(dims[:-1]):
                if dim.HasField("dim_value"):
                    dim.dim_param = f"seqshap_axis_{i}"
    init_model = None
    zeros = _zero_values(model)
    initial = ["" if name in zeros else name for name in initial]  # zeros: no extra graph
    wanted = sorted({name for name in initial if name})
    if wanted:
        init_model, problem = _initial_graph(model, wanted, {n: e for n, e in elems})
        if init_model is None:
            return None, problem
    detail = {"layers": layers, "state_batch_axis": 1 if layout == 0 else 0}
    return ExposedGraph(new, state_in, state_out, initial, init_model, detail), None


#: operators that only move, select or repeat the elements of their data inputs
_MOVES = ("Slice", "Gather", "Squeeze", "Unsqueeze", "Reshape", "Expand", "Identity",
          "Transpose", "Split", "Concat", "Tile", "Flatten", "Cast")  # fmt: skip


def _zero_values(model: Any) -> set[str]:
    """Names of top-level values that are all zeros whatever the input: ``ConstantOfShape``
    with a zero (or no) ``value``, zero initializers, and anything only moved from them (the
    initial states of a torch export with ``h0=None``)."""
    onnx = import_optional("onnx", "rewriting ONNX graphs")
    numpy_helper = onnx.numpy_helper
    zeros: set[str] = set()
    for t in model.graph.initializer:
        if not np.any(numpy_helper.to_array(t)):
            zeros.add(t.name)
    for node in model.graph.node:  # topological order
        if node.op_type == "ConstantOfShape":
            value = _attr(node, "value", None)
            if value is None or not np.any(numpy_helper.to_array(value)):
                zeros.update(node.output)
        elif node.op_type in _MOVES and node.input and node.input[0] in zeros:
            data = node.input if node.op_type == "Concat" else node.input[:1]
            if all(name in zeros for name in data):
                zeros.update(node.output)
    return zeros


def _initial_graph(model: Any, wanted: list[str], elems: dict[str, int]) -> tuple[Any, str | None]:
    """The part of ``model`` that computes the values ``wanted`` (the recurrent operators'
    initial states), as a model of its own: the nodes they depend on, nothing after."""
    onnx = import_optional("onnx", "rewriting ONNX graphs")
    graph = model.graph
    producer = {out: node for node in graph.node for out in node.output if out}
    inputs = {a.name for a in graph.input}
    inits = {t.name for t in graph.initializer}
    needed, todo, seen = [], list(wanted), set()
    while todo:
        name = todo.pop()
        if name in seen or name in inputs or name in inits or not name:
            continue
        seen.add(name)
        node = producer.get(name)
        if node is None:
            return None, f"the graph's initial state {name!r} is produced by no node"
        if node.op_type in _RNN_OPS:
            return None, f"the graph's initial state {name!r} comes from a recurrent operator"
        needed.append(node)
        todo.extend(node.input)
        for a in node.attribute:  # names a subgraph reads from the outer scope
            if a.g is not None:
                todo.extend(i for n in a.g.node for i in n.input)
    keep = {id(n) for n in needed}
    nodes = [n for n in graph.node if id(n) in keep]  # original (topological) order
    used = {i for n in nodes for i in n.input} | set(wanted)
    sub = onnx.helper.make_graph(
        nodes,
        "seqshap_initial_state",
        [a for a in graph.input if a.name in used],
        [onnx.helper.make_tensor_value_info(n, elems[n], None) for n in wanted],
        [t for t in graph.initializer if t.name in used],
    )
    out = onnx.helper.make_model(sub, opset_imports=list(model.opset_import))
    out.ir_version = model.ir_version
    return out, None


class OnnxStateModel(OnnxRecurrentModel):
    """A rewritten graph (:func:`expose_states`): states in and out, and the graph's own
    initial state for runs from step 0."""

    access = "onnx graph rewrite"
    split_tolerance = 1e-5

    def __init__(self, exposed: ExposedGraph, plain: OnnxModel, threads: int | None = None):
        ort = import_optional("onnxruntime", "ONNX models")
        opts = ort.SessionOptions()
        opts.log_severity_level = 3
        if threads:
            opts.intra_op_num_threads = int(threads)
            opts.inter_op_num_threads = 1
        providers = plain.session.get_providers()
        session = ort.InferenceSession(
            exposed.model.SerializeToString(), sess_options=opts, providers=providers
        )
        super().__init__(
            session,
            state_inputs=exposed.state_inputs,
            state_outputs=exposed.state_outputs,
            input_name=plain.input_name,
            output_name=plain.output_name,
            batch_size=plain._fixed_batch,
            memory_budget=plain.memory_budget,
        )
        self.output_names = plain.output_names
        self.feature_names = plain.feature_names
        self._initial = list(exposed.initial)
        self._init_bytes = (
            None if exposed.init_model is None else exposed.init_model.SerializeToString()
        )
        self._init_session = None
        self._threads = threads
        self.detail = dict(exposed.detail)

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        state["_init_session"] = None
        return state

    def _start(self, x: np.ndarray) -> tuple[np.ndarray, ...]:
        """The graph's own initial states for the rows ``x`` (zeros where it has none)."""
        zeros = self.initial_state(len(x))
        if self._init_bytes is None:
            return zeros
        if self._init_session is None:
            ort = import_optional("onnxruntime", "ONNX models")
            opts = ort.SessionOptions()
            opts.log_severity_level = 3
            if self._threads:
                opts.intra_op_num_threads = int(self._threads)
                opts.inter_op_num_threads = 1
            self._init_session = ort.InferenceSession(
                self._init_bytes, sess_options=opts, providers=self.session.get_providers()
            )
        names = [o.name for o in self._init_session.get_outputs()]
        wanted = {a.name for a in self._init_session.get_inputs()}
        feed = {k: v for k, v in self._feed(x).items() if k in wanted}
        values = dict(zip(names, self._init_session.run(names, feed)))
        return tuple(values[n] if n else z for n, z in zip(self._initial, zeros))

    def forward(self, x: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        if state is None and self._init_bytes is not None:
            state = self._start(x)
        return super().forward(x, state)


def model_proto(session: Any) -> Any:
    """The ``onnx.ModelProto`` an ``InferenceSession`` was built from (None if unknown)."""
    onnx = import_optional("onnx", "rewriting ONNX graphs")
    raw = getattr(session, "_model_bytes", None)
    if raw:
        return onnx.load_from_string(raw)
    path = getattr(session, "_model_path", None)
    if path:
        return onnx.load(path)
    return None


def onnx_candidate(plain: OnnxModel) -> tuple[OnnxStateModel | None, str | None, dict]:
    """``(candidate, problem, detail)`` for the plain adapter of an ONNX graph."""
    try:
        proto = model_proto(plain.session)
    except ImportError as exc:
        return None, str(exc).splitlines()[0], {}
    if proto is None:
        return None, "the session does not keep its model bytes, so its graph cannot be read", {}
    exposed, problem = expose_states(proto, plain.input_name)
    if exposed is None:
        return None, problem, {}
    threads = plain.session.get_session_options().intra_op_num_threads
    try:
        candidate = OnnxStateModel(exposed, plain, threads=threads or None)
    except Exception as exc:  # noqa: BLE001 - the runtime refused the rewrite: say so
        return None, f"onnxruntime refused the rewritten graph ({exc})", exposed.detail
    return candidate, None, exposed.detail


def state_metadata(exposed: ExposedGraph) -> dict[str, str]:
    """Metadata naming the state inputs/outputs of a written graph (for other tools)."""
    return {
        "seqshap.state_inputs": json.dumps(exposed.state_inputs),
        "seqshap.state_outputs": json.dumps(exposed.state_outputs),
    }


__all__ = ["ExposedGraph", "OnnxStateModel", "expose_states", "load_session", "onnx_candidate"]
