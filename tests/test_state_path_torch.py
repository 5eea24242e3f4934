"""The prefix-state path on plain torch modules (hooks on their recurrent layers).

Theory: a module whose recurrent layers feed the head from the last step runs a sequence in
pieces exactly as whole, so its Shapley values on the state path equal the plain path's; a
module that looks at the whole sequence at once does not, and must stay on the plain path
with the reason stated.
"""

from __future__ import annotations

import logging

import numpy as np
import pytest

torch = pytest.importorskip("torch")
torch.set_num_threads(1)
nn = torch.nn

# torch's own note when an LSTM with projections is given an initial state
pytestmark = pytest.mark.filterwarnings(
    "ignore:LSTM with projections is not supported with oneDNN:UserWarning"
)

import seqshap  # noqa: E402
from seqshap import SequenceExplainer  # noqa: E402
from seqshap.models import TorchModel, adapt  # noqa: E402

T, D, H = 6, 2, 4


class Stack(nn.Module):
    """Recurrent modules in sequence (a per-step Linear between them) -> head on the last step.

    ``specs``: (kind, num_layers, batch_first, proj_size) per recurrent module."""

    def __init__(self, specs, k=2):
        super().__init__()
        size, rnns, mids = D, [], []
        for kind, layers, batch_first, proj in specs:
            extra = {"proj_size": proj} if proj else {}
            rnns.append(getattr(nn, kind)(size, H, layers, batch_first=batch_first, **extra))
            size = proj or H
            mids.append(nn.Linear(size, size))
        self.rnns, self.mids = nn.ModuleList(rnns), nn.ModuleList(mids)
        self.head = nn.Linear(size, k)

    def forward(self, x):
        h = x
        for rnn, mid in zip(self.rnns, self.mids):
            h = rnn(h if rnn.batch_first else h.transpose(0, 1))[0]
            h = torch.tanh(mid(h if rnn.batch_first else h.transpose(0, 1)))
        return self.head(h[:, -1])


STACKS = {
    "gru1-bf": [("GRU", 1, True, 0)],
    "gru2-tf": [("GRU", 2, False, 0)],
    "rnn3-bf": [("RNN", 3, True, 0)],
    "lstm1-bf": [("LSTM", 1, True, 0)],
    "lstm2-proj-tf": [("LSTM", 2, False, 3)],
    "gru-then-lstm-proj": [("GRU", 2, True, 0), ("LSTM", 1, False, 2)],
    "rnn-gru-lstm": [("RNN", 1, False, 0), ("GRU", 1, True, 0), ("LSTM", 3, True, 2)],
}


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(T, D)), rng.normal(size=(3, T, D))


def _net(specs, seed=0, double=False):
    torch.manual_seed(seed)
    net = Stack(specs).eval()
    return net.double() if double else net


@pytest.mark.parametrize("name", sorted(STACKS))
def test_state_path_values_equal_plain_path(name):
    net = _net(STACKS[name], seed=len(name))
    x, bg = _data()
    values = {}
    for recurrent in (None, False):
        ex = SequenceExplainer(net, bg, recurrent=recurrent)
        exp = ex.explain(x, levels=("event", "feature"), pruning_tol=None)
        values[recurrent] = (exp.event.values, exp.feature.values)
        assert ex.uses_hidden_states is (recurrent is None)
    assert ex.model_info.path == "plain"  # recurrent=False, said so
    ex = SequenceExplainer(net, bg)
    ex.prepare(x)
    info = ex.model_info
    assert info.path == "prefix-state" and info.access == "torch hooks"
    assert len(info.detail["layers"]) == len(STACKS[name])
    assert info.detail["max_error"] <= 1e-5
    for fast, plain in zip(values[None], values[False]):
        np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-6)


def test_float64_module_and_chunked_batches():
    """Float64: checked at 1e-9; rows sent in chunks of 2 start from their own states."""
    net = _net(STACKS["gru-then-lstm-proj"], double=True)
    x, bg = _data(1)
    model = adapt(net, batch_size=2)
    fast = SequenceExplainer(model, bg)
    plain = SequenceExplainer(net, bg, recurrent=False)
    a = fast.explain(x, levels=("event",), pruning_tol=None).event.values
    b = plain.explain(x, levels=("event",), pruning_tol=None).event.values
    assert fast.model_info.path == "prefix-state" and fast.model_info.detail["max_error"] < 1e-9
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)


# ------------------------------------------------------------------------ models that fall back
class Bidirectional(nn.Module):
    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(D, H, batch_first=True, bidirectional=True)
        self.head = nn.Linear(2 * H, 1)

    def forward(self, x):
        return self.head(self.rnn(x)[0][:, -1])


class ConvFirst(nn.Module):
    """A convolution over time before the GRU: a piece does not see its neighbour steps."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv1d(D, D, 3, padding=1)
        self.rnn = nn.GRU(D, H, batch_first=True)
        self.head = nn.Linear(H, 1)

    def forward(self, x):
        return self.head(self.rnn(self.conv(x.transpose(1, 2)).transpose(1, 2))[0][:, -1])


class NormOverTime(nn.Module):
    """Inputs standardised over the time axis: depends on every step."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.LSTM(D, H, batch_first=True)
        self.head = nn.Linear(H, 1)

    def forward(self, x):
        x = (x - x.mean(1, keepdim=True)) / (x.std(1, keepdim=True) + 1e-3)
        return self.head(self.rnn(x)[0][:, -1])


class Attention(nn.Module):
    """Attention pooling over the GRU's per-step outputs."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(D, H, batch_first=True)
        self.score = nn.Linear(H, 1)
        self.head = nn.Linear(H, 1)

    def forward(self, x):
        out = self.rnn(x)[0]
        w = torch.softmax(self.score(out), dim=1)
        return self.head((w * out).sum(1))


class MeanPool(nn.Module):
    """Per-step outputs used elsewhere: the head sees their mean."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.RNN(D, H, batch_first=True)
        self.head = nn.Linear(2 * H, 1)

    def forward(self, x):
        out = self.rnn(x)[0]
        return self.head(torch.cat([out[:, -1], out.mean(1)], dim=1))


class TwiceCalled(nn.Module):
    """The same GRU run on two inputs in one forward."""

    def __init__(self):
        super().__init__()
        self.rnn = nn.GRU(D, H, batch_first=True)
        self.head = nn.Linear(2 * H, 1)

    def forward(self, x):
        return self.head(torch.cat([self.rnn(x)[0][:, -1], self.rnn(-x)[0][:, -1]], dim=1))


class CellLoop(nn.Module):
    def __init__(self):
        super().__init__()
        self.cell = nn.GRUCell(D, H)
        self.head = nn.Linear(H, 1)

    def forward(self, x):
        h = x.new_zeros(x.shape[0], H)
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
        return self.head(h)


FALLBACKS = {
    Bidirectional: "bidirectional",
    ConvFirst: "split check",
    NormOverTime: "split check",
    Attention: "split check",
    MeanPool: "split check",
    TwiceCalled: "ran 2 times",
    CellLoop: "Python loop",
}


@pytest.mark.parametrize("cls", list(FALLBACKS), ids=lambda c: c.__name__)
def test_models_that_must_fall_back_do_with_the_reason(cls, caplog):
    torch.manual_seed(0)
    net = cls().eval()
    x, bg = _data()
    hooks, modes = _hook_dicts(net), [m.training for m in net.modules()]
    ex = SequenceExplainer(net, bg)
    with caplog.at_level(logging.INFO, logger="seqshap.models"):
        exp = ex.explain(x, levels=("event",), pruning_tol=None)
    assert _hook_dicts(net) == hooks and [m.training for m in net.modules()] == modes
    info = ex.model_info
    assert info.path == "plain" and FALLBACKS[cls] in info.reason
    assert not ex.uses_hidden_states
    if FALLBACKS[cls] != "bidirectional" and cls is not CellLoop:  # checked, and logged
        assert any(FALLBACKS[cls] in r.getMessage() for r in caplog.records)
    with torch.no_grad():  # still explained correctly: efficiency on the plain path
        fx = net(torch.as_tensor(x[None], dtype=torch.float32)).double().numpy()[0]
        fb = net(torch.as_tensor(bg, dtype=torch.float32)).double().numpy().mean(0)
    np.testing.assert_allclose(exp.event.values[0].sum(0), fx - fb, rtol=0, atol=1e-5)
    with pytest.raises((ValueError, TypeError), match=FALLBACKS[cls]):
        SequenceExplainer(net, bg, recurrent=True).explain(x, levels=("event",))


# ------------------------------------------------------------------------ the user's module
def _hook_dicts(module):
    names = (
        "_forward_hooks",
        "_forward_pre_hooks",
        "_forward_hooks_with_kwargs",
        "_forward_pre_hooks_with_kwargs",
        "_forward_hooks_always_called",
        "_backward_hooks",
    )
    return [
        (name, attr, dict(getattr(m, attr, {})))
        for name, m in module.named_modules()
        for attr in names
    ]


def test_module_modes_hooks_and_weights_unchanged():
    net = _net(STACKS["gru-then-lstm-proj"])
    net.train()
    net.rnns[1].eval()  # a mixed state must come back exactly
    seen = []
    net.rnns[0].register_forward_hook(lambda m, a, out: seen.append(a[0].shape[0]))
    modes = [m.training for m in net.modules()]
    hooks = _hook_dicts(net)
    weights = {k: v.clone() for k, v in net.state_dict().items()}
    x, bg = _data()
    ex = SequenceExplainer(net, bg)
    exp = ex.explain(x, levels=("event",), pruning_tol=None)
    assert ex.uses_hidden_states and seen  # the user's hook still fires
    assert [m.training for m in net.modules()] == modes
    assert _hook_dicts(net) == hooks
    for k, v in net.state_dict().items():
        assert torch.equal(v, weights[k])
    net.eval()  # dropout-free module: values as in eval mode on the plain path
    ref = SequenceExplainer(net, bg, recurrent=False)
    ref = ref.explain(x, levels=("event",), pruning_tol=None)
    np.testing.assert_allclose(exp.event.values, ref.event.values, rtol=0, atol=1e-6)


def test_exact_event_path_stays_at_about_two_to_the_m_plus_one_row_steps():
    """M event players, exact enumeration: ≈ 2^(M+1) row-steps per background row."""
    m = 8
    net = _net(STACKS["gru2-tf"])
    rng = np.random.default_rng(3)
    x, bg = rng.normal(size=(m, D)), rng.normal(size=(1, m, D))
    ex = SequenceExplainer(net, bg, call_cost=0)
    ex.prepare(x)
    steps = []
    handle = net.rnns[0].register_forward_hook(
        lambda mod, a, out: steps.append(a[0].shape[0] * a[0].shape[1])
    )
    try:
        ex.explain(x, levels=("event",), pruning_tol=None)
    finally:
        handle.remove()
    assert ex.uses_hidden_states
    assert 2 ** (m + 1) - 2 <= sum(steps) <= 1.05 * 2 ** (m + 1)


def test_adapt_with_example_checks_there_and_recurrent_false_is_plain():
    x, bg = _data()
    net = _net(STACKS["lstm1-bf"])
    model = adapt(net, example=bg)
    assert model.recurrent and model.model_info.detail["check_rows"] == len(bg) + 3  # mixtures
    assert type(adapt(net, recurrent=False)) is TorchModel
    bad = MeanPool().eval()
    model = adapt(bad, example=bg)
    assert type(model) is TorchModel and "split check" in model.model_info.reason


def test_model_info_of_the_other_torch_forms():
    class XH(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = nn.GRU(D, H, batch_first=True)
            self.head = nn.Linear(H, 1)

        def forward(self, x, h=None):
            out, h = self.rnn(x, h)
            return self.head(out[:, -1]), h

    class NoRNN(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(D, 1)

        def forward(self, x):
            return self.lin(x[:, -1])

    info = seqshap.model_info(adapt(XH()))
    assert info.path == "prefix-state" and info.access == "forward(x, h)"
    info = seqshap.model_info(adapt(NoRNN()))
    assert info.path == "plain" and "no nn.GRU / nn.LSTM / nn.RNN layer" in info.reason
    assert SequenceExplainer(NoRNN(), _data()[1]).model_info is None  # not adapted yet


@pytest.mark.parametrize(
    "cls", [ConvFirst, NormOverTime, Attention, MeanPool], ids=lambda c: c.__name__
)
def test_split_check_on_a_window_still_catches_whole_sequence_models_at_long_t(cls):
    """The check runs the last SPLIT_STEPS steps only; sequences longer than that window
    still send models that look at the whole sequence to the plain path."""
    from seqshap.models._state import SPLIT_STEPS

    torch.manual_seed(0)
    rng = np.random.default_rng(3)
    t_len = 3 * SPLIT_STEPS
    x, bg = rng.normal(size=(t_len, D)), rng.normal(size=(4, t_len, D))
    ex = SequenceExplainer(cls().eval(), bg)
    ex.prepare(x)
    assert ex.model_info.path == "plain" and "split check" in ex.model_info.reason
    good = SequenceExplainer(_net(STACKS["gru2-tf"]), bg)
    good.prepare(x)
    assert good.model_info.path == "prefix-state"
