"""Parse large inputs on every core: contiguous chunks of files, results kept in input order.

Workers are forked, so they start at once with everything already imported. Each worker runs
the same per-file code as a sequential run, and results come back in the order the chunks
were cut, so output and errors are identical to a sequential run. When a pool cannot be used
(no ``fork``, one core, a worker that died) the caller parses sequentially instead.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from typing import TypeVar

from asm_mode_advisor.sources.nesting import MAX_NESTING

#: Below this many bytes of input, starting workers costs more than it saves.
MIN_PARALLEL_BYTES = 2 * 2**20
#: Chunks per worker: small enough to balance the load, large enough to batch the transfer.
CHUNKS_PER_WORKER = 4
#: Recursion room a worker needs to pickle the deepest document the reader accepts.
PICKLE_RECURSION_LIMIT = 4 * MAX_NESTING + 1_000

T = TypeVar("T")


class PoolUnavailable(Exception):
    """The pool could not run; the caller falls back to a sequential parse."""


def worker_count() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def file_size(path: str) -> int:
    """Size of a file in bytes (0 when it cannot be read; the parse reports that)."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def worth_it(sizes: list[int], workers: int) -> bool:
    """True when the input is large enough and there are cores and ``fork`` to use."""
    return (workers > 1 and len(sizes) >= 2 * workers and sum(sizes) >= MIN_PARALLEL_BYTES
            and "fork" in multiprocessing.get_all_start_methods())


def chunk_bounds(sizes: list[int], parts: int) -> list[tuple[int, int]]:
    """Cut ``sizes`` into at most ``parts`` contiguous ``[start, end)`` runs of similar bytes."""
    total = max(sum(sizes), 1)
    bounds: list[tuple[int, int]] = []
    start, running = 0, 0
    for index, item in enumerate(sizes):
        running += item
        if running * parts >= total * (len(bounds) + 1) and index + 1 < len(sizes):
            bounds.append((start, index + 1))
            start = index + 1
    bounds.append((start, len(sizes)))
    return bounds


def _pickled(function: Callable[[list[str]], T], chunk: list[str]) -> bytes:
    """Run ``function`` on ``chunk`` in a worker and pickle its result there."""
    result = function(chunk)
    # Pickling recurses about twice per level of nesting, so a document near MAX_NESTING
    # would pass Python's default limit of 1,000. Deeper documents were refused when read;
    # the limit is raised in this forked worker only.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), PICKLE_RECURSION_LIMIT))
    return pickle.dumps(result, protocol=pickle.HIGHEST_PROTOCOL)


def ordered_map(function: Callable[[list[str]], T], chunks: list[list[str]],
                workers: int, on_chunk: Callable[[int], None] | None = None) -> Iterator[T]:
    """``function`` over each chunk in a forked pool, yielding its results in chunk order.

    Raises :class:`PoolUnavailable` before yielding anything when the pool cannot run.
    Results wait as the workers' pickles, a fraction of their size as objects, and each is
    unpickled here, in the caller's thread, only when its turn comes. So one chunk's
    objects at a time are built, next to each other, and not in the pool's receiving
    thread, whose own malloc arena would keep its peak.
    """
    results: list[bytes] = []
    try:
        with ProcessPoolExecutor(max_workers=workers,
                                 mp_context=multiprocessing.get_context("fork")) as pool:
            work = partial(_pickled, function)
            for chunk, result in zip(chunks, pool.map(work, chunks), strict=True):
                results.append(result)
                if on_chunk is not None:
                    on_chunk(len(chunk))
    except (BrokenProcessPool, OSError) as exc:
        raise PoolUnavailable(str(exc)) from exc
    results.reverse()
    while results:
        loaded: T = pickle.loads(results.pop())
        yield loaded
