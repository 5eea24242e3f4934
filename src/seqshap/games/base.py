"""Games: value functions over coalitions of players.

A game maps a boolean coalition matrix ``Z`` of shape ``(n_coalitions, n_players)`` to values
``v(Z)`` of shape ``(n_coalitions, k)`` (in link space). It owns masking, the background, the
link, batching and the evaluation counters; it knows nothing about estimation.
"""

from __future__ import annotations

import numpy as np


class Game:
    """Abstract value function. Subclasses implement :meth:`_evaluate` on a chunk.

    Counters: ``n_evaluations`` (coalitions valued), ``n_model_rows`` (rows sent to the model)
    and ``n_model_calls``.
    """

    n_players: int
    n_outputs: int
    player_names: list[str]
    output_names: list[str] | None = None
    link_name: str = "identity"
    #: largest number of coalitions valued in one chunk (bounded memory)
    max_chunk: int = 4096
    #: players from the slowest- to the fastest-varying in the cheapest order to enumerate
    #: coalitions in (None: any order is as cheap). Games that share work between coalitions
    #: agreeing on their first players (the recurrent prefix tree: coalitions that agree on the
    #: earliest events share hidden states) set it; enumerating estimators follow it. Values
    #: never depend on it, only the cost does.
    enumeration_order: np.ndarray | None = None
    #: relative cost of valuing a coalition that first differs from the coalition valued
    #: before it at player ``i`` (None: every player alike). The recurrent prefix tree sets it
    #: to the steps left after the player's first event: sampling estimators weigh samples by
    #: it. Values never depend on it, only the cost does.
    player_costs: np.ndarray | None = None

    def __init__(self) -> None:
        self.n_evaluations = 0
        self.n_model_rows = 0
        self.n_model_calls = 0
        self._empty: np.ndarray | None = None
        self._full: np.ndarray | None = None

    # -- subclass hook --------------------------------------------------------------------
    def _evaluate(self, coalitions: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    # -- public -----------------------------------------------------------------------------
    def __call__(self, coalitions: np.ndarray) -> np.ndarray:
        z = np.asarray(coalitions)
        if z.ndim == 1:
            z = z[None]
        if z.ndim != 2 or z.shape[1] != self.n_players:
            raise ValueError(
                f"coalitions must have shape (n, {self.n_players}); received {z.shape}."
            )
        z = z.astype(bool, copy=False)
        if len(z) == 0:
            return np.zeros((0, self.n_outputs))
        order = self._chunk_order(z) if len(z) > self.max_chunk else None
        zs = z if order is None else z[order]
        parts = [
            self._evaluate(zs[i : i + self.max_chunk]) for i in range(0, len(z), self.max_chunk)
        ]
        self.n_evaluations += len(z)
        out = np.concatenate(parts, axis=0)
        if order is not None:
            out[order] = out.copy()
        return out

    def _chunk_order(self, coalitions: np.ndarray) -> np.ndarray | None:
        """A permutation to value ``coalitions`` in before they are cut into chunks (None: as
        given). Games whose chunks share work (the recurrent prefix tree) sort by it."""
        return None

    @property
    def resolution(self) -> np.ndarray:
        """The smallest difference of two values, per output ``(k,)``, that the value function
        resolves: differences below it are the model's rounding, not the players' effect.
        Estimators report no standard error below it. 0 here; games of models that compute in
        a floating-point format set it from that format (:class:`~seqshap.games.MaskedGame`)."""
        return np.zeros(self.n_outputs)

    @property
    def empty_value(self) -> np.ndarray:
        """v(∅), shape (k,): the base value."""
        if self._empty is None:
            self._empty = self(np.zeros((1, self.n_players), dtype=bool))[0]
        return self._empty

    @property
    def full_value(self) -> np.ndarray:
        """v(N), shape (k,): the explained output."""
        if self._full is None:
            self._full = self(np.ones((1, self.n_players), dtype=bool))[0]
        return self._full


class FunctionGame(Game):
    """A game from a plain function ``v(Z) -> (n, k)`` (or ``(n,)``); for tests and toys."""

    def __init__(self, fn, n_players: int, player_names: list[str] | None = None):
        super().__init__()
        self.fn = fn
        self.n_players = int(n_players)
        self.player_names = player_names or [f"p{i}" for i in range(n_players)]
        probe = np.asarray(fn(np.zeros((1, n_players), dtype=bool)), dtype=float)
        self.n_outputs = 1 if probe.ndim == 1 else probe.shape[1]

    def _evaluate(self, coalitions: np.ndarray) -> np.ndarray:
        out = np.asarray(self.fn(coalitions), dtype=float)
        self.n_model_rows += len(coalitions)
        self.n_model_calls += 1
        return out.reshape(len(coalitions), self.n_outputs)
