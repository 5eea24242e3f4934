"""RecurrentMaskedGame (prefix-tree path) and split_values equal the plain masking game."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from seqshap.games import MaskedGame  # noqa: E402
from seqshap.games.recurrent import RecurrentMaskedGame  # noqa: E402
from seqshap.links import identity  # noqa: E402
from seqshap.models import CallableModel, RecurrentCallableModel  # noqa: E402
from seqshap.sequence.players import (  # noqa: E402
    cell_players,
    event_players,
    feature_players,
    window_players,
)
from seqshap.sequence.pruning import plain_split_values, split_values  # noqa: E402
from seqshap.testing import brute_force_shapley  # noqa: E402

T, D, K = 7, 3, 2
NAMES = ["a", "b", "c"]


class Net(torch.nn.Module):
    """TimeSHAP's pattern: forward(x, h=None) -> (scores, h)."""

    def __init__(self, cell: str, hidden: int = 6):
        super().__init__()
        rnn = torch.nn.GRU if cell == "gru" else torch.nn.LSTM
        self.rnn = rnn(D, hidden, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(hidden, K)

    def forward(self, x, h=None):
        out, h = self.rnn(x, h)
        return torch.sigmoid(self.head(out[:, -1])), h


def make_models(cell: str, dtype=torch.float64):
    gen = torch.Generator().manual_seed(3 if cell == "gru" else 4)
    net = Net(cell)
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.7)
    net = net.to(dtype).eval()

    def f(x, h=None):
        with torch.no_grad():
            s, h = net(torch.as_tensor(x, dtype=dtype), h)
        return s.double().numpy(), h

    return RecurrentCallableModel(f), CallableModel(lambda x: f(x)[0])


@pytest.fixture(scope="module", params=["gru", "lstm"])
def models(request):
    return make_models(request.param)


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(11)
    return rng.normal(size=(T, D)), rng.normal(size=(3, T, D)), np.array([0.5, 0.3, 0.2])


def all_coalitions(m: int) -> np.ndarray:
    ints = np.arange(2**m)
    return ((ints[:, None] >> np.arange(m)) & 1).astype(bool)


LEVELS = {
    "event": lambda p: event_players(T, D, p),
    "feature": lambda p: feature_players(T, NAMES, p),
    "cell": lambda p: cell_players(T, NAMES, [1, 3], [("b", [1])], p),
    "window": lambda p: window_players(T, D, 2, p),
}


@pytest.mark.parametrize("level", sorted(LEVELS))
@pytest.mark.parametrize("n_pruned", [0, 3])
@pytest.mark.parametrize("call_cost", [0, 512])
def test_prefix_tree_equals_plain_on_every_coalition(models, data, level, n_pruned, call_cost):
    fast, plain = models
    x, bg, w = data
    players = LEVELS[level](n_pruned)
    g_plain = MaskedGame(plain, x, bg, players.masks, weights=w)
    g_fast = RecurrentMaskedGame(fast, x, bg, players.masks, weights=w, call_cost=call_cost)
    z = all_coalitions(players.n_players)
    np.testing.assert_allclose(g_fast(z), g_plain(z), rtol=0, atol=1e-10)
    # never more recurrent steps than whole sequences for every coalition and background row;
    # fewer, without merging, wherever some player starts after step 0
    plain_steps = len(z) * len(bg) * T
    assert g_fast.n_steps <= plain_steps
    if call_cost == 0 and not (level == "feature" and n_pruned == 0):
        assert g_fast.n_steps < plain_steps


@pytest.mark.parametrize("n_players", [61, 62, 63, 130])
def test_many_players_span_several_key_words(models, n_players):
    """Coalitions are packed into 62-bit keys: more players (and segments that straddle two
    words, duplicates, players covering nothing) still give the plain game's values."""
    fast, plain = models
    rng = np.random.default_rng(n_players)
    t_len = 12
    x, bg = rng.normal(size=(t_len, D)), rng.normal(size=(2, t_len, D))
    masks = np.zeros((n_players, t_len, D), dtype=bool)
    for i in range(n_players - 1):  # the last player covers nothing
        step = rng.integers(t_len)
        masks[i, step : step + rng.integers(1, 4), rng.integers(D)] = True
    z = np.repeat(rng.random((3, n_players)) < 0.5, 100, axis=0)  # few shared prefixes,
    flip = rng.integers(n_players, size=(300, 2))  # rows that differ in one or two players
    z[np.arange(300)[:, None], flip] ^= True
    z = np.concatenate([z, z[:20], np.zeros((1, n_players), bool), np.ones((1, n_players), bool)])
    g_fast = RecurrentMaskedGame(fast, x, bg, masks, call_cost=0)
    g_plain = MaskedGame(plain, x, bg, masks)
    np.testing.assert_allclose(g_fast(z), g_plain(z), rtol=0, atol=1e-10)
    assert g_fast.n_steps < len(z) * len(bg) * t_len


@pytest.mark.parametrize("n_players", [5, 62, 130])
def test_packed_keys_are_the_sums_of_the_layout_bits(models, n_players):
    """The prefix keys packed 8 bits a byte equal their definition: key_w = Σ z_p bit_p over
    the players and bit values of word w (python integers, no overflow)."""
    fast, _ = models
    rng = np.random.default_rng(n_players + 1)
    t_len = 40
    masks = np.zeros((n_players, t_len, D), dtype=bool)
    for i in range(n_players - 1):  # the last player covers nothing
        masks[i, rng.integers(t_len), rng.integers(D)] = True
    game = RecurrentMaskedGame(fast, rng.normal(size=(t_len, D)), np.zeros((1, t_len, D)), masks)
    z = rng.random((50, n_players)) < 0.5
    keys, order = game._sorted_keys(z)
    for w, (players, bits) in enumerate(zip(game._word_players, game._word_bits)):
        want = [sum(int(b) for p, b in zip(players, bits) if row[p]) for row in z]
        assert keys[:, w].tolist() == want
    assert sorted(map(tuple, keys.tolist())) == [tuple(k) for k in keys[order].tolist()]


def test_probe_runs_one_step_only(models, data):
    """Building the game checks the model on the first step of x, not on all T steps."""
    fast, plain = models
    x, bg, w = data
    shapes = []

    def spy(xx, h=None):
        shapes.append(np.shape(xx))
        return fast.forward(xx, h)

    players = event_players(T, D, 2)
    game = RecurrentMaskedGame(RecurrentCallableModel(spy), x, bg, players.masks, weights=w)
    assert shapes == [(1, 1, D)] and game.n_outputs == K
    assert (game.n_model_calls, game.n_model_rows) == (1, 1)
    np.testing.assert_allclose(game.full_value, plain(x[None])[0], atol=1e-12)


def test_brute_force_shapley_equal_on_both_paths(models, data):
    fast, plain = models
    x, bg, w = data
    players = event_players(T, D, 2)
    phi_plain = brute_force_shapley(MaskedGame(plain, x, bg, players.masks, weights=w))
    phi_fast = brute_force_shapley(RecurrentMaskedGame(fast, x, bg, players.masks, weights=w))
    np.testing.assert_allclose(phi_fast, phi_plain, rtol=0, atol=1e-10)


def test_exact_event_enumeration_costs_2_to_the_m_plus_1_steps(models, data):
    """Events as players, no pruning, all 2^T coalitions in one chunk and call_cost=0: the
    distinct prefixes after step t are 2^(t+1) per background row, so Σ_t 2^(t+1) steps."""
    fast, _ = models
    x, bg, w = data
    players = event_players(T, D, 0)
    game = RecurrentMaskedGame(fast, x, bg, players.masks, weights=w, call_cost=0)
    game.max_chunk = 2**T
    game(all_coalitions(T))
    assert game.n_steps == len(bg) * (2 ** (T + 1) - 2)


@pytest.mark.parametrize("batch_size", [1, 5, 4096])
def test_batch_size_invariance(models, data, batch_size):
    fast, _ = models
    x, bg, w = data
    players = cell_players(T, NAMES, [2], [("a", [0]), ("c", [2])], 2)
    z = all_coalitions(players.n_players)
    ref = RecurrentMaskedGame(fast, x, bg, players.masks, weights=w)(z)
    got = RecurrentMaskedGame(fast, x, bg, players.masks, weights=w, batch_size=batch_size)(z)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)


def test_float32_model_within_1e6():
    fast, plain = make_models("gru", torch.float32)
    rng = np.random.default_rng(5)
    x, bg = rng.normal(size=(T, D)), rng.normal(size=(1, T, D))
    players = event_players(T, D, 1)
    z = all_coalitions(players.n_players)
    a = RecurrentMaskedGame(fast, x, bg, players.masks)(z)
    b = MaskedGame(plain, x, bg, players.masks)(z)
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)


@pytest.mark.parametrize("n_blocks", [1, 3, 8])
def test_split_values_equal_plain(models, data, n_blocks):
    fast, plain = models
    x, bg, w = data
    counter: dict[str, int] = {}
    o1, r1 = split_values(
        fast, x, bg, w, identity, n_blocks=n_blocks, batch_size=4, counter=counter
    )
    o2, r2 = plain_split_values(plain, x, bg, w, identity)
    np.testing.assert_allclose(o1, o2, rtol=0, atol=1e-10)
    np.testing.assert_allclose(r1, r2, rtol=0, atol=1e-10)
    # ends: older-only at s=0 is the baseline, at s=T it is x
    np.testing.assert_allclose(o1[T], plain(x[None])[0], atol=1e-12)
    np.testing.assert_allclose(o1[0], w @ plain(bg), atol=1e-12)
    assert counter["steps"] <= 2 * len(bg) * T * T + (1 + len(bg)) * T


def test_unknown_hidden_state_layout_is_a_clear_error(data):
    x, bg, w = data

    def batch_first_state(xx, h=None):
        n = len(xx)
        return np.ones((n, 1)), np.zeros((n, 1, 4))  # batch on axis 0, adapter expects axis 1

    model = RecurrentCallableModel(batch_first_state)
    players = event_players(T, D, 0)
    game = RecurrentMaskedGame(model, x, bg, players.masks, weights=w)
    with pytest.raises(ValueError, match="hidden state has an unknown layout.*axis 1"):
        game(all_coalitions(players.n_players)[:4])

    def dict_state(xx, h=None):
        return np.ones((len(xx), 1)), {"h": np.zeros((1, len(xx), 4))}

    game = RecurrentMaskedGame(RecurrentCallableModel(dict_state), x, bg, players.masks)
    with pytest.raises(ValueError, match="unknown layout.*not an array"):
        game(all_coalitions(players.n_players)[:4])


def test_needs_a_recurrent_model(data):
    x, bg, _ = data
    with pytest.raises(TypeError, match="RecurrentModel"):
        RecurrentMaskedGame(CallableModel(lambda v: v[:, -1, :1]), x, bg, event_players(T, D).masks)


@pytest.mark.parametrize("stop_tol", [0.0, 0.01, 0.05, 10.0])
def test_early_stop_matches_the_full_curve(models, stop_tol):
    """Stopping at the first small split (from the end) gives the same values where computed,
    the same first hit, and fewer steps; both paths agree."""
    from seqshap.sequence.pruning import pruning_from_split_values

    fast, plain = models
    rng = np.random.default_rng(9)
    t_len = 40
    x, bg = rng.normal(size=(t_len, D)), rng.normal(size=(1, t_len, D))
    w = np.ones(1)
    full_c: dict[str, int] = {}
    part_c: dict[str, int] = {}
    full = split_values(fast, x, bg, w, identity, counter=full_c)
    part = split_values(fast, x, bg, w, identity, stop_tol=stop_tol, counter=part_c)
    plain_part = plain_split_values(plain, x, bg, w, identity, stop_tol=stop_tol)
    done = ~np.isnan(part[0]).any(axis=1)
    np.testing.assert_array_equal(done, ~np.isnan(plain_part[0]).any(axis=1))
    for a, b in zip(full, part):
        np.testing.assert_allclose(b[done], a[done], atol=1e-10)
    res_full = pruning_from_split_values(*full, stop_tol, ["o0", "o1"])
    res_part = pruning_from_split_values(*part, stop_tol, ["o0", "o1"])
    assert res_full.complete
    assert res_part.pruned_index == res_full.pruned_index
    for bigger in (stop_tol, stop_tol + 0.01, stop_tol * 3 + 0.1):
        assert res_part.index_for(bigger) == res_full.index_for(bigger)
    if not res_part.complete:
        assert part_c["steps"] < full_c["steps"]
        assert len(res_part.curve) < len(res_full.curve)
        with pytest.raises(ValueError, match="cannot answer tol"):
            res_part.index_for(stop_tol / 2 - 1e-3)
    if stop_tol == 10.0:  # t = -1 already qualifies: only the first block is run
        assert res_part.pruned_index == -1 and not res_part.complete


def test_prefix_cache_reuses_prefixes_and_changes_nothing(models):
    from seqshap.games.recurrent import PrefixCache

    fast, _ = models
    rng = np.random.default_rng(12)
    x = rng.normal(size=(3, 20, D))
    cache = PrefixCache(fast)
    ref_scores, ref_state = fast.forward(x, None)
    # remember the first 12 steps, then ask for whole rows: they start from step 12
    s12, st12 = fast.forward(x[:, :12], None)
    cache.remember(x[:, :12], s12, st12)
    got_scores, got_state = cache.forward(x, None)
    np.testing.assert_allclose(got_scores, ref_scores, atol=1e-12)
    for a, b in zip(_leaves(got_state), _leaves(ref_state)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), atol=1e-12)
    hits = cache.hits
    again, _ = cache.forward(x[[2, 0]], None)  # whole rows now cached, in another order
    np.testing.assert_allclose(again, ref_scores[[2, 0]], atol=1e-12)
    assert cache.hits == hits + 2
    cache.clear()
    assert cache._start(x[0]) == (0, None)


@pytest.mark.parametrize(("cached", "calls"), [(1, 1), (18, 2)])
def test_prefix_cache_joins_rows_whose_prefix_saves_little(models, cached, calls):
    """Two rows with a cached prefix, two without: a prefix of 1 step (the probe's) is not
    worth a second call over the other 19 steps, so all four rows run in one call; 18 cached
    steps of 20 are (2 · 18 row-steps saved > 2 steps of a call). Same scores and states."""
    from seqshap.models import RecurrentCallableModel
    from seqshap.models._prefix import STEP_COST, PrefixCache

    fast, _ = models
    rng = np.random.default_rng(13)
    x = rng.normal(size=(4, 20, D))
    assert (cached * 2 <= STEP_COST * (20 - cached)) == (calls == 1)
    ref_scores, ref_state = fast.forward(x, None)
    seen = []

    def counted(a, h=None):
        seen.append(a.shape)
        return fast.forward(a, h)

    cache = PrefixCache(RecurrentCallableModel(counted))
    s0, st0 = fast.forward(x[:2, :cached], None)
    cache.remember(x[:2, :cached], s0, st0)
    perm = np.array([1, 3, 0, 2])
    got_scores, got_state = cache.forward(x[perm], None)
    assert len(seen) == calls
    np.testing.assert_allclose(got_scores, ref_scores[perm], rtol=0, atol=1e-12)
    want = fast.take_state(ref_state, perm)
    for a, b in zip(_leaves(got_state), _leaves(want)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=0, atol=1e-12)


def _leaves(state):
    if isinstance(state, tuple | list):
        return [leaf for s in state for leaf in _leaves(s)]
    return [state]


@pytest.mark.parametrize("reverse", [False, True])
def test_exact_enumeration_is_prefix_friendly_in_any_player_order(models, reverse):
    """12 event players over the last 12 of 20 steps (the 8 before always present), enumerated
    in chunks of 2^6: whatever order the players are given in, the latest vary fastest, so a
    chunk shares the state up to its 6 fixed (earliest) players: 2^6 chunks of
    8 + 6 + (2^7 − 2) row-steps. Earliest varying fastest would cost 8 + 126 + 6·2^6 a chunk."""
    from seqshap.estimators import exact_shapley

    fast, plain = models
    rng = np.random.default_rng(8)
    t_len, n_ev, c = 20, 12, 6
    x, bg = rng.normal(size=(t_len, D)), rng.normal(size=(1, t_len, D))
    masks = event_players(t_len, D, 0).masks[:n_ev]  # latest first
    if reverse:
        masks = masks[::-1]
    game = RecurrentMaskedGame(fast, x, bg, masks, call_cost=0)
    est = exact_shapley(game, chunk=2**c)
    p = t_len - n_ev
    assert game.n_steps == 2 ** (n_ev - c) * (p + n_ev - c + 2 ** (c + 1) - 2)
    ref = brute_force_shapley(MaskedGame(plain, x, bg, masks))
    np.testing.assert_allclose(est.values, ref, rtol=0, atol=1e-10)


def test_requests_larger_than_a_chunk_are_valued_in_prefix_order(models, data):
    """A shuffled request of every coalition, cut into chunks of 16: the game sorts it by
    prefix first, so it costs what the sorted request costs, and each row keeps its value."""
    fast, _ = models
    x, bg, w = data
    players = event_players(T, D, 0)
    z = all_coalitions(T)
    shuffled = np.random.default_rng(0).permutation(len(z))
    games = [RecurrentMaskedGame(fast, x, bg, players.masks, weights=w, call_cost=0) for _ in "ab"]
    for g in games:
        g.max_chunk = 16
    ref = games[0](z)
    got = games[1](z[shuffled])
    np.testing.assert_allclose(got, ref[shuffled], rtol=0, atol=1e-12)
    assert games[1].n_steps == games[0].n_steps


@pytest.mark.parametrize(("state_axis", "as_torch"), [(0, False), (1, False), (1, True)])
def test_prefixes_whose_states_become_equal_are_merged_exactly(state_axis, as_torch):
    """A model that remembers its last two inputs only (a shift register, then a nonlinear
    read-out): coalitions that differ only in events more than two steps back reach bitwise
    equal states and are run once from there. Same values as the plain game, fewer steps."""
    t_len, d = 120, 2
    rng = np.random.default_rng(1)
    u = rng.normal(size=(2 * d, 1))

    def f(x, h=None):
        if h is not None:
            h = np.asarray(h if state_axis == 0 else h[0])  # (n, 2d), or (1, n, 2d)
        h = np.zeros((len(x), 2 * d)) if h is None else h
        for t in range(x.shape[1]):
            h = np.concatenate([h[:, d:], x[:, t]], axis=1)
        out = np.tanh(h @ u) + 0.1 * (h**2).sum(axis=1, keepdims=True)
        state = h if state_axis == 0 else h[None]
        return out, (torch.as_tensor(state) if as_torch else state)

    fast = RecurrentCallableModel(f, state_batch_axis=state_axis)
    plain = CallableModel(lambda v: f(v)[0])
    x, bg = rng.normal(size=(t_len, d)), rng.normal(size=(2, t_len, d))
    players = event_players(t_len, d, n_pruned=10)
    z = rng.random((300, players.n_players)) < 0.5
    # four patterns of the 80 latest events: rows that share one differ only in older events,
    # and reach equal states two steps into the pattern
    z[:, :80] = (rng.random((4, 80)) < 0.5)[rng.integers(4, size=300)]
    merged = RecurrentMaskedGame(fast, x, bg, players.masks, call_cost=0)
    unmerged = RecurrentMaskedGame(fast, x, bg, players.masks, call_cost=0)
    unmerged.merge_states = False
    expected = MaskedGame(plain, x, bg, players.masks)(z)
    np.testing.assert_allclose(merged(z), expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(unmerged(z), expected, rtol=0, atol=1e-12)
    assert merged.n_merged > 0 and unmerged.n_merged == 0
    assert merged.n_steps < 0.7 * unmerged.n_steps
    # states kept after the merges serve a later request with other older events (rows whose
    # prefixes were merged into one group all read its state): still the plain values
    assert merged._saved
    z2 = rng.random((100, players.n_players)) < 0.5
    z2[:, :80] = z[rng.integers(300, size=100), :80]
    steps = merged.n_steps
    expected2 = MaskedGame(plain, x, bg, players.masks)(z2)
    np.testing.assert_allclose(merged(z2), expected2, rtol=0, atol=1e-12)
    np.testing.assert_allclose(unmerged(z2), expected2, rtol=0, atol=1e-12)
    fresh = RecurrentMaskedGame(fast, x, bg, players.masks, call_cost=0)
    fresh(z2)
    assert merged.n_steps - steps < fresh.n_steps


def test_state_rows_compare_states_bitwise_in_any_layout():
    """The merge reads each row of a state as bytes: numpy or torch (bfloat16 too), tuples of
    leaves, the batch on the model's axis; a leaf without that batch gives None (no merge)."""
    from seqshap.models._prefix import state_rows

    model = RecurrentCallableModel(lambda x, h=None: (x[:, -1], h))
    h = np.array([[[1.0, 2.0], [1.0, 2.0], [1.0, -2.0]]])  # (layers, n = 3, hidden)
    for state in (h, torch.as_tensor(h, dtype=torch.bfloat16), (h, torch.as_tensor(h))):
        rows = state_rows(model, state, 3)
        assert rows.shape[0] == 3 and rows.dtype == np.uint8
        assert (rows[0] == rows[1]).all() and not (rows[0] == rows[2]).all()
    assert state_rows(model, h, 4) is None
    assert state_rows(model, {"h": h}, 3) is None


@pytest.mark.parametrize("call_cost", [64, 512])
def test_runs_waste_at_most_call_cost_and_change_no_value(models, call_cost):
    """Chains of one-event changes over 60 events (two new prefixes a step, as the samples of an
    old time block): the segments a run joins cost at most ``call_cost`` row-steps more, summed
    over the run, than runs of their own would; the values equal those of unjoined segments
    (``call_cost=0``), and the row-steps are what the plan says."""
    fast, _ = models
    rng = np.random.default_rng(5)
    t_len = 60
    x, bg = rng.normal(size=(t_len, D)), rng.normal(size=(2, t_len, D))
    masks = event_players(t_len, D, 0).masks
    ranks = np.argsort(rng.random((2, t_len)), axis=1)
    z = (ranks[:, None, :] < np.arange(1, t_len)[None, :, None]).reshape(-1, t_len)
    games = [RecurrentMaskedGame(fast, x, bg, masks, call_cost=c) for c in (0, call_cost)]
    for g in games:
        g.merge_states = False  # the plan alone
    ref, got = games[0](z), games[1](z)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-12)
    g = games[1]
    order, div, _ = g._prefix_tree(z)
    n_seg = len(g._starts)
    n_groups = 1 + np.cumsum(np.bincount(div, minlength=n_seg + 1))[:n_seg]
    plan = g._plan(n_groups)
    assert len(plan) > 1
    m, steps, j0 = len(bg), 0, 0
    for a, b, j, _ in plan:
        waste = sum(
            (n_groups[j] - n_groups[i]) * m * (g._ends[i] - g._starts[i]) for i in range(j0, j + 1)
        )
        assert waste <= call_cost
        steps += int(n_groups[j]) * m * (b - a)
        j0 = j + 1
    assert g.n_steps == steps < games[0].n_steps + len(plan) * call_cost


def test_empty_and_full_values_are_kept_from_a_request(models, data):
    """A request holding ∅ and N: empty_value and full_value (and so resolution) then cost
    no model call, and equal what a call of their own gives."""
    fast, _ = models
    x, bg, w = data
    players = event_players(T, D, 0)
    game = RecurrentMaskedGame(fast, x, bg, players.masks, weights=w)
    game(all_coalitions(T))
    calls = game.n_model_calls
    empty, full = game.empty_value, game.full_value
    assert game.n_model_calls == calls
    own = RecurrentMaskedGame(fast, x, bg, players.masks, weights=w)
    before = own.n_model_calls
    np.testing.assert_allclose(empty, own.empty_value, rtol=0, atol=1e-12)
    np.testing.assert_allclose(full, own.full_value, rtol=0, atol=1e-12)
    assert own.n_model_calls == before + 2


@pytest.mark.parametrize("merge", [False, True])
def test_states_kept_across_requests_change_no_value(models, merge):
    """Rounds of requests whose coalitions share early prefixes (as a sampling estimator's
    rounds do): a later request starts from the kept states of the latest natural segment at
    which all its groups were seen, costs fewer row-steps than in a fresh game, and every value
    equals the plain game's."""
    fast, plain = models
    rng = np.random.default_rng(21)
    t_len = 30
    x, bg = rng.normal(size=(t_len, D)), rng.normal(size=(2, t_len, D))
    masks = event_players(t_len, D, 0).masks
    context = rng.random((4, t_len)) < 0.5  # 4 contexts over the older events

    def request(n):
        z = context[rng.integers(4, size=n)].copy()
        z[:, :6] = rng.random((n, 6)) < 0.5  # the 6 latest events vary
        return z

    game = RecurrentMaskedGame(fast, x, bg, masks)
    game.merge_states = merge
    ref = MaskedGame(plain, x, bg, masks)
    first = request(64)
    np.testing.assert_allclose(game(first), ref(first), rtol=0, atol=1e-10)
    assert game._saved
    for _ in range(3):
        z = request(64)
        fresh = RecurrentMaskedGame(fast, x, bg, masks)
        fresh.merge_states = merge
        want = fresh(z)
        before = game.n_steps
        got = game(z)
        np.testing.assert_allclose(got, ref(z), rtol=0, atol=1e-10)
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-10)
        assert game.n_steps - before < fresh.n_steps
    # a request with a context never seen starts earlier (or from scratch), still exact
    z = request(8)
    z[:, 6:] = ~context[0, 6:]
    np.testing.assert_allclose(game(z), ref(z), rtol=0, atol=1e-10)
