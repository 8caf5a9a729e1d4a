"""Helpers more than one format uses: sorting, where a finding points, partial-input notes.

SARIF and GitHub annotations both name a finding's file relative to the repository root and
its line; both live here so that no format imports another.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from asm_mode_advisor.report import NamespaceVerdict, Reason

T = TypeVar("T")


def sort_by(items: list[T], *keys: Callable[[T], Any]) -> None:
    """Sort ``items`` in place by ``keys``, most significant first.

    One stable pass per key, least significant first, gives the order of a tuple key. Each
    key returns a value the item already holds, so a long list needs no new object per
    item (a finding per line of a big report would otherwise get a tuple each).
    """
    for key in reversed(keys):
        items.sort(key=key)


def repo_root(start: Path | None = None) -> Path:
    """The nearest folder with ``.git`` at or above ``start`` (the working directory)."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def artifact_path(file: str, root: Path) -> str:
    """A file as a path relative to ``root`` with ``/`` separators, or absolute outside it."""
    absolute = Path(os.path.abspath(file))
    try:
        return absolute.relative_to(root).as_posix()
    except ValueError:
        return absolute.as_posix()


def reason_file(reason: Reason) -> str | None:
    """The file a finding points at (its first object's), or None from stdin or a cluster."""
    first = reason.objects[0] if reason.objects else None
    if first is None or not first.file or first.file.startswith("<"):
        return None
    return first.file


def location_line(reason: Reason) -> int:
    """The offending field's line, else the object's first line, else 1."""
    first = reason.objects[0] if reason.objects else None
    return reason.field_line or (first.line if first is not None and first.line else 1)


def partial_note(verdict: NamespaceVerdict, code: bool = False) -> str:
    """One line for an incomplete namespace: how many errors, in which files.

    ``code`` puts each file in Markdown backticks (``<stdin>`` would be read as HTML).
    """
    names = verdict.input_error_files or ()
    if code:
        names = tuple(f"`{name.replace('`', chr(39))}`" for name in names)
    files = ", ".join(names)
    return (f"recommendation rests on partial input: {verdict.input_errors or 0} input "
            f"error(s) in {files}")
