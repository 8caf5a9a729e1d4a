"""All resources indexed by namespace and kind, with selectors, hosts and targetRefs resolved.

Built the same way from files and from a cluster. Lookups are indexed (label index per
namespace) so that resolving thousands of policies never turns quadratic.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from asm_mode_advisor.domain import (
    CLUSTER_DOMAIN_SUFFIX,
    CONTROL_PLANE_NAMESPACES,
    DATAPLANE_LABEL,
    INJECTION_LABEL,
    ISTIOD_NAME,
    MESH_CONFIG_KINDS,
    REVISION_LABEL,
    ROOT_NAMESPACE,
    SYSTEM_NAMESPACES,
    WAYPOINT_CLASS,
    controller_of,
    is_gateway_pod,
)
from asm_mode_advisor.kinds import (
    GATEWAY_API,
    ISTIO_NETWORKING,
    WORKLOAD_KINDS,
    pod_template_path,
)
from asm_mode_advisor.model import Mode, Resource, as_dict, as_list, as_str, dicts, str_map
from asm_mode_advisor.views import Selecting, Service

#: Namespaces with this many workloads get a label index; smaller ones are scanned, which
#: is as fast and saves an index per namespace.
INDEXED_FROM = 32


@dataclass(frozen=True, slots=True)
class Workload:
    """A workload object and the pod template it runs (for a Pod, the Pod itself)."""

    resource: Resource
    pod_labels: dict[str, str]
    pod_annotations: dict[str, str]
    pod_spec: dict[str, Any]

    @property
    def containers(self) -> list[dict[str, Any]]:
        """App and init containers of the pod template."""
        return dicts(self.pod_spec.get("containers")) + dicts(self.pod_spec.get("initContainers"))


def pod_template(resource: Resource) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(template metadata, template spec)`` of a workload kind."""
    if resource.kind == "Pod":
        return {"labels": resource.labels, "annotations": resource.annotations}, resource.spec
    template = resource.body
    for key in pod_template_path(resource.kind):
        template = as_dict(template.get(key))
    return as_dict(template.get("metadata")), as_dict(template.get("spec"))


def make_workload(resource: Resource) -> Workload:
    """Wrap a workload resource with its pod template."""
    metadata, spec = pod_template(resource)
    return Workload(resource=resource, pod_labels=str_map(metadata.get("labels")),
                    pod_annotations=str_map(metadata.get("annotations")), pod_spec=spec)


def selector_matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics for ``matchLabels``/``matchExpressions`` or a map."""
    match_labels = str_map(selector.get("matchLabels")) if (
        "matchLabels" in selector or "matchExpressions" in selector) else str_map(selector)
    if any(labels.get(key) != value for key, value in match_labels.items()):
        return False
    for expression in dicts(selector.get("matchExpressions")):
        key = as_str(expression.get("key"))
        operator = as_str(expression.get("operator"))
        values = {str(v) for v in as_list(expression.get("values"))}
        present = key in labels
        if operator == "In" and (not present or labels[key] not in values):
            return False
        if operator == "NotIn" and present and labels[key] in values:
            return False
        if operator == "Exists" and not present:
            return False
        if operator == "DoesNotExist" and present:
            return False
    return True


#: A namespace's Service names, and for each the workloads it selects (two flat tuples:
#: kept for every namespace that has policies, so no pair per Service).
ServiceTargets = tuple[tuple[str, ...], tuple[tuple[Workload, ...], ...]]


@dataclass
class Inventory:
    """Every resource, plus the indexes the rules need."""

    resources: list[Resource]
    default_namespace: str = "default"
    root_namespace: str = ROOT_NAMESPACE
    #: Namespace (None: cluster-scoped) → its ``[start, end)`` in the sorted ``resources``;
    #: kinds and names are found in there by bisection, with no list or dict per kind.
    _spans: dict[str | None, tuple[int, int]] = field(default_factory=dict, repr=False)
    _workloads: dict[str, list[Workload]] = field(default_factory=lambda: defaultdict(list),
                                                 repr=False)
    _label_index: dict[str, dict[tuple[str, str], list[int]]] = field(
        default_factory=dict, repr=False)
    _by_kind: dict[str, list[Resource]] = field(default_factory=lambda: defaultdict(list),
                                                repr=False)
    _service_targets: dict[str, ServiceTargets] = field(
        default_factory=dict, repr=False)

    @classmethod
    def build(cls, resources: Iterable[Resource], default_namespace: str = "default",
              root_namespace: str = ROOT_NAMESPACE) -> Inventory:
        """Index resources once."""
        inventory = cls(resources=sorted(resources, key=_sort_key),
                        default_namespace=default_namespace, root_namespace=root_namespace)
        present = {(r.namespace, r.kind, r.name) for r in inventory.resources
                   if r.kind in WORKLOAD_KINDS}
        for position, resource in enumerate(inventory.resources):
            start, _ = inventory._spans.get(resource.namespace, (position, position))
            inventory._spans[resource.namespace] = (start, position + 1)
            inventory._by_kind[resource.kind].append(resource)
            if resource.kind in WORKLOAD_KINDS and resource.namespace is not None:
                if controller_of(resource) in present:
                    continue  # a ReplicaSet or Pod of a listed controller counts through it
                inventory._workloads[resource.namespace].append(make_workload(resource))
        return inventory

    # --- plain lookups -------------------------------------------------------------------

    def of_kind(self, kind: str, namespace: str | None = None,
                group: str | None = None) -> list[Resource]:
        """Resources of a kind, in one namespace or (``namespace=None``) everywhere."""
        if namespace is not None:
            start, end = self._kind_range(namespace, kind)
            found = self.resources[start:end]
        else:
            found = list(self._by_kind.get(kind, ()))
        if group is not None:
            return [r for r in found if r.group == group]
        return found

    @cached_property
    def namespaces(self) -> list[str]:
        """Every namespace that holds an object or is declared by a Namespace object.

        Install-time documents (an IstioOperator) given the default namespace only because
        their file names none do not make that namespace appear on their own.
        """
        names = {ns for ns in self._spans if ns is not None and not (
            ns == self.default_namespace and all(
                r.kind in MESH_CONFIG_KINDS for r in self.in_namespace(ns)))}
        names.update(r.name for r in self.of_kind("Namespace"))
        return sorted(names)

    @cached_property
    def namespace_set(self) -> frozenset[str]:
        """``namespaces`` for membership tests (hosts resolve by the thousand)."""
        return frozenset(self.namespaces)

    @cached_property
    def not_applicable(self) -> dict[str, str]:
        """Namespaces that get no mode advice, each with the one-line reason why.

        Kubernetes' system namespaces and the control plane's are never enrolled; a
        namespace with no workload and no Service has nothing to move. ``analyze``,
        ``scan`` and ``plan`` all read this one answer, so they never disagree.
        """
        found = {}
        for namespace in self.namespaces:
            reason = self._not_applicable_reason(namespace)
            if reason is not None:
                found[namespace] = reason
        return found

    @cached_property
    def advised_namespaces(self) -> list[str]:
        """The namespaces that get mode advice (every one not in ``not_applicable``)."""
        return [ns for ns in self.namespaces if ns not in self.not_applicable]

    @cached_property
    def control_plane_namespaces(self) -> frozenset[str]:
        """The root namespace, the usual control-plane ones and any that runs istiod."""
        found = {self.root_namespace, *CONTROL_PLANE_NAMESPACES}
        found.update(w.resource.namespace for w in self.all_workloads()
                     if w.resource.kind == "Deployment" and w.resource.namespace is not None
                     and is_istiod(w))
        return frozenset(found)

    def _not_applicable_reason(self, namespace: str) -> str | None:
        if namespace in SYSTEM_NAMESPACES:
            return "Kubernetes system namespace: never enrolled in the mesh"
        if namespace in self.control_plane_namespaces:
            return "control-plane namespace: never enrolled in the mesh"
        workloads = self.workloads(namespace)
        if workloads and all(is_gateway_pod(w.pod_labels, w.pod_annotations)
                             for w in workloads):
            return ("gateway namespace: Istio gateways run their own Envoy in either mode and "
                    "are never enrolled")
        # A ServiceEntry is something to move too: its egress waypoint lives here.
        if not self.workloads(namespace) and not self.services(namespace) and not (
                self.of_kind("ServiceEntry", namespace)):
            return "no workload, Service or ServiceEntry in the input: nothing to move"
        return None

    @cached_property
    def namespace_objects(self) -> dict[str, Resource]:
        """Namespace objects by name."""
        return {r.name: r for r in self.of_kind("Namespace")}

    def in_namespace(self, namespace: str) -> list[Resource]:
        """Every resource in a namespace."""
        return list(self._by_namespace.get(namespace, ()))

    @cached_property
    def _by_namespace(self) -> dict[str | None, list[Resource]]:
        """Resources per namespace, by kind then name (built once, on first use)."""
        return {namespace: self.resources[start:end]
                for namespace, (start, end) in self._spans.items()}

    @cached_property
    def counts(self) -> dict[str | None, int]:
        """Number of resources per namespace (None: cluster-scoped)."""
        return {namespace: end - start for namespace, (start, end) in self._spans.items()}

    def workloads(self, namespace: str) -> list[Workload]:
        """Workloads of a namespace."""
        return self._workloads.get(namespace, [])

    def all_workloads(self) -> list[Workload]:
        """Workloads of every namespace."""
        return [w for ns in sorted(self._workloads) for w in self._workloads[ns]]

    def service(self, namespace: str, name: str) -> Resource | None:
        """The Service ``namespace/name`` if it is in the input."""
        start, end = self._kind_range(namespace, "Service")
        # The last of equal names, as a later duplicate replaces an earlier one.
        position = bisect_right(self.resources, name, start, end, key=_name) - 1
        if position >= start and self.resources[position].name == name:
            return self.resources[position]
        return None

    def _kind_range(self, namespace: str | None, kind: str) -> tuple[int, int]:
        """``[start, end)`` of a kind's resources in one namespace."""
        start, end = self._spans.get(namespace, (0, 0))
        low = bisect_left(self.resources, kind, start, end, key=_kind)
        return low, bisect_right(self.resources, kind, low, end, key=_kind)

    def services(self, namespace: str) -> list[Resource]:
        """Services of a namespace."""
        return self.of_kind("Service", namespace)

    # --- selectors -----------------------------------------------------------------------

    def select_workloads(self, namespace: str, selector: dict[str, Any] | None) -> list[Workload]:
        """Workloads in ``namespace`` whose pod labels match ``selector`` (None/{} = all)."""
        workloads = self.workloads(namespace)
        if not selector:
            return list(workloads)
        match_labels = str_map(selector.get("matchLabels")) if (
            "matchLabels" in selector or "matchExpressions" in selector) else str_map(selector)
        if len(workloads) < INDEXED_FROM:
            return [w for w in workloads if selector_matches(selector, w.pod_labels)]
        candidates: set[int] | None = None
        index = self._labels_of(namespace)
        for pair in match_labels.items():
            hits = index.get(pair, ())
            candidates = set(hits) if candidates is None else candidates.intersection(hits)
            if not candidates:
                return []
        pool = (workloads[i] for i in sorted(candidates)) if candidates is not None else (
            iter(workloads))
        return [w for w in pool if selector_matches(selector, w.pod_labels)]

    def _labels_of(self, namespace: str) -> dict[tuple[str, str], list[int]]:
        """Label pair → positions of the namespace's workloads that carry it (built once)."""
        index = self._label_index.get(namespace)
        if index is None:
            index = self._label_index[namespace] = defaultdict(list)
            for position, workload in enumerate(self.workloads(namespace)):
                for pair in workload.pod_labels.items():
                    index[pair].append(position)
        return index

    def services_of_workloads(self, namespace: str, workloads: list[Workload]) -> list[str]:
        """Names of the Services in ``namespace`` that select any of ``workloads``."""
        wanted = {id(w.resource) for w in workloads}
        names, selections = self._selected_by_services(namespace)
        return sorted(name for name, selected in zip(names, selections, strict=True)
                      if any(id(w.resource) in wanted for w in selected))

    def _selected_by_services(self, namespace: str) -> ServiceTargets:
        """The Services of a namespace, and the workloads each selects (built once)."""
        found = self._service_targets.get(namespace)
        if found is None:
            names, selections = [], []
            for service in self.services(namespace):
                selector = Service(service).selector
                names.append(service.name)
                selections.append(tuple(self.select_workloads(namespace, selector))
                                  if selector else ())
            found = self._service_targets[namespace] = (tuple(names), tuple(selections))
        return found

    def workloads_of_service(self, service: Resource) -> list[Workload]:
        """Workloads a Service selects (none for a selector-less Service)."""
        selector = Service(service).selector
        if not selector or service.namespace is None:
            return []
        return self.select_workloads(service.namespace, selector)

    # --- hosts and targetRefs ------------------------------------------------------------

    def resolve_host(self, host: str, namespace: str) -> tuple[str, str] | None:
        """Map a mesh host name (short, ``name.ns``, FQDN) to ``(namespace, service)``.

        Returns None for wildcards and hosts outside the cluster domain.
        """
        host = host.strip().lower()
        if not host or "*" in host:
            return None
        if host.endswith(CLUSTER_DOMAIN_SUFFIX):
            parts = host[: -len(CLUSTER_DOMAIN_SUFFIX)].split(".")
            return (parts[1], parts[0]) if len(parts) == 2 else None
        parts = host.split(".")
        if len(parts) == 1:
            return namespace, parts[0]
        if len(parts) == 2 and (parts[1] in self.namespace_set
                                or self.service(parts[1], parts[0])):
            return parts[1], parts[0]
        if len(parts) == 3 and parts[2] == "svc":
            return parts[1], parts[0]
        return None

    def target_services(self, resource: Resource) -> list[str]:
        """Service names a policy's ``targetRef``/``targetRefs`` name in its own namespace."""
        return Selecting(resource).targeted_services

    def has_target_refs(self, resource: Resource) -> bool:
        """True when the policy binds by ``targetRef(s)`` (waypoint/gateway attachment)."""
        return bool(Selecting(resource).target_refs)

    def is_mesh_wide(self, resource: Resource) -> bool:
        """True for a policy in the root namespace with no selector: it applies mesh-wide."""
        spec = resource.spec
        return (resource.namespace == self.root_namespace and not self.has_target_refs(resource)
                and not spec.get("selector") and not spec.get("workloadSelector"))

    def policy_services(self, resource: Resource) -> list[str]:
        """Services a workload-selecting policy affects: via targetRefs or its selector."""
        namespace = resource.namespace or self.default_namespace
        policy = Selecting(resource)
        if policy.target_refs:
            return policy.targeted_services
        match = policy.selector_labels
        if not match:
            return sorted(s.name for s in self.services(namespace))
        return self.services_of_workloads(namespace, self.select_workloads(namespace, match))

    # --- namespace facts -----------------------------------------------------------------

    def namespace_labels(self, namespace: str) -> dict[str, str]:
        """Labels of the Namespace object (empty when it is not in the input)."""
        found = self.namespace_objects.get(namespace)
        return found.labels if found is not None else {}

    def current_mode(self, namespace: str) -> Mode:
        """The data-plane mode the namespace's labels select today."""
        labels = self.namespace_labels(namespace)
        sidecar = labels.get(INJECTION_LABEL) == "enabled" or (
            REVISION_LABEL in labels and labels.get(INJECTION_LABEL) != "disabled")
        ambient = labels.get(DATAPLANE_LABEL) == "ambient"
        if sidecar and ambient:
            return Mode.CONFLICT
        if ambient:
            return Mode.AMBIENT
        if sidecar:
            return Mode.SIDECAR
        return Mode.NONE

    def waypoints(self, namespace: str | None = None) -> list[Resource]:
        """Gateway API Gateways of class ``istio-waypoint``."""
        return [g for g in self.of_kind("Gateway", namespace, group=GATEWAY_API)
                if as_str(g.spec.get("gatewayClassName")) == WAYPOINT_CLASS]

    def istio_gateways(self, namespace: str | None = None) -> list[Resource]:
        """Istio ``networking.istio.io`` Gateways."""
        return self.of_kind("Gateway", namespace, group=ISTIO_NETWORKING)


def is_istiod(workload: Workload) -> bool:
    """The control plane: ``istiod`` or ``istiod-<revision>``, or pods labelled app=istiod."""
    name = workload.resource.name
    return (name == ISTIOD_NAME or name.startswith(f"{ISTIOD_NAME}-")
            or workload.pod_labels.get("app") == ISTIOD_NAME)


def _sort_key(resource: Resource) -> tuple[str, str, str, str, int]:
    return (resource.namespace or "", resource.kind, resource.name, resource.file or "",
            resource.line or 0)


def _kind(resource: Resource) -> str:
    return resource.kind


def _name(resource: Resource) -> str:
    return resource.name
