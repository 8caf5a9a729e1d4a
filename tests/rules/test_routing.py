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
    assert found[0].rows == ("U-ZTUNNEL-NO-L7-TRAFFIC", "M-TRAFFIC")
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


def test_wildcard_host_needs_a_waypoint_for_its_own_namespace() -> None:
    found = fired(vs("  - timeout: 1s\n" + ROUTE, hosts='["*.example.com"]'), "AMA101")
    assert found[0].namespace == "shop" and found[0].services == ()


def test_external_host_is_left_to_the_egress_rules() -> None:
    text = vs("  - timeout: 1s\n" + ROUTE, hosts='["api.example.com"]')
    assert fired(text, "AMA101") == [] and fired(text, "AMA416") == []


OTHER = WORKLOAD.replace("namespace: shop", "namespace: other")


def test_host_in_another_namespace_is_that_namespaces_need() -> None:
    text = OTHER + "---\n" + vs("  - timeout: 1s\n" + ROUTE,
                                hosts='["reviews.other.svc.cluster.local"]')
    found = fired(text, "AMA101")
    assert [(f.namespace, f.services) for f in found] == [("other", ("reviews",))]
    chore = fired(text, "AMA416")
    assert len(chore) == 1 and chore[0].namespace == "shop"
    assert chore[0].effect.value == "migration-chore" and chore[0].severity.value == "warning"
    assert "move it to namespace other" in chore[0].message
    assert "reviews.other.svc.cluster.local" in chore[0].message
    assert chore[0].enforcement is not None
    assert (chore[0].enforcement.today, chore[0].enforcement.after_move,
            chore[0].enforcement.change) == ("client-sidecar", "nobody", "notEnforced")
    assert verdict(text).recommendation == "ambient"
    assert verdict(text, "other").recommendation == "ambient-waypoint"
    assert verdict(text, "other").waypoints[0].services == ("reviews",)


def test_same_namespace_route_is_no_move_chore() -> None:
    text = vs("  - timeout: 1s\n" + ROUTE, hosts='["reviews.shop.svc.cluster.local"]')
    assert [f.namespace for f in fired(text, "AMA101")] == ["shop"]
    assert fired(text, "AMA416") == []


def test_trivial_consumer_route_is_deleted_not_moved() -> None:
    text = vs(ROUTE.replace("    route", "  - route").replace(
        "reviews", "reviews.other.svc.cluster.local"),
        hosts='["reviews.other.svc.cluster.local"]')
    assert len(fired(text, "AMA408")) == 1
    assert fired(text, "AMA416") == [] and fired(text, "AMA101") == []


def test_consumer_gateway_api_route_is_the_services_namespace_need() -> None:
    text = ("apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\n"
            "metadata: {name: r, namespace: shop}\nspec:\n"
            "  parentRefs: [{group: '', kind: Service, name: cart, namespace: other}]\n"
            "  rules: [{timeouts: {request: 2s}, backendRefs: [{name: cart, port: 80}]}]\n")
    found = fired(text, "AMA103")
    assert [(f.namespace, f.services) for f in found] == [("other", ("cart",))]
    assert [f.namespace for f in fired(text, "AMA416")] == ["shop"]
    assert verdict(text).recommendation == "ambient"


@pytest.mark.parametrize("route", [
    "  - route: [{destination: {host: reviews, port: {number: 9080}}}]\n",
    "  - route: [{destination: {host: reviews.shop.svc.cluster.local}, weight: 100}]\n",
])
def test_trivial_tcp_route_is_redundant(route: str) -> None:
    text = ("apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
            "metadata: {name: reviews, namespace: shop}\nspec:\n  hosts: [reviews]\n"
            f"  tcp:\n{route}")
    assert fired(text, "AMA102") == []
    chore = fired(text, "AMA408")
    assert len(chore) == 1 and chore[0].path == ("spec", "tcp", 0)
    assert verdict(text).recommendation == "ambient"


@pytest.mark.parametrize("route", [
    "  - match: [{port: 9080}]\n    route: [{destination: {host: reviews}}]\n",
    "  - route: [{destination: {host: reviews, subset: v1}}]\n",
    "  - route: [{destination: {host: ratings}}]\n",
    "  - route:\n    - {destination: {host: reviews}, weight: 80}\n"
    "    - {destination: {host: ratings}, weight: 20}\n",
    "  - route: [{destination: {host: reviews}}]\n"
    "  - route: [{destination: {host: reviews}}]\n",
], ids=["match", "subset", "other-host", "weights", "two-routes"])
def test_non_trivial_tcp_route_needs_a_waypoint(route: str) -> None:
    text = ("apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
            "metadata: {name: reviews, namespace: shop}\nspec:\n  hosts: [reviews]\n"
            f"  tcp:\n{route}")
    assert len(fired(text, "AMA102")) == 1
    assert fired(text, "AMA408") == []


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


def test_destination_rule_for_another_namespace_is_that_namespaces_need() -> None:
    text = dr("  trafficPolicy: {outlierDetection: {interval: 5s}}\n",
              host="cart.other.svc.cluster.local")
    found = fired(text, "AMA104")
    assert [(f.namespace, f.services) for f in found] == [("other", ("cart",))]
    chore = fired(text, "AMA416")
    assert len(chore) == 1 and chore[0].namespace == "shop"
    assert "sets traffic policy for cart.other.svc.cluster.local" in chore[0].message
    assert verdict(text).recommendation == "ambient"


def test_destination_rule_in_the_root_namespace_is_no_move_chore() -> None:
    text = dr("  trafficPolicy: {outlierDetection: {interval: 5s}}\n",
              host="cart.other.svc.cluster.local").replace("namespace: shop",
                                                           "namespace: istio-system")
    assert [f.namespace for f in fired(text, "AMA104")] == ["other"]
    assert fired(text, "AMA416") == []


def test_subsets_in_another_namespace_are_a_move_chore_only() -> None:
    text = dr("  subsets: [{name: v1, labels: {version: v1}}]\n",
              host="cart.other.svc.cluster.local")
    assert fired(text, "AMA104") == []
    assert "defines subsets of" in fired(text, "AMA416")[0].message


@pytest.mark.parametrize("locality", [
    "{enabled: true}", "{}",
])
def test_locality_only_destination_rule_is_a_traffic_distribution_chore(locality: str) -> None:
    text = dr(f"  trafficPolicy: {{loadBalancer: {{localityLbSetting: {locality}}}}}\n")
    assert fired(text, "AMA104") == []
    chore = fired(text, "AMA417")
    assert len(chore) == 1 and chore[0].services == ("reviews",)
    assert "networking.istio.io/traffic-distribution" in chore[0].message
    assert verdict(text).recommendation == "ambient"


@pytest.mark.parametrize("policy", [
    "{loadBalancer: {localityLbSetting: {distribute: [{from: a/*, to: {'a/*': 80, 'b/*': 20}}]}}}",
    "{loadBalancer: {localityLbSetting: {failover: [{from: a, to: b}]}}}",
    "{loadBalancer: {simple: RANDOM, localityLbSetting: {enabled: true}}}",
    "{loadBalancer: {localityLbSetting: {enabled: true}}, outlierDetection: {interval: 1s}}",
    "{loadBalancer: {localityLbSetting: {enabled: false}}}",
], ids=["distribute", "failover", "simple", "outlier", "disabled"])
def test_locality_with_more_than_closeness_needs_a_waypoint(policy: str) -> None:
    text = dr(f"  trafficPolicy: {policy}\n")
    assert fired(text, "AMA417") == []
    assert len(fired(text, "AMA104")) == 1


def test_routes_carry_who_enforces_them() -> None:
    own = fired(vs("  - timeout: 1s\n" + ROUTE), "AMA101")[0].enforcement
    assert own is not None
    assert (own.today, own.after_move, own.change) == ("client-sidecar", "waypoint", "same")
    text = OTHER + "---\n" + vs("  - timeout: 1s\n" + ROUTE,
                                hosts='["reviews.other.svc.cluster.local"]')
    away = fired(text, "AMA101")[0].enforcement
    assert away is not None and (away.after_move, away.change) == ("nobody", "notEnforced")
    ingress = fired(vs("  - timeout: 5s\n" + ROUTE, hosts='["shop.example.com"]',
                       extra="  gateways: [istio-system/public]\n"), "AMA409")[0].enforcement
    assert ingress is not None
    assert (ingress.today, ingress.after_move, ingress.change) == ("gateway", "gateway", "same")
