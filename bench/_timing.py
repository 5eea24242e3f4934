"""Shared helpers of the benchmarks: a counting model wrapper and one timing rule for every
side of a comparison (one untimed warm-up, then ``repeat`` timed calls; median and min)."""

from __future__ import annotations

import time

import numpy as np


class Counted:
    """``f(x, h=None)`` that counts calls, rows and row-steps (rows x sequence length)."""

    def __init__(self, f):
        self.f = f
        self.reset()

    def reset(self) -> None:
        self.calls = self.rows = self.row_steps = 0

    def __call__(self, x, h=None):
        self.calls += 1
        self.rows += int(np.shape(x)[0])
        self.row_steps += int(np.shape(x)[0]) * int(np.shape(x)[1])
        return self.f(x, h)


def timed(fn, repeat: int, warmup: bool = True):
    """One untimed warm-up call (unless ``warmup=False``), then ``repeat`` timed calls.

    Returns (result of the last call, median wall s, min wall s). Every side of a comparison
    goes through this with the same ``repeat``; callers reset counters inside ``fn``, so the
    counts they read afterwards are those of the last call.
    """
    if warmup:
        fn()
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return out, float(np.median(times)), float(np.min(times))


def timed_interleaved(fns, repeat: int):
    """:func:`timed` for several sides at once, their timed calls interleaved (side 1, side 2,
    …, then again), so that a change in the machine's load hits every side alike: one untimed
    warm-up of each side, then ``repeat`` rounds. Returns one (result of the last call, median
    wall s, min wall s) per side."""
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    outs: list = [None] * len(fns)
    for _ in range(repeat):
        for i, fn in enumerate(fns):
            t0 = time.perf_counter()
            outs[i] = fn()
            times[i].append(time.perf_counter() - t0)
    return [(out, float(np.median(t)), float(np.min(t))) for out, t in zip(outs, times)]
