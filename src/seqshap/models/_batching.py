"""Shared model calls for concurrent estimations: coalitions of many sequences, one model call.

The estimators choose their coalitions one request at a time (kernel rounds, pruning blocks,
prefix-tree segments), so they cannot hand a whole plan to a batcher. Instead the estimations
of a chunk run concurrently in threads against one :class:`SharedBatcher`: each model request
waits until every active estimation has submitted its next request (or finished); then the
real model is called once per compatible group (same input shape, with or without a hidden
state) on the concatenation, and every request gets its rows back. The model adapters
release the GIL (torch, onnxruntime) while the other threads are parked, so nothing runs
concurrently with the model; the gain is fewer, larger calls.

A model maps rows independently, so the values are those of the one-at-a-time path: bit for
bit when the model's arithmetic per row does not depend on the batch (tested with such a
model); float32 BLAS kernels may round a row differently in batches of different sizes, which
changes values by ~1e-7. The shared calls themselves are deterministic: items are dealt to the
threads round-robin, a call is made when every active thread has submitted, and requests are
concatenated in thread order, so the same items with the same ``concurrency`` give the same
calls, hence the same values bit for bit, whatever the thread timing (a resumed chunk is
recomputed exactly).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import numpy as np

from .base import Model, RecurrentModel, _slice_rows

T = TypeVar("T")
R = TypeVar("R")

#: default bound on the bytes of one shared model call's input
DEFAULT_BATCH_MEMORY = 64 * 2**20


class _Request:
    __slots__ = ("slot", "x", "state", "recurrent", "scores", "new_state", "error", "done")

    def __init__(self, slot: int, x: np.ndarray, state: Any, recurrent: bool) -> None:
        self.slot = slot
        self.x = x
        self.state = state
        self.recurrent = recurrent
        self.scores: np.ndarray | None = None
        self.new_state: Any = None
        self.error: BaseException | None = None
        self.done = False


class SharedBatcher:
    """Gathers the model requests of the registered threads into shared calls of ``model``.

    Parameters
    ----------
    model : the prepared (adapted) model, plain or recurrent.
    memory_budget : most bytes of input (float64) per shared call; requests are packed into
        calls up to this size (a single larger request goes alone).

    Counters: ``n_calls``, ``n_rows``, ``model_seconds`` (time inside the real model) and
    ``flush_seconds`` (time of the shared calls including packing and splitting).
    """

    def __init__(self, model: Model, memory_budget: int = DEFAULT_BATCH_MEMORY) -> None:
        self.model = model
        self.memory_budget = int(memory_budget)
        self._cond = threading.Condition()
        self._active = 0
        self._pending: list[_Request] = []
        self._local = threading.local()
        self.n_calls = 0
        self.n_rows = 0
        self.model_seconds = 0.0
        self.flush_seconds = 0.0

    # ------------------------------------------------------------------ participants
    def register(self) -> None:
        with self._cond:
            self._active += 1

    def unregister(self) -> None:
        with self._cond:
            self._active -= 1
            if self._pending and len(self._pending) >= self._active:
                self._flush()

    def set_slot(self, slot: int) -> None:
        """The calling thread's rank: its requests are concatenated in rank order."""
        self._local.slot = slot

    def proxy(self) -> Model:
        """A model object for the games: plain or recurrent like the wrapped model."""
        cls = _RecurrentProxy if isinstance(self.model, RecurrentModel) else _PlainProxy
        return cls(self)

    # ------------------------------------------------------------------ requests
    def submit(self, x: np.ndarray, state: Any, recurrent: bool) -> tuple[np.ndarray, Any]:
        req = _Request(getattr(self._local, "slot", 0), x, state, recurrent)
        with self._cond:
            self._pending.append(req)
            if len(self._pending) >= self._active:
                self._flush()
            while not req.done:
                self._cond.wait()
        if req.error is not None:
            raise req.error
        return req.scores, req.new_state

    def _flush(self) -> None:
        """Run every pending request (called with the lock held, all active threads parked)."""
        start = time.perf_counter()
        pending, self._pending = self._pending, []
        pending.sort(key=lambda r: r.slot)  # arrival order varies with timing; slots do not
        groups: dict[tuple, list[_Request]] = {}
        for req in pending:
            key = (req.recurrent, req.state is None, req.x.shape[1:])
            groups.setdefault(key, []).append(req)
        try:
            for reqs in groups.values():
                for call in self._pack(reqs):
                    try:
                        self._run(call)
                    except Exception as exc:
                        if len(call) == 1:
                            call[0].error = exc
                            continue
                        # find the culprit: run each request alone, each failing on its own
                        for req in call:
                            try:
                                self._run([req])
                            except Exception as exc:
                                req.error = exc
        except BaseException as exc:
            for req in pending:
                if not req.done and req.error is None:
                    req.error = exc
        finally:
            for req in pending:
                req.done = True
            self._cond.notify_all()
            self.flush_seconds += time.perf_counter() - start

    def _pack(self, reqs: list[_Request]) -> Iterator[list[_Request]]:
        row_bytes = 8 * int(np.prod(reqs[0].x.shape[1:], dtype=np.int64))
        max_rows = max(1, self.memory_budget // max(1, row_bytes))
        call: list[_Request] = []
        rows = 0
        for req in reqs:
            if call and rows + len(req.x) > max_rows:
                yield call
                call, rows = [], 0
            call.append(req)
            rows += len(req.x)
        if call:
            yield call

    def _run(self, call: list[_Request]) -> None:
        model = self.model
        x = call[0].x if len(call) == 1 else np.concatenate([r.x for r in call], axis=0)
        start = time.perf_counter()
        if call[0].recurrent:
            state = None
            if call[0].state is not None:
                states = [r.state for r in call]
                state = states[0] if len(call) == 1 else model.concat_states(states)
            scores, new_state = model.forward_checked(x, state)
        else:
            scores, new_state = model(x), None
        self.model_seconds += time.perf_counter() - start
        self.n_calls += 1
        self.n_rows += len(x)
        lo = 0
        for req in call:
            hi = lo + len(req.x)
            req.scores = scores[lo:hi]
            if new_state is not None:
                req.new_state = (
                    new_state
                    if len(call) == 1
                    else _slice_rows(new_state, lo, hi, model.state_batch_axis)
                )
            req.done = True
            lo = hi


class _PlainProxy(Model):
    def __init__(self, batcher: SharedBatcher) -> None:
        self._batcher = batcher
        base = batcher.model
        self.batch_size = None
        self.output_names = base.output_names

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._batcher.submit(np.asarray(x), None, False)[0]


class _RecurrentProxy(RecurrentModel):
    def __init__(self, batcher: SharedBatcher) -> None:
        self._batcher = batcher
        base = batcher.model
        self.batch_size = None
        self.output_names = base.output_names
        self.state_batch_axis = base.state_batch_axis

    def forward(self, x: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        return self._batcher.submit(np.asarray(x), state, True)

    def forward_checked(self, x: np.ndarray, state: Any = None) -> tuple[np.ndarray, Any]:
        return self.forward(x, state)  # checked once, in the shared call

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self._batcher.submit(np.asarray(x), None, True)[0]

    def take_state(self, state: Any, index: np.ndarray) -> Any:
        return self._batcher.model.take_state(state, index)

    def concat_states(self, states) -> Any:
        return self._batcher.model.concat_states(states)

    def state_size(self, state: Any) -> int:
        return self._batcher.model.state_size(state)


def map_shared(
    fn: Callable[[Model, T], R],
    items: Iterable[T],
    model: Model,
    *,
    concurrency: int = 16,
    memory_budget: int = DEFAULT_BATCH_MEMORY,
    batcher: SharedBatcher | None = None,
) -> list[R]:
    """``[fn(shared_model, item) for item in items]``, in order, with the model calls of up to
    ``concurrency`` items at a time packed into shared calls. ``concurrency=1`` calls ``fn``
    with ``model`` itself, one item after another (the reference path).

    An exception raised by ``fn`` for an item is returned in its place (not raised), so that
    one bad sequence does not stop the others; the caller decides.
    """
    items = list(items)
    if concurrency <= 1 or len(items) <= 1:
        return [_guarded(fn, model, item) for item in items]
    shared = batcher if batcher is not None else SharedBatcher(model, memory_budget)
    proxy = shared.proxy()
    results: list[Any] = [None] * len(items)
    n_threads = min(concurrency, len(items))

    def worker(slot: int) -> None:
        shared.set_slot(slot)
        try:
            for i in range(slot, len(items), n_threads):  # dealt round-robin: deterministic
                results[i] = _guarded(fn, proxy, items[i])
        finally:
            shared.unregister()

    for _ in range(n_threads):  # all registered before any submits: the first call is shared
        shared.register()
    with ThreadPoolExecutor(max_workers=n_threads, thread_name_prefix="seqshap-batch") as pool:
        futures = [pool.submit(worker, slot) for slot in range(n_threads)]
        for fut in futures:
            fut.result()
    return results


def _guarded(fn: Callable[[Model, Any], Any], model: Model, item: Any) -> Any:
    try:
        return fn(model, item)
    except Exception as exc:  # reported per item by the caller
        return exc
