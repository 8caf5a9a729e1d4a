"""Cost and latency estimates: sidecars per pod against ztunnel per node plus waypoints.

Rows: M-COST and M-UTILIZATION (who pays for proxies), M-LATENCY (ms per hop class) and
M-L7PARSING (L7 parses per request). Figures are resource *requests*, as a scheduler sees them.
"""

from __future__ import annotations

import math
import re
from typing import Literal

from asm_mode_advisor.domain import INJECTION_LABEL
from asm_mode_advisor.inventory import Inventory, Workload
from asm_mode_advisor.matrix import L7_PARSES, LATENCY_MS
from asm_mode_advisor.model import as_bool, as_dict, as_int
from asm_mode_advisor.plan.model import (
    Assumptions,
    Latency,
    NamespaceEstimate,
    PlannedWaypoint,
    ProxyRequests,
    Totals,
    WorkloadProxy,
)

ROWS = ["M-COST", "M-UTILIZATION", "M-LATENCY", "M-L7PARSING"]
CPU_ANNOTATION = "sidecar.istio.io/proxyCPU"
MEMORY_ANNOTATION = "sidecar.istio.io/proxyMemory"
INJECT_KEY = "sidecar.istio.io/inject"
#: Requests of the ztunnel chart's DaemonSet (one pod per node).
ZTUNNEL_CPU = "200m"
ZTUNNEL_MEMORY = "512Mi"
WAYPOINT_REPLICAS = 1

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$")
_MEMORY_UNITS = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                 "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def parse_cpu(text: str) -> int | None:
    """Millicores of a CPU quantity (``100m``, ``0.5``, ``2``), or None."""
    match = _QUANTITY.match(text.strip())
    if match is None or match.group(2) not in ("", "m"):
        return None
    value = float(match.group(1))
    return math.ceil(value if match.group(2) == "m" else value * 1000)


def parse_memory(text: str) -> int | None:
    """MiB (rounded up) of a memory quantity (``128Mi``, ``1Gi``, ``500M``), or None."""
    match = _QUANTITY.match(text.strip())
    if match is None or match.group(2) not in _MEMORY_UNITS:
        return None
    return math.ceil(float(match.group(1)) * _MEMORY_UNITS[match.group(2)] / 2**20)


def requests(cpu: str, memory: str) -> ProxyRequests | None:
    """Requests from two quantities, or None when either does not parse."""
    cpu_m, memory_mib = parse_cpu(cpu), parse_memory(memory)
    if cpu_m is None or memory_mib is None:
        return None
    return ProxyRequests(cpu_millicores=cpu_m, memory_mib=memory_mib)


def replicas(workload: Workload, nodes: int) -> int:
    """Pods a workload runs: replicas, one per node for a DaemonSet, parallelism for Jobs."""
    resource = workload.resource
    spec = resource.spec
    if resource.kind == "DaemonSet":
        return nodes
    if resource.kind == "Pod":
        return 1
    if resource.kind == "CronJob":
        spec = as_dict(as_dict(spec.get("jobTemplate")).get("spec"))
    key = "parallelism" if resource.kind in ("Job", "CronJob") else "replicas"
    found = as_int(spec.get(key))
    return 1 if found is None else found


def gets_sidecar(workload: Workload, namespace_labels: dict[str, str]) -> bool:
    """False for pods a sidecar never joins: host network, or injection turned off."""
    if as_bool(workload.pod_spec.get("hostNetwork")):
        return False
    inject = workload.pod_labels.get(INJECT_KEY) or workload.pod_annotations.get(INJECT_KEY)
    if inject is not None and inject.lower() == "false":
        return False
    return namespace_labels.get(INJECTION_LABEL) != "disabled" or (
        inject is not None and inject.lower() == "true")


def workload_proxy(workload: Workload, assumptions: Assumptions) -> WorkloadProxy:
    """Sidecar requests of one workload from its annotations or the mesh defaults."""
    annotations = workload.pod_annotations
    cpu = parse_cpu(annotations.get(CPU_ANNOTATION, ""))
    memory = parse_memory(annotations.get(MEMORY_ANNOTATION, ""))
    per_pod = ProxyRequests(
        cpu_millicores=assumptions.sidecar.cpu_millicores if cpu is None else cpu,
        memory_mib=assumptions.sidecar.memory_mib if memory is None else memory)
    count = replicas(workload, assumptions.nodes)
    source: Literal["annotations", "defaults", "annotations+defaults"] = (
        "defaults" if cpu is None and memory is None else
        "annotations" if cpu is not None and memory is not None else "annotations+defaults")
    return WorkloadProxy(workload=f"{workload.resource.kind}/{workload.resource.name}",
                         replicas=count, per_pod=per_pod, total=per_pod.times(count),
                         source=source)


def latency(recommendation: str, services: list[str],
            waypoints: list[PlannedWaypoint]) -> list[Latency]:
    """Hop classes after the move: through a waypoint, or ztunnel only (M-LATENCY)."""
    if recommendation == "ambient":
        through: set[str] = set()
    elif any(w.bound_by == "namespace" for w in waypoints):
        through = set(services)
    else:
        through = {s for w in waypoints for s in w.services}
    classes: list[tuple[Literal["ambient", "ambient-waypoint"], list[str]]] = [
        ("ambient-waypoint", sorted(through)), ("ambient", sorted(set(services) - through))]
    return [Latency(hop=hop, services=names, before_ms=LATENCY_MS["sidecar"],
                    after_ms=LATENCY_MS[hop], l7_parses_before=L7_PARSES["sidecar"],
                    l7_parses_after=L7_PARSES[hop])
            for hop, names in classes if names or (hop == recommendation and not services)]


def namespace_estimate(inventory: Inventory, namespace: str, recommendation: str,
                       waypoints: list[PlannedWaypoint],
                       assumptions: Assumptions) -> NamespaceEstimate:
    """Sidecar requests of every workload against the waypoints the plan deploys."""
    labels = inventory.namespace_labels(namespace)
    proxies = [workload_proxy(w, assumptions) for w in inventory.workloads(namespace)
               if gets_sidecar(w, labels)]
    proxies.sort(key=lambda p: p.workload)
    sidecars = sum((p.total for p in proxies), ProxyRequests())
    waypoint_cost = assumptions.waypoint.times(assumptions.waypoint_replicas * len(waypoints))
    services = sorted(s.name for s in inventory.services(namespace))
    return NamespaceEstimate(sidecars=sidecars, waypoints=waypoint_cost, workloads=proxies,
                             latency=latency(recommendation, services, waypoints), rows=ROWS)


def totals(estimates: list[NamespaceEstimate], assumptions: Assumptions) -> Totals:
    """Sums over the planned namespaces; ztunnel is counted once per node, shared by all."""
    sidecar_mode = sum((e.sidecars for e in estimates), ProxyRequests())
    waypoints = sum((e.waypoints for e in estimates), ProxyRequests())
    ztunnel = assumptions.ztunnel.times(assumptions.nodes) if estimates else ProxyRequests()
    ambient_mode = ztunnel + waypoints
    return Totals(sidecar_mode=sidecar_mode, ztunnel=ztunnel, waypoints=waypoints,
                  ambient_mode=ambient_mode, change=ambient_mode - sidecar_mode, rows=ROWS)
