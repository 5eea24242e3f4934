"""Value functions over coalitions (see :mod:`seqshap.games.base`)."""

from .base import FunctionGame, Game
from .masked import MaskedGame

__all__ = ["Game", "FunctionGame", "MaskedGame"]
