"""Policies bound to gateways: enforced by the gateway's own Envoy in both modes.

An ingress or egress gateway keeps its Envoy when its namespace moves to ambient, and traffic
from a gateway does not pass a waypoint. A policy aimed at a gateway is therefore no need of
the namespace it lives in: :func:`gateway_bound` says which gateway a policy binds, and every
detector of the selecting kinds skips what it returns (this module reports it instead).
"""

from __future__ import annotations

from collections.abc import Iterator

from asm_mode_advisor.domain import (
    GATEWAY_POD_LABELS as GATEWAY_POD_LABELS,
)
from asm_mode_advisor.domain import (
    WAYPOINT_CLASS,
    is_gateway_pod,
)
from asm_mode_advisor.enforcement import Enforcer, same
from asm_mode_advisor.model import Resource, as_str
from asm_mode_advisor.rules._base import Check, Context, Detector, Finding, Rule, specs
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.views import Selecting

#: Kinds a gateway's Envoy reads by selector or targetRefs.
GATEWAY_POLICY_KINDS = ("AuthorizationPolicy", "RequestAuthentication", "Telemetry",
                        "WasmPlugin", "EnvoyFilter")

GATEWAY_BOUND = Rule(
    id="AMA413", name="gateway-bound-policy",
    title="Policy bound to a gateway is applied by the gateway in both modes",
    need="gateway-policy", kinds=GATEWAY_POLICY_KINDS,
    reads=specs(*GATEWAY_POLICY_KINDS),
    rationale=(
        "A RequestAuthentication, AuthorizationPolicy (CUSTOM ext-authz included), Telemetry, "
        "WasmPlugin or EnvoyFilter whose selector picks an ingress or egress gateway's pods "
        "(`istio: ingressgateway`, `gateway.networking.k8s.io/gateway-name`, or a gateway "
        "Deployment in the input), or whose `targetRefs` name a Gateway of a class other than "
        "`istio-waypoint`, is applied by that gateway's own Envoy. The gateway keeps its Envoy "
        "in ambient, and traffic from it does not pass a waypoint, so the object needs no "
        "waypoint and its namespace's mode does not change it (Istio task "
        "https://istio.io/latest/docs/tasks/security/authorization/authz-ingress/ and "
        "https://istio.io/latest/docs/ambient/usage/waypoint/)."),
    triggers=("""
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt-ingress, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  jwtRules: [{issuer: "testing@secure.istio.io"}]
""", """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: shop}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext-authz, namespace: shop}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: bookinfo-gateway}]
  action: CUSTOM
  provider: {name: sample-ext-authz-grpc}
  rules: [{to: [{operation: {paths: ["/headers"]}}]}]
"""),
    passes=("""
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: productpage}}
  jwtRules: [{issuer: "testing@secure.istio.io"}]
""",),
)

RULES = (GATEWAY_BOUND,)


def gateway_bound(inventory: ScopedInventory, resource: Resource) -> str | None:
    """The gateway a policy binds (``Gateway ns/name`` or the gateway pods' label), else None.

    Selector policies bind a gateway when their labels are a gateway's, or when every
    workload they select in the input is a gateway; targetRefs policies when they name a
    Gateway (or GatewayClass) whose class is not ``istio-waypoint``.
    """
    policy = Selecting(resource)
    namespace = resource.namespace or inventory.default_namespace
    if policy.target_refs:
        return _targeted_gateway(inventory, policy, namespace)
    labels = policy.selector_labels
    if not labels:
        return None
    if is_gateway_pod(labels):
        return _label_name(labels)
    scope = inventory.namespaces if namespace == inventory.root_namespace else [namespace]
    selected = [w for ns in scope for w in inventory.select_workloads(ns, labels)]
    if selected and all(is_gateway_pod(w.pod_labels, w.pod_annotations) for w in selected):
        return ", ".join(sorted(f"{w.resource.kind} {w.resource.namespace}/{w.resource.name}"
                                for w in selected))
    return None


def _label_name(labels: dict[str, str]) -> str:
    """How to name the gateway pods a selector picks, e.g. ``istio=ingressgateway``."""
    return ", ".join(f"{key}={value}" for key, value in sorted(labels.items()))


def _targeted_gateway(inventory: ScopedInventory, policy: Selecting,
                      namespace: str) -> str | None:
    """The non-waypoint Gateway (or GatewayClass) the policy's targetRefs name, if all do."""
    found: list[str] = []
    for ref in policy.target_refs:
        kind, name = as_str(ref.get("kind")), as_str(ref.get("name"))
        if kind == "GatewayClass" and name and name != WAYPOINT_CLASS:
            found.append(f"GatewayClass {name}")
            continue
        if kind != "Gateway":
            return None
        gateway_class = inventory.gateway_class(namespace, name)
        if gateway_class is None or gateway_class == WAYPOINT_CLASS:
            return None  # a waypoint, or a Gateway the input lacks (the plan may create it)
        found.append(f"Gateway {namespace}/{name} (class {gateway_class})")
    return ", ".join(found) or None


def detect_gateway_bound(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """One info finding per policy applied by a gateway's own Envoy."""
    for kind in GATEWAY_POLICY_KINDS:
        for resource in inventory.of_kind(kind):
            gateway = gateway_bound(inventory, resource)
            if gateway is None:
                continue
            field = "targetRefs" if Selecting(resource).target_refs else (
                "workloadSelector" if "workloadSelector" in resource.spec else "selector")
            yield GATEWAY_BOUND.finding(
                resource, f"{resource.ref} is bound to the gateway {gateway}; the gateway's "
                          "own Envoy applies it before and after the move, so it needs no "
                          "waypoint",
                path=("spec", field),
                enforcement=same(Enforcer.GATEWAY, "the gateway keeps its Envoy in ambient"))


DETECTORS = (Detector(detect_gateway_bound, RULES),)
CHECKS: tuple[Check, ...] = ()
