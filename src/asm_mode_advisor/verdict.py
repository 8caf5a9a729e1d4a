"""Needs to verdicts: one recommendation per namespace, with ordered reasons and waypoints."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from fractions import Fraction
from functools import cache
from typing import Literal

from asm_mode_advisor.costs import CostBasis, basis, namespace_cost, ztunnel_shares
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.locate import FieldLines, line_of
from asm_mode_advisor.matrix import L7_PARSES, LATENCY_MS
from asm_mode_advisor.model import MOVING, Effect, Mode
from asm_mode_advisor.report import (
    Benefit,
    NamespaceVerdict,
    ObjectRef,
    Reason,
    SuppressionSource,
    Waypoint,
)
from asm_mode_advisor.rules import (
    DEFAULT_WAYPOINT_NAME,
    Finding,
    namespace_modes,
    waypoint_targets,
)
from asm_mode_advisor.rules import recommend as recommend  # re-exported: the verdict's rule

#: What suppresses a finding (None: it counts); called once for each reason built.
Suppressed = Callable[[Finding], SuppressionSource | None]


def to_reason(finding: Finding, refs: dict[int, ObjectRef] | None = None,
              lines: FieldLines | None = None, by: SuppressionSource | None = None) -> Reason:
    """A finding as the report prints it, with its field line when ``lines`` has it.

    ``refs`` shares one (frozen) ObjectRef per resource across the reasons of a run;
    ``by`` marks the reason suppressed by an annotation or the config.
    """
    shared = {} if refs is None else refs
    objects = []
    for resource in finding.objects:
        ref = shared.get(id(resource))
        if ref is None:
            ref = shared[id(resource)] = ObjectRef.of(resource)
        objects.append(ref)
    return Reason(
        rule_id=finding.rule.id, rule_name=finding.rule.name, title=finding.rule.title,
        effect=finding.effect.value, severity=finding.severity.value,
        matrix_rows=finding.rows, message=finding.message, objects=tuple(objects),
        services=finding.services, workloads=finding.workloads, field_path=finding.path,
        field_line=line_of(finding, lines or {}), suppressed=True if by else None,
        suppressed_by=by, enforcement=finding.enforcement)


def _reason_key(finding: Finding) -> tuple[int, str, str, str, str]:
    first = finding.objects[0] if finding.objects else None
    return (finding.effect.weight, finding.rule.id, first.kind if first else "",
            first.name if first else "", finding.message)


def plan_waypoints(namespace: str, inventory: Inventory,
                   findings: list[Finding]) -> tuple[Waypoint, ...]:
    """One namespace waypoint serving every service (and workload) that needs L7."""
    if not any(f.effect is Effect.NEEDS_WAYPOINT for f in findings):
        return ()
    services, workloads = waypoint_targets(findings,
                                           (s.name for s in inventory.services(namespace)))
    existing = inventory.waypoints(namespace)
    name = existing[0].name if existing else DEFAULT_WAYPOINT_NAME
    traffic: Literal["service", "workload", "all"] = (
        "all" if workloads and services else ("workload" if workloads else "service"))
    return (Waypoint(name=name, services=tuple(sorted(services)),
                     workloads=tuple(sorted(workloads)), exists=bool(existing),
                     **{"for": traffic}),)


@cache
def benefits(mode: Mode) -> tuple[Benefit, ...]:
    """General benefits of the recommended mode, from the M-* rows (shared, frozen)."""
    if mode is Mode.SIDECAR:
        return (Benefit(row="M-SECMODEL", text="strongest security model: each workload "
                                               "holds its own key"),)
    low, high = LATENCY_MS[mode.value]
    side_low, side_high = LATENCY_MS["sidecar"]
    items = [
        # Replaced per namespace by the estimator's figures (``namespace_benefits``).
        Benefit(row="M-COST", text="proxy requests: one ztunnel per node instead of an Envoy "
                                   "in every pod"),
        Benefit(row="M-LATENCY", text=f"latency per hop {side_low:.2f}–{side_high:.2f} ms → "
                                      f"{low:.2f}–{high:.2f} ms"),
        Benefit(row="M-L7PARSING", text=f"L7 parses per request {L7_PARSES['sidecar']} → "
                                        f"{L7_PARSES[mode.value]}"),
        Benefit(row="M-UPGRADES", text="data plane upgrades with the control plane; no pod "
                                       "restarts"),
        Benefit(row="M-KEYEXPOSURE", text="a compromised pod cannot reach mesh keys; ztunnel "
                                          "holds them"),
    ]
    if mode is Mode.AMBIENT_WAYPOINT:
        items.append(Benefit(row="M-UTILIZATION", text="one shared waypoint scales on its own "
                                                       "instead of a proxy per pod"))
    return tuple(items)


def namespace_benefits(mode: Mode, inventory: Inventory, namespace: str, waypoints: int,
                       cost: CostBasis | None = None,
                       share: Fraction = Fraction(1)) -> tuple[Benefit, ...]:
    """The mode's benefits, its cost line stating this namespace's estimate (M-COST).

    The line is ``costs.NamespaceCost.line``, the one ``plan`` prints for the namespace, so
    the two never disagree on whether ambient costs less. No advice, no benefits.
    """
    if mode is Mode.NOT_APPLICABLE:
        return ()
    general = benefits(mode)
    if mode is Mode.SIDECAR:
        return general
    line = namespace_cost(inventory, namespace, waypoints, cost or basis(), share).line()
    return tuple(Benefit(row=b.row, text=line) if b.row == "M-COST" else b for b in general)


def _summary(mode: Mode, reasons: list[Reason]) -> str:
    """Top reasons in one line for the table: the strongest effects' rule names.

    A rule whose every deciding reason is suppressed still decides, and says so.
    """
    deciding = {Mode.SIDECAR: Effect.BLOCKS_AMBIENT, Mode.AMBIENT_WAYPOINT: Effect.NEEDS_WAYPOINT,
                Mode.AMBIENT: Effect.FAVOURS_AMBIENT}[mode].value
    kept: dict[str, bool] = {}
    for reason in reasons:
        if reason.effect == deciding:
            kept[reason.rule_name] = kept.get(reason.rule_name, False) or not reason.suppressed
    titles = [name if counts else f"{name} (suppressed)" for name, counts in kept.items()]
    if not titles:
        return "no Istio configuration that needs L7 or blocks ambient"
    shown = ", ".join(titles[:3])
    return shown + (f" (+{len(titles) - 3} more)" if len(titles) > 3 else "")


def decide(inventory: Inventory, findings: list[Finding], lines: FieldLines | None = None,
           suppressed: Suppressed | None = None,
           cost: CostBasis | None = None) -> list[NamespaceVerdict]:
    """A verdict for every namespace in the inventory, sorted by name (``lines``: field lines).

    ``cost``: the figures of the cost estimate (default requests on ``DEFAULT_NODES``).

    Every finding decides, suppressed or not: ``suppressed`` only marks the reasons. The
    verdict makes no findings of its own: the rules' checks made them all.
    """
    # Mesh-wide findings repeat in every namespace: one frozen Reason (and ObjectRef) each.
    # Keyed by id(): ``mesh_wide`` and the inventory keep those objects alive all along.
    refs: dict[int, ObjectRef] = {}

    def reason(finding: Finding) -> Reason:
        return to_reason(finding, refs, lines, suppressed(finding) if suppressed else None)

    by_namespace: dict[str | None, list[Finding]] = defaultdict(list)
    for finding in findings:
        by_namespace[finding.namespace].append(finding)
    mesh_wide = by_namespace.get(None, [])
    modes = namespace_modes(inventory.namespaces, findings)
    for namespace in inventory.not_applicable:
        modes[namespace] = Mode.NOT_APPLICABLE
    shares = ztunnel_shares(inventory, [n for n, m in modes.items() if m in MOVING],
                            cost or basis())
    verdicts = []
    shared = {id(finding): reason(finding) for finding in mesh_wide}
    for namespace in inventory.namespaces:
        own = by_namespace.get(namespace, []) + mesh_wide
        own.sort(key=_reason_key)
        reasons = [shared.get(id(f)) or reason(f) for f in own]
        exempt = inventory.not_applicable.get(namespace)
        # Findings in a system or empty namespace are listed but make no mode.
        mode = modes[namespace]
        waypoints = plan_waypoints(namespace, inventory, own) if (
            mode is Mode.AMBIENT_WAYPOINT) else ()
        verdicts.append(NamespaceVerdict(
            name=namespace, current_mode=inventory.current_mode(namespace).value,
            recommendation=mode.value,
            summary=exempt if exempt is not None else _summary(mode, reasons),
            reasons=reasons, waypoints=waypoints,
            benefits=namespace_benefits(mode, inventory, namespace, len(waypoints), cost,
                                        shares.get(namespace, Fraction(1))),
            objects=inventory.counts.get(namespace, 0)))
    return verdicts
