"""Routing rules: VirtualService, Gateway API mesh routes and DestinationRule policy."""

from __future__ import annotations

import pytest

from asm_mode_advisor.report import NamespaceVerdict
from asm_mode_advisor.rules import Finding
from support import analysis_from

WORKLOAD = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec:
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: app, image: reviews:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{name: http, port: 9080}]
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec:
  selector: {app: ratings}
  ports: [{name: http, port: 9080}]
"""


def fired(text: str, rule_id: str) -> list[Finding]:
    analysis = analysis_from(WORKLOAD + "---\n" + text)
    assert analysis.report.errors == []
    return [f for f in analysis.findings if f.rule.id == rule_id]


def verdict(text: str, namespace: str = "shop") -> NamespaceVerdict:
    report = analysis_from(WORKLOAD + "---\n" + text).report
    return next(v for v in report.namespaces if v.name == namespace)


def vs(http: str, hosts: str = "[reviews]", extra: str = "") -> str:
    return (f"apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
            f"metadata: {{name: reviews, namespace: shop}}\nspec:\n  hosts: {hosts}\n{extra}"
            f"  http:\n{http}")


ROUTE = "    route: [{destination: {host: reviews}}]\n"


@pytest.mark.parametrize(("http", "feature"), [
    ("  - route:\n    - {destination: {host: reviews, subset: v1}, weight: 90}\n"
     "    - {destination: {host: reviews, subset: v2}, weight: 10}\n", "weights"),
    ("  - match: [{headers: {end-user: {exact: jason}}}]\n" + ROUTE, "match"),
    ("  - retries: {attempts: 3, perTryTimeout: 2s}\n" + ROUTE, "retries"),
    ("  - timeout: 10s\n" + ROUTE, "timeout"),
    ("  - rewrite: {uri: /v2}\n" + ROUTE, "rewrite"),
    ("  - headers: {request: {set: {x-canary: 'true'}}}\n" + ROUTE, "headers"),
    ("  - fault: {delay: {fixedDelay: 7s, percentage: {value: 100}}}\n" + ROUTE, "fault"),
    ("  - mirror: {host: reviews, subset: v2}\n" + ROUTE, "mirror"),
    ("  - route: [{destination: {host: reviews, subset: v1}}]\n", "subsets"),
    ("  - route: [{destination: {host: ratings}}]\n", "host rewrite"),
])
def test_mesh_http_route_features_need_a_waypoint(http: str, feature: str) -> None:
    found = fired(vs(http), "AMA101")
    assert len(found) == 1
    assert feature in found[0].message
    assert found[0].services == ("reviews",)
    assert found[0].path == ("spec", "http", 0)
    assert found[0].rows == ("L-ROUTING", "M-TRAFFIC")
    assert verdict(vs(http)).recommendation == "ambient-waypoint"


def test_path_points_at_the_first_http_route_with_a_feature() -> None:
    http = "  - match: [{uri: {prefix: /a}}]\n" + ROUTE + "  - timeout: 3s\n" + ROUTE
    assert fired(vs(http), "AMA101")[0].path == ("spec", "http", 0)


def test_explicit_mesh_gateway_is_mesh_traffic() -> None:
    text = vs("  - timeout: 5s\n" + ROUTE, extra="  gateways: [mesh, istio-system/public]\n")
    assert len(fired(text, "AMA101")) == 1
    assert fired(text, "AMA409") == []


def test_ingress_only_virtual_service_needs_no_waypoint() -> None:
    text = vs("  - timeout: 5s\n    retries: {attempts: 3}\n" + ROUTE,
              hosts='["shop.example.com"]', extra="  gateways: [istio-system/public]\n")
    assert fired(text, "AMA101") == []
    info = fired(text, "AMA409")
    assert len(info) == 1 and info[0].path == ("spec", "gateways")
    result = verdict(text)
    assert result.recommendation == "ambient"
    assert result.waypoints == ()


def test_redundant_virtual_service_is_a_chore_not_a_waypoint() -> None:
    text = vs(ROUTE.replace("    route", "  - route"))
    assert fired(text, "AMA101") == []
    chore = fired(text, "AMA408")
    assert len(chore) == 1 and chore[0].effect.value == "migration-chore"
    assert verdict(text).recommendation == "ambient"


def test_several_plain_routes_are_ordered_routing() -> None:
    http = "  - route: [{destination: {host: reviews}}]\n" * 2
    found = fired(vs(http), "AMA101")
    assert len(found) == 1 and "2 ordered HTTP routes" in found[0].message
    assert fired(vs(http), "AMA408") == []


@pytest.mark.parametrize("section", ["tcp", "tls"])
def test_tcp_and_tls_routes_need_a_waypoint(section: str) -> None:
    text = ("apiVersion: networking.istio.io/v1beta1\nkind: VirtualService\n"
            "metadata: {name: reviews, namespace: shop}\nspec:\n  hosts: [reviews]\n"
            f"  {section}:\n  - match: [{{port: 9080}}]\n"
            "    route: [{destination: {host: reviews}}]\n")
    found = fired(text, "AMA102")
    assert len(found) == 1 and found[0].path == ("spec", section)
    assert fired(text, "AMA408") == []
    assert verdict(text).recommendation == "ambient-waypoint"


@pytest.mark.parametrize("host", ["reviews", "reviews.shop", "reviews.shop.svc",
                                  "reviews.shop.svc.cluster.local", "REVIEWS.shop"])
def test_hosts_resolve_to_the_service(host: str) -> None:
    found = fired(vs("  - timeout: 1s\n" + ROUTE, hosts=f'["{host}"]'), "AMA101")
    assert found[0].services == ("reviews",)


@pytest.mark.parametrize("host", ["*.example.com", "api.example.com",
                                  "reviews.other.svc.cluster.local"])
def test_hosts_outside_the_namespace_name_no_service(host: str) -> None:
    found = fired(vs("  - timeout: 1s\n" + ROUTE, hosts=f'["{host}"]'), "AMA101")
    assert found[0].services == ()


@pytest.mark.parametrize("kind", ["HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute"])
def test_gateway_api_route_with_service_parent_needs_a_waypoint(kind: str) -> None:
    text = (f"apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: {kind}\n"
            "metadata: {name: r, namespace: shop}\nspec:\n"
            "  parentRefs: [{name: public, kind: Gateway}, {group: '', kind: Service, "
            "name: reviews}]\n  rules: [{backendRefs: [{name: reviews, port: 9080}]}]\n")
    found = fired(text, "AMA103")
    assert len(found) == 1
    assert found[0].services == ("reviews",)
    assert found[0].path == ("spec", "parentRefs", 1)


def test_gateway_api_route_on_an_ingress_gateway_needs_nothing() -> None:
    text = ("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
            "metadata: {name: web, namespace: shop}\n"
            "spec: {parentRefs: [{name: public, namespace: ingress}]}\n")
    assert fired(text, "AMA103") == []
    assert verdict(text).recommendation == "ambient"


def dr(spec: str, host: str = "reviews") -> str:
    return ("apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
            f"metadata: {{name: dr, namespace: shop}}\nspec:\n  host: {host}\n{spec}")


@pytest.mark.parametrize(("spec", "keys"), [
    ("  trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}}}\n", "connectionPool"),
    ("  trafficPolicy: {outlierDetection: {consecutive5xxErrors: 5}}\n", "outlierDetection"),
    ("  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}\n", "loadBalancer"),
    ("  trafficPolicy:\n    portLevelSettings:\n    - port: {number: 9080}\n"
     "      loadBalancer: {simple: ROUND_ROBIN}\n", "loadBalancer"),
    ("  subsets:\n  - name: v1\n    labels: {version: v1}\n"
     "    trafficPolicy: {connectionPool: {http: {http1MaxPendingRequests: 1}}}\n",
     "connectionPool"),
])
def test_destination_rule_traffic_policy_needs_a_waypoint(spec: str, keys: str) -> None:
    found = fired(dr(spec), "AMA104")
    assert len(found) == 1
    assert keys in found[0].message and "reviews.shop" in found[0].message
    assert found[0].services == ("reviews",)


@pytest.mark.parametrize("text", [
    dr("  subsets: [{name: v1, labels: {version: v1}}]\n"),
    dr("  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n"),
    dr("  trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}}}\n",
       host="api.example.com"),
    dr("  trafficPolicy: {loadBalancer: {simple: RANDOM}}\n", host='"*.local"'),
], ids=["subsets-only", "tls-only", "external-host", "wildcard"])
def test_destination_rule_without_in_mesh_policy_needs_nothing(text: str) -> None:
    assert fired(text, "AMA104") == []


def test_destination_rule_for_another_namespace_names_no_local_service() -> None:
    found = fired(dr("  trafficPolicy: {outlierDetection: {interval: 5s}}\n",
                     host="cart.other.svc.cluster.local"), "AMA104")
    assert len(found) == 1 and found[0].services == ()
