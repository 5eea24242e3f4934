"""The prefix-state path on plain ONNX graphs (rewritten to expose GRU/LSTM/RNN states), and
``export_onnx``. Theory as for torch: running in pieces equals running whole for an
"RNN -> head on the last step" graph, so the values equal the plain path's; graphs that look
at the whole sequence, or loop in Scan/Loop, keep the plain path with the reason."""

from __future__ import annotations

import pickle
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
onnx = pytest.importorskip("onnx")
torch.set_num_threads(1)
nn = torch.nn

import seqshap  # noqa: E402
from seqshap import SequenceExplainer  # noqa: E402
from seqshap.models import OnnxModel, OnnxRecurrentModel, adapt  # noqa: E402

T, D, H = 6, 3, 5


class Net(nn.Module):
    def __init__(self, kind="GRU", layers=2, batch_first=True, pool=False, bidirectional=False):
        super().__init__()
        self.rnn = getattr(nn, kind)(
            D, H, layers, batch_first=batch_first, bidirectional=bidirectional
        )
        self.pool = pool
        self.head = nn.Linear(H * (2 if bidirectional else 1), 2)

    def forward(self, x):
        if not self.rnn.batch_first:
            out = self.rnn(x.transpose(0, 1))[0].transpose(0, 1)
        else:
            out = self.rnn(x)[0]
        return self.head(out.mean(1) if self.pool else out[:, -1])


def _export(net, path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation notices
        torch.onnx.export(
            net.eval(), (torch.zeros(2, 4, D),), str(path), dynamo=False, opset_version=17,
            input_names=["x"], output_names=["scores"],
            dynamic_axes={"x": {0: "n", 1: "t"}, "scores": {0: "n"}},
        )  # fmt: skip
    return str(path)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(T, D)), rng.normal(size=(3, T, D))


@pytest.mark.parametrize(
    "kind,layers,batch_first",
    [("GRU", 2, True), ("LSTM", 1, False), ("LSTM", 3, True), ("RNN", 2, False)],
)
def test_plain_export_values_equal_plain_path(kind, layers, batch_first, tmp_path):
    torch.manual_seed(layers)
    path = _export(Net(kind, layers, batch_first), tmp_path / "m.onnx")
    x, bg = _data()
    values = {}
    for recurrent in (None, False):
        ex = SequenceExplainer(path, bg, recurrent=recurrent)
        exp = ex.explain(x, levels=("event", "cell"), pruning_tol=None, top_events=2)
        values[recurrent] = (exp.event.values, exp.cell.values)
        assert ex.uses_hidden_states is (recurrent is None)
    ex = SequenceExplainer(path, bg)
    ex.prepare(x)
    assert ex.model_info.path == "prefix-state"
    assert ex.model_info.access == "onnx graph rewrite"
    assert len(ex.model_info.detail["layers"]) == layers
    for fast, plain in zip(values[None], values[False]):
        np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-6)


def test_rewritten_model_pickles_and_runs_in_chunks(tmp_path):
    torch.manual_seed(0)
    path = _export(Net("LSTM", 2), tmp_path / "m.onnx")
    x, bg = _data(1)
    plain = adapt(path, batch_size=2)
    model = plain.state_candidate
    rows = np.concatenate([x[None], bg])
    _, state = model.forward(rows[:, :3])
    scores, _ = model.forward(rows[:, 3:], state)
    np.testing.assert_allclose(scores, plain(rows), rtol=0, atol=1e-6)
    again = pickle.loads(pickle.dumps(model))
    np.testing.assert_allclose(again.forward(rows)[0], plain(rows), rtol=0, atol=1e-6)


def test_recurrent_true_on_a_plain_graph_checks_now(tmp_path):
    torch.manual_seed(0)
    path = _export(Net("GRU", 1), tmp_path / "m.onnx")
    model = adapt(path, recurrent=True)
    assert isinstance(model, OnnxRecurrentModel) and model.model_info.path == "prefix-state"
    assert type(adapt(path, recurrent=False)) is OnnxModel


@pytest.mark.parametrize(
    "net,reason",
    [
        (Net("GRU", 1, bidirectional=True), "bidirectional"),
        (Net("GRU", 2, pool=True), "split check"),
    ],
    ids=["bidirectional", "mean-pool"],
)
def test_graphs_that_must_fall_back_do_with_the_reason(net, reason, tmp_path):
    torch.manual_seed(0)
    path = _export(net, tmp_path / "m.onnx")
    x, bg = _data()
    ex = SequenceExplainer(path, bg)
    exp = ex.explain(x, levels=("event",), pruning_tol=None)
    assert not ex.uses_hidden_states
    assert ex.model_info.path == "plain" and reason in ex.model_info.reason
    ref = SequenceExplainer(path, bg, recurrent=False).explain(
        x, levels=("event",), pruning_tol=None
    )
    np.testing.assert_allclose(exp.event.values, ref.event.values, rtol=0, atol=1e-12)


def _scan_graph(path):
    """x (n, T, d) -> sum over time through a Scan (a loop whose state ONNX keeps inside)."""
    h, tp = onnx.helper, onnx.TensorProto
    body = h.make_graph(
        [h.make_node("Add", ["s_in", "x_t"], ["s_out"])],
        "body",
        [h.make_tensor_value_info("s_in", tp.FLOAT, ["n", D]),
         h.make_tensor_value_info("x_t", tp.FLOAT, ["n", D])],
        [h.make_tensor_value_info("s_out", tp.FLOAT, ["n", D])],
    )  # fmt: skip
    axes = h.make_tensor("axes", tp.INT64, [1], [1])
    zero = h.make_tensor("zero", tp.FLOAT, [], [0.0])
    nodes = [
        h.make_node("ReduceSum", ["x", "axes"], ["sum"], keepdims=0),
        h.make_node("Mul", ["sum", "zero"], ["s0"]),
        h.make_node("Scan", ["s0", "x"], ["scores"], body=body, num_scan_inputs=1,
                    scan_input_axes=[1]),
    ]  # fmt: skip
    graph = h.make_graph(
        nodes,
        "scan",
        [h.make_tensor_value_info("x", tp.FLOAT, ["n", "t", D])],
        [h.make_tensor_value_info("scores", tp.FLOAT, ["n", D])],
        [axes, zero],
    )
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return str(path)


def test_scan_graph_falls_back_with_the_reason(tmp_path):
    path = _scan_graph(tmp_path / "scan.onnx")
    x, bg = _data()
    model = adapt(path)
    np.testing.assert_allclose(model(x[None])[0], x.sum(0), rtol=1e-6)
    assert model.state_candidate is None and "Scan" in model.model_info.reason
    ex = SequenceExplainer(path, bg)
    exp = ex.explain(x, levels=("event",), pruning_tol=None)
    assert not ex.uses_hidden_states and "Scan" in ex.model_info.reason
    # additive model: each event's value is its difference to the background mean (Event -1
    # is the last row)
    np.testing.assert_allclose(exp.event.values[0], (x - bg.mean(0))[::-1], rtol=0, atol=1e-5)
    with pytest.raises(ValueError, match="Scan"):
        adapt(path, recurrent=True)


# ------------------------------------------------------------------------------- export_onnx
class XHNet(nn.Module):
    """TimeSHAP's form forward(x, h=None) -> (scores, h): exported by its scores."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(D, H, 2, batch_first=True)
        self.head = nn.Linear(H, 1)

    def forward(self, x, h=None):
        out, h = self.rnn(x, h)
        return torch.sigmoid(self.head(out[:, -1])), h


@pytest.mark.parametrize("make", [lambda: Net("GRU", 2), XHNet], ids=["plain", "x-h-form"])
def test_export_onnx_writes_a_state_exposed_file(make, tmp_path):
    torch.manual_seed(0)
    net = make()
    net.train()  # exported in eval mode; the module's flags come back
    x, bg = _data()
    path = tmp_path / "out.onnx"
    info = seqshap.export_onnx(
        net, bg, path, output_names=["a", "b"][: 2 if make is not XHNet else 1]
    )
    assert net.training and info.path == "prefix-state" and info.detail["max_error"] <= 1e-5
    model = adapt(str(path))
    assert isinstance(model, OnnxRecurrentModel)
    assert model.state_inputs == info.detail["state_inputs"]
    net.eval()
    ref = SequenceExplainer(net, bg, recurrent=False).explain(
        x, levels=("event",), pruning_tol=None
    )
    ex = SequenceExplainer(str(path), bg)
    got = ex.explain(x, levels=("event",), pruning_tol=None)
    assert ex.uses_hidden_states and ex.model_info.path == "prefix-state"
    np.testing.assert_allclose(got.event.values, ref.event.values, rtol=0, atol=1e-6)


def test_export_onnx_refuses_what_it_cannot_expose(tmp_path):
    class Cell(nn.Module):
        def __init__(self):
            super().__init__()
            self.cell = nn.GRUCell(D, H)
            self.head = nn.Linear(H, 1)

        def forward(self, x):
            h = x.new_zeros(x.shape[0], H)
            for t in range(x.shape[1]):
                h = self.cell(x[:, t], h)
            return self.head(h)

    _, bg = _data()
    path = tmp_path / "cell.onnx"
    with pytest.raises(ValueError, match="no ONNX GRU"):
        seqshap.export_onnx(Cell(), bg, path)
    with pytest.raises(ValueError, match="does not run in pieces"):
        seqshap.export_onnx(Net("GRU", 1, pool=True), bg, path)
    assert not path.exists()
    with pytest.raises(ValueError, match=r"example must be .*\(n, T, d\)"):
        seqshap.export_onnx(Net(), np.zeros((2, 1, D)), path)


class LearnedStart(nn.Module):
    """A learned initial state: the rewritten graph must start from it, not from zeros."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(D, H, 2, batch_first=True)
        self.h0 = nn.Parameter(torch.randn(2, 1, H))
        self.head = nn.Linear(H, 2)

    def forward(self, x):
        h0 = self.h0.expand(-1, x.shape[0], -1).contiguous()
        return self.head(self.rnn(x, h0)[0][:, -1])


def test_graph_initial_state_kept_when_not_zeros(tmp_path):
    torch.manual_seed(0)
    path = _export(LearnedStart(), tmp_path / "m.onnx")
    model = adapt(path).state_candidate
    assert model._init_bytes is not None  # computed by the extracted part of the graph
    x, bg = _data()
    values = {}
    for recurrent in (None, False):
        ex = SequenceExplainer(path, bg, recurrent=recurrent)
        values[recurrent] = ex.explain(x, levels=("event",), pruning_tol=None).event.values
        assert ex.uses_hidden_states is (recurrent is None)
    np.testing.assert_allclose(values[None], values[False], rtol=0, atol=1e-6)
    torch_zeros = model.initial_state(2)[0]
    assert np.abs(model._start(bg[:2])[0] - torch_zeros).max() > 0.1  # not zeros
