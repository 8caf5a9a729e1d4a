"""Traffic management: which routing and traffic policy needs a waypoint in ambient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from asm_mode_advisor.kinds import GATEWAY_API, ISTIO_NETWORKING
from asm_mode_advisor.model import as_dict, as_str, dicts
from asm_mode_advisor.rules._base import Context, Detector, Finding, Rule, specs
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.views import DestinationRule, MeshRoute, VirtualService

#: VirtualService http-route fields that only an L7 proxy can apply (L-ROUTING).
HTTP_ROUTE_FEATURES = ("match", "retries", "timeout", "fault", "mirror", "mirrors",
                       "mirrorPercentage", "rewrite", "headers", "corsPolicy", "redirect",
                       "directResponse", "delegate")

VS_HTTP = Rule(
    id="AMA101", name="vs-http-routing",
    title="VirtualService HTTP routing for mesh traffic needs a waypoint",
    need="l7-routing", kinds=("VirtualService",),
    reads=specs("VirtualService"),
    rationale=(
        "Sidecars apply VirtualService `http` routes on the client side. In ambient, only a "
        "waypoint applies them (ztunnel is L4 only), so weights, matches, retries, timeouts, "
        "rewrites, header changes, fault injection and mirroring need a waypoint for the "
        "destination service. Consider moving to HTTPRoute, the stable ambient API."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews, subset: v1}
      weight: 90
    - destination: {host: reviews, subset: v2}
      weight: 10
""",),
    passes=("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: frontend, namespace: shop}
spec:
  hosts: ["shop.example.com"]
  gateways: [istio-system/public-gateway]
  http:
  - route:
    - destination: {host: frontend}
""",),
)

VS_TCP_TLS = Rule(
    id="AMA102", name="vs-tcp-tls-routing",
    title="VirtualService TCP or TLS routing for mesh hosts needs a waypoint",
    need="l7-routing", kinds=("VirtualService",),
    reads=specs("VirtualService"),
    rationale=(
        "VirtualService `tcp` and `tls` routes (port or SNI matches, weighted TCP splits) are "
        "translated by waypoints in ambient; ztunnel does not read VirtualServices. The "
        "Gateway API forms are TCPRoute and TLSRoute attached to the Service."),
    triggers=("""
apiVersion: networking.istio.io/v1beta1
kind: VirtualService
metadata: {name: tcp-echo, namespace: shop}
spec:
  hosts: [tcp-echo]
  tcp:
  - match: [{port: 9000}]
    route:
    - destination: {host: tcp-echo, subset: v1}
      weight: 80
    - destination: {host: tcp-echo, subset: v2}
      weight: 20
""",),
)

MESH_ROUTE = Rule(
    id="AMA103", name="gateway-api-mesh-route",
    title="Gateway API route attached to a Service needs a waypoint",
    need="l7-routing", kinds=("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute"),
    reads=specs("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute"),
    rationale=(
        "A route whose `parentRefs` name a Service (the GAMMA mesh pattern) is applied by "
        "client sidecars in sidecar mode; in ambient it takes effect only once the Service is "
        "bound to a waypoint with `istio.io/use-waypoint`."),
    triggers=("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: shop}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, port: 9080}]
  rules:
  - backendRefs: [{name: reviews-v1, port: 9080}]
""",),
    passes=("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: shop}
spec:
  parentRefs: [{name: public, namespace: ingress}]
  rules:
  - backendRefs: [{name: web, port: 80}]
""",),
)

DR_POLICY = Rule(
    id="AMA104", name="destination-rule-traffic-policy",
    title="DestinationRule traffic policy for in-mesh hosts needs a waypoint",
    need="l7-traffic-policy", kinds=("DestinationRule",),
    reads=specs("DestinationRule"),
    rationale=(
        "connectionPool, outlierDetection and loadBalancer settings are applied by the "
        "client-side Envoy in sidecar mode and by the waypoint in ambient: ztunnel balances "
        "per connection and does not read DestinationRules."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 5, interval: 10s}
""",),
    passes=("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cart, namespace: shop}
spec:
  host: cart
  subsets: [{name: v1, labels: {version: v1}}]
""",),
)

REDUNDANT_VS = Rule(
    id="AMA408", name="redundant-virtualservice",
    title="VirtualService only routes its host to itself and can be deleted",
    need="redundant-config", kinds=("VirtualService",),
    reads=specs("VirtualService"),
    rationale=(
        "A mesh VirtualService whose single route sends all traffic to its own host, with no "
        "match, weight, retry, timeout or other L7 feature, changes nothing. It should not "
        "cost a waypoint: delete it and let ztunnel carry the traffic (N-SKIPL7)."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: shop}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings}
""",),
)

INGRESS_ONLY_VS = Rule(
    id="AMA409", name="ingress-only-virtualservice",
    title="VirtualService bound only to an ingress gateway needs no waypoint",
    need="ingress-routing", kinds=("VirtualService",),
    reads=specs("VirtualService"),
    rationale=(
        "A VirtualService whose `gateways` list names gateways but not `mesh` is applied by "
        "the ingress gateway's own Envoy in both modes, so it does not call for a waypoint."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: frontend, namespace: shop}
spec:
  hosts: ["shop.example.com"]
  gateways: [istio-system/public-gateway]
  http:
  - route:
    - destination: {host: frontend}
""",),
)

RULES = (VS_HTTP, VS_TCP_TLS, MESH_ROUTE, DR_POLICY, REDUNDANT_VS, INGRESS_ONLY_VS)


def _route_features(route: dict[str, Any], own_hosts: set[str]) -> list[str]:
    """L7 features used by one VirtualService http route."""
    features = [key for key in HTTP_ROUTE_FEATURES if route.get(key)]
    destinations = dicts(route.get("route"))
    if len(destinations) > 1 or any("weight" in d and d.get("weight") not in (None, 100)
                                    for d in destinations):
        features.append("weights")
    for destination in destinations:
        target = as_dict(destination.get("destination"))
        if target.get("subset"):
            features.append("subsets")
        host = as_str(target.get("host")).lower()
        if host and _short(host) not in own_hosts:
            features.append("host rewrite")
        if destination.get("headers"):
            features.append("headers")
    return sorted(set(features))


def _short(host: str) -> str:
    return host.split(".")[0]


def _vs_services(vs: VirtualService, inventory: ScopedInventory) -> list[str]:
    namespace = vs.resource.namespace or inventory.default_namespace
    found = []
    for host in vs.hosts:
        resolved = inventory.resolve_host(host, namespace)
        if resolved is not None and resolved[0] == namespace:
            found.append(resolved[1])
    return found


def detect_virtual_services(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """VirtualService rules: mesh HTTP routing, TCP/TLS routing, redundant and ingress-only."""
    for resource in inventory.of_kind("VirtualService"):
        vs = VirtualService(resource)
        services = _vs_services(vs, inventory)
        if not vs.mesh_bound:
            yield INGRESS_ONLY_VS.finding(
                resource, f"{vs.ref} is bound only to gateway(s) {', '.join(vs.gateways)}; "
                          "the gateway applies it and no waypoint is needed",
                path=("spec", "gateways"))
            continue
        own_hosts = {_short(host.lower()) for host in vs.hosts}
        http_routes = vs.http_routes
        used: dict[str, int] = {}
        for index, route in enumerate(http_routes):
            for feature in _route_features(route, own_hosts):
                used.setdefault(feature, index)
        if used:
            first = min(used.values())
            yield VS_HTTP.finding(
                resource, f"{vs.ref} routes mesh HTTP traffic with {', '.join(sorted(used))}",
                services=services, path=("spec", "http", first))
        elif len(http_routes) > 1:
            yield VS_HTTP.finding(resource, f"{vs.ref} has {len(http_routes)} ordered HTTP "
                                            "routes", services=services, path=("spec", "http"))
        for section, routes in (("tcp", vs.tcp_routes), ("tls", vs.tls_routes)):
            if routes:
                yield VS_TCP_TLS.finding(
                    resource, f"{vs.ref} has {section.upper()} routes for mesh hosts",
                    services=services, path=("spec", section))
        if len(http_routes) == 1 and not used and not vs.tcp_routes and not vs.tls_routes:
            yield REDUNDANT_VS.finding(
                resource, f"{vs.ref} sends all traffic to its own host with no L7 feature; "
                          "delete it rather than deploy a waypoint for it", services=services,
                path=("spec", "http", 0))


def detect_mesh_routes(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """HTTPRoute/GRPCRoute/TCPRoute/TLSRoute with a Service (or ServiceEntry) parent."""
    for kind in MESH_ROUTE.kinds:
        for resource in inventory.of_kind(kind, group=GATEWAY_API):
            parents = MeshRoute(resource).service_parents
            if not parents:
                continue
            services = [as_str(p.get("name")) for _, p in parents
                        if as_str(p.get("kind")) == "Service"
                        and as_str(p.get("namespace")) in ("", resource.namespace)]
            names = ", ".join(as_str(p.get("name")) for _, p in parents)
            yield MESH_ROUTE.finding(
                resource, f"{resource.ref} is attached to {names} (mesh route)",
                services=services, path=("spec", "parentRefs", parents[0][0]))


def _policy_keys(policy: dict[str, Any]) -> list[str]:
    return [key for key in ("connectionPool", "outlierDetection", "loadBalancer")
            if policy.get(key)]


def detect_destination_rules(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """DestinationRule traffic policies for hosts inside the mesh."""
    for resource in inventory.of_kind("DestinationRule", group=ISTIO_NETWORKING):
        rule = DestinationRule(resource)
        namespace = resource.namespace or inventory.default_namespace
        resolved = inventory.resolve_host(rule.host, namespace)
        if resolved is None:
            continue  # external or wildcard host: egress, not in-mesh traffic
        policy = rule.traffic_policy
        keys = set(_policy_keys(policy))
        for port_policy in dicts(policy.get("portLevelSettings")):
            keys.update(_policy_keys(port_policy))
        for subset in rule.subsets:
            keys.update(_policy_keys(as_dict(subset.get("trafficPolicy"))))
        if keys:
            services = [resolved[1]] if resolved[0] == namespace else []
            yield DR_POLICY.finding(
                resource, f"{rule.ref} sets {', '.join(sorted(keys))} for {resolved[1]}."
                          f"{resolved[0]}", services=services, path=("spec", "trafficPolicy"))


DETECTORS = (
    Detector(detect_virtual_services, (VS_HTTP, VS_TCP_TLS, REDUNDANT_VS, INGRESS_ONLY_VS)),
    Detector(detect_mesh_routes, (MESH_ROUTE,)),
    Detector(detect_destination_rules, (DR_POLICY,)),
)
