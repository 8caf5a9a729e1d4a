"""Conformance with the mode a namespace runs: configuration ambient ignores or misapplies.

These rules gate pull requests. They look only at namespaces that run ambient (labelled
``istio.io/dataplane-mode=ambient``, or every namespace / the recommended ones with
``--assume-mode``), and at namespaces labelled for both modes. They reuse the capability
rules' findings and never change a recommendation: each one sits on an object that a
capability rule already flagged with the same effect, or is a migration chore.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

from asm_mode_advisor.inventory import (
    DATAPLANE_LABEL,
    INJECTION_LABEL,
    REVISION_LABEL,
    USE_WAYPOINT_LABEL,
    WAYPOINT_FOR_LABEL,
    Inventory,
)
from asm_mode_advisor.kinds import pod_template_path
from asm_mode_advisor.model import Effect, Mode, Resource, Severity, as_dict, as_str
from asm_mode_advisor.rules import (
    extensions,
    namespace_state,
    observability,
    routing,
    security,
    topology,
    workloads,
)
from asm_mode_advisor.rules._base import Context, Detector, FieldPath, Finding, Rule
from asm_mode_advisor.views import AuthorizationPolicy, Selecting, VirtualService

USE_WAYPOINT_NAMESPACE_LABEL = "istio.io/use-waypoint-namespace"
#: Kinds whose ``selector`` a waypoint ignores (it reads ``targetRefs`` only).
SELECTOR_POLICY_KINDS = ("RequestAuthentication", "Telemetry", "WasmPlugin")
_CAPABILITY_MODULES = (routing, security, observability, extensions, topology, workloads,
                       namespace_state)
_NAMESPACE = """apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient}
---
"""
_WAYPOINT = """---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  namespace: shop
  labels: {istio.io/waypoint-for: service}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
"""

L7_WITHOUT_WAYPOINT = Rule(
    id="AMA501", name="l7-config-without-waypoint",
    title="L7 configuration in an ambient namespace has no waypoint in use",
    need="l7-routing", rows=("M-TRAFFIC", "M-SECURITY", "M-OBSERVABILITY"),
    severity=Severity.ERROR,
    kinds=("VirtualService", "HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute",
           "DestinationRule", "RequestAuthentication", "Telemetry", "WasmPlugin",
           "EnvoyFilter"),
    rationale=(
        "Ztunnel is L4 only: HTTP routing, request-level traffic policy, JWT rules, L7 "
        "telemetry and Wasm are silently ignored in an ambient namespace until a waypoint "
        "(a Gateway of class `istio-waypoint`) exists and the namespace or the Service is "
        "labelled `istio.io/use-waypoint` with its name."),
    triggers=(_NAMESPACE + """apiVersion: networking.istio.io/v1
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
""" + _WAYPOINT,),
)

SELECTOR_AUTHZ = Rule(
    id="AMA502", name="l7-authz-on-ztunnel",
    title="L7 AuthorizationPolicy is enforced by ztunnel in an ambient namespace",
    need="l7-authorization", severity=Severity.ERROR, kinds=("AuthorizationPolicy",),
    rationale=(
        "An AuthorizationPolicy bound by `selector` (or to the whole namespace) is enforced by "
        "ztunnel. Ztunnel cannot match HTTP attributes: an ALLOW policy with L7 rules turns "
        "into deny-all, and a DENY policy's L7 rules match nothing. Bind it to the waypoint "
        "with `targetRefs` instead."),
    triggers=(_NAMESPACE + """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: get-only, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  rules: [{to: [{operation: {methods: [GET]}}]}]
""",),
    passes=(_NAMESPACE + """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: get-only, namespace: shop}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  rules: [{to: [{operation: {methods: [GET]}}]}]
""" + _WAYPOINT,),
)

SELECTOR_IGNORED = Rule(
    id="AMA503", name="selector-ignored-by-waypoint",
    title="Policy bound by selector is ignored by the waypoint",
    need="l7-authorization", rows=("L-SECURITY", "L-OBSERVABILITY", "L-EXTENSIBILITY"),
    severity=Severity.WARNING, kinds=SELECTOR_POLICY_KINDS,
    rationale=(
        "Waypoints apply policies attached with `targetRefs` (to the waypoint Gateway or to a "
        "Service); they ignore `selector`. A selector-bound RequestAuthentication, Telemetry "
        "or WasmPlugin in an ambient namespace therefore does nothing even with a waypoint."),
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
""" + _WAYPOINT,),
)

ENVOYFILTER_AMBIENT = Rule(
    id="AMA504", name="envoyfilter-in-ambient",
    title="EnvoyFilter aimed at application pods in an ambient namespace",
    need="sidecar-envoyfilter", severity=Severity.ERROR, kinds=("EnvoyFilter",),
    rationale=(
        "Ambient pods have no sidecar, so an EnvoyFilter patching SIDECAR_INBOUND, "
        "SIDECAR_OUTBOUND or ANY for application workloads patches nothing. Port it to a "
        "waypoint (targetRefs) or to a supported API."),
    triggers=(_NAMESPACE + """apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: lua, namespace: shop}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: SIDECAR_INBOUND}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.lua}}
""",),
)

MISSING_WAYPOINT = Rule(
    id="AMA505", name="use-waypoint-missing",
    title="istio.io/use-waypoint names a waypoint that does not exist",
    need="mode-labels", rows=("M-TRAFFIC", "M-UTILIZATION"), severity=Severity.ERROR,
    kinds=("Namespace", "Service", "Deployment", "StatefulSet", "Pod"),
    rationale=(
        "Traffic is sent to the named waypoint only when a Gateway of class "
        "`istio-waypoint` with that name exists (in `istio.io/use-waypoint-namespace`, or the "
        "object's own namespace). A typo or a missing Gateway leaves every L7 rule unapplied."),
    triggers=("""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypiont}
""" + _WAYPOINT,),
)

WAYPOINT_FOR_MISMATCH = Rule(
    id="AMA506", name="waypoint-for-mismatch",
    title="Waypoint does not accept the traffic type it is bound for",
    need="mode-labels", rows=("M-TRAFFIC", "M-UTILIZATION"), severity=Severity.ERROR,
    kinds=("Namespace", "Service", "Deployment", "StatefulSet", "Pod"),
    rationale=(
        "A waypoint labelled `istio.io/waypoint-for: workload` does not take traffic addressed "
        "to Services, and `service` (the default) does not take traffic addressed to pods. "
        "Binding a Service to a workload-only waypoint, or a pod to a service-only one, leaves "
        "the L7 rules unapplied; use `all` or bind the matching object."),
    triggers=("""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient}
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: shop
  labels: {istio.io/use-waypoint: waypoint}
spec:
  selector: {app: reviews}
  ports: [{port: 9080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  namespace: shop
  labels: {istio.io/waypoint-for: workload}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
""",),
)

DUAL_MODE = Rule(
    id="AMA507", name="dual-mode-namespace",
    title="Namespace is labelled for sidecar injection and ambient at once",
    need="mode-labels", severity=Severity.ERROR, kinds=("Namespace",),
    rationale=(
        "With both labels, new pods get a sidecar and the ambient CNI skips them, so the "
        "namespace silently runs sidecar mode while its config is written for ambient. Keep "
        "one mode label."),
    triggers=("""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled, istio.io/dataplane-mode: ambient}
""",),
)

SIDECAR_LEFTOVERS = Rule(
    id="AMA508", name="sidecar-config-in-ambient",
    title="Sidecar resource or sidecar-only pod settings in an ambient namespace",
    need="sidecar-config", severity=Severity.WARNING,
    kinds=("Sidecar", "Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod"),
    rationale=(
        "Sidecar resources, `sidecar.istio.io/inject: \"true\"` and sidecar-only annotations "
        "either do nothing in an ambient namespace or pull pods back into sidecar mode, which "
        "cannot talk to ambient pods (N-MIXED). Remove them."),
    triggers=(_NAMESPACE + """apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress: [{hosts: ["./*"]}]
""",),
)

RULES = (L7_WITHOUT_WAYPOINT, SELECTOR_AUTHZ, SELECTOR_IGNORED, ENVOYFILTER_AMBIENT,
         MISSING_WAYPOINT, WAYPOINT_FOR_MISMATCH, DUAL_MODE, SIDECAR_LEFTOVERS)


@dataclass(frozen=True, slots=True)
class Binding:
    """An ``istio.io/use-waypoint`` label: who carries it, and the waypoint it names."""

    holder: Resource
    name: str
    namespace: str
    traffic: str  # "service", "workload" or "namespace"
    path: FieldPath


def binding_of(holder: Resource, labels: dict[str, str], traffic: str,
               path: FieldPath) -> Binding | None:
    """The waypoint binding a label set declares (``none`` opts out)."""
    name = labels.get(USE_WAYPOINT_LABEL)
    if not name or name == "none":
        return None
    own = holder.name if holder.kind == "Namespace" else (holder.namespace or "")
    namespace = labels.get(USE_WAYPOINT_NAMESPACE_LABEL) or own
    return Binding(holder=holder, name=name, namespace=namespace, traffic=traffic, path=path)


def waypoint_named(inventory: Inventory, binding: Binding) -> Resource | None:
    """The waypoint Gateway a binding names, if it is in the input."""
    return next((g for g in inventory.waypoints(binding.namespace) if g.name == binding.name),
                None)


def waypoint_for(gateway: Resource) -> str:
    """Which traffic a waypoint accepts (``service`` unless labelled otherwise)."""
    return gateway.labels.get(WAYPOINT_FOR_LABEL, "service")


def _accepts(gateway: Resource, traffic: str) -> bool:
    accepted = waypoint_for(gateway)
    if traffic == "namespace":
        return accepted != "none"
    return accepted in (traffic, "all")


def service_binding(inventory: Inventory, namespace: str, service: str) -> Binding | None:
    """The binding that applies to a Service: its own label, else its namespace's."""
    found = inventory.service(namespace, service)
    if found is not None and USE_WAYPOINT_LABEL in found.labels:
        return binding_of(found, found.labels, "service", _label_path())
    namespace_object = inventory.namespace_objects.get(namespace)
    if namespace_object is None:
        return None
    return binding_of(namespace_object, namespace_object.labels, "namespace", _label_path())


def _label_path(prefix: FieldPath = ()) -> FieldPath:
    return (*prefix, "metadata", "labels", USE_WAYPOINT_LABEL)


def service_has_waypoint(inventory: Inventory, namespace: str, service: str) -> bool:
    """True when a waypoint that accepts service traffic is in use for the Service."""
    binding = service_binding(inventory, namespace, service)
    if binding is None:
        return False
    gateway = waypoint_named(inventory, binding)
    return gateway is not None and _accepts(gateway, "service")


def namespace_has_waypoint(inventory: Inventory, namespace: str) -> bool:
    """True when the namespace label binds an existing waypoint."""
    namespace_object = inventory.namespace_objects.get(namespace)
    if namespace_object is None:
        return False
    binding = binding_of(namespace_object, namespace_object.labels, "namespace", ())
    if binding is None:
        return False
    gateway = waypoint_named(inventory, binding)
    return gateway is not None and _accepts(gateway, "namespace")


def ambient_namespaces(inventory: Inventory, context: Context,
                       capability: list[Finding] | None) -> set[str]:
    """Namespaces the conformance checks apply to, per ``--assume-mode``."""
    if context.assume_mode == "ambient":
        return set(inventory.namespaces)
    labelled = {ns for ns in inventory.namespaces if inventory.current_mode(ns) is Mode.AMBIENT}
    if context.assume_mode != "recommended" or capability is None:
        return labelled
    blocked = {f.namespace for f in capability if f.effect is Effect.BLOCKS_AMBIENT}
    if None in blocked:
        return labelled
    return labelled | {ns for ns in inventory.namespaces
                       if ns not in blocked and inventory.current_mode(ns) is not Mode.CONFLICT}


def capability_findings(inventory: Inventory, context: Context) -> list[Finding]:
    """The capability rules' findings (conformance builds on them)."""
    return [f for module in _CAPABILITY_MODULES for detect in module.DETECTORS
            for f in _remembered(inventory, context, detect)]


def _remembered(inventory: Inventory, context: Context, detect: Detector) -> list[Finding]:
    """A capability rule's findings, read back from the engine's run when it ran already."""

    def run() -> list[Finding]:
        return list(detect(inventory, context))

    return inventory.remembered((detect, context), run)


def _bound_by_target_refs(inventory: Inventory, resource: Resource) -> list[str]:
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


def _unserved(inventory: Inventory, finding: Finding, namespace: str) -> list[str]:
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


def _with_rows(finding: Finding, source: Finding) -> Finding:
    return dataclasses.replace(finding, extra_rows=source.rows)


def _l7_findings(inventory: Inventory, capability: list[Finding],
                 ambient: set[str]) -> Iterator[Finding]:
    """AMA501-AMA503 for every L7 capability finding in an ambient namespace."""
    seen: set[tuple[str, int]] = set()
    for source in capability:
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
            yield _with_rows(_ztunnel_authz(resource, source), source)
            continue
        elif resource.kind in SELECTOR_POLICY_KINDS and _selector_bound(resource) and (
                not _unserved(inventory, source, namespace)):
            if (SELECTOR_IGNORED.id, id(resource)) in seen:
                continue
            seen.add((SELECTOR_IGNORED.id, id(resource)))
            yield _with_rows(SELECTOR_IGNORED.finding(
                resource, f"{resource.ref} is bound by selector; the waypoint ignores it "
                          "(use targetRefs)", services=source.services,
                path=("spec", "selector")), source)
            continue
        else:
            unserved = _unserved(inventory, source, namespace)
        if not unserved or (L7_WITHOUT_WAYPOINT.id, id(resource)) in seen:
            continue
        seen.add((L7_WITHOUT_WAYPOINT.id, id(resource)))
        yield _with_rows(L7_WITHOUT_WAYPOINT.finding(
            resource, f"{resource.ref} needs a waypoint ({source.rule.id} "
                      f"{source.rule.name}) but {', '.join(unserved)} has none in use; "
                      "ambient ignores it", services=source.services,
            path=_vs_feature_path(resource, source.path)), source)


def _ztunnel_authz(policy: Resource, source: Finding) -> Finding:
    action = AuthorizationPolicy(policy).action
    effect = {"ALLOW": "turns it into deny-all",
              "DENY": "drops its L7 rules, so it denies nothing"}.get(
        action, f"does not enforce {action}")
    scope = "by selector" if _selector_bound(policy) else "to the whole namespace"
    return SELECTOR_AUTHZ.finding(
        policy, f"{policy.ref} ({action}) is bound {scope}, so ztunnel enforces it and "
                f"{effect}; bind it to the waypoint with targetRefs",
        services=source.services,
        path=("spec", "selector") if _selector_bound(policy) else source.path)


def _envoy_filters(capability: list[Finding], ambient: set[str]) -> Iterator[Finding]:
    """AMA504: sidecar EnvoyFilters that reach ambient namespaces."""
    for source in capability:
        if source.rule is not extensions.ENVOYFILTER_SIDECAR or not source.objects:
            continue
        targets = sorted(ambient) if source.namespace is None else (
            [source.namespace] if source.namespace in ambient else [])
        resource = source.objects[0]
        for namespace in targets:
            yield _with_rows(ENVOYFILTER_AMBIENT.finding(
                resource, f"{resource.ref} patches application sidecars, but {namespace} "
                          "runs ambient and has none", namespace=namespace,
                services=source.services, path=source.path), source)


def _bindings(inventory: Inventory, namespace: str) -> Iterator[Binding]:
    namespace_object = inventory.namespace_objects.get(namespace)
    if namespace_object is not None:
        found = binding_of(namespace_object, namespace_object.labels, "namespace",
                           _label_path())
        if found is not None:
            yield found
    for service in inventory.services(namespace):
        found = binding_of(service, service.labels, "service", _label_path())
        if found is not None:
            yield found
    for workload in inventory.workloads(namespace):
        prefix: FieldPath = () if workload.resource.kind == "Pod" else ("spec", "template")
        found = binding_of(workload.resource, workload.pod_labels, "workload",
                           _label_path(prefix))
        if found is not None:
            yield found


def _waypoint_bindings(inventory: Inventory, ambient: set[str]) -> Iterator[Finding]:
    """AMA505/AMA506: bindings to missing waypoints or to ones that refuse the traffic."""
    known = set(inventory.namespaces)
    for namespace in sorted(ambient):
        for binding in _bindings(inventory, namespace):
            holder = binding.holder
            gateway = waypoint_named(inventory, binding)
            if gateway is None:
                if binding.namespace in known:
                    yield MISSING_WAYPOINT.finding(
                        holder, f"{holder.ref} uses waypoint {binding.namespace}/"
                                f"{binding.name}, which does not exist", namespace=namespace,
                        path=binding.path)
            elif not _accepts(gateway, binding.traffic):
                yield WAYPOINT_FOR_MISMATCH.finding(
                    holder, f"{holder.ref} sends {binding.traffic} traffic to waypoint "
                            f"{gateway.ref}, which is for {waypoint_for(gateway)}",
                    namespace=namespace, path=binding.path, objects=(gateway,))


def _dual_mode(inventory: Inventory) -> Iterator[Finding]:
    """AMA507: namespaces with both mode labels."""
    for namespace in inventory.of_kind("Namespace"):
        if inventory.current_mode(namespace.name) is Mode.CONFLICT:
            label = INJECTION_LABEL if INJECTION_LABEL in namespace.labels else REVISION_LABEL
            yield DUAL_MODE.finding(
                namespace, f"{namespace.ref} has {label} and {DATAPLANE_LABEL}=ambient; new "
                           "pods get sidecars", namespace=namespace.name,
                path=("metadata", "labels", DATAPLANE_LABEL))


def _pod_metadata_path(resource: Resource) -> FieldPath:
    return (*pod_template_path(resource.kind), "metadata")


def _leftovers(capability: list[Finding], ambient: set[str]) -> Iterator[Finding]:
    """AMA508: Sidecar objects, injection overrides and sidecar-only annotations."""
    rules = {namespace_state.SIDECAR_RESOURCE.id: ("spec",),
             namespace_state.INJECT_OVERRIDE.id: ("labels",),
             namespace_state.SIDECAR_ANNOTATIONS.id: ("annotations",)}
    for source in capability:
        if source.rule.id not in rules or source.namespace not in ambient or not source.objects:
            continue
        resource = source.objects[0]
        tail = rules[source.rule.id]
        path = ("spec",) if resource.kind == "Sidecar" else (
            *_pod_metadata_path(resource), *tail)
        yield _with_rows(SIDECAR_LEFTOVERS.finding(
            resource, f"{source.message} in ambient namespace {source.namespace}",
            workloads=source.workloads, path=path), source)


WAYPOINT_KIND = "Gateway.gateway.networking.k8s.io"


def detect_conformance(inventory: Inventory, context: Context) -> Iterator[Finding]:
    """Every conformance check; the capability rules run again only when one applies."""
    yield from _dual_mode(inventory)
    labelled = ambient_namespaces(inventory, context, None)
    if not labelled and context.assume_mode not in ("ambient", "recommended"):
        return
    capability = capability_findings(inventory, context)
    ambient = ambient_namespaces(inventory, context, capability)
    if not ambient:
        return
    # With the waypoint Gateways unreadable (a scan without rights to them), "no waypoint"
    # would be a guess: the checks that rest on waypoints stay silent rather than wrong.
    waypoints_known = WAYPOINT_KIND not in context.unread
    if waypoints_known:
        yield from _l7_findings(inventory, capability, ambient)
    yield from _envoy_filters(capability, ambient)
    if waypoints_known:
        yield from _waypoint_bindings(inventory, ambient)
    yield from _leftovers(capability, ambient)


DETECTORS = (detect_conformance,)
