"""Ambient namespaces and the waypoints that serve them: what the conformance checks share.

Which namespaces the checks apply to (``--assume-mode``), the ``istio.io/use-waypoint``
bindings of namespaces, Services and pods, and whether a waypoint accepts the traffic bound
to it. Examples shared by the conformance rules' docs are here too.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from asm_mode_advisor.domain import USE_WAYPOINT_LABEL, WAYPOINT_FOR_LABEL, AssumeMode
from asm_mode_advisor.model import Effect, Mode, Resource
from asm_mode_advisor.rules._base import Context, FieldPath, Finding
from asm_mode_advisor.rules._scoped import ScopedInventory

USE_WAYPOINT_NAMESPACE_LABEL = "istio.io/use-waypoint-namespace"
#: ``Kind.group`` of waypoint Gateways, as ``Context.unread`` names a kind a scan could not read.
WAYPOINT_KIND = "Gateway.gateway.networking.k8s.io"
#: An ambient namespace and a waypoint, for the rules' examples.
AMBIENT_NAMESPACE_EXAMPLE = """apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient}
---
"""
WAYPOINT_EXAMPLE = """---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  namespace: shop
  labels: {istio.io/waypoint-for: service}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
"""


@dataclass(frozen=True, slots=True)
class Binding:
    """An ``istio.io/use-waypoint`` label: who carries it, and the waypoint it names."""

    holder: Resource
    name: str
    namespace: str
    traffic: str  # "service", "workload" or "namespace"
    path: FieldPath


def binding_of(holder: Resource, labels: dict[str, str], traffic: str,
               path: FieldPath) -> Binding | None:
    """The waypoint binding a label set declares (``none`` opts out)."""
    name = labels.get(USE_WAYPOINT_LABEL)
    if not name or name == "none":
        return None
    own = holder.name if holder.kind == "Namespace" else (holder.namespace or "")
    namespace = labels.get(USE_WAYPOINT_NAMESPACE_LABEL) or own
    return Binding(holder=holder, name=name, namespace=namespace, traffic=traffic, path=path)


def waypoint_named(inventory: ScopedInventory, binding: Binding) -> Resource | None:
    """The waypoint Gateway a binding names, if it is in the input."""
    return next((g for g in inventory.waypoints(binding.namespace) if g.name == binding.name),
                None)


def waypoint_for(gateway: Resource) -> str:
    """Which traffic a waypoint accepts (``service`` unless labelled otherwise)."""
    return gateway.labels.get(WAYPOINT_FOR_LABEL, "service")


def accepts(gateway: Resource, traffic: str) -> bool:
    """True when the waypoint takes ``traffic`` (namespace, service or workload)."""
    accepted = waypoint_for(gateway)
    if traffic == "namespace":
        return accepted != "none"
    return accepted in (traffic, "all")


def service_binding(inventory: ScopedInventory, namespace: str, service: str) -> Binding | None:
    """The binding of a Service or ServiceEntry: its own label, else its namespace's."""
    found = inventory.service(namespace, service) or inventory.service_entry(namespace, service)
    if found is not None and USE_WAYPOINT_LABEL in found.labels:
        return binding_of(found, found.labels, "service", label_path())
    namespace_object = inventory.namespace_objects.get(namespace)
    if namespace_object is None:
        return None
    return binding_of(namespace_object, namespace_object.labels, "namespace", label_path())


def label_path(prefix: FieldPath = ()) -> FieldPath:
    """Where the use-waypoint label sits, below ``prefix`` (a pod template's)."""
    return (*prefix, "metadata", "labels", USE_WAYPOINT_LABEL)


def service_has_waypoint(inventory: ScopedInventory, namespace: str, service: str) -> bool:
    """True when a waypoint that accepts service traffic is in use for the Service."""
    binding = service_binding(inventory, namespace, service)
    if binding is None:
        return False
    gateway = waypoint_named(inventory, binding)
    return gateway is not None and accepts(gateway, "service")


def namespace_has_waypoint(inventory: ScopedInventory, namespace: str) -> bool:
    """True when the namespace label binds an existing waypoint."""
    namespace_object = inventory.namespace_objects.get(namespace)
    if namespace_object is None:
        return False
    binding = binding_of(namespace_object, namespace_object.labels, "namespace", ())
    if binding is None:
        return False
    gateway = waypoint_named(inventory, binding)
    return gateway is not None and accepts(gateway, "namespace")


def ambient_namespaces(inventory: ScopedInventory, context: Context,
                       detected: Sequence[Finding]) -> set[str]:
    """Namespaces the conformance checks apply to, per ``--assume-mode``."""
    # Assumed modes cover only advised namespaces: a system or empty one is never assumed
    # ambient (one really labelled ambient is still checked).
    labelled = {ns for ns in inventory.namespaces if inventory.current_mode(ns) is Mode.AMBIENT}
    if context.assume_mode == AssumeMode.AMBIENT:
        return labelled | set(inventory.advised_namespaces)
    if context.assume_mode != AssumeMode.RECOMMENDED:
        return labelled
    blocked = {f.namespace for f in detected if f.effect is Effect.BLOCKS_AMBIENT}
    if None in blocked:
        return labelled
    return labelled | {ns for ns in inventory.advised_namespaces
                       if ns not in blocked and inventory.current_mode(ns) is not Mode.CONFLICT}


def bindings_in(inventory: ScopedInventory, namespace: str) -> Iterator[Binding]:
    """The use-waypoint labels of a namespace, its Services and its workloads' pods."""
    namespace_object = inventory.namespace_objects.get(namespace)
    if namespace_object is not None:
        found = binding_of(namespace_object, namespace_object.labels, "namespace",
                           label_path())
        if found is not None:
            yield found
    for service in inventory.services(namespace):
        found = binding_of(service, service.labels, "service", label_path())
        if found is not None:
            yield found
    for workload in inventory.workloads(namespace):
        prefix: FieldPath = () if workload.resource.kind == "Pod" else ("spec", "template")
        found = binding_of(workload.resource, workload.pod_labels, "workload",
                           label_path(prefix))
        if found is not None:
            yield found


def with_source_rows(finding: Finding, source: Finding) -> Finding:
    """``finding`` citing the matrix rows of the capability finding it builds on, too."""
    return dataclasses.replace(finding, extra_rows=source.rows)
