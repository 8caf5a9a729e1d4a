"""Waves for the move: callers of a waypoint namespace move before it, or with it.

A client still on sidecars skips the destination's waypoint, so the destination's L7 policy
does not apply to its calls (istio/istio#57213; the migration guide does not support
zero-downtime migration with L7 policies). So a caller must not move *after* the namespace
whose waypoint it calls: it moves in an earlier wave, or in the same one when the two call
each other (a cycle), which the plan says.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Waves:
    """Namespaces in the order they move, and the pairs only a shared wave could order."""

    waves: tuple[tuple[str, ...], ...]
    #: ``(caller, callee)`` pairs that call each other round a cycle: they move together.
    together: tuple[tuple[str, str], ...] = field(default=())

    def wave_of(self, namespace: str) -> int:
        """1-based wave of a namespace (0 when it does not move)."""
        for number, names in enumerate(self.waves, start=1):
            if namespace in names:
                return number
        return 0


def order(namespaces: Iterable[str], before: Iterable[tuple[str, str]]) -> Waves:
    """Waves for ``namespaces``; ``(caller, callee)`` in ``before``: the caller moves first.

    The caller moves in an earlier wave than the callee, or in the same one when they share a
    cycle. Pairs naming a namespace outside ``namespaces`` are ignored: it does not move.
    """
    names = sorted(set(namespaces))
    known = set(names)
    edges: dict[str, set[str]] = defaultdict(set)
    for caller, callee in before:
        if caller in known and callee in known and caller != callee:
            edges[caller].add(callee)
    component = _components(names, edges)
    members: dict[int, list[str]] = defaultdict(list)
    for name in names:
        members[component[name]].append(name)
    # The condensation's longest path from a source gives each component its wave.
    incoming: dict[int, set[int]] = defaultdict(set)
    for caller, callees in edges.items():
        for callee in callees:
            if component[caller] != component[callee]:
                incoming[component[callee]].add(component[caller])
    depth: dict[int, int] = {}
    for comp in sorted(members, key=lambda c: min(members[c])):
        _depth(comp, incoming, depth)
    grouped: dict[int, list[str]] = defaultdict(list)
    for comp, names_in in members.items():
        grouped[depth[comp]].extend(names_in)
    together = sorted((caller, callee) for caller, callees in edges.items() for callee in callees
                      if component[caller] == component[callee])
    return Waves(waves=tuple(tuple(sorted(grouped[d])) for d in sorted(grouped)),
                 together=tuple(together))


def _depth(start: int, incoming: dict[int, set[int]], depth: dict[int, int]) -> int:
    """Longest path to ``start`` from a component with no callers (iterative: no recursion)."""
    stack = [start]
    while stack:
        comp = stack[-1]
        if comp in depth:
            stack.pop()
            continue
        waiting = [p for p in incoming.get(comp, ()) if p not in depth]
        if waiting:
            stack.extend(sorted(waiting))
            continue
        depth[comp] = 1 + max((depth[p] for p in incoming.get(comp, ())), default=0)
        stack.pop()
    return depth[start]


def _components(names: list[str], edges: dict[str, set[str]]) -> dict[str, int]:
    """Strongly connected components (Tarjan's algorithm, iteratively), numbered from 0."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    component: dict[str, int] = {}
    counter = found = 0
    for root in names:
        if root in index:
            continue
        work: list[tuple[str, list[str]]] = [(root, sorted(edges.get(root, ())))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, pending = work[-1]
            if pending:
                nxt = pending.pop()
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, sorted(edges.get(nxt, ()))))
                elif nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component[member] = found
                    if member == node:
                        break
                found += 1
    return component
