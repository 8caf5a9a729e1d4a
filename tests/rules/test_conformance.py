"""Conformance rules (AMA5xx): each check fires where it should and stays quiet otherwise."""

from __future__ import annotations

from asm_mode_advisor.analysis import Analysis, Settings, analyze
from support import analysis_from, load

AMBIENT_NS = """
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient}
"""
WAYPOINT_NS = """
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}
"""
SIDECAR_NS = """
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
"""
PLAIN_NS = """
apiVersion: v1
kind: Namespace
metadata: {name: shop}
"""
WAYPOINT = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: shop}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
"""
SERVICE = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{port: 9080, name: http}]
"""
DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  template:
    metadata: {labels: {app: reviews}}
    spec:
      containers: [{name: app, image: example/reviews:1}]
"""
VS_FAULT = """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec:
  hosts: [reviews]
  http:
  - fault: {abort: {httpStatus: 503, percentage: {value: 10}}}
    route: [{destination: {host: reviews}}]
"""
AUTHZ_SELECTOR = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: get-only, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  rules: [{to: [{operation: {methods: [GET]}}]}]
"""
AUTHZ_TARGETREFS = """
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: get-only, namespace: shop}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  rules: [{to: [{operation: {methods: [GET]}}]}]
"""
JWT_SELECTOR = """
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: shop}
spec:
  selector: {matchLabels: {app: reviews}}
  jwtRules: [{issuer: "https://issuer.example.com"}]
"""
ENVOYFILTER = """
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: lua, namespace: shop}
spec:
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: SIDECAR_INBOUND}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.lua}}
"""
SIDECAR = """
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress: [{hosts: ["./*"]}]
"""


def run(*docs: str, **settings: str) -> Analysis:
    return analysis_from("\n---\n".join(docs), **settings)


def fired(analysis: Analysis, rule_id: str) -> list[str]:
    return [r.message for v in analysis.report.namespaces for r in v.reasons
            if r.rule_id == rule_id]


def severities(analysis: Analysis, rule_id: str) -> set[str]:
    return {r.severity for v in analysis.report.namespaces for r in v.reasons
            if r.rule_id == rule_id}


def test_l7_routing_without_waypoint_is_an_error_on_the_fault_key() -> None:
    analysis = run(AMBIENT_NS, SERVICE, VS_FAULT)
    reasons = [r for v in analysis.report.namespaces for r in v.reasons
               if r.rule_id == "AMA501"]
    assert len(reasons) == 1
    assert reasons[0].severity == "error"
    assert reasons[0].field_path == ("spec", "http", 0, "fault")
    assert "Service reviews has none in use" in reasons[0].message
    assert "U-ZTUNNEL-NO-L7-TRAFFIC" in reasons[0].matrix_rows


def test_l7_routing_with_namespace_waypoint_passes() -> None:
    assert fired(run(WAYPOINT_NS, SERVICE, VS_FAULT, WAYPOINT), "AMA501") == []


def test_l7_routing_with_service_waypoint_label_passes() -> None:
    service = SERVICE.replace("metadata: {name: reviews, namespace: shop}",
                              "metadata:\n  name: reviews\n  namespace: shop\n"
                              "  labels: {istio.io/use-waypoint: waypoint}")
    assert fired(run(AMBIENT_NS, service, VS_FAULT, WAYPOINT), "AMA501") == []


def test_label_without_gateway_is_not_a_waypoint_in_use() -> None:
    analysis = run(WAYPOINT_NS, SERVICE, VS_FAULT)
    assert fired(analysis, "AMA501")
    assert fired(analysis, "AMA505")


def test_unreadable_waypoints_silence_the_checks_that_rest_on_them() -> None:
    text = "\n---\n".join((WAYPOINT_NS, SERVICE, VS_FAULT))
    loaded = load(text)
    unread = frozenset({"Gateway.gateway.networking.k8s.io"})
    analysis = analyze(loaded.resources, loaded.errors, Settings(unread=unread), files=1)
    assert fired(analysis, "AMA501") == [] and fired(analysis, "AMA505") == []
    assert fired(run(WAYPOINT_NS, SERVICE, VS_FAULT), "AMA505")  # readable: still an error


def test_sidecar_and_unlabelled_namespaces_get_no_conformance_findings() -> None:
    for namespace in (SIDECAR_NS, PLAIN_NS):
        analysis = run(namespace, SERVICE, VS_FAULT, AUTHZ_SELECTOR, ENVOYFILTER, SIDECAR)
        ids = {r.rule_id for v in analysis.report.namespaces for r in v.reasons}
        assert not {i for i in ids if i.startswith("AMA5")}, ids
        assert {r.severity for v in analysis.report.namespaces for r in v.reasons} <= {
            "note", "warning"}


def test_assume_mode_ambient_applies_to_unlabelled_namespaces() -> None:
    assert fired(run(PLAIN_NS, SERVICE, VS_FAULT, assume_mode="ambient"), "AMA501")


def test_assume_mode_recommended_skips_namespaces_recommended_sidecar() -> None:
    assert fired(run(PLAIN_NS, SERVICE, VS_FAULT, assume_mode="recommended"), "AMA501")
    blocked = run(PLAIN_NS, SERVICE, VS_FAULT, ENVOYFILTER, assume_mode="recommended")
    assert blocked.report.namespaces[0].recommendation == "sidecar"
    assert fired(blocked, "AMA501") == []


def test_conformance_does_not_change_recommendations() -> None:
    for docs in ((AMBIENT_NS, SERVICE, VS_FAULT), (AMBIENT_NS, SERVICE, ENVOYFILTER),
                 (AMBIENT_NS, SIDECAR)):
        labelled = run(*docs).report.namespaces[0].recommendation
        plain = run(PLAIN_NS, *docs[1:]).report.namespaces[0].recommendation
        assert labelled == plain


def test_selector_bound_l7_authorization_is_an_error() -> None:
    analysis = run(AMBIENT_NS, SERVICE, DEPLOYMENT, AUTHZ_SELECTOR)
    messages = fired(analysis, "AMA502")
    assert len(messages) == 1
    assert "1 ALLOW rule with HTTP attributes dropped, none left: deny all" in messages[0]
    assert severities(analysis, "AMA502") == {"error"}
    assert fired(analysis, "AMA501") == []


def test_ztunnel_authz_message_keeps_the_l4_rule_that_still_allows() -> None:
    mixed = AUTHZ_SELECTOR.replace(
        "  rules: [{to: [{operation: {methods: [GET]}}]}]",
        "  rules:\n  - to: [{operation: {methods: [GET]}}]\n"
        "  - from: [{source: {namespaces: [web]}}]")
    messages = fired(run(AMBIENT_NS, SERVICE, DEPLOYMENT, mixed), "AMA502")
    assert len(messages) == 1 and "deny-all" not in messages[0]
    assert "1 ALLOW rule with HTTP attributes dropped; 1 L4 rule still allows" in messages[0]


def test_ztunnel_authz_message_for_an_http_only_deny() -> None:
    deny = AUTHZ_SELECTOR.replace("spec:\n", "spec:\n  action: DENY\n")
    analysis = run(AMBIENT_NS, SERVICE, DEPLOYMENT, deny)
    messages = fired(analysis, "AMA502")
    assert len(messages) == 1 and "never matches: denies nothing" in messages[0]
    reason = next(r for v in analysis.report.namespaces for r in v.reasons
                  if r.rule_id == "AMA502")
    assert reason.enforcement is not None
    assert reason.enforcement.change.value == "notEnforced"


def test_deny_policy_message_says_it_denies_nothing() -> None:
    deny = AUTHZ_SELECTOR.replace("spec:\n", "spec:\n  action: DENY\n")
    assert "denies nothing" in fired(run(AMBIENT_NS, SERVICE, DEPLOYMENT, deny), "AMA502")[0]


def test_targetrefs_l7_authorization_on_existing_waypoint_passes() -> None:
    analysis = run(WAYPOINT_NS, SERVICE, DEPLOYMENT, AUTHZ_TARGETREFS, WAYPOINT)
    assert fired(analysis, "AMA502") == [] and fired(analysis, "AMA501") == []


def test_targetrefs_to_missing_waypoint_is_an_error() -> None:
    analysis = run(AMBIENT_NS, SERVICE, DEPLOYMENT, AUTHZ_TARGETREFS)
    assert "Gateway waypoint" in fired(analysis, "AMA501")[0]


def test_selector_policy_with_waypoint_warns_and_without_errors() -> None:
    with_waypoint = run(WAYPOINT_NS, SERVICE, DEPLOYMENT, JWT_SELECTOR, WAYPOINT)
    assert severities(with_waypoint, "AMA503") == {"warning"}
    assert fired(with_waypoint, "AMA501") == []
    without = run(AMBIENT_NS, SERVICE, DEPLOYMENT, JWT_SELECTOR)
    assert fired(without, "AMA503") == []
    assert severities(without, "AMA501") == {"error"}


def test_envoyfilter_on_app_pods_in_ambient_namespace_is_an_error() -> None:
    analysis = run(AMBIENT_NS, SERVICE, ENVOYFILTER)
    assert severities(analysis, "AMA504") == {"error"}
    assert fired(run(SIDECAR_NS, SERVICE, ENVOYFILTER), "AMA504") == []


def test_use_waypoint_naming_missing_gateway_is_an_error() -> None:
    namespace = WAYPOINT_NS.replace("use-waypoint: waypoint", "use-waypoint: waypiont")
    analysis = run(namespace, SERVICE, WAYPOINT)
    assert severities(analysis, "AMA505") == {"error"}
    assert "shop/waypiont" in fired(analysis, "AMA505")[0]
    assert fired(run(WAYPOINT_NS, SERVICE, WAYPOINT), "AMA505") == []


def test_use_waypoint_none_opts_out() -> None:
    namespace = WAYPOINT_NS.replace("use-waypoint: waypoint", "use-waypoint: none")
    assert fired(run(namespace, SERVICE), "AMA505") == []


def test_service_bound_to_workload_only_waypoint_is_a_mismatch() -> None:
    service = SERVICE.replace("metadata: {name: reviews, namespace: shop}",
                              "metadata:\n  name: reviews\n  namespace: shop\n"
                              "  labels: {istio.io/use-waypoint: waypoint}")
    workload_only = WAYPOINT.replace("metadata: {name: waypoint, namespace: shop}",
                                     "metadata:\n  name: waypoint\n  namespace: shop\n"
                                     "  labels: {istio.io/waypoint-for: workload}")
    analysis = run(AMBIENT_NS, service, workload_only)
    assert severities(analysis, "AMA506") == {"error"}
    all_traffic = workload_only.replace("waypoint-for: workload", "waypoint-for: all")
    assert fired(run(AMBIENT_NS, service, all_traffic), "AMA506") == []


def test_pod_bound_to_service_only_waypoint_is_a_mismatch() -> None:
    deployment = DEPLOYMENT.replace("metadata: {labels: {app: reviews}}",
                                    "metadata: {labels: {app: reviews, "
                                    "istio.io/use-waypoint: waypoint}}")
    analysis = run(AMBIENT_NS, deployment, WAYPOINT)
    reasons = [r for v in analysis.report.namespaces for r in v.reasons
               if r.rule_id == "AMA506"]
    assert len(reasons) == 1
    assert reasons[0].field_path[:2] == ("spec", "template")


def test_namespace_with_both_mode_labels_is_an_error() -> None:
    namespace = AMBIENT_NS.replace("{istio.io/dataplane-mode: ambient}",
                                   "{istio.io/dataplane-mode: ambient, istio-injection: enabled}")
    analysis = run(namespace)
    assert severities(analysis, "AMA507") == {"error"}
    assert fired(run(AMBIENT_NS), "AMA507") == []


def test_sidecar_resource_in_ambient_namespace_warns() -> None:
    assert severities(run(AMBIENT_NS, SIDECAR), "AMA508") == {"warning"}
    assert fired(run(SIDECAR_NS, SIDECAR), "AMA508") == []


def test_sidecar_only_annotation_in_ambient_namespace_warns() -> None:
    annotated = DEPLOYMENT.replace(
        "metadata: {labels: {app: reviews}}",
        "metadata:\n      labels: {app: reviews}\n      annotations: "
        "{traffic.sidecar.istio.io/excludeOutboundPorts: \"5432\"}")
    analysis = run(AMBIENT_NS, annotated)
    reasons = [r for v in analysis.report.namespaces for r in v.reasons
               if r.rule_id == "AMA508"]
    assert [r.severity for r in reasons] == ["warning"]
    assert reasons[0].field_path == ("spec", "template", "metadata", "annotations")
