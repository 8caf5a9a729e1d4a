"""Files, folders and stdin to Resources, with the line each document starts on.

Input problems are collected as ``InputError`` values and parsing goes on with the next
document or file: bad input never costs the good input beside it.
"""

from __future__ import annotations

import errno
import json
import os
import re
import sys
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, BinaryIO

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from asm_mode_advisor.collector import paused
from asm_mode_advisor.kinds import CLUSTER_SCOPED_KINDS, lookup
from asm_mode_advisor.model import InputError, Resource, is_str_map
from asm_mode_advisor.names import invalid_names
from asm_mode_advisor.slim import (
    forget_shared,
    share_across_chunks,
    share_map,
    slim_and_share,
)
from asm_mode_advisor.sources import parallel
from asm_mode_advisor.sources.construct import Unusual, build, resolve_scalar
from asm_mode_advisor.sources.nesting import (
    MAX_NESTING,
    NESTING_MESSAGE,
    absurd_spots,
    blank_documents,
    data_depth,
    document_start,
    is_depth_error,
    line_start,
    may_be_deep,
    refusal,
)
from asm_mode_advisor.sources.progress import file_progress
from asm_mode_advisor.sources.reading import MAX_FILE_BYTES, read_capped, read_file, too_large
from asm_mode_advisor.sources.renderable import render_hint
from asm_mode_advisor.sources.validate import type_errors

STDIN_NAME = "<stdin>"
YAML_SUFFIXES = (".yaml", ".yml", ".json")

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
USING_LIBYAML = _Base is not yaml.SafeLoader
if not USING_LIBYAML:
    # PyYAML's own composer recurses about twice per level: give it room for every document
    # within MAX_NESTING, so that the limit is the same as with libyaml.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3 * MAX_NESTING + 1_000))
_DOC_START = re.compile(r"^---", re.MULTILINE)


@dataclass
class LoadResult:
    """What the file source produced."""

    resources: list[Resource] = field(default_factory=list)
    errors: list[InputError] = field(default_factory=list)
    files: int = 0
    #: Drop body parts no rule reads as each object is read (see ``slim.py``).
    slim: bool = False


class _DocumentRejected(Exception):
    """A document we refuse to construct (alias bomb); the parse continues after it."""


class _Loader(_Base):  # type: ignore[misc]
    """libyaml loader that reports duplicate mapping keys instead of keeping the last one."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicate_keys: list[tuple[str, int]] = []

    def construct_mapping(self, node: Node, deep: bool = False) -> Any:
        if isinstance(node, MappingNode):
            seen: set[object] = set()
            for key_node, _ in node.value:
                key = key_node.value
                if not isinstance(key, str) or key == "<<":
                    continue
                if key in seen:
                    self.duplicate_keys.append((key, key_node.start_mark.line + 1))
                seen.add(key)
        return super().construct_mapping(node, deep=deep)

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        """Scalar tags from a cache of plain values; the parser asks once per node."""
        if kind is ScalarNode:
            return resolve_scalar(self, value, implicit)
        return str(super().resolve(kind, value, implicit))

    def construct_plain(self, node: Node, plain: bool) -> Any:
        """The document of ``node``: the fast path for plain YAML, else the standard one."""
        if plain:
            try:
                return build(node, self.yaml_constructors, self)
            except (Unusual, RecursionError, yaml.YAMLError, ValueError, TypeError):
                pass
        return self.construct_document(node)


def _item_lines(node: Node) -> list[int]:
    """Start lines of the ``items`` of a ``List`` document node."""
    if isinstance(node, MappingNode):
        for key_node, value_node in node.value:
            if (isinstance(key_node, ScalarNode) and key_node.value == "items"
                    and isinstance(value_node, SequenceNode)):
                return [item.start_mark.line + 1 for item in value_node.value]
    return []


def parse_yaml(text: str, name: str) -> Iterator[tuple[Any, int, list[int]] | InputError]:
    """Yield ``(document, start line, List item lines)`` or an ``InputError`` per problem.

    After a syntax error the parse resumes at the next ``---`` line, so the documents after a
    broken one are still read.
    """
    deep = may_be_deep(text)  # false for normal files, which then skip every check below
    spots = absurd_spots(text) if deep else []
    line, counted = 1, 0
    for spot in spots:
        line, counted = line + text.count("\n", counted, spot), spot
        yield InputError(NESTING_MESSAGE, name, document_start(text, spot, line))
    if spots:
        text = blank_documents(text, spots)
    has_anchors = "&" in text
    check = has_anchors or deep
    offset = 0
    last_error: InputError | None = None
    while True:
        loader = _Loader(text)
        try:
            while loader.check_node():
                node = loader.get_node()
                line = node.start_mark.line + 1 + offset
                refused = refusal(node) if check else None
                if refused is not None:
                    mark = node.start_mark
                    yield InputError(refused, name,
                                     document_start(text, mark.index, mark.line + 1) + offset)
                    continue
                try:
                    document = loader.construct_plain(node, plain=not has_anchors)
                except ValueError as exc:  # an integer of more than 4,300 digits
                    loader.duplicate_keys.clear()
                    yield InputError(f"a value cannot be read: {str(exc).split(';')[0]}; "
                                     "document skipped", name, line)
                    continue
                for key, key_line in loader.duplicate_keys:
                    yield InputError(f"duplicate key {key!r} in a mapping", name,
                                     key_line + offset)
                loader.duplicate_keys.clear()
                item_lines = _item_lines(node) if isinstance(document, dict) and str(
                    document.get("kind", "")).endswith("List") else []
                yield document, line, [item_line + offset for item_line in item_lines]
            return
        except (yaml.YAMLError, RecursionError) as exc:
            mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
            if isinstance(exc, RecursionError):  # PyYAML without libyaml composes recursively
                mark = loader.get_mark() if hasattr(loader, "get_mark") else None
            error_line = mark.line + 1 if mark is not None else 1
            problem = ("nesting depth" if isinstance(exc, RecursionError)
                       else getattr(exc, "problem", None) or str(exc).splitlines()[0])
            start = document_start(text, mark.index, error_line) if mark is not None else 1
            error = (InputError(NESTING_MESSAGE, name, start + offset)
                     if is_depth_error(problem) else
                     InputError(f"YAML syntax error: {problem}", name, error_line + offset))
            if error != last_error:  # a broken ``---`` line is met twice; report it once
                yield error
            last_error = error
            # The error is often reported on the next document's own ``---`` line (an
            # unclosed bracket), so search from the start of the error line itself.
            resume = _DOC_START.search(text, line_start(text, error_line - 1))
            if resume is not None and resume.start() == 0:
                resume = _DOC_START.search(text, 1)
            if resume is None:
                return
            offset += text.count("\n", 0, resume.start())
            text = text[resume.start():]
        finally:
            loader.dispose()


def parse_json(text: str, name: str) -> Iterator[tuple[Any, int, list[int]] | InputError]:
    """Yield the single JSON document of a ``.json`` file (List items keep the file's line 1)."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        yield InputError(f"JSON syntax error: {exc.msg}", name, exc.lineno)
        return
    except RecursionError:  # json recurses in C: past Python's recursion limit
        yield InputError(NESTING_MESSAGE, name, 1)
        return
    except ValueError as exc:  # an integer of more than 4,300 digits
        yield InputError(f"a value cannot be read: {str(exc).split(';')[0]}; file skipped",
                         name, 1)
        return
    if may_be_deep(text) and data_depth(document) > MAX_NESTING:
        yield InputError(NESTING_MESSAGE, name, 1)
        return
    yield document, 1, []


def decode(data: bytes, name: str) -> str | InputError:
    """Bytes to text: UTF-8 (BOM allowed); binary or other encodings are input errors."""
    if b"\x00" in data[:8192]:
        return InputError("binary file (NUL bytes); not a YAML or JSON manifest", name)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        return InputError(f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at offset "
                          f"{exc.start})", name, line)


def to_resources(document: Any, name: str, line: int, item_lines: list[int],
                 default_namespace: str, slim: bool = False) -> Iterator[Resource | InputError]:
    """Turn one parsed document into Resources (``List`` kinds are expanded).

    ``slim`` drops what no rule reads of each body once it is validated (``slim.py``).
    """
    if document is None:
        return
    if not isinstance(document, dict):
        found = type(document).__name__
        yield InputError(f"document is not a mapping (found {found}); skipped", name, line)
        return
    kind = document.get("kind")
    items = document.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            item_line = item_lines[index] if index < len(item_lines) else line
            if not isinstance(item, dict):
                yield InputError(f"{kind} item {index} is not a mapping; skipped", name,
                                 item_line)
                continue
            yield from to_resources(item, name, item_line, [], default_namespace, slim)
        return
    yield from _resource(document, name, line, default_namespace, slim)


def _resource(document: dict[str, Any], name: str, line: int,
              default_namespace: str, slim: bool) -> Iterator[Resource | InputError]:
    problems: list[str] = []
    kind = document.get("kind")
    api_version = document.get("apiVersion")
    metadata = document.get("metadata")
    if not isinstance(kind, str) or not kind:
        problems.append("missing or invalid 'kind'")
    if not isinstance(api_version, str) or not api_version:
        problems.append("missing or invalid 'apiVersion'")
    if not isinstance(metadata, dict):
        problems.append("missing or invalid 'metadata'")
        metadata = {}
    object_name = metadata.get("name")
    if not isinstance(object_name, str) or not object_name:
        generate_name = metadata.get("generateName")
        if isinstance(generate_name, str) and generate_name:
            object_name = generate_name
        elif object_name is None:
            problems.append("missing 'metadata.name'")
        else:
            problems.append(f"'metadata.name' must be a string, not {_type(object_name)}")
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        problems.append(f"'metadata.namespace' must be a string, not {_type(namespace)}")
    if problems and not isinstance(kind, str) and not isinstance(api_version, str):
        yield InputError("not a Kubernetes object (no 'kind' or 'apiVersion'); skipped", name,
                         line)
        return
    # Tool configs may go unnamed, but a namespace that is not a string is still wrong.
    unnamed = bool(problems) and _is_tool_config(api_version) and all(
        "metadata" in p and "namespace" not in p for p in problems)
    if unnamed:
        problems, object_name = [], "(unnamed)"
    if problems:
        label = f"{kind} " if isinstance(kind, str) and kind else ""
        yield InputError(f"{label}object skipped: {'; '.join(problems)}", name, line)
        return
    assert isinstance(kind, str) and isinstance(api_version, str)
    assert isinstance(object_name, str)
    labels, label_problem = _string_map(metadata.get("labels"), "metadata.labels")
    annotations, annotation_problem = _string_map(metadata.get("annotations"),
                                                  "metadata.annotations")
    group = api_version.rpartition("/")[0]
    info = lookup(kind, group)
    cluster_scoped = kind in CLUSTER_SCOPED_KINDS or (info is not None and not info.namespaced)
    resolved_namespace = None if cluster_scoped else (namespace or default_namespace)
    invalid = invalid_names(kind, group, None if unnamed else object_name, resolved_namespace,
                            generated=object_name != metadata.get("name"))
    if invalid is not None:  # names become paths and shell words: never let a bad one through
        yield InputError(invalid, name, line)
        return
    wrong_types = type_errors(kind, group, document)  # on the whole body, before slimming
    if slim:
        labels, annotations = share_map(labels), share_map(annotations)
    resource = Resource(kind=kind, api_version=api_version, name=object_name,
                        namespace=resolved_namespace, labels=labels, annotations=annotations,
                        body=slim_and_share(kind, document) if slim else document,
                        file=name, line=line)
    for problem in (label_problem, annotation_problem, *wrong_types):
        if problem:
            yield InputError(f"{resource.ref}: {problem}", name, line)
    yield resource


def _is_tool_config(api_version: object) -> bool:
    """Tool input documents (kustomize, IstioOperator) legitimately have no name."""
    return isinstance(api_version, str) and api_version.startswith(
        ("kustomize.config.k8s.io/", "install.istio.io/"))


def _type(value: object) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", int: "a number",
            float: "a number", bool: "a boolean"}.get(type(value), type(value).__name__)


#: Labels or annotations of an object that has none: one shared mapping, never written to
#: (resources are read-only after loading), instead of an empty dict per object.
_NONE: dict[str, str] = {}


def _string_map(value: object, where: str) -> tuple[dict[str, str], str | None]:
    if value is None:
        return _NONE, None
    if not isinstance(value, dict):
        return {}, f"'{where}' must be a mapping, not {_type(value)}"
    if is_str_map(value):
        return value, None  # the usual case: keep the parsed mapping, no copy
    bad = sorted(str(key) for key, item in value.items() if not isinstance(item, str))
    result = {str(key): item if isinstance(item, str) else _scalar_text(item)
              for key, item in value.items()}
    if bad:
        return result, f"'{where}' values must be strings (quote them): {', '.join(bad)}"
    return result, None


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


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
                                     result.slim):
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
              max_bytes: int = MAX_FILE_BYTES, pipe_ok: bool = False) -> LoadResult:
    """Read and parse one file (not stdin) on its own: a regular file of at most ``max_bytes``.

    ``pipe_ok`` for a path named on the command line (``<(helm template …)``), never for one
    found in a folder, where a FIFO would block the run.
    """
    result = LoadResult(files=1, slim=slim_bodies)
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
    for path in paths:
        one = load_file(path, default_namespace, slim_bodies, max_bytes, path in named)
        chunk.resources.extend(one.resources)
        chunk.errors.extend(one.errors)
        chunk.counts.extend((len(one.resources), len(one.errors)))
    forget_shared()  # this chunk is sent as one pickle, which keeps its sharing
    return chunk


def parse_files(paths: list[str], default_namespace: str, advance: Callable[[int], None],
                slim_bodies: bool = False, max_bytes: int = MAX_FILE_BYTES,
                named: frozenset[str] = frozenset()) -> Iterator[LoadResult]:
    """A result per file, in order; large inputs are parsed on every core.

    ``named`` holds the paths given on the command line (these may be pipes).
    """
    workers = parallel.worker_count()
    sizes = [parallel.file_size(path) for path in paths] if workers > 1 else []
    if sizes and parallel.worth_it(sizes, workers):
        bounds = parallel.chunk_bounds(sizes, workers * parallel.CHUNKS_PER_WORKER)
        chunks = [paths[start:end] for start, end in bounds]
        try:
            work = partial(load_files, default_namespace=default_namespace,
                           slim_bodies=slim_bodies, max_bytes=max_bytes, named=named)
            bodies: dict[bytes, dict[str, Any]] = {}
            for chunk in parallel.ordered_map(work, chunks, workers, advance):
                if slim_bodies:
                    share_across_chunks(chunk.resources, bodies)
                yield from chunk.per_file()
            return
        except parallel.PoolUnavailable:
            pass
    for path in paths:
        yield load_file(path, default_namespace, slim_bodies, max_bytes, path in named)
        advance(1)


def load_paths(paths: Iterable[str], default_namespace: str = "default",
               stdin: BinaryIO | None = None, slim_bodies: bool = False,
               max_bytes: int = MAX_FILE_BYTES) -> LoadResult:
    """Read every path (``-`` is stdin) into Resources and InputErrors.

    ``slim_bodies`` drops what no rule reads of each body as it is read (``analyze``);
    commands that write manifests back (``plan``) keep whole bodies. A file, or stdin, of
    more than ``max_bytes`` is refused with one error.
    """
    paths = list(paths)
    expanded = list(expand_paths(paths))
    files = [path for path in expanded if isinstance(path, str) and path != "-"]
    result = LoadResult(slim=slim_bodies)
    with paused(), file_progress(len(files)) as advance:
        parsed = parse_files(files, default_namespace, advance, slim_bodies, max_bytes,
                             frozenset(paths))
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
    forget_shared()
    return result
