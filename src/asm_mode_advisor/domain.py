"""Istio and Kubernetes facts every layer may use: labels, annotations, ports, ownership.

Sources, inventory, rules, the verdict, ``live`` and ``plan`` all read these; keeping them
here (and not in the module that happened to need them first) lets each layer import them
without importing a layer above it.
"""

from __future__ import annotations

from enum import StrEnum

from asm_mode_advisor.model import Resource, as_dict, as_str, dicts

ROOT_NAMESPACE = "istio-system"
#: Kubernetes' own namespaces: never enrolled in the mesh, so never given mode advice.
SYSTEM_NAMESPACES = frozenset({"kube-system", "kube-public", "kube-node-lease"})
#: Control-plane namespaces besides the root namespace (ASM installs some components here).
CONTROL_PLANE_NAMESPACES = frozenset({"istio-system", "asm-system"})
#: The control plane's Deployment (``istiod`` or ``istiod-<revision>``); its namespace is
#: the control-plane namespace whatever its name.
ISTIOD_NAME = "istiod"
#: Install-time kinds that name no namespace of their own in a file: they never make the
#: default namespace appear (an IstioOperator configures the whole mesh).
MESH_CONFIG_KINDS = frozenset({"IstioOperator"})
WAYPOINT_CLASS = "istio-waypoint"
CLUSTER_DOMAIN_SUFFIX = ".svc.cluster.local"
#: The port ztunnel and waypoints accept mesh traffic on (NetworkPolicies must allow it).
HBONE_PORT = 15008

# Namespace labels that select the data-plane mode.
INJECTION_LABEL = "istio-injection"
REVISION_LABEL = "istio.io/rev"
DATAPLANE_LABEL = "istio.io/dataplane-mode"
USE_WAYPOINT_LABEL = "istio.io/use-waypoint"
WAYPOINT_FOR_LABEL = "istio.io/waypoint-for"

SIDECAR_STATUS = "sidecar.istio.io/status"
PROXY_CONTAINER = "istio-proxy"
INJECT_KEY = "sidecar.istio.io/inject"
#: Annotations (exact keys or prefixes ending in ``/`` or ``*``) only an injected sidecar reads.
SIDECAR_ONLY_ANNOTATIONS = (
    "traffic.sidecar.istio.io/", "sidecar.istio.io/interceptionMode", "proxy.istio.io/config",
    "sidecar.istio.io/proxyCPU", "sidecar.istio.io/proxyMemory", "sidecar.istio.io/userVolume",
    "sidecar.istio.io/bootstrapOverride", "sidecar.istio.io/statsInclusion",
    "sidecar.istio.io/componentLogLevel", "sidecar.istio.io/logLevel",
    "sidecar.istio.io/rewriteAppHTTPProbers", "sidecar.istio.io/nativeSidecar",
    "sidecar.istio.io/proxyImage", "inject.istio.io/templates", "status.sidecar.istio.io/port",
    "readiness.status.sidecar.istio.io/", "sidecar.istio.io/agentLogLevel",
)


class AssumeMode(StrEnum):
    """Which namespaces the conformance rules treat as ambient."""

    LABELS = "labels"  # only namespaces labelled istio.io/dataplane-mode=ambient
    AMBIENT = "ambient"  # every namespace
    RECOMMENDED = "recommended"  # namespaces the advisor recommends ambient for


def controller_of(resource: Resource) -> tuple[str | None, str, str] | None:
    """``(namespace, kind, name)`` of the controller that owns a resource, if any."""
    for owner in dicts(as_dict(resource.body.get("metadata")).get("ownerReferences")):
        if owner.get("controller"):
            return resource.namespace, as_str(owner.get("kind")), as_str(owner.get("name"))
    return None


def has_sidecar(pod: Resource) -> bool:
    """An injected pod: the injector's status annotation, or an ``istio-proxy`` container."""
    spec = pod.spec
    containers = dicts(spec.get("containers")) + dicts(spec.get("initContainers"))
    return SIDECAR_STATUS in pod.annotations or any(
        as_str(c.get("name")) == PROXY_CONTAINER for c in containers)


#: Pod labels that mark Istio gateways (the helm chart's ``istio: <name>``, Gateway API
#: deployments, and gateways istiod deploys itself).
GATEWAY_POD_LABELS = ("istio", "gateway.networking.k8s.io/gateway-name",
                      "gateway.istio.io/managed")
#: The pod-template annotation of gateways injected from the ``gateway`` template.
GATEWAY_TEMPLATE = ("inject.istio.io/templates", "gateway")
#: ``istio`` label values that are control-plane pods, not gateways.
CONTROL_PLANE_VALUES = frozenset({"pilot", "istiod"})


def is_gateway_pod(labels: dict[str, str], annotations: dict[str, str] | None = None) -> bool:
    """True when pod labels (or the injection template) mark an Istio gateway."""
    if any(key in labels for key in GATEWAY_POD_LABELS[1:]):
        return True
    if labels.get("istio", "") not in ("", *CONTROL_PLANE_VALUES):
        return True
    app = labels.get("app", "")
    if app.startswith("istio-") and app.endswith("gateway"):
        return True  # the classic charts' istio-ingressgateway / istio-egressgateway
    key, value = GATEWAY_TEMPLATE
    return (annotations or {}).get(key) == value


def fqdn(namespace: str, service: str) -> str:
    """``service.namespace.svc.cluster.local``."""
    return f"{service}.{namespace}{CLUSTER_DOMAIN_SUFFIX}"
