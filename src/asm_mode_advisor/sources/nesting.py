"""How deep a document nests and whether its aliases loop or explode: one answer everywhere.

libyaml's own limit on nesting depends on its version (old ones have none and recurse in C;
newer ones stop at about 1,000 levels), and ``json.loads`` stops at Python's recursion limit.
So the tool has its own limit, :data:`MAX_NESTING` levels of collections, and refuses any
document deeper than that with one message, on the document's first line, whatever library
found it:

1. :func:`may_be_deep` bounds the depth from the text; normal files stop there and pay nothing.
2. :func:`measure` counts the depth exactly, without recursion, over the composed node tree
   (aliases followed, scalars never counted) for files that might be deep or use anchors.
3. A libyaml "maximum nesting depth" error (:func:`is_depth_error`) means the same.
4. :func:`absurd_spots` finds, before libyaml sees it, text nested so absurdly deep that an
   old libyaml could crash (it recurses in C) or take quadratic time; it is refused unparsed.

Without libyaml, PyYAML's composer recurses in Python: ``files.py`` gives it room for
:data:`MAX_NESTING` levels and maps a ``RecursionError`` past that to the same refusal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from yaml.nodes import MappingNode, Node, SequenceNode

#: Deepest nesting of collections accepted (Kubernetes objects nest a few dozen levels).
MAX_NESTING = 500
#: Text that may nest deeper than this is refused unparsed (see detection path 4).
HARD_NESTING = 10_000
#: Documents whose aliases expand past this many nodes are refused (billion laughs).
MAX_EXPANDED_NODES = 1_000_000

NESTING_MESSAGE = f"nesting deeper than {MAX_NESTING} levels; document skipped"
CYCLE_MESSAGE = ("YAML alias refers to a node that contains it (a recursive structure); "
                 "document refused")
EXPANSION_MESSAGE = (f"YAML aliases expand to more than {MAX_EXPANDED_NODES:,} nodes; "
                     "document refused")

_BRACKETS = re.compile(r"[\[\]{}]")
# Flow collections nest at most once per opening bracket; block collections at most twice per
# column of indentation (a mapping and its indentless sequence share one), plus the line's own
# "- - " run. Under both budgets a document stays within MAX_NESTING.
_FLOW_BUDGET = MAX_NESTING // 2
_INDENT_BUDGET = MAX_NESTING // 4
# Two patterns, not one with ``^`` and MULTILINE: searching for the newline first is 5x faster.
_DEEP_INDENT = re.compile(rf"\n[ \t\-?:]{{{_INDENT_BUDGET},}}")
_DEEP_CR_INDENT = re.compile(rf"\r[ \t\-?:]{{{_INDENT_BUDGET},}}")  # YAML breaks lines at \r too
_DEEP_FIRST_LINE = re.compile(rf"[ \t\-?:]{{{_INDENT_BUDGET},}}")
_ABSURD_INDENT = re.compile(rf"(?:^|(?<=\r))[ \t\-?:]{{{HARD_NESTING // 2},}}", re.MULTILINE)


@dataclass(frozen=True)
class Shape:
    """What :func:`measure` found about one document's node graph."""

    depth: int
    size: int
    cyclic: bool = False


def may_be_deep(text: str) -> bool:
    """False when no document in ``text`` can nest deeper than :data:`MAX_NESTING`."""
    return (text.count("[") + text.count("{") > _FLOW_BUDGET
            or _DEEP_INDENT.search(text) is not None
            or _DEEP_FIRST_LINE.match(text) is not None
            or ("\r" in text and _DEEP_CR_INDENT.search(text) is not None))


def hard_too_deep(text: str) -> int | None:
    """A line of nesting deep enough to harm libyaml, or None when the text is safe to parse."""
    found = absurd_spots(text)
    return text.count("\n", 0, found[0]) + 1 if found else None


def absurd_spots(text: str) -> list[int]:
    """Where nesting is deep enough to harm libyaml: an index in each such document, in order.

    Counts brackets in the raw text (strings included, erring on the safe side), so only text
    with more than :data:`HARD_NESTING` open brackets, or indented that far, is refused here.
    One pass over the text, however many documents are refused.
    """
    spots = [match.start() for match in _ABSURD_INDENT.finditer(text)]
    if text.count("[") + text.count("{") > HARD_NESTING:
        depth, position = 0, 0
        while (match := _BRACKETS.search(text, position)) is not None:
            depth = max(depth + (1 if match.group() in "[{" else -1), 0)
            position = match.end()
            if depth > HARD_NESTING:
                spots.append(match.start())
                depth, position = 0, document_bounds(text, match.start())[1]
    first, end = [], -1
    for spot in sorted(spots):
        if spot >= end:  # the first spot of each document
            first.append(spot)
            end = document_bounds(text, spot)[1]
    return first


def document_bounds(text: str, index: int) -> tuple[int, int]:
    """``[begin, end)`` of the document holding character ``index`` (``---`` lines split them)."""
    back = text.rfind("\n---", 0, index + 3)  # a marker that starts before ``index``
    begin = back + 1 if back >= 0 else 0
    ahead = text.find("\n---", index)
    return begin, ahead + 1 if ahead >= 0 else len(text)


def blank_documents(text: str, spots: list[int]) -> str:
    """``text`` with the documents holding ``spots`` emptied; every line keeps its number."""
    pieces, kept_from = [], 0
    for begin, end in sorted({document_bounds(text, spot) for spot in spots}):
        begin = max(begin, kept_from)
        pieces += [text[kept_from:begin], "\n" * text.count("\n", begin, end)]
        kept_from = max(end, kept_from)
    return "".join([*pieces, text[kept_from:]])


def is_depth_error(problem: str) -> bool:
    """True for libyaml's own refusal of deep nesting (newer libyaml versions)."""
    return "nesting depth" in problem


def document_start(text: str, index: int, line: int) -> int:
    """First content line of the document holding character ``index``, which is on ``line``.

    Every way of finding a too-deep document (a text scan, libyaml's error, the node walk)
    knows some place inside it; this maps each to the same line, the one its node starts on.
    Costs the length of that document, not of the text.
    """
    begin = document_bounds(text, index)[0]
    first = line = line - text.count("\n", begin, index)
    position = begin
    while position <= len(text):
        end = text.find("\n", position)
        end = len(text) if end < 0 else end
        content = text[position:end]
        if content.startswith("---"):
            if position > begin:
                break  # an empty document: its marker line stands for it
            content = content[3:]
        content = content.strip()
        if content and not content.startswith(("#", "%")):
            return line
        line, position = line + 1, end + 1
    return first


def _children(node: Node) -> list[Node]:
    if isinstance(node, SequenceNode):
        return list(node.value)
    if isinstance(node, MappingNode):
        return [part for pair in node.value for part in pair]
    return []


def measure(root: Node, limit: int = MAX_EXPANDED_NODES) -> Shape:
    """Depth in collections and node count, as if aliases were copied out, walked iteratively.

    The count stops just past ``limit``; an alias back into its own ancestor stops the walk.
    """
    done: dict[int, tuple[int, int]] = {}
    path: set[int] = set()  # nodes whose children are being walked: the current branch
    stack: list[tuple[Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        key = id(node)
        children = _children(node)
        if children_done:
            path.discard(key)
            depth = 1 + max((done[id(child)][0] for child in children), default=0)
            size = min(1 + sum(done[id(child)][1] for child in children), limit + 1)
            done[key] = (depth, size)
            continue
        if key in done:
            continue
        if key in path:
            return Shape(depth=0, size=0, cyclic=True)
        if not children:
            done[key] = (0 if not isinstance(node, SequenceNode | MappingNode) else 1, 1)
            continue
        path.add(key)
        stack.append((node, True))
        stack.extend((child, False) for child in children if id(child) not in done)
    depth, size = done[id(root)]
    return Shape(depth=depth, size=size)


def data_depth(value: Any) -> int:
    """Depth in collections of parsed JSON data (dicts and lists), walked without recursion."""
    if not isinstance(value, dict | list):
        return 0
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        deepest = max(deepest, level)
        stack.extend((child, level + 1) for child in children
                     if isinstance(child, dict | list))
    return deepest


def refusal(node: Node) -> str | None:
    """Why a composed document is refused (too deep, recursive, an alias bomb), or None."""
    shape = measure(node)
    if shape.cyclic:
        return CYCLE_MESSAGE
    if shape.depth > MAX_NESTING:
        return NESTING_MESSAGE
    if shape.size > MAX_EXPANDED_NODES:
        return EXPANSION_MESSAGE
    return None


def line_start(text: str, line: int) -> int:
    """Character index where 1-based ``line`` starts (end of text if past it)."""
    index = 0
    for _ in range(line):
        found = text.find("\n", index)
        if found < 0:
            return len(text)
        index = found + 1
    return index
