"""backend="dask": a LocalCluster of 2 workers gives the table of the in-process run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from seqshap.runner import explain_many
from seqshap.runner._store import read_parts
from seqshap.sequence import SequenceExplainer

distributed = pytest.importorskip("distributed")
pytest.importorskip("pyarrow")

pytestmark = [
    # distributed's own noise at cluster start/stop, not ours
    pytest.mark.filterwarnings("ignore::DeprecationWarning:distributed.*"),
    pytest.mark.filterwarnings("ignore::DeprecationWarning:tornado.*"),
]


def model(x, h=None):
    """A tiny recurrent model f(x, h) -> (scores, h), rows computed independently."""
    x = np.asarray(x, dtype=float)
    hs = np.zeros((len(x), 2)) if h is None else np.asarray(h)[0]
    w = np.array([[0.7, -0.4], [0.2, 0.9], [-0.5, 0.3]])
    for t in range(x.shape[1]):
        hs = np.tanh((x[:, t, :, None] * w).sum(1) + 0.5 * hs[:, ::-1])
    return (hs[:, :1] - 0.5 * hs[:, 1:]), hs[None]


def test_dask_local_cluster_same_table(tmp_path):
    g = np.random.default_rng(5)
    data = [(f"u{i}", g.normal(size=(int(g.integers(2, 7)), 3))) for i in range(11)]
    ex = SequenceExplainer(model, np.zeros(3), method="kernel", budget=20, seed=4)
    kw = dict(levels=("event", "feature"), pruning_tol=[0.01, 0.1], progress=False)
    ref = explain_many(ex, data, chunk_size=11, **kw).table
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        assert len(client.scheduler_info()["workers"]) == 2
        run = explain_many(
            ex, data, backend="dask", client=client, chunk_size=2, out=tmp_path / "d", **kw
        )
        pd.testing.assert_frame_equal(run.table, ref, check_exact=True)
        assert run.stats["n_explained"] == 11
        # resuming a finished run through Dask computes nothing and keeps the table
        again = explain_many(
            ex, data, backend="dask", client=client, chunk_size=2, out=tmp_path / "d", **kw
        )
        assert again.stats["n_explained"] == 0
    pd.testing.assert_frame_equal(read_parts(tmp_path / "d"), ref, check_exact=True)
