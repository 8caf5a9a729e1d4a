"""Current state and migration chores: mode labels, sidecar-only config, NetworkPolicies.

These findings never change a recommendation on their own; they list what a move to
ambient must clean up.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from asm_mode_advisor.domain import (
    HBONE_PORT,
    INJECT_KEY,
    SIDECAR_ONLY_ANNOTATIONS,
    has_sidecar,
)
from asm_mode_advisor.kinds import pod_reads
from asm_mode_advisor.model import Mode, Severity, as_bool, as_dict, as_int, as_str, dicts
from asm_mode_advisor.rules._base import (
    WORKLOADS,
    Check,
    Context,
    Detector,
    Finding,
    Rule,
    namespace_modes,
    specs,
)
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.views import NetworkPolicy

INJECT_OVERRIDE = Rule(
    id="AMA403", name="sidecar-inject-override",
    title="Pod template forces sidecar injection",
    need="mode-labels", kinds=("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob",
                               "Pod", "ReplicaSet", "ReplicationController"),
    rationale=(
        "`sidecar.istio.io/inject: \"true\"` on a pod template keeps injecting a sidecar "
        "after the namespace label is gone, and the CNI skips any pod with a sidecar. Remove "
        "it from the chart or overlay when the namespace moves to ambient."),
    triggers=("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web, sidecar.istio.io/inject: "true"}
    spec:
      containers: [{name: web, image: example/web:1}]
""",),
)

SIDECAR_ANNOTATIONS = Rule(
    id="AMA404", name="sidecar-only-annotations",
    title="Pod template carries annotations only a sidecar reads",
    need="sidecar-config", kinds=("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob",
                                  "Pod", "ReplicaSet", "ReplicationController"),
    rationale=(
        "`traffic.sidecar.istio.io/*`, `proxy.istio.io/config` and the `sidecar.istio.io/` "
        "proxy settings shape an injected Envoy and do nothing in ambient. Delete them, or "
        "carry what is still needed over to the waypoint's deployment settings."),
    triggers=("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {traffic.sidecar.istio.io/excludeOutboundPorts: "5432"}
    spec:
      containers: [{name: web, image: example/web:1}]
""",),
)

SIDECAR_RESOURCE = Rule(
    id="AMA405", name="sidecar-resource",
    title="Sidecar resource has no effect in ambient",
    need="sidecar-config", kinds=("Sidecar",), rows=("M-SCALE", "M-LIFECYCLE"),
    reads=specs("Sidecar"),
    rationale=(
        "The `Sidecar` API scopes an injected proxy's configuration. Ambient needs no such "
        "tuning (only needed configuration is delivered), and `istioctl analyze` reports "
        "IST0167 for Sidecars in ambient namespaces. Delete it after the move."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress: [{hosts: ["./*", "istio-system/*"]}]
""",),
)

HOST_NETWORK = Rule(
    id="AMA406", name="host-network-pod",
    title="Host-network pods are outside the mesh in either mode",
    need="out-of-mesh", kinds=WORKLOADS,
    reads=pod_reads("spec.hostNetwork"),
    rationale=(
        "Pods with `hostNetwork: true` are never captured, by sidecars or by ztunnel. They "
        "reach ambient pods as out-of-mesh clients, which STRICT mTLS rejects."),
    triggers=("""
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent, namespace: monitoring}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      hostNetwork: true
      containers: [{name: agent, image: example/agent:1}]
""",),
)

NETPOL_HBONE = Rule(
    id="AMA407", name="networkpolicy-hbone-port",
    title="NetworkPolicy port list would block HBONE (TCP 15008)",
    need="hbone-port", kinds=("NetworkPolicy",),
    reads=specs("NetworkPolicy"),
    rationale=(
        "All ambient traffic between pods is tunnelled over HBONE on TCP 15008. A "
        "NetworkPolicy whose rules list ports must add 15008, inbound and outbound, or "
        "traffic is dropped once the namespace is ambient."),
    triggers=("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{protocol: TCP, port: 8080}]
""",),
    passes=("""
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web-in, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  policyTypes: [Ingress]
  ingress:
  - ports: [{protocol: TCP, port: 8080}, {protocol: TCP, port: 15008}]
""",),
)

MIXED_MODES = Rule(
    id="AMA410", name="mixed-modes",
    title="Other namespaces stay on sidecars: plan the move together",
    need="mixed-modes", kinds=("Namespace",), rows=("N-MIXED",),
    rationale=(
        "Mixing sidecar and ambient namespaces in one mesh is not production-ready in ASM: "
        "pods in different modes cannot reliably talk to each other, and traffic from sidecars "
        "skips waypoints. When some namespaces must stay on sidecars, move the namespaces that "
        "talk to each other together, or keep them all on sidecars until the blockers are "
        "gone."),
)

STALE_SIDECARS = Rule(
    id="AMA412", name="pods-still-with-sidecar",
    title="Pods still run a sidecar in a namespace labelled ambient",
    need="sidecar-config", kinds=("Pod",), severity=Severity.WARNING,
    rows=("M-ONBOARDING", "N-MIXED"),
    rationale=(
        "The ambient CNI skips any pod that already has a sidecar, so pods injected before "
        "the namespace moved to ambient keep their sidecar, and talk to ambient pods as "
        "sidecar peers, until they are restarted (`kubectl rollout restart`)."),
    triggers=("""
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient}
---
apiVersion: v1
kind: Pod
metadata:
  name: web-5d8f7-abcde
  namespace: shop
  annotations: {sidecar.istio.io/status: '{"containers":["istio-proxy"]}'}
spec:
  containers: [{name: web, image: example/web:1}, {name: istio-proxy, image: proxyv2:1.25}]
""",),
)

RULES = (INJECT_OVERRIDE, SIDECAR_ANNOTATIONS, SIDECAR_RESOURCE, HOST_NETWORK,
         NETPOL_HBONE, MIXED_MODES, STALE_SIDECARS)


def _sidecar_only(annotations: dict[str, str]) -> list[str]:
    return sorted(key for key in annotations
                  if any(key == prefix or (prefix.endswith("/") and key.startswith(prefix))
                         or (not prefix.endswith("/") and key.startswith(prefix))
                         for prefix in SIDECAR_ONLY_ANNOTATIONS))


def detect_pod_templates(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Injection overrides, sidecar-only annotations and host networking on pod templates."""
    for workload in inventory.all_workloads():
        resource = workload.resource
        inject = workload.pod_labels.get(INJECT_KEY) or workload.pod_annotations.get(INJECT_KEY)
        if inject is not None and inject.lower() == "true":
            yield INJECT_OVERRIDE.finding(
                resource, f"{resource.ref} sets {INJECT_KEY}=true on its pods",
                workloads=[resource.name])
        keys = _sidecar_only(workload.pod_annotations)
        if keys:
            yield SIDECAR_ANNOTATIONS.finding(
                resource, f"{resource.ref} uses sidecar-only annotation(s) {', '.join(keys)}",
                workloads=[resource.name])
        if as_bool(workload.pod_spec.get("hostNetwork")):
            yield HOST_NETWORK.finding(
                resource, f"{resource.ref} runs on the host network; its traffic bypasses "
                          "the mesh", workloads=[resource.name])


def detect_sidecar_resources(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Every ``networking.istio.io`` Sidecar object."""
    for sidecar in inventory.of_kind("Sidecar"):
        policy = as_dict(sidecar.spec.get("outboundTrafficPolicy"))
        lost = (" (and its outboundTrafficPolicy REGISTRY_ONLY, which ztunnel does not enforce: "
                "see AMA418)") if as_str(policy.get("mode")).upper() == "REGISTRY_ONLY" else ""
        yield SIDECAR_RESOURCE.finding(sidecar, f"{sidecar.ref} scopes sidecar configuration; "
                                                f"ambient ignores it{lost}")


def _blocks_hbone(rules: list[dict[str, object]]) -> int | None:
    """Index of the first rule whose port list leaves out 15008, or None."""
    for index, rule in enumerate(rules):
        tcp_ports = [port for port in dicts(rule.get("ports"))
                     if as_str(port.get("protocol")).upper() in ("", "TCP")]
        # A rule that lists only UDP/SCTP ports (DNS egress) never carried the app's TCP.
        if tcp_ports and not any(_covers_hbone(port) for port in tcp_ports):
            return index
    return None


def _covers_hbone(port: dict[str, object]) -> bool:
    if as_str(port.get("protocol")).upper() not in ("", "TCP"):
        return False
    number = as_int(port.get("port"))
    end = as_int(port.get("endPort"))
    if number is None:
        return port.get("port") is None  # no port: all ports of the protocol
    return number == HBONE_PORT or (end is not None and number <= HBONE_PORT <= end)


def detect_network_policies(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """NetworkPolicies whose ingress or egress port lists leave out HBONE."""
    for policy in inventory.of_kind("NetworkPolicy"):
        for direction in ("ingress", "egress"):
            index = _blocks_hbone(NetworkPolicy(policy).rules(direction))
            if index is not None:
                yield NETPOL_HBONE.finding(
                    policy, f"{policy.ref} {direction} rule {index} lists ports without "
                            f"TCP {HBONE_PORT} (HBONE)", path=("spec", direction, index))
                break


def detect_stale_sidecars(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Running pods with a sidecar in namespaces whose labels now select ambient."""
    for namespace in inventory.namespaces:
        if inventory.current_mode(namespace) is not Mode.AMBIENT:
            continue
        stale = [pod for pod in inventory.of_kind("Pod", namespace) if has_sidecar(pod)]
        if stale:
            names = ", ".join(pod.name for pod in stale[:5]) + (
                f" and {len(stale) - 5} more" if len(stale) > 5 else "")
            yield STALE_SIDECARS.finding(
                None, f"{len(stale)} pod(s) still run a sidecar and need a restart: {names}",
                namespace=namespace, objects=stale[:5],
                workloads=[pod.name for pod in stale])


DETECTORS = (
    Detector(detect_pod_templates, (INJECT_OVERRIDE, SIDECAR_ANNOTATIONS, HOST_NETWORK)),
    Detector(detect_sidecar_resources, (SIDECAR_RESOURCE,)),
    Detector(detect_network_policies, (NETPOL_HBONE,)),
    Detector(detect_stale_sidecars, (STALE_SIDECARS,)),
)
def check_mixed_modes(inventory: ScopedInventory, _: Context,
                      detected: Sequence[Finding]) -> Iterator[Finding]:
    """Every namespace the detectors leave off sidecars, when some other one stays on them."""
    modes = namespace_modes(inventory.advised_namespaces, detected)
    staying = [namespace for namespace, mode in modes.items() if mode is Mode.SIDECAR]
    if not staying:
        return
    shown = ", ".join(staying[:5]) + (f" and {len(staying) - 5} more" if len(staying) > 5
                                      else "")
    for namespace, mode in modes.items():
        if mode is not Mode.SIDECAR:
            yield MIXED_MODES.finding(
                None, f"namespace(s) {shown} stay on sidecars; pods in different modes cannot "
                      "reliably talk to each other", namespace=namespace)


CHECKS = (Check(check_mixed_modes, (MIXED_MODES,)),)
