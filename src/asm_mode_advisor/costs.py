"""Proxy cost of a namespace (M-COST): a sidecar in every pod against ztunnel and waypoints.

The one estimator behind both the verdict's cost benefit and the plan's estimates, so
``analyze`` and ``plan`` never disagree on whether ambient costs less. Figures are resource
*requests*, as a scheduler sees them. Ztunnel runs one pod per node for every namespace that
moves, so each namespace recommended for ambient carries a share of it by its pods (all of it
when it moves alone); ``plan``'s totals count it once.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel

from asm_mode_advisor.domain import INJECT_KEY, INJECTION_LABEL, is_gateway_pod
from asm_mode_advisor.inventory import Inventory, Workload
from asm_mode_advisor.model import as_bool, as_dict, as_int

CPU_ANNOTATION = "sidecar.istio.io/proxyCPU"
MEMORY_ANNOTATION = "sidecar.istio.io/proxyMemory"
#: Istio's default sidecar requests (``global.proxy.resources``).
SIDECAR_CPU = "100m"
SIDECAR_MEMORY = "128Mi"
#: Requests of the ztunnel chart's DaemonSet (one pod per node).
ZTUNNEL_CPU = "200m"
ZTUNNEL_MEMORY = "512Mi"
WAYPOINT_REPLICAS = 1
#: Nodes assumed when the input does not say (``plan --nodes`` defaults to it too).
DEFAULT_NODES = 3

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$")
_MEMORY_UNITS = {"": 1, "k": 10**3, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
                 "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


class ProxyRequests(BaseModel):
    """CPU (millicores) and memory (MiB) requested by proxies."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True,
                              extra="forbid")

    cpu_millicores: int = 0
    memory_mib: int = 0

    def __add__(self, other: ProxyRequests) -> ProxyRequests:
        return ProxyRequests(cpu_millicores=self.cpu_millicores + other.cpu_millicores,
                             memory_mib=self.memory_mib + other.memory_mib)

    def __sub__(self, other: ProxyRequests) -> ProxyRequests:
        return ProxyRequests(cpu_millicores=self.cpu_millicores - other.cpu_millicores,
                             memory_mib=self.memory_mib - other.memory_mib)

    def times(self, count: int) -> ProxyRequests:
        """These requests ``count`` times over."""
        return ProxyRequests(cpu_millicores=self.cpu_millicores * count,
                             memory_mib=self.memory_mib * count)

    def text(self) -> str:
        """``300m CPU, 384Mi`` for messages."""
        return f"{self.cpu_millicores}m CPU, {self.memory_mib}Mi"


class WorkloadProxy(BaseModel):
    """The sidecars one workload runs: replicas times per-pod requests, and their origin."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True,
                              extra="forbid")

    workload: str
    replicas: int
    per_pod: ProxyRequests
    total: ProxyRequests
    source: Literal["annotations", "defaults", "annotations+defaults"]


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


@dataclass(frozen=True)
class CostBasis:
    """The figures an estimate rests on: per-proxy requests and the node count."""

    sidecar: ProxyRequests
    ztunnel: ProxyRequests
    waypoint: ProxyRequests
    waypoint_replicas: int = WAYPOINT_REPLICAS
    nodes: int = DEFAULT_NODES


def basis(nodes: int | None = None, sidecar_cpu: str = SIDECAR_CPU,
          sidecar_memory: str = SIDECAR_MEMORY) -> CostBasis:
    """Istio's default requests (a waypoint asks what a sidecar does) on ``nodes`` nodes.

    Raises:
        ValueError: a quantity does not parse.
    """
    sidecar = requests(sidecar_cpu, sidecar_memory)
    ztunnel = requests(ZTUNNEL_CPU, ZTUNNEL_MEMORY)
    if sidecar is None or ztunnel is None:
        raise ValueError(f"not a CPU/memory quantity: {sidecar_cpu!r} / {sidecar_memory!r}")
    return CostBasis(sidecar=sidecar, ztunnel=ztunnel, waypoint=sidecar,
                     nodes=nodes if nodes and nodes > 0 else DEFAULT_NODES)


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
    """False for pods a sidecar never joins (host network, injection off) and for gateways.

    A gateway's Envoy stays in either mode, so it is no sidecar that the move saves.
    """
    if as_bool(workload.pod_spec.get("hostNetwork")):
        return False
    if is_gateway_pod(workload.pod_labels, workload.pod_annotations):
        return False
    inject = workload.pod_labels.get(INJECT_KEY) or workload.pod_annotations.get(INJECT_KEY)
    if inject is not None and inject.lower() == "false":
        return False
    return namespace_labels.get(INJECTION_LABEL) != "disabled" or (
        inject is not None and inject.lower() == "true")


def workload_proxy(workload: Workload, cost: CostBasis) -> WorkloadProxy:
    """Sidecar requests of one workload from its annotations or the mesh defaults."""
    annotations = workload.pod_annotations
    cpu = parse_cpu(annotations.get(CPU_ANNOTATION, ""))
    memory = parse_memory(annotations.get(MEMORY_ANNOTATION, ""))
    per_pod = ProxyRequests(
        cpu_millicores=cost.sidecar.cpu_millicores if cpu is None else cpu,
        memory_mib=cost.sidecar.memory_mib if memory is None else memory)
    count = replicas(workload, cost.nodes)
    source: Literal["annotations", "defaults", "annotations+defaults"] = (
        "defaults" if cpu is None and memory is None else
        "annotations" if cpu is not None and memory is not None else "annotations+defaults")
    return WorkloadProxy(workload=f"{workload.resource.kind}/{workload.resource.name}",
                         replicas=count, per_pod=per_pod, total=per_pod.times(count),
                         source=source)


@dataclass(frozen=True)
class NamespaceCost:
    """Proxy requests of one namespace on sidecars, and its part of ambient's.

    Ztunnel runs once per node for every namespace that moves, so each moving namespace
    carries a share of it by its pods (``share``); a namespace that moves alone carries all.
    """

    proxies: tuple[WorkloadProxy, ...]
    sidecars: ProxyRequests
    waypoints: ProxyRequests
    waypoint_count: int
    ztunnel: ProxyRequests
    nodes: int
    share: Fraction = Fraction(1)

    @property
    def ambient(self) -> ProxyRequests:
        """Ztunnel on every node plus the namespace's waypoints."""
        return self.ztunnel + self.waypoints

    @property
    def direction(self) -> Literal["lower", "higher", "same", "mixed"]:
        """How ambient's requests compare with the sidecars' (CPU and memory together)."""
        change = self.ambient - self.sidecars
        cpu, memory = change.cpu_millicores, change.memory_mib
        if cpu == 0 and memory == 0:
            return "same"
        if cpu <= 0 and memory <= 0:
            return "lower"
        if cpu >= 0 and memory >= 0:
            return "higher"
        return "mixed"

    def line(self) -> str:
        """One sentence for the verdict's benefits and the plan: both print this one."""
        pods = sum(p.replicas for p in self.proxies)
        waypoints = (f" and {self.waypoint_count} waypoint(s)" if self.waypoint_count else "")
        part = "" if self.share == 1 else (
            f"its {_percent(self.share)} share, by pods, of ")
        how = f"{part}ztunnel on {self.nodes} node(s){waypoints}"
        figures = f"proxy requests {self.sidecars.text()} → {self.ambient.text()}"
        direction = self.direction
        if direction == "lower":
            return f"{figures}: {how} instead of a sidecar in each of {pods} pod(s)"
        if direction == "higher":
            return (f"ambient costs more here: {figures} ({how}, against a sidecar in "
                    f"each of {pods} pod(s))")
        if direction == "same":
            return (f"proxy requests {self.sidecars.text()} either way ({how}, against a "
                    f"sidecar in each of {pods} pod(s))")
        cpu_word = "less" if self.ambient.cpu_millicores < self.sidecars.cpu_millicores else (
            "more")
        memory_word = "more" if cpu_word == "less" else "less"
        return (f"{figures}: {cpu_word} CPU, {memory_word} memory ({how}, against a sidecar "
                f"in each of {pods} pod(s))")


def _proxies(inventory: Inventory, namespace: str, cost: CostBasis) -> list[WorkloadProxy]:
    labels = inventory.namespace_labels(namespace)
    return sorted((workload_proxy(w, cost) for w in inventory.workloads(namespace)
                   if gets_sidecar(w, labels)), key=lambda p: p.workload)


def ztunnel_shares(inventory: Inventory, moving: Iterable[str],
                   cost: CostBasis) -> dict[str, Fraction]:
    """Each moving namespace's share of ztunnel: its pods over all moving namespaces' pods.

    ``analyze`` and ``plan`` both pass every namespace recommended for ambient, so the two
    print the same line; with no pods at all, the namespaces share equally.
    """
    names = sorted(set(moving))
    pods = {name: sum(p.replicas for p in _proxies(inventory, name, cost)) for name in names}
    total = sum(pods.values())
    if total == 0:
        return {name: Fraction(1, len(names)) for name in names}
    return {name: Fraction(count, total) for name, count in pods.items()}


def namespace_cost(inventory: Inventory, namespace: str, waypoints: int,
                   cost: CostBasis, share: Fraction = Fraction(1)) -> NamespaceCost:
    """Sidecar requests of every workload against ``share`` of ztunnel and the waypoints."""
    proxies = _proxies(inventory, namespace, cost)
    ztunnel = cost.ztunnel.times(cost.nodes)
    return NamespaceCost(
        proxies=tuple(proxies), sidecars=sum((p.total for p in proxies), ProxyRequests()),
        waypoints=cost.waypoint.times(cost.waypoint_replicas * waypoints),
        waypoint_count=waypoints, nodes=cost.nodes, share=share,
        ztunnel=ProxyRequests(cpu_millicores=math.ceil(ztunnel.cpu_millicores * share),
                              memory_mib=math.ceil(ztunnel.memory_mib * share)))


def _percent(share: Fraction) -> str:
    """``25%`` (``<1%`` for a sliver), for the cost line."""
    value = round(float(share) * 100)
    return "<1%" if value == 0 else f"{value}%"
