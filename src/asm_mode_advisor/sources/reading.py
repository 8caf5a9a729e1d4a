"""Read one input file or stdin safely: regular files only, never blocking, never unbounded.

A repository can commit a symlink to ``/dev/zero`` and a folder can hold a FIFO named
``x.yaml``: reading either would exhaust memory or hang. So a file is opened without blocking,
checked to be a regular file (symlinks to regular files are followed), and read up to a size
cap; stdin is capped the same way. A pipe named on the command line (``analyze <(helm
template …)``) is read too, within the cap: the user asked for it.
"""

from __future__ import annotations

import errno
import os
import stat
from typing import BinaryIO

from asm_mode_advisor.model import InputError

#: Default cap on one file (and on stdin), in MiB; ``--max-file-size`` changes it.
DEFAULT_MAX_FILE_MIB = 64
MIB = 2**20
MAX_FILE_BYTES = DEFAULT_MAX_FILE_MIB * MIB
_CHUNK = MIB

_KINDS = ((stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO"), (stat.S_ISCHR, "a device"),
          (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def too_large(name: str, limit: int) -> InputError:
    """The error for input past the cap of ``limit`` bytes."""
    size = f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit:,}-byte"
    return InputError(f"larger than the {size} limit (--max-file-size); skipped", name)


def open_error(path: str, exc: OSError) -> InputError:
    """A one-line reason a path cannot be opened (a symlink loop is named as such)."""
    if exc.errno == errno.ELOOP:
        return InputError("symlink loop; skipped", path)
    return InputError(f"cannot read: {exc.strerror or exc}", path)


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


def read_file(path: str, limit: int, pipe_ok: bool = False) -> bytes | InputError:
    """The bytes of the regular file ``path`` (or pipe, if ``pipe_ok``), or why not (one line)."""
    try:
        if pipe_ok and stat.S_ISFIFO(os.stat(path).st_mode):
            with open(path, "rb") as pipe:  # waits for its writer, as ``cat`` would
                data = read_capped(pipe, limit)
            return too_large(path, limit) if data is None else data
        handle = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        return open_error(path, exc)
    try:
        mode = os.fstat(handle).st_mode
        if not stat.S_ISREG(mode):
            return InputError(f"not a regular file ({_kind(mode)}); skipped", path)
        os.set_blocking(handle, True)
        data = read_capped(handle, limit)
    except OSError as exc:
        return InputError(f"cannot read: {exc.strerror or exc}", path)
    finally:
        os.close(handle)
    return too_large(path, limit) if data is None else data
