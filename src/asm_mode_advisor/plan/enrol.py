"""Enrolment manifests: namespace labels and pod templates without sidecar settings.

Also NetworkPolicies that let HBONE and the kubelet probe address through (M-ONBOARDING).
"""

from __future__ import annotations

from typing import Any

from asm_mode_advisor.domain import (
    DATAPLANE_LABEL,
    HBONE_PORT,
    INJECT_KEY,
    INJECTION_LABEL,
    REVISION_LABEL,
    SIDECAR_ONLY_ANNOTATIONS,
    USE_WAYPOINT_LABEL,
    is_gateway_pod,
)
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.kinds import pod_template_path
from asm_mode_advisor.model import Resource, as_dict, as_int, as_str, dicts
from asm_mode_advisor.plan.model import ManualItem
from asm_mode_advisor.plan.objects import clean_copy, set_path
from asm_mode_advisor.rules.waypoint_effects import INGRESS_USE_WAYPOINT_LABEL

PROBE_SNAT_CIDR = "169.254.7.127/32"
#: Kinds whose pod template can be edited in place (a Job's or a Pod's cannot), and where
#: the template's metadata sits.
TEMPLATE_PATHS: dict[str, tuple[str, ...]] = {
    kind: (*pod_template_path(kind), "metadata")
    for kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController",
                 "CronJob")}


def namespace_object(inventory: Inventory, namespace: str,
                     waypoint: str | None) -> dict[str, Any]:
    """The Namespace labelled for ambient (and a waypoint), without injection labels."""
    found = inventory.namespace_objects.get(namespace)
    body = clean_copy(found) if found is not None else {
        "apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}}
    labels = set_path(body, ("metadata", "labels"))
    for key in (INJECTION_LABEL, REVISION_LABEL):
        labels.pop(key, None)
    labels[DATAPLANE_LABEL] = "ambient"
    if waypoint is not None:
        labels[USE_WAYPOINT_LABEL] = waypoint
    return body


def labelled_service(service: Resource, waypoint: str | None, ingress: bool) -> dict[str, Any]:
    """A Service bound to its own waypoint and/or letting ingress traffic through the waypoint.

    Without ``istio.io/ingress-use-waypoint`` an ingress gateway skips the waypoint
    (U-INGRESS-WAYPOINT).
    """
    body = clean_copy(service)
    labels = set_path(body, ("metadata", "labels"))
    if waypoint is not None:
        labels[USE_WAYPOINT_LABEL] = waypoint
    if ingress:
        labels[INGRESS_USE_WAYPOINT_LABEL] = "true"
    return body


def sidecar_only(annotations: dict[str, Any]) -> list[str]:
    """Pod-template annotation keys only an injected sidecar reads (AMA404's list)."""
    return sorted(k for k in annotations if k.startswith(SIDECAR_ONLY_ANNOTATIONS))


def clean_template(metadata: dict[str, Any]) -> list[str]:
    """Strip injection overrides and sidecar-only annotations; say what changed."""
    changes = []
    labels = as_dict(metadata.get("labels"))
    annotations = as_dict(metadata.get("annotations"))
    for where in (labels, annotations):
        value = where.pop(INJECT_KEY, None)
        if value is None:
            continue
        changes.append(f"removed {INJECT_KEY}={value}")
        if as_str(value).lower() == "false":
            set_path(metadata, ("labels",))[DATAPLANE_LABEL] = "none"
            changes.append(f"kept the pods out of the mesh with {DATAPLANE_LABEL}=none")
    removed = sidecar_only(annotations)
    for key in removed:
        annotations.pop(key)
    if removed:
        changes.append(f"removed sidecar-only annotation(s) {', '.join(removed)}")
    if "annotations" in metadata and not annotations:
        metadata.pop("annotations")
    return changes


def workload_updates(inventory: Inventory,
                     namespace: str) -> tuple[list[dict[str, Any]], list[Resource],
                                              list[ManualItem]]:
    """Workloads whose pod templates must lose sidecar settings, as manifests.

    Istio gateways are left as they are: their Envoy *is* the injected proxy (the
    ``gateway`` injection template), and they run it in either mode.
    """
    updated, originals, manual = [], [], []
    for workload in inventory.workloads(namespace):
        if is_gateway_pod(workload.pod_labels, workload.pod_annotations):
            continue
        resource = workload.resource
        path = TEMPLATE_PATHS.get(resource.kind)
        body = clean_copy(resource)
        if path is None:
            probe: dict[str, Any] = {"labels": dict(workload.pod_labels),
                                     "annotations": dict(workload.pod_annotations)}
            changes = clean_template(probe)
            if changes:
                manual.append(ManualItem(
                    object=resource.ref, reason=f"pod template is immutable; recreate it "
                    f"with: {'; '.join(changes)}", rows=["M-ONBOARDING"]))
            continue
        if clean_template(set_path(body, path)):
            updated.append(body)
            originals.append(resource)
    return updated, originals, manual


def _allows_hbone(ports: list[dict[str, Any]]) -> bool:
    for port in ports:
        number, end = as_int(port.get("port")), as_int(port.get("endPort"))
        protocol = as_str(port.get("protocol")).upper() or "TCP"
        if protocol == "TCP" and (port.get("port") is None or number == HBONE_PORT or (
                number is not None and end is not None and number <= HBONE_PORT <= end)):
            return True
    return False


def _add_hbone(rules: list[dict[str, Any]]) -> bool:
    changed = False
    for rule in rules:
        ports = dicts(rule.get("ports"))
        if ports and not _allows_hbone(ports):
            rule["ports"] = [*ports, {"protocol": "TCP", "port": HBONE_PORT}]
            changed = True
    return changed


def _allows_probes(rules: list[dict[str, Any]]) -> bool:
    for rule in rules:
        peers = dicts(rule.get("from"))
        if not peers and not rule.get("ports"):
            return True  # allows every source
        if any(as_str(as_dict(p.get("ipBlock")).get("cidr")) == PROBE_SNAT_CIDR for p in peers):
            return True
    return False


def patch_network_policy(body: dict[str, Any]) -> bool:
    """Allow HBONE (TCP 15008) both ways and the probe SNAT address inbound, in place."""
    spec = set_path(body, ("spec",))
    types = [as_str(t) for t in spec.get("policyTypes") or ["Ingress"]]
    changed = False
    for direction, key in (("Ingress", "ingress"), ("Egress", "egress")):
        if direction in types:
            rules = dicts(spec.get(key))
            changed |= _add_hbone(rules)
            if direction == "Ingress" and not _allows_probes(rules):
                rules.append({"from": [{"ipBlock": {"cidr": PROBE_SNAT_CIDR}}]})
                changed = True
            if key in spec or rules:
                spec[key] = rules
    return changed


def network_policy_updates(inventory: Inventory,
                           namespace: str) -> tuple[list[dict[str, Any]], list[Resource]]:
    """NetworkPolicies of a namespace that need HBONE or the probe address added."""
    updated, originals = [], []
    for policy in inventory.of_kind("NetworkPolicy", namespace):
        body = clean_copy(policy)
        if patch_network_policy(body):
            updated.append(body)
            originals.append(policy)
    return updated, originals
