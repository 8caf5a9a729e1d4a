"""Run every detector over the inventory; a crashing detector becomes an error, not a crash."""

from __future__ import annotations

from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.model import InputError
from asm_mode_advisor.rules import DETECTORS, Context, Finding


def run_rules(inventory: Inventory, context: Context) -> tuple[list[Finding], list[InputError]]:
    """All findings, plus an error per detector that failed (a bug, reported not raised)."""
    findings: list[Finding] = []
    errors: list[InputError] = []
    for detect in DETECTORS:
        start = len(findings)
        try:
            findings.extend(detect(inventory, context))
            # Rules that build on other rules' findings read them back instead of rerunning.
            inventory.remember((detect, context), findings[start:])
        except (RecursionError, ValueError, TypeError, KeyError, AttributeError) as exc:
            errors.append(InputError(f"internal error in {detect.__name__}: {exc!r:.200}; "
                                     "other rules still ran"))
    return findings, errors
