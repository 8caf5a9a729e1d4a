"""Equal structures of one read kept once: slimmed bodies repeat across namespaces.

Once slimmed (``slim.py``), one chart's Deployment in every namespace differs only in its
metadata, which the Resource holds, and an app's labels are its selector, its template
labels and its Service selector. Each read owns a :class:`Sharing` table and drops it with
the read, so nothing outlives a run and no run sees another's structures.
"""

from __future__ import annotations

from typing import Any

_ATOMS = (str, int, float, bool, type(None))

#: Structures nested deeper than this are left unshared (no manifest needs more, and the
#: walk is recursive).
MAX_SHARE_DEPTH = 64


class Sharing:
    """The structures one read has kept so far, by hash (see :func:`share`).

    Worth about 40% of peak memory at 50k documents (docs/performance.md, "What each
    memory trick is worth"): without it, every namespace keeps its own copy of each body.
    """

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: dict[int, Any] = {}

    def body(self, body: dict[str, Any]) -> dict[str, Any]:
        """The equal body this read kept before, if any, else ``body`` (its parts shared)."""
        shared: dict[str, Any] = share(body, self._seen)
        return shared

    def labels(self, mapping: dict[str, str]) -> dict[str, str]:
        """The equal labels or annotations this read kept before, if any, else ``mapping``.

        An app's labels repeat in every namespace it is deployed to, and most objects have
        no annotations: each map, the empty one too, is kept once per read (9% of peak
        memory at 50k documents, docs/performance.md).
        """
        shared: dict[str, str] = share(mapping, self._seen)
        return shared


def share(value: Any, table: dict[int, Any], depth: int = 0) -> Any:
    """``value`` with equal mappings and lists replaced by one shared copy (bottom-up).

    ``table`` maps a structure's hash to its first copy; a copy is only shared when the two
    are really alike (same keys in the same order, same types), so ``1`` never stands in
    for ``True``. Shared structures must not be changed afterwards; nothing in analysis
    writes to bodies.
    """
    if depth > MAX_SHARE_DEPTH:
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list):
                value[key] = share(item, table, depth + 1)
        signature = hash(("m", *((key, item.__class__, item) if isinstance(item, _ATOMS)
                                 else (key, id(item)) for key, item in value.items())))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                value[index] = share(item, table, depth + 1)
        signature = hash(("s", *((item.__class__, item) if isinstance(item, _ATOMS)
                                 else id(item) for item in value)))
    else:
        return value
    found = table.get(signature)
    if found is None:
        table[signature] = value
        return value
    return found if _alike(found, value) else value


def _alike(first: Any, second: Any) -> bool:
    """Equal with the same types and key order; children compared by identity (shared)."""
    if first.__class__ is not second.__class__ or len(first) != len(second):
        return False
    pairs = (zip(first.items(), second.items(), strict=True) if isinstance(first, dict)
             else (((0, a), (0, b)) for a, b in zip(first, second, strict=True)))
    for (key_a, a), (key_b, b) in pairs:
        if key_a != key_b or key_a.__class__ is not key_b.__class__:
            return False
        if a is b:
            continue
        if not isinstance(a, _ATOMS) or a.__class__ is not b.__class__ or a != b:
            return False
    return True
