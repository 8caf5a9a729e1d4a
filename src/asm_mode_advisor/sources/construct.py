"""A fast path from libyaml nodes to Python data, for the plain YAML manifests are made of.

PyYAML's constructor is general (recursive objects, merge keys, custom tags) and pays for it on
every node. Manifests use none of that, so :func:`build` turns a node tree straight into
dicts, lists and scalars, reusing the safe constructor only for non-string scalars. Anything
unusual (a merge key, a collection tag, a key that is not a string, a duplicate key, deep
nesting) raises :class:`Unusual` and the caller constructs that document the standard way, so
results and messages stay exactly those of the standard constructor. Strings are interned:
keys and most values repeat across thousands of manifests, so each is kept once (20% of
peak memory at 50k documents; docs/performance.md, "What each memory trick is worth").
"""

from __future__ import annotations

from functools import lru_cache
from sys import intern
from typing import Any

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.resolver import BaseResolver

STR_TAG = "tag:yaml.org,2002:str"
MAP_TAG = "tag:yaml.org,2002:map"
SEQ_TAG = "tag:yaml.org,2002:seq"
#: Scalar tags whose safe constructors return a value directly (no generator, no recursion).
SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{name}" for name in (
    "null", "bool", "int", "float", "timestamp", "binary"))
#: How many plain scalars' tags are remembered (keys, names, numbers repeat across a corpus).
TAG_CACHE_SIZE = 200_000


class Unusual(Exception):
    """The document needs the standard constructor."""


def resolve_scalar(resolver: BaseResolver, value: str, implicit: tuple[bool, bool]) -> str:
    """The tag of a scalar, as ``BaseResolver.resolve`` gives it, remembered for plain values.

    Only valid for resolvers without path resolvers (the safe loaders have none).
    """
    if not implicit[0]:
        return STR_TAG
    return _plain_tag(type(resolver), value)  # type: ignore[arg-type]  # classes hash


@lru_cache(maxsize=TAG_CACHE_SIZE)
def _plain_tag(resolver: type, value: str) -> str:
    """The implicit tag of a plain scalar: a function of the resolver class and text alone.

    So the cache holds nothing of a run but tags any run would compute alike. Matching
    every implicit resolver's pattern is the costliest step of constructing a scalar: the
    cache saves 14-24% of ``analyze``'s CPU time at 10k-50k documents.
    """
    # The class stands in for an instance: without path resolvers none of its state is read.
    tag = BaseResolver.resolve(resolver, ScalarNode, value, (True, False))  # type: ignore[arg-type, no-untyped-call]
    return str(tag)


def build(node: Node, constructors: dict[str, Any], loader: object) -> Any:
    """Python data of ``node``; raises :class:`Unusual` for anything but plain YAML."""
    if isinstance(node, ScalarNode):
        tag = node.tag
        if tag == STR_TAG:
            return intern(node.value)
        if tag in SCALAR_TAGS:
            return constructors[tag](loader, node)
        raise Unusual(tag)
    if isinstance(node, MappingNode):
        if node.tag != MAP_TAG:
            raise Unusual(node.tag)
        mapping: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag != STR_TAG or not isinstance(key_node, ScalarNode):
                raise Unusual("key")
            key = intern(key_node.value)
            if key in mapping or key == "<<":
                raise Unusual("duplicate")
            mapping[key] = build(value_node, constructors, loader)
        return mapping
    if isinstance(node, SequenceNode) and node.tag == SEQ_TAG:
        return [build(item, constructors, loader) for item in node.value]
    raise Unusual(node.tag)
