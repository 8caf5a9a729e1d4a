"""The inventory as one detector or check sees it: objects of its rules' kinds, and facts.

The pipeline hands each detector and check a :class:`ScopedInventory` over the kinds its
rules declare (``Rule.kinds``). Walking objects (``of_kind``, ``services``, ``workloads``)
is limited to those kinds: asking for another kind raises :class:`NotDeclaredError`, which
the pipeline reports as an internal error and the examples tests catch. What the inventory
has resolved (namespaces and their mode labels, waypoints, which workloads a selector picks,
which Service a host names) stays open to every rule: resolving it is the inventory's job.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from asm_mode_advisor.inventory import Inventory, Workload
from asm_mode_advisor.kinds import GATEWAY_API, WORKLOAD_KINDS
from asm_mode_advisor.model import Mode, Resource, as_str


class NotDeclaredError(Exception):
    """A detector read a kind, or made a finding of a rule, that its declaration leaves out."""


class ScopedInventory:
    """An :class:`Inventory` whose object walks are limited to the declared ``kinds``."""

    __slots__ = ("_inventory", "_workload_kinds", "kinds")

    def __init__(self, inventory: Inventory, kinds: Collection[str]) -> None:
        """Scope ``inventory`` to ``kinds`` (the union of the runner's ``Rule.kinds``)."""
        self._inventory = inventory
        self.kinds = frozenset(kinds)
        self._workload_kinds = self.kinds & WORKLOAD_KINDS

    def _require(self, kind: str) -> None:
        if kind not in self.kinds:
            raise NotDeclaredError(f"reads {kind}, which none of its rules declares in kinds")

    # --- objects of the declared kinds ---------------------------------------------------

    def of_kind(self, kind: str, namespace: str | None = None,
                group: str | None = None) -> list[Resource]:
        """Resources of a declared kind, in one namespace or (``None``) everywhere."""
        self._require(kind)
        return self._inventory.of_kind(kind, namespace, group)

    def services(self, namespace: str) -> list[Resource]:
        """Services of a namespace (``Service`` must be declared)."""
        return self.of_kind("Service", namespace)

    def istio_gateways(self, namespace: str | None = None) -> list[Resource]:
        """Istio ``networking.istio.io`` Gateways (``Gateway`` must be declared)."""
        self._require("Gateway")
        return self._inventory.istio_gateways(namespace)

    def workloads(self, namespace: str) -> list[Workload]:
        """Workloads of a namespace, of the declared workload kinds only."""
        return self._declared(self._inventory.workloads(namespace))

    def all_workloads(self) -> list[Workload]:
        """Workloads of every namespace, of the declared workload kinds only."""
        return self._declared(self._inventory.all_workloads())

    def _declared(self, workloads: list[Workload]) -> list[Workload]:
        if not self._workload_kinds:
            raise NotDeclaredError("reads workloads, but none of its rules declares a "
                                   "workload kind")
        if self._workload_kinds == WORKLOAD_KINDS:
            return workloads
        return [w for w in workloads if w.resource.kind in self._workload_kinds]

    # --- facts the inventory resolved (open to every rule) -------------------------------

    @property
    def namespaces(self) -> list[str]:
        """Every namespace that holds an object or is declared by a Namespace object."""
        return self._inventory.namespaces

    @property
    def control_plane_namespaces(self) -> frozenset[str]:
        """The root namespace, the usual control-plane ones and any that runs istiod."""
        return self._inventory.control_plane_namespaces

    @property
    def advised_namespaces(self) -> list[str]:
        """The namespaces that get mode advice (no system, control-plane or empty ones)."""
        return self._inventory.advised_namespaces

    @property
    def namespace_objects(self) -> dict[str, Resource]:
        """Namespace objects by name (their labels say the mode)."""
        return self._inventory.namespace_objects

    @property
    def default_namespace(self) -> str:
        """The namespace of objects that name none."""
        return self._inventory.default_namespace

    @property
    def root_namespace(self) -> str:
        """The mesh's root namespace (mesh-wide policies live there)."""
        return self._inventory.root_namespace

    def current_mode(self, namespace: str) -> Mode:
        """The data-plane mode the namespace's labels select today."""
        return self._inventory.current_mode(namespace)

    def has_workloads(self, namespace: str) -> bool:
        """True when the namespace runs any workload (of any kind)."""
        return bool(self._inventory.workloads(namespace))

    def service(self, namespace: str, name: str) -> Resource | None:
        """The Service ``namespace/name`` if it is in the input."""
        return self._inventory.service(namespace, name)

    def service_entry(self, namespace: str, name: str) -> Resource | None:
        """The ServiceEntry ``namespace/name`` if it is in the input (a waypoint binds it too)."""
        return next((r for r in self._inventory.of_kind("ServiceEntry", namespace)
                     if r.name == name), None)

    def waypoints(self, namespace: str | None = None) -> list[Resource]:
        """Gateway API Gateways of class ``istio-waypoint``."""
        return self._inventory.waypoints(namespace)

    def gateway_class(self, namespace: str, name: str) -> str | None:
        """``gatewayClassName`` of the Gateway API Gateway ``namespace/name`` (None: absent)."""
        for gateway in self._inventory.of_kind("Gateway", namespace, group=GATEWAY_API):
            if gateway.name == name:
                return as_str(gateway.spec.get("gatewayClassName"))
        return None

    def select_workloads(self, namespace: str, selector: dict[str, Any] | None) -> list[Workload]:
        """Workloads (of any kind) in ``namespace`` whose pod labels match ``selector``."""
        return self._inventory.select_workloads(namespace, selector)

    def services_of_workloads(self, namespace: str, workloads: list[Workload]) -> list[str]:
        """Names of the Services in ``namespace`` that select any of ``workloads``."""
        return self._inventory.services_of_workloads(namespace, workloads)

    def policy_services(self, resource: Resource) -> list[str]:
        """Services a workload-selecting policy affects: via targetRefs or its selector."""
        return self._inventory.policy_services(resource)

    def resolve_host(self, host: str, namespace: str) -> tuple[str, str] | None:
        """A mesh host name as ``(namespace, service)``, or None outside the cluster."""
        return self._inventory.resolve_host(host, namespace)

    def has_target_refs(self, resource: Resource) -> bool:
        """True when the policy binds by ``targetRef(s)``."""
        return self._inventory.has_target_refs(resource)

    def is_mesh_wide(self, resource: Resource) -> bool:
        """True for a policy in the root namespace with no selector."""
        return self._inventory.is_mesh_wide(resource)
