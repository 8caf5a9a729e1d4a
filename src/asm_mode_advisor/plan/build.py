"""Analysis to Plan: a plan per namespace moving to ambient, reasons for those that stay."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from asm_mode_advisor.analysis import Analysis
from asm_mode_advisor.costs import DEFAULT_NODES, SIDECAR_CPU, SIDECAR_MEMORY, basis
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.model import MOVING, Effect, Mode
from asm_mode_advisor.plan.estimates import namespace_estimate, shares, totals
from asm_mode_advisor.plan.model import (
    Assumptions,
    MoveOrder,
    NamespacePlan,
    Plan,
    PlannedWaypoint,
    ProxyRequests,
    Skipped,
    StaysOnSidecar,
)
from asm_mode_advisor.plan.order import move_order
from asm_mode_advisor.plan.rule_roles import UNBLOCK_BY_RULE_ID
from asm_mode_advisor.plan.steps import NamespaceInput, build_steps
from asm_mode_advisor.report import NamespaceVerdict
from asm_mode_advisor.traffic.costs import load_line

CONTROL_PLANE_DAEMONSETS = ("istio-cni-node", "ztunnel")


@dataclass(frozen=True)
class PlanSettings:
    """What the plan is asked to do, from flags."""

    namespaces: tuple[str, ...] = ()
    waypoint_per_service: bool = False
    #: Callers the offered waypoint-only policy still admits straight to the pods.
    allow_direct: tuple[str, ...] = ()
    sidecar_cpu: str = SIDECAR_CPU
    sidecar_memory: str = SIDECAR_MEMORY
    nodes: int = DEFAULT_NODES


def assumptions(settings: PlanSettings, cluster_nodes: int | None) -> Assumptions:
    """Figures behind the estimates; a scanned cluster's node count wins over ``--nodes``.

    The same figures (``costs.basis``) the verdict's cost benefit uses.
    """
    counted = cluster_nodes is not None and cluster_nodes > 0
    found = basis(cluster_nodes if cluster_nodes and counted else settings.nodes,
                  settings.sidecar_cpu, settings.sidecar_memory)
    return Assumptions(sidecar=found.sidecar, ztunnel=found.ztunnel, waypoint=found.waypoint,
                       waypoint_replicas=found.waypoint_replicas, nodes=found.nodes,
                       nodes_source="cluster" if counted else "flag")


def preconditions(analysis: Analysis, from_cluster: bool) -> list[str]:
    """Mesh-wide checks; with a scanned cluster, whether the ambient node agents run."""
    lines = [f"mesh version {analysis.report.mesh_version} (ambient is production-ready from "
             "ASM 1.25, N-VERSION)"]
    if from_cluster:
        present = {d.name for d in analysis.inventory.of_kind("DaemonSet")}
        for name in CONTROL_PLANE_DAEMONSETS:
            state = "present" if name in present else "MISSING: install the ambient profile"
            lines.append(f"DaemonSet {name}: {state}")
    else:
        lines.append("istio-cni and ztunnel DaemonSets: not checked (files); see step 1")
    return lines


def _skip_reason(verdict: NamespaceVerdict, wanted: tuple[str, ...],
                 inventory: Inventory) -> str | None:
    if wanted and verdict.name not in wanted:
        return ""  # filtered out: not listed at all
    # The verdict's own answer (``Inventory.not_applicable``), so plan and analyze agree.
    exempt = inventory.not_applicable.get(verdict.name)
    if exempt is not None:
        return exempt
    if verdict.current_mode == Mode.AMBIENT.value and not verdict.waypoints:
        return "already ambient and needs no waypoint"
    return None


def is_planned(verdict: NamespaceVerdict) -> bool:
    """Namespaces the plan moves: recommended ambient or ambient-waypoint."""
    return Mode(verdict.recommendation) in MOVING


def planned_waypoints(verdict: NamespaceVerdict, per_service: bool) -> list[PlannedWaypoint]:
    """Waypoints from the verdict: one per namespace, or one per service on request."""
    if not verdict.waypoints:
        return []
    shared = verdict.waypoints[0]
    if per_service and shared.services and not shared.workloads and not shared.exists:
        return [PlannedWaypoint.model_validate({"name": f"{name}-waypoint", "for": "service",
                                                "services": [name], "boundBy": "service"})
                for name in shared.services]
    return [PlannedWaypoint.model_validate({"name": shared.name, "for": shared.for_,
                                            "services": shared.services,
                                            "boundBy": "namespace", "exists": shared.exists})]


def blockers(verdict: NamespaceVerdict) -> list[tuple[str, str]]:
    """``(rule id, reason text)`` of each blocks-ambient reason."""
    found = []
    for reason in verdict.reasons:
        if reason.effect != Effect.BLOCKS_AMBIENT.value:
            continue
        where = next((f" ({o.file}:{o.line})" if o.file and o.line else f" ({o.file})"
                      for o in reason.objects if o.file), "")
        found.append((reason.rule_id, f"{reason.rule_id} {reason.message} "
                                      f"[{', '.join(reason.matrix_rows)}]{where}"))
    return found


def stays_on_sidecar(verdict: NamespaceVerdict) -> StaysOnSidecar:
    """Why a namespace keeps its sidecars, and what would let it move."""
    found = blockers(verdict)
    unblock = list(dict.fromkeys(
        UNBLOCK_BY_RULE_ID.get(rule_id, f"resolve {rule_id} (asm-advisor explain {rule_id})")
        for rule_id, _ in found))
    return StaysOnSidecar(name=verdict.name, current_mode=verdict.current_mode,
                          why=[text for _, text in found], unblock=unblock)


def measured_line(analysis: Analysis, namespace: str, mode: str) -> str | None:
    """The cost of the measured load (``--prometheus``), as ``analyze`` prints it."""
    traffic = analysis.traffic
    if traffic is None or not traffic.measured:
        return None
    return load_line(traffic.graph, namespace, mode)


def ordered(plans: list[NamespacePlan], sidecar: list[StaysOnSidecar],
            analysis: Analysis) -> tuple[MoveOrder, list[NamespacePlan]]:
    """The order of the move, and each plan with its wave when more than one moves."""
    order = move_order([p.name for p in plans], [s.name for s in sidecar], analysis.findings,
                       analysis.traffic)
    if len(plans) > 1:
        waves = {name: wave.number for wave in order.waves for name in wave.namespaces}
        plans = [p.model_copy(update={"wave": waves.get(p.name)}) for p in plans]
    return order, plans


def namespace_plan(analysis: Analysis, verdict: NamespaceVerdict, settings: PlanSettings,
                   basis: Assumptions, share: Fraction) -> NamespacePlan:
    """The plan of one namespace that moves: waypoints, steps, files and estimates."""
    inventory, report = analysis.inventory, analysis.report
    waypoints = planned_waypoints(verdict, settings.waypoint_per_service)
    steps, files, manual = build_steps(NamespaceInput(
        inventory=inventory, verdict=verdict, findings=analysis.findings,
        waypoints=waypoints, mesh_version=report.mesh_version,
        allow_direct=settings.allow_direct))
    estimate = namespace_estimate(inventory, verdict.name, verdict.recommendation, waypoints,
                                  basis, share)
    return NamespacePlan(
        name=verdict.name, current_mode=verdict.current_mode,
        recommendation=verdict.recommendation, waypoints=waypoints, steps=steps,
        manual=manual, files=files, estimate=estimate.model_copy(update={
            "at_measured_load": measured_line(analysis, verdict.name, verdict.recommendation)}))


def build_plan(analysis: Analysis, settings: PlanSettings,
               cluster_nodes: int | None = None) -> Plan:
    """The whole plan, deterministic: namespaces by name, files and items in fixed order.

    ``cluster_nodes`` is the node count of a scanned cluster (it replaces ``--nodes``).
    """
    inventory, report = analysis.inventory, analysis.report
    from_cluster = report.source == "cluster"
    basis = assumptions(settings, cluster_nodes)
    plans, sidecar, skipped = [], [], []
    # The same shares the verdict uses: every namespace recommended for ambient moves.
    ztunnel = shares(inventory, [v.name for v in report.namespaces if is_planned(v)], basis)
    for verdict in report.namespaces:
        reason = _skip_reason(verdict, settings.namespaces, inventory)
        if reason == "":
            continue
        if reason is not None:
            skipped.append(Skipped(name=verdict.name, reason=reason))
        elif not is_planned(verdict):
            sidecar.append(stays_on_sidecar(verdict))
        else:
            plans.append(namespace_plan(analysis, verdict, settings, basis,
                                        ztunnel.get(verdict.name, Fraction(1))))
    order, plans = ordered(plans, sidecar, analysis)
    return Plan(mesh_version=report.mesh_version, source=report.source,
                preconditions=preconditions(analysis, from_cluster), namespaces=plans,
                stays_on_sidecar=sidecar, skipped=skipped,
                order=order if plans else None, assumptions=basis,
                totals=totals([p.estimate for p in plans], basis), errors=report.errors)


__all__ = ["PlanSettings", "ProxyRequests", "build_plan"]
