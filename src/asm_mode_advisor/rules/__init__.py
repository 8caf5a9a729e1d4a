"""The rule registry: every rule module listed explicitly (no import side effects).

Each module declares ``RULES``, its phase-1 ``DETECTORS`` (over objects) and, when it has
any, phase-2 ``CHECKS`` (over the detectors' findings); ``rules.phases`` runs them.
"""

from __future__ import annotations

from asm_mode_advisor.rules import (
    conformance,
    conformance_labels,
    egress,
    extensions,
    gateways,
    namespace_state,
    observability,
    routing,
    security,
    topology,
    traffic,
    waypoint_effects,
    workloads,
)
from asm_mode_advisor.rules._base import (
    DEFAULT_WAYPOINT_NAME,
    Check,
    Context,
    Detector,
    Finding,
    Rule,
    namespace_modes,
    recommend,
    waypoint_targets,
)

MODULES = (routing, security, observability, extensions, gateways, egress, topology, workloads,
           namespace_state, conformance, conformance_labels, waypoint_effects, traffic)

ALL_RULES: tuple[Rule, ...] = tuple(sorted((rule for m in MODULES for rule in m.RULES),
                                           key=lambda rule: rule.id))
DETECTORS: tuple[Detector, ...] = tuple(d for m in MODULES for d in m.DETECTORS)
CHECKS: tuple[Check, ...] = tuple(c for m in MODULES for c in getattr(m, "CHECKS", ()))
RULES_BY_ID: dict[str, Rule] = {rule.id: rule for rule in ALL_RULES}
RULES_BY_NAME: dict[str, Rule] = {rule.name: rule for rule in ALL_RULES}


def get(id_or_name: str) -> Rule | None:
    """A rule by id (``AMA101``, any case) or kebab name (``vs-http-routing``)."""
    return RULES_BY_ID.get(id_or_name.upper()) or RULES_BY_NAME.get(id_or_name.lower())


__all__ = ["ALL_RULES", "CHECKS", "DEFAULT_WAYPOINT_NAME", "DETECTORS", "Check", "Context",
           "Detector", "Finding", "Rule", "get", "namespace_modes", "recommend",
           "waypoint_targets"]
