"""Drop the parts of object bodies no rule reads, as each object is read.

Parsed YAML costs about ten times its text in Python objects, and most of a manifest is
bulk no rule looks at: container environments, resources, probes and volumes, ConfigMap
data, CRD schemas, Secret data, server-side status. ``analyze`` and ``scan`` slim every body
right after it is validated, so the peak memory of a run follows what the rules need, not
what the files hold; Secret data is never kept. ``plan`` keeps whole bodies because it
writes manifests back.

What stays is derived, never listed here: the fields each rule declares in ``Rule.reads``
plus the ones the inventory reads (``views.CORE_READS``). A rule that reads a new field, or a
new kind, declares it and slimming follows; ``tests/test_slim.py`` fails when a rule reads a
field no declaration keeps, and checks that slimming changes no report on the examples, the
rules' own examples and the shared corpus.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

from asm_mode_advisor.kinds import EACH_ITEM, WORKLOAD_KINDS, parse_read, pod_template_path
from asm_mode_advisor.traffic.addresses import DIGESTED, digest_container
from asm_mode_advisor.views import CORE_READS

#: What to keep of a body: field name (or :data:`EACH_ITEM`) to what to keep below it, where
#: None keeps the whole value. Read-only: one is shared by every body of a kind.
KeepTree = Mapping[Any, Any]


def keep_trees(reads: Iterable[str]) -> Mapping[str, KeepTree]:
    """Kind to what to keep of its bodies, from field reads (``Kind:path``); see ``Rule.reads``.

    A path keeps its whole value, and a shorter path wins over a longer one below it.
    """
    trees: dict[str, dict[Any, Any]] = {}
    for read in reads:
        kind, steps = parse_read(read)
        node = trees.setdefault(kind, {})
        for step in steps[:-1]:
            if step in node and node[step] is None:
                break  # an enclosing value is already kept whole
            node = node.setdefault(step, {})
        else:
            node[steps[-1]] = None
    return _frozen(trees)


def _frozen(tree: dict[Any, Any]) -> KeepTree:
    return MappingProxyType({key: None if below is None else _frozen(below)
                             for key, below in tree.items()})


@lru_cache(maxsize=4)
def _trees_of(registry_id: int) -> tuple[tuple[Any, ...], Mapping[str, KeepTree]]:
    """The registry (to tell a reused id) and the trees of its reads and the core reads."""
    from asm_mode_advisor import rules  # here: the registry sits a layer above the sources

    registry = rules.ALL_RULES
    assert id(registry) == registry_id
    return registry, keep_trees((*CORE_READS, *(read for rule in registry for read in rule.reads)))


def registry_keep_trees() -> Mapping[str, KeepTree]:
    """:func:`keep_trees` of the registered rules' reads and the core reads (derived once).

    The registry is looked up on every call (by identity: hashing every Rule per body
    would cost more than the slimming), so a rule added to it is kept for at once.
    """
    from asm_mode_advisor import rules  # here: the registry sits a layer above the sources

    registry = rules.ALL_RULES
    held, trees = _trees_of(id(registry))
    if held is not registry:  # an earlier registry's id, reused: derive again
        _trees_of.cache_clear()
        held, trees = _trees_of(id(registry))
    return trees


def slim(kind: str, body: dict[str, Any]) -> str | None:
    """Drop, in place, what no declared read of ``kind`` keeps of ``body``.

    Rules read an object's identity, labels and annotations from the Resource, so a kind
    no rule reads keeps no body at all. A workload's env values, args and command leave the
    body too: what is returned is the addresses in them (``Resource.addresses``), or None.
    """
    tree = registry_keep_trees().get(kind)
    if tree is None:
        body.clear()
        return None
    prune(body, tree)
    if kind not in WORKLOAD_KINDS or _rules_read_container_text():
        return None
    return digest_pod_template(kind, body)


def _rules_read_container_text() -> bool:
    """True when a registered rule itself reads env, args or command: they stay raw then."""
    from asm_mode_advisor import rules  # here: the registry sits a layer above the sources

    registry = rules.ALL_RULES
    held, answer = _READS_DIGESTED
    if held is not registry:  # by identity, as registry_keep_trees: never hash the rules
        answer = any(step in DIGESTED for rule in registry for read in rule.reads
                     if parse_read(read)[0] in WORKLOAD_KINDS for step in parse_read(read)[1])
        _READS_DIGESTED[:] = [registry, answer]
    return bool(answer)


#: ``[registry, whether its rules read env/args/command]`` for the registry last seen.
_READS_DIGESTED: list[Any] = [None, False]


def digest_pod_template(kind: str, body: dict[str, Any]) -> str | None:
    """Take the containers' env values, args and command; return the addresses in them.

    The traffic graph reads only those (``traffic/addresses.py``): the rest of each value (a
    password, a config blob) is dropped as it is read, and the pod template, which holds
    nothing of one namespace any more, stays shareable between objects (``sharing.py``).
    """
    template: Any = body
    for key in (*pod_template_path(kind), "spec"):
        template = template.get(key) if template.__class__ is dict else None
    if template.__class__ is not dict:
        return None
    found: list[str] = []
    for key in ("containers", "initContainers"):
        containers = template.get(key)
        if containers.__class__ is list:
            for container in containers:
                if container.__class__ is dict:
                    found += digest_container(container)
    return " ".join(found) if found else None


def prune(node: dict[Any, Any], tree: KeepTree) -> None:
    """Keep, in place, only what ``tree`` names of the mapping ``node``.

    A value of another shape than the tree's (a list where a mapping belongs) is left as it
    is: validation already reported it, and the rules read it defensively. A mapping
    emptied by pruning goes too, as an absent field reads the same.
    """
    for key in [key for key in node if key not in tree]:
        del node[key]
    for key, below in tree.items():
        if below is None:
            continue  # kept whole
        child = node.get(key)
        if child.__class__ is dict:
            if child:
                prune(child, below)
                if not child:
                    del node[key]
        elif child.__class__ is list:
            items = below.get(EACH_ITEM)
            if items is not None:
                for item in child:
                    if item.__class__ is dict:
                        prune(item, items)
