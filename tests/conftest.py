"""Shared fixtures. ``seed`` can be replayed: SEQSHAP_TEST_SEED=123 pytest ..."""

from __future__ import annotations

import os

import numpy as np
import pytest


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
