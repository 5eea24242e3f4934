"""The masking game: vectorised inputs, background averaging, link, batching, counters."""

from __future__ import annotations

import numpy as np
import pytest

from seqshap import MaskedGame
from seqshap.links import logit


def test_masked_inputs_and_background_average(rng):
    x = rng.normal(size=(3, 2))  # a tiny "sequence"
    bg = rng.normal(size=(4, 3, 2))
    masks = np.zeros((3, 3, 2), dtype=bool)
    for t in range(3):
        masks[t, t] = True  # each event a player
    calls = []

    def model(a):
        calls.append(len(a))
        return a.sum(axis=(1, 2))

    game = MaskedGame(model, x, bg, masks, batch_size=5)
    z = np.array([[1, 0, 1], [0, 0, 0], [1, 1, 1]], dtype=bool)
    v = game(z)[:, 0]
    expected = [np.mean([np.where(zz[:, None], x, b).sum() for b in bg]) for zz in z]
    np.testing.assert_allclose(v, expected)
    assert game.n_evaluations == 3
    assert game.n_model_rows == 1 + 12  # probe + 3 coalitions × 4 background rows
    assert max(calls[1:]) <= 5


def test_weights_and_logit_link(rng):
    x = rng.normal(size=4)
    bg = rng.normal(size=(3, 4))
    w = np.array([1.0, 2.0, 1.0])
    prob = lambda a: 1 / (1 + np.exp(-a.sum(1)))  # noqa: E731
    game = MaskedGame(prob, x, bg, np.eye(4, dtype=bool), weights=w, link="logit")
    z = np.zeros((1, 4), dtype=bool)
    np.testing.assert_allclose(game(z)[0, 0], logit((w / w.sum()) @ prob(bg)))


def test_uncovered_cells_keep_the_instance(rng):
    x = rng.normal(size=4)
    bg = rng.normal(size=(1, 4))
    masks = np.zeros((2, 4), dtype=bool)
    masks[0, 0] = masks[1, 1] = True  # cells 2, 3 belong to nobody
    game = MaskedGame(lambda a: a, x, bg, masks)
    out = game(np.zeros((1, 2), dtype=bool))[0]
    np.testing.assert_allclose(out, [bg[0, 0], bg[0, 1], x[2], x[3]])


def test_memory_budget_bounds_chunks(rng):
    x = rng.normal(size=(50, 6))
    bg = rng.normal(size=(2, 50, 6))
    masks = np.zeros((10, 50, 6), dtype=bool)
    for i in range(10):
        masks[i, i * 5 : (i + 1) * 5] = True
    small = MaskedGame(
        lambda a: a.mean(axis=(1, 2)), x, bg, masks, memory_budget=50 * 6 * 8 * 2 * 3
    )
    big = MaskedGame(lambda a: a.mean(axis=(1, 2)), x, bg, masks)
    assert small.max_chunk == 3
    z = rng.random((40, 10)) < 0.5
    np.testing.assert_allclose(small(z), big(z), atol=1e-14)


def test_shape_errors(rng):
    x = rng.normal(size=(3, 2))
    with pytest.raises(ValueError, match="background rows must have the instance's shape"):
        MaskedGame(lambda a: a.sum((1, 2)), x, rng.normal(size=(2, 3, 3)), np.ones((1, 3, 2), bool))
    game = MaskedGame(
        lambda a: a.sum((1, 2)), x, rng.normal(size=(2, 3, 2)), np.ones((1, 3, 2), bool)
    )
    with pytest.raises(ValueError, match=r"coalitions must have shape \(n, 1\)"):
        game(np.ones((2, 3), dtype=bool))
