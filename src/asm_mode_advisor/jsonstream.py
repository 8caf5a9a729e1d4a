"""JSON written piece by piece, byte-identical to ``json.dumps(indent=2, sort_keys=True)``.

A report's JSON is about as large as its input, and ``json.dumps`` of the whole report holds
the plain-data copy and the finished text at once. Here the outer mappings are walked in
Python, and a :class:`Lazy` list (a report's namespaces) is turned into plain data and text
one item at a time, so only one item's copy is alive while writing.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any

INDENT = "  "


class Lazy:
    """A JSON array whose items are produced (and dropped) one at a time while writing."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def _dump(value: Any, pad: str) -> str:
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    # JSON text never holds a raw newline inside a string, so re-indenting is line-safe.
    return text.replace("\n", "\n" + pad) if pad else text


def iter_json(value: Any, pad: str = "") -> Iterator[str]:
    """Chunks that join to ``json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)``.

    Only :class:`Lazy` arrays and the mappings and lists around them are walked here;
    everything else, including each lazy item, is written by ``json.dumps`` in one call.
    """
    if isinstance(value, list) and _has_lazy(value):
        value = Lazy(value)
    if isinstance(value, dict) and _has_lazy(value):
        inner = pad + INDENT
        keys = sorted(value)
        yield "{"
        for position, key in enumerate(keys):
            yield f"\n{inner}{json.dumps(key, ensure_ascii=False)}: "
            yield from iter_json(value[key], inner)
            if position < len(keys) - 1:
                yield ","
        yield f"\n{pad}}}"
    elif isinstance(value, Lazy):
        inner = pad + INDENT
        first = True
        for item in value.items:
            yield ("[\n" if first else ",\n") + inner
            yield from iter_json(item, inner)
            first = False
        yield "[]" if first else f"\n{pad}]"
    else:
        yield _dump(value, pad)


def _has_lazy(value: dict[str, Any] | list[Any]) -> bool:
    items = value.values() if isinstance(value, dict) else value
    return any(isinstance(item, Lazy) or (isinstance(item, dict | list) and _has_lazy(item))
               for item in items)


def lazy_map(function: Callable[[Any], Any], items: Iterable[Any]) -> Lazy:
    """A :class:`Lazy` array of ``function(item)`` for each item."""
    return Lazy(function(item) for item in items)
