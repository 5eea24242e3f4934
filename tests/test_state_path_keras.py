"""The prefix-state path on Keras 3 models (recurrent layers rebuilt with initial_state /
return_state), tested with the torch backend. Same theory as for torch and ONNX."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
pytest.importorskip("torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":  # pragma: no cover - another test imported keras first
    pytest.skip("keras was imported with another backend", allow_module_level=True)

from seqshap import SequenceExplainer  # noqa: E402
from seqshap.models import KerasModel, adapt  # noqa: E402

T, D = 5, 3
L = keras.layers


def _functional(*rnns, head=None, seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape=(None, D))
    h = inp
    for i, make in enumerate(rnns):
        h = make(i == len(rnns) - 1)(h)
    h = L.Dropout(0.3)(h)
    out = (head or L.Dense(2, activation="softmax"))(h)
    return keras.Model(inp, out)


MODELS = {
    "gru": lambda: _functional(lambda last: L.GRU(4, return_sequences=not last)),
    "lstm-gru": lambda: _functional(
        lambda last: L.LSTM(5, return_sequences=not last),
        lambda last: L.GRU(4, return_sequences=not last),
    ),
    "simplernn-lstm": lambda: _functional(
        lambda last: L.SimpleRNN(3, return_sequences=not last),
        lambda last: L.LSTM(4, return_sequences=not last),
    ),
    "sequential": lambda: keras.Sequential(
        [keras.Input((None, D)), L.Dense(4, activation="tanh"), L.GRU(4), L.Dense(1)]
    ),
}


def _data(seed=0):
    rng = np.random.default_rng(seed)
    return rng.normal(size=(T, D)), rng.normal(size=(3, T, D))


@pytest.mark.parametrize("name", sorted(MODELS))
def test_state_path_values_equal_plain_path(name):
    model = MODELS[name]()
    x, bg = _data()
    weights = [v.value.detach().clone() for v in model.weights]
    values = {}
    for recurrent in (None, False):
        ex = SequenceExplainer(model, bg, recurrent=recurrent)
        exp = ex.explain(x, levels=("event",), pruning_tol=None)
        values[recurrent] = (exp.event.values,)
        assert ex.uses_hidden_states is (recurrent is None)
    ex = SequenceExplainer(model, bg)
    ex.prepare(x)
    assert ex.model_info.path == "prefix-state"
    assert ex.model_info.access == "keras initial_state/return_state"
    for fast, plain in zip(values[None], values[False]):
        np.testing.assert_allclose(fast, plain, rtol=0, atol=1e-6)
    for v, w in zip(model.weights, weights):
        assert bool((v.value == w).all())


def _skip_connection():
    keras.utils.set_random_seed(0)
    inp = keras.Input(shape=(None, D))
    h = L.GRU(4)(inp)
    pooled = L.GlobalAveragePooling1D()(inp)
    return keras.Model(inp, L.Dense(1)(L.Concatenate()([h, pooled])))


FALLBACKS = {
    "bidirectional": (
        lambda: _functional(lambda last: L.Bidirectional(L.GRU(4))),
        "Bidirectional",
    ),
    "go-backwards": (lambda: _functional(lambda last: L.GRU(4, go_backwards=True)), "go_backwards"),
    "mean-pool": (
        lambda: _functional(
            lambda last: L.GRU(4, return_sequences=True), head=L.GlobalAveragePooling1D()
        ),
        "split check",
    ),
    "skip-connection": (_skip_connection, "not a chain of layers"),
}


@pytest.mark.parametrize("name", sorted(FALLBACKS))
def test_models_that_must_fall_back_do_with_the_reason(name):
    make, reason = FALLBACKS[name]
    model = make()
    x, bg = _data()
    ex = SequenceExplainer(model, bg)
    exp = ex.explain(x, levels=("event",), pruning_tol=None)
    assert not ex.uses_hidden_states
    assert ex.model_info.path == "plain" and reason in ex.model_info.reason
    fx = np.asarray(model(x[None].astype("float32"), training=False).detach().double())
    fb = np.asarray(model(bg.astype("float32"), training=False).detach().double()).mean(0)
    np.testing.assert_allclose(exp.event.values[0].sum(0), fx[0] - fb, rtol=0, atol=1e-5)


def test_recurrent_false_and_modes_restored():
    model = MODELS["gru"]()
    model.train()
    before = [m.training for m in model.modules()]
    assert type(adapt(model, recurrent=False)) is KerasModel
    fast = adapt(model, example=_data()[1])
    assert fast.recurrent and fast.model_info.path == "prefix-state"
    assert [m.training for m in model.modules()] == before
