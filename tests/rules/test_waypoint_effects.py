"""What a planned waypoint changes for callers: AMA425 (identity), AMA426 and AMA515 (ingress)."""

from __future__ import annotations

from asm_mode_advisor.analysis import Analysis
from asm_mode_advisor.enforcement import Change, Enforcer
from asm_mode_advisor.rules import Finding
from support import analysis_from

SIDECAR_NS = """
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
"""
AMBIENT_NS = """
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}
"""
WAYPOINT = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: shop}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
"""
APPS = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{port: 9080, name: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  template:
    metadata: {labels: {app: reviews}}
    spec: {containers: [{name: app, image: example/reviews:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: ratings, namespace: shop}
spec:
  selector: {app: ratings}
  ports: [{port: 9080, name: http}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ratings, namespace: shop}
spec:
  selector: {matchLabels: {app: ratings}}
  template:
    metadata: {labels: {app: ratings}}
    spec: {containers: [{name: app, image: example/ratings:1}]}
"""
JWT_REVIEWS = """
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  jwtRules: [{issuer: "https://issuer.example.com"}]
"""
JWT_AT_WAYPOINT = """
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  targetRefs: [{kind: Service, group: "", name: reviews}]
  jwtRules: [{issuer: "https://issuer.example.com"}]
"""


def policy(app: str, action: str = "ALLOW", source: str = "namespaces: [frontend]",
           extra: str = "") -> str:
    return f"""
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {{name: {app}-callers, namespace: shop}}
spec:
  selector: {{matchLabels: {{app: {app}}}}}
  action: {action}
  rules:
  - from: [{{source: {{{source}}}}}]{extra}
"""


def run(*docs: str) -> Analysis:
    return analysis_from("\n---\n".join(docs))


def findings(analysis: Analysis, rule_id: str) -> list[Finding]:
    return [f for f in analysis.findings if f.rule.id == rule_id]


# --- AMA425: waypoint identity ------------------------------------------------------------


def test_l4_policy_on_callers_of_a_service_that_gets_a_waypoint() -> None:
    [found] = findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, policy("reviews")), "AMA425")
    assert found.objects[0].name == "reviews-callers" and found.services == ("reviews",)
    assert "cluster.local/ns/shop/sa/waypoint" in found.message
    assert "calls through the waypoint that it allows today are denied" in found.message
    assert found.enforcement is not None
    assert (found.enforcement.today, found.enforcement.after_move, found.enforcement.change) == (
        Enforcer.SERVER_SIDECAR, Enforcer.ZTUNNEL, Change.STRICTER)
    assert found.effect.value == "migration-chore" and found.severity.value == "warning"


def test_same_policy_without_a_waypoint_is_no_chore() -> None:
    assert findings(run(SIDECAR_NS, APPS, policy("reviews")), "AMA425") == []


def test_policy_on_a_service_the_waypoint_does_not_serve() -> None:
    assert findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, policy("ratings")), "AMA425") == []


def test_deny_on_principals_gets_looser_and_deny_on_not_principals_stricter() -> None:
    deny = policy("reviews", "DENY", "principals: [cluster.local/ns/web/sa/bot]")
    [found] = findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, deny), "AMA425")
    assert found.enforcement is not None and found.enforcement.change is Change.LOOSER
    assert "no longer match" in found.message
    deny_others = policy("reviews", "DENY", "notNamespaces: [shop]")
    [found] = findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, deny_others), "AMA425")
    assert found.enforcement is not None and found.enforcement.change is Change.STRICTER


def test_l7_and_fixed_policies_are_not_flagged() -> None:
    l7 = policy("reviews", extra="\n    to: [{operation: {methods: [GET]}}]")
    assert findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, l7), "AMA425") == []
    fixed = policy("reviews", source="principals: [cluster.local/ns/shop/sa/waypoint]")
    assert findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, fixed), "AMA425") == []


def test_existing_waypoint_and_its_service_account_override() -> None:
    waypoint = WAYPOINT.replace("name: waypoint,", "name: reviews-wp,").replace(
        "namespace: shop}", "namespace: shop, annotations: "
                            "{gateway.istio.io/service-account: wp-sa}}")
    [found] = findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, policy("reviews"), waypoint),
                       "AMA425")
    assert "Gateway/shop/reviews-wp" in found.message
    assert "cluster.local/ns/shop/sa/wp-sa" in found.message


# --- AMA426 / AMA515: ingress to a waypoint-protected Service -----------------------------

INGRESS_VS = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: bookinfo, namespace: istio-system}
spec:
  hosts: ["*"]
  gateways: [bookinfo-gateway]
  http:
  - route: [{destination: {host: reviews.shop.svc.cluster.local, port: {number: 9080}}}]
"""
MESH_VS = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-route, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - timeout: 2s
    route: [{destination: {host: reviews}}]
"""
GATEWAY_API_INGRESS = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews-public, namespace: shop}
spec:
  parentRefs: [{name: public}]
  rules: [{backendRefs: [{name: reviews, port: 9080}]}]
"""
MESH_ROUTE = """
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews-mesh, namespace: shop}
spec:
  parentRefs: [{kind: Service, group: "", name: reviews}]
  rules: [{backendRefs: [{name: reviews, port: 9080}]}]
"""


def test_ingress_virtualservice_in_another_namespace() -> None:
    analysis = run(SIDECAR_NS, APPS, JWT_REVIEWS, INGRESS_VS)
    [found] = findings(analysis, "AMA426")
    assert found.namespace == "shop" and found.services == ("reviews",)
    assert [o.ref for o in found.objects] == ["Service/shop/reviews",
                                              "VirtualService/istio-system/bookinfo"]
    assert "istio.io/ingress-use-waypoint=true" in found.message
    assert found.enforcement is not None and found.enforcement.change is Change.NOT_ENFORCED
    assert findings(analysis, "AMA515") == []


def test_ingress_only_matters_for_a_service_with_l7_config() -> None:
    assert findings(run(SIDECAR_NS, APPS, INGRESS_VS), "AMA426") == []
    # ratings gets no waypoint: an ingress route to it is fine
    to_ratings = INGRESS_VS.replace("reviews.shop", "ratings.shop")
    assert findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, to_ratings), "AMA426") == []


def test_a_service_with_only_mesh_routes_needs_no_ingress_label() -> None:
    # the waypoint applies reviews' timeout, but an ingress gateway never applied mesh routes
    assert findings(run(SIDECAR_NS, APPS, MESH_VS, INGRESS_VS), "AMA426") == []


def test_mesh_routes_are_not_ingress() -> None:
    assert findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, MESH_VS, MESH_ROUTE), "AMA426") == []


def test_gateway_api_route_from_an_ingress_gateway() -> None:
    [found] = findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, GATEWAY_API_INGRESS), "AMA426")
    assert found.objects[1].ref == "HTTPRoute/shop/reviews-public"
    waypoint_parent = GATEWAY_API_INGRESS.replace("gatewayClassName: istio",
                                                  "gatewayClassName: istio-waypoint")
    assert findings(run(SIDECAR_NS, APPS, JWT_REVIEWS, waypoint_parent), "AMA426") == []


def test_opt_in_on_the_service_or_the_namespace() -> None:
    labelled = APPS.replace("metadata: {name: reviews, namespace: shop}\nspec:\n  selector",
                            "metadata: {name: reviews, namespace: shop, labels: "
                            "{istio.io/ingress-use-waypoint: \"true\"}}\nspec:\n  selector", 1)
    assert findings(run(SIDECAR_NS, labelled, JWT_REVIEWS, INGRESS_VS), "AMA426") == []
    namespace = SIDECAR_NS.replace("{istio-injection: enabled}",
                                   "{istio-injection: enabled, "
                                   "istio.io/ingress-use-waypoint: \"true\"}")
    assert findings(run(namespace, APPS, JWT_REVIEWS, INGRESS_VS), "AMA426") == []


def test_ambient_namespace_with_its_waypoint_is_an_error() -> None:
    analysis = run(AMBIENT_NS, WAYPOINT, APPS, JWT_AT_WAYPOINT, GATEWAY_API_INGRESS)
    [found] = findings(analysis, "AMA515")
    assert found.severity.value == "error" and "Gateway/shop/waypoint" in found.message
    assert findings(analysis, "AMA426") == []
