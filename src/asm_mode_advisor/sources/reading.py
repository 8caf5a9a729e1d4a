"""Read one input file or stdin safely: regular files only, never blocking, never unbounded.

A repository can commit a symlink to ``/dev/zero`` and a folder can hold a FIFO named
``x.yaml``: reading either would exhaust memory or hang. So a file is opened without blocking,
checked to be a regular file (symlinks to regular files are followed), and read up to a size
cap; stdin is capped the same way. A pipe named on the command line (``analyze <(helm
template …)``) is read too, within the cap: the user asked for it. The mechanism is the
one the side files use, ``smallfile.read_bounded``; this module words its answers as input
errors.
"""

from __future__ import annotations

import errno

from asm_mode_advisor.model import InputError
from asm_mode_advisor.smallfile import NotRegularFile, read_bounded, read_capped

#: Default cap on one file (and on stdin), in MiB; ``--max-file-size`` changes it.
DEFAULT_MAX_FILE_MIB = 64
MIB = 2**20
MAX_FILE_BYTES = DEFAULT_MAX_FILE_MIB * MIB


def too_large(name: str, limit: int) -> InputError:
    """The error for input past the cap of ``limit`` bytes."""
    size = f"{limit // MIB} MiB" if limit % MIB == 0 else f"{limit:,}-byte"
    return InputError(f"larger than the {size} limit (--max-file-size); skipped", name)


def open_error(path: str, exc: OSError) -> InputError:
    """A one-line reason a path cannot be opened (a symlink loop is named as such)."""
    if exc.errno == errno.ELOOP:
        return InputError("symlink loop; skipped", path)
    return InputError(f"cannot read: {exc.strerror or exc}", path)


def read_file(path: str, limit: int, pipe_ok: bool = False) -> bytes | InputError:
    """The bytes of the regular file ``path`` (or pipe, if ``pipe_ok``), or why not (one line)."""
    try:
        data = read_bounded(path, limit, pipe_ok)
    except NotRegularFile as exc:
        return InputError(f"not a regular file ({exc}); skipped", path)
    except OSError as exc:
        return open_error(path, exc)
    return too_large(path, limit) if data is None else data


__all__ = ["DEFAULT_MAX_FILE_MIB", "MAX_FILE_BYTES", "MIB", "read_capped", "read_file",
           "too_large"]
