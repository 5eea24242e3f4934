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
from scipy.special import chdtri

from ..games.base import Game
from ._rounds import Round, mean_round, sample_in_rounds, t_scaled
from .base import Estimate, bits_to_coalitions, shapley_size_weights

#: a node with more children than this is refused (2^c coalitions per context)
MAX_CHILDREN = 20

Tree = Any  # int (a player) or tuple of Trees
#: prior degrees of freedom of the block's pooled variance in :func:`owen_blocks`
PRIOR_DOF = 4
#: the fewest samples a block of :func:`owen_blocks` starts with (its costly blocks)
MIN_BLOCK_SAMPLES = 2
#: a block starts with ``min_samples`` samples when they cost at most this share of one sample
#: of every block, else with as many as that share buys (at least :data:`MIN_BLOCK_SAMPLES`)
FIRST_SHARE = 0.25


def check_hierarchy(
    hierarchy: Any, n_players: int, *, name: str = "hierarchy", flat_below_root: bool = False
) -> Tree:
    """Validate nested lists of player indices; single-child nodes are collapsed.

    Every player ``0..n_players−1`` must appear exactly once. A node may have at most
    :data:`MAX_CHILDREN` children (the root only, with ``flat_below_root``: the blocks of
    :func:`owen_blocks` are sampled, never enumerated).
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
            if len(children) > MAX_CHILDREN and (depth == 0 or not flat_below_root):
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
    sampler: str = "orderings",
    costs: np.ndarray | None = None,
) -> Estimate:
    """Owen values of ``game`` over ``hierarchy``: exact when :func:`owen_cost` fits ``budget``,
    else sampled: ``sampler="orderings"`` draws whole hierarchy-respecting orderings,
    ``"blocks"`` values the root's children exactly and samples inside them
    (:func:`owen_blocks`, with ``costs``)."""
    if sampler not in ("orderings", "blocks"):
        raise ValueError(f"sampler must be 'orderings' or 'blocks'; received {sampler!r}.")
    m = game.n_players
    tree = check_hierarchy(hierarchy, m, flat_below_root=sampler == "blocks")
    if isinstance(tree, int):  # one player
        v0, vn = game.empty_value, game.full_value
        vals = (vn - v0)[None, :]
        return Estimate(vals, np.zeros_like(vals), v0, vn, 2, "owen", exact=True)
    if owen_cost(tree) <= budget:
        return _owen_exact(game, tree)
    if sampler == "blocks":
        return owen_blocks(game, tree, budget, rng, tol=tol, costs=costs)
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
        result, drawn["extras"] = mean_round(drawn["samples"])
        return result

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


# ------------------------------------------------------------------------------- blocks
def _relabel(node: Tree, mapping: dict[int, int]) -> Tree:
    return mapping[node] if isinstance(node, int) else tuple(_relabel(c, mapping) for c in node)


def owen_blocks(
    game: Game,
    hierarchy: Any,
    budget: int,
    rng: np.random.Generator,
    *,
    tol: float | None = None,
    min_samples: int = 16,
    costs: np.ndarray | None = None,
    first_samples: Any = None,
) -> Estimate:
    """Owen values with the root's children (*blocks*) valued exactly and the leaves inside each
    block sampled, spending the budget on the blocks whose values are still uncertain.

    1. The quotient game of the ``c`` blocks is enumerated (``2^c`` coalitions): its Shapley
       values are the blocks' Owen values ``φ_B``, exact; a one-leaf block's value is final.
    2. A leaf ``i`` of block ``B`` has ``φ_i = E_{R,π}[v(R ∪ π_{<i} ∪ i) − v(R ∪ π_{<i})]``,
       ``R`` the blocks before ``B`` in a uniformly random order of the blocks, ``π`` a random
       ordering of ``B``'s leaves that respects its sub-tree. One sample is one ordering and
       costs ``|B| − 1`` evaluations: its two ends ``v(R)`` and ``v(R ∪ B)`` come from step 1.
       ``B``'s position in the order of the blocks (``|R|``) is stratified: spread evenly over
       a round's samples from a random start (each sample's position is still uniform).
    3. The marginals of one ordering sum to ``D = v(R ∪ B) − v(R)``, whose mean ``φ_B`` is
       known: ``φ̂_i = m̄_i − (D̄ − φ_B) / |B|``, so ``Σ_{i∈B} φ̂_i = φ_B`` exactly (efficiency
       holds exactly, block by block).
    4. Standard errors: the variance of each leaf's residuals ``m_i − D / |B|`` within the
       positions (``ν = n − #positions`` degrees of freedom once every position has about two
       samples, else the plain variance with ``ν = n − 1``), moderated towards its block's
       mean with weight :data:`PRIOR_DOF` (Smyth 2004), t-scaled by ``ν`` (not ``ν +
       PRIOR_DOF``: the leaves of a block share each sample's context, so the block's mean is
       no better known than a leaf's), and floored in quadrature at the value function's
       resolution (:attr:`seqshap.games.Game.resolution`): a difference smaller than the
       model's arithmetic resolves is rounding, not estimation error.
    5. Rounds: a block starts with ``min_samples`` samples when they are cheap, costing at most
       :data:`FIRST_SHARE` of one sample of every block (``costs`` (M,): the players' costs as
       in :attr:`seqshap.games.Game.player_costs`, by default the game's; without costs every
       block is cheap), else with what that share buys, at least :data:`MIN_BLOCK_SAMPLES`
       (``first_samples``, one count per block, replaces this rule, e.g. to replay an
       allocation at 20× its size). Then each block whose largest standard error exceeds
       ``tol`` × the spread of all values gets the samples that the ``1/√n`` law says it needs
       (at most 4× its samples a round), until every block meets the target or the budget
       runs out (``extras["converged"]`` says which). A block with fewer than ``min_samples``
       samples meets it only if every marginal it drew is within the target and its standard
       errors' 95% upper bound (``SE · √(ν / χ²_{0.05,ν})``, 16× at ``ν = 1``) is too: a
       costly block stops after two samples only where its values are negligible (on the AReM
       GRU, events the model has forgotten), not because two samples happened to agree.
       ``tol=None`` spends the whole budget, the same number of new samples in every block.

    Why blocks: on a recurrent prefix tree a coalition costs the steps after its first
    differing event, so a marginal of an event ``t`` steps back costs ``≈ t`` steps whatever
    the estimator: one sample of every block of ``T`` events costs ``≈ T²/2`` row-steps, almost
    all in the two oldest blocks. Exact block values cost little when the recent blocks are
    short (see :func:`seqshap.sequence.players.time_hierarchy`); the recent blocks, cheap, start
    with many samples; the old blocks, costly, whose values a recurrent model has mostly
    forgotten, start with two.

    Why these standard errors (measured): with 4 samples a block, a variance moderated with
    ``ν + PRIOR_DOF`` degrees of freedom, no floor, and stopping as soon as the standard errors
    looked small, 29% to 56% of the AReM GRU's 480 events lay within 3 standard errors of a
    20×-budget reference (events the model forgot got standard error 0 next to float32
    rounding; heavy-tailed marginals, mostly near zero and rarely not, gave standard errors up
    to 30× too small). Now 0.975–0.998 over seeds (``bench/bench_long.py``). On small games
    against exact values (``tests/test_owen.py``) ``φ̂ ± 1.96 SE`` covers 95% of the values of
    a dense game and 92–93% of a small RNN's skewed ones; control-variate coefficients
    estimated from 6–8 samples had cut the latter to 78%, unstratified positions to 90%.

    The budget counts evaluations: ``2^c`` for step 1 plus ``|B| − 1`` per ordering.

    Tried and dropped: antithetic pairs (an ordering and its reverse) and contexts drawn in
    proportion to ``|D_R|`` both made the standard errors over-confident with few samples
    (|z| > 3 for 4–16% of the values of a test game with cancelling leaves, against 3.6% with
    plain draws at 8 samples a block).
    """
    m, k = game.n_players, game.n_outputs
    start = game.n_evaluations
    tree = check_hierarchy(hierarchy, m, flat_below_root=True)
    if isinstance(tree, int):
        v0, vn = game.empty_value, game.full_value
        vals = (vn - v0)[None, :]
        return Estimate(vals, np.zeros_like(vals), v0, vn, 2, "owen", exact=True)
    min_samples = max(MIN_BLOCK_SAMPLES, int(min_samples))
    c = len(tree)
    leaves = [np.asarray(_leaves(child), dtype=np.int64) for child in tree]
    sizes = np.array([len(lv) for lv in leaves])
    cover = np.zeros((c, m), dtype=bool)
    for j, lv in enumerate(leaves):
        cover[j, lv] = True
    sampled = [j for j in range(c) if sizes[j] > 1]
    unit = {j: int(sizes[j]) - 1 for j in sampled}  # evaluations per sample
    costs = game.player_costs if costs is None else np.asarray(costs, dtype=float)
    if costs is not None and costs.shape != (m,):
        raise ValueError(f"costs must have one entry per player ({m}); received {costs.shape}.")
    first = _first_samples(costs, leaves, sampled, unit, min_samples)
    if first_samples is not None:
        given = [int(n) for n in first_samples]
        if len(given) != c:
            raise ValueError(
                f"first_samples must have one count per block ({c}); received {len(given)}."
            )
        first = {j: max(MIN_BLOCK_SAMPLES, given[j]) for j in sampled}
    first_cost = 2**c + sum(first[j] * unit[j] for j in sampled)
    if first_cost > budget:  # fewer first samples, at least MIN_BLOCK_SAMPLES, to fit
        scale = (budget - 2**c) / max(1, first_cost - 2**c)
        first = {j: max(MIN_BLOCK_SAMPLES, int(n * scale)) for j, n in first.items()}
        least = 2**c + MIN_BLOCK_SAMPLES * sum(unit.values())
        if least > budget:
            raise ValueError(
                f"budget of {budget} evaluations is too small for block-sampled Owen values "
                f"over {c} blocks of {m} players: the blocks need 2^{c} = {2**c:,} and "
                f"{MIN_BLOCK_SAMPLES} samples per block {least - 2**c:,} more ({least:,} in "
                "all). Raise the budget or use fewer, smaller blocks."
            )
    # 1. the quotient game, exactly
    subsets = bits_to_coalitions(np.arange(2**c, dtype=np.int64), c)
    root = game((subsets.astype(np.float32) @ cover.astype(np.float32)) > 0)
    w_in, w_out = shapley_size_weights(c)
    n_in = subsets.sum(axis=1)
    phi_block = subsets.T.astype(float) @ (w_in[n_in, None] * root)
    phi_block -= (~subsets).T.astype(float) @ (w_out[n_in, None] * root)
    resolution = np.broadcast_to(np.asarray(game.resolution, dtype=float), (k,))
    values = np.zeros((m, k))
    errors = np.zeros((m, k))
    dof = np.full((m, k), np.inf)
    errors_raw = np.zeros((m, k))
    for j in range(c):
        if sizes[j] == 1:
            values[leaves[j][0]] = phi_block[j]
    # 2. leaves inside the blocks: orderings that respect each block's sub-tree
    tables = {
        j: _ancestor_table(
            _relabel(tree[j], {int(p): i for i, p in enumerate(leaves[j])}), int(sizes[j])
        )
        for j in sampled
    }
    marg: dict[int, list[np.ndarray]] = {j: [] for j in sampled}  # (n, |B|, k) per round
    diff: dict[int, list[np.ndarray]] = {j: [] for j in sampled}  # (n, k)
    where: dict[int, list[np.ndarray]] = {j: [] for j in sampled}  # (n,) B's position
    powers = 1 << np.arange(c, dtype=np.int64)
    done = dict.fromkeys(sampled, 0)
    want = dict(first)
    converged = False
    while True:
        new = {j: want[j] - done[j] for j in sampled if want[j] > done[j]}
        if not new:
            break
        plans = []
        for j, n in new.items():
            # R: the blocks before B in a random order of the blocks. B's position in that order
            # is stratified (spread evenly over the round's samples from a random start, so
            # each sample's position is still uniform); R is a random set of that many blocks
            pos = (rng.integers(c) + np.arange(n)) % c
            keys = rng.random((n, c))
            keys[:, j] = np.inf
            before = np.argsort(np.argsort(keys, axis=1), axis=1) < pos[:, None]
            r_int = before @ powers
            base = (before.astype(np.float32) @ cover.astype(np.float32)) > 0  # (n, M)
            perms = _orderings(tables[j], n, rng)
            ranks = np.argsort(perms, axis=1)
            plans.append((j, n, r_int, ranks, base))
            where[j].append(pos)
        vals = _value_chains(game, [(leaves[j], r, b) for j, _, _, r, b in plans])
        offset = 0
        for j, n, r_int, ranks, _ in plans:
            size, rows = int(sizes[j]), len(ranks)
            v = vals[offset : offset + rows * (size - 1)].reshape(rows, size - 1, k)
            offset += rows * (size - 1)
            lo, hi = root[r_int][:, None, :], root[r_int | powers[j]][:, None, :]
            steps = np.diff(np.concatenate([lo, v, hi], axis=1), axis=1)  # chain order
            steps = np.take_along_axis(steps, ranks[:, :, None], axis=1)  # leaf order
            marg[j].append(steps)
            diff[j].append(hi[:n, 0] - lo[:n, 0])
            done[j] += n
        block_se = {}  # the standard errors the stopping rule reads
        largest = {}  # few-sample blocks: their largest marginal contribution, per output
        for j in sampled:
            m_all, d_all = np.concatenate(marg[j]), np.concatenate(diff[j])
            phi, raw, nu = _control_variate(m_all, d_all, phi_block[j], np.concatenate(where[j]))
            scaled, _ = t_scaled(raw, nu)  # as the other sampled estimators' (_rounds)
            se = np.sqrt(scaled**2 + resolution**2)
            errors_raw[leaves[j]] = raw
            values[leaves[j]] = phi
            errors[leaves[j]] = se
            dof[leaves[j]] = nu
            if done[j] < min_samples:  # few samples: the 95% upper bound of the SE
                nu0 = float(nu.flat[0])
                se = se * np.sqrt(nu0 / chdtri(nu0, 0.95))
                largest[j] = np.abs(m_all).max(axis=(0, 1))
            block_se[j] = se.max(axis=0)  # (k,)
        spread = np.maximum(values.max(axis=0) - values.min(axis=0), 1e-12)
        target = 0.0 if tol is None else tol * spread
        ratio = {j: float(np.max(block_se[j] / np.maximum(target, 1e-300))) for j in sampled}
        for j, big in largest.items():  # not negligible: on to min_samples, whatever the SE
            if np.any(big > target):
                ratio[j] = np.inf
        if tol is not None and all(r <= 1.0 for r in ratio.values()):
            converged = True
            break
        left = budget - (game.n_evaluations - start)
        if tol is None:  # spend what is left evenly: the same number of new samples per block
            more = left // max(1, sum(unit.values()))
            wish = {j: done[j] + more for j in sampled}
        else:
            wish = {
                j: int(min(4 * done[j], np.ceil(done[j] * ratio[j] ** 2))) if ratio[j] > 1 else 0
                for j in sampled
            }
        extra = {j: wish[j] - done[j] for j in sampled if wish[j] > done[j]}
        cost = sum(n * unit[j] for j, n in extra.items())
        if cost > left:
            scale = left / max(cost, 1)
            extra = {j: int(n * scale) for j, n in extra.items()}
        want = {j: done[j] + extra.get(j, 0) for j in sampled}
    return Estimate(
        values,
        errors,
        root[0],
        root[-1],
        game.n_evaluations - start,
        "owen",
        exact=False,
        extras={
            "hierarchy": _as_lists(tree),
            "block_values": phi_block,
            "samples": [int(done.get(j, 0)) for j in range(c)],
            "converged": converged,
            "std_errors_raw": errors_raw,
            "dof": dof,
            "resolution": resolution.copy(),
        },
    )


#: coalitions are built and valued in pieces of at most this many cells (coalitions × players),
#: so that memory stays linear in the number of players: one ordering of a block of ``T / 2``
#: events over ``T`` players is ``T² / 2`` cells
CHAIN_CELLS = 2**24


def _value_chains(game: Game, chains: list[tuple[np.ndarray, np.ndarray, np.ndarray]]):
    """Values ``(Σ n (|B| − 1), k)`` of the chains ``(leaves of B, ranks (n, |B|), base (n, M))``:
    for each sample, the coalitions ``base ∪ {leaves of rank < r}``, ``r = 1 … |B| − 1``, in
    order. Built and valued in pieces of at most :data:`CHAIN_CELLS` cells (pieces of several
    chains share one call)."""
    m = game.n_players
    limit = max(1, CHAIN_CELLS // m)
    parts, pending, n_pending = [], [], 0
    for leaves, ranks, base in chains:
        width = len(leaves) - 1
        total = len(ranks) * width
        for lo in range(0, total, limit):
            idx = np.arange(lo, min(total, lo + limit))
            sample, step = idx // width, idx % width + 1
            z = base[sample]
            z[:, leaves] = ranks[sample] < step[:, None]
            pending.append(z)
            n_pending += len(z)
            if n_pending >= limit:
                parts.append(game(np.concatenate(pending)))
                pending, n_pending = [], 0
    if pending:
        parts.append(game(np.concatenate(pending)))
    return np.concatenate(parts) if parts else np.zeros((0, game.n_outputs))


def _first_samples(
    costs: np.ndarray | None,
    leaves: list[np.ndarray],
    sampled: list[int],
    unit: dict[int, int],
    min_samples: int,
) -> dict[int, int]:
    """Samples each sampled block starts with (see :func:`owen_blocks`, step 5). A sample of
    block ``B`` costs ``Σ_{i∈B} cost_i`` (each of its coalitions first differs inside ``B``)."""
    if costs is None:
        return dict.fromkeys(sampled, min_samples)
    per_sample = {j: float(np.sum(costs[leaves[j]])) * unit[j] / (unit[j] + 1) for j in sampled}
    share = FIRST_SHARE * sum(per_sample.values())
    return {
        j: min_samples
        if min_samples * per_sample[j] <= share
        else max(MIN_BLOCK_SAMPLES, min(min_samples, int(share // per_sample[j])))
        for j in sampled
    }


def _control_variate(
    marg: np.ndarray, diff: np.ndarray, mean_diff: np.ndarray, strata: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Leaf values, raw (not t-scaled) standard errors and their degrees of freedom from ``n``
    samples ``marg`` (n, L, k) whose leaves sum to ``diff`` (n, k), whose mean ``mean_diff``
    (k,) is known, drawn at the positions ``strata`` (n,) of the block in the order of the
    blocks (see :func:`owen_blocks`, steps 3–4)."""
    n, size, _ = marg.shape
    mbar, dbar = marg.mean(axis=0), diff.mean(axis=0)
    beta = 1.0 / size
    phi = mbar - beta * (dbar - mean_diff)
    resid = marg - beta * diff[:, None]  # (n, L, k)
    labels, inverse, counts = np.unique(strata, return_inverse=True, return_counts=True)
    if n >= 2 * len(labels):
        # the positions are spread evenly: the variance of the mean is the within-position
        # variance over n (an i.i.d. formula would count the spread between positions too)
        sums = np.zeros((len(labels), *resid.shape[1:]))
        np.add.at(sums, inverse, resid)
        resid = resid - (sums / counts[:, None, None])[inverse]
        dof = n - len(labels)
    else:
        resid = resid - resid.mean(axis=0)
        dof = n - 1
    var = (resid**2).sum(axis=0) / dof  # (L, k)
    # moderated variances (Smyth 2004): each leaf's few-sample variance is pulled towards the
    # block's mean variance with PRIOR_DOF degrees of freedom, so that a leaf whose few
    # samples happen to agree does not get a standard error of zero
    var = (PRIOR_DOF * var.mean(axis=0) + dof * var) / (PRIOR_DOF + dof)
    return phi, np.sqrt(var / n), np.full(phi.shape, float(dof))
