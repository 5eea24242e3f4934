"""The linear default: exact pruning index by search plus a coarse display grid, equal to
the full curve where both are computed."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seqshap.links import identity  # noqa: E402
from seqshap.models import CallableModel, RecurrentCallableModel  # noqa: E402
from seqshap.sequence import SequenceExplainer  # noqa: E402
from seqshap.sequence.pruning import (  # noqa: E402
    compute_pruning,
    curve_grid,
    grid_split_values,
    split_values,
)

D = 3


@pytest.fixture(scope="module")
def models():
    gen = torch.Generator().manual_seed(2)
    rnn = torch.nn.GRU(D, 6, batch_first=True).double()
    head = torch.nn.Linear(6, 2).double()
    with torch.no_grad():
        for p in [*rnn.parameters(), *head.parameters()]:
            p.copy_(torch.randn(p.shape, generator=gen) * 0.6)

    def f(x, h=None):
        with torch.no_grad():
            out, h = rnn(torch.as_tensor(x, dtype=torch.float64), h)
            return torch.sigmoid(head(out[:, -1])).numpy(), h

    return RecurrentCallableModel(f), CallableModel(lambda x: f(x)[0])


def test_curve_grid_is_geometric_and_linear():
    for t_len in (1, 2, 7, 480, 20_000):
        g = curve_grid(t_len)
        assert g[0] == 0 and np.all(np.diff(g) > 0) and g[-1] == t_len - 1
        assert (t_len - g).sum() <= 4 * t_len  # Σ kept events over the grid: linear in T
    assert len(curve_grid(20_000)) < 40


@pytest.mark.parametrize("batch_size", [3, 1024])
def test_grid_split_values_equal_the_full_curve(models, batch_size):
    fast, _ = models
    rng = np.random.default_rng(0)
    t_len = 30
    x, bg = rng.normal(size=(t_len, D)), rng.normal(size=(2, t_len, D))
    w = np.array([0.7, 0.3])
    full_o, full_r = split_values(fast, x, bg, w, identity)
    splits = curve_grid(t_len)[1:]
    counter: dict[str, int] = {}
    o, r = grid_split_values(fast, x, bg, splits, batch_size=batch_size, counter=counter)
    np.testing.assert_allclose(np.einsum("nmk,m->nk", o, w), full_o[splits], rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.einsum("nmk,m->nk", r, w), full_r[splits], rtol=0, atol=1e-12)
    m = len(bg)
    assert counter["steps"] == (1 + m) * t_len + 2 * m * int((t_len - splits).sum())


@pytest.mark.parametrize("recurrent", [True, False])
@pytest.mark.parametrize("tol", [0.002, 0.02, 0.2])
def test_search_and_grid_equal_the_full_curve(models, recurrent, tol):
    fast, plain = models
    model = fast if recurrent else plain
    rng = np.random.default_rng(1)
    t_len = 60
    x, bg = rng.normal(size=(t_len, D)), rng.normal(size=(1, t_len, D))
    args = (model, x, bg, np.ones(1), identity, tol)
    kw = dict(output_names=["a", "b"], recurrent=recurrent)
    full = compute_pruning(*args, full_curve=True, **kw)
    lin = compute_pruning(*args, full_curve=False, grid=True, **kw)
    assert lin.pruned_index == full.pruned_index
    done = ~np.isnan(lin.older).any(axis=1)
    # every split from the most recent back to the index, and the grid beyond
    assert done[: -lin.pruned_index + 1].all()
    assert done[t_len - curve_grid(t_len)].all()
    np.testing.assert_allclose(lin.older[done], full.older[done], rtol=0, atol=1e-12)
    np.testing.assert_allclose(lin.recent[done], full.recent[done], rtol=0, atol=1e-12)
    assert lin.index_for(2 * tol) == full.index_for(2 * tol)
    assert len(lin.curve) == 2 * 2 * int(done.sum())


def test_explain_default_is_linear_and_full_curve_on_request(models):
    fast, _ = models
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, D))
    ex = SequenceExplainer(fast, np.zeros(D), seed=0)
    lin = ex.explain(x, levels="event", pruning_tol=0.05)
    full = ex.explain(x, levels="event", pruning_tol=0.05, full_curve=True)
    assert not lin.pruning.complete and full.pruning.complete
    assert lin.pruning.pruned_index == full.pruning.pruned_index
    np.testing.assert_allclose(lin.event.values, full.event.values, rtol=0, atol=1e-10)
    done = ~np.isnan(lin.pruning.older).any(axis=1)
    assert done.sum() < 60  # the search's blocks and a geometric grid, not all 201 splits


def test_grid_rides_along_the_prefix_pass(models):
    """With a display grid, split_values values the grid's splits in its one prefix pass: the
    grid adds its own rows only, 2m (T − s) row-steps a split, not a second pass over the
    prefix of x and the background (the (1 + m) T that grid_split_values spends), and the
    values are those of the full curve."""
    fast, _ = models
    rng = np.random.default_rng(4)
    t_len, m = 90, 2
    x, bg, w = rng.normal(size=(t_len, D)), rng.normal(size=(m, t_len, D)), np.full(m, 0.5)
    grid = curve_grid(t_len)
    grid = grid[grid > 0]
    plain_c, grid_c = {}, {}
    alone = split_values(fast, x, bg, w, identity, stop_tol=10.0, counter=plain_c)
    with_grid = split_values(fast, x, bg, w, identity, stop_tol=10.0, counter=grid_c, grid=grid)
    assert grid_c["steps"] == plain_c["steps"] + 2 * m * int((t_len - grid).sum())
    full_o, full_r = split_values(fast, x, bg, w, identity)
    assert np.isnan(alone[0][grid]).any()  # the search (tol 10) stopped in its first block
    np.testing.assert_allclose(with_grid[0][grid], full_o[grid], rtol=0, atol=1e-12)
    np.testing.assert_allclose(with_grid[1][grid], full_r[grid], rtol=0, atol=1e-12)
