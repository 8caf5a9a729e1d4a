"""Security rules: JWT, L7 and L4 AuthorizationPolicy, CUSTOM/AUDIT, PeerAuthentication."""

from __future__ import annotations

import pytest

from asm_mode_advisor.report import NamespaceVerdict
from asm_mode_advisor.rules import Finding
from asm_mode_advisor.rules.security import l7_fields
from support import analysis_from

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: orders, namespace: api}
spec:
  template:
    metadata: {labels: {app: orders, tier: backend}}
    spec: {containers: [{name: app, image: orders:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: api}
spec: {selector: {app: orders}, ports: [{name: http, port: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: api}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
"""


def run(text: str) -> tuple[list[Finding], list[NamespaceVerdict]]:
    analysis = analysis_from(APP + "---\n" + text)
    assert analysis.report.errors == []
    return analysis.findings, analysis.report.namespaces


def fired(text: str, rule_id: str) -> list[Finding]:
    return [f for f in run(text)[0] if f.rule.id == rule_id]


def recommendation(text: str, namespace: str = "api") -> str:
    return next(v.recommendation for v in run(text)[1] if v.name == namespace)


def policy(rules: str, extra: str = "  selector: {matchLabels: {app: orders}}\n",
           namespace: str = "api") -> str:
    return ("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
            f"metadata: {{name: p, namespace: {namespace}}}\nspec:\n{extra}{rules}")


def test_request_authentication_needs_a_waypoint() -> None:
    text = ("apiVersion: security.istio.io/v1beta1\nkind: RequestAuthentication\n"
            "metadata: {name: jwt, namespace: api}\nspec:\n"
            "  selector: {matchLabels: {app: orders}}\n"
            "  jwtRules: [{issuer: 'https://id.example.com'}]\n")
    found = fired(text, "AMA110")
    assert len(found) == 1
    assert found[0].services == ("orders",)
    assert "https://id.example.com" in found[0].message
    assert found[0].path == ("spec", "jwtRules")
    assert recommendation(text) == "ambient-waypoint"


@pytest.mark.parametrize(("rules", "field"), [
    ("  rules: [{to: [{operation: {methods: [GET]}}]}]\n", "methods"),
    ("  rules: [{to: [{operation: {paths: [/admin]}}]}]\n", "paths"),
    ("  rules: [{to: [{operation: {notPaths: [/health]}}]}]\n", "notPaths"),
    ("  rules: [{to: [{operation: {hosts: [orders.example.com]}}]}]\n", "hosts"),
    ("  rules: [{from: [{source: {requestPrincipals: ['*']}}]}]\n", "requestPrincipals"),
    ("  rules: [{from: [{source: {remoteIpBlocks: [10.0.0.0/8]}}]}]\n", "remoteIpBlocks"),
    ("  rules: [{when: [{key: 'request.auth.claims[group]', values: [admin]}]}]\n",
     "when request.auth.claims[group]"),
    ("  rules: [{when: [{key: 'request.headers[x-token]', values: [a]}]}]\n",
     "when request.headers[x-token]"),
])
def test_l7_authorization_fields_need_a_waypoint(rules: str, field: str) -> None:
    found = fired(policy(rules), "AMA111")
    assert len(found) == 1
    assert field in found[0].message
    assert found[0].services == ("orders",)
    assert found[0].path == ("spec", "rules", 0)
    assert fired(policy(rules), "AMA210") == []
    assert recommendation(policy(rules)) == "ambient-waypoint"


def test_allow_policy_warns_about_an_outage_and_deny_about_a_gap() -> None:
    rules = "  rules: [{to: [{operation: {methods: [DELETE]}}]}]\n"
    allow = fired(policy(rules), "AMA111")[0].message
    deny = fired(policy("  action: DENY\n" + rules), "AMA111")[0].message
    assert "denied all traffic" in allow and "(ALLOW)" in allow
    assert "no effect" in deny and "(DENY)" in deny


def test_path_names_the_first_rule_with_l7_fields() -> None:
    rules = ("  rules:\n  - from: [{source: {namespaces: [web]}}]\n"
             "  - to: [{operation: {paths: [/x]}}]\n")
    assert fired(policy(rules), "AMA111")[0].path == ("spec", "rules", 1)


@pytest.mark.parametrize("rules", [
    "  rules: [{from: [{source: {principals: ['cluster.local/ns/web/sa/web']}}]}]\n",
    "  rules: [{from: [{source: {namespaces: [web], notNamespaces: [dev]}}]}]\n",
    "  rules: [{from: [{source: {ipBlocks: [10.0.0.0/8]}}]}]\n",
    "  rules: [{to: [{operation: {ports: ['8080'], notPorts: ['9090']}}]}]\n",
    "  rules: [{when: [{key: source.ip, values: [10.0.0.1]}, "
    "{key: destination.port, values: ['8080']}]}]\n",
], ids=["principals", "namespaces", "ipBlocks", "ports", "l4-conditions"])
def test_l4_only_authorization_is_served_by_ztunnel(rules: str) -> None:
    text = policy(rules)
    assert fired(text, "AMA111") == []
    found = fired(text, "AMA210")
    assert len(found) == 1 and found[0].effect.value == "info"
    assert recommendation(text) == "ambient"


def test_deny_all_policy_without_rules_needs_nothing() -> None:
    text = policy("", extra="  {}\n")
    assert [f.rule.id for f in run(text)[0] if f.rule.id.startswith("AMA11")] == []
    assert recommendation(text) == "ambient"


@pytest.mark.parametrize("action", ["CUSTOM", "AUDIT", "custom"])
def test_custom_and_audit_actions_need_a_waypoint(action: str) -> None:
    text = policy(f"  action: {action}\n  provider: {{name: opa}}\n  rules: [{{}}]\n")
    found = fired(text, "AMA112")
    assert len(found) == 1 and found[0].path == ("spec", "action")
    assert action.upper() in found[0].message
    assert fired(text, "AMA111") == []
    assert recommendation(text) == "ambient-waypoint"


def test_target_refs_name_the_services() -> None:
    text = policy("  rules: [{to: [{operation: {methods: [GET]}}]}]\n",
                  extra="  targetRefs: [{kind: Service, group: '', name: web}]\n")
    assert fired(text, "AMA111")[0].services == ("web",)


def test_selector_with_match_expressions_limits_services() -> None:
    selector = "  selector: {matchLabels: {tier: backend}}\n"
    text = policy("  rules: [{to: [{operation: {methods: [GET]}}]}]\n", extra=selector)
    assert fired(text, "AMA111")[0].services == ("orders",)


def test_namespace_wide_policy_covers_every_service() -> None:
    text = policy("  rules: [{to: [{operation: {methods: [GET]}}]}]\n", extra="")
    assert fired(text, "AMA111")[0].services == ("orders", "web")


def test_root_namespace_policy_without_selector_is_mesh_wide() -> None:
    text = policy("  rules: [{to: [{operation: {paths: [/admin]}}]}]\n", extra="",
                  namespace="istio-system")
    found = fired(text, "AMA111")
    assert len(found) == 1 and found[0].namespace is None
    assert recommendation(text, "api") == "ambient-waypoint"


def peer(spec: str) -> str:
    return ("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
            f"metadata: {{name: pa, namespace: api}}\nspec:\n{spec}")


def test_peer_authentication_disable_blocks_ambient() -> None:
    text = peer("  mtls: {mode: DISABLE}\n")
    found = fired(text, "AMA305")
    assert len(found) == 1 and found[0].path == ("spec", "mtls")
    assert found[0].effect.value == "blocks-ambient"
    assert recommendation(text) == "sidecar"


def test_port_level_disable_blocks_ambient() -> None:
    text = peer("  selector: {matchLabels: {app: orders}}\n  mtls: {mode: STRICT}\n"
                "  portLevelMtls: {'8080': {mode: DISABLE}}\n")
    found = fired(text, "AMA305")
    assert len(found) == 1 and "port(s) 8080" in found[0].message
    assert found[0].path == ("spec", "portLevelMtls")
    assert found[0].services == ("orders",)


@pytest.mark.parametrize("mode", ["STRICT", "PERMISSIVE"])
def test_strict_and_permissive_are_served_by_ztunnel(mode: str) -> None:
    text = peer(f"  mtls: {{mode: {mode}}}\n")
    assert fired(text, "AMA305") == []
    assert len(fired(text, "AMA210")) == 1
    assert recommendation(text) == "ambient"


def test_l7_fields_helper_lists_only_l7_attributes() -> None:
    rule = {"from": [{"source": {"principals": ["a"], "requestPrincipals": ["b"]}}],
            "to": [{"operation": {"ports": ["80"], "methods": ["GET"]}}],
            "when": [{"key": "source.namespace"}, {"key": "request.auth.presenter"}]}
    assert l7_fields(rule) == ["methods", "requestPrincipals", "when request.auth.presenter"]
    assert l7_fields({"from": "garbage", "to": [1, None]}) == []
