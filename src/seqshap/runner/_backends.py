"""Where chunks are computed: in this process, in worker processes (joblib's loky pool), or on
a Dask cluster. All three take chunks one by one and hand back finished results in any order;
the runner keeps a bounded number in flight and writes the results itself.
"""

from __future__ import annotations

import os
from collections import deque
from typing import Any

from .._optional import import_optional
from ..sequence._work import Chunk, ChunkResult, ExecOptions, RunOptions, explain_chunk

BACKENDS = ("processes", "dask")


class SerialBackend:
    """Chunks computed in the calling process, one at a time."""

    n_workers = 1

    def __init__(self, explainer: Any, opts: RunOptions, exec_opts: ExecOptions) -> None:
        self._args = (explainer, opts, exec_opts)
        self._done: deque[ChunkResult] = deque()

    def submit(self, chunk: Chunk) -> None:
        explainer, opts, exec_opts = self._args
        self._done.append(explain_chunk(explainer, chunk, opts, exec_opts))

    @property
    def n_pending(self) -> int:
        return len(self._done)

    def next_result(self) -> ChunkResult:
        return self._done.popleft()

    def close(self, cancel: bool = False) -> None:
        self._done.clear()


class ProcessBackend:
    """``n_jobs`` worker processes (joblib's reusable loky executor).

    Unless ``OMP_NUM_THREADS`` is set, each worker's math libraries get ``cpus // n_jobs``
    threads, so that the workers do not oversubscribe the machine.
    """

    def __init__(self, explainer: Any, opts: RunOptions, exec_opts: ExecOptions, n_jobs: int):
        loky = import_optional("joblib.externals.loky", "n_jobs > 1 (joblib)")
        env = {}
        if "OMP_NUM_THREADS" not in os.environ:
            env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // n_jobs))
        self._executor = loky.get_reusable_executor(max_workers=n_jobs, env=env)
        self._args = (explainer, opts, exec_opts)
        self._futures: set = set()
        self.n_workers = n_jobs

    def submit(self, chunk: Chunk) -> None:
        explainer, opts, exec_opts = self._args
        self._futures.add(self._executor.submit(explain_chunk, explainer, chunk, opts, exec_opts))

    @property
    def n_pending(self) -> int:
        return len(self._futures)

    def next_result(self) -> ChunkResult:
        from concurrent.futures import FIRST_COMPLETED, wait

        done, _ = wait(self._futures, return_when=FIRST_COMPLETED)
        fut = next(iter(done))
        self._futures.discard(fut)
        return fut.result()

    def close(self, cancel: bool = False) -> None:
        for fut in self._futures:
            fut.cancel()
        self._futures.clear()


class DaskBackend:
    """Chunks as tasks on a Dask distributed cluster (``client``, or the current client).

    The explainer (with its model) travels with every chunk.
    """

    def __init__(self, explainer: Any, opts: RunOptions, exec_opts: ExecOptions, client: Any):
        distributed = import_optional("distributed", "backend='dask'")
        if client is None:
            try:
                client = distributed.get_client()
            except ValueError:
                raise ValueError(
                    "backend='dask' needs a Dask client: pass client=Client(...) or create one "
                    "first (e.g. Client(LocalCluster(n_workers=2)))."
                ) from None
        self._distributed = distributed
        self._client = client
        # sent with each task (it is small next to a chunk's work): scattering would make
        # workers re-serialise it for each other, which fails for some torch modules
        self._explainer = explainer
        self._opts = (opts, exec_opts)
        self._futures: list = []
        self.n_workers = max(1, len(client.scheduler_info().get("workers", {})))

    def submit(self, chunk: Chunk) -> None:
        opts, exec_opts = self._opts
        fut = self._client.submit(
            explain_chunk, self._explainer, chunk, opts, exec_opts, pure=False
        )
        self._futures.append(fut)

    @property
    def n_pending(self) -> int:
        return len(self._futures)

    def next_result(self) -> ChunkResult:
        done, _ = self._distributed.wait(self._futures, return_when="FIRST_COMPLETED")
        fut = next(f for f in self._futures if f in done)
        self._futures.remove(fut)
        result = fut.result()
        fut.release()
        return result

    def close(self, cancel: bool = False) -> None:
        if cancel and self._futures:
            self._client.cancel(self._futures)
        self._futures.clear()
