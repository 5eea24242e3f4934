"""The odd-kernel and horseshoe fits on one BLAS thread.

Both factor and multiply small dense matrices (the odd-kernel fit's N × N Gram matrices, N ≤ 400,
twelve of them; the horseshoe fit's M × M precision, M ≤ 128, a thousand times). At these sizes a
multi-threaded BLAS spends more on waking and synchronising its threads than it saves: on the
2-core machine with numpy's default two OpenBLAS threads, an estimate whose values come from
the odd-kernel fit took 1.6–2.4× longer (min of 7; 20 players at 400 evaluations, 30 at 800)
than with the fit on one thread, and the horseshoe fit took the same either way
(``python bench/bench_estimators.py --blas-threads``, without OMP_NUM_THREADS). The ridge fit
keeps the library's threads: its products grow with the pairs (1,600 × 435 at 200 players), and
limited it was no faster (0.86–1.0×). Only the fit is limited, never the model's evaluations.
:mod:`threadpoolctl` (what scikit-learn uses for the same purpose) sets the limit and restores it.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

_controller: ThreadpoolController | None = None


def one_blas_thread() -> AbstractContextManager:
    """A context in which the BLAS libraries loaded in this process use one thread."""
    global _controller
    if _controller is None:  # finds the loaded BLAS libraries once (a few milliseconds)
        _controller = ThreadpoolController()
    return _controller.limit(limits=1, user_api="blas")
