"""YAML and JSON text to documents, each with the line it starts on.

Problems are ``InputError`` values and the parse goes on with the next document: a syntax
error resumes at the next ``---``; nesting past the tool's own limit, alias bombs and
recursive aliases refuse only their document (``nesting.py``).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from asm_mode_advisor.model import InputError
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

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
USING_LIBYAML = _Base is not yaml.SafeLoader
if not USING_LIBYAML:
    # PyYAML's own composer recurses about twice per level: give it room for every document
    # within MAX_NESTING, so that the limit is the same as with libyaml.
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 3 * MAX_NESTING + 1_000))
_DOC_START = re.compile(r"^---", re.MULTILINE)


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


