"""Objects the plan moves or binds for their Service: consumer-side routes and egress.

A waypoint reads routes only in the service's namespace or its own
(U-WAYPOINT-ROUTE-NAMESPACE), so a consumer-side VirtualService, DestinationRule or mesh
route of another namespace (AMA416) is copied into the Service's namespace and the original
deleted. An external host with L7 configuration (AMA105) gets its ServiceEntry bound to the
namespace's waypoint, which acts as its egress gateway (U-EGRESS-WAYPOINT).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asm_mode_advisor.domain import USE_WAYPOINT_LABEL, fqdn
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.kinds import ISTIO_NETWORKING
from asm_mode_advisor.model import Resource, as_dict, as_list, as_str, dicts
from asm_mode_advisor.plan.model import ManualItem, PlannedWaypoint
from asm_mode_advisor.plan.objects import clean_copy, set_path
from asm_mode_advisor.views import VirtualService

MOVE_ROWS = ["U-WAYPOINT-ROUTE-NAMESPACE"]
#: Gateway API route kinds, whose parents (not hosts) name the Service.
MESH_ROUTE_KINDS = ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute")


@dataclass
class RouteMoves:
    """Copies of consumer-side objects written into this namespace, and their originals."""

    created: list[dict[str, Any]] = field(default_factory=list)
    originals: list[Resource] = field(default_factory=list)
    manual: list[ManualItem] = field(default_factory=list)


def _fqdn(inventory: Inventory, host: str, namespace: str) -> str:
    """A host as written in ``namespace``, made absolute (FQDN) when it names a Service."""
    resolved = inventory.resolve_host(host, namespace)
    if resolved is None:
        return host
    return fqdn(*resolved)


def _hosts_of(resource: Resource) -> list[str]:
    if resource.kind == "VirtualService":
        return VirtualService(resource).hosts
    return [as_str(resource.spec.get("host"))]


def move_targets(inventory: Inventory, resource: Resource) -> set[str]:
    """The other namespaces whose Services a consumer-side object routes or configures."""
    own = resource.namespace or inventory.default_namespace
    if resource.kind in MESH_ROUTE_KINDS:
        found = {as_str(p.get("namespace")) or own for p in dicts(resource.spec.get("parentRefs"))
                 if as_str(p.get("kind")) == "Service"}
    else:
        found = set()
        for host in _hosts_of(resource):
            resolved = inventory.resolve_host(host, own)
            if resolved is not None:
                found.add(resolved[0])
    return found - {own}


def _rewrite_destinations(inventory: Inventory, body: dict[str, Any], own: str) -> None:
    """Make every destination (and mirror) host of a VirtualService absolute, as in ``own``."""
    spec = as_dict(body.get("spec"))
    spec["hosts"] = [_fqdn(inventory, as_str(h), own) for h in as_list(spec.get("hosts"))]
    gateways = [as_str(g) for g in as_list(spec.get("gateways"))]
    if gateways:
        spec["gateways"] = [g if g == "mesh" or "/" in g else f"{own}/{g}" for g in gateways]
    for section in ("http", "tcp", "tls"):
        for route in dicts(spec.get(section)):
            targets = [as_dict(d.get("destination")) for d in dicts(route.get("route"))]
            targets += [as_dict(route.get("mirror"))] if route.get("mirror") else []
            targets += [as_dict(m.get("destination")) for m in dicts(route.get("mirrors"))]
            for target in targets:
                if as_str(target.get("host")):
                    target["host"] = _fqdn(inventory, as_str(target["host"]), own)


def _rewrite_backends(body: dict[str, Any], own: str, target: str) -> bool:
    """Name the namespace of a route's backends; True when one stays outside ``target``."""
    outside = False
    spec = as_dict(body.get("spec"))
    for parent in dicts(spec.get("parentRefs")):
        if as_str(parent.get("namespace")) == target:
            parent.pop("namespace")
    for rule in dicts(spec.get("rules")):
        for backend in dicts(rule.get("backendRefs")):
            where = as_str(backend.get("namespace")) or own
            if where == target:
                backend.pop("namespace", None)
            else:
                backend["namespace"] = where
                outside = True
    return outside


def moved_copy(inventory: Inventory, resource: Resource, target: str,
               taken: set[tuple[str, str]]) -> tuple[dict[str, Any], list[str]]:
    """The object as it reads in ``target``: same spec, hosts absolute; and what to check."""
    own = resource.namespace or inventory.default_namespace
    body = clean_copy(resource)
    checks = []
    if resource.kind == "VirtualService":
        _rewrite_destinations(inventory, body, own)
    elif resource.kind == "DestinationRule":
        spec = as_dict(body.get("spec"))
        spec["host"] = _fqdn(inventory, as_str(spec.get("host")), own)
    elif _rewrite_backends(body, own, target):
        checks.append(f"its backends stay in {own}: add a ReferenceGrant in {own} for "
                      f"routes in {target}")
    name = resource.name
    if (resource.kind, name) in taken:
        name = f"{resource.name}-from-{own}"
    taken.add((resource.kind, name))
    body["metadata"]["name"] = name
    body["metadata"]["namespace"] = target
    return body, checks


def _already_routed(inventory: Inventory, resource: Resource, target: str) -> Resource | None:
    """An object of the same kind in ``target`` for the same host (never two for one host)."""
    own = resource.namespace or inventory.default_namespace
    if resource.kind in MESH_ROUTE_KINDS:
        return None  # several Gateway API routes may share a parent
    wanted = {inventory.resolve_host(h, own) for h in _hosts_of(resource)} - {None}
    for other in inventory.of_kind(resource.kind, target, group=ISTIO_NETWORKING):
        if {inventory.resolve_host(h, target) for h in _hosts_of(other)} & wanted:
            return other
    return None


def move_consumer_routes(inventory: Inventory, namespace: str,
                         consumers: list[Resource]) -> RouteMoves:
    """Copy into ``namespace`` the consumer-side objects of other namespaces that route it.

    The copy is applied in step 3 and the original deleted right after, so one copy applies
    at a time; an object that routes several namespaces, or whose host this namespace already
    routes, is listed for a person instead.
    """
    moves = RouteMoves()
    taken = {(r.kind, r.name) for r in inventory.in_namespace(namespace)}
    for resource in consumers:
        targets = move_targets(inventory, resource)
        if namespace not in targets:
            continue
        if len(targets) > 1:
            moves.manual.append(ManualItem(
                object=resource.ref, reason=f"it routes Services of {', '.join(sorted(targets))}"
                f": split it into one object per namespace and move each there (a waypoint "
                "reads routes only in the service's namespace)", rows=MOVE_ROWS))
            continue
        clash = _already_routed(inventory, resource, namespace)
        if clash is not None:
            moves.manual.append(ManualItem(
                object=resource.ref, reason=f"{clash.ref} already configures the same host: "
                "merge the two into it (only one applies per host), then delete this one",
                rows=MOVE_ROWS))
            continue
        body, checks = moved_copy(inventory, resource, namespace, taken)
        moves.created.append(body)
        moves.originals.append(resource)
        moves.manual.extend(ManualItem(object=resource.ref, reason=check, rows=MOVE_ROWS)
                            for check in checks)
    return moves


# --- egress: ServiceEntries bound to the egress waypoint (AMA105) -------------------------

def egress_bindings(entries: list[Resource],
                    waypoints: list[PlannedWaypoint]) -> list[tuple[Resource, dict[str, Any]]]:
    """Each ServiceEntry labelled ``istio.io/use-waypoint`` with the waypoint that serves it.

    Ambient's egress gateway is a waypoint bound to the ServiceEntry
    (https://istio.io/latest/docs/ambient/usage/egress-gateway/).
    """
    if not waypoints:
        return []
    found = []
    for entry in entries:
        waypoint = next((w for w in waypoints if entry.name in w.services), waypoints[0])
        if entry.labels.get(USE_WAYPOINT_LABEL) == waypoint.name:
            continue
        body = clean_copy(entry)
        set_path(body, ("metadata", "labels"))[USE_WAYPOINT_LABEL] = waypoint.name
        found.append((entry, body))
    return found
