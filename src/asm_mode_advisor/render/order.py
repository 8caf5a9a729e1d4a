"""Sorting many report items by several fields without a key tuple per item."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")


def sort_by(items: list[T], *keys: Callable[[T], Any]) -> None:
    """Sort ``items`` in place by ``keys``, most significant first.

    One stable pass per key, least significant first, gives the order of a tuple key. Each
    key returns a value the item already holds, so a long list needs no new object per
    item (a finding per line of a big report would otherwise get a tuple each).
    """
    for key in reversed(keys):
        items.sort(key=key)
