"""Hierarchical time: event levels of many unpruned events as Owen values over blocks of
consecutive events (quotient game exact, events sampled inside the blocks)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seqshap.estimators.owen import owen_values  # noqa: E402
from seqshap.games import FunctionGame  # noqa: E402
from seqshap.models import RecurrentCallableModel  # noqa: E402
from seqshap.sequence import SequenceExplainer  # noqa: E402
from seqshap.sequence.players import time_hierarchy  # noqa: E402
from seqshap.testing import brute_force_shapley  # noqa: E402

T, D = 40, 2


def test_time_hierarchy_layout():
    assert time_hierarchy(5) == [[0], [1], [2, 3], [4]]
    blocks = time_hierarchy(480)
    assert [len(b) for b in blocks] == [1, 1, 2, 4, 8, 16, 32, 64, 128, 224]
    assert sum(blocks, []) == list(range(480))
    assert time_hierarchy(3, pruned=True) == [[0], [1], [2], [3]]
    assert len(time_hierarchy(10**5, max_blocks=12)) == 12


@pytest.fixture(scope="module")
def model():
    gen = torch.Generator().manual_seed(5)
    rnn = torch.nn.GRU(D, 5, batch_first=True).double()
    head = torch.nn.Linear(5, 1).double()
    with torch.no_grad():
        for p in [*rnn.parameters(), *head.parameters()]:
            p.copy_(torch.randn(p.shape, generator=gen))

    def f(x, h=None):
        with torch.no_grad():
            out, h = rnn(torch.as_tensor(x, dtype=torch.float64), h)
            return torch.sigmoid(head(out[:, -1])).numpy(), h

    return RecurrentCallableModel(f), (lambda x: f(x)[0])


@pytest.fixture(scope="module")
def x():
    return np.random.default_rng(0).normal(size=(T, D))


def test_many_unpruned_events_are_explained_in_blocks(model, x):
    fast, _ = model
    ex = SequenceExplainer(fast, np.zeros(D), seed=3)
    exp = ex.explain(x, pruning_tol=None, levels=("event",)).event
    assert exp.method == "owen" and not exp.exact and exp.meta["converged"]
    blocks = exp.meta["time_blocks"]
    assert blocks[:4] == [[1, 1], [2, 2], [3, 4], [5, 8]] and blocks[-1][1] == T
    v, se = exp.values[0, :, 0], exp.std_errors[0, :, 0]
    # efficiency, exactly
    np.testing.assert_allclose(v.sum(), exp.outputs[0, 0] - exp.base_values[0, 0], atol=1e-10)
    # each block's events sum to the block's value in the quotient game (exact, brute force)
    game = ex.game(x, "event")
    hierarchy = [list(range(a - 1, b)) for a, b in blocks]
    cover = np.zeros((len(hierarchy), T), dtype=bool)
    for j, b in enumerate(hierarchy):
        cover[j, b] = True
    quotient = brute_force_shapley(
        FunctionGame(lambda z: game((z.astype(float) @ cover) > 0), len(hierarchy))
    )[:, 0]
    sums = np.array([v[b].sum() for b in hierarchy])
    np.testing.assert_allclose(sums, quotient, rtol=0, atol=1e-10)
    # the two newest events are blocks of their own: exact, no standard error
    assert np.all(se[:2] == 0) and np.all(se[2:] >= 0)
    assert se.max() <= 0.01 * np.ptp(v) + 1e-15


def test_hierarchical_level_same_on_both_paths_and_reproducible(model, x):
    fast, plain = model
    a = SequenceExplainer(fast, np.zeros(D), seed=4).explain(x, pruning_tol=None, levels="event")
    b = SequenceExplainer(plain, np.zeros(D), seed=4, recurrent=False).explain(
        x, pruning_tol=None, levels="event"
    )
    c = SequenceExplainer(fast, np.zeros(D), seed=4).explain(x, pruning_tol=None, levels="event")
    assert a.event.meta["path"] == "recurrent" and b.event.meta["path"] == "plain"
    np.testing.assert_allclose(a.event.values, b.event.values, rtol=0, atol=1e-9)
    np.testing.assert_array_equal(a.event.values, c.event.values)


def _owen_by_block_orderings(game, blocks) -> np.ndarray:
    """Owen values from the definition: the mean marginal contribution over every ordering
    that keeps each block contiguous (all valued in one call)."""
    m = game.n_players
    orders = []
    for block_order in itertools.permutations(range(len(blocks))):
        for inner in itertools.product(*[itertools.permutations(blocks[j]) for j in block_order]):
            orders.append([p for part in inner for p in part])
    orders = np.array(orders)
    ranks = np.argsort(orders, axis=1)
    chain = ranks[:, None, :] < np.arange(m + 1)[None, :, None]  # (n, M + 1, M)
    v = game(chain.reshape(-1, m)).reshape(len(orders), m + 1, -1)
    marg = np.take_along_axis(np.diff(v, axis=1), ranks[:, :, None], axis=1)
    return marg.mean(axis=0)


def test_hierarchical_values_are_exact_owen_values_when_enumeration_fits(model, x):
    """Where exact enumeration over the blocks fits the budget, the blocks sampler returns
    exact Owen values over the time blocks: equal to their definition."""
    fast, _ = model
    xs = x[-8:]
    ex = SequenceExplainer(fast, np.zeros(D), seed=0)
    game = ex.game(xs, "event")
    blocks = time_hierarchy(8)  # [0], [1], [2, 3], [4..7]: 4! · 2 · 4! orderings
    est = owen_values(game, blocks, 10**6, np.random.default_rng(0), sampler="blocks")
    assert est.exact
    np.testing.assert_allclose(
        est.values, _owen_by_block_orderings(game, blocks), rtol=0, atol=1e-10
    )


def test_few_events_or_explicit_methods_stay_flat(model, x):
    fast, _ = model
    ex = SequenceExplainer(fast, np.zeros(D), seed=0)
    assert ex.explain(x[-20:], pruning_tol=None, levels="event").event.method == "kernel"
    ex_k = SequenceExplainer(fast, np.zeros(D), seed=0, method="kernel")
    exp = ex_k.explain(x, pruning_tol=None, levels="event").event
    assert exp.method == "kernel" and "time_blocks" not in exp.meta


@pytest.mark.parametrize("batch_size", [7, 64])
def test_hierarchical_level_does_not_depend_on_the_batch_size(model, x, batch_size):
    """The samples drawn do not depend on how the model's calls are cut: the values of batch
    size 4096 (one call per segment) are those of 7 or 64 rows a call, to rounding."""
    fast, _ = model
    ref = SequenceExplainer(fast, np.zeros(D), seed=2, batch_size=4096)
    other = SequenceExplainer(fast, np.zeros(D), seed=2, batch_size=batch_size)
    a = ref.explain(x, pruning_tol=None, levels="event").event
    b = other.explain(x, pruning_tol=None, levels="event").event
    assert a.meta["converged"] and b.meta["converged"]
    np.testing.assert_allclose(b.values, a.values, rtol=0, atol=1e-12)
    np.testing.assert_allclose(b.std_errors, a.std_errors, rtol=0, atol=1e-12)
