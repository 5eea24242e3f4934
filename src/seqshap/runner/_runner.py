"""``explain_many``: global explanations of many sequences — streamed, batched across
sequences, in parallel, written chunk by chunk and resumable.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
import warnings
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from .._validation import Integer, OneOf, validate
from ..estimators import kernel
from ..models import DEFAULT_BATCH_MEMORY
from ..sequence import SequenceExplainer
from ..sequence._gate import SequenceError, check_item, entity_key
from ..sequence._work import GLOBAL_CONSTRAINTS, Chunk, ChunkResult, ExecOptions, RunOptions
from ..sequence.global_run import GlobalRun, add_chunk_stats, new_totals, run_stats
from ..sequence.plan import SequencePlan
from ._backends import BACKENDS, DaskBackend, ProcessBackend, SerialBackend
from ._fingerprint import chunk_digest, model_fingerprint
from ._inputs import _Bad, iter_items
from ._store import ChunkStore

ON_ERROR = ("raise", "skip")

#: explain_many's own arguments on top of every global run's, checked once by validate
RUN_CONSTRAINTS = {
    **GLOBAL_CONSTRAINTS,
    "on_error": OneOf(*ON_ERROR),
    "backend": OneOf(*BACKENDS),
    "n_jobs": Integer(1),
    "total": Integer(0, none=True),
}


def explain_many(
    explainer: SequenceExplainer,
    data: Any,
    *,
    levels: Sequence[str] = ("event", "feature"),
    pruning_tol: float | Sequence[float] | None = 0.025,
    top_events: int | None = 2,
    top_features: int | None = 2,
    event_threshold: float | None = None,
    feature_threshold: float | None = None,
    feature_groups: Mapping[str, Sequence] | None = None,
    window: int | None = None,
    keep_curve: bool = False,
    full_curve: bool = False,
    entity_ids: Sequence[Any] | None = None,
    entity_col: str | None = None,
    time_col: str | None = None,
    feature_cols: Sequence[str] | None = None,
    out: str | os.PathLike | None = None,
    resume: bool = True,
    on_error: str = "raise",
    n_jobs: int = 1,
    backend: str = "processes",
    client: Any = None,
    chunk_size: int = 64,
    concurrency: int = 16,
    memory_budget: int = DEFAULT_BATCH_MEMORY,
    progress: bool = True,
    total: int | None = None,
    budget: int | str | None = None,
    tol: float | None = None,
    pruned_indexes: Mapping[Any, Mapping[float, int]] | None = None,
) -> GlobalRun:
    """Explain many sequences with ``explainer`` and return a :class:`GlobalRun`.

    Parameters
    ----------
    explainer : a configured :class:`~seqshap.sequence.SequenceExplainer` (model, baseline,
        method, budget, seed). It is not modified.
    data : an iterable of ``(entity_id, (T, d) array)`` pairs (read lazily), a dict, a
        ``(n, T, d)`` array or list of ``(T_i, d)`` arrays (ids ``entity_ids`` or 0..n−1), a
        long DataFrame, or the path of a long-format parquet file (``entity_col``,
        ``time_col``, ``feature_cols``), read in record batches.
    levels, top_events, top_features, event_threshold, feature_threshold, feature_groups,
    window : as in :meth:`SequenceExplainer.explain`.
    pruning_tol : a tolerance, several (TimeSHAP's global run uses ``[0.05, 0.075]``; the
        pruning curve is computed once per sequence and each level once per distinct pruned
        index), or None (no pruning).
    keep_curve : also store each sequence's pruning curve (``level="pruning"`` rows): every
        split with ``full_curve=True``, else the splits valued by the search (back to the
        smallest tolerance's index: enough for every larger tolerance, linear in T).
    full_curve : compute the pruning curve over every split, as TimeSHAP's ``prune_all``
        does; by default the search stops at the pruned index of the smallest tolerance,
        which gives the same pruned indexes and values for much less work on long sequences.
    out : a directory: each finished chunk is written there as a parquet part with an atomic
        rename; a killed run resumes from the finished parts when called again the same way.
        None keeps the results in memory.
    resume : with ``out``, continue the run found there; False discards it first. Resuming
        requires the same settings and the same model (weights digest and outputs on a fixed
        probe; otherwise a ValueError names what differs). A finished chunk whose input
        changed is recomputed, a part that cannot be read is moved aside (``.corrupt``) and
        recomputed (both with a RuntimeWarning), and parts beyond the end of a shorter input
        are removed: the result is always the table of a clean run over the data given now.
    on_error : a sequence with NaN, the wrong width, no events, an invalid or repeated id, or
        whose explanation fails: ``"raise"`` stops the run with a :class:`SequenceError`
        naming its entity and the reason (finished parts are kept); ``"skip"`` records it in
        ``GlobalRun.errors`` and goes on.
    n_jobs, backend, client : ``n_jobs`` worker processes (``backend="processes"``, joblib's
        loky pool; 1 = this process), or ``backend="dask"`` on ``client`` (or the current
        Dask client).
    chunk_size : sequences per chunk (the unit of work, writing and resuming).
    concurrency : sequences of a chunk explained concurrently, their model calls packed into
        shared batches of at most ``memory_budget`` bytes of input (1 = one at a time).
    budget, tol : the estimator's budget (an int or ``"auto"``) and stopping tolerance for
        this run (None: the explainer's).
    pruned_indexes : given pruned indexes ``{entity id: {tol: -k}}`` (keep the last ``k``
        events) for every tolerance of ``pruning_tol``, used instead of the pruning search
        (e.g. a TimeSHAP pruning table); None searches.
    progress, total : show a tqdm bar (sequences/s, and the ETA when the number of sequences
        is known: from ``data``, or ``total`` for an iterator); False is silent.

    Sequence ``i`` draws its samples from a generator seeded by ``(seed, entity id, pruned
    events)``, so the same seed gives the same table whatever ``n_jobs``, ``backend``,
    ``chunk_size`` or ``concurrency``, and a resumed run ends with the table of an
    uninterrupted one. With ``seed=None`` a fresh seed is drawn and stored in ``out``.
    """
    if not isinstance(explainer, SequenceExplainer):
        raise TypeError(
            "explainer must be a seqshap.sequence.SequenceExplainer (it holds the model, the "
            f"baseline and the estimator); received {type(explainer).__name__}. Build one with "
            "SequenceExplainer(model, baseline, data=...)."
        )
    if n_jobs == -1:
        n_jobs = os.cpu_count() or 1
    args = validate(
        {
            "on_error": on_error,
            "backend": backend,
            "n_jobs": n_jobs,
            "chunk_size": chunk_size,
            "concurrency": concurrency,
            "memory_budget": memory_budget,
            "total": total,
        },
        RUN_CONSTRAINTS,
    )
    chunk_size, concurrency = args["chunk_size"], args["concurrency"]
    n_jobs, memory_budget = args["n_jobs"], args["memory_budget"]
    opts = RunOptions.check(
        levels,
        pruning_tol,
        top_events,
        top_features,
        event_threshold,
        feature_threshold,
        window,
        feature_groups,
        keep_curve,
        full_curve,
        None if pruned_indexes is None else {entity_key(e): v for e, v in pruned_indexes.items()},
    )
    # preparing sets attributes on the copy; the user's explainer stays as it was
    plan = explainer.plan.with_estimation(budget, tol).copy()
    if (
        feature_cols is None
        and plan.named
        and (isinstance(data, str | os.PathLike) or (hasattr(data, "columns") and entity_col))
    ):
        feature_cols = list(plan.feature_names)  # long format: the explainer's features, by name
    items, n_total, frame_names = iter_items(
        data,
        entity_ids=entity_ids,
        entity_col=entity_col,
        time_col=time_col,
        feature_cols=feature_cols,
    )
    if total is not None:
        n_total = args["total"]
    if frame_names is not None and plan.feature_names is None:
        plan.feature_names, plan.named = frame_names, True
    seed = plan.seed if isinstance(plan.seed, int | np.integer) else None
    entropy = int(seed) if seed is not None else int(np.random.SeedSequence().entropy)
    store = None
    if out is not None:
        store = ChunkStore(
            out, _fingerprint(plan, opts, chunk_size, seed), resume=resume, entropy=entropy
        )
        entropy = store.entropy
    finished = set(store.finished_indices()) if store is not None else set()
    exec_opts = ExecOptions(entropy=entropy, concurrency=concurrency, memory_budget=memory_budget)
    chunks = _chunks(plan, items, chunk_size)
    return _drive(
        plan,
        chunks,
        opts,
        exec_opts,
        store,
        finished,
        on_error,
        n_jobs,
        backend,
        client,
        n_total,
        progress,
    )


def _fingerprint(ex: SequencePlan, opts: RunOptions, chunk_size: int, seed) -> dict:
    bg = ex.background
    digest = hashlib.sha256(np.ascontiguousarray(bg.data).tobytes())
    digest.update(np.ascontiguousarray(bg.weights).tobytes())
    fp = {
        "levels": list(opts.levels),
        "tolerances": list(opts.tolerances),
        "top_events": opts.top_events,
        "top_features": opts.top_features,
        "event_threshold": opts.event_threshold,
        "feature_threshold": opts.feature_threshold,
        "window": opts.window,
        "feature_groups": json.loads(json.dumps(opts.feature_groups, default=str)),
        "keep_curve": opts.keep_curve,
        "chunk_size": chunk_size,
        "seed": seed,
        "method": ex.method,
        # the kernel fit: runs written before order=3 became the default have no entry (their
        # sampled levels ran the linear fit), so they do not resume under the new default
        "order": ex.order,
        # which fits that order runs (kernel.FITS): a run begun before the default's fits
        # changed (below 3 pairs per player: the linear fit before the horseshoe fit) does not
        # resume with values of the new ones
        "kernel_fits": kernel.FITS if ex.order == 3 else None,
        "budget": ex.budget,
        "link": ex.link_name,
        "output": json.loads(json.dumps(ex.output, default=str)),
        "time_step": ex.time_step,
        "feature_names": None if ex.feature_names is None else list(ex.feature_names),
        "baseline_sha256": digest.hexdigest(),
    }
    if ex.tol is not None:  # only when set, so that runs without it keep their fingerprint
        fp["tol"] = ex.tol
    if opts.pruned_indexes is not None:  # given pruning tables (the TimeSHAP façade)
        given = json.dumps(sorted((e, sorted(v.items())) for e, v in opts.pruned_indexes.items()))
        fp["pruned_indexes_sha256"] = hashlib.sha256(given.encode()).hexdigest()
    return fp


def _chunks(ex: SequencePlan, items: Iterator, chunk_size: int) -> Iterator[Chunk]:
    """Group the stream into chunks, passing every item through the gate."""
    seen: set[bytes] = set()
    chunk = Chunk(0, [])
    for position, (raw_id, raw) in enumerate(items):
        index = position // chunk_size
        if index != chunk.index:
            yield chunk
            chunk = Chunk(index, [])
        try:
            entity = entity_key(raw_id)
        except SequenceError as err:
            chunk.bad.append((position, f"<invalid id at position {position}>", err.reason))
            continue
        if isinstance(raw, _Bad):
            chunk.bad.append((position, entity, raw.reason))
            continue
        key = hashlib.blake2b(entity.encode(), digest_size=8).digest()
        if key in seen:
            chunk.bad.append((position, entity, "repeated entity id (an earlier sequence has it)."))
            continue
        seen.add(key)
        try:
            try:
                raw = ex.by_name(raw, name="the sequence")  # a DataFrame: columns by name
            except ValueError as err:
                raise SequenceError(entity, str(err), position) from None
            seq = check_item(raw_id, raw, ex.n_features)
            if not ex.prepared:
                ex.prepare(seq)  # adapts and probes the model once, sets the width
        except SequenceError as err:
            chunk.bad.append((position, entity, err.reason))
            continue
        chunk.items.append((position, entity, seq))
    if chunk.n_sequences:
        yield chunk


def _drive(
    ex,
    chunks,
    opts,
    exec_opts,
    store,
    finished,
    on_error,
    n_jobs,
    backend,
    client,
    n_total,
    progress,
) -> GlobalRun:
    from tqdm.auto import tqdm

    start = time.perf_counter()
    backend_obj = None
    frames, metas = [], []
    totals = new_totals()
    n_seen = 0
    digests: dict[int, str] = {}
    model_checked = store is None
    last_index = -1
    if store is not None:
        totals["n_corrupt_parts"] = float(len(store.corrupt))
        totals["n_stale_chunks"] = 0.0
    # a bar only for more than one sequence (tqdm.auto: a widget in notebooks, text elsewhere)
    bar = tqdm(
        total=n_total,
        unit="seq",
        desc="seqshap",
        disable=not progress or (n_total is not None and n_total <= 1),
        smoothing=0.1,
    )

    def timed(gen: Iterator[Chunk]) -> Iterator[Chunk]:
        """Chunks, counting the time spent reading and gating them."""
        while True:
            start = time.perf_counter()
            try:
                chunk = next(gen)
            except StopIteration:
                return
            finally:
                totals["parent_seconds"] += time.perf_counter() - start
            yield chunk

    def handle(res: ChunkResult) -> None:
        start = time.perf_counter()
        _handle(res)
        totals["parent_seconds"] += time.perf_counter() - start

    def _handle(res: ChunkResult) -> None:
        if res.errors and on_error == "raise":
            err = res.errors[0]
            raise SequenceError(err["entity"], err["reason"], err["position"])
        if store is not None:
            store.write(res, digests.pop(res.index))
        else:
            frames.append((res.index, res.frame))
            metas.append(
                {
                    "chunk": res.index,
                    "entities": res.entities,
                    "errors": res.errors,
                    "stats": res.stats,
                }
            )
        add_chunk_stats(totals, res)
        bar.update(len(res.entities))

    try:
        for chunk in timed(chunks):
            n_seen += chunk.n_sequences
            last_index = chunk.index
            if not model_checked and ex.prepared:
                # before any part is trusted or written: the model must be the run's
                length = store.model_probe_length or len(chunk.items[0][2])
                store.check_model(model_fingerprint(ex.model, ex.background, length, ex.n_features))
                model_checked = True
            if store is not None:
                digests[chunk.index] = chunk_digest(chunk)
            if chunk.index in finished:
                if store.chunk_meta(chunk.index).get("input_sha256") == digests[chunk.index]:
                    digests.pop(chunk.index)
                    bar.update(chunk.n_sequences)
                    continue
                totals["n_stale_chunks"] += 1
                warnings.warn(
                    f"the input of chunk {chunk.index} (entities {chunk.entities[:3]}"
                    f"{'…' if len(chunk.entities) > 3 else ''}) differs from the one its part "
                    f"in {str(store.path)!r} was computed from; recomputing that chunk.",
                    RuntimeWarning,
                    stacklevel=3,
                )
                store.discard(chunk.index)  # never left on disk beside newer parts
            if chunk.bad and on_error == "raise":
                while backend_obj is not None and backend_obj.n_pending:
                    handle(backend_obj.next_result())  # keep what is already computed
                pos, ent, reason = chunk.bad[0]
                raise SequenceError(ent, reason, pos)
            if backend_obj is None:
                backend_obj = _make_backend(ex, opts, exec_opts, n_jobs, backend, client)
            while backend_obj.n_pending >= 2 * backend_obj.n_workers:
                handle(backend_obj.next_result())
            backend_obj.submit(chunk)
            if isinstance(backend_obj, SerialBackend):
                handle(backend_obj.next_result())
        while backend_obj is not None and backend_obj.n_pending:
            handle(backend_obj.next_result())
        if store is not None and n_seen:
            totals["n_removed_parts"] = float(len(store.remove_beyond(last_index)))
    except BaseException:
        if backend_obj is not None:
            backend_obj.close(cancel=True)
        raise
    finally:
        bar.close()
    if backend_obj is not None:
        backend_obj.close()
    if n_seen == 0:
        raise ValueError("data holds no sequences; pass at least one (entity_id, (T, d)) pair.")
    stats = run_stats(totals, n_seen, time.perf_counter() - start)
    if store is not None:
        return GlobalRun(path=store.path, stats=stats)
    order = np.argsort([i for i, _ in frames], kind="stable")
    return GlobalRun(
        frames=[frames[i][1] for i in order],
        metas=sorted(metas, key=lambda m: m["chunk"]),
        stats=stats,
    )


def _make_backend(ex, opts, exec_opts, n_jobs, backend, client):
    if backend == "dask":
        return DaskBackend(ex, opts, exec_opts, client)
    if n_jobs == 1:
        return SerialBackend(ex, opts, exec_opts)
    return ProcessBackend(ex, opts, exec_opts, n_jobs)
