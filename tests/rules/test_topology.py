"""Topology: multi-cluster signals and VMs keep sidecars; mesh version; ztunnel ports."""

from __future__ import annotations

import pytest

from asm_mode_advisor.analysis import Analysis
from asm_mode_advisor.rules import Finding
from support import analysis_from

APP = """
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: ledger, namespace: bank}
spec: {selector: {app: ledger}, ports: [{name: http, port: 80}]}
"""


def run(text: str = "", **settings: str) -> Analysis:
    analysis = analysis_from(APP + "---\n" + text, **settings)
    assert analysis.report.errors == []
    return analysis


def fired(analysis: Analysis, rule_id: str) -> list[Finding]:
    return [f for f in analysis.findings if f.rule.id == rule_id]


def modes(analysis: Analysis) -> set[str]:
    """Recommendations of the advised namespaces (istio-system gets none)."""
    return {v.recommendation for v in analysis.report.namespaces} - {"not-applicable"}


MESH_WIDE = {
    "root-namespace-network": ("apiVersion: v1\nkind: Namespace\nmetadata:\n"
                               "  name: istio-system\n"
                               "  labels: {topology.istio.io/network: network1}\n"),
    "east-west-gateway": ("apiVersion: networking.istio.io/v1\nkind: Gateway\n"
                          "metadata: {name: cross-network, namespace: istio-system}\nspec:\n"
                          "  selector: {istio: eastwestgateway}\n  servers:\n"
                          "  - port: {number: 15443, name: tls, protocol: TLS}\n"
                          "    tls: {mode: AUTO_PASSTHROUGH}\n    hosts: ['*.local']\n"),
    "east-west-gateway-pods": ("apiVersion: apps/v1\nkind: Deployment\n"
                               "metadata: {name: ewgw, namespace: istio-system}\nspec:\n"
                               "  template:\n    metadata:\n      labels: {istio: eastwestgateway, "
                               "topology.istio.io/network: net1}\n"
                               "    spec: {containers: [{name: istio-proxy, image: proxy:1}]}\n"),
    "remote-secret": ("apiVersion: v1\nkind: Secret\nmetadata:\n  name: istio-remote-secret-b\n"
                      "  namespace: istio-system\n  labels: {istio/multiCluster: 'true'}\n"),
}
NAMESPACED = {
    "app-namespace-network": ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bank\n"
                              "  labels: {topology.istio.io/network: network2}\n"),
    "service-entry-network": ("apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
                              "metadata: {name: remote, namespace: bank}\nspec:\n"
                              "  hosts: [remote.example]\n  endpoints:\n"
                              "  - {address: 10.0.0.1, network: network2}\n"),
    "workload-entry-network": ("apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\n"
                               "metadata: {name: vm, namespace: bank}\n"
                               "spec: {address: 10.1.1.1, network: vm-net}\n"),
}


@pytest.mark.parametrize("text", list(MESH_WIDE.values()), ids=list(MESH_WIDE))
def test_control_plane_signals_keep_every_namespace_on_sidecars(text: str) -> None:
    analysis = run(text)
    found = fired(analysis, "AMA302")
    assert len(found) == 1
    assert found[0].namespace is None
    assert found[0].rows == ("N-MULTICLUSTER", "U-AMBIENT-EAST-WEST")
    assert modes(analysis) == {"sidecar"}
    assert all(any(r.rule_id == "AMA302" for r in v.reasons) for v in analysis.report.namespaces)


@pytest.mark.parametrize("text", list(NAMESPACED.values()), ids=list(NAMESPACED))
def test_namespace_network_signals_keep_that_namespace_on_sidecars(text: str) -> None:
    analysis = run(text)
    found = fired(analysis, "AMA302")
    assert len(found) == 1 and found[0].namespace == "bank"
    assert {v.name: v.recommendation for v in analysis.report.namespaces} == {
        "bank": "sidecar", "shop": "ambient"}


AMBIENT_EAST_WEST = """
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: istio-eastwestgateway
  namespace: istio-system
  labels: {topology.istio.io/network: network1}
spec:
  gatewayClassName: istio-east-west
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
"""


def test_ambient_east_west_gateway_keeps_every_namespace_on_sidecars() -> None:
    analysis = run(AMBIENT_EAST_WEST)
    found = fired(analysis, "AMA302")
    assert len(found) == 1 and found[0].namespace is None
    assert found[0].rows == ("N-MULTICLUSTER", "U-AMBIENT-EAST-WEST")
    assert "class istio-east-west" in found[0].message and "network1" in found[0].message
    assert modes(analysis) == {"sidecar"}


def test_east_west_class_without_label_is_still_a_signal() -> None:
    analysis = run(AMBIENT_EAST_WEST.replace("  labels: {topology.istio.io/network: network1}\n",
                                             ""))
    found = fired(analysis, "AMA302")
    assert len(found) == 1 and found[0].namespace is None
    assert found[0].path == ("spec", "gatewayClassName")


def test_network_labelled_gateway_in_app_namespace_concerns_that_namespace() -> None:
    analysis = run("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n"
                   "  name: edge\n  namespace: bank\n  labels: {topology.istio.io/network: n2}\n"
                   "spec:\n  gatewayClassName: istio\n"
                   "  listeners: [{name: tls, port: 15443, protocol: TLS}]\n")
    found = fired(analysis, "AMA302")
    assert len(found) == 1 and found[0].namespace == "bank"
    assert {v.name: v.recommendation for v in analysis.report.namespaces} == {
        "bank": "sidecar", "shop": "ambient"}


def test_ingress_gateway_api_gateway_is_not_multi_cluster() -> None:
    analysis = run("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
                   "metadata: {name: bookinfo-gateway, namespace: istio-system}\nspec:\n"
                   "  gatewayClassName: istio\n"
                   "  listeners: [{name: http, port: 80, protocol: HTTP}]\n")
    assert fired(analysis, "AMA302") == []
    assert modes(analysis) == {"ambient"}


def test_network_label_on_ordinary_pods_is_not_a_gateway() -> None:
    analysis = run("apiVersion: apps/v1\nkind: Deployment\n"
                   "metadata: {name: web, namespace: shop}\nspec:\n  template:\n"
                   "    metadata: {labels: {app: web, topology.istio.io/network: net1}}\n"
                   "    spec: {containers: [{name: web, image: web:1}]}\n")
    assert fired(analysis, "AMA302") == []


def test_ordinary_gateway_is_not_multi_cluster() -> None:
    analysis = run("apiVersion: networking.istio.io/v1\nkind: Gateway\n"
                   "metadata: {name: public, namespace: istio-system}\nspec:\n"
                   "  servers: [{port: {number: 443, name: https, protocol: HTTPS}, "
                   "hosts: ['*']}]\n")
    assert fired(analysis, "AMA302") == []
    assert "sidecar" not in modes(analysis)


def test_workload_group_keeps_its_namespace_on_sidecars() -> None:
    analysis = run("apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\n"
                   "metadata: {name: vm, namespace: bank}\n"
                   "spec: {template: {serviceAccount: ledger}}\n")
    found = fired(analysis, "AMA303")
    assert len(found) == 1 and found[0].namespace == "bank"
    assert {v.name: v.recommendation for v in analysis.report.namespaces} == {
        "bank": "sidecar", "shop": "ambient"}


def test_auto_registered_workload_entry_is_a_vm() -> None:
    analysis = run("apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n"
                   "  name: vm-1\n  namespace: bank\n"
                   "  annotations: {istio.io/autoRegistrationGroup: vm}\n"
                   "spec: {address: 10.1.1.1}\n")
    assert len(fired(analysis, "AMA303")) == 1


@pytest.mark.parametrize(("version", "blocked"), [
    ("1.24", True), ("1.22.3", True), ("v1.24.1-asm", True),
    ("1.25", False), ("1.26.0", False), ("2.0", False)])
def test_mesh_version_below_1_25_blocks_ambient(version: str, blocked: bool) -> None:
    analysis = run(mesh_version=version)
    found = fired(analysis, "AMA304")
    assert len(found) == (1 if blocked else 0)
    assert (modes(analysis) == {"sidecar"}) is blocked
    if blocked:
        assert found[0].namespace is None and version in found[0].message
        assert found[0].rows == ("N-VERSION",)
    assert analysis.report.mesh_version == version


def deployment_on(port: int, container: str = "app") -> str:
    return ("apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: p, namespace: shop}\n"
            "spec:\n  template:\n    metadata: {labels: {app: p}}\n    spec:\n"
            f"      containers:\n      - name: {container}\n        image: p:1\n"
            f"        ports: [{{containerPort: {port}}}]\n")


def test_app_port_only_ztunnel_binds_blocks_ambient() -> None:
    analysis = run(deployment_on(15080))
    found = fired(analysis, "AMA306")
    assert len(found) == 1 and "15080 (container app)" in found[0].message
    assert found[0].rows == ("U-ZTUNNEL-POD-PORTS",)
    assert fired(analysis, "AMA420") == []
    assert {v.name: v.recommendation for v in analysis.report.namespaces}["shop"] == "sidecar"


@pytest.mark.parametrize("port", [15001, 15006, 15008, 15053])
def test_port_both_modes_bind_is_an_error_chore_not_a_blocker(port: int) -> None:
    analysis = run(deployment_on(port, container="proxy"))
    assert fired(analysis, "AMA306") == []
    found = fired(analysis, "AMA420")
    assert len(found) == 1 and found[0].severity.value == "error"
    assert found[0].effect.value == "migration-chore"
    assert f"container proxy listens on {port}" in found[0].message
    assert "collides in both modes" in found[0].message
    assert found[0].rows == ("U-SIDECAR-PORTS",)
    assert {v.name: v.recommendation for v in analysis.report.namespaces}["shop"] == "ambient"


@pytest.mark.parametrize("port", [15000, 15004, 15009, 15020, 15021, 15090])
def test_port_only_the_sidecar_binds_is_an_error_chore(port: int) -> None:
    analysis = run(deployment_on(port))
    assert fired(analysis, "AMA306") == []
    found = fired(analysis, "AMA420")
    assert len(found) == 1 and "not with ztunnel" in found[0].message
    assert {v.name: v.recommendation for v in analysis.report.namespaces}["shop"] == "ambient"


def test_ordinary_app_port_collides_with_nothing() -> None:
    analysis = run(deployment_on(8080))
    assert fired(analysis, "AMA306") == fired(analysis, "AMA420") == []


def test_service_target_port_both_modes_bind_is_a_chore() -> None:
    analysis = run("apiVersion: v1\nkind: Service\nmetadata: {name: admin, namespace: shop}\n"
                   "spec: {selector: {app: admin}, ports: [{port: 80, targetPort: 15006}]}\n")
    assert fired(analysis, "AMA306") == []
    found = fired(analysis, "AMA420")
    assert len(found) == 1 and found[0].services == ("admin",)


def test_service_target_port_reserved_by_ztunnel() -> None:
    analysis = run("apiVersion: v1\nkind: Service\nmetadata: {name: admin, namespace: shop}\n"
                   "spec: {selector: {app: admin}, ports: [{port: 80, targetPort: 15080}]}\n")
    found = fired(analysis, "AMA306")
    assert len(found) == 1 and found[0].services == ("admin",)


def test_istio_own_components_may_use_150xx_ports() -> None:
    analysis = run(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: gw, namespace: shop}\n"
        "spec:\n  template:\n    metadata: {labels: {istio: ingressgateway}}\n    spec:\n"
        "      containers: [{name: istio-proxy, image: proxyv2, "
        "ports: [{containerPort: 15008}]}]\n"
        "---\napiVersion: v1\nkind: Service\nmetadata: {name: gw, namespace: shop}\n"
        "spec: {selector: {istio: ingressgateway}, ports: [{port: 15008}]}\n"
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: app, namespace: shop}\n"
        "spec:\n  template:\n    metadata: {labels: {app: app}}\n    spec:\n"
        "      containers: [{name: app, image: app:1, ports: [{containerPort: 8080}]},\n"
        "                   {name: istio-proxy, image: proxyv2, "
        "ports: [{containerPort: 15090}, {containerPort: 15001}]}]\n")
    assert fired(analysis, "AMA306") == fired(analysis, "AMA420") == []
