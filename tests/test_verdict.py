"""Verdicts: effects to a recommendation, the waypoint plan, mesh-wide findings, reasons."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter

from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.model import Mode
from asm_mode_advisor.report import NamespaceVerdict, Waypoint
from asm_mode_advisor.rules import RULES_BY_ID, Context, Finding
from asm_mode_advisor.rules.phases import check
from asm_mode_advisor.verdict import benefits, decide, recommend
from support import inventory_from

#: One rule per effect.
BLOCKS, NEEDS, FAVOURS, CHORE, INFO = "AMA305", "AMA101", "AMA201", "AMA405", "AMA409"

INVENTORY = """
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {selector: {app: cart}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: ledger, namespace: bank}
spec: {selector: {app: ledger}, ports: [{port: 80}]}
"""


def finding(rule_id: str, namespace: str | None = "shop", services: tuple[str, ...] = (),
            workloads: tuple[str, ...] = ()) -> Finding:
    return RULES_BY_ID[rule_id].finding(None, f"{rule_id} fired", namespace=namespace,
                                        services=services, workloads=workloads,
                                        mesh_wide=namespace is None)


def verdicts(findings: list[Finding], text: str = INVENTORY) -> dict[str, NamespaceVerdict]:
    """Verdicts on ``findings`` as phase 1's, after the checks (AMA203, AMA410) built on them."""
    inventory = inventory_from(text)
    checked, errors = check(inventory, Context(), findings)
    assert errors == []
    return {v.name: v for v in decide(inventory, findings + checked)}


@pytest.mark.parametrize(("rule_ids", "mode"), [
    ((), Mode.AMBIENT),
    ((FAVOURS,), Mode.AMBIENT),
    ((CHORE, INFO), Mode.AMBIENT),
    ((NEEDS,), Mode.AMBIENT_WAYPOINT),
    ((NEEDS, FAVOURS, CHORE), Mode.AMBIENT_WAYPOINT),
    ((BLOCKS,), Mode.SIDECAR),
    ((NEEDS, BLOCKS, FAVOURS), Mode.SIDECAR),
])
def test_effects_to_recommendation(rule_ids: tuple[str, ...], mode: Mode) -> None:
    assert recommend(finding(r) for r in rule_ids) is mode
    assert verdicts([finding(r) for r in rule_ids])["shop"].recommendation == mode.value


def test_every_namespace_gets_a_verdict_sorted_by_name() -> None:
    assert list(verdicts([])) == ["bank", "shop"]


def test_waypoint_plan_lists_the_services_that_need_l7() -> None:
    result = verdicts([finding(NEEDS, services=("web",)), finding("AMA111", services=("cart",)),
                       finding(FAVOURS, services=("ledger",))])["shop"]
    assert [TypeAdapter(Waypoint).dump_python(w, by_alias=True, mode="json")
            for w in result.waypoints] == [{
        "name": "waypoint", "for": "service", "services": ["cart", "web"], "workloads": [],
        "exists": False}]


def test_waypoint_plan_fields() -> None:
    waypoint = verdicts([finding(NEEDS, services=("web",)),
                         finding("AMA111", services=("cart",))])["shop"].waypoints
    assert len(waypoint) == 1
    assert (waypoint[0].name, waypoint[0].for_, waypoint[0].services, waypoint[0].exists) == (
        "waypoint", "service", ("cart", "web"), False)


def test_finding_without_scope_needs_the_waypoint_for_every_service() -> None:
    waypoint = verdicts([finding(NEEDS)])["shop"].waypoints[0]
    assert waypoint.services == ("cart", "web")


def test_workload_only_and_mixed_traffic_types() -> None:
    only = verdicts([finding(NEEDS, workloads=("job",))])["shop"].waypoints[0]
    assert (only.for_, only.workloads, only.services) == ("workload", ("job",), ())
    mixed = verdicts([finding(NEEDS, workloads=("job",)),
                      finding(NEEDS, services=("web",))])["shop"].waypoints[0]
    assert mixed.for_ == "all"


def test_existing_waypoint_is_reused() -> None:
    text = INVENTORY + ("---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\n"
                        "metadata: {name: shop-wp, namespace: shop}\n"
                        "spec: {gatewayClassName: istio-waypoint}\n")
    waypoint = verdicts([finding(NEEDS, services=("web",))], text)["shop"].waypoints[0]
    assert (waypoint.name, waypoint.exists) == ("shop-wp", True)


def test_no_waypoint_unless_recommended() -> None:
    result = verdicts([finding(NEEDS, services=("web",)), finding(BLOCKS)])
    assert result["shop"].recommendation == "sidecar" and result["shop"].waypoints == ()
    assert result["bank"].waypoints == ()


def test_mesh_wide_findings_apply_to_every_namespace() -> None:
    result = verdicts([finding("AMA302", namespace=None)])
    assert {v.recommendation for v in result.values()} == {"sidecar"}
    assert all([r.rule_id for r in v.reasons] == ["AMA302"] for v in result.values())


def test_mesh_wide_waypoint_need_plans_a_waypoint_everywhere() -> None:
    result = verdicts([finding("AMA120", namespace=None)])
    assert result["bank"].waypoints[0].services == ("ledger",)
    assert result["shop"].waypoints[0].services == ("cart", "web")


def test_l4_only_namespace_gets_its_reason_and_benefits() -> None:
    result = verdicts([finding(NEEDS, services=("web",))])
    bank = result["bank"]
    assert bank.recommendation == "ambient"
    assert [r.rule_id for r in bank.reasons] == ["AMA203"]
    assert "needs no L7 feature" in bank.reasons[0].message
    assert [b.row for b in bank.benefits] == ["M-COST", "M-LATENCY", "M-L7PARSING",
                                              "M-UPGRADES", "M-KEYEXPOSURE"]
    assert all(r.rule_id != "AMA203" for r in result["shop"].reasons)


def test_reasons_are_ordered_strongest_effect_first() -> None:
    result = verdicts([finding(INFO), finding(CHORE), finding(FAVOURS), finding(BLOCKS),
                       finding(NEEDS)])["shop"]
    assert [r.effect for r in result.reasons] == [
        "blocks-ambient", "needs-waypoint", "favours-ambient", "migration-chore", "info"]
    assert result.summary == "peer-authentication-disable"


def test_summary_lists_at_most_three_deciding_rules() -> None:
    rule_ids = ("AMA101", "AMA102", "AMA104", "AMA110", "AMA111")
    result = verdicts([finding(r) for r in rule_ids])["shop"]
    assert result.summary == ("vs-http-routing, vs-tcp-tls-routing, "
                              "destination-rule-traffic-policy (+2 more)")


def test_benefits_per_mode() -> None:
    assert [b.row for b in benefits(Mode.SIDECAR)] == ["M-SECMODEL"]
    waypoint = benefits(Mode.AMBIENT_WAYPOINT)
    assert waypoint[-1].row == "M-UTILIZATION"
    assert "0.40–0.50 ms" in waypoint[1].text and "2 → 1" in waypoint[2].text
    assert "0.16–0.20 ms" in benefits(Mode.AMBIENT)[1].text


def test_current_mode_is_reported() -> None:
    text = INVENTORY + ("---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n"
                        "  labels: {istio-injection: enabled}\n")
    result = verdicts([], text)
    assert (result["shop"].current_mode, result["bank"].current_mode) == ("sidecar", "none")


def test_objects_counted_per_namespace() -> None:
    inventory: Inventory = inventory_from(INVENTORY)
    result = {v.name: v.objects for v in decide(inventory, [])}
    assert result == {"bank": 1, "shop": 2}


# --- namespaces that get no mode advice (issue 14, point 10) -----------------------------

SYSTEM = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec: {containers: [{name: coredns, image: coredns:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: mesh-control}
spec:
  template:
    metadata: {labels: {app: istiod}}
    spec: {containers: [{name: discovery, image: pilot:1}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: empty}
---
apiVersion: v1
kind: Namespace
metadata: {name: kube-public}
"""


def test_system_control_plane_and_empty_namespaces_are_not_applicable() -> None:
    result = verdicts([finding(NEEDS, namespace="kube-system"), finding(BLOCKS, "empty")],
                      INVENTORY + "---\n" + SYSTEM)
    assert {n: v.recommendation for n, v in result.items()} == {
        "bank": "ambient", "empty": "not-applicable", "kube-public": "not-applicable",
        "kube-system": "not-applicable", "mesh-control": "not-applicable", "shop": "ambient"}
    assert result["kube-system"].summary == ("Kubernetes system namespace: never enrolled in "
                                             "the mesh")
    assert result["mesh-control"].summary == "control-plane namespace: never enrolled in the mesh"
    assert result["empty"].summary == (
        "no workload, Service or ServiceEntry in the input: nothing to move")
    # Their findings are still listed, but they make no mode, waypoint or benefit.
    assert [r.rule_id for r in result["kube-system"].reasons] == [NEEDS]
    assert [r.rule_id for r in result["empty"].reasons] == [BLOCKS]
    assert all(not v.waypoints and not v.benefits for n, v in result.items()
               if v.recommendation == "not-applicable")
    # The L4-only check (AMA203) and mixed-modes (AMA410) skip them too.
    assert all(r.rule_id not in ("AMA203", "AMA410") for n, v in result.items()
               if v.recommendation == "not-applicable" for r in v.reasons)


def test_root_namespace_is_control_plane_even_without_istiod() -> None:
    inventory = inventory_from(INVENTORY + "---\napiVersion: v1\nkind: Service\n"
                               "metadata: {name: istiod, namespace: istio-system}\n"
                               "spec: {selector: {app: istiod}, ports: [{port: 15012}]}\n")
    assert inventory.not_applicable == {
        "istio-system": "control-plane namespace: never enrolled in the mesh"}
    assert inventory.advised_namespaces == ["bank", "shop"]


def test_namespace_with_only_a_service_or_workload_gets_advice() -> None:
    inventory = inventory_from("apiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: a}\n"
                               "spec: {containers: [{name: c, image: c:1}]}\n---\n"
                               "apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
                               "metadata: {name: vs, namespace: b}\nspec: {hosts: [x]}\n")
    assert inventory.advised_namespaces == ["a"]
    assert inventory.not_applicable == {
        "b": "no workload, Service or ServiceEntry in the input: nothing to move"}


def test_nameless_istio_operator_makes_no_default_namespace() -> None:
    operator = ("apiVersion: install.istio.io/v1alpha1\nkind: IstioOperator\n"
                "spec: {profile: ambient}\n")
    inventory = inventory_from(operator)
    assert inventory.namespaces == []
    assert decide(inventory, []) == []
    # A real object in default still makes it appear.
    assert inventory_from(operator + "---\napiVersion: v1\nkind: Service\n"
                          "metadata: {name: web}\nspec: {selector: {app: web}}\n"
                          ).namespaces == ["default"]


# --- the cost benefit is the plan's estimator (issue 14, point 11) ---------------------

def deployment(name: str, replicas: int, namespace: str = "shop") -> str:
    return (f"---\napiVersion: apps/v1\nkind: Deployment\n"
            f"metadata: {{name: {name}, namespace: {namespace}}}\nspec:\n"
            f"  replicas: {replicas}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n"
            f"    spec: {{containers: [{{name: {name}, image: {name}:1}}]}}\n")


def cost_line(result: dict[str, NamespaceVerdict], namespace: str) -> str:
    return next(b.text for b in result[namespace].benefits if b.row == "M-COST")


def test_one_pod_and_a_waypoint_costs_more_in_ambient() -> None:
    result = verdicts([finding(NEEDS, services=("web",))], INVENTORY + deployment("web", 1))
    line = cost_line(result, "shop")
    assert line == ("ambient costs more here: proxy requests 100m CPU, 128Mi → 700m CPU, "
                    "1664Mi (ztunnel on 3 node(s) and 1 waypoint(s), against a sidecar in "
                    "each of 1 pod(s))")
    assert "high → low" not in line


def test_many_pods_cost_less_in_ambient() -> None:
    result = verdicts([], INVENTORY + deployment("web", 10) + deployment("cart", 5))
    assert cost_line(result, "shop") == (
        "proxy requests 1500m CPU, 1920Mi → 600m CPU, 1536Mi: ztunnel on 3 node(s) instead "
        "of a sidecar in each of 15 pod(s)")


def test_mixed_cost_names_what_goes_down_and_up() -> None:
    result = verdicts([], INVENTORY + deployment("web", 7))
    assert cost_line(result, "shop").endswith(
        ": less CPU, more memory (ztunnel on 3 node(s), against a sidecar in each of 7 pod(s))")


def test_sidecar_verdict_has_no_cost_line() -> None:
    result = verdicts([finding(BLOCKS)], INVENTORY + deployment("web", 1))
    assert [b.row for b in result["shop"].benefits] == ["M-SECMODEL"]


def test_findings_of_a_namespace_without_advice_never_fail_the_gate() -> None:
    from asm_mode_advisor.config import FailOn
    from asm_mode_advisor.gate import failing
    from support import analysis_from

    def on_15020(namespace: str) -> str:
        return (f"---\napiVersion: apps/v1\nkind: DaemonSet\n"
                f"metadata: {{name: agent, namespace: {namespace}}}\nspec:\n  template:\n"
                "    metadata: {labels: {app: agent}}\n"
                "    spec: {containers: [{name: agent, image: a:1, "
                "ports: [{containerPort: 15020}]}]}\n")

    system = analysis_from(on_15020("kube-system")).report
    assert [r.rule_id for r in system.namespaces[0].reasons] == ["AMA420"]
    assert system.namespaces[0].gated is False
    assert failing(system, FailOn.ERROR) == []
    app = analysis_from(on_15020("shop")).report
    assert [r.rule_id for r in failing(app, FailOn.ERROR)] == ["AMA420"]
    # A system namespace labelled ambient runs ambient today: its findings count.
    labelled = analysis_from(on_15020("kube-system") + "---\napiVersion: v1\nkind: Namespace\n"
                             "metadata:\n  name: kube-system\n"
                             "  labels: {istio.io/dataplane-mode: ambient}\n").report
    assert [r.rule_id for r in failing(labelled, FailOn.ERROR)] == ["AMA420"]


def test_assumed_ambient_skips_namespaces_without_advice() -> None:
    from support import analysis_from

    text = ("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n"
            "metadata: {name: deny-get, namespace: kube-system}\nspec:\n  action: DENY\n"
            "  rules: [{to: [{operation: {methods: [GET]}}]}]\n")
    found = {f.rule.id for f in analysis_from(text, assume_mode="ambient").findings
             if f.namespace == "kube-system"}
    assert not any(rule.startswith("AMA5") for rule in found)
