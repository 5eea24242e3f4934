"""Value functions over coalitions (see :mod:`seqshap.games.base`)."""

from .base import FunctionGame, Game
from .masked import MaskedGame, SparseMasks

__all__ = ["Game", "FunctionGame", "MaskedGame", "SparseMasks"]
