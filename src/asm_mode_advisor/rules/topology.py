"""Topology and platform: multi-cluster, VM workloads, mesh version and reserved ports."""

from __future__ import annotations

from collections.abc import Iterator

from asm_mode_advisor.inventory import Workload
from asm_mode_advisor.kinds import GATEWAY_API, ISTIO_NETWORKING, pod_reads
from asm_mode_advisor.matrix import ambient_ready
from asm_mode_advisor.model import Severity, as_int, as_str, dicts
from asm_mode_advisor.rules._base import WORKLOADS, Context, Detector, Finding, Rule, specs
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.views import IstioGateway, Service, ServiceEntry

NETWORK_LABEL = "topology.istio.io/network"
MULTICLUSTER_SECRET_LABEL = "istio/multiCluster"
CROSS_NETWORK_PORT = 15443
#: The Gateway API class of ambient's east-west gateway (multi-network ambient).
EAST_WEST_CLASS = "istio-east-west"
#: Ports ztunnel binds inside every ambient pod's network namespace (U-ZTUNNEL-POD-PORTS).
ZTUNNEL_PORTS = frozenset({15001, 15006, 15008, 15053, 15080})
#: Ports the sidecar binds in the pod, each with what it serves (U-SIDECAR-PORTS).
SIDECAR_PORTS = {15000: "Envoy admin", 15001: "Envoy outbound", 15004: "debug",
                 15006: "Envoy inbound", 15008: "HBONE mTLS tunnel",
                 15009: "HBONE for secure networks", 15020: "merged Prometheus telemetry",
                 15021: "health checks", 15053: "DNS proxy", 15090: "Envoy Prometheus telemetry"}
#: Only these collide in ambient and not with a sidecar: the ambient blockers (AMA306).
AMBIENT_ONLY_PORTS = ZTUNNEL_PORTS - SIDECAR_PORTS.keys()
PROXY_CONTAINERS = frozenset({"istio-proxy", "istio-init", "istio-validation"})
#: What the port checks read of every workload's containers (``Workload.containers``).
CONTAINER_PORTS = pod_reads("spec.containers[].ports", "spec.initContainers[].ports")

MULTI_CLUSTER = Rule(
    id="AMA302", name="multi-cluster-mesh",
    title="Multi-cluster or multi-network mesh keeps sidecars",
    need="multi-cluster", rows=("N-MULTICLUSTER", "U-AMBIENT-EAST-WEST"),
    kinds=("Namespace", "Service", "Gateway", "ServiceEntry", "WorkloadEntry", "Secret",
           *WORKLOADS),
    reads=(*specs("Gateway", "ServiceEntry", "WorkloadEntry"), *CONTAINER_PORTS),
    rationale=(
        "ASM ambient is single-cluster: it does not support multi-cluster management. A "
        "network label (`topology.istio.io/network`), a cross-network (east-west) gateway on "
        "port 15443, remote-cluster secrets or endpoints on other networks mean the mesh spans "
        "clusters, so every namespace stays on sidecars. Upstream ambient multi-cluster joins "
        "clusters through a Gateway API Gateway of class `istio-east-west` labelled "
        "`topology.istio.io/network` (https://istio.io/latest/docs/ambient/install/"
        "multicluster/multi-primary_multi-network/): such a Gateway, or any Gateway with the "
        "network label, is the same signal: mesh-wide for the east-west class or in the "
        "control-plane namespace, else for the Gateway's namespace."),
    triggers=("""
apiVersion: v1
kind: Namespace
metadata:
  name: istio-system
  labels: {topology.istio.io/network: network1}
""", """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: istio-eastwestgateway
  namespace: istio-system
  labels: {topology.istio.io/network: network1}
spec:
  gatewayClassName: istio-east-west
  listeners:
  - {name: mesh, port: 15008, protocol: HBONE}
"""),
    passes=("""
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: bookinfo}
spec:
  gatewayClassName: istio
  listeners:
  - {name: http, port: 80, protocol: HTTP}
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
    title="Application port collides with a port only ztunnel binds in the pod",
    need="reserved-ports", kinds=(*WORKLOADS, "Service"),
    reads=(*CONTAINER_PORTS, "Service:spec.ports"),
    rationale=(
        "Ztunnel listens on 15001, 15006 and 15008, on 127.0.0.1:15080 (SOCKS5) and, with DNS "
        "capture, on 15053 inside every ambient pod's network namespace "
        "(https://istio.io/latest/docs/ambient/architecture/traffic-redirection/). A sidecar "
        "binds all of them but 15080 too "
        "(https://istio.io/latest/docs/ops/deployment/application-requirements/"
        "#ports-used-by-istio), so only an application on 15080 can run with a sidecar and "
        "not in ambient: it cannot be enrolled until it moves to another port. Ports both "
        "modes bind are AMA420."),
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
        ports: [{containerPort: 15080}]
""",),
    passes=("""
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

ISTIO_PORTS = Rule(
    id="AMA420", name="istio-port-conflict",
    title="Application port collides with a port the sidecar binds in the pod",
    need="istio-ports", severity=Severity.ERROR, kinds=(*WORKLOADS, "Service"),
    reads=(*CONTAINER_PORTS, "Service:spec.ports"),
    rationale=(
        "The sidecar binds 15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053 and "
        "15090 in the pod (https://istio.io/latest/docs/ops/deployment/"
        "application-requirements/#ports-used-by-istio); ztunnel binds 15001, 15006, 15008 "
        "and, with DNS capture, 15053 in an ambient pod too "
        "(https://istio.io/latest/docs/ambient/architecture/traffic-redirection/). An "
        "application on one of these ports collides with the sidecar today, and for the ports "
        "both proxies bind, with ztunnel after the move: it is not a reason to stay on "
        "sidecars but a fix either mode needs. Move the application to another port."),
    triggers=("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: metrics, namespace: shop}
spec:
  selector: {matchLabels: {app: metrics}}
  template:
    metadata: {labels: {app: metrics}}
    spec:
      containers:
      - name: exporter
        image: example/exporter:1
        ports: [{containerPort: 15020}]
""",),
    passes=("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: example/web:1
        ports: [{containerPort: 8080}]
""",),
)

RULES = (MULTI_CLUSTER, VM_WORKLOADS, MESH_VERSION, RESERVED_PORTS, ISTIO_PORTS)


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
    yield from _gateway_api_signals(inventory)
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


def _gateway_api_signals(inventory: ScopedInventory) -> Iterator[Finding]:
    """Gateway API Gateways of the ambient east-west class or with a network label.

    The east-west class carries only cross-network traffic, so it is mesh-wide wherever it
    is, as the 15443 gateway is; a network label alone is mesh-wide in the control-plane
    namespace and otherwise concerns the Gateway's own namespace.
    """
    for gateway in inventory.of_kind("Gateway", group=GATEWAY_API):
        east_west = as_str(gateway.spec.get("gatewayClassName")) == EAST_WEST_CLASS
        network = gateway.labels.get(NETWORK_LABEL)
        if not east_west and network is None:
            continue
        what = (f"an ambient east-west gateway (class {EAST_WEST_CLASS})" if east_west
                else "a Gateway")
        on = f" for network {network}" if network is not None else ""
        mesh_wide = east_west or gateway.namespace in inventory.control_plane_namespaces
        yield MULTI_CLUSTER.finding(
            gateway, f"{gateway.ref} is {what}{on}: the mesh spans networks or clusters",
            mesh_wide=mesh_wide, namespace=None if mesh_wide else gateway.namespace,
            path=("spec", "gatewayClassName") if east_west else (
                "metadata", "labels", NETWORK_LABEL))


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
    """Application ports Istio binds in the pod: ambient-only ones block, others are chores."""
    for workload in inventory.all_workloads():
        if _is_istio_component(workload.pod_labels):
            continue
        used = _app_ports(workload)
        blocking = [(c, p) for c, p in used if p in AMBIENT_ONLY_PORTS]
        if blocking:
            yield RESERVED_PORTS.finding(
                workload.resource, f"{workload.resource.ref} listens on "
                f"{_named(blocking)}, which ztunnel binds in ambient pods and a sidecar "
                "does not")
        for container, port in used:
            if port in SIDECAR_PORTS:
                yield ISTIO_PORTS.finding(
                    workload.resource, f"{workload.resource.ref} container {container} "
                    f"listens on {port}, {_collision(port)}; move it to another port")
    for service in inventory.of_kind("Service"):
        view = Service(service)
        if not view.selector or _is_istio_component(view.selector):
            continue
        targets = sorted(set(view.target_port_numbers))
        reserved = [p for p in targets if p in AMBIENT_ONLY_PORTS]
        if reserved:
            yield RESERVED_PORTS.finding(
                service, f"{service.ref} targets port(s) {', '.join(map(str, reserved))}, "
                         "which ztunnel binds in ambient pods and a sidecar does not",
                services=[service.name])
        for port in targets:
            if port in SIDECAR_PORTS:
                yield ISTIO_PORTS.finding(
                    service, f"{service.ref} targets port {port}, {_collision(port)}; move "
                             "the application to another port", services=[service.name])


def _app_ports(workload: Workload) -> list[tuple[str, int]]:
    """``(container, port)`` of each application container port, in order, once each."""
    found: dict[tuple[str, int], None] = {}
    for container in workload.containers:
        name = as_str(container.get("name"))
        if name in PROXY_CONTAINERS:
            continue
        for port in dicts(container.get("ports")):
            number = as_int(port.get("containerPort"))
            if number is not None:
                found[(name or "?", number)] = None
    return list(found)


def _named(pairs: list[tuple[str, int]]) -> str:
    """``15080 (container app)`` for each pair."""
    return ", ".join(f"{port} (container {container})" for container, port in pairs)


def _collision(port: int) -> str:
    """Where ``port`` collides: with the sidecar only, or with ztunnel after the move too."""
    what = SIDECAR_PORTS[port]
    if port in ZTUNNEL_PORTS:
        return (f"which the sidecar ({what}) and ztunnel both bind in the pod: it collides "
                "in both modes")
    return (f"which the sidecar binds in the pod ({what}): it collides with a sidecar, not "
            "with ztunnel")


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
    Detector(detect_reserved_ports, (RESERVED_PORTS, ISTIO_PORTS)),
)


