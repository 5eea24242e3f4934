"""Keras 3 adapter, tested with the torch backend (set before keras is imported)."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")  # conftest.py sets it before any import
pytest.importorskip("torch")
keras = pytest.importorskip("keras")
if keras.backend.backend() != "torch":  # pragma: no cover - the user's KERAS_BACKEND says so
    pytest.skip(
        f"KERAS_BACKEND={os.environ.get('KERAS_BACKEND')!r} in the environment; these tests "
        "run keras on torch",
        allow_module_level=True,
    )

from seqshap.models import KerasModel, adapt, load_model  # noqa: E402


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    inp = keras.Input(shape=(None, 3))
    h = keras.layers.GRU(5)(inp)
    h = keras.layers.Dropout(0.5)(h)
    out = keras.layers.Dense(2, activation="softmax")(h)
    return keras.Model(inp, out)


def _x(n=7, t=6):
    return np.random.default_rng(0).normal(size=(n, t, 3))


def test_keras_model_outputs_and_batch_invariance():
    model = _model()
    adapted = adapt(model)
    assert isinstance(adapted, KerasModel)
    x = _x()
    out = adapted(x)
    ref = model(x.astype("float32"), training=False).detach().double().numpy()
    np.testing.assert_allclose(out, ref, atol=1e-6)
    np.testing.assert_allclose(adapt(model, batch_size=2)(x), out, atol=1e-6)
    np.testing.assert_allclose(adapt(model, memory_budget=1)(x), out, atol=1e-6)
    np.testing.assert_allclose(out.sum(1), 1.0, atol=1e-5)


def test_keras_state_untouched_and_input_not_mutated():
    model = _model()
    model.train()  # keras layers are torch modules under the torch backend
    before = [m.training for m in model.modules()]
    x = _x()
    copy = x.copy()
    a, b = adapt(model)(x), adapt(model)(x)
    np.testing.assert_array_equal(a, b)  # dropout inactive while explaining
    assert [m.training for m in model.modules()] == before
    np.testing.assert_array_equal(x, copy)
    assert adapt(model, recurrent=True).recurrent  # the GRU's state path, checked now
    assert [m.training for m in model.modules()] == before


# keras' torch backend calls np.array(tensor) when saving, which numpy 2 flags
@pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"
)
def test_keras_file(tmp_path):
    model = _model()
    path = tmp_path / "m.keras"
    model.save(str(path))
    loaded = load_model(path)
    x = _x()
    np.testing.assert_allclose(loaded(x), adapt(model)(x), atol=1e-6)


def test_keras_model_carrying_class_names_names_the_outputs():
    from seqshap.sequence import SequenceExplainer

    model = _model()
    model.class_names = ["negative", "positive"]  # set by the user, as sklearn's classes_
    assert adapt(model).output_names == ["negative", "positive"]
    exp = SequenceExplainer(model, "zeros").explain(_x(1)[0], levels=("feature",), pruning_tol=None)
    assert exp.feature.output_names == ["negative", "positive"]
    assert adapt(_model()).output_names is None  # nothing carried: "output 0", ... later
