"""Files, folders and stdin to Resources, with the line each document starts on.

Input problems are collected as ``InputError`` values and parsing goes on with the next
document or file: bad input never costs the good input beside it.
"""

from __future__ import annotations

import errno
import os
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from functools import partial
from typing import BinaryIO

from asm_mode_advisor.model import STDIN_NAME, InputError, Resource
from asm_mode_advisor.sharing import Sharing
from asm_mode_advisor.sources import parallel
from asm_mode_advisor.sources.documents import decode, parse_json, parse_yaml
from asm_mode_advisor.sources.progress import file_progress
from asm_mode_advisor.sources.reading import MAX_FILE_BYTES, read_capped, read_file, too_large
from asm_mode_advisor.sources.renderable import render_hint
from asm_mode_advisor.sources.resources import to_resources

YAML_SUFFIXES = (".yaml", ".yml", ".json")


@dataclass
class LoadResult:
    """What the file source produced."""

    resources: list[Resource] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files: int = 0
    #: Drop body parts no rule reads as each object is read (see ``slim.py``).
    slim: bool = False
    #: Equal structures of this read kept once (``sharing.py``); made here when ``slim``.
    sharing: Sharing | None = field(default=None, repr=False, compare=False)
    #: Files an exclude glob kept from being read.
    excluded_files: int = 0

    def __post_init__(self) -> None:
        if self.slim and self.sharing is None:
            self.sharing = Sharing()




def expand_paths(paths: Iterable[str]) -> Iterator[str | InputError]:
    """Files named directly, and YAML/JSON files under folders (sorted, hidden folders skipped).

    A Helm chart or kustomization folder is not read: one error says how to render it.
    """
    for path in paths:
        if path == "-":
            yield path
        elif os.path.isdir(path):
            found: list[str] = []
            unrendered: list[InputError] = []
            unreadable: list[OSError] = []
            for root, dirs, files in os.walk(path, onerror=unreadable.append):
                hint = render_hint(root, files)
                if hint is not None:
                    unrendered.append(InputError(hint, root.rstrip("/") or root))
                    dirs[:] = []
                    continue
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, f) for f in files
                             if f.lower().endswith(YAML_SUFFIXES) and not f.startswith("."))
            yield from sorted(found)
            yield from unrendered
            yield from (_folder_error(exc, path) for exc in unreadable)
        elif os.path.exists(path):
            yield path
        elif _is_symlink_loop(path):
            yield InputError("symlink loop; skipped", path)
        else:
            yield InputError("no such file or directory", path)


def _folder_error(exc: OSError, top: str) -> InputError:
    """A folder under ``top`` that cannot be listed: said, never skipped silently."""
    return InputError(f"cannot read folder: {exc.strerror or exc}; skipped",
                      str(exc.filename or top))


def _is_symlink_loop(path: str) -> bool:
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def load_text(text: str, name: str, default_namespace: str,
              result: LoadResult, as_json: bool = False) -> None:
    """Parse one file's text into ``result``."""
    parse = parse_json if as_json else parse_yaml
    for item in parse(text, name):
        if isinstance(item, InputError):
            result.errors.append(item)
            continue
        document, line, item_lines = item
        for produced in to_resources(document, name, line, item_lines, default_namespace,
                                     result.sharing):
            if isinstance(produced, InputError):
                result.errors.append(produced)
            else:
                result.resources.append(produced)


def load_bytes(data: bytes, name: str, default_namespace: str, result: LoadResult) -> None:
    """Decode and parse one file's bytes into ``result``."""
    text = decode(data, name)
    if isinstance(text, InputError):
        result.errors.append(text)
        return
    load_text(text, name, default_namespace, result, as_json=name.lower().endswith(".json"))


def load_file(path: str, default_namespace: str, slim_bodies: bool = False,
              max_bytes: int = MAX_FILE_BYTES, pipe_ok: bool = False,
              sharing: Sharing | None = None) -> LoadResult:
    """Read and parse one file (not stdin) on its own: a regular file of at most ``max_bytes``.

    ``pipe_ok`` for a path named on the command line (``<(helm template …)``), never for one
    found in a folder, where a FIFO would block the run. ``sharing``: the read's table, when
    slimming (else one for this file).
    """
    result = LoadResult(files=1, slim=slim_bodies, sharing=sharing)
    data = read_file(path, max_bytes, pipe_ok)
    if isinstance(data, InputError):
        result.errors.append(data)
        return result
    load_bytes(data, path, default_namespace, result)
    return result


@dataclass
class ChunkResult:
    """The files of one chunk parsed by a worker, as few objects as possible.

    A worker sends its chunk back as one pickle. Per-file containers would be rebuilt in
    the parent only to be dropped after merging, leaving holes between the objects that
    stay; so the chunk's resources and errors come in two lists, and ``counts`` holds, per
    file, how many of each are its own.
    """

    resources: list[Resource]
    errors: list[InputError]
    counts: array[int]

    def per_file(self) -> Iterator[LoadResult]:
        """One result per file again, in order (each made as it is consumed)."""
        resource_at = error_at = 0
        for index in range(0, len(self.counts), 2):
            resource_end = resource_at + self.counts[index]
            error_end = error_at + self.counts[index + 1]
            yield LoadResult(resources=self.resources[resource_at:resource_end],
                             errors=self.errors[error_at:error_end], files=1)
            resource_at, error_at = resource_end, error_end


def load_files(paths: list[str], default_namespace: str, slim_bodies: bool = False,
               max_bytes: int = MAX_FILE_BYTES,
               named: frozenset[str] = frozenset()) -> ChunkResult:
    """The files of a chunk, in order (the unit of work of a parallel parse)."""
    chunk = ChunkResult(resources=[], errors=[], counts=array("I"))
    # The chunk's own table: it goes back as one pickle, which keeps its sharing.
    sharing = Sharing() if slim_bodies else None
    for path in paths:
        one = load_file(path, default_namespace, slim_bodies, max_bytes, path in named,
                        sharing)
        chunk.resources.extend(one.resources)
        chunk.errors.extend(one.errors)
        chunk.counts.extend((len(one.resources), len(one.errors)))
    return chunk


def parse_files(paths: list[str], default_namespace: str, advance: Callable[[int], None],
                slim_bodies: bool = False, max_bytes: int = MAX_FILE_BYTES,
                named: frozenset[str] = frozenset(),
                sharing: Sharing | None = None) -> Iterator[LoadResult]:
    """A result per file, in order; large inputs are parsed on every core.

    ``named`` holds the paths given on the command line (these may be pipes); ``sharing``
    is the read's table for the files parsed here (workers have their own).
    """
    workers = parallel.worker_count()
    sizes = [parallel.file_size(path) for path in paths] if workers > 1 else []
    if sizes and parallel.worth_it(sizes, workers):
        bounds = parallel.chunk_bounds(sizes, workers * parallel.CHUNKS_PER_WORKER)
        chunks = [paths[start:end] for start, end in bounds]
        try:
            work = partial(load_files, default_namespace=default_namespace,
                           slim_bodies=slim_bodies, max_bytes=max_bytes, named=named)
            # Each chunk shares equal structures within itself only: sharing across chunks
            # too saved 2% of peak memory at 50k documents, not worth a pass over every body.
            for chunk in parallel.ordered_map(work, chunks, workers, advance):
                yield from chunk.per_file()
            return
        except parallel.PoolUnavailable:
            pass
    for path in paths:
        yield load_file(path, default_namespace, slim_bodies, max_bytes, path in named,
                        sharing)
        advance(1)


def excluded_path(path: str, globs: Iterable[str]) -> bool:
    """True when a glob matches the file's path, or a folder it is under.

    Paths and globs are compared normalised, with ``/`` separators (``*`` also matches
    ``/``), so ``./a/b.yaml``, ``a/b.yaml`` and ``a//b.yaml`` are one path.
    """
    text = _normal(path)
    for glob in filter(None, globs):  # an empty glob would match every absolute path
        pattern = _normal(glob)
        if fnmatchcase(text, pattern) or fnmatchcase(text, pattern.rstrip("/") + "/*"):
            return True
    return False


def _normal(path: str) -> str:
    return os.path.normpath(path).replace(os.sep, "/")


def load_paths(paths: Iterable[str], default_namespace: str = "default",
               stdin: BinaryIO | None = None, slim_bodies: bool = False,
               max_bytes: int = MAX_FILE_BYTES, exclude: Iterable[str] = ()) -> LoadResult:
    """Read every path (``-`` is stdin) into Resources and InputErrors.

    ``slim_bodies`` drops what no rule reads of each body as it is read (``analyze``);
    commands that write manifests back (``plan``) keep whole bodies. A file, or stdin, of
    more than ``max_bytes`` is refused with one error. Files matching an ``exclude`` glob
    are not opened, only counted.
    """
    paths = list(paths)
    expanded = list(expand_paths(paths))
    globs = tuple(exclude)
    result = LoadResult(slim=slim_bodies)
    if globs:
        kept = [path for path in expanded if not isinstance(path, str) or path == "-"
                or not excluded_path(path, globs)]
        result.excluded_files = len(expanded) - len(kept)
        expanded = kept
    files = [path for path in expanded if isinstance(path, str) and path != "-"]
    with file_progress(len(files)) as advance:
        parsed = parse_files(files, default_namespace, advance, slim_bodies, max_bytes,
                             frozenset(paths), result.sharing)
        for path in expanded:
            if isinstance(path, InputError):
                result.errors.append(path)
            elif path == "-":
                result.files += 1
                stream = stdin if stdin is not None else sys.stdin.buffer
                data = read_capped(stream, max_bytes)
                if data is None:
                    result.errors.append(too_large(STDIN_NAME, max_bytes))
                else:
                    load_bytes(data, STDIN_NAME, default_namespace, result)
            else:
                one = next(parsed)
                result.files += one.files
                result.resources.extend(one.resources)
                result.errors.extend(one.errors)
    return result
