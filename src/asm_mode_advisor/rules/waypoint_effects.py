"""What a planned waypoint changes for callers: identities seen by L4 policy, ingress.

Both checks ask the same question first: which Services get a waypoint? A namespace gets one
when the detectors' findings make it ambient-waypoint, and the waypoint serves the Services
its needs-waypoint findings name (``waypoint_targets``, the rule the verdict uses too).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from asm_mode_advisor.domain import WAYPOINT_CLASS
from asm_mode_advisor.enforcement import Change, Enforcement, Enforcer
from asm_mode_advisor.kinds import GATEWAY_API
from asm_mode_advisor.model import Mode, Resource, Severity, as_dict, as_list, as_str, dicts
from asm_mode_advisor.rules._ambient import ambient_namespaces, service_has_waypoint
from asm_mode_advisor.rules._base import (
    DEFAULT_WAYPOINT_NAME,
    Check,
    Context,
    Detector,
    Finding,
    Rule,
    namespace_modes,
    specs,
    waypoint_targets,
)
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.rules.security import l7_fields
from asm_mode_advisor.views import AuthorizationPolicy, VirtualService

#: Service or Namespace label that sends an ingress gateway's traffic through the waypoint.
INGRESS_USE_WAYPOINT_LABEL = "istio.io/ingress-use-waypoint"
#: Gateway annotation that names the service account of its deployment instead of its name.
GATEWAY_SA_ANNOTATION = "gateway.istio.io/service-account"
TRUST_DOMAIN = "cluster.local"
#: ``from.source`` fields and ``when`` keys that match the caller's identity.
IDENTITY_SOURCES = frozenset({"principals", "notPrincipals", "namespaces", "notNamespaces",
                              "serviceAccounts", "notServiceAccounts"})
IDENTITY_KEYS = frozenset({"source.principal", "source.namespace"})
ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute")
#: Needs a destination's own proxy serves: its sidecar today, only its waypoint after the move.
#: (Routes are client-side: an ingress gateway never applied a mesh VirtualService.)
SERVER_POLICY_NEEDS = frozenset({"jwt-authentication", "l7-authorization",
                                 "external-authorization", "l7-observability",
                                 "wasm-extension"})

L4_POLICY_URL = "https://istio.io/latest/docs/ambient/usage/l4-policy/"
SA_SOURCE_URL = ("https://github.com/istio/istio/blob/master/pilot/pkg/config/kube/gateway/"
                 "deploymentcontroller.go")
MIGRATE_URL = "https://istio.io/latest/docs/ambient/migrate/"

_NAMESPACE = """apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
  labels: {istio-injection: enabled}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec:
  selector: {app: reviews}
  ports: [{port: 9080, name: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: bookinfo}
spec:
  selector: {matchLabels: {app: reviews}}
  template:
    metadata: {labels: {app: reviews, version: v1}}
    spec:
      containers: [{name: reviews, image: docker.io/istio/examples-bookinfo-reviews-v1:1.20.3}]
---
"""
_JWT = """apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: reviews-jwt, namespace: bookinfo}
spec:
  selector: {matchLabels: {app: reviews}}
  jwtRules: [{issuer: "testing@secure.istio.io"}]
---
"""
_L4_POLICY = """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: reviews-callers, namespace: bookinfo}
spec:
  selector: {matchLabels: {app: reviews}}
  rules:
  - from: [{source: {namespaces: [frontend]}}]
"""
_INGRESS = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo, namespace: bookinfo}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - match: [{uri: {prefix: /reviews}}]
    route: [{destination: {host: reviews, port: {number: 9080}}}]
"""
_AMBIENT = """apiVersion: v1
kind: Namespace
metadata:
  name: bookinfo
  labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: bookinfo}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
---
""" + _NAMESPACE.split("---\n", 1)[1]
_JWT_AT_WAYPOINT = """apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: reviews-jwt, namespace: bookinfo}
spec:
  targetRefs: [{kind: Service, group: "", name: reviews}]
  jwtRules: [{issuer: "testing@secure.istio.io"}]
---
"""

WAYPOINT_IDENTITY = Rule(
    id="AMA425", name="waypoint-identity",
    title="L4 AuthorizationPolicy on client identity sees the waypoint's identity",
    need="waypoint-identity", severity=Severity.WARNING, kinds=("AuthorizationPolicy",),
    rows=("U-WAYPOINT-IDENTITY", "L-SECURITY", "U-WAYPOINT-BYPASS"),
    reads=specs("AuthorizationPolicy"),
    rationale=(
        "Once traffic to a Service passes its waypoint, the destination ztunnel sees the "
        "waypoint's identity, not the client's: waypoints do not impersonate the source "
        f"({L4_POLICY_URL}, \"Authorization policy attachment\"). An L4 AuthorizationPolicy "
        "bound by `selector` (or namespace-wide) that matches callers by `principals`, "
        "`namespaces` or `serviceAccounts` then denies (ALLOW) or lets through (DENY) calls it "
        "decides on today. The waypoint of an `istio-waypoint` Gateway runs as the service "
        "account named like the Gateway (no class suffix; `gateway.istio.io/service-account` "
        f"overrides it, {SA_SOURCE_URL}), so `plan` adds "
        "`cluster.local/ns/<namespace>/sa/<waypoint>` to the allowed principals, and the "
        "caller checks belong on the waypoint (`targetRefs`). A call straight to a pod still "
        "skips the waypoint; when L7 security moves there, `plan` offers a selector policy "
        "that denies every caller but the waypoint (and `--allow-direct` ones), as the "
        "migration guide's \"prevent waypoint bypass\" does "
        "(https://istio.io/latest/docs/ambient/migrate/migrate-policies/)."),
    triggers=(_NAMESPACE + _JWT + _L4_POLICY,),
    passes=(_NAMESPACE + _L4_POLICY,),
)

INGRESS_SKIPS_WAYPOINT = Rule(
    id="AMA426", name="ingress-skips-waypoint",
    title="Ingress traffic skips the waypoint that takes over a Service's L7 policies",
    need="ingress-waypoint", severity=Severity.WARNING,
    kinds=("Service", "VirtualService", *ROUTE_KINDS, "Gateway"),
    reads=specs("VirtualService", *ROUTE_KINDS),
    rationale=(
        "An ingress gateway (a VirtualService bound to a Gateway other than `mesh`, or a "
        "Gateway API route whose parent is a Gateway of a non-waypoint class) sends traffic "
        "straight to the backend's pods. Today the backend's sidecar applies its JWT, "
        "authorization, telemetry and Wasm policies to that traffic too; after the move only "
        "the waypoint does, and the ingress gateway goes through it only when the Service or "
        f"its namespace is labelled `{INGRESS_USE_WAYPOINT_LABEL}: \"true\"` "
        f"({MIGRATE_URL}; istio/istio `pilot/pkg/xds/endpoints/endpoint_builder.go`: "
        "\"Ingress behaves differently, must explicitly opt in\"). Mesh routes are left out: "
        "an ingress gateway never applied them. `plan` adds the label to the Service."),
    triggers=(_NAMESPACE + _JWT + _INGRESS,),
    passes=(_NAMESPACE + _INGRESS,),
)

INGRESS_SKIPS_WAYPOINT_AMBIENT = Rule(
    id="AMA515", name="ingress-skips-waypoint-ambient",
    title="Ingress traffic skips the waypoint of a Service in an ambient namespace",
    need="ingress-waypoint", severity=Severity.ERROR,
    kinds=("Service", "VirtualService", *ROUTE_KINDS, "Gateway"),
    reads=specs("VirtualService", *ROUTE_KINDS),
    rationale=(
        "In an ambient namespace bound to a waypoint, the waypoint applies the Service's L7 "
        "routes and policies only to in-mesh traffic: an ingress gateway sends its traffic "
        "to the pods directly unless the Service or the namespace is labelled "
        f"`{INGRESS_USE_WAYPOINT_LABEL}: \"true\"` ({MIGRATE_URL}), so north-south requests "
        "are not checked by the waypoint's policies."),
    triggers=(_AMBIENT + _JWT_AT_WAYPOINT + _INGRESS,),
    passes=(_AMBIENT.replace("istio.io/use-waypoint: waypoint}",
                             f"istio.io/use-waypoint: waypoint, {INGRESS_USE_WAYPOINT_LABEL}: "
                             "\"true\"}") + _JWT_AT_WAYPOINT + _INGRESS,),
)

RULES = (WAYPOINT_IDENTITY, INGRESS_SKIPS_WAYPOINT, INGRESS_SKIPS_WAYPOINT_AMBIENT)


@dataclass(frozen=True, slots=True)
class WaypointPlan:
    """The waypoint a namespace gets (or keeps) and the Services it serves."""

    namespace: str
    name: str
    services: frozenset[str]
    gateway: Resource | None  # the Gateway, when it exists already
    #: Services whose own L7 policy (JWT, authorization, telemetry, Wasm) moves onto it.
    policy_services: frozenset[str] = frozenset()

    @property
    def ref(self) -> str:
        """``Gateway/<namespace>/<name>`` for messages."""
        return f"Gateway/{self.namespace}/{self.name}"

    @property
    def principal(self) -> str:
        """The SPIFFE principal the waypoint presents to the destination ztunnel."""
        return waypoint_principal(self.namespace, self.name, self.gateway)


def waypoint_principal(namespace: str, name: str, gateway: Resource | None = None) -> str:
    """``cluster.local/ns/<namespace>/sa/<service account>`` of an istio-waypoint Gateway."""
    account = (gateway.annotations.get(GATEWAY_SA_ANNOTATION) if gateway is not None
               else None) or name
    return f"{TRUST_DOMAIN}/ns/{namespace}/sa/{account}"


def planned_waypoints(inventory: ScopedInventory,
                      detected: Sequence[Finding]) -> dict[str, WaypointPlan]:
    """Per namespace recommended ambient-waypoint, its waypoint and the Services behind it."""
    namespaces = inventory.advised_namespaces
    by_namespace: dict[str | None, list[Finding]] = defaultdict(list)
    for finding in detected:
        by_namespace[finding.namespace].append(finding)
    found = {}
    for namespace, mode in namespace_modes(namespaces, detected).items():
        if mode is not Mode.AMBIENT_WAYPOINT:
            continue
        own = by_namespace.get(namespace, []) + by_namespace.get(None, [])
        names = [s.name for s in inventory.services(namespace)]
        services, _ = waypoint_targets(own, names)
        policies, _ = waypoint_targets(
            [f for f in own if f.rule.need in SERVER_POLICY_NEEDS], names)
        existing = inventory.waypoints(namespace)
        gateway = existing[0] if existing else None
        found[namespace] = WaypointPlan(
            namespace=namespace, name=gateway.name if gateway else DEFAULT_WAYPOINT_NAME,
            services=services, gateway=gateway, policy_services=policies)
    return found


def client_identity_fields(policy: Resource) -> list[str]:
    """Client-identity attributes (principals, namespaces, service accounts) a policy uses."""
    found: set[str] = set()
    for rule in dicts(policy.spec.get("rules")):
        for entry in dicts(rule.get("from")):
            found.update(k for k in as_dict(entry.get("source")) if k in IDENTITY_SOURCES)
        for condition in dicts(rule.get("when")):
            key = as_str(condition.get("key"))
            if key in IDENTITY_KEYS:
                found.add(key)
    return sorted(found)


def names_principal(policy: Resource, principal: str) -> bool:
    """True when a rule of the policy names ``principal`` (the waypoint is accounted for)."""
    return any(principal in as_list(as_dict(entry.get("source")).get(key))
               for rule in dicts(policy.spec.get("rules")) for entry in dicts(rule.get("from"))
               for key in ("principals", "notPrincipals"))


def _identity_change(action: str, fields: list[str], principal: str) -> tuple[Change, str]:
    """What the waypoint's identity does to the policy, the consequence and the fix, in words."""
    if action == "ALLOW":
        return Change.STRICTER, (f"calls through the waypoint that it allows today are denied; "
                                 f"allow {principal} too (plan adds it) and check the callers "
                                 "at the waypoint (targetRefs)")
    if any(not f.startswith("not") for f in fields):
        return Change.LOOSER, ("its DENY rules no longer match calls through the waypoint; "
                               "move them to the waypoint (targetRefs), which sees the caller")
    return Change.STRICTER, (f"calls through the waypoint match its DENY rules and are denied; "
                             f"exempt {principal} (notPrincipals) and check the callers at the "
                             "waypoint (targetRefs)")


#: Who applies a selector policy today, by the namespace's current mode.
TODAY = {Mode.SIDECAR: Enforcer.SERVER_SIDECAR, Mode.AMBIENT: Enforcer.ZTUNNEL}


def identity_findings(inventory: ScopedInventory, waypoint: WaypointPlan) -> Iterator[Finding]:
    """AMA425 for each L4 selector policy on client identity behind ``waypoint``."""
    today = TODAY.get(inventory.current_mode(waypoint.namespace), Enforcer.NOBODY)
    for resource in inventory.of_kind("AuthorizationPolicy", waypoint.namespace):
        policy = AuthorizationPolicy(resource)
        if (inventory.has_target_refs(resource) or policy.action not in ("ALLOW", "DENY")
                or any(l7_fields(rule) for rule in policy.rules)):
            continue  # L7 and targetRefs policies move to (or are on) the waypoint
        fields = client_identity_fields(resource)
        hit = sorted(waypoint.services.intersection(inventory.policy_services(resource)))
        if not fields or not hit or names_principal(resource, waypoint.principal):
            continue  # no caller identity, no Service behind the waypoint, or already fixed
        change, effect = _identity_change(policy.action, fields, waypoint.principal)
        yield WAYPOINT_IDENTITY.finding(
            resource,
            f"{policy.ref} ({policy.action}) matches callers by {', '.join(fields)} on "
            f"{', '.join(hit)}, which get the waypoint {waypoint.ref}: ztunnel will see the "
            f"waypoint's identity {waypoint.principal}, not the caller's, so {effect}",
            services=hit, path=("spec", "rules"),
            enforcement=Enforcement(
                today=today, after_move=Enforcer.ZTUNNEL, change=change,
                detail=f"callers through the waypoint arrive as {waypoint.principal}"))


@dataclass(frozen=True, slots=True)
class IngressRoute:
    """A route an ingress gateway applies, and one Service it sends traffic to."""

    route: Resource
    namespace: str
    service: str


def _virtual_service_backends(inventory: ScopedInventory) -> Iterator[IngressRoute]:
    for resource in inventory.of_kind("VirtualService"):
        vs = VirtualService(resource)
        if not any(g != "mesh" for g in vs.gateways):
            continue
        namespace = resource.namespace or inventory.default_namespace
        for route in (*vs.http_routes, *vs.tcp_routes, *vs.tls_routes):
            for destination in dicts(route.get("route")):
                host = as_str(as_dict(destination.get("destination")).get("host"))
                resolved = inventory.resolve_host(host, namespace) if host else None
                if resolved is not None:
                    yield IngressRoute(resource, *resolved)


def _ingress_parent(inventory: ScopedInventory, route: Resource) -> bool:
    """True when a parentRef names a Gateway in the input that is not a waypoint."""
    own = route.namespace or inventory.default_namespace
    for parent in dicts(route.spec.get("parentRefs")):
        if as_str(parent.get("kind")) not in ("", "Gateway") or as_str(
                parent.get("group")) not in ("", GATEWAY_API):
            continue
        namespace = as_str(parent.get("namespace")) or own
        name = as_str(parent.get("name"))
        if any(g.name == name and as_str(g.spec.get("gatewayClassName")) != WAYPOINT_CLASS
               for g in inventory.of_kind("Gateway", namespace, group=GATEWAY_API)):
            return True
    return False


def _gateway_route_backends(inventory: ScopedInventory) -> Iterator[IngressRoute]:
    for kind in ROUTE_KINDS:
        for resource in inventory.of_kind(kind, group=GATEWAY_API):
            if not _ingress_parent(inventory, resource):
                continue
            own = resource.namespace or inventory.default_namespace
            for rule in dicts(resource.spec.get("rules")):
                for backend in dicts(rule.get("backendRefs")):
                    if as_str(backend.get("kind")) in ("", "Service") and as_str(
                            backend.get("group")) == "" and as_str(backend.get("name")):
                        yield IngressRoute(resource, as_str(backend.get("namespace")) or own,
                                           as_str(backend.get("name")))


def ingress_routes(inventory: ScopedInventory) -> dict[tuple[str, str], list[Resource]]:
    """Ingress routes by the ``(namespace, Service)`` they send traffic to, in input order."""
    found: dict[tuple[str, str], list[Resource]] = defaultdict(list)
    for item in (*_virtual_service_backends(inventory), *_gateway_route_backends(inventory)):
        routes = found[(item.namespace, item.service)]
        if all(r is not item.route for r in routes):
            routes.append(item.route)
    return found


def opted_in(inventory: ScopedInventory, namespace: str, service: Resource | None) -> bool:
    """True when the Service or its namespace sends ingress traffic through the waypoint."""
    holders = [service, inventory.namespace_objects.get(namespace)]
    return any(h is not None and h.labels.get(INGRESS_USE_WAYPOINT_LABEL, "").lower() == "true"
               for h in holders)


def ingress_findings(inventory: ScopedInventory, waypoints: dict[str, WaypointPlan],
                     ambient: set[str]) -> Iterator[Finding]:
    """AMA426 (advice) or AMA515 (ambient, waypoint in use) per ingress backend behind one."""
    for (namespace, name), routes in sorted(ingress_routes(inventory).items()):
        waypoint = waypoints.get(namespace)
        service = inventory.service(namespace, name)
        if waypoint is None or name not in waypoint.policy_services or opted_in(
                inventory, namespace, service):
            continue
        refs = ", ".join(r.ref for r in routes)
        path = ("metadata", "labels") if service is not None else ()
        label = f"{INGRESS_USE_WAYPOINT_LABEL}=true"
        if namespace in ambient and service_has_waypoint(inventory, namespace, name):
            yield INGRESS_SKIPS_WAYPOINT_AMBIENT.finding(
                service, f"Service {namespace}/{name} uses the waypoint {waypoint.ref}, but "
                f"ingress route(s) {refs} send traffic to its pods directly: the L7 policies "
                f"the waypoint applies to it (JWT, authorization, telemetry, Wasm) are not "
                f"applied to ingress traffic until the Service is labelled {label}",
                namespace=namespace, services=[name],
                objects=routes, path=path)
            continue
        sidecar = inventory.current_mode(namespace) is Mode.SIDECAR
        yield INGRESS_SKIPS_WAYPOINT.finding(
            service, f"Service {namespace}/{name} gets its L7 policies (JWT, authorization, "
            f"telemetry, Wasm) at the waypoint {waypoint.ref} and is the backend of ingress "
            f"route(s) {refs}: an ingress gateway sends traffic to its pods directly, so those "
            f"policies skip ingress traffic unless the Service is labelled {label} (plan adds "
            "it)", namespace=namespace,
            services=[name], objects=routes, path=path,
            enforcement=Enforcement(
                today=Enforcer.SERVER_SIDECAR, after_move=Enforcer.NOBODY,
                change=Change.NOT_ENFORCED,
                detail="the Service's L7 policies, for traffic from the ingress gateway",
            ) if sidecar else None)


def check_waypoint_effects(inventory: ScopedInventory, context: Context,
                           detected: Sequence[Finding]) -> Iterator[Finding]:
    """Waypoint identity at L4 policies, and ingress routes that skip the waypoint.

    Ambient namespaces are those the conformance checks apply to (``--assume-mode``).
    """
    waypoints = planned_waypoints(inventory, detected)
    for namespace in sorted(waypoints):
        yield from identity_findings(inventory, waypoints[namespace])
    yield from ingress_findings(inventory, waypoints,
                                ambient_namespaces(inventory, context, detected))


DETECTORS: tuple[Detector, ...] = ()
CHECKS = (Check(check_waypoint_effects, RULES),)
