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
