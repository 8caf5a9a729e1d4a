"""Traffic management: which routing and traffic policy needs a waypoint in ambient."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from asm_mode_advisor.domain import CLUSTER_DOMAIN_SUFFIX, fqdn
from asm_mode_advisor.enforcement import Change, Enforcement, Enforcer, same
from asm_mode_advisor.kinds import GATEWAY_API, ISTIO_NETWORKING
from asm_mode_advisor.model import Resource, Severity, as_dict, as_str, dicts
from asm_mode_advisor.rules._base import Context, Detector, Finding, Rule, specs
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.views import DestinationRule, MeshRoute, VirtualService

#: VirtualService http-route fields that only an L7 proxy can apply (L-ROUTING).
HTTP_ROUTE_FEATURES = ("match", "retries", "timeout", "fault", "mirror", "mirrors",
                       "mirrorPercentage", "rewrite", "headers", "corsPolicy", "redirect",
                       "directResponse", "delegate")
#: Rows AMA101-AMA104 rest on: ztunnel reads no routes or traffic policy (L-ROUTING's L4
#: cell lists timeouts and retries, so it does not support "needs a waypoint").
ROUTE_ROWS = ("U-ZTUNNEL-NO-L7-TRAFFIC", "M-TRAFFIC")
#: Suffixes of in-cluster host names: never an external (egress) host.
LOCAL_SUFFIXES = (".local", ".svc", ".cluster")

VS_HTTP = Rule(
    id="AMA101", name="vs-http-routing",
    title="VirtualService HTTP routing for mesh traffic needs a waypoint",
    need="l7-routing", kinds=("VirtualService",), rows=ROUTE_ROWS,
    reads=specs("VirtualService"),
    rationale=(
        "Sidecars apply VirtualService `http` routes on the client side. In ambient, only a "
        "waypoint applies them (ztunnel is L4 only), so weights, matches, retries, timeouts, "
        "rewrites, header changes, fault injection and mirroring need a waypoint for the "
        "destination service (https://istio.io/latest/docs/ambient/usage/waypoint/). A "
        "VirtualService in another namespace than its host's Service counts for the "
        "Service's namespace. Consider moving to HTTPRoute, the stable ambient API."),
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
    need="l7-routing", kinds=("VirtualService",), rows=ROUTE_ROWS,
    reads=specs("VirtualService"),
    rationale=(
        "VirtualService `tcp` and `tls` routes (port or SNI matches, weighted TCP splits) are "
        "translated by waypoints in ambient; ztunnel does not read VirtualServices. The "
        "Gateway API forms are TCPRoute and TLSRoute attached to the Service. A `tcp` route "
        "that only sends its own host to itself is AMA408 instead."),
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
    rows=ROUTE_ROWS, reads=specs("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute"),
    rationale=(
        "A route whose `parentRefs` name a Service (the GAMMA mesh pattern) is applied by "
        "client sidecars in sidecar mode; in ambient it takes effect only once the Service is "
        "bound to a waypoint with `istio.io/use-waypoint`. A route in another namespace than "
        "its parent Service (a consumer route) counts for the Service's namespace."),
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
    need="l7-traffic-policy", kinds=("DestinationRule",), rows=ROUTE_ROWS,
    reads=specs("DestinationRule"),
    rationale=(
        "connectionPool, outlierDetection and loadBalancer settings are applied by the "
        "client-side Envoy in sidecar mode and by the waypoint in ambient: ztunnel balances "
        "per connection and does not read DestinationRules "
        "(https://istio.io/latest/docs/ambient/usage/waypoint/). A `localityLbSetting` "
        "alone has an L4 alternative (AMA417); external hosts are egress (AMA105)."),
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
        "cost a waypoint: delete it and let ztunnel carry the traffic (N-SKIPL7). The same "
        "holds for a single `tcp` route with one destination, its own host, and no match, "
        "weight or subset."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ratings, namespace: shop}
spec:
  hosts: [ratings]
  http:
  - route:
    - destination: {host: ratings}
""", """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: tcp-echo, namespace: shop}
spec:
  hosts: [tcp-echo]
  tcp:
  - route:
    - destination: {host: tcp-echo, port: {number: 9000}}
"""),
)

INGRESS_ONLY_VS = Rule(
    id="AMA409", name="ingress-only-virtualservice",
    title="VirtualService bound only to an ingress gateway needs no waypoint",
    need="ingress-routing", kinds=("VirtualService",), rows=("U-GATEWAY-ROUTES",),
    reads=specs("VirtualService"),
    rationale=(
        "A VirtualService whose `gateways` list names gateways but not `mesh` is applied by "
        "the ingress gateway's own Envoy in both modes, so it does not call for a waypoint "
        "(https://istio.io/latest/docs/reference/config/networking/virtual-service/: "
        "`mesh` stands for the sidecars, and is the default only when `gateways` is "
        "omitted)."),
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

CONSUMER_ROUTE = Rule(
    id="AMA416", name="route-outside-service-namespace",
    title="Route or traffic policy for a Service in another namespace stops applying",
    need="route-namespace", severity=Severity.WARNING,
    kinds=("VirtualService", "DestinationRule", "HTTPRoute", "GRPCRoute", "TCPRoute",
           "TLSRoute"),
    reads=specs("VirtualService", "DestinationRule", "HTTPRoute", "GRPCRoute", "TCPRoute",
                "TLSRoute"),
    rationale=(
        "A client sidecar applies every VirtualService, DestinationRule and mesh route for a "
        "host, whatever namespace holds it. A waypoint only applies routes in the service's "
        "own namespace or in the waypoint's namespace (istio/istio "
        "pilot/pkg/networking/core/listener_waypoint.go, getVirtualServiceForWaypoint; "
        "Gateway API mesh routes are converted to such routes), and finds DestinationRules in "
        "its own, the service's or the root namespace (pilot/pkg/model/push_context.go). "
        "So a consumer-side route in namespace A for a Service in namespace B needs a "
        "waypoint for B, not for A, and must move to B (or to the waypoint's namespace) or "
        "it stops applying once B runs ambient. `asm-advisor plan` moves it."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-timeout, namespace: frontend}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  http:
  - timeout: 2s
    route: [{destination: {host: reviews.bookinfo.svc.cluster.local}}]
""",),
    passes=("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-timeout, namespace: bookinfo}
spec:
  hosts: [reviews.bookinfo.svc.cluster.local]
  http:
  - timeout: 2s
    route: [{destination: {host: reviews.bookinfo.svc.cluster.local}}]
""",),
)

LOCALITY_LB = Rule(
    id="AMA417", name="locality-lb-to-traffic-distribution",
    title="DestinationRule locality load balancing has an L4 replacement",
    need="l4-locality", kinds=("DestinationRule",), reads=specs("DestinationRule"),
    rationale=(
        "A DestinationRule whose only traffic policy is `loadBalancer.localityLbSetting` "
        "(enabled, with no `distribute`, `failover` or `failoverPriority`) asks for the "
        "closest endpoints. In ambient ztunnel does that by itself for a Service annotated "
        "`networking.istio.io/traffic-distribution: PreferSameZone` (or PreferClose), or "
        "with `spec.trafficDistribution: PreferClose` "
        "(https://istio.io/latest/docs/ambient/usage/traffic-distribution/): replace the "
        "DestinationRule with the annotation rather than deploy a waypoint for it. Weighted "
        "`distribute` or explicit `failover` still need a waypoint (AMA104)."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: helloworld, namespace: sample}
spec:
  host: helloworld
  trafficPolicy:
    loadBalancer:
      localityLbSetting: {enabled: true}
""",),
    passes=("""
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: helloworld, namespace: sample}
spec:
  host: helloworld
  trafficPolicy:
    loadBalancer:
      localityLbSetting:
        enabled: true
        distribute:
        - from: region1/zone1/*
          to: {"region1/zone1/*": 70, "region1/zone2/*": 30}
""",),
)

RULES = (VS_HTTP, VS_TCP_TLS, MESH_ROUTE, DR_POLICY, REDUNDANT_VS, INGRESS_ONLY_VS,
         CONSUMER_ROUTE, LOCALITY_LB)

#: What a consumer-side object does once its Service's namespace runs ambient, as written.
MOVED_AWAY = Enforcement(
    today=Enforcer.CLIENT_SIDECAR, after_move=Enforcer.NOBODY, change=Change.NOT_ENFORCED,
    detail="a waypoint reads routes and policies only from the service's namespace or its own")
#: A locality-only DestinationRule in ambient without a waypoint, as written.
LOCALITY_AFTER = Enforcement(
    today=Enforcer.CLIENT_SIDECAR, after_move=Enforcer.NOBODY, change=Change.NOT_ENFORCED,
    detail="the traffic-distribution annotation gives the same to ztunnel")
#: A route or traffic policy in its Service's namespace: the waypoint takes over.
TO_WAYPOINT = Enforcement(today=Enforcer.CLIENT_SIDECAR, after_move=Enforcer.WAYPOINT,
                          change=Change.SAME)


def moved_to(resource: Resource, namespace: str, default: str) -> Enforcement:
    """Who applies ``resource`` once ``namespace`` (where its need goes) runs a waypoint."""
    return TO_WAYPOINT if (resource.namespace or default) == namespace else MOVED_AWAY


def external_host(host: str) -> bool:
    """True for a host name outside the cluster (``httpbin.org``): egress, not mesh traffic.

    Wildcards, short names and in-cluster suffixes (``.svc.cluster.local``, ``.local``)
    are not external.
    """
    host = host.strip().lower()
    return bool(host) and "*" not in host and "." in host and not (
        host.endswith(LOCAL_SUFFIXES) or host.endswith(CLUSTER_DOMAIN_SUFFIX))


def host_targets(inventory: ScopedInventory, resource: Resource,
                 hosts: list[str]) -> dict[str, list[str]]:
    """Namespace -> Services that ``hosts`` name, in order; external hosts are left out.

    A host that resolves to no Service and is not external (a wildcard such as ``*.local``,
    a name in an unknown namespace) counts for the object's own namespace, as before.
    """
    namespace = resource.namespace or inventory.default_namespace
    targets: dict[str, list[str]] = {}
    for host in hosts:
        resolved = inventory.resolve_host(host, namespace)
        if resolved is None:
            if not external_host(host):
                targets.setdefault(namespace, [])
            continue
        found = targets.setdefault(resolved[0], [])
        if resolved[1] not in found:
            found.append(resolved[1])
    return targets


def consumer_finding(resource: Resource, targets: dict[str, list[str]], namespace: str,
                     what: str, path: tuple[str | int, ...]) -> Finding:
    """AMA416 for an object in ``namespace`` whose ``targets`` lie in other namespaces."""
    foreign = sorted(ns for ns in targets if ns != namespace)
    hosts = ", ".join(fqdn(ns, svc) for ns in foreign for svc in targets[ns])
    where = " or ".join(foreign)
    return CONSUMER_ROUTE.finding(
        resource, f"{resource.ref} {what} {hosts}: move it to namespace {where} (or to the "
                  f"waypoint's namespace) or it stops applying once {where} runs ambient",
        path=path, enforcement=MOVED_AWAY)


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


def _trivial_tcp(routes: list[dict[str, Any]], own_hosts: set[str]) -> bool:
    """One ``tcp`` route, no match, one destination: its own host, no subset or weight."""
    if len(routes) != 1 or routes[0].get("match"):
        return False
    destinations = dicts(routes[0].get("route"))
    if len(destinations) != 1 or destinations[0].get("weight") not in (None, 100):
        return False
    target = as_dict(destinations[0].get("destination"))
    host = as_str(target.get("host")).lower()
    return bool(host) and _short(host) in own_hosts and not target.get("subset")


def _short(host: str) -> str:
    return host.split(".")[0]


def vs_features(vs: VirtualService) -> list[str]:
    """What a VirtualService does that only an L7 proxy can (empty: it only routes to itself)."""
    own_hosts = {_short(host.lower()) for host in vs.hosts}
    features = {f for route in vs.http_routes for f in _route_features(route, own_hosts)}
    if len(vs.http_routes) > 1:
        features.add("ordered HTTP routes")
    if vs.tls_routes:
        features.add("TLS routes")
    if vs.tcp_routes and not (not vs.http_routes and _trivial_tcp(vs.tcp_routes, own_hosts)):
        features.add("TCP routes")
    return sorted(features)


def _vs_need_findings(resource: Resource, vs: VirtualService, targets: dict[str, list[str]],
                      default: str) -> tuple[list[Finding], bool]:
    """L7 findings of a mesh VirtualService, one per namespace it routes; and redundancy."""
    own_hosts = {_short(host.lower()) for host in vs.hosts}
    http_routes, tcp_routes, tls_routes = vs.http_routes, vs.tcp_routes, vs.tls_routes
    used: dict[str, int] = {}
    for index, route in enumerate(http_routes):
        for feature in _route_features(route, own_hosts):
            used.setdefault(feature, index)
    trivial_tcp = not http_routes and not tls_routes and _trivial_tcp(tcp_routes, own_hosts)
    trivial_http = len(http_routes) == 1 and not used and not tcp_routes and not tls_routes
    if trivial_tcp or trivial_http:
        return [], True
    found = []
    for namespace, services in sorted(targets.items()):
        enforced = moved_to(resource, namespace, default)
        if used:
            found.append(VS_HTTP.finding(
                resource, f"{vs.ref} routes mesh HTTP traffic with {', '.join(sorted(used))}",
                namespace=namespace, services=services, enforcement=enforced,
                path=("spec", "http", min(used.values()))))
        elif len(http_routes) > 1:
            found.append(VS_HTTP.finding(
                resource, f"{vs.ref} has {len(http_routes)} ordered HTTP routes",
                namespace=namespace, services=services, path=("spec", "http"),
                enforcement=enforced))
        for section, routes in (("tcp", tcp_routes), ("tls", tls_routes)):
            if routes:
                found.append(VS_TCP_TLS.finding(
                    resource, f"{vs.ref} has {section.upper()} routes for mesh hosts",
                    namespace=namespace, services=services, path=("spec", section),
                    enforcement=enforced))
    return found, False


def detect_virtual_services(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """VirtualService rules: mesh HTTP/TCP/TLS routing, redundant, ingress-only, consumer-side.

    The L7 need goes to the namespace of each Service the hosts name (a waypoint reads
    routes only there); hosts outside the cluster are egress (rules/egress.py).
    """
    for resource in inventory.of_kind("VirtualService", group=ISTIO_NETWORKING):
        vs = VirtualService(resource)
        if not vs.mesh_bound:
            yield INGRESS_ONLY_VS.finding(
                resource, f"{vs.ref} is bound only to gateway(s) {', '.join(vs.gateways)}; "
                          "the gateway applies it and no waypoint is needed",
                path=("spec", "gateways"),
                enforcement=same(Enforcer.GATEWAY, "gateways apply gateway-bound routes"))
            continue
        targets = host_targets(inventory, resource, vs.hosts)
        if not targets:
            continue  # every host is external: AMA105 (egress) decides
        found, redundant = _vs_need_findings(resource, vs, targets,
                                             inventory.default_namespace)
        namespace = resource.namespace or inventory.default_namespace
        if redundant:
            section = "http" if vs.http_routes else "tcp"
            yield REDUNDANT_VS.finding(
                resource, f"{vs.ref} sends all traffic to its own host with no L7 feature; "
                          "delete it rather than deploy a waypoint for it",
                services=targets.get(namespace, []), path=("spec", section, 0))
            continue
        yield from found
        if found and set(targets) - {namespace}:
            yield consumer_finding(resource, targets, namespace, "routes", ("spec", "hosts"))


def detect_mesh_routes(inventory: ScopedInventory, context: Context) -> Iterator[Finding]:
    """HTTPRoute/GRPCRoute/TCPRoute/TLSRoute with a Service (or ServiceEntry) parent.

    A parent Service in another namespace (a consumer route) makes the need that
    namespace's, and the route a move chore (AMA416).
    """
    del context
    for kind in MESH_ROUTE.kinds:
        for resource in inventory.of_kind(kind, group=GATEWAY_API):
            parents = MeshRoute(resource).service_parents
            if not parents:
                continue
            namespace = resource.namespace or inventory.default_namespace
            targets: dict[str, list[str]] = {}
            for _, parent in parents:
                where = as_str(parent.get("namespace")) or namespace
                found = targets.setdefault(where, [])
                if as_str(parent.get("kind")) == "Service":
                    found.append(as_str(parent.get("name")))
            names = ", ".join(as_str(p.get("name")) for _, p in parents)
            path = ("spec", "parentRefs", parents[0][0])
            for where, services in sorted(targets.items()):
                yield MESH_ROUTE.finding(
                    resource, f"{resource.ref} is attached to {names} (mesh route)",
                    namespace=where, services=services, path=path,
                    enforcement=moved_to(resource, where, inventory.default_namespace))
            if set(targets) - {namespace}:
                yield consumer_finding(resource, targets, namespace, "is attached to", path)


def _policy_keys(policy: dict[str, Any]) -> list[str]:
    return [key for key in ("connectionPool", "outlierDetection", "loadBalancer")
            if policy.get(key)]


def policy_keys(rule: DestinationRule) -> set[str]:
    """Traffic-policy keys a DestinationRule sets anywhere (top, port level, subsets)."""
    policy = rule.traffic_policy
    keys = set(_policy_keys(policy))
    for port_policy in dicts(policy.get("portLevelSettings")):
        keys.update(_policy_keys(port_policy))
    for subset in rule.subsets:
        keys.update(_policy_keys(as_dict(subset.get("trafficPolicy"))))
    return keys


def _policies(rule: DestinationRule) -> list[dict[str, Any]]:
    policy = rule.traffic_policy
    return [policy, *dicts(policy.get("portLevelSettings")),
            *(as_dict(s.get("trafficPolicy")) for s in rule.subsets)]


def locality_only(rule: DestinationRule) -> bool:
    """True when every traffic policy is a plain ``localityLbSetting`` (no weights/failover)."""
    found = False
    for policy in _policies(rule):
        keys = set(_policy_keys(policy))
        if not keys:
            continue
        balancer = as_dict(policy.get("loadBalancer"))
        locality = as_dict(balancer.get("localityLbSetting"))
        if keys != {"loadBalancer"} or set(balancer) != {"localityLbSetting"}:
            return False
        if any(locality.get(k) for k in ("distribute", "failover", "failoverPriority")):
            return False
        if locality.get("enabled") is False:
            return False
        found = True
    return found


def detect_destination_rules(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """DestinationRule traffic policies for hosts inside the mesh.

    The need goes to the host's namespace. A DestinationRule outside that namespace and
    outside the root namespace is a move chore (AMA416); external hosts are egress (AMA105).
    """
    for resource in inventory.of_kind("DestinationRule", group=ISTIO_NETWORKING):
        rule = DestinationRule(resource)
        namespace = resource.namespace or inventory.default_namespace
        resolved = inventory.resolve_host(rule.host, namespace)
        if resolved is None:
            continue  # external (AMA105) or a wildcard such as *.local (mesh defaults)
        target, service = resolved
        keys = policy_keys(rule)
        foreign = target != namespace and namespace != inventory.root_namespace
        if keys and locality_only(rule):
            yield LOCALITY_LB.finding(
                resource, f"{rule.ref} only sets localityLbSetting for {service}.{target}: "
                          f"annotate Service {target}/{service} "
                          "networking.istio.io/traffic-distribution=PreferSameZone instead; "
                          "ztunnel keeps traffic close without a waypoint",
                namespace=target, services=[service],
                path=("spec", "trafficPolicy", "loadBalancer", "localityLbSetting"),
                enforcement=LOCALITY_AFTER)
        elif keys:
            yield DR_POLICY.finding(
                resource, f"{rule.ref} sets {', '.join(sorted(keys))} for {service}.{target}",
                namespace=target, services=[service], path=("spec", "trafficPolicy"),
                enforcement=TO_WAYPOINT if not foreign else MOVED_AWAY)
        if foreign and (keys or rule.subsets):
            what = "sets traffic policy for" if keys else "defines subsets of"
            yield consumer_finding(resource, {target: [service]}, namespace, what,
                                   ("spec", "host"))


DETECTORS = (
    Detector(detect_virtual_services, (VS_HTTP, VS_TCP_TLS, REDUNDANT_VS, INGRESS_ONLY_VS,
                                       CONSUMER_ROUTE)),
    Detector(detect_mesh_routes, (MESH_ROUTE, CONSUMER_ROUTE)),
    Detector(detect_destination_rules, (DR_POLICY, LOCALITY_LB, CONSUMER_ROUTE)),
)
