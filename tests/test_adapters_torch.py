"""PyTorch adapter: plain path, automatic state path, modes restored, batching, TorchScript."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)

from seqshap.models import (  # noqa: E402
    Model,
    TorchModel,
    TorchRecurrentModel,
    UnsafeModelFileError,
    adapt,
    load_model,
)


class GRUNet(torch.nn.Module):
    """The usual pattern: forward(x, h=None) -> (scores, h)."""

    def __init__(self, d=3, hidden=5, layers=2, k=2):
        super().__init__()
        self.rnn = torch.nn.GRU(d, hidden, layers, batch_first=True, dropout=0.3)
        self.drop = torch.nn.Dropout(0.5)
        self.head = torch.nn.Linear(hidden, k)

    def forward(self, x, h: torch.Tensor | None = None):  # annotated for TorchScript
        out, h = self.rnn(x, h)
        return self.head(self.drop(out[:, -1])), h


class LSTMNet(torch.nn.Module):
    def __init__(self, d=3, hidden=4):
        super().__init__()
        self.rnn = torch.nn.LSTM(d, hidden, 1, batch_first=True)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x, state=None):
        out, state = self.rnn(x, state)
        return torch.sigmoid(self.head(out[:, -1])), state


class Plain(torch.nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.rnn = torch.nn.GRU(d, 4, batch_first=True)
        self.head = torch.nn.Linear(4, 3)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


class MaskArg(torch.nn.Module):
    """Takes a second argument that is not a state: must not be taken for recurrent."""

    def __init__(self, d=3):
        super().__init__()
        self.lin = torch.nn.Linear(d, 2)

    def forward(self, x, mask=None):
        return self.lin(x.mean(1))


class CumSum(torch.nn.Module):
    """The documented protocol: seqshap_forward with the batch on axis 0 of the state."""

    seqshap_state_batch_axis = 0

    def __init__(self, d=3):
        super().__init__()
        self.lin = torch.nn.Linear(d, 2)

    def seqshap_forward(self, x, state=None):
        total = x.sum(1) if state is None else state + x.sum(1)
        return self.lin(total), total

    def forward(self, x):
        return self.seqshap_forward(x)[0]


class Spy(torch.nn.Module):
    def __init__(self, d=3):
        super().__init__()
        self.lin = torch.nn.Linear(d, 1)
        self.seen = []

    def forward(self, x):
        self.seen.append((self.training, torch.is_grad_enabled(), x.shape[0]))
        if torch.isnan(x).any():
            raise RuntimeError("boom")
        return self.lin(x[:, -1])


def _x(n=7, t=9, d=3, seed=0):
    return np.random.default_rng(seed).normal(size=(n, t, d))


def _modes(m):
    return [s.training for s in m.modules()]


@pytest.mark.parametrize("net_cls", [GRUNet, LSTMNet])
def test_recurrent_detected_and_state_path_equals_plain(net_cls):
    torch.manual_seed(0)
    net = net_cls()
    net.eval()
    model = adapt(net)
    assert isinstance(model, TorchRecurrentModel) and model.recurrent
    x = _x()
    plain = model(x)
    with torch.no_grad():
        ref = net(torch.as_tensor(x, dtype=torch.float32))[0].double().numpy()
    np.testing.assert_allclose(plain, ref, atol=1e-6)
    for split in (1, 4, 8):
        _, state = model.forward(x[:, :split])
        scores, _ = model.forward(x[:, split:], state)
        np.testing.assert_allclose(scores, plain, atol=1e-6)
    # states of selected rows, and concatenation, keep the rows' identity
    _, state = model.forward(x[:, :5])
    idx = np.array([6, 0, 3])
    sub = model.take_state(state, idx)
    np.testing.assert_allclose(model.forward(x[idx, 5:], sub)[0], plain[idx], atol=1e-6)
    both = model.concat_states([model.take_state(state, [0]), model.take_state(state, [1])])
    np.testing.assert_allclose(model.forward(x[:2, 5:], both)[0], plain[:2], atol=1e-6)
    assert model.state_size(state) == len(x)


def test_protocol_state_path_equals_plain():
    torch.manual_seed(0)
    net = CumSum()
    model = adapt(net)
    assert isinstance(model, TorchRecurrentModel) and model.state_batch_axis == 0
    x = _x()
    plain = model(x)
    _, state = model.forward(x[:, :3])
    np.testing.assert_allclose(model.forward(x[:, 3:], state)[0], plain, atol=1e-6)
    np.testing.assert_allclose(plain, TorchModel(net)(x), atol=1e-6)


@pytest.mark.parametrize("net_cls", [GRUNet, LSTMNet, CumSum])
@pytest.mark.parametrize("batch_size", [1, 3, 100])
def test_state_path_in_chunks_equals_one_call(net_cls, batch_size):
    """Rows sent in chunks start from their own rows of the state (batch on axis 1 or 0)."""
    torch.manual_seed(0)
    net = net_cls().eval()
    whole = adapt(net)
    chunked = adapt(net, batch_size=batch_size)
    x = _x()
    _, state = whole.forward(x[:, :4])
    ref_scores, ref_state = whole.forward(x[:, 4:], state)
    scores, new_state = chunked.forward(x[:, 4:], state)
    np.testing.assert_allclose(scores, ref_scores, atol=1e-6)
    for a, b in zip(_leaves(new_state), _leaves(ref_state)):
        np.testing.assert_allclose(a.numpy(), b.numpy(), atol=1e-6)
    np.testing.assert_allclose(scores, whole(x), atol=1e-6)


def _leaves(state):
    if isinstance(state, tuple | list):
        return [leaf for s in state for leaf in _leaves(s)]
    return [state]


@pytest.mark.parametrize("net_cls", [Plain, MaskArg])
def test_plain_modules_are_not_recurrent(net_cls):
    """Adapted plain; a GRU inside is only a candidate until the split check passes."""
    model = adapt(net_cls())
    assert type(model) is TorchModel and not model.recurrent
    assert model.model_info.path == "plain"
    assert model(_x()).shape[0] == 7
    assert (model.state_candidate is not None) == (net_cls is Plain)
    if net_cls is MaskArg:
        with pytest.raises(ValueError, match="recurrent=True.*no nn.GRU"):
            adapt(net_cls(), recurrent=True)
    else:  # checked on random rows of the inferred width
        assert adapt(net_cls(), recurrent=True).model_info.path == "prefix-state"


def test_recurrent_false_forces_plain_path():
    model = adapt(GRUNet(), recurrent=False)
    assert type(model) is TorchModel


def test_train_mode_restored_and_eval_no_grad_while_called():
    torch.manual_seed(0)
    net = GRUNet()
    net.train()
    net.head.eval()  # a mixed state must come back exactly
    before = _modes(net)
    model = adapt(net)
    x = _x()
    a, b = model(x), model(x)
    np.testing.assert_array_equal(a, b)  # dropout off: deterministic
    with torch.no_grad():
        net.eval()
        ref = net(torch.as_tensor(x, dtype=torch.float32))[0].double().numpy()
        net.train()
        net.head.eval()
    np.testing.assert_allclose(a, ref, atol=1e-6)
    model.forward(x[:, :2])
    assert _modes(net) == before


def test_modes_restored_when_forward_raises():
    spy = Spy()
    spy.train()
    model = adapt(spy)
    bad = _x()
    bad[0, 0, 0] = np.nan
    with pytest.raises(RuntimeError, match="boom"):
        model(bad)
    assert spy.training
    model(_x())
    assert spy.seen[-1][:2] == (False, False)  # eval, no grad inside the call
    assert spy.training


def test_batch_size_and_memory_budget_invariance():
    torch.manual_seed(0)
    net = GRUNet().eval()
    x = _x(n=11)
    ref = adapt(net)(x)
    for options in ({"batch_size": 1}, {"batch_size": 4}, {"memory_budget": 1}):
        model = adapt(net, **options)
        np.testing.assert_allclose(model(x), ref, atol=1e-6)
        _, state = model.forward(x[:, :4])
        np.testing.assert_allclose(model.forward(x[:, 4:], state)[0], ref, atol=1e-6)
    spy = Spy()
    adapt(spy, memory_budget=1)(x)
    assert {rows for *_, rows in spy.seen[-len(x) :]} == {1}


def test_input_not_mutated_and_float64_out():
    x = _x()
    copy = x.copy()
    out = adapt(Plain())(x)
    np.testing.assert_array_equal(x, copy)
    assert out.dtype == np.float64 and out.shape == (7, 3)


def test_device_choice():
    net = GRUNet()
    model = adapt(net, device="cpu")
    assert model.module is net  # already there: no copy
    auto = adapt(net, device="auto")
    assert str(auto.device) == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            adapt(net, device="cuda")
    with pytest.raises(ValueError, match="device must be"):
        adapt(net, device="toaster")


def test_output_transform_and_output_shape_errors():
    torch.manual_seed(0)
    net = Plain()
    x = _x()
    probs = adapt(net, output=lambda s: torch.softmax(s, -1))(x)
    np.testing.assert_allclose(probs.sum(1), 1.0, atol=1e-6)

    class PerStep(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(3, 2)

        def forward(self, x):
            return self.lin(x)  # (n, T, 2): not one row of scores per input

    with pytest.raises(ValueError, match="one row of scores per input row"):
        adapt(PerStep())(x)


_JIT_DEPRECATED = "ignore:`torch.jit.*deprecated:DeprecationWarning"


@pytest.mark.filterwarnings(_JIT_DEPRECATED)
def test_torchscript_file_roundtrip(tmp_path):
    torch.manual_seed(0)
    net = GRUNet().eval()
    path = tmp_path / "gru.pt"
    torch.jit.script(net).save(str(path))
    model = load_model(path)
    assert isinstance(model, Model) and model.recurrent
    x = _x()
    np.testing.assert_allclose(model(x), adapt(net)(x), atol=1e-6)
    _, state = model.forward(x[:, :3])
    np.testing.assert_allclose(model.forward(x[:, 3:], state)[0], model(x), atol=1e-6)


def test_torch_save_pickle_is_refused_without_loading(tmp_path):
    path = tmp_path / "whole.pt"
    torch.save(Plain(), str(path))
    with pytest.raises(UnsafeModelFileError, match="never unpickles"):
        load_model(path)
    state_dict = tmp_path / "weights.pth"
    torch.save(Plain().state_dict(), str(state_dict))
    with pytest.raises(UnsafeModelFileError, match="TorchScript"):
        adapt(str(state_dict))
