"""Real data: the TimeSHAP tutorial's GRU on AReM (cycling vs the rest), explained by seqshap.

Trains a 2-layer GRU(32) for 8 full-batch epochs (Adam, lr 0.01) on z-scored, clipped
sequences and explains a cycling test sequence against the average event with pruning
(tol 0.025). Reads the data from $SEQSHAP_AREM_DIR, else ../shared/data/arem relative to the
repository root (``conftest.AREM_DIR``; skipped when it is absent).
"""

from __future__ import annotations

import itertools
from math import factorial
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import AREM_DIR  # noqa: E402

from seqshap.sequence import SequenceExplainer, mean_event  # noqa: E402

ROOT = AREM_DIR
FEATURES = ["avg_rss12", "var_rss12", "avg_rss13", "var_rss13", "avg_rss23", "var_rss23"]
ACTIVITIES = ("cycling", "lying", "sitting", "standing", "walking")

pytestmark = pytest.mark.skipif(
    not ROOT.is_dir(), reason=f"AReM data not found at {ROOT}; set SEQSHAP_AREM_DIR to its folder"
)


def _read(path: Path) -> np.ndarray:
    rows = [
        line.split(",")[1:7]
        for line in path.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return np.asarray(rows, dtype=float)


class ExplainedRNN(torch.nn.Module):
    def __init__(self, n_features: int = 6, hidden: int = 32):
        super().__init__()
        self.rnn = torch.nn.GRU(n_features, hidden, num_layers=2, batch_first=True)
        self.head = torch.nn.Linear(hidden, 1)

    def forward(self, x, h=None):
        out, h = self.rnn(x, h)
        return torch.sigmoid(self.head(out[:, -1])), h


@pytest.fixture(scope="module")
def arem():
    xs, ys, ids = [], [], []
    for act in ACTIVITIES:
        for path in sorted((ROOT / act).glob("dataset*.csv")):
            seq = _read(path)
            if len(seq) != 480:  # sitting/dataset8 has 479 rows; the tutorial drops it
                continue
            xs.append(seq)
            ys.append(1.0 if act == "cycling" else 0.0)
            ids.append(int(path.stem.replace("dataset", "")))
    X, y, ids = np.stack(xs), np.array(ys), np.array(ids)
    train = ids <= 11
    mu = X[train].reshape(-1, 6).mean(0)
    sd = X[train].reshape(-1, 6).std(0)
    Xz = np.clip((X - mu) / sd, -3, 3)
    torch.manual_seed(0)
    model = ExplainedRNN()
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    xt = torch.as_tensor(Xz[train], dtype=torch.float32)
    yt = torch.as_tensor(y[train], dtype=torch.float32)[:, None]
    for _ in range(8):
        opt.zero_grad()
        loss = torch.nn.functional.binary_cross_entropy(model(xt)[0], yt)
        loss.backward()
        opt.step()
    model.eval()
    return model, Xz[train], Xz[~train], y[~train]


def _scores(model, inputs: np.ndarray) -> np.ndarray:
    with torch.no_grad():
        return model(torch.as_tensor(inputs, dtype=torch.float32))[0].double().numpy()


def _shapley_by_definition(v: np.ndarray, m: int) -> np.ndarray:
    """φ_i from a table v[z as an integer bitmask] of all 2^m coalition values."""
    phi = np.zeros(m)
    for i in range(m):
        for bits in itertools.product([0, 1], repeat=m):
            if bits[i]:
                continue
            s = sum(bits)
            idx = sum(b << j for j, b in enumerate(bits))
            w = factorial(s) * factorial(m - s - 1) / factorial(m)
            phi[i] += w * (v[idx | (1 << i)] - v[idx])
    return phi


def test_arem_cycling_sequence(arem):
    model, X_train, X_test, y_test = arem
    assert (_scores(model, X_test)[:, 0] > 0.5).astype(float).tolist() == y_test.tolist()
    event = mean_event(X_train)
    ex = SequenceExplainer(model, event, feature_names=FEATURES)
    # the cycling test sequence with the shortest pruned window (all are 10-13 events here)
    cycling = X_test[y_test == 1]
    x = cycling[np.argmax([ex.prune(c, 0.025).pruned_index for c in cycling])]
    loc = ex.explain(x, levels=("event", "feature", "cell"), pruning_tol=0.025)
    assert ex.uses_hidden_states
    idx = loc.pruning.pruned_index
    assert -480 < idx <= -2  # pruning keeps a short recent window of this sequence
    for exp in loc.levels.values():
        assert exp.exact
        assert exp.efficiency_gap.max() < 1e-9
        np.testing.assert_allclose(exp.outputs[0], _scores(model, x[None])[0], atol=1e-6)
        np.testing.assert_allclose(
            exp.base_values[0], _scores(model, np.tile(event, (1, 480, 1)))[0], atol=1e-6
        )

    # event values == Shapley values by definition, every coalition run as a whole sequence
    keep = -idx
    m = keep + 1
    assert m <= 12, f"pruned window of {keep} events: too large for the brute-force check"
    ints = np.arange(2**m)
    z = ((ints[:, None] >> np.arange(m)) & 1).astype(bool)
    cover = np.zeros((len(z), 480), dtype=bool)
    for back in range(1, keep + 1):
        cover[:, 480 - back] = z[:, back - 1]
    cover[:, : 480 - keep] = z[:, [m - 1]]
    inputs = np.where(cover[:, :, None], x[None], event[None, None])
    phi = _shapley_by_definition(_scores(model, inputs)[:, 0], m)
    assert loc.event.player_names[-1] == "Pruned Events"
    np.testing.assert_allclose(loc.event.values[0, :, 0], phi, atol=1e-6)

    # the plain path agrees (pruning curve and index, feature values)
    plain = SequenceExplainer(model, event, feature_names=FEATURES, recurrent=False)
    ploc = plain.explain(x, levels=("feature",), pruning_tol=0.025)
    assert ploc.pruning.pruned_index == idx
    np.testing.assert_allclose(ploc.pruning.older, loc.pruning.older, atol=1e-6)
    np.testing.assert_allclose(ploc.feature.values, loc.feature.values, atol=1e-6)
    # stable: another batch size and another run give the same index and curve
    again = SequenceExplainer(model, event, batch_size=37).prune(x, 0.025)
    assert again.pruned_index == idx
    np.testing.assert_allclose(again.older, loc.pruning.older, atol=1e-6)
    assert not model.training
