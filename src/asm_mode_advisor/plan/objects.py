"""Plain-object helpers for plan manifests: clean copies, delete stubs, waypoint Gateways."""

from __future__ import annotations

import copy
from typing import Any

from asm_mode_advisor.domain import HBONE_PORT, WAYPOINT_CLASS, WAYPOINT_FOR_LABEL
from asm_mode_advisor.kinds import GATEWAY_API
from asm_mode_advisor.model import Resource, as_dict

#: Server-set metadata that must not be applied back.
SERVER_FIELDS = ("uid", "resourceVersion", "generation", "creationTimestamp", "managedFields",
                 "selfLink", "deletionTimestamp", "deletionGracePeriodSeconds")
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"


def clean_copy(resource: Resource) -> dict[str, Any]:
    """A deep copy of the body without status or server-set metadata, namespace filled in."""
    body = copy.deepcopy(resource.body)
    body.pop("status", None)
    metadata = as_dict(body.get("metadata"))
    for key in SERVER_FIELDS:
        metadata.pop(key, None)
    annotations = as_dict(metadata.get("annotations"))
    annotations.pop(LAST_APPLIED, None)
    if "annotations" in metadata and not annotations:
        metadata.pop("annotations")
    if resource.namespace is not None:
        metadata["namespace"] = resource.namespace
    body["metadata"] = metadata
    return body


def delete_stub(resource: Resource) -> dict[str, Any]:
    """What ``kubectl delete -f`` needs: apiVersion, kind, name and namespace."""
    metadata: dict[str, Any] = {"name": resource.name}
    if resource.namespace is not None:
        metadata["namespace"] = resource.namespace
    return {"apiVersion": resource.api_version, "kind": resource.kind, "metadata": metadata}


def set_path(body: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    """The mapping at ``keys`` inside ``body``, created (or replaced if not a mapping)."""
    node = body
    for key in keys:
        child = node.get(key)
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    return node


def waypoint_gateway(name: str, namespace: str, traffic: str) -> dict[str, Any]:
    """A waypoint: Gateway API Gateway of class istio-waypoint with the HBONE listener."""
    return {
        "apiVersion": f"{GATEWAY_API}/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": namespace,
                     "labels": {WAYPOINT_FOR_LABEL: traffic}},
        "spec": {"gatewayClassName": WAYPOINT_CLASS,
                 "listeners": [{"name": "mesh", "port": HBONE_PORT, "protocol": "HBONE"}]},
    }


def service_ref(name: str) -> dict[str, Any]:
    """A ``targetRefs``/``parentRefs`` entry naming a core Service."""
    return {"kind": "Service", "group": "", "name": name}


def gateway_ref(name: str) -> dict[str, Any]:
    """A ``targetRefs`` entry naming a waypoint Gateway."""
    return {"kind": "Gateway", "group": GATEWAY_API, "name": name}
