"""Topology and platform: multi-cluster, VM workloads, mesh version and reserved ports."""

from __future__ import annotations

from collections.abc import Iterator

from asm_mode_advisor.inventory import Workload
from asm_mode_advisor.kinds import ISTIO_NETWORKING, pod_reads
from asm_mode_advisor.matrix import ambient_ready
from asm_mode_advisor.model import as_int, as_str, dicts
from asm_mode_advisor.rules._base import WORKLOADS, Context, Detector, Finding, Rule, specs
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.views import IstioGateway, Service, ServiceEntry

NETWORK_LABEL = "topology.istio.io/network"
MULTICLUSTER_SECRET_LABEL = "istio/multiCluster"
CROSS_NETWORK_PORT = 15443
#: Ports ztunnel binds inside every ambient pod's network namespace.
ZTUNNEL_PORTS = frozenset({15001, 15006, 15008, 15053, 15080})
PROXY_CONTAINERS = frozenset({"istio-proxy", "istio-init", "istio-validation"})
#: What the port checks read of every workload's containers (``Workload.containers``).
CONTAINER_PORTS = pod_reads("spec.containers[].ports", "spec.initContainers[].ports")

MULTI_CLUSTER = Rule(
    id="AMA302", name="multi-cluster-mesh",
    title="Multi-cluster or multi-network mesh keeps sidecars",
    need="multi-cluster", kinds=("Namespace", "Service", "Gateway", "ServiceEntry",
                                 "WorkloadEntry", "Secret", *WORKLOADS),
    reads=(*specs("Gateway", "ServiceEntry", "WorkloadEntry"), *CONTAINER_PORTS),
    rationale=(
        "ASM ambient is single-cluster: it does not support multi-cluster management. A "
        "network label (`topology.istio.io/network`), a cross-network (east-west) gateway on "
        "port 15443, remote-cluster secrets or endpoints on other networks mean the mesh spans "
        "clusters, so every namespace stays on sidecars."),
    triggers=("""
apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
  labels: {topology.istio.io/network: network1}
""",),
)

VM_WORKLOADS = Rule(
    id="AMA303", name="vm-workloads",
    title="VM workloads with their own sidecar keep the namespace on sidecars",
    need="vm-workloads", kinds=("WorkloadGroup", "WorkloadEntry"),
    reads=specs("WorkloadGroup", "WorkloadEntry"),
    rationale=(
        "VMs that run istio-proxy (WorkloadGroup, auto-registered WorkloadEntry) cannot join "
        "the ambient data plane, and sidecar and ambient pods mixed in one mesh are not "
        "production-ready."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata: {name: billing-vm, namespace: billing}
spec:
  metadata: {labels: {app: billing}}
  template: {serviceAccount: billing}
""",),
)

MESH_VERSION = Rule(
    id="AMA304", name="mesh-version",
    title="ASM release older than 1.25 has no production-ready ambient",
    need="mesh-version", kinds=(),
    rationale=(
        "Ambient is production-ready for single clusters from ASM 1.25. On an older mesh, "
        "upgrade the control plane before moving any namespace (set `--mesh-version`)."),
)

RESERVED_PORTS = Rule(
    id="AMA306", name="ztunnel-port-conflict",
    title="Application port collides with a port ztunnel binds in the pod",
    need="reserved-ports", kinds=(*WORKLOADS, "Service"),
    reads=(*CONTAINER_PORTS, "Service:spec.ports"),
    rationale=(
        "Ztunnel listens on 15001, 15006, 15008, 15053 and 15080 inside every ambient pod's "
        "network namespace. An application that uses one of them cannot be enrolled until it "
        "moves to another port."),
    triggers=("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: proxy, namespace: edge}
spec:
  selector: {matchLabels: {app: proxy}}
  template:
    metadata: {labels: {app: proxy}}
    spec:
      containers:
      - name: app
        image: example/proxy:1
        ports: [{containerPort: 15008}]
""",),
)

RULES = (MULTI_CLUSTER, VM_WORKLOADS, MESH_VERSION, RESERVED_PORTS)


def detect_multi_cluster(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Signals that the mesh spans clusters or networks.

    Control-plane signals (the root namespace's network, east-west gateways, remote-cluster
    secrets) apply mesh-wide; a network label on an application namespace, or endpoints on
    other networks, concern that namespace's services.
    """
    for namespace in inventory.of_kind("Namespace"):
        if NETWORK_LABEL in namespace.labels:
            root = namespace.name == inventory.root_namespace
            yield MULTI_CLUSTER.finding(
                namespace, f"{namespace.ref} is labelled {NETWORK_LABEL}="
                           f"{namespace.labels[NETWORK_LABEL]} "
                           + ("(multi-network mesh)" if root else "(its pods join that network)"),
                namespace=namespace.name, mesh_wide=root,
                path=("metadata", "labels", NETWORK_LABEL))
    for workload in inventory.all_workloads():
        if NETWORK_LABEL in workload.pod_labels and _is_east_west_gateway(workload):
            yield MULTI_CLUSTER.finding(
                workload.resource, f"{workload.resource.ref} is an east-west gateway for "
                f"network {workload.pod_labels[NETWORK_LABEL]}", mesh_wide=True)
    for gateway in inventory.istio_gateways():
        for index, number in IstioGateway(gateway).server_ports:
            if number == CROSS_NETWORK_PORT:
                yield MULTI_CLUSTER.finding(
                    gateway, f"{gateway.ref} exposes port {CROSS_NETWORK_PORT} for "
                             "cross-network traffic", mesh_wide=True,
                    path=("spec", "servers", index))
                break
    for entry in inventory.of_kind("ServiceEntry", group=ISTIO_NETWORKING):
        networks = ServiceEntry(entry).endpoint_networks
        if networks:
            yield MULTI_CLUSTER.finding(entry, f"{entry.ref} has endpoints on network(s) "
                                               f"{', '.join(networks)}",
                                        path=("spec", "endpoints"))
    for secret in inventory.of_kind("Secret"):
        if secret.labels.get(MULTICLUSTER_SECRET_LABEL) == "true":
            yield MULTI_CLUSTER.finding(secret, f"{secret.ref} is a remote-cluster secret",
                                        mesh_wide=True)


def detect_vm_workloads(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """WorkloadGroups and auto-registered or proxied WorkloadEntries (VMs with sidecars)."""
    for group in inventory.of_kind("WorkloadGroup"):
        yield VM_WORKLOADS.finding(group, f"{group.ref} registers VMs that run istio-proxy")
    for entry in inventory.of_kind("WorkloadEntry"):
        if "istio.io/autoRegistrationGroup" in entry.annotations:
            yield VM_WORKLOADS.finding(entry, f"{entry.ref} is an auto-registered VM")
        elif as_str(entry.spec.get("network")):
            yield MULTI_CLUSTER.finding(
                entry, f"{entry.ref} is on network {as_str(entry.spec.get('network'))}")


def detect_mesh_version(inventory: ScopedInventory, context: Context) -> Iterator[Finding]:
    """A mesh older than the ambient GA release blocks ambient everywhere."""
    if not ambient_ready(context.mesh_version):
        yield MESH_VERSION.finding(
            None, f"mesh version {context.mesh_version} is older than 1.25, where ambient "
                  "becomes production-ready", mesh_wide=True)


def detect_reserved_ports(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Application containers or Services that use ztunnel's in-pod ports."""
    for workload in inventory.all_workloads():
        ports = sorted(ZTUNNEL_PORTS.intersection(
            as_int(p.get("containerPort")) for c in workload.containers
            if as_str(c.get("name")) not in PROXY_CONTAINERS for p in dicts(c.get("ports"))))
        if ports and not _is_istio_component(workload.pod_labels):
            yield RESERVED_PORTS.finding(
                workload.resource, f"{workload.resource.ref} listens on "
                f"{', '.join(map(str, ports))}, which ztunnel binds in ambient pods")
    for service in inventory.of_kind("Service"):
        view = Service(service)
        targets = sorted(ZTUNNEL_PORTS.intersection(view.target_port_numbers))
        if targets and view.selector and not _is_istio_component(view.selector):
            yield RESERVED_PORTS.finding(
                service, f"{service.ref} targets port(s) {', '.join(map(str, targets))}, "
                         "which ztunnel binds in ambient pods", services=[service.name])


def _is_east_west_gateway(workload: Workload) -> bool:
    """A gateway that carries cross-network traffic: port 15443 or the east-west label."""
    if "eastwest" in workload.pod_labels.get("istio", ""):
        return True
    return any(as_int(port.get("containerPort")) == CROSS_NETWORK_PORT
               for container in workload.containers for port in dicts(container.get("ports")))


def _is_istio_component(labels: dict[str, str]) -> bool:
    """Istio's own gateways and control plane legitimately use 150xx ports."""
    return "istio" in labels or "gateway.networking.k8s.io/gateway-name" in labels or (
        labels.get("app", "").startswith("istio"))


DETECTORS = (
    Detector(detect_multi_cluster, (MULTI_CLUSTER,)),
    Detector(detect_vm_workloads, (VM_WORKLOADS, MULTI_CLUSTER)),
    Detector(detect_mesh_version, (MESH_VERSION,)),
    Detector(detect_reserved_ports, (RESERVED_PORTS,)),
)


