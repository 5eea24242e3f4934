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
