"""The rule registry: every rule module listed explicitly (no import side effects)."""

from __future__ import annotations

from asm_mode_advisor.rules import (
    conformance,
    extensions,
    namespace_state,
    observability,
    routing,
    security,
    topology,
    workloads,
)
from asm_mode_advisor.rules._base import Context, Detector, Finding, Rule

MODULES = (routing, security, observability, extensions, topology, workloads, namespace_state,
           conformance)

ALL_RULES: tuple[Rule, ...] = tuple(sorted((rule for m in MODULES for rule in m.RULES),
                                           key=lambda rule: rule.id))
DETECTORS: tuple[Detector, ...] = tuple(d for m in MODULES for d in m.DETECTORS)
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in ALL_RULES}
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in ALL_RULES}


def get(id_or_name: str) -> Rule | None:
    """A rule by id (``AMA101``, any case) or kebab name (``vs-http-routing``)."""
    return RULES_BY_ID.get(id_or_name.upper()) or RULES_BY_NAME.get(id_or_name.lower())


__all__ = ["ALL_RULES", "DETECTORS", "Context", "Finding", "Rule", "get"]
