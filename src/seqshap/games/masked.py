"""The masking game: players cover cells of an input; absent cells come from a background.

For an instance ``x`` of any shape ``S`` (a feature vector ``(d,)``, a sequence ``(T, d)``),
player ``i`` covers the cells ``masks[i]`` (boolean, shape ``S``). For a coalition ``z``:

    input_b(z) = where(covered(z), x, background_b)          for each background row b
    v(z)       = link( sum_b w_b f(input_b(z)) )             (weights w sum to 1)

``covered(z)`` is the union of the masks of the players in ``z`` plus the cells no player covers
(those always keep ``x``). Inputs are built for a whole chunk of coalitions at once by
broadcasting; the model sees them in batches of ``batch_size`` rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy import sparse

from .._validation import check_array, check_int, check_names
from ..links import get_link
from ..models import Model, adapt
from .base import Game

#: default bound on the bytes of masked inputs materialised at once
DEFAULT_MEMORY_BUDGET = 256 * 2**20
#: relative precision of the format most sequence models compute in (float32), the basis of
#: :attr:`MaskedGame.resolution`
MODEL_EPS = float(np.finfo(np.float32).eps)


class SparseMasks:
    """Boolean player masks ``(M, *S)`` stored sparse: ``matrix`` is a CSR ``(M, prod(S))``
    matrix, one row per player over the instance's flattened cells.

    For levels with many players over a long instance: the ``T`` event players of a ``(T, d)``
    sequence cover ``d`` cells each, so their masks take ``O(T · d)`` memory here against
    ``T · T · d`` bytes dense (3.2 GB at ``T = 20,000``, ``d = 8``). The games value either
    form; ``np.asarray(masks)`` gives the dense array.
    """

    dtype = np.dtype(bool)

    def __init__(self, matrix: Any, shape: Sequence[int]):
        matrix = sparse.csr_matrix(matrix, dtype=bool)
        matrix.eliminate_zeros()
        matrix.sort_indices()
        shape = tuple(int(n) for n in shape)
        if matrix.shape[1] != int(np.prod(shape)):
            raise ValueError(
                f"SparseMasks: the matrix has {matrix.shape[1]} columns but shape {shape} has "
                f"{int(np.prod(shape))} cells; give one column per cell of the instance."
            )
        self.matrix = matrix
        self.shape = (matrix.shape[0], *shape)

    @classmethod
    def from_products(
        cls, rows: Sequence[Sequence[int]], cols: Sequence[Sequence[int]], shape: Sequence[int]
    ) -> SparseMasks:
        """Player ``i`` covers the cells ``rows[i] × cols[i]`` of a ``(T, d)`` instance."""
        t_len, d = (int(n) for n in shape)
        cells = [
            (np.asarray(r, dtype=np.int64)[:, None] * d + np.asarray(c, dtype=np.int64)).ravel()
            for r, c in zip(rows, cols)
        ]
        indptr = np.r_[0, np.cumsum([len(c) for c in cells])]
        indices = np.concatenate(cells) if cells else np.zeros(0, dtype=np.int64)
        data = np.ones(len(indices), dtype=bool)
        matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(cells), t_len * d))
        return cls(matrix, (t_len, d))

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __len__(self) -> int:
        return self.shape[0]

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        dense = self.matrix.toarray().reshape(self.shape)
        return dense if dtype is None else dense.astype(dtype)

    def first_cells(self) -> np.ndarray:
        """``(M,)``: each player's first covered cell (flat index; ``prod(S)`` if none)."""
        m = self.matrix
        counts = np.diff(m.indptr)
        first = m.indices[np.minimum(m.indptr[:-1], max(len(m.indices) - 1, 0))]
        return np.where(counts > 0, first, m.shape[1])

    def last_cells(self) -> np.ndarray:
        """``(M,)``: each player's last covered cell (flat index; −1 if none)."""
        m = self.matrix
        counts = np.diff(m.indptr)
        last = m.indices[np.clip(m.indptr[1:] - 1, 0, max(len(m.indices) - 1, 0))]
        return np.where(counts > 0, last, -1)


def covered(coalitions: np.ndarray, flat: Any) -> np.ndarray:
    """``(c, cells)`` bool: the cells covered by each coalition, ``flat`` the players' masks
    ``(M, cells)`` as a float32 array or a sparse matrix."""
    z = coalitions.astype(np.float32)
    if sparse.issparse(flat):
        return np.asarray(flat.T @ z.T).T > 0
    return z @ flat > 0


class MaskedGame(Game):
    """Value function of an array instance against a (weighted) background.

    Parameters
    ----------
    model : adapted model or callable mapping ``(n, *S)`` to ``(n, k)``.
    x : the instance, shape ``S``.
    background : ``(m, *S)`` rows that stand in for absent cells (one row = a baseline).
    masks : ``(M, *S)`` boolean cover of each player (an array, or :class:`SparseMasks`).
    weights : optional ``(m,)`` background weights (normalised to sum 1).
    link : "identity" or "logit" (applied after averaging over the background).
    batch_size : most rows per model call.
    memory_budget : most bytes of masked input built at once.
    """

    def __init__(
        self,
        model,
        x: np.ndarray,
        background: np.ndarray,
        masks: np.ndarray,
        *,
        weights: np.ndarray | None = None,
        link="identity",
        batch_size: int = 1024,
        memory_budget: int = DEFAULT_MEMORY_BUDGET,
        player_names: list[str] | None = None,
        output_names: list[str] | None = None,
    ):
        super().__init__()
        self.model: Model = adapt(model)
        self.x = np.asarray(x, dtype=float)
        self.background = np.asarray(background, dtype=float)
        if self.background.shape[1:] != self.x.shape:
            raise ValueError(
                f"background rows must have the instance's shape {self.x.shape}; received "
                f"background of shape {self.background.shape}."
            )
        if not isinstance(masks, SparseMasks):
            masks = np.asarray(masks, dtype=bool)
        if tuple(masks.shape[1:]) != self.x.shape:
            raise ValueError(f"masks must have shape (M, {self.x.shape}); received {masks.shape}.")
        self.masks = masks
        self.n_players = masks.shape[0]
        self.player_names = check_names(
            player_names, n=self.n_players, name="player_names", default_prefix="player "
        )
        m = len(self.background)
        if weights is None:
            self.weights = np.full(m, 1.0 / m)
        else:
            w = check_array(weights, name="background weights", ndim=1)
            if len(w) != m or (w < 0).any() or w.sum() <= 0:
                raise ValueError(
                    f"background weights must be {m} non-negative numbers with a positive sum; "
                    f"received {len(w)} values summing to {w.sum():.3g}."
                )
            self.weights = w / w.sum()
        self.link_name, self._link = get_link(link)
        self.batch_size = check_int(batch_size, name="batch_size", minimum=1)
        self.memory_budget = check_int(memory_budget, name="memory_budget", minimum=1)
        cells = int(np.prod(self.x.shape)) if self.x.shape else 1
        self._x_flat = self.x.reshape(-1)
        self._bg_flat = self.background.reshape(m, -1)
        if isinstance(masks, SparseMasks):
            self._masks_flat = masks.matrix.astype(np.float32)
            self._always = np.bincount(masks.matrix.indices, minlength=cells) == 0
        else:
            self._masks_flat = masks.reshape(self.n_players, -1).astype(np.float32)
            self._always = ~masks.reshape(self.n_players, -1).any(axis=0)
        # coalitions per chunk so that chunk * m * cells * 8 bytes stays within the budget
        self.max_chunk = max(1, min(4096, self.memory_budget // max(1, m * cells * 8)))
        probe = self._probe_model()
        self.n_model_rows += 1
        self.n_model_calls += 1
        self.n_outputs = probe.shape[1]
        self.output_names = output_names or self.model.output_names
        self._fx_raw = probe[0]

    @property
    def resolution(self) -> np.ndarray:
        """``(k,)``: one float32 unit of relative precision (:data:`MODEL_EPS`) at the larger of
        ``|E f(baseline)|`` and ``|f(x)|``, in link space (logit: ``eps · p / (p (1 − p))``).

        Why float32: most sequence models compute in it, and adapters may hand their outputs
        over as float64 (the torch adapter does), hiding the format. Two evaluations of one
        coalition in batches of another size differ by about this much, and a marginal
        contribution of an event the model has forgotten is this small (on the AReM GRU, events
        more than ~130 steps back change ``f`` by 0 to 2e-7, its float32 rounding). For a
        float64 model the floor is conservative and matters only for values that small."""
        ends = np.stack([self.empty_value, self.full_value])
        if self.link_name == "logit":
            p = 1.0 / (1.0 + np.exp(-ends))
            per_end = MODEL_EPS / np.maximum(1.0 - p, MODEL_EPS)
        else:
            per_end = MODEL_EPS * np.abs(ends)
        return per_end.max(axis=0)

    def _probe_model(self) -> np.ndarray:
        """One model call on ``x``: checks the model and gives the number of outputs."""
        return self.model(self.x[None])

    def masked_inputs(self, coalitions: np.ndarray) -> np.ndarray:
        """Model inputs for ``coalitions``: shape ``(c * m, *S)``, background-major per coalition."""
        cover = covered(coalitions, self._masks_flat) | self._always
        inputs = np.where(cover[:, None, :], self._x_flat, self._bg_flat[None, :, :])
        return inputs.reshape((-1, *self.x.shape))

    def _call_model(self, inputs: np.ndarray) -> np.ndarray:
        outs = []
        for i in range(0, len(inputs), self.batch_size):
            batch = inputs[i : i + self.batch_size]
            outs.append(self.model(batch))
            self.n_model_calls += 1
        self.n_model_rows += len(inputs)
        return np.concatenate(outs, axis=0)

    def _evaluate(self, coalitions: np.ndarray) -> np.ndarray:
        c, m = len(coalitions), len(self.background)
        raw = self._call_model(self.masked_inputs(coalitions)).reshape(c, m, self.n_outputs)
        return self._link(np.einsum("cmk,m->ck", raw, self.weights))
