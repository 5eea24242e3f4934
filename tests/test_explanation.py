"""The result object: tidy frames, persistence without pickle, slicing, shap interop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqshap import Explanation


@pytest.fixture
def explanation(rng):
    n, m, k = 3, 4, 2
    values = rng.normal(size=(n, m, k))
    base = rng.normal(size=(n, k))
    return Explanation(
        values=values,
        std_errors=np.abs(rng.normal(size=(n, m, k))) * 0.01,
        base_values=base,
        outputs=base + values.sum(1),
        player_names=["a", "b", "<c>", "d"],
        output_names=["no", "yes"],
        data=rng.normal(size=(n, m)),
        level="feature",
        method="kernel",
        budget=100,
        seed=1,
        n_evaluations=[100, 100, 98],
        meta={"per_instance": {"entity": ["u1", "u2", "u3"]}, "tol": 0.025},
    )


def test_efficiency_gap_and_shape(explanation):
    assert explanation.shape == (3, 4, 2)
    assert explanation.efficiency_gap.max() < 1e-12
    shifted = Explanation(
        values=explanation.values,
        std_errors=None,
        base_values=explanation.base_values,
        outputs=explanation.outputs + 0.5,
        player_names=explanation.player_names,
    )
    np.testing.assert_allclose(shifted.efficiency_gap, 0.5)


def test_to_frame_is_tidy(explanation):
    frame = explanation.to_frame()
    assert len(frame) == 3 * 4 * 2
    row = frame[(frame.instance == 2) & (frame.player == "b") & (frame.output == "yes")].iloc[0]
    assert row.value == explanation.values[2, 1, 1]
    assert row.std_error == explanation.std_errors[2, 1, 1]
    assert row.feature_value == explanation.data[2, 1]
    assert row.entity == "u3"
    assert set(frame.columns) >= {
        "instance",
        "player",
        "output",
        "value",
        "std_error",
        "base_value",
        "model_output",
    }


@pytest.mark.parametrize("suffix", [".json", ".npz"])
def test_save_load_roundtrip(tmp_path, explanation, suffix):
    path = explanation.save(tmp_path / f"exp{suffix}")
    loaded = Explanation.load(path)
    for name in ("values", "std_errors", "base_values", "outputs", "data", "n_evaluations"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(explanation, name))
    assert loaded.player_names == explanation.player_names
    assert loaded.meta == explanation.meta
    pd.testing.assert_frame_equal(loaded.to_frame(), explanation.to_frame())


def test_save_refuses_pickle_and_load_checks(tmp_path, explanation):
    with pytest.raises(ValueError, match="Pickle is not offered"):
        explanation.save(tmp_path / "exp.pkl")
    with pytest.raises(FileNotFoundError):
        Explanation.load(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"format": "something else"}')
    with pytest.raises(ValueError, match="not a saved seqshap Explanation"):
        Explanation.load(tmp_path / "other.json")


def test_indexing_keeps_layout(explanation):
    one = explanation[1]
    assert one.shape == (1, 4, 2)
    np.testing.assert_array_equal(one.values[0], explanation.values[1])
    assert one.meta["per_instance"]["entity"] == ["u2"]
    assert explanation[:2].shape == (2, 4, 2)
    np.testing.assert_array_equal(explanation.output("yes"), explanation.values[:, :, 1])
    with pytest.raises(ValueError, match="outputs are"):
        explanation.output("maybe")


def test_to_shap(explanation):
    shap = pytest.importorskip("shap")
    converted = explanation.to_shap()
    assert isinstance(converted, shap.Explanation)
    assert converted.values.shape == (3, 4, 2)
    one_output = Explanation(
        values=explanation.values[:, :, :1],
        std_errors=None,
        base_values=explanation.base_values[:, :1],
        outputs=explanation.outputs[:, :1],
        player_names=explanation.player_names,
    )
    assert one_output.to_shap().values.shape == (3, 4)


def test_bad_shapes():
    with pytest.raises(ValueError, match="player_names must have 2 entries"):
        Explanation(
            values=np.zeros((1, 2, 1)),
            std_errors=None,
            base_values=[0],
            outputs=[0],
            player_names=["a"],
        )
