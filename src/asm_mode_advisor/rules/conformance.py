"""Conformance of L7 configuration with ambient: what ztunnel ignores or misapplies.

These checks gate pull requests. They look only at namespaces that run ambient (labelled
``istio.io/dataplane-mode=ambient``, or every namespace / the recommended ones with
``--assume-mode``). They build on the detectors' findings, passed to them by the pipeline,
and never change a recommendation: each one sits on an object that a detector already
flagged with the same effect.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from asm_mode_advisor.model import Effect, Resource, Severity, as_dict, as_str
from asm_mode_advisor.rules import extensions, routing
from asm_mode_advisor.rules._ambient import (
    AMBIENT_NAMESPACE_EXAMPLE,
    WAYPOINT_EXAMPLE,
    WAYPOINT_KIND,
    ambient_namespaces,
    namespace_has_waypoint,
    service_has_waypoint,
    with_source_rows,
)
from asm_mode_advisor.rules._base import (
    Check,
    Context,
    Detector,
    FieldPath,
    Finding,
    Rule,
    specs,
)
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.views import AuthorizationPolicy, Selecting, VirtualService

#: Kinds whose ``selector`` a waypoint ignores (it reads ``targetRefs`` only).
SELECTOR_POLICY_KINDS = ("RequestAuthentication", "Telemetry", "WasmPlugin")

L7_WITHOUT_WAYPOINT = Rule(
    id="AMA501", name="l7-config-without-waypoint",
    title="L7 configuration in an ambient namespace has no waypoint in use",
    need="l7-routing", rows=("M-TRAFFIC", "M-SECURITY", "M-OBSERVABILITY"),
    severity=Severity.ERROR,
    kinds=("VirtualService", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute",
           "DestinationRule", "RequestAuthentication", "Telemetry", "WasmPlugin",
           "EnvoyFilter"),
    reads=specs("VirtualService", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute",
                "DestinationRule", "RequestAuthentication", "Telemetry", "WasmPlugin",
                "EnvoyFilter"),
    rationale=(
        "Ztunnel is L4 only: HTTP routing, request-level traffic policy, JWT rules, L7 "
        "telemetry and Wasm are silently ignored in an ambient namespace until a waypoint "
        "(a Gateway of class `istio-waypoint`) exists and the namespace or the Service is "
        "labelled `istio.io/use-waypoint` with its name."),
    triggers=(AMBIENT_NAMESPACE_EXAMPLE + """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - fault: {abort: {httpStatus: 503, percentage: {value: 10}}}
    route: [{destination: {host: reviews}}]
""",),
    passes=("""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - fault: {abort: {httpStatus: 503, percentage: {value: 10}}}
    route: [{destination: {host: reviews}}]
""" + WAYPOINT_EXAMPLE,),
)

SELECTOR_AUTHZ = Rule(
    id="AMA502", name="l7-authz-on-ztunnel",
    title="L7 AuthorizationPolicy is enforced by ztunnel in an ambient namespace",
    need="l7-authorization", rows=("L-SECURITY", "M-SECURITY", "U-AUTHZ-ZTUNNEL"),
    severity=Severity.ERROR, kinds=("AuthorizationPolicy",),
    reads=specs("AuthorizationPolicy"),
    rationale=(
        "An AuthorizationPolicy bound by `selector` (or to the whole namespace) is enforced by "
        "ztunnel, which cannot match HTTP attributes. istiod's conversion "
        "(https://github.com/istio/istio/blob/master/pilot/pkg/serviceregistry/ambient/"
        "authorization.go) drops an ALLOW rule with HTTP attributes (the L4 rules still allow; "
        "with none left the workloads deny all calls), enforces a DENY rule without its HTTP "
        "attributes (broader) or never matches it when a whole clause was HTTP-only (an "
        "HTTP-only DENY denies nothing), and does not send CUSTOM or AUDIT at all. The "
        "message states the computed change. Bind it to the waypoint with `targetRefs` "
        "instead."),
    triggers=(AMBIENT_NAMESPACE_EXAMPLE + """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: get-only, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  rules: [{to: [{operation: {methods: [GET]}}]}]
""",),
    passes=(AMBIENT_NAMESPACE_EXAMPLE + """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: get-only, namespace: shop}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  rules: [{to: [{operation: {methods: [GET]}}]}]
""" + WAYPOINT_EXAMPLE,),
)

SELECTOR_IGNORED = Rule(
    id="AMA503", name="selector-ignored-by-waypoint",
    title="Policy bound by selector is ignored by the waypoint",
    need="l7-authorization",
    rows=("U-WAYPOINT-TARGETREFS", "L-SECURITY", "L-OBSERVABILITY", "L-EXTENSIBILITY"),
    severity=Severity.WARNING, kinds=SELECTOR_POLICY_KINDS,
    reads=specs(*SELECTOR_POLICY_KINDS),
    rationale=(
        "Waypoints apply policies attached with `targetRefs` (to the waypoint Gateway or to a "
        "Service); they ignore `selector`. A selector-bound RequestAuthentication, Telemetry "
        "or WasmPlugin in an ambient namespace therefore does nothing even with a waypoint "
        "(https://istio.io/latest/docs/ambient/migrate/before-you-begin/)."),
    triggers=("""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  jwtRules: [{issuer: "https://issuer.example.com"}]
""" + WAYPOINT_EXAMPLE,),
)

ENVOYFILTER_AMBIENT = Rule(
    id="AMA504", name="envoyfilter-in-ambient",
    title="EnvoyFilter aimed at application pods in an ambient namespace",
    need="sidecar-envoyfilter", rows=("U-ENVOYFILTER-AMBIENT", "L-EXTENSIBILITY"),
    severity=Severity.ERROR, kinds=("EnvoyFilter",),
    reads=specs("EnvoyFilter"),
    rationale=(
        "Ambient pods have no sidecar, so an EnvoyFilter patching SIDECAR_INBOUND, "
        "SIDECAR_OUTBOUND or ANY for application workloads patches nothing. Port it to a "
        "waypoint (targetRefs) or to a supported API."),
    triggers=(AMBIENT_NAMESPACE_EXAMPLE + """apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: lua, namespace: shop}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: SIDECAR_INBOUND}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.lua}}
""",),
)


RULES = (L7_WITHOUT_WAYPOINT, SELECTOR_AUTHZ, SELECTOR_IGNORED, ENVOYFILTER_AMBIENT)


def _bound_by_target_refs(inventory: ScopedInventory, resource: Resource) -> list[str]:
    """TargetRefs of a policy that point at no waypoint in use (empty: all bound)."""
    namespace = resource.namespace or inventory.default_namespace
    unbound = []
    for ref in Selecting(resource).target_refs:
        kind, name = as_str(ref.get("kind")), as_str(ref.get("name"))
        if kind == "Gateway":
            if not any(g.name == name for g in inventory.waypoints(namespace)):
                unbound.append(f"Gateway {name}")
        elif kind == "Service" and not service_has_waypoint(inventory, namespace, name):
            unbound.append(f"Service {name}")
    return unbound


def _selector_bound(resource: Resource) -> bool:
    return bool(as_dict(resource.spec.get("selector")) or as_dict(
        resource.spec.get("workloadSelector")))


def _unserved(inventory: ScopedInventory, finding: Finding, namespace: str) -> list[str]:
    """What lacks a waypoint for an L7 finding: services, or the namespace itself."""
    if finding.services:
        return [f"Service {s}" for s in finding.services
                if not service_has_waypoint(inventory, namespace, s)]
    return [] if namespace_has_waypoint(inventory, namespace) else [f"namespace {namespace}"]


def _vs_feature_path(resource: Resource, path: FieldPath) -> FieldPath:
    """Point a VirtualService http finding at the first L7 key of the route (``fault:``)."""
    if resource.kind != "VirtualService" or len(path) != 3 or path[1] != "http":
        return path
    routes = VirtualService(resource).http_routes
    index = path[2]
    if not isinstance(index, int) or index >= len(routes):
        return path
    keys = [key for key in routing.HTTP_ROUTE_FEATURES if routes[index].get(key)]
    return (*path, keys[0]) if keys else (*path, "route")


def _l7_findings(inventory: ScopedInventory, detected: Sequence[Finding],
                 ambient: set[str]) -> Iterator[Finding]:
    """AMA501-AMA503 for every L7 capability finding in an ambient namespace."""
    seen: set[tuple[str, int]] = set()
    for source in detected:
        if source.effect is not Effect.NEEDS_WAYPOINT or source.namespace not in ambient:
            continue
        if not source.objects:
            continue
        resource, namespace = source.objects[0], source.namespace
        if inventory.has_target_refs(resource):
            unserved = _bound_by_target_refs(inventory, resource)
        elif resource.kind == "AuthorizationPolicy":
            rule = SELECTOR_AUTHZ
            if (rule.id, id(resource)) in seen:
                continue
            seen.add((rule.id, id(resource)))
            yield with_source_rows(_ztunnel_authz(resource, source), source)
            continue
        elif resource.kind in SELECTOR_POLICY_KINDS and _selector_bound(resource) and (
                not _unserved(inventory, source, namespace)):
            if (SELECTOR_IGNORED.id, id(resource)) in seen:
                continue
            seen.add((SELECTOR_IGNORED.id, id(resource)))
            yield with_source_rows(SELECTOR_IGNORED.finding(
                resource, f"{resource.ref} is bound by selector; the waypoint ignores it "
                          "(use targetRefs)", services=source.services,
                path=("spec", "selector")), source)
            continue
        else:
            unserved = _unserved(inventory, source, namespace)
        if not unserved or (L7_WITHOUT_WAYPOINT.id, id(resource)) in seen:
            continue
        seen.add((L7_WITHOUT_WAYPOINT.id, id(resource)))
        yield with_source_rows(L7_WITHOUT_WAYPOINT.finding(
            resource, f"{resource.ref} needs a waypoint ({source.rule.id} "
                      f"{source.rule.name}) but {', '.join(unserved)} has none in use; "
                      "ambient ignores it", services=source.services,
            path=_vs_feature_path(resource, source.path)), source)


def _ztunnel_authz(policy: Resource, source: Finding) -> Finding:
    """AMA502 in the words of the detector's computed change (``source.enforcement``)."""
    action = AuthorizationPolicy(policy).action
    enforcement = source.enforcement
    if action in ("CUSTOM", "AUDIT"):
        effect = f"ztunnel does not support {action}, so nobody enforces it"
    elif enforcement is not None and enforcement.detail:
        effect = enforcement.detail.removeprefix("on ztunnel ")
    else:
        effect = "ztunnel drops its HTTP attributes"
    scope = "by selector" if _selector_bound(policy) else "to the whole namespace"
    return SELECTOR_AUTHZ.finding(
        policy, f"{policy.ref} ({action}) is bound {scope}, so ztunnel enforces it: "
                f"{effect}; bind it to the waypoint with targetRefs",
        services=source.services, enforcement=enforcement,
        path=("spec", "selector") if _selector_bound(policy) else source.path)


def _envoy_filters(detected: Sequence[Finding], ambient: set[str]) -> Iterator[Finding]:
    """AMA504: sidecar EnvoyFilters that reach ambient namespaces."""
    for source in detected:
        if source.rule is not extensions.ENVOYFILTER_SIDECAR or not source.objects:
            continue
        targets = sorted(ambient) if source.namespace is None else (
            [source.namespace] if source.namespace in ambient else [])
        resource = source.objects[0]
        for namespace in targets:
            yield with_source_rows(ENVOYFILTER_AMBIENT.finding(
                resource, f"{resource.ref} patches application sidecars, but {namespace} "
                          "runs ambient and has none", namespace=namespace,
                services=source.services, path=source.path), source)


def check_l7_conformance(inventory: ScopedInventory, context: Context,
                         detected: Sequence[Finding]) -> Iterator[Finding]:
    """AMA501-AMA504 for the detectors' L7 and sidecar-EnvoyFilter findings in ambient."""
    ambient = ambient_namespaces(inventory, context, detected)
    if not ambient:
        return
    # With the waypoint Gateways unreadable (a scan without rights to them), "no waypoint"
    # would be a guess: the checks that rest on waypoints stay silent rather than wrong.
    if WAYPOINT_KIND not in context.unread:
        yield from _l7_findings(inventory, detected, ambient)
    yield from _envoy_filters(detected, ambient)


DETECTORS: tuple[Detector, ...] = ()
CHECKS = (Check(check_l7_conformance, RULES),)
