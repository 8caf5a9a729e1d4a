"""Current state and chores: mode labels, sidecar-only config, host network, NetworkPolicy."""

from __future__ import annotations

import pytest

from asm_mode_advisor.analysis import Analysis
from asm_mode_advisor.rules import Finding
from support import analysis_from


def run(text: str) -> Analysis:
    analysis = analysis_from(text)
    assert analysis.report.errors == []
    return analysis


def fired(analysis: Analysis, rule_id: str) -> list[Finding]:
    return [f for f in analysis.findings if f.rule.id == rule_id]


def namespace(labels: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n  labels: {labels}\n"


#: Something to move: a namespace with no workload or Service gets no mode advice.
SHOP_SERVICE = ("---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
                "spec: {selector: {app: web}, ports: [{port: 80}]}\n")


@pytest.mark.parametrize(("labels", "current", "conflict"), [
    ("{istio-injection: enabled}", "sidecar", False),
    ("{istio.io/rev: asm-1-25}", "sidecar", False),
    ("{istio.io/rev: asm-1-25, istio-injection: disabled}", "none", False),
    ("{istio.io/dataplane-mode: ambient}", "ambient", False),
    ("{istio-injection: enabled, istio.io/dataplane-mode: ambient}", "conflict", True),
    ("{istio.io/rev: asm-1-25, istio.io/dataplane-mode: ambient}", "conflict", True),
    ("{team: a}", "none", False),
])
def test_namespace_mode_labels(labels: str, current: str, conflict: bool) -> None:
    analysis = run(namespace(labels) + SHOP_SERVICE)
    verdict = analysis.report.namespaces[0]
    assert verdict.current_mode == current
    found = fired(analysis, "AMA507")  # the conformance rule owns the both-labels conflict
    assert len(found) == int(conflict)
    if conflict:
        assert found[0].severity.value == "error"
        assert found[0].path[:2] == ("metadata", "labels")
    assert verdict.recommendation == "ambient"  # chores never change the verdict


def deployment(template_meta: str, spec: str = "") -> str:
    return ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: shop}\n"
            f"spec:\n  template:\n    metadata: {template_meta}\n    spec:\n{spec}"
            "      containers: [{name: web, image: web:1}]\n")


@pytest.mark.parametrize("meta", [
    "{labels: {sidecar.istio.io/inject: 'true'}}",
    "{annotations: {sidecar.istio.io/inject: 'True'}}",
])
def test_inject_override_is_a_chore(meta: str) -> None:
    analysis = run(deployment(meta))
    found = fired(analysis, "AMA403")
    assert len(found) == 1 and found[0].workloads == ("web",)
    assert found[0].effect.value == "migration-chore"
    assert analysis.report.namespaces[0].recommendation == "ambient"


def test_inject_false_is_not_an_override() -> None:
    analysis = run(deployment("{labels: {sidecar.istio.io/inject: 'false'}}"))
    assert fired(analysis, "AMA403") == []


def test_sidecar_only_annotations_are_listed() -> None:
    analysis = run(deployment(
        "{annotations: {traffic.sidecar.istio.io/excludeOutboundPorts: '5432', "
        "proxy.istio.io/config: '{}', sidecar.istio.io/proxyCPU: 100m, "
        "prometheus.io/scrape: 'true'}}"))
    found = fired(analysis, "AMA404")
    assert len(found) == 1
    assert found[0].message.endswith(
        "proxy.istio.io/config, sidecar.istio.io/proxyCPU, "
        "traffic.sidecar.istio.io/excludeOutboundPorts")


def test_host_network_pods_are_noted() -> None:
    analysis = run(deployment("{labels: {app: web}}", spec="      hostNetwork: true\n"))
    found = fired(analysis, "AMA406")
    assert len(found) == 1 and found[0].effect.value == "info"


def test_sidecar_resource_is_a_chore() -> None:
    analysis = run("apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
                   "metadata: {name: default, namespace: shop}\n"
                   "spec: {egress: [{hosts: ['./*']}]}\n" + SHOP_SERVICE)
    found = fired(analysis, "AMA405")
    assert len(found) == 1 and found[0].rows == ("M-SCALE", "M-LIFECYCLE")
    assert analysis.report.namespaces[0].recommendation == "ambient"


def netpol(rules: str) -> str:
    return ("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\n"
            "metadata: {name: np, namespace: shop}\n"
            f"spec:\n  podSelector: {{}}\n{rules}")


@pytest.mark.parametrize(("rules", "path"), [
    ("  ingress: [{ports: [{protocol: TCP, port: 8080}]}]\n", ("spec", "ingress", 0)),
    ("  egress:\n  - {}\n  - ports: [{port: 5432}]\n", ("spec", "egress", 1)),
    ("  ingress: [{ports: [{port: 15000, endPort: 15007}]}]\n", ("spec", "ingress", 0)),
])
def test_network_policy_port_lists_without_hbone(rules: str, path: tuple[str | int]) -> None:
    analysis = run(netpol(rules))
    found = fired(analysis, "AMA407")
    assert len(found) == 1 and found[0].path == path
    assert "TCP 15008" in found[0].message


@pytest.mark.parametrize("rules", [
    "  ingress: [{ports: [{port: 8080}, {protocol: TCP, port: 15008}]}]\n",
    "  ingress: [{ports: [{port: 15000, endPort: 15010}]}]\n",
    "  ingress: [{from: [{podSelector: {}}]}]\n",
    "  ingress: [{ports: [{protocol: TCP}]}]\n",
    "  policyTypes: [Ingress]\n",
])
def test_network_policy_that_lets_hbone_through(rules: str) -> None:
    assert fired(run(netpol(rules)), "AMA407") == []


def test_one_finding_per_policy_even_when_both_directions_block() -> None:
    analysis = run(netpol("  ingress: [{ports: [{port: 80}]}]\n"
                          "  egress: [{ports: [{port: 443}]}]\n"))
    assert [f.path for f in fired(analysis, "AMA407")] == [("spec", "ingress", 0)]


def test_mixed_modes_note_when_another_namespace_stays_on_sidecars() -> None:
    analysis = run("apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n"
                   "metadata: {name: plain, namespace: legacy}\nspec: {mtls: {mode: DISABLE}}\n"
                   "---\napiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: legacy}\n"
                   "spec: {ports: [{port: 5432}]}\n"
                   "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
                   "spec: {ports: [{port: 80}]}\n")
    by_name = {v.name: v for v in analysis.report.namespaces}
    assert by_name["legacy"].recommendation == "sidecar"
    assert [r.rule_id for r in by_name["legacy"].reasons].count("AMA410") == 0
    notes = [r for r in by_name["shop"].reasons if r.rule_id == "AMA410"]
    assert len(notes) == 1 and "legacy" in notes[0].message
    assert by_name["shop"].recommendation == "ambient"
