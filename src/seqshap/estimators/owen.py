"""Owen (partition) values over a hierarchy of players: exact, or by hierarchical permutations.

A *hierarchy* is a tree whose leaves are the players (e.g. tokens → words → phrases →
sentences), written as nested lists of player indices: ``[[0, 1], [[2, 3], 4]]``. Owen (1977)
values for one level of blocks, and Winter's (1989) level-structure values for a deeper tree,
play the Shapley game *among siblings* at every node: for a leaf ``i`` with ancestors
``A_1 ⊃ … ⊃ A_D ∋ i`` and ``S_d`` the siblings of ``A_d`` (the blocks beside it inside
``A_{d−1}``), with ``c_d = |S_d| + 1``,

    φ_i = Σ_{R_1 ⊆ S_1} … Σ_{R_D ⊆ S_D}  Π_d  |R_d|! (c_d − |R_d| − 1)! / c_d!
          · [ v(Q ∪ {i}) − v(Q) ],      Q = ∪_d ∪_{B ∈ R_d} B.

Equivalently: the average marginal contribution of ``i`` over the orderings in which every
block of the tree stays contiguous. Properties: efficiency (Σ φ = v(N) − v(∅)), symmetry
among siblings, and a flat tree (all leaves children of the root) gives Shapley values.

Cost of exact enumeration: a node with ``c`` children, reached through ``n`` contexts, needs
``n · 2^c`` coalitions and passes ``n · 2^(c−1)`` contexts to each child; a tree with small
branching keeps this polynomial (a balanced binary tree over M leaves: O(M²)), whereas exact
Shapley values need 2^M. Beyond the budget, values are estimated from antithetic pairs of
random hierarchy-respecting orderings (a permutation and its reverse), each costing M − 1
evaluations, with standard errors from the spread over pairs, t-scaled by their ν = pairs − 1
degrees of freedom, in rounds with the stopping rule of :mod:`seqshap.estimators._rounds`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..games.base import Game
from ._rounds import Round, sample_in_rounds, t_scaled
from .base import Estimate, bits_to_coalitions, shapley_size_weights

#: a node with more children than this is refused (2^c coalitions per context)
MAX_CHILDREN = 20

Tree = Any  # int (a player) or tuple of Trees


def check_hierarchy(hierarchy: Any, n_players: int, *, name: str = "hierarchy") -> Tree:
    """Validate nested lists of player indices; single-child nodes are collapsed.

    Every player ``0..n_players−1`` must appear exactly once.
    """
    seen: list[int] = []

    def norm(node: Any, depth: int) -> Tree:
        if depth > 64:
            raise ValueError(f"{name} is nested more than 64 levels deep.")
        if isinstance(node, int | np.integer) and not isinstance(node, bool):
            if not 0 <= int(node) < n_players:
                raise ValueError(f"{name} names player {int(node)}, outside 0..{n_players - 1}.")
            seen.append(int(node))
            return int(node)
        if isinstance(node, list | tuple | np.ndarray):
            children = [norm(c, depth + 1) for c in node]
            children = [c for c in children if c != ()]
            if not children:
                return ()
            if len(children) == 1:
                return children[0]
            if len(children) > MAX_CHILDREN:
                raise ValueError(
                    f"{name} has a node with {len(children)} children; at most {MAX_CHILDREN} "
                    "are allowed (exact Owen values cost 2^children per context). Group them "
                    "into sub-blocks."
                )
            return tuple(children)
        raise TypeError(
            f"{name} must be nested lists of player indices (ints); found {type(node).__name__}."
        )

    tree = norm(hierarchy, 0)
    counts = np.bincount(np.asarray(seen, dtype=np.int64), minlength=n_players)
    if (counts != 1).any():
        missing = np.flatnonzero(counts == 0).tolist()
        twice = np.flatnonzero(counts > 1).tolist()
        raise ValueError(
            f"{name} must contain every player 0..{n_players - 1} exactly once; missing "
            f"{missing[:10]}, repeated {twice[:10]}."
        )
    return tree


def flat_hierarchy(n_players: int) -> Tree:
    return tuple(range(n_players)) if n_players > 1 else 0


def _leaves(node: Tree) -> list[int]:
    if isinstance(node, int):
        return [node]
    return [leaf for child in node for leaf in _leaves(child)]


def owen_cost(tree: Tree) -> int:
    """Coalitions exact enumeration requests (an upper bound; duplicates are valued once)."""

    def cost(node: Tree, n_ctx: int) -> int:
        if isinstance(node, int):
            return 0
        c = len(node)
        return n_ctx * 2**c + sum(cost(child, n_ctx * 2 ** (c - 1)) for child in node)

    return 2 + cost(tree, 1)


def owen_values(
    game: Game,
    hierarchy: Any,
    budget: int,
    rng: np.random.Generator,
    *,
    tol: float | None = None,
) -> Estimate:
    """Owen values of ``game`` over ``hierarchy``: exact when :func:`owen_cost` fits ``budget``."""
    m = game.n_players
    tree = check_hierarchy(hierarchy, m)
    if isinstance(tree, int):  # one player
        v0, vn = game.empty_value, game.full_value
        vals = (vn - v0)[None, :]
        return Estimate(vals, np.zeros_like(vals), v0, vn, 2, "owen", exact=True)
    if owen_cost(tree) <= budget:
        return _owen_exact(game, tree)
    return _owen_sampled(game, tree, budget, rng, tol)


# ------------------------------------------------------------------------------- exact
def _owen_exact(game: Game, tree: Tree) -> Estimate:
    m, start = game.n_players, game.n_evaluations
    blocks: list[np.ndarray] = []  # coalitions requested, one block per internal node
    terms: list[tuple[int, int, int, np.ndarray, np.ndarray, np.ndarray]] = []
    stack = [(tree, np.zeros((1, m), dtype=bool), np.ones(1))]
    while stack:
        node, ctx, w = stack.pop()
        c = len(node)
        cover = np.zeros((c, m), dtype=bool)
        for j, child in enumerate(node):
            cover[j, _leaves(child)] = True
        subsets = bits_to_coalitions(np.arange(2**c, dtype=np.int64), c)  # (2^c, c)
        added = (subsets.astype(np.float32) @ cover.astype(np.float32)) > 0
        block = len(blocks)
        blocks.append((ctx[:, None, :] | added[None, :, :]).reshape(-1, m))
        sizes = subsets.sum(1)
        w_out = shapley_size_weights(c)[1]  # s!(c−s−1)!/c!
        for j, child in enumerate(node):
            out = np.flatnonzero(~subsets[:, j])
            inn = out | (1 << j)
            weights = w[:, None] * w_out[sizes[out]][None, :]  # (n_ctx, 2^(c−1))
            if isinstance(child, int):
                terms.append((block, child, 2**c, out, inn, weights))
            else:
                child_ctx = (ctx[:, None, :] | added[out][None, :, :]).reshape(-1, m)
                stack.append((child, child_ctx, weights.reshape(-1)))
    allz = np.concatenate(blocks)
    # unique rows come out sorted by their packed bits, first column slowest: put the game's
    # enumeration order there, so that a prefix-sharing game gets coalitions in its best order
    order = np.arange(m) if game.enumeration_order is None else game.enumeration_order
    packed = np.packbits(allz[:, order], axis=1)
    _, first, inverse = np.unique(packed, axis=0, return_index=True, return_inverse=True)
    values = game(allz[first])[inverse.reshape(-1)]
    k = values.shape[1]
    offsets = np.cumsum([0] + [len(b) for b in blocks])
    phi = np.zeros((m, k))
    for block, leaf, width, out, inn, weights in terms:
        v = values[offsets[block] : offsets[block + 1]].reshape(-1, width, k)
        diff = v[:, inn, :] - v[:, out, :]  # (n_ctx, 2^(c−1), k)
        phi[leaf] = np.einsum("cr,crk->k", weights, diff)
    empty = values[offsets[0]]  # root block, context ∅, subset ∅
    full = values[offsets[0] + 2 ** len(tree) - 1]
    return Estimate(
        phi,
        np.zeros_like(phi),
        empty,
        full,
        game.n_evaluations - start,
        "owen",
        exact=True,
        extras={"hierarchy": _as_lists(tree), "n_requested": len(allz)},
    )


# ------------------------------------------------------------------------------- sampled
def _ancestor_table(tree: Tree, m: int) -> np.ndarray:
    """``(depth, M)``: id of the node at depth d+1 on each leaf's path (−1 below the leaf)."""
    paths: dict[int, list[int]] = {}
    counter = [0]

    def walk(node: Tree, path: list[int]) -> None:
        counter[0] += 1
        here = path + [counter[0]]
        if isinstance(node, int):
            paths[node] = here[1:]
            return
        for child in node:
            walk(child, here)

    walk(tree, [])
    depth = max(len(p) for p in paths.values())
    table = np.full((depth, m), -1, dtype=np.int64)
    for leaf, path in paths.items():
        table[: len(path), leaf] = path
    return table


def _orderings(table: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` random orderings of the leaves in which every block of the tree is contiguous."""
    n_nodes = int(table.max()) + 2
    keys = rng.random((n, n_nodes))
    keys[:, 0] = 0.0
    per_level = keys[:, table + 1]  # (n, depth, M); −1 → column 0 → key 0
    per_level = np.moveaxis(per_level, 1, 0)  # (depth, n, M)
    return np.lexsort(per_level[::-1], axis=-1)  # primary key: the top level


def _owen_sampled(game: Game, tree: Tree, budget: int, rng: np.random.Generator, tol) -> Estimate:
    m, k = game.n_players, game.n_outputs
    start = game.n_evaluations
    v0, vn = game.empty_value, game.full_value
    per_pair = 2 * (m - 1)
    max_pairs = (budget - (game.n_evaluations - start)) // per_pair
    if max_pairs < 2:
        raise ValueError(
            f"budget of {budget} evaluations is too small for Owen values of {m} players over "
            f"this hierarchy: exact needs {owen_cost(tree):,}, sampling at least "
            f"{2 * per_pair + 2}. Raise the budget or use a hierarchy with fewer children per node."
        )
    table = _ancestor_table(tree, m)
    drawn = {"samples": np.zeros((0, m, k)), "extras": {}}

    def advance(target: int) -> Round:
        new = target - len(drawn["samples"])
        if new > 0:
            perms = _orderings(table, new, rng)
            perms = np.concatenate([perms, perms[:, ::-1]])
            ranks = np.argsort(perms, axis=1)
            chain = ranks[:, None, :] < np.arange(1, m)[None, :, None]  # (2p, M−1, M)
            v = game(chain.reshape(-1, m)).reshape(2 * new, m - 1, k)
            lo = np.broadcast_to(v0, (2 * new, 1, k))
            hi = np.broadcast_to(vn, (2 * new, 1, k))
            marg = np.diff(np.concatenate([lo, v, hi], axis=1), axis=1)
            marg = np.take_along_axis(marg, ranks[:, :, None], axis=1)
            drawn["samples"] = np.concatenate([drawn["samples"], 0.5 * (marg[:new] + marg[new:])])
        samples = drawn["samples"]
        raw = samples.std(axis=0, ddof=1) / np.sqrt(len(samples))
        se, drawn["extras"] = t_scaled(raw, len(samples) - 1)
        return Round(samples.mean(axis=0), se, len(samples))

    result, converged = sample_in_rounds(
        "owen",
        budget=budget,
        tol=tol,
        first=max_pairs if tol is None else min(max_pairs, 12),
        advance=advance,
        room=lambda n: max_pairs - n,
        spent=lambda: game.n_evaluations - start,
    )
    return Estimate(
        result.values,
        result.std_errors,
        v0,
        vn,
        game.n_evaluations - start,
        "owen",
        exact=False,
        extras={
            "hierarchy": _as_lists(tree),
            "n_orderings": 2 * result.n_units,
            "tol": tol,
            "converged": converged,
            **drawn["extras"],
        },
    )


def _as_lists(tree: Tree) -> Any:
    return tree if isinstance(tree, int) else [_as_lists(c) for c in tree]
