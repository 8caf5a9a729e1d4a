"""Security rules: JWT, L7 and L4 AuthorizationPolicy, CUSTOM/AUDIT, PeerAuthentication."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from asm_mode_advisor.cli import app
from asm_mode_advisor.enforcement import Change, Enforcement, Enforcer
from asm_mode_advisor.model import Severity
from asm_mode_advisor.render import OutputFormat, View, render
from asm_mode_advisor.report import NamespaceVerdict
from asm_mode_advisor.rules import ALL_RULES, Finding
from asm_mode_advisor.rules.security import l7_fields, ztunnel_change
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
    assert "no rule is left, so ztunnel denies every call" in allow and "(ALLOW)" in allow
    assert "denies nothing" in deny and "(DENY)" in deny


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


# --- where each AuthorizationPolicy is enforced, today and after the move (issue 14, 7) ----

AMBIENT_API = """apiVersion: v1
kind: Namespace
metadata: {name: api, labels: {istio.io/dataplane-mode: ambient}}
---
"""
SIDECAR_API = """apiVersion: v1
kind: Namespace
metadata: {name: api, labels: {istio-injection: enabled}}
---
"""


def enforcement_of(text: str) -> tuple[str, Enforcement, Severity]:
    """The one finding of policy ``p``: its rule, enforcement and severity."""
    found = [f for f in run(text)[0] if f.objects and f.objects[0].name == "p"
             and f.rule.id in ("AMA111", "AMA112", "AMA210", "AMA413")]
    assert len(found) == 1, [f.rule.id for f in found]
    assert found[0].enforcement is not None
    return found[0].rule.id, found[0].enforcement, found[0].severity


@pytest.mark.parametrize(("rules", "action", "change"), [
    ("  rules: [{from: [{source: {principals: [cluster.local/ns/web/sa/web]}}]}]\n", "ALLOW",
     Change.SAME),
    ("  rules: [{to: [{operation: {methods: [GET]}}]}]\n", "ALLOW", Change.STRICTER),
    ("  rules: [{from: [{source: {namespaces: [web]}}], to: [{operation: {methods: [GET], "
     "ports: ['8080']}}]}]\n", "DENY", Change.STRICTER),
    ("  rules:\n  - to: [{operation: {paths: [/admin]}}]\n"
     "  - from: [{source: {namespaces: [dev]}}]\n", "DENY", Change.LOOSER),
    ("  rules: [{to: [{operation: {methods: [DELETE]}}]}]\n", "DENY", Change.NOT_ENFORCED),
    ("  rules: [{when: [{key: 'request.headers[x-token]', values: [a]}]}]\n", "DENY",
     Change.NOT_ENFORCED),
], ids=["l4-same", "allow-stricter", "deny-widened", "deny-looser", "deny-not-enforced",
        "deny-when-not-enforced"])
def test_change_follows_istiods_conversion(rules: str, action: str, change: Change) -> None:
    text = SIDECAR_API + policy(f"  action: {action}\n{rules}")
    rule_id, enforcement, severity = enforcement_of(text)
    assert enforcement.change is change
    assert (enforcement.today, enforcement.after_move) == (Enforcer.SERVER_SIDECAR,
                                                           Enforcer.ZTUNNEL)
    expected = {Change.SAME: Severity.NOTE, Change.STRICTER: Severity.WARNING,
                Change.LOOSER: Severity.WARNING, Change.NOT_ENFORCED: Severity.WARNING}
    assert severity is expected[change]
    assert rule_id == ("AMA210" if change is Change.SAME else "AMA111")


def test_weakening_is_an_error_in_an_ambient_namespace() -> None:
    text = AMBIENT_API + policy("  action: DENY\n  rules: [{to: [{operation: {methods: "
                                "[DELETE]}}]}]\n")
    _, enforcement, severity = enforcement_of(text)
    assert (enforcement.today, enforcement.after_move) == (Enforcer.ZTUNNEL, Enforcer.ZTUNNEL)
    assert enforcement.change is Change.NOT_ENFORCED and severity is Severity.ERROR


def test_stricter_stays_a_warning_in_an_ambient_namespace() -> None:
    text = AMBIENT_API + policy("  rules: [{to: [{operation: {methods: [GET]}}]}]\n")
    assert enforcement_of(text)[2] is Severity.WARNING


def test_allow_message_names_the_l4_rules_that_still_allow() -> None:
    rules = ("  rules:\n  - to: [{operation: {methods: [GET]}}]\n"
             "  - to: [{operation: {paths: [/admin]}}]\n"
             "  - from: [{source: {principals: [cluster.local/ns/web/sa/web]}}]\n")
    message = fired(policy(rules), "AMA111")[0].message
    assert "its 2 ALLOW rules with HTTP attributes (methods, paths) are dropped" in message
    assert "the 1 L4 rule still allows principals cluster.local/ns/web/sa/web" in message
    assert "deny all" not in message and "denies every call" not in message


def test_custom_is_not_enforced_after_the_move() -> None:
    text = policy("  action: CUSTOM\n  provider: {name: ext-authz}\n  rules: [{}]\n")
    rule_id, enforcement, severity = enforcement_of(text)
    assert rule_id == "AMA112" and enforcement.after_move is Enforcer.NOBODY
    assert enforcement.change is Change.NOT_ENFORCED and severity is Severity.WARNING


def test_target_refs_policy_reaches_only_a_waypoint() -> None:
    refs = "  targetRefs: [{kind: Service, group: '', name: orders}]\n"
    text = policy("  rules: [{to: [{operation: {methods: [GET]}}]}]\n", extra=refs)
    found = fired(text, "AMA111")
    assert len(found) == 1 and "denied all traffic" not in found[0].message
    assert "only a waypoint applies it" in found[0].message
    enforcement = found[0].enforcement
    assert enforcement is not None and enforcement.today is Enforcer.NOBODY
    assert enforcement.after_move is Enforcer.WAYPOINT
    assert Enforcer.ZTUNNEL not in (enforcement.today, enforcement.after_move)


def test_target_refs_policy_on_a_waypoint_in_use_is_unchanged() -> None:
    text = (
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: api\n  labels: "
        "{istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint}\n---\n"
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
        "metadata: {name: waypoint, namespace: api}\nspec:\n  gatewayClassName: "
        "istio-waypoint\n  listeners: [{name: mesh, port: 15008, protocol: HBONE}]\n---\n"
        + policy("  rules: [{to: [{operation: {methods: [GET]}}]}]\n",
                 extra="  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, "
                       "name: waypoint}]\n"))
    _, enforcement, severity = enforcement_of(text)
    assert enforcement.today is enforcement.after_move is Enforcer.WAYPOINT
    assert enforcement.change is Change.SAME and severity is Severity.NOTE


@pytest.mark.parametrize("spec", ["  {}\n", "  action: DENY\n", "  rules: [{}]\n"],
                         ids=["allow-nothing", "deny-nothing", "allow-all"])
def test_every_policy_gets_one_finding_with_enforcement(spec: str) -> None:
    rule_id, enforcement, _ = enforcement_of(policy("", extra=spec))
    assert rule_id == "AMA210" and enforcement.change is Change.SAME


def test_ztunnel_change_keeps_l4_deny_rules() -> None:
    rules = [{"to": [{"operation": {"methods": ["GET"]}}]},
             {"from": [{"source": {"ipBlocks": ["10.0.0.0/8"]}}]}]
    conversion = ztunnel_change("DENY", rules)
    assert conversion.change is Change.LOOSER
    assert conversion.detail == "1 DENY rule with HTTP-only clauses never matches; 1 other rule " \
        "still denies"
    assert conversion.text == ("on ztunnel its 1 DENY rule with an HTTP-only clause (methods) "
                               "never matches; 1 other rule still denies")


# --- the enforcement line in every format, and in the examples' JSON reports ---------------

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def test_every_authorization_policy_in_the_examples_has_enforcement() -> None:
    policies = 0
    for folder in sorted(p for p in EXAMPLES.iterdir() if p.is_dir()):
        result = CliRunner().invoke(app, ["analyze", str(folder), "--output", "json"])
        assert result.exit_code in (0, 1), result.output
        report = json.loads(result.stdout)
        objects = [(o["kind"], o.get("namespace"), o["name"])
                   for v in report["namespaces"] for r in v["reasons"]
                   if r.get("enforcement") for o in r["objects"][:1]]
        found = sorted({(p.get("metadata", {}).get("namespace"), p["metadata"]["name"])
                        for path in folder.rglob("*.yaml")
                        for p in yaml.safe_load_all(path.read_text(encoding="utf-8"))
                        if isinstance(p, dict) and p.get("kind") == "AuthorizationPolicy"})
        for namespace, name in found:
            assert objects.count(("AuthorizationPolicy", namespace, name)) == 1, (
                folder.name, namespace, name)
        policies += len(found)
    assert policies >= 2


def test_enforcement_line_in_every_format() -> None:
    text = SIDECAR_API + policy("  action: DENY\n  rules: [{to: [{operation: {methods: "
                                "[DELETE]}}]}]\n")
    report = analysis_from(APP + "---\n" + text).report
    line = ("enforced today by server-sidecar, after the move by ztunnel: not enforced "
            "(1 DENY rule with HTTP-only clauses never matches: denies nothing)")
    table = render(report, OutputFormat.TABLE)
    assert "↳ enforced today by server-sidecar, after the move by ztunnel: not enforced" in table
    assert "(1 DENY rule with HTTP-only clauses never matches: denies nothing)" in " ".join(
        table.split())
    assert f"\n  - {line}\n" in render(report, OutputFormat.MARKDOWN)
    annotation = next(a for a in render(report, OutputFormat.GITHUB).splitlines()
                      if "AMA111" in a)
    assert annotation.startswith("::warning ") and annotation.endswith(f"%0A{line}")
    sarif = json.loads(render(report, OutputFormat.SARIF, view=View(rules=ALL_RULES)))
    result = next(r for r in sarif["runs"][0]["results"] if r["ruleId"] == "AMA111")
    assert f" {line}. [" in result["message"]["text"]
    assert result["properties"]["enforcement"] == {
        "today": "server-sidecar", "afterMove": "ztunnel", "change": "notEnforced",
        "detail": "1 DENY rule with HTTP-only clauses never matches: denies nothing"}
    reason = next(r for v in report.namespaces for r in v.reasons if r.rule_id == "AMA111")
    assert reason.severity == "warning"

