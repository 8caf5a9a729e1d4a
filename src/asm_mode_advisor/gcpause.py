"""Keep Python's cyclic garbage collector off the big, acyclic data a command builds.

Reading and analysing allocate millions of dicts, lists and small objects that stay alive
until the process ends and hold no reference cycles. Each full collection walks all of
them, so with the collector on, those phases grow faster than the input. Pausing it costs
nothing here: the objects are still freed by reference counting when dropped. The pause
saves 8-11% of ``analyze``'s CPU time at 10k-50k documents (docs/performance.md).

This is a policy of the ``asm-advisor`` process, not of the library: the commands pause the
collector around their read and analysis, so a program that calls ``analyze()`` keeps its
own collector settings.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused() -> Iterator[None]:
    """Disable cyclic collection inside the block (re-enabled after, if it was on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def keep_alive_until_exit() -> None:
    """Move every live object out of the collector's reach (a command calls it once loaded).

    Rendering allocates again with the collector on; without this, its full collections
    walk the whole analysis: 17-20% of ``analyze``'s CPU time at 50k documents.
    """
    gc.freeze()
