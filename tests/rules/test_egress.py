"""Egress rules: L7 configuration on external hosts, and REGISTRY_ONLY outbound policy."""

from __future__ import annotations

import pytest

from asm_mode_advisor.report import NamespaceVerdict
from asm_mode_advisor.rules import Finding
from support import analysis_from

CURL = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: curl, namespace: shop}
spec:
  template:
    metadata: {labels: {app: curl}}
    spec: {containers: [{name: curl, image: curlimages/curl}]}
---
apiVersion: v1
kind: Service
metadata: {name: curl, namespace: shop}
spec: {selector: {app: curl}, ports: [{name: http, port: 80}]}
"""


def entry(host: str = "edition.cnn.com", namespace: str = "shop", name: str = "cnn",
          extra: str = "") -> str:
    return (f"apiVersion: networking.istio.io/v1\nkind: ServiceEntry\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n"
            f"  hosts: [\"{host}\"]\n  ports: [{{number: 80, name: http, protocol: HTTP}}]\n"
            f"  resolution: DNS\n{extra}")


def dr(policy: str, host: str = "edition.cnn.com") -> str:
    return ("apiVersion: networking.istio.io/v1\nkind: DestinationRule\n"
            "metadata: {name: cnn, namespace: shop}\n"
            f"spec:\n  host: {host}\n  trafficPolicy: {policy}\n")


def vs(http: str, host: str = "edition.cnn.com", namespace: str = "shop") -> str:
    return ("apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
            f"metadata: {{name: cnn, namespace: {namespace}}}\n"
            f"spec:\n  hosts: [\"{host}\"]\n  http:\n{http}")


def run(*docs: str) -> list[Finding]:
    analysis = analysis_from("---\n".join((CURL, *docs)))
    assert analysis.report.errors == []
    return analysis.findings


def fired(rule_id: str, *docs: str) -> list[Finding]:
    return [f for f in run(*docs) if f.rule.id == rule_id]


def verdict(*docs: str, namespace: str = "shop") -> NamespaceVerdict:
    report = analysis_from("---\n".join((CURL, *docs))).report
    return next(v for v in report.namespaces if v.name == namespace)


@pytest.mark.parametrize("policy", [
    "{tls: {mode: SIMPLE}}",
    "{portLevelSettings: [{port: {number: 80}, tls: {mode: MUTUAL}}]}",
    "{connectionPool: {tcp: {maxConnections: 10}}}",
])
def test_traffic_policy_for_an_external_host_needs_an_egress_waypoint(policy: str) -> None:
    found = fired("AMA105", entry(), dr(policy))
    assert len(found) == 1
    assert found[0].namespace == "shop" and found[0].services == ("cnn",)
    assert [o.kind for o in found[0].objects] == ["DestinationRule", "ServiceEntry"]
    assert found[0].enforcement is not None
    assert (found[0].enforcement.today, found[0].enforcement.after_move,
            found[0].enforcement.change) == ("client-sidecar", "egress-waypoint", "same")
    assert fired("AMA104", entry(), dr(policy)) == []
    result = verdict(entry(), dr(policy))
    assert result.recommendation == "ambient-waypoint"
    assert "cnn" in result.waypoints[0].services


@pytest.mark.parametrize("docs", [
    (entry(),),
    (entry(), dr("{tls: {mode: ISTIO_MUTUAL}}")),
    (dr("{tls: {mode: SIMPLE}}"),),  # no ServiceEntry: the sidecar passes it through
    (entry(extra="  location: MESH_INTERNAL\n"), dr("{tls: {mode: SIMPLE}}")),
    (entry(), vs("  - route: [{destination: {host: edition.cnn.com}}]\n")),
], ids=["entry-only", "istio-mutual", "no-entry", "mesh-internal", "trivial-route"])
def test_external_host_without_l7_config_needs_no_waypoint(docs: tuple[str, ...]) -> None:
    assert fired("AMA105", *docs) == []
    assert verdict(*docs).recommendation == "ambient"


def test_route_on_an_external_host_goes_to_the_entrys_namespace() -> None:
    docs = (entry(namespace="egress"), vs("  - timeout: 3s\n    route: [{destination: "
                                          "{host: edition.cnn.com}}]\n"))
    found = fired("AMA105", *docs)
    assert len(found) == 1 and found[0].namespace == "egress"
    assert "timeout" in found[0].message and "ServiceEntry/egress/cnn" in found[0].message
    assert fired("AMA101", *docs) == []
    assert verdict(*docs).recommendation == "ambient"


def test_wildcard_entry_declares_the_host() -> None:
    docs = (entry(host="*.wikipedia.org"),
            vs("  - timeout: 3s\n    route: [{destination: {host: en.wikipedia.org}}]\n",
               host="en.wikipedia.org"))
    assert [f.services for f in fired("AMA105", *docs)] == [("cnn",)]


def test_route_on_an_undeclared_external_host_stays_with_its_namespace() -> None:
    docs = (vs("  - timeout: 3s\n    route: [{destination: {host: api.example.com}}]\n",
               host="api.example.com"),)
    found = fired("AMA105", *docs)
    assert len(found) == 1 and found[0].namespace == "shop"
    assert "no ServiceEntry in the input declares it" in found[0].message


def test_authorization_policy_on_a_service_entry_is_enforced_only_by_a_waypoint() -> None:
    policy = ("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
              "metadata: {name: cnn-get, namespace: shop}\nspec:\n"
              "  targetRefs: [{kind: ServiceEntry, group: networking.istio.io, name: cnn}]\n"
              "  rules: [{to: [{operation: {methods: [GET]}}]}]\n")
    found = fired("AMA105", entry(), policy)
    assert len(found) == 1 and found[0].path == ("spec", "targetRefs", 0)
    assert found[0].enforcement is not None
    assert (found[0].enforcement.today, found[0].enforcement.change) == ("nobody", "stricter")


EGRESS_GATEWAY = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: direct-cnn-through-egress-gateway, namespace: shop}
spec:
  hosts: [edition.cnn.com]
  gateways: [istio-egressgateway, mesh]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route:
    - destination: {host: istio-egressgateway.istio-system.svc.cluster.local}
  - match: [{gateways: [istio-egressgateway], port: 80}]
    route:
    - destination: {host: edition.cnn.com, port: {number: 443}}
"""


def test_egress_gateway_applies_the_host_policy_in_both_modes() -> None:
    docs = (entry(), EGRESS_GATEWAY, dr("{tls: {mode: SIMPLE}}"))
    info = fired("AMA419", *docs)
    assert len(info) == 1 and info[0].objects[0].kind == "DestinationRule"
    assert info[0].enforcement is not None
    assert (info[0].enforcement.today, info[0].enforcement.after_move) == ("gateway", "gateway")
    need = fired("AMA105", *docs)
    assert [f.objects[0].kind for f in need] == ["VirtualService"]
    assert "to the egress gateway" in need[0].message


def sidecar(mode: str = "REGISTRY_ONLY", namespace: str = "shop", selector: str = "") -> str:
    return ("apiVersion: networking.istio.io/v1\nkind: Sidecar\n"
            f"metadata: {{name: default, namespace: {namespace}}}\n"
            f"spec:\n{selector}  outboundTrafficPolicy: {{mode: {mode}}}\n")


AMBIENT = ("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
           "  labels: {istio.io/dataplane-mode: ambient}\n")


def test_registry_only_sidecar_is_a_warning_before_the_move() -> None:
    found = fired("AMA418", sidecar())
    assert len(found) == 1 and found[0].namespace == "shop"
    assert found[0].severity.value == "warning"
    assert "once shop runs ambient, pods in shop reach any external host" in found[0].message
    assert found[0].enforcement is not None and found[0].enforcement.change == "notEnforced"
    assert fired("AMA512", sidecar()) == []


def test_registry_only_for_some_workloads_names_them() -> None:
    found = fired("AMA418", sidecar(selector="  workloadSelector: {labels: {app: curl}}\n"))
    assert found[0].workloads == ("curl",) and "pods of curl in shop" in found[0].message


@pytest.mark.parametrize("mode", ["ALLOW_ANY", "registry_only_typo"])
def test_other_outbound_modes_are_not_reported(mode: str) -> None:
    assert fired("AMA418", sidecar(mode=mode)) == []


@pytest.mark.parametrize("doc", [
    sidecar(namespace="istio-system"),
    "apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\nspec:\n  meshConfig:\n"
    "    outboundTrafficPolicy: {mode: REGISTRY_ONLY}\n",
], ids=["root-sidecar", "istio-operator"])
def test_mesh_wide_registry_only_applies_to_every_namespace(doc: str) -> None:
    found = fired("AMA418", doc)
    assert len(found) == 1 and found[0].namespace is None
    assert "once a namespace runs ambient, its pods reach any external host" in found[0].message


def test_registry_only_in_an_ambient_namespace_is_an_error() -> None:
    found = fired("AMA512", AMBIENT, sidecar())
    assert len(found) == 1 and found[0].severity.value == "error"
    assert found[0].enforcement is not None and found[0].enforcement.today == "nobody"
    assert fired("AMA418", AMBIENT, sidecar()) == []


def test_entry_bound_to_a_waypoint_in_an_ambient_namespace_is_served() -> None:
    waypoint = ("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
                "metadata: {name: waypoint, namespace: shop, labels: "
                "{istio.io/waypoint-for: service}}\n"
                "spec: {gatewayClassName: istio-waypoint, listeners: "
                "[{name: mesh, port: 15008, protocol: HBONE}]}\n")
    bound = entry(extra="").replace("metadata: {name: cnn, namespace: shop}",
                                    "metadata: {name: cnn, namespace: shop, "
                                    "labels: {istio.io/use-waypoint: waypoint}}")
    docs = (AMBIENT, bound, dr("{tls: {mode: SIMPLE}}"), waypoint)
    need = fired("AMA105", *docs)
    assert need[0].enforcement is not None and need[0].enforcement.today == "egress-waypoint"
    assert fired("AMA501", *docs) == []
    assert len(fired("AMA501", AMBIENT, entry(), dr("{tls: {mode: SIMPLE}}"))) == 1
