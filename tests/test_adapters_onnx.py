"""ONNX Runtime adapter: a torch GRU exported with its state, plain and state paths agree."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("onnx")
torch.set_num_threads(1)

from seqshap.models import OnnxModel, OnnxRecurrentModel, adapt, load_model  # noqa: E402


class GRUNet(torch.nn.Module):
    def __init__(self, d=3, hidden=6, layers=2, k=2):
        super().__init__()
        self.rnn = torch.nn.GRU(d, hidden, layers, batch_first=True)
        self.head = torch.nn.Linear(hidden, k)

    def forward(self, x, h):
        out, h = self.rnn(x, h)
        return torch.softmax(self.head(out[:, -1]), -1), h


def _export(net, path, with_state=True):
    x = torch.randn(2, 5, 3)
    h = torch.zeros(2, 2, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the legacy exporter's deprecation notices
        if with_state:
            torch.onnx.export(
                net, (x, h), str(path), dynamo=False, opset_version=17,
                input_names=["x", "h0"], output_names=["scores", "hn"],
                dynamic_axes={"x": {0: "n", 1: "t"}, "h0": {1: "n"}, "scores": {0: "n"}, "hn": {1: "n"}},
            )  # fmt: skip
        else:

            class Scores(torch.nn.Module):
                def __init__(self, inner):
                    super().__init__()
                    self.inner = inner

                def forward(self, x):
                    return self.inner(x, None)[0]

            torch.onnx.export(
                Scores(net), (x,), str(path), dynamo=False, opset_version=17,
                input_names=["x"], output_names=["scores"],
                dynamic_axes={"x": {0: "n", 1: "t"}, "scores": {0: "n"}},
            )  # fmt: skip
    return path


@pytest.fixture(scope="module")
def net():
    torch.manual_seed(0)
    return GRUNet().eval()


@pytest.fixture(scope="module")
def gru_onnx(net, tmp_path_factory):
    return _export(net, tmp_path_factory.mktemp("onnx") / "gru.onnx")


def _x(n=9, t=8, seed=0):
    return np.random.default_rng(seed).normal(size=(n, t, 3))


def _reference(net, x):
    with torch.no_grad():
        return net(torch.as_tensor(x, dtype=torch.float32), None)[0].double().numpy()


def test_state_pairs_detected_and_state_path_equals_plain(net, gru_onnx):
    model = adapt(str(gru_onnx))
    assert isinstance(model, OnnxRecurrentModel)
    assert model.state_inputs == ["h0"] and model.state_outputs == ["hn"]
    assert model.state_batch_axis == 1
    x = _x()
    plain = model(x)
    np.testing.assert_allclose(plain, _reference(net, x), atol=1e-5)
    for split in (1, 3, 7):
        _, state = model.forward(x[:, :split])
        np.testing.assert_allclose(model.forward(x[:, split:], state)[0], plain, atol=1e-6)
    _, state = model.forward(x[:, :4])
    idx = np.array([8, 2, 2])
    np.testing.assert_allclose(
        model.forward(x[idx, 4:], model.take_state(state, idx))[0], plain[idx], atol=1e-6
    )


def test_explicit_names_session_and_batch_invariance(gru_onnx):
    session = ort.InferenceSession(str(gru_onnx), providers=["CPUExecutionProvider"])
    x = _x(n=10)
    ref = adapt(session)(x)
    for options in ({"batch_size": 1}, {"batch_size": 3}, {"memory_budget": 1}):
        model = adapt(session, state_inputs=["h0"], state_outputs=["hn"], **options)
        np.testing.assert_allclose(model(x), ref, atol=1e-6)
        _, state = model.forward(x[:, :5])
        np.testing.assert_allclose(model.forward(x[:, 5:], state)[0], ref, atol=1e-6)


def test_plain_graph(net, tmp_path):
    path = _export(net, tmp_path / "plain.onnx", with_state=False)
    model = load_model(path, threads=1)
    assert type(model) is OnnxModel and not model.recurrent
    x = _x()
    np.testing.assert_allclose(model(x), _reference(net, x), atol=1e-5)
    assert model.state_candidate is not None  # ONNX GRU operators: checked before use
    assert adapt(str(path), recurrent=True).recurrent  # checked now, on random rows


def test_bad_names_and_recurrent_false(gru_onnx):
    with pytest.raises(ValueError, match="not a graph input"):
        adapt(str(gru_onnx), state_inputs=["nope"], state_outputs=["hn"])
    with pytest.raises(ValueError, match="not a graph output"):
        adapt(str(gru_onnx), output_name="nope", recurrent=False)
    plain = adapt(str(gru_onnx), recurrent=False)
    with pytest.raises(ValueError, match="further inputs"):
        plain(_x())


def test_not_onnx_file(tmp_path):
    bad = tmp_path / "junk.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="could not be loaded as ONNX"):
        adapt(str(bad))
    with pytest.raises(FileNotFoundError):
        adapt(str(tmp_path / "missing.onnx"))


def test_pickle_roundtrip_rebuilds_the_session(gru_onnx):
    import pickle

    x = _x()
    for model in (adapt(str(gru_onnx)), adapt(ort.InferenceSession(str(gru_onnx)))):
        clone = pickle.loads(pickle.dumps(model))  # what a process pool does
        assert type(clone) is type(model) and clone.state_inputs == ["h0"]
        np.testing.assert_allclose(clone(x), model(x), atol=0)
        _, state = clone.forward(x[:, :3])
        np.testing.assert_allclose(clone.forward(x[:, 3:], state)[0], model(x), atol=1e-6)
