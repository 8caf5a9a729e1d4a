"""Every rule's embedded examples run through the whole pipeline and behave as documented."""

from __future__ import annotations

import pytest

from asm_mode_advisor.rules import ALL_RULES, Rule
from support import analysis_from


def _cases(attribute: str) -> list[object]:
    return [pytest.param(rule, text, id=f"{rule.id}-{attribute}-{index}")
            for rule in ALL_RULES
            for index, text in enumerate(getattr(rule, attribute))]


@pytest.mark.parametrize(("rule", "text"), _cases("triggers"))
def test_trigger_example_fires(rule: Rule, text: str) -> None:
    analysis = analysis_from(text)
    assert analysis.report.errors == []
    fired = [r for v in analysis.report.namespaces for r in v.reasons if r.rule_id == rule.id]
    assert fired, f"{rule.id} did not fire on its own trigger example"
    assert all(r.effect == rule.effect.value for r in fired)
    assert all(r.matrix_rows[:len(rule.rows)] == rule.rows for r in fired)
    assert any(o.file == "test.yaml" and o.line for r in fired for o in r.objects)


@pytest.mark.parametrize(("rule", "text"), _cases("passes"))
def test_pass_example_does_not_fire(rule: Rule, text: str) -> None:
    analysis = analysis_from(text)
    assert analysis.report.errors == []
    assert analysis.inventory.resources, "a pass example must hold an object"
    assert all(f.rule.id != rule.id for f in analysis.findings)


def test_every_rule_with_a_detector_has_a_trigger_example() -> None:
    # Mesh version is a setting; mixed modes needs two namespaces; AMA431-AMA433 need
    # measured traffic (tests/traffic runs them against a real Prometheus).
    silent = {"AMA304", "AMA410", "AMA431", "AMA432", "AMA433"}
    assert [r.id for r in ALL_RULES if not r.triggers and r.id not in silent] == []
