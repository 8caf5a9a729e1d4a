"""Reading the side files of a run (config, baseline, reports to diff) without surprises.

These files are small, but a path can name a directory, a device, a fifo nobody writes, or a
file of gigabytes, and the text can nest ten thousand levels or hold a number of a million
digits. Each of those becomes a :class:`FileProblem` with one line naming the file, never a
RecursionError, MemoryError or a hang.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

#: A config file holds a few dozen lines.
CONFIG_LIMIT = 1 << 20
#: A JSON report of the largest fleets measured (docs/performance.md) is far below this.
REPORT_LIMIT = 1 << 30


class FileProblem(Exception):
    """A side file that cannot be used; the message is one line without the file name."""


def read_text(path: Path, limit: int) -> str:
    """The UTF-8 text of a regular file (or a pipe: ``--baseline <(...)``) of at most ``limit``.

    Raises:
        FileProblem: not a file, unreadable, too large, or not UTF-8.
    """
    try:
        with path.open("rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
                raise FileProblem("not a regular file")
            data = handle.read(limit + 1)
    except OSError as exc:
        raise FileProblem(exc.strerror or str(exc)) from None
    if len(data) > limit:
        raise FileProblem(f"larger than {limit >> 20} MiB")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise FileProblem("not valid UTF-8") from None


def parse_json(text: str) -> Any:
    """Parse JSON text.

    Raises:
        FileProblem: a syntax error (with its line), nesting too deep, or a number too long.
    """
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileProblem(f"line {exc.lineno}: JSON syntax error: {exc.msg}") from None
    except RecursionError:  # the C decoder checks its depth; it does not crash
        raise FileProblem("nesting is too deep for a report") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise FileProblem(f"not usable JSON: {str(exc).split(';')[0]}") from None
