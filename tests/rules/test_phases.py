"""The rule phases: detectors over objects of their declared kinds, then checks over findings.

A check sees every detector's finding without the rule being listed anywhere; a detector
walks only the kinds its rules declare and makes findings of its own rules only; a runner
that fails or breaks its declaration is one error line; the verdict makes no finding.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.config import Config, RuleSettings
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.kinds import unknown_kinds
from asm_mode_advisor.model import Effect, Severity
from asm_mode_advisor.rules import (
    ALL_RULES,
    CHECKS,
    DETECTORS,
    Check,
    Context,
    Detector,
    Finding,
    Rule,
    namespace_modes,
)
from asm_mode_advisor.rules._base import WORKLOADS
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.rules.phases import check, detect, run_rules
from asm_mode_advisor.sources.files import load_paths
from support import inventory_from, load

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

#: A capability rule no check knows of: any rule whose need has the L7 (waypoint) effect.
TOY_L7 = Rule(id="AMA199", name="toy-l7-need", title="Toy rule that needs a waypoint",
              need="l7-routing", kinds=("Service",),
              rationale="A rule written for this test only, to show checks see it unlisted.")
AMBIENT_SERVICE = """
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec:
  selector: {app: reviews}
  ports: [{port: 9080, name: http}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  template:
    spec:
      containers: [{name: migrate, image: example/migrate:1}]
---
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


def detect_toy_l7(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Every Service needs L7 (the toy rule)."""
    for service in inventory.of_kind("Service"):
        yield TOY_L7.finding(service, f"{service.ref} needs L7", services=[service.name])


def _example_texts() -> list[str]:
    return [text for rule in ALL_RULES for text in (*rule.triggers, *rule.passes)]


def _all_inventories() -> list[Inventory]:
    """Every rule example's inventory, and the examples/ folder's."""
    loaded = load_paths([str(EXAMPLES)], slim_bodies=True)
    return [*(inventory_from(text) for text in _example_texts()),
            Inventory.build(loaded.resources)]


def test_a_new_l7_rule_is_gate_checked_without_being_listed_anywhere() -> None:
    inventory = inventory_from(AMBIENT_SERVICE)
    toy = Detector(detect_toy_l7, (TOY_L7,))
    assert TOY_L7.effect is Effect.NEEDS_WAYPOINT
    findings, errors = run_rules(inventory, Context(), detectors=(*DETECTORS, toy))
    assert errors == []
    gated = [f for f in findings if f.rule.id == "AMA501"]
    assert [f.message for f in gated] == [
        "Service/shop/reviews needs a waypoint (AMA199 toy-l7-need) but Service reviews has "
        "none in use; ambient ignores it"]
    assert set(TOY_L7.rows) <= set(gated[0].rows)  # cites the source rule's rows too


def test_checks_see_the_detectors_findings_passed_to_them_not_stored() -> None:
    inventory = inventory_from(AMBIENT_SERVICE)
    seen: list[Sequence[Finding]] = []

    def check_spy(_: ScopedInventory, __: Context,
                  detected: Sequence[Finding]) -> Iterator[Finding]:
        """Keeps what it was handed."""
        seen.append(detected)
        yield from ()

    detected, _ = detect(inventory, Context(), (Detector(detect_toy_l7, (TOY_L7,)),))
    checked, errors = check(inventory, Context(), detected, (Check(check_spy, ()),))
    assert errors == [] and checked == []
    assert seen == [tuple(detected)] and isinstance(seen[0], tuple)
    assert not hasattr(inventory, "remembered") and not hasattr(inventory, "remember")


def test_a_detector_reading_a_kind_its_rules_do_not_declare_is_an_error_line() -> None:
    def detect_sneaky(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
        """Declares Service, reads Deployments."""
        for deployment in inventory.of_kind("Deployment"):
            yield TOY_L7.finding(deployment, "read undeclared")

    findings, errors = run_rules(inventory_from(AMBIENT_SERVICE), Context(),
                                 detectors=(Detector(detect_sneaky, (TOY_L7,)),), checks=())
    assert findings == []
    assert len(errors) == 1 and "internal error in detect_sneaky" in errors[0].message
    assert "reads Deployment" in errors[0].message


def test_a_detector_making_a_finding_of_an_undeclared_rule_is_an_error_line() -> None:
    other = Rule(id="AMA198", name="toy-other", title="Another toy rule", need="l7-routing",
                 kinds=("Service",), rationale="A rule its detector does not declare, here.")

    def detect_other(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
        """Declares TOY_L7, makes another rule's finding."""
        for service in inventory.of_kind("Service"):
            yield other.finding(service, "not mine")

    findings, errors = run_rules(inventory_from(AMBIENT_SERVICE), Context(),
                                 detectors=(Detector(detect_other, (TOY_L7,)),), checks=())
    assert findings == []
    assert len(errors) == 1 and "AMA198, which is not among its rules" in errors[0].message


def test_a_crashing_detector_is_one_error_line_and_the_others_still_run() -> None:
    def detect_broken(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
        """Fails after its first finding."""
        for service in inventory.of_kind("Service"):
            yield TOY_L7.finding(service, "first")
            raise KeyError("bug")

    findings, errors = run_rules(inventory_from(AMBIENT_SERVICE), Context(),
                                 detectors=(Detector(detect_broken, (TOY_L7,)), *DETECTORS))
    assert [e.message for e in errors] == [
        "internal error in detect_broken: KeyError('bug'); other rules still ran"]
    assert {f.rule.id for f in findings} >= {"AMA199", "AMA201", "AMA501"}


def test_workload_walks_are_limited_to_the_declared_workload_kinds() -> None:
    inventory = inventory_from(AMBIENT_SERVICE)
    jobs = ScopedInventory(inventory, ("Job",))
    assert [w.resource.kind for w in jobs.all_workloads()] == ["Job"]
    assert [w.resource.kind for w in jobs.workloads("shop")] == ["Job"]
    every = ScopedInventory(inventory, WORKLOADS)
    assert sorted(w.resource.kind for w in every.all_workloads()) == ["Deployment", "Job"]
    facts_only = ScopedInventory(inventory, ("Namespace",))
    with pytest.raises(Exception, match="workload kind"):
        facts_only.all_workloads()
    # Resolved facts stay open to every rule: selectors, Services by name, modes.
    assert [w.resource.name for w in facts_only.select_workloads("shop", {"app": "reviews"})
            ] == ["reviews"]
    assert facts_only.service("shop", "reviews") is not None
    assert facts_only.has_workloads("shop")


def test_workloads_declared_in_display_order_are_every_workload_kind() -> None:
    from asm_mode_advisor.kinds import WORKLOAD_KINDS

    assert set(WORKLOADS) == WORKLOAD_KINDS and len(WORKLOADS) == len(WORKLOAD_KINDS)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_every_rule_names_only_kinds_the_loader_knows(rule: Rule) -> None:
    assert unknown_kinds(rule.kinds) == []


def test_a_rule_naming_an_unknown_kind_fails_the_loader_check() -> None:
    toy = TOY_L7.model_copy(update={"kinds": ("ProxyConfig", "Service")})
    assert unknown_kinds(toy.kinds) == ["ProxyConfig"]


def test_every_finding_is_about_an_object_of_its_rules_kinds() -> None:
    """Rule.kinds is what the rule reports on: each finding's subject has a declared kind."""
    wrong = set()
    for inventory in _all_inventories():
        findings, errors = run_rules(inventory, Context())
        assert errors == []
        wrong |= {(f.rule.id, f.objects[0].kind) for f in findings
                  if f.objects and f.objects[0].kind not in f.rule.kinds}
    assert wrong == set()


def test_every_detector_and_check_runs_once_per_analysis() -> None:
    calls: list[str] = []

    def counted(runner: Detector | Check) -> Detector | Check:
        if isinstance(runner, Detector):
            def find_detected(inventory: ScopedInventory, context: Context) -> Iterator[Finding]:
                calls.append(runner.name)
                return runner.find(inventory, context)
            return Detector(find_detected, runner.rules)

        def find_checked(inventory: ScopedInventory, context: Context,
                         detected: Sequence[Finding]) -> Iterator[Finding]:
            calls.append(runner.name)
            return runner.find(inventory, context, detected)
        return Check(find_checked, runner.rules)

    detectors = [counted(d) for d in DETECTORS]
    checks = [counted(c) for c in CHECKS]
    _, errors = run_rules(inventory_from(AMBIENT_SERVICE), Context(),
                          detectors=[d for d in detectors if isinstance(d, Detector)],
                          checks=[c for c in checks if isinstance(c, Check)])
    assert errors == []
    assert calls == [r.name for r in (*DETECTORS, *CHECKS)]


def test_checks_never_change_a_recommendation() -> None:
    """The checks (and AMA203/AMA410, which read modes) see phase 1's modes: they must hold."""
    for inventory in _all_inventories():
        detected, _ = detect(inventory, Context())
        checked, _ = check(inventory, Context(), detected)
        assert namespace_modes(inventory.namespaces, detected) == namespace_modes(
            inventory.namespaces, detected + checked)


def test_findings_once_made_by_the_verdict_take_the_configured_severity() -> None:
    """AMA203 is a check's finding now, so ``rules.severity`` applies to it like to any."""
    loaded = load(AMBIENT_SERVICE.replace("istio.io/dataplane-mode: ambient", "team: web"))
    config = Config(rules=RuleSettings(severity={"l4-only-namespace": Severity.WARNING}))
    report = analyze(loaded.resources, loaded.errors, Settings(config=config)).report
    assert [(r.rule_id, r.severity) for v in report.namespaces for r in v.reasons] == [
        ("AMA201", "note"), ("AMA203", "warning")]
