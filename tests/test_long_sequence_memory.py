"""Long sequences: players, masks and games linear in T (no T × T arrays), same values."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from seqshap.estimators import owen as owen_module
from seqshap.estimators.owen import owen_blocks
from seqshap.games import FunctionGame, MaskedGame
from seqshap.games.masked import SparseMasks
from seqshap.games.recurrent import RecurrentMaskedGame
from seqshap.models import CallableModel, RecurrentCallableModel
from seqshap.sequence import SequenceExplainer
from seqshap.sequence import players as players_module
from seqshap.sequence.players import event_players, time_hierarchy, window_players

H = 3


def _rnn(d: int, seed: int = 0):
    """A tiny tanh RNN in numpy: the (x, h) form and the plain form of the same function."""
    rng = np.random.default_rng(seed)
    w, u, v = 0.5 * rng.normal(size=(H, H)), rng.normal(size=(d, H)), rng.normal(size=(H, 1))

    def f(x, h=None):
        h = np.zeros((len(x), H)) if h is None else h
        for t in range(x.shape[1]):
            h = np.tanh(h @ w + x[:, t] @ u)
        return h @ v, h

    fast = RecurrentCallableModel(f, state_batch_axis=0)
    return fast, CallableModel(lambda x: f(x)[0])


def test_sparse_masks_are_the_dense_masks():
    masks = SparseMasks.from_products([[4], [0, 1, 2]], [[0, 1], [1]], (5, 2))
    dense = np.zeros((2, 5, 2), dtype=bool)
    dense[0, 4, :] = True
    dense[1, :3, 1] = True
    assert masks.shape == (2, 5, 2) and len(masks) == 2
    np.testing.assert_array_equal(np.asarray(masks), dense)
    np.testing.assert_array_equal(masks.first_cells(), [8, 1])
    with pytest.raises(ValueError, match="one column per cell"):
        SparseMasks(masks.matrix, (5, 3))


@pytest.mark.parametrize("build", ["event", "window"])
def test_long_levels_are_built_sparse_with_the_same_cells(monkeypatch, build):
    def make():
        if build == "event":
            return event_players(12, 3, n_pruned=4)
        return window_players(12, 3, window=3, n_pruned=2)

    dense = make()
    monkeypatch.setattr(players_module, "DENSE_MASK_BYTES", 0)
    sparse = make()
    assert isinstance(dense.masks, np.ndarray) and isinstance(sparse.masks, SparseMasks)
    assert sparse.names == dense.names and sparse.steps_back == dense.steps_back
    np.testing.assert_array_equal(np.asarray(sparse.masks), dense.masks)


@pytest.mark.parametrize("game_class", ["recurrent", "plain"])
def test_sparse_masks_value_the_same_game(monkeypatch, rng, game_class):
    """Both games value sparse masks exactly as the dense ones (random coalitions)."""
    t_len, d = 14, 2
    fast, plain = _rnn(d)
    x, bg = rng.normal(size=(t_len, d)), rng.normal(size=(3, t_len, d))
    dense = event_players(t_len, d, n_pruned=5)
    monkeypatch.setattr(players_module, "DENSE_MASK_BYTES", 0)
    sparse = event_players(t_len, d, n_pruned=5)
    z = rng.random((40, dense.n_players)) < 0.5
    if game_class == "recurrent":
        a = RecurrentMaskedGame(fast, x, bg, dense.masks, call_cost=0)(z)
        b = RecurrentMaskedGame(fast, x, bg, sparse.masks, call_cost=0)(z)
    else:
        a = MaskedGame(plain, x, bg, dense.masks)(z)
        b = MaskedGame(plain, x, bg, sparse.masks)(z)
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12)


def test_unpruned_long_sequence_needs_no_t_by_t_memory():
    """The event game of 4,000 unpruned events over 8 features (players, masks, background,
    prefix tree) and a few of its values take a few MB; dense masks alone would be
    4,000 × 4,000 × 8 = 128 MB of booleans (and 4× that as float32). Peak measured by
    tracemalloc (numpy reports its allocations to it)."""
    t_len, d = 4000, 8
    fast, _ = _rnn(d, seed=1)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(t_len, d))
    ex = SequenceExplainer(fast, np.zeros(d))
    ex.explain(x[:50], levels="event", pruning_tol=None)  # prepares the model (not measured)
    z = np.zeros((5, t_len), dtype=bool)
    z[1] = True
    z[2:, : t_len // 2] = True
    z[3, 7] = False
    z[4, 3000] = False
    tracemalloc.start()
    try:
        game = ex.game(x, "event")
        values = game(z)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert isinstance(game.masks, SparseMasks) and game.n_players == t_len
    assert peak < 16 * 2**20, f"peak {peak / 2**20:.1f} MB"
    # the values are those of the plain function on the masked inputs
    inputs = np.where(z[:, ::-1, None], x[None], 0.0)  # player i is the event i + 1 back
    expected = fast.forward(inputs)[0]
    np.testing.assert_allclose(values, expected, rtol=0, atol=1e-12)


def test_chains_valued_in_pieces_give_the_same_values(monkeypatch):
    """owen_blocks builds its coalitions in pieces of at most CHAIN_CELLS cells (memory linear
    in the players); the pieces change nothing but the number of calls."""
    rng = np.random.default_rng(2)
    w = rng.normal(size=(12, 12))
    game = FunctionGame(lambda z: np.einsum("ci,ij,cj->c", z * 1.0, w, z * 1.0), 12)
    blocks = time_hierarchy(12)
    whole = owen_blocks(game, blocks, 10**5, np.random.default_rng(0), tol=0.05)
    calls = game.n_model_calls
    monkeypatch.setattr(owen_module, "CHAIN_CELLS", 30)  # pieces of 2 coalitions
    pieces = owen_blocks(game, blocks, 10**5, np.random.default_rng(0), tol=0.05)
    assert game.n_model_calls - calls > 3 * calls
    np.testing.assert_array_equal(pieces.values, whole.values)
    np.testing.assert_array_equal(pieces.std_errors, whole.std_errors)


def test_custom_players_may_bring_sparse_masks(rng):
    """explainer.game(players=...) takes SparseMasks as they are (checked, not densified)."""
    from seqshap.sequence import Players

    t_len, d = 30, 2
    fast, _ = _rnn(d)
    x = rng.normal(size=(t_len, d))
    rows = [range(t_len - 10, t_len), range(0, t_len - 10)]
    masks = SparseMasks.from_products(rows, [range(d)] * 2, (t_len, d))
    ex = SequenceExplainer(fast, np.zeros(d))
    game = ex.game(x, players=Players(["recent", "older"], masks, "window"))
    assert game.masks is masks
    dense = ex.game(x, players=Players(["recent", "older"], np.asarray(masks), "window"))
    z = np.array([[0, 0], [1, 0], [0, 1], [1, 1]], dtype=bool)
    np.testing.assert_allclose(game(z), dense(z), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="players.masks must be a boolean array"):
        ex.game(x[:-1], players=Players(["recent", "older"], masks, "window"))
