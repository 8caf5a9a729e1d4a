"""The rule phases: detectors over objects, then checks over the detectors' findings.

Phase 1 runs every detector; phase 2 runs every check with all phase-1 findings passed to
it, so no rule's order in the registry matters and a new capability rule is seen by every
check without being listed anywhere. The verdict (``verdict.decide``) comes after and makes
no findings. Each runner walks only the kinds its rules declare (:class:`ScopedInventory`)
and makes findings of its own rules only; a runner that fails, or breaks its declaration,
becomes one error line and the others still run.
"""

from __future__ import annotations

from collections.abc import Sequence

from asm_mode_advisor import rules as registry
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.model import InputError
from asm_mode_advisor.rules._base import Check, Context, Detector, Finding
from asm_mode_advisor.rules._scoped import NotDeclaredError, ScopedInventory

#: What a rule's bug raises; anything else is not a rule's to swallow.
_RULE_BUGS = (RecursionError, ValueError, TypeError, KeyError, AttributeError, NotDeclaredError)


def run_rules(inventory: Inventory, context: Context,
              detectors: Sequence[Detector] | None = None,
              checks: Sequence[Check] | None = None) -> tuple[list[Finding], list[InputError]]:
    """Phase 1 then phase 2: every finding, and an error line per runner that failed.

    Without ``detectors`` or ``checks``, the registry's as it is now (not as it was when
    this module was imported), so a rule module registered later takes part.
    """
    detected, detect_errors = detect(inventory, context, detectors)
    checked, check_errors = check(inventory, context, detected, checks)
    return detected + checked, detect_errors + check_errors


def detect(inventory: Inventory, context: Context,
           detectors: Sequence[Detector] | None = None) -> tuple[list[Finding], list[InputError]]:
    """Phase 1: every detector's findings over the objects of its kinds."""
    detectors = registry.DETECTORS if detectors is None else detectors
    errors: list[InputError] = []
    detected: list[Finding] = []
    for detector in detectors:
        detected += _findings_of(detector, inventory, context, (), errors)
    return detected, errors


def check(inventory: Inventory, context: Context, detected: Sequence[Finding],
          checks: Sequence[Check] | None = None) -> tuple[list[Finding], list[InputError]]:
    """Phase 2: every check's findings, each handed all of ``detected`` (phase 1's)."""
    checks = registry.CHECKS if checks is None else checks
    errors: list[InputError] = []
    checked: list[Finding] = []
    passed = tuple(detected)  # checks read the detectors' findings, never change them
    for runner in checks:
        checked += _findings_of(runner, inventory, context, passed, errors)
    return checked, errors


def _findings_of(runner: Detector | Check, inventory: Inventory, context: Context,
                 detected: Sequence[Finding], errors: list[InputError]) -> list[Finding]:
    """A runner's findings; on a bug, those made before it plus an error line (not a crash)."""
    found: list[Finding] = []
    own = {id(rule) for rule in runner.rules}
    try:
        for finding in runner.run(ScopedInventory(inventory, runner.kinds), context, detected):
            if id(finding.rule) not in own:
                raise NotDeclaredError(f"made a finding of {finding.rule.id}, which is not "
                                       "among its rules")
            found.append(finding)
    except _RULE_BUGS as exc:
        errors.append(InputError(f"internal error in {runner.name}: {exc!r:.200}; "
                                 "other rules still ran"))
    return found
