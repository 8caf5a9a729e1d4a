"""Field lines, found lazily: the line of the offending key (``fault:``) for each finding.

Only documents that have a finding with a field path are read again, and only those are
composed (node tree, no Python objects), so a run without findings pays nothing. When a
path cannot be followed to the end, the deepest key found wins; when nothing can be read,
the object's first line stays.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
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
#: ``(file, document start line, field path)`` → 1-based line of the field.
FieldLines = dict[tuple[str, int, FieldPath], int]


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


def targets(findings: Iterable[Finding]) -> dict[str, dict[int, set[FieldPath]]]:
    """Files → document start lines → field paths wanted there (file findings with a path)."""
    wanted: dict[str, dict[int, set[FieldPath]]] = defaultdict(lambda: defaultdict(set))
    for finding in findings:
        first = finding.objects[0] if finding.objects else None
        if finding.path and first is not None and first.file and first.line and (
                not first.file.startswith("<")):
            wanted[first.file][first.line].add(tuple(finding.path))
    return wanted


def find_lines(wanted: dict[str, dict[int, set[FieldPath]]]) -> FieldLines:
    """``(file, document line, path)`` → 1-based line of the field, for every target."""
    found: FieldLines = {}
    for file, documents in sorted(wanted.items()):
        try:
            lines = Path(file).read_text(encoding="utf-8-sig").splitlines(keepends=True)
        except (OSError, UnicodeDecodeError):
            continue
        for start, paths in sorted(documents.items()):
            root = compose(document_text(lines, start))
            if root is None:
                continue
            for path in paths:
                line = field_line(root, path)
                if line is not None:
                    found[(file, start, path)] = start + line
    return found


def line_of(finding: Finding, lines: FieldLines) -> int | None:
    """The field line found for ``finding``, if any."""
    first = finding.objects[0] if finding.objects else None
    if not lines or first is None or first.file is None or first.line is None:
        return None
    return lines.get((first.file, first.line, tuple(finding.path)))
