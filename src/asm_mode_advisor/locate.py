"""Field lines, found lazily: the line of the offending key (``fault:``) for each finding.

Only documents that have a finding with a field path are read again, and only those are
composed (node tree, no Python objects), so a run without findings pays nothing. When a
path cannot be followed to the end, the deepest key found wins; when nothing can be read,
the object's first line stays.
"""

from __future__ import annotations

from collections.abc import Iterable
from itertools import groupby
from operator import itemgetter
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from asm_mode_advisor.rules import Finding

_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    """Composes without resolving tags: only keys, shapes and lines are read here."""

    def resolve(self, kind: type[Node], value: Any, implicit: tuple[bool, bool]) -> str:
        return ""

    def descend_resolver(self, current_node: Node | None, current_index: object) -> None:
        return None

    def ascend_resolver(self) -> None:
        return None
_DOCUMENT_MARKS = ("---", "...")
FieldPath = tuple[str | int, ...]
#: ``(file, document start line, field path)``: a field whose line is wanted.
Target = tuple[str, int, FieldPath]
#: Each :data:`Target` found → 1-based line of the field.
FieldLines = dict[Target, int]


def document_text(lines: list[str], start: int) -> str:
    """The text of the document starting on 1-based line ``start``, up to the next ``---``."""
    end = start - 1
    while end < len(lines) and not lines[end].startswith(_DOCUMENT_MARKS):
        end += 1
    return "".join(lines[start - 1:end])


def compose(text: str) -> Node | None:
    """The node tree of one document (None when it does not parse)."""
    try:
        composed: object = yaml.compose(text, Loader=_Loader)
    except yaml.YAMLError:
        return None
    node = composed if isinstance(composed, Node) else None
    if isinstance(node, SequenceNode) and node.value:
        item: Node = node.value[0]  # a List item: the slice starts at its "- " line
        return item
    return node


def _child(node: Node, step: str | int) -> tuple[Node, int] | None:
    """The node one step down and the 0-based line that names it."""
    if isinstance(node, MappingNode) and isinstance(step, str):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == step:
                return value, key.start_mark.line
    if isinstance(node, SequenceNode) and isinstance(step, int) and 0 <= step < len(node.value):
        item = node.value[step]
        return item, item.start_mark.line
    return None


def field_line(root: Node, path: FieldPath) -> int | None:
    """0-based line of the deepest key of ``path`` that exists under ``root``."""
    node, line = root, None
    for step in path:
        found = _child(node, step)
        if found is None:
            break
        node, line = found
    return line


def targets(findings: Iterable[Finding]) -> list[Target]:
    """``(file, document start line, field path)`` wanted, once each, by file and line.

    Only file findings with a path count. A flat list rather than nested maps: it is
    built for every run that has findings, and dropped as soon as the lines are found.
    """
    wanted = dict.fromkeys(target for finding in findings
                           if (target := _target(finding)) is not None)
    return sorted(wanted, key=_file_and_line)


def _target(finding: Finding) -> Target | None:
    """Where ``finding``'s field is, when it has a path into a file's document."""
    first = finding.objects[0] if finding.objects else None
    if finding.path and first is not None and first.file and first.line and (
            not first.file.startswith("<")):
        return first.file, first.line, tuple(finding.path)
    return None


def _file_and_line(target: Target) -> tuple[str, int]:
    return target[0], target[1]


def find_lines(wanted: list[Target]) -> FieldLines:
    """``(file, document line, path)`` → 1-based line of the field, for every target."""
    found: FieldLines = {}
    for file, in_file in groupby(wanted, key=itemgetter(0)):
        try:
            # open(), not pathlib: a Path interns every part of its path, and for thousands
            # of files that grows the interpreter's table of interned strings for good.
            with open(file, encoding="utf-8-sig") as handle:
                lines = handle.read().splitlines(keepends=True)
        except (OSError, UnicodeDecodeError):
            continue
        for start, in_document in groupby(in_file, key=itemgetter(1)):
            root = compose(document_text(lines, start))
            if root is None:
                continue
            for target in in_document:
                line = field_line(root, target[2])
                if line is not None:
                    found[target] = start + line
    return found


def line_of(finding: Finding, lines: FieldLines) -> int | None:
    """The field line found for ``finding``, if any."""
    target = _target(finding) if lines else None
    return None if target is None else lines.get(target)
