"""Shared fixtures. ``seed`` can be replayed: SEQSHAP_TEST_SEED=123 pytest ...

``SEQSHAP_AREM_DIR`` points the tests at the AReM data; without it they look in
``../shared/data/arem`` relative to the repository root (as ``bench/_arem.py`` does).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

# Keras picks its backend once, at its first import, from this variable; set it before any
# test module (or a library that imports keras) can, so the keras tests never depend on order.
os.environ.setdefault("KERAS_BACKEND", "torch")

AREM_DIR = Path(
    os.environ.get("SEQSHAP_AREM_DIR")
    or Path(__file__).resolve().parents[1].parent / "shared" / "data" / "arem"
).expanduser()


@pytest.fixture
def seed() -> int:
    return int(os.environ.get("SEQSHAP_TEST_SEED", "20261121"))


@pytest.fixture
def rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def table_game_fn(table: np.ndarray):
    """v(z) = table[index of z] for a random table of 2^M values: an arbitrary game."""
    m = int(np.log2(len(table)))
    powers = 1 << np.arange(m)

    def fn(z: np.ndarray) -> np.ndarray:
        return table[(z.astype(np.int64) * powers).sum(1)]

    return fn


def tiny_gru_game(batch_size: int, t: int = 12, d: int = 2):
    """A RecurrentMaskedGame over the events of one sequence: a random float64 torch GRU (5
    hidden units, output the first one) behind RecurrentCallableModel, 2 background rows, values
    computed ``batch_size`` rows at a time (for batch-size invariance tests)."""
    import torch

    from seqshap.games.recurrent import RecurrentMaskedGame
    from seqshap.models import RecurrentCallableModel
    from seqshap.sequence.players import event_players

    gen = torch.Generator().manual_seed(0)
    rnn = torch.nn.GRU(d, 5, batch_first=True).double()
    with torch.no_grad():
        for p in rnn.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=torch.float64))

    def f(x, h=None):
        with torch.no_grad():
            out, h = rnn(torch.as_tensor(x), None if h is None else torch.as_tensor(h))
        return out[:, -1, :1].numpy(), h.numpy()

    rng = np.random.default_rng(1)
    x, bg = rng.normal(size=(t, d)), rng.normal(size=(2, t, d))
    masks = event_players(t, d, 0).masks
    return RecurrentMaskedGame(RecurrentCallableModel(f), x, bg, masks, batch_size=batch_size)
