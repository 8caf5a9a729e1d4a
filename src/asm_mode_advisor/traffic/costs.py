"""Proxy cost from traffic: Istio's published figures per 1,000 requests per second.

Istio 1.24's load tests (1 KB HTTP requests, proxies with 2 worker threads) measured, per
1,000 requests per second through one proxy: a sidecar about 0.20 vCPU and 60 MB, a
waypoint about 0.25 vCPU and 60 MB, and a ztunnel about 0.06 vCPU and 12 MB
(https://istio.io/latest/docs/ops/deployment/performance-and-scalability/). A call passes the
caller's and the callee's proxy: two sidecars in sidecar mode, two ztunnels in ambient, plus
the destination's waypoint when it has one. These figures stand beside the seed's per-pod
requests (M-COST), never instead of them: they scale with load, the requests with pods.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from asm_mode_advisor.traffic.graph import Call, Graph

SOURCE = "https://istio.io/latest/docs/ops/deployment/performance-and-scalability/"


@dataclass(frozen=True)
class PerThousand:
    """One proxy's cost per 1,000 requests per second."""

    vcpu: float
    memory_mb: float


#: Istio 1.24's figures, by proxy (see :data:`SOURCE`).
FIGURES: dict[str, PerThousand] = {
    "sidecar": PerThousand(vcpu=0.20, memory_mb=60),
    "waypoint": PerThousand(vcpu=0.25, memory_mb=60),
    "ztunnel": PerThousand(vcpu=0.06, memory_mb=12),
}


@dataclass(frozen=True)
class TrafficCost:
    """Proxy CPU (millicores) and memory (MB) that a namespace's traffic costs in one mode."""

    cpu_millicores: int
    memory_mb: int

    def line(self) -> str:
        """``80m CPU, 24 MB`` for text formats."""
        return f"{self.cpu_millicores}m CPU, {self.memory_mb} MB"


def traffic_cost(mode: str, inbound_rps: float, outbound_rps: float) -> TrafficCost:
    """What the proxies on a namespace's side of its calls cost in ``mode``.

    Inbound calls pass the namespace's server-side proxy (and its waypoint, in
    ``ambient-waypoint``), outbound ones its client-side proxy; the other end is counted in
    the other namespace, so estates add up without counting a proxy twice.
    """
    thousands = max(inbound_rps, 0.0) / 1000, max(outbound_rps, 0.0) / 1000
    through = thousands[0] + thousands[1]
    if mode == "sidecar":
        cpu, memory = FIGURES["sidecar"].vcpu * through, FIGURES["sidecar"].memory_mb * through
    else:
        cpu = FIGURES["ztunnel"].vcpu * through
        memory = FIGURES["ztunnel"].memory_mb * through
        if mode == "ambient-waypoint":
            cpu += FIGURES["waypoint"].vcpu * thousands[0]
            memory += FIGURES["waypoint"].memory_mb * thousands[0]
    return TrafficCost(cpu_millicores=round(cpu * 1000), memory_mb=round(memory))


def measured_rate(calls: Iterable[Call]) -> float:
    """Measured requests per second of ``calls`` (calls learnt from manifests have none)."""
    return sum(call.requests_per_second or 0.0 for call in calls if call.origin == "metrics")


def load_line(graph: Graph, namespace: str, mode: str) -> str | None:
    """What the measured load costs in proxies on sidecars and in ``mode``; None unmeasured.

    A call inside the namespace passes its proxies twice (out and in), so it counts both ways.
    """
    inbound = measured_rate(graph.by_destination().get(namespace, ()))
    outbound = measured_rate(graph.by_source().get(namespace, ()))
    if not inbound and not outbound:
        return None
    sidecar = traffic_cost("sidecar", inbound, outbound)
    moved = traffic_cost(mode, inbound, outbound)
    return (f"at the measured load ({inbound:.1f} rps in, {outbound:.1f} rps out) the proxies "
            f"need about {sidecar.line()} on sidecars and {moved.line()} in {mode} (Istio "
            f"1.24 load-test figures per 1,000 rps: {SOURCE})")
