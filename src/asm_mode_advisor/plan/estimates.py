"""Cost and latency estimates: sidecars per pod against ztunnel per node plus waypoints.

Rows: M-COST and M-UTILIZATION (who pays for proxies), M-LATENCY (ms per hop class) and
M-L7PARSING (L7 parses per request). Figures are resource *requests*, as a scheduler sees them.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from asm_mode_advisor.costs import CostBasis, ProxyRequests, namespace_cost, ztunnel_shares

# Re-exported: ``plan --sidecar-cpu/--sidecar-memory`` checks its quantities with these.
from asm_mode_advisor.costs import parse_cpu as parse_cpu
from asm_mode_advisor.costs import parse_memory as parse_memory
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.matrix import L7_PARSES, LATENCY_MS
from asm_mode_advisor.plan.model import (
    Assumptions,
    Latency,
    NamespaceEstimate,
    PlannedWaypoint,
    Totals,
)

ROWS = ["M-COST", "M-UTILIZATION", "M-LATENCY", "M-L7PARSING"]


def cost_basis(assumptions: Assumptions) -> CostBasis:
    """The estimator's figures from the plan's printed assumptions (the same values)."""
    return CostBasis(sidecar=assumptions.sidecar, ztunnel=assumptions.ztunnel,
                     waypoint=assumptions.waypoint,
                     waypoint_replicas=assumptions.waypoint_replicas, nodes=assumptions.nodes)


def latency(recommendation: str, services: list[str],
            waypoints: list[PlannedWaypoint]) -> list[Latency]:
    """Hop classes after the move: through a waypoint, or ztunnel only (M-LATENCY)."""
    if recommendation == "ambient":
        through: set[str] = set()
    elif any(w.bound_by == "namespace" for w in waypoints):
        through = set(services)
    else:
        through = {s for w in waypoints for s in w.services}
    classes: list[tuple[Literal["ambient", "ambient-waypoint"], list[str]]] = [
        ("ambient-waypoint", sorted(through)), ("ambient", sorted(set(services) - through))]
    return [Latency(hop=hop, services=names, before_ms=LATENCY_MS["sidecar"],
                    after_ms=LATENCY_MS[hop], l7_parses_before=L7_PARSES["sidecar"],
                    l7_parses_after=L7_PARSES[hop])
            for hop, names in classes if names or (hop == recommendation and not services)]


def namespace_estimate(inventory: Inventory, namespace: str, recommendation: str,
                       waypoints: list[PlannedWaypoint], assumptions: Assumptions,
                       share: Fraction = Fraction(1)) -> NamespaceEstimate:
    """Sidecar requests of every workload against the waypoints the plan deploys.

    ``comparison`` is the estimator's line for the namespace with its ``share`` of ztunnel
    (``costs.ztunnel_shares``), which the verdict prints among its benefits: ``analyze`` and
    ``plan`` say the same.
    """
    cost = namespace_cost(inventory, namespace, len(waypoints), cost_basis(assumptions), share)
    services = sorted(s.name for s in inventory.services(namespace))
    return NamespaceEstimate(sidecars=cost.sidecars, waypoints=cost.waypoints,
                             workloads=list(cost.proxies),
                             latency=latency(recommendation, services, waypoints), rows=ROWS,
                             comparison=cost.line())


def shares(inventory: Inventory, moving: list[str],
           assumptions: Assumptions) -> dict[str, Fraction]:
    """Each moving namespace's share of ztunnel, as the verdict computes it."""
    return ztunnel_shares(inventory, moving, cost_basis(assumptions))


def totals(estimates: list[NamespaceEstimate], assumptions: Assumptions) -> Totals:
    """Sums over the planned namespaces; ztunnel is counted once per node, shared by all."""
    sidecar_mode = sum((e.sidecars for e in estimates), ProxyRequests())
    waypoints = sum((e.waypoints for e in estimates), ProxyRequests())
    ztunnel = assumptions.ztunnel.times(assumptions.nodes) if estimates else ProxyRequests()
    ambient_mode = ztunnel + waypoints
    return Totals(sidecar_mode=sidecar_mode, ztunnel=ztunnel, waypoints=waypoints,
                  ambient_mode=ambient_mode, change=ambient_mode - sidecar_mode, rows=ROWS)
