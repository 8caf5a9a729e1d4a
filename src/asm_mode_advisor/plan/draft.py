"""A namespace plan while it is built: its input, its files so far and its manual items.

The step modules (``steps``, ``enrolment``) share these; paths in commands are relative to
the plan directory (where PLAN.md is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from shlex import quote
from typing import Any

from asm_mode_advisor.domain import is_gateway_pod
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.model import Resource
from asm_mode_advisor.plan.model import FileAction, Manifest, ManualItem, PlannedWaypoint
from asm_mode_advisor.plan.objects import clean_copy
from asm_mode_advisor.plan.rewrite import WaypointIdentities
from asm_mode_advisor.report import NamespaceVerdict
from asm_mode_advisor.rules import Finding

#: Workload kinds ``kubectl rollout restart`` accepts.
RESTARTABLE = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass
class Files:
    """Manifests of one namespace, by step, in a fixed order."""

    namespace: str
    manifests: list[Manifest] = field(default_factory=list)

    def add(self, name: str, action: FileAction, step: int,
            objects: list[dict[str, Any]]) -> str | None:
        """Record a file (none when empty); return its path relative to the plan root."""
        if not objects:
            return None
        folder = {"apply": "", "delete": "cleanup/", "rollback": "rollback/"}[action]
        path = f"{self.namespace}/{folder}{name}"
        self.manifests.append(Manifest(path=path, action=action, step=step, objects=objects))
        return path


@dataclass
class NamespaceInput:
    """What a namespace plan is built from."""

    inventory: Inventory
    verdict: NamespaceVerdict
    findings: list[Finding]
    waypoints: list[PlannedWaypoint]
    mesh_version: str
    allow_direct: tuple[str, ...] = ()  # callers the offered waypoint-only policy admits


@dataclass
class NamespaceDraft:
    """One namespace's plan while its steps are built: the files and manual items so far."""

    data: NamespaceInput
    files: Files
    own: list[Finding]  # the findings of this namespace
    manual: list[ManualItem] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        """The namespace's name."""
        return self.data.verdict.name

    @property
    def quoted(self) -> str:
        """The name as one shell word (names are validated at load, too)."""
        return quote(self.namespace)

    @property
    def inventory(self) -> Inventory:
        """Every object of the input."""
        return self.data.inventory

    @property
    def waypoints(self) -> list[PlannedWaypoint]:
        """The waypoints the plan deploys or reuses here."""
        return self.data.waypoints

    @property
    def identities(self) -> WaypointIdentities:
        """The waypoints with the Gateways of those that exist (for their principals)."""
        return WaypointIdentities(self.namespace, self.waypoints, {
            g.name: g for g in self.inventory.waypoints(self.namespace)})


def originals(resources: list[Resource]) -> list[dict[str, Any]]:
    """Clean copies of ``resources`` as they are now (what a rollback file restores)."""
    return [clean_copy(r) for r in resources]


def restart_command(inventory: Inventory, namespace: str,
                     reapplied: list[Resource]) -> str | None:
    """Restart what re-applying a changed pod template does not roll out already."""
    skip = {(r.kind, r.name) for r in reapplied}
    names = [quote(f"{w.resource.kind.lower()}/{w.resource.name}")
             for w in inventory.workloads(namespace) if w.resource.kind in RESTARTABLE
             and (w.resource.kind, w.resource.name) not in skip
             and not is_gateway_pod(w.pod_labels, w.pod_annotations)]  # keeps its Envoy
    return f"kubectl -n {quote(namespace)} rollout restart {' '.join(names)}" if (
        names) else None
