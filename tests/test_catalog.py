"""Meta-tests over the rule registry: ids, names, rows, docs and module registration."""

from __future__ import annotations

import importlib
import pkgutil
import re
from pathlib import Path

import pytest

from asm_mode_advisor import matrix, needs, rules
from asm_mode_advisor.model import Effect, Mode
from asm_mode_advisor.rules import (
    ALL_RULES,
    CHECKS,
    DETECTORS,
    MODULES,
    Check,
    Detector,
    Rule,
    get,
)
from asm_mode_advisor.verdict import benefits

#: Effects allowed per id range (AMA1xx needs-waypoint, 2xx favours, 3xx blocks, 4xx chores).
EFFECTS_BY_RANGE = {
    "1": {Effect.NEEDS_WAYPOINT},
    "2": {Effect.FAVOURS_AMBIENT, Effect.INFO},
    "3": {Effect.BLOCKS_AMBIENT},
    "4": {Effect.MIGRATION_CHORE, Effect.INFO},
}
#: Matrix rows no rule, need or benefit cites yet. Keep this exact: citing one must remove it.
NOT_YET_CITED: set[str] = set()


def test_ids_and_names_are_unique() -> None:
    ids = [r.id for r in ALL_RULES]
    names = [r.name for r in ALL_RULES]
    assert len(set(ids)) == len(ids)
    assert len(set(names)) == len(names)
    assert ids == sorted(ids)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_rule_metadata_is_complete(rule: Rule) -> None:
    assert re.fullmatch(r"AMA[1-9]\d\d", rule.id)
    assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", rule.name)
    assert rule.title and not rule.title.endswith(".") and "\n" not in rule.title
    assert len(rule.rationale) > 40 and rule.rationale.endswith(".")
    assert rule.rows, "a rule must cite matrix rows"
    assert all(row in matrix.ROWS_BY_ID for row in rule.rows)
    assert rule.need in needs.NEEDS
    allowed = EFFECTS_BY_RANGE.get(rule.id[3])
    if allowed is not None:
        assert rule.effect in allowed, f"{rule.id} is {rule.effect}"
    assert rule.doc_url.endswith(f"#{rule.id.lower()}-{rule.name}")


def test_lookup_by_id_or_name_in_any_case() -> None:
    for rule in ALL_RULES:
        assert get(rule.id) is rule and get(rule.id.lower()) is rule
        assert get(rule.name) is rule and get(rule.name.upper()) is rule
    assert get("AMA999") is None and get("nope") is None


def test_every_rule_module_is_registered() -> None:
    package = Path(rules.__file__).parent
    on_disk = [importlib.import_module(f"{rules.__name__}.{m.name}")
               for m in pkgutil.iter_modules([str(package)])]
    declaring = {m.__name__ for m in on_disk if hasattr(m, "RULES")}
    assert declaring == {m.__name__ for m in MODULES}


def test_every_module_exports_rules_detectors_and_checks() -> None:
    for module in MODULES:
        assert isinstance(module.RULES, tuple) and module.RULES, module.__name__
        assert isinstance(module.DETECTORS, tuple), module.__name__
        assert isinstance(getattr(module, "CHECKS", ()), tuple), module.__name__
        assert all(isinstance(rule, Rule) for rule in module.RULES)
    assert all(isinstance(d, Detector) for d in DETECTORS)
    assert all(isinstance(c, Check) for c in CHECKS)
    assert len(DETECTORS) == sum(len(m.DETECTORS) for m in MODULES)
    assert len(ALL_RULES) == sum(len(m.RULES) for m in MODULES)


def test_every_rule_is_made_by_exactly_one_detector_or_check_of_its_module() -> None:
    runners = [(module, runner) for module in MODULES
               for runner in (*module.DETECTORS, *getattr(module, "CHECKS", ()))]
    for module in MODULES:
        for rule in module.RULES:
            owners = [m for m, runner in runners if rule in runner.rules]
            assert owners, f"{rule.id} has no detector or check"
            assert all(m is module for m in owners), f"{rule.id} is made outside its module"


def test_detectors_and_checks_have_docstrings() -> None:
    assert [r.name for r in (*DETECTORS, *CHECKS) if not (r.find.__doc__ or "").strip()] == []


def test_every_need_is_used_and_cites_known_rows() -> None:
    used = {r.need for r in ALL_RULES}
    assert set(needs.NEEDS) - used == set()
    for need in needs.NEEDS.values():
        assert need.rows and all(row in matrix.ROWS_BY_ID for row in need.rows)


def test_every_matrix_row_is_cited() -> None:
    cited = {row for r in ALL_RULES for row in r.rows}
    cited |= {row for n in needs.NEEDS.values() for row in n.rows}
    cited |= {b.row for mode in (Mode.SIDECAR, Mode.AMBIENT, Mode.AMBIENT_WAYPOINT)
              for b in benefits(mode)}
    assert set(matrix.ROWS_BY_ID) - cited == NOT_YET_CITED


def test_invalid_rules_are_refused() -> None:
    base = {"id": "AMA199", "name": "x", "title": "A title", "need": "l7-routing",
            "kinds": (), "rationale": "Why."}
    assert Rule(**base).rows == ("L-ROUTING", "M-TRAFFIC")
    for bad in ({"id": "XYZ123"}, {"title": "Ends with a period."}, {"need": "nope"},
                {"rows": ("M-NOPE",)}, {"rows": ("M-COST", "M-COST")}, {"extra": 1}):
        with pytest.raises(ValueError):
            Rule(**{**base, **bad})
