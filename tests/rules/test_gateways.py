"""Gateway-bound policies: applied by the gateway's own Envoy, never a waypoint need."""

from __future__ import annotations

import pytest

from asm_mode_advisor.analysis import Analysis
from asm_mode_advisor.enforcement import Change, Enforcer
from asm_mode_advisor.rules.gateways import GATEWAY_BOUND, is_gateway_pod
from support import analysis_from

GATEWAY_NS = """
apiVersion: v1
kind: Namespace
metadata: {name: istio-ingress, labels: {istio-injection: enabled}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istio-ingressgateway, namespace: istio-ingress}
spec:
  template:
    metadata:
      labels: {istio: ingressgateway, app: istio-ingressgateway}
      annotations: {inject.istio.io/templates: gateway}
    spec: {containers: [{name: istio-proxy, image: auto}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: edge, namespace: istio-ingress}
spec:
  template:
    metadata:
      labels: {app: edge}
      annotations: {inject.istio.io/templates: gateway}
    spec: {containers: [{name: istio-proxy, image: auto}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: productpage, namespace: istio-ingress}
spec:
  template:
    metadata: {labels: {app: productpage}}
    spec: {containers: [{name: productpage, image: productpage:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: productpage, namespace: istio-ingress}
spec: {selector: {app: productpage}, ports: [{name: http, port: 9080}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: bookinfo-gateway, namespace: istio-ingress}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: istio-ingress}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
"""

SELECT_GATEWAY = "  selector: {matchLabels: {istio: ingressgateway}}\n"
SELECT_EDGE = "  selector: {matchLabels: {app: edge}}\n"
SELECT_APP = "  selector: {matchLabels: {app: productpage}}\n"
TARGET_GATEWAY = ("  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, "
                  "name: bookinfo-gateway}]\n")
TARGET_WAYPOINT = ("  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, "
                   "name: waypoint}]\n")

BODIES = {
    "RequestAuthentication": ("security.istio.io/v1",
                              "  jwtRules: [{issuer: testing@secure.istio.io}]\n", "AMA110"),
    "AuthorizationPolicy": ("security.istio.io/v1",
                            "  action: CUSTOM\n  provider: {name: ext-authz}\n  rules: [{}]\n",
                            "AMA112"),
    "Telemetry": ("telemetry.istio.io/v1",
                  "  accessLogging: [{providers: [{name: envoy}]}]\n", "AMA120"),
    "WasmPlugin": ("extensions.istio.io/v1alpha1",
                   "  url: oci://registry.example.com/filter:1\n", "AMA130"),
}


def analysis_of(kind: str, binding: str, body: str | None = None) -> Analysis:
    version, default, _ = BODIES[kind]
    text = (f"apiVersion: {version}\nkind: {kind}\n"
            f"metadata: {{name: p, namespace: istio-ingress}}\nspec:\n{binding}"
            f"{default if body is None else body}")
    analysis = analysis_from(GATEWAY_NS + "---\n" + text)
    assert analysis.report.errors == []
    return analysis


def rule_ids(analysis: Analysis) -> set[str]:
    return {f.rule.id for f in analysis.findings}


def recommendation(analysis: Analysis) -> str:
    return next(v.recommendation for v in analysis.report.namespaces
                if v.name == "istio-ingress")


@pytest.mark.parametrize("kind", sorted(BODIES))
@pytest.mark.parametrize("binding", [SELECT_GATEWAY, SELECT_EDGE, TARGET_GATEWAY],
                         ids=["istio-label", "gateway-workload", "gateway-targetref"])
def test_gateway_bound_policy_is_info_applied_by_the_gateway(kind: str, binding: str) -> None:
    analysis = analysis_of(kind, binding)
    found = [f for f in analysis.findings if f.rule is GATEWAY_BOUND]
    assert len(found) == 1 and found[0].objects[0].kind == kind
    assert found[0].effect.value == "info"
    enforcement = found[0].enforcement
    assert enforcement is not None
    assert enforcement.today is enforcement.after_move is Enforcer.GATEWAY
    assert enforcement.change is Change.SAME
    assert BODIES[kind][2] not in rule_ids(analysis)
    assert recommendation(analysis) != "ambient-waypoint"


@pytest.mark.parametrize("kind", sorted(BODIES))
def test_the_same_policy_on_an_app_still_needs_a_waypoint(kind: str) -> None:
    analysis = analysis_of(kind, SELECT_APP)
    assert "AMA413" not in rule_ids(analysis)
    assert BODIES[kind][2] in rule_ids(analysis)
    assert recommendation(analysis) == "ambient-waypoint"


def test_waypoint_target_is_not_gateway_bound() -> None:
    analysis = analysis_of("AuthorizationPolicy", TARGET_WAYPOINT,
                           "  rules: [{to: [{operation: {methods: [GET]}}]}]\n")
    assert "AMA413" not in rule_ids(analysis) and "AMA111" in rule_ids(analysis)


def test_target_of_a_gateway_missing_from_the_input_is_not_assumed_a_gateway() -> None:
    refs = TARGET_GATEWAY.replace("bookinfo-gateway", "elsewhere")
    assert "AMA413" not in rule_ids(analysis_of("RequestAuthentication", refs))


def test_gateway_envoy_filter_is_reported_once_as_gateway_bound() -> None:
    text = """apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: lua, namespace: istio-ingress}
spec:
  workloadSelector: {labels: {istio: ingressgateway}}
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: ANY}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.lua}}
"""
    analysis = analysis_from(GATEWAY_NS + "---\n" + text)
    assert [f.rule.id for f in analysis.findings if f.objects and f.objects[0].name == "lua"
            ] == ["AMA413"]


def test_root_namespace_policy_selecting_gateway_pods_elsewhere() -> None:
    text = ("apiVersion: security.istio.io/v1\nkind: RequestAuthentication\n"
            "metadata: {name: jwt, namespace: istio-system}\nspec:\n"
            "  selector: {matchLabels: {app: edge}}\n"
            "  jwtRules: [{issuer: testing@secure.istio.io}]\n")
    analysis = analysis_from(GATEWAY_NS + "---\n" + text)
    assert "AMA413" in rule_ids(analysis) and "AMA110" not in rule_ids(analysis)


@pytest.mark.parametrize(("labels", "annotations", "gateway"), [
    ({"istio": "ingressgateway"}, {}, True),
    ({"istio": "egressgateway"}, {}, True),
    ({"gateway.networking.k8s.io/gateway-name": "bookinfo"}, {}, True),
    ({"gateway.istio.io/managed": "istio.io-gateway-controller"}, {}, True),
    ({"app": "istio-ingressgateway"}, {}, True),
    ({"app": "edge"}, {"inject.istio.io/templates": "gateway"}, True),
    ({"istio": "pilot"}, {}, False),
    ({"app": "productpage"}, {}, False),
])
def test_gateway_pods(labels: dict[str, str], annotations: dict[str, str],
                      gateway: bool) -> None:
    assert is_gateway_pod(labels, annotations) is gateway
