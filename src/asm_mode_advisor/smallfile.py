"""Bounded reads of one file, and the side files of a run (config, baseline, reports to diff).

A path can name a directory, a device, a FIFO nobody writes, or a file of gigabytes. Every
read here opens without blocking, checks that it has a regular file (a pipe only where the
caller allows one: a path the user named, as in ``--baseline <(...)``), and reads at most one
byte past its limit. The manifest reader (``sources/reading.py``) and the side files share
that one mechanism. A side file's text can still nest ten thousand levels or hold a number
of a million digits: each of those becomes a :class:`FileProblem` with one line naming the
file, never a RecursionError, MemoryError or a hang.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any, BinaryIO

#: A config file holds a few dozen lines.
CONFIG_LIMIT = 1 << 20
#: A JSON report of the largest fleets measured (docs/performance.md) is far below this.
REPORT_LIMIT = 1 << 30
_CHUNK = 1 << 20

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


class NotRegularFile(Exception):
    """A path that is not a regular file; the message says what it is (``a FIFO``)."""


def _kind(mode: int) -> str:
    return next((label for test, label in _KINDS if test(mode)), "not a regular file")


def read_capped(handle: BinaryIO | int, limit: int) -> bytes | None:
    """At most ``limit`` bytes from a file object or descriptor; None when there are more."""
    parts: list[bytes] = []
    left = limit + 1
    while left > 0:
        part = (os.read(handle, min(left, _CHUNK)) if isinstance(handle, int)
                else handle.read(min(left, _CHUNK)))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    data = b"".join(parts)
    return None if len(data) > limit else data


def read_bounded(path: str, limit: int, pipe_ok: bool = False) -> bytes | None:
    """The bytes of the regular file ``path`` (or pipe, if ``pipe_ok``); None past ``limit``.

    Symlinks to regular files are followed.

    Raises:
        OSError: the path cannot be opened or read.
        NotRegularFile: a folder, device, socket, or a FIFO where none is allowed.
    """
    if pipe_ok and stat.S_ISFIFO(os.stat(path).st_mode):
        with open(path, "rb") as pipe:  # waits for its writer, as ``cat`` would
            return read_capped(pipe, limit)
    handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(handle).st_mode
        if not stat.S_ISREG(mode):
            raise NotRegularFile(_kind(mode))
        os.set_blocking(handle, True)
        return read_capped(handle, limit)
    finally:
        os.close(handle)


#: The most a token file may hold (a bearer token is a few KiB at most).
TOKEN_LIMIT = 64 << 10


def _size(limit: int) -> str:
    """``64 MiB`` or, under a MiB, ``64 KiB``."""
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"


class FileProblem(Exception):
    """A side file that cannot be used; the message is one line without the file name."""


def read_text(path: Path, limit: int) -> str:
    """The UTF-8 text of a regular file (or a pipe: ``--baseline <(...)``) of at most ``limit``.

    Raises:
        FileProblem: not a file, unreadable, too large, or not UTF-8.
    """
    try:
        data = read_bounded(str(path), limit, pipe_ok=True)
    except NotRegularFile:
        raise FileProblem("not a regular file") from None
    except OSError as exc:
        raise FileProblem(exc.strerror or str(exc)) from None
    if data is None:
        raise FileProblem(f"larger than {_size(limit)}")
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
