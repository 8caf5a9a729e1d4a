"""The traffic graph: namespaces (and workloads where known) and the calls between them.

Calls come from two sources: the manifests (always) and Prometheus (when asked). Each call
says where it came from; calls between the same pair merge, a measured rate winning over none.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Literal

#: What a call carries; ``tcp`` also stands for anything that is not HTTP or gRPC.
Protocol = Literal["http", "grpc", "tcp"]
#: Where a call was learnt: Istio's metrics, or the manifests.
Origin = Literal["metrics", "manifests"]
#: How a manifest call was found (a metrics call has none).
Clue = Literal["address", "route", "ingress", "authorization", "network-policy", ""]

_PROTOCOL_ORDER: dict[str, int] = {"grpc": 0, "http": 1, "tcp": 2}


@dataclass(frozen=True, slots=True)
class Call:
    """One caller to one destination service, with its protocol and, if measured, rates."""

    source_namespace: str
    destination_namespace: str
    destination_service: str = ""  # "" when only the namespace is known (policy peers)
    source_workload: str = ""
    protocol: Protocol = "tcp"
    origin: Origin = "manifests"
    clue: Clue = ""
    requests_per_second: float | None = None
    connections_per_second: float | None = None
    #: Response flags Istio reported on the calls (``FI`` and ``DI``: fault injection).
    response_flags: tuple[str, ...] = ()

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What identifies a call regardless of source and protocol."""
        return (self.source_namespace, self.source_workload, self.destination_namespace,
                self.destination_service)

    @property
    def crosses_namespaces(self) -> bool:
        """True when caller and callee sit in different namespaces."""
        return self.source_namespace != self.destination_namespace


@dataclass
class Graph:
    """Every call found in one run, indexed by namespace on both ends."""

    calls: list[Call] = field(default_factory=list)
    #: The calls sorted and grouped by either end, worked out once; ``add`` and ``compact``
    #: reset them.
    _sorted: list[Call] | None = field(default=None, repr=False, compare=False)
    _groups: dict[bool, dict[str, list[Call]]] = field(default_factory=dict, repr=False,
                                                       compare=False)

    def _changed(self) -> None:
        self._sorted = None
        self._groups = {}

    def add(self, calls: Iterable[Call]) -> None:
        """Merge ``calls`` in: one call per key, metrics winning over manifests."""
        self._changed()
        index = {c.key: i for i, c in enumerate(self.calls)}
        for call in calls:
            key = call.key
            found = index.get(key)
            if found is None:
                index[key] = len(self.calls)
                self.calls.append(call)
            else:
                self.calls[found] = merged(self.calls[found], call)

    def compact(self) -> None:
        """Drop namespace-level calls (policy peers) that a more precise call covers.

        ``web -> shop`` from an AuthorizationPolicy says less than ``web/frontend ->
        shop/cart`` from an address or the metrics, and would list the caller twice.
        """
        self._changed()
        precise = {(c.source_namespace, c.destination_namespace) for c in self.calls
                   if c.destination_service or c.source_workload}
        self.calls = [c for c in self.calls if c.destination_service or c.source_workload
                      or (c.source_namespace, c.destination_namespace) not in precise]

    def sorted_calls(self) -> list[Call]:
        """Calls in a stable order (for output); the list is shared: do not change it."""
        if self._sorted is None or len(self._sorted) != len(self.calls):
            self._sorted = sorted(self.calls, key=_order)
        return self._sorted

    def by_destination(self) -> dict[str, list[Call]]:
        """Calls grouped by destination namespace (all of them, in stable order; shared)."""
        return self._grouped(by_destination=True)

    def by_source(self) -> dict[str, list[Call]]:
        """Calls grouped by calling namespace (all of them, in stable order; shared)."""
        return self._grouped(by_destination=False)

    def _grouped(self, by_destination: bool) -> dict[str, list[Call]]:
        found = self._groups.get(by_destination)
        if found is None:
            grouped: dict[str, list[Call]] = defaultdict(list)
            for call in self.sorted_calls():
                key = call.destination_namespace if by_destination else call.source_namespace
                grouped[key].append(call)
            found = self._groups[by_destination] = dict(grouped)
        return found

    def namespaces(self) -> Iterator[str]:
        """Every namespace on either end of a call, sorted."""
        yield from sorted({c.source_namespace for c in self.calls}
                          | {c.destination_namespace for c in self.calls})


def merged(old: Call, new: Call) -> Call:
    """One call from two reports of it: measured figures win; flags join.

    The protocol is the most specific either report knows (gRPC, then HTTP, then TCP): Istio
    reports HTTP calls in ``istio_requests_total`` and ztunnel the same calls as TCP.
    """
    first, second = (new, old) if new.origin == "metrics" and old.origin != "metrics" else (
        old, new)
    protocol = min((first.protocol, second.protocol), key=lambda p: _PROTOCOL_ORDER[p])
    return replace(
        first, protocol=protocol,
        requests_per_second=_sum(first, second, "requests_per_second"),
        connections_per_second=_sum(first, second, "connections_per_second"),
        response_flags=tuple(sorted(set(first.response_flags) | set(second.response_flags))),
        clue=first.clue or second.clue)


def _sum(first: Call, second: Call, name: str) -> float | None:
    """Rates add when both come from metrics (two reporters' series); else the measured one."""
    a: float | None = getattr(first, name)
    b: float | None = getattr(second, name)
    if a is None or b is None:
        return a if b is None else b
    if first.origin == second.origin == "metrics":
        return float(max(a, b))  # the same calls seen by two reporters: never double them
    return float(a)


def _order(call: Call) -> tuple[str, str, str, str, int, str]:
    return (call.destination_namespace, call.destination_service, call.source_namespace,
            call.source_workload, _PROTOCOL_ORDER.get(call.protocol, 9), call.origin)


#: Where a run's calls came from: measured, read off the manifests, or nothing known.
Evidence = Literal["metrics", "manifests", "none"]


@dataclass
class TrafficEvidence:
    """The graph of one run and where it came from (handed to the rules in their context)."""

    graph: Graph = field(default_factory=Graph)
    #: "metrics" when Prometheus answered; "manifests" otherwise.
    evidence: Evidence = "manifests"
    window: str = ""  # the metrics window, e.g. ``7d`` (with metrics only)
    prometheus: str = ""  # the URL it came from, without credentials (with metrics only)
    #: Why Prometheus could not be used, when it was asked for (one line).
    problem: str = ""

    @property
    def measured(self) -> bool:
        """True when Prometheus answered: rates and absences mean something."""
        return self.evidence == "metrics"
