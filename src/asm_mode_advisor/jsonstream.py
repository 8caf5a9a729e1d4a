"""JSON written piece by piece, byte-identical to ``json.dumps(indent=2, sort_keys=True)``.

A report's JSON is about as large as its input, and ``json.dumps`` of the whole report holds
the plain-data copy and the finished text at once. Here the outer mappings are walked in
Python, and a :class:`Lazy` list (a report's namespaces) is turned into plain data and text
one item at a time, so only one item's copy is alive while writing: 60% of ``analyze``'s
peak memory at 50k documents (docs/performance.md, "What each memory trick is worth").
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from pydantic_core import to_json

INDENT = "  "


def dumps(value: Any) -> str:
    """Indented JSON with sorted keys: the format of every JSON this tool writes."""
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


class _Float(Exception):
    """Floats are written differently by the two writers (``1e-07`` against ``1e-7``)."""


def dumps_fast(value: Any) -> str:
    """:func:`dumps` of plain JSON data, by pydantic's writer once the keys are sorted.

    ``json.dumps`` with an indent runs in Python; this is about twice as fast, so a
    report's namespaces are written this way (tests/test_jsonstream.py checks the text).
    Data holding a float is left to :func:`dumps`.
    """
    try:
        return to_json(_sorted_keys(value), indent=2).decode()
    except _Float:
        return dumps(value)


def _sorted_keys(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted_keys(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted_keys(item) for item in value]
    if isinstance(value, float):
        raise _Float
    return value


class Lazy:
    """A JSON array whose items are produced (and dropped) one at a time while writing.

    Each item is written by ``dump`` (:func:`dumps` unless given) as a whole: items are
    plain data, or objects ``dump`` knows how to write, never other Lazy arrays.
    """

    __slots__ = ("dump", "items")

    def __init__(self, items: Iterable[Any], dump: Callable[[Any], str] = dumps) -> None:
        self.items = items
        self.dump = dump


def _indented(text: str, pad: str) -> str:
    # JSON text never holds a raw newline inside a string, so re-indenting is line-safe.
    return text.replace("\n", "\n" + pad) if pad else text


def iter_json(value: Any, pad: str = "") -> Iterator[str]:
    """Chunks that join to ``json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)``.

    Only :class:`Lazy` arrays and the mappings and lists around them are walked here;
    everything else is written by ``json.dumps`` in one call, each lazy item by its
    array's ``dump``.
    """
    inner = pad + INDENT
    if isinstance(value, Lazy):
        yield from _array(((_indented(value.dump(item), inner),) for item in value.items), pad)
    elif isinstance(value, list) and _has_lazy(value):
        yield from _array((iter_json(item, inner) for item in value), pad)
    elif isinstance(value, dict) and _has_lazy(value):
        keys = sorted(value)
        yield "{"
        for position, key in enumerate(keys):
            yield f"\n{inner}{json.dumps(key, ensure_ascii=False)}: "
            yield from iter_json(value[key], inner)
            if position < len(keys) - 1:
                yield ","
        yield f"\n{pad}}}"
    else:
        yield _indented(dumps(value), pad)


def _array(items: Iterable[Iterable[str]], pad: str) -> Iterator[str]:
    """An array whose items are each given as chunks of their text."""
    first = True
    for chunks in items:
        yield ("[\n" if first else ",\n") + pad + INDENT
        yield from chunks
        first = False
    yield "[]" if first else f"\n{pad}]"


def _has_lazy(value: dict[str, Any] | list[Any]) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return any(isinstance(item, Lazy) or (isinstance(item, dict | list) and _has_lazy(item))
               for item in items)
