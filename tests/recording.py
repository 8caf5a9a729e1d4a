"""Bodies that write down every field read of them, to check reads against declarations."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import replace
from typing import Any

from asm_mode_advisor.kinds import EACH_ITEM
from asm_mode_advisor.model import Resource

#: A field read: kind and path steps (``EACH_ITEM`` for "an item of this list").
Read = tuple[str, tuple[str, ...]]


class RecordingDict(dict[Any, Any]):
    """A mapping that adds ``(kind, path of key)`` to ``log`` whenever a key is looked at."""

    def __init__(self, data: dict[Any, Any], kind: str, path: tuple[str, ...],
                 log: set[Read]) -> None:
        super().__init__((key, record(value, kind, (*path, str(key)), log))
                         for key, value in data.items())
        self._where = (kind, path, log)

    def _saw(self, key: object) -> None:
        kind, path, log = self._where
        log.add((kind, (*path, str(key))))

    def get(self, key: Any, default: Any = None) -> Any:
        self._saw(key)
        return super().get(key, default)

    def __getitem__(self, key: Any) -> Any:
        self._saw(key)
        return super().__getitem__(key)

    def __contains__(self, key: object) -> bool:
        self._saw(key)
        return super().__contains__(key)

    def __iter__(self) -> Iterator[Any]:
        for key in super().__iter__():
            self._saw(key)
            yield key

    def keys(self) -> Any:
        return list(self)

    def items(self) -> Any:
        return [(key, super(RecordingDict, self).__getitem__(key)) for key in self]

    def values(self) -> Any:
        return [value for _, value in self.items()]


def record(value: Any, kind: str, path: tuple[str, ...], log: set[Read]) -> Any:
    """``value`` with every mapping in it recording its reads (list items under EACH_ITEM)."""
    if isinstance(value, dict):
        return RecordingDict(value, kind, path, log)
    if isinstance(value, list):
        return [record(item, kind, (*path, EACH_ITEM), log) for item in value]
    return value


def recording(resources: list[Resource], log: set[Read]) -> list[Resource]:
    """Copies of ``resources`` whose bodies record their reads into ``log``."""
    return [replace(r, body=RecordingDict(r.body, r.kind, (), log)) for r in resources]


def kept(read: Read, trees: Mapping[str, Any]) -> bool:
    """True when slimming with ``trees`` keeps the field ``read`` looks at.

    A read of a mapping on the way to a kept field (``spec.template``) counts as kept.
    """
    kind, path = read
    node = trees.get(kind)
    if node is None:
        return False
    for step in path:
        if node is None:
            return True  # an enclosing value is kept whole
        if step not in node:
            return False
        node = node[step]
    return True
