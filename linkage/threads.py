"""How many threads linkage may use, and work shared out over them in slices of pairs."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

__all__ = ["PARALLEL_PAIRS", "SLICE_PAIRS", "THREADS_ENV", "available_threads", "in_shares"]

T = TypeVar("T")

#: Environment variable that caps the threads linkage uses (default: every core it may run on).
THREADS_ENV = "KINLINK_THREADS"
#: Pairs from which work is shared out over threads, one share per thread: the work is numpy
#: over integer arrays and Jaro–Winkler in C, which run outside the GIL.
PARALLEL_PAIRS = 200_000
#: The most pairs one slice holds: what a slice works out per pair (codes, similarities)
#: lives only as long as the slice, so this bounds that memory whatever the number of pairs.
SLICE_PAIRS = 2_000_000


def available_threads() -> int:
    """``$KINLINK_THREADS`` when set to a positive number, else the cores this process may use."""
    limit = os.environ.get(THREADS_ENV, "").strip()
    if limit.isdigit() and int(limit) > 0:
        return int(limit)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def in_shares(
    n: int,
    work: Callable[[slice, int], T],
    threads: int | None = None,
    *,
    before: Callable[[], object] | None = None,
) -> list[T]:
    """``work(part, threads_left)`` over consecutive slices of ``n`` pairs, in order.

    With ``n`` large and more than one thread, slices of at most :data:`SLICE_PAIRS` pairs
    (at least one per thread) run on the threads, each told it has one thread (``before``
    runs first, alone: to build what the slices share). Otherwise, slices of at most
    :data:`SLICE_PAIRS` run one after another, each told it has all the threads; up to that
    size, one slice of everything.
    """
    threads = available_threads() if threads is None else threads
    workers = min(threads, n // PARALLEL_PAIRS)
    pieces = max(-(-n // SLICE_PAIRS), workers, 1)  # ceiling, at least one per worker
    if pieces < 2:
        return [work(slice(0, n), threads)]
    if before is not None:
        before()
    bounds = np.linspace(0, n, pieces + 1).astype(np.int64)
    parts = [slice(a, b) for a, b in itertools.pairwise(bounds)]
    if workers < 2:
        return [work(part, threads) for part in parts]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(lambda part: work(part, 1), parts))
