"""A progress bar on stderr for long file runs, shown only when stderr is a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: Runs over fewer files than this finish before a bar would be worth reading.
MIN_FILES = 500

Advance = Callable[[int], None]


def _ignore(_: int) -> None:
    """Advance nothing (no bar shown)."""


def wanted(total: int) -> bool:
    """A bar only for long runs, on a terminal, and never in CI logs."""
    return total >= MIN_FILES and sys.stderr.isatty() and not os.environ.get("CI")


@contextmanager
def file_progress(total: int) -> Iterator[Advance]:
    """Yield ``advance(files_done)``; draws a transient rich bar when :func:`wanted`."""
    if not wanted(total):
        yield _ignore
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (TextColumn("parsing"), BarColumn(), MofNCompleteColumn(), TextColumn("files"))
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("parsing", total=total)
        yield lambda done: bar.advance(task, done)
