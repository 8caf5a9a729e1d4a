"""Light type checks of the fields the rules read, so wrong types are reported, not guessed.

Only fields the advisor relies on are checked; Kubernetes' own validation stays with the API
server. A path is a tuple of keys where ``"*"`` walks every item of a list.
"""

from __future__ import annotations

from typing import Any

from asm_mode_advisor.kinds import WORKLOAD_KINDS

_NUMBER = (int,)
_TEXT = (str,)
_FLAG = (bool,)
_LIST = (list,)
_MAP = (dict,)
_PORT = (int, str)

Check = tuple[tuple[str, ...], tuple[type, ...]]

_POD_SPEC: tuple[Check, ...] = (
    (("containers",), _LIST),
    (("containers", "*"), _MAP),
    (("containers", "*", "name"), _TEXT),
    (("containers", "*", "ports"), _LIST),
    (("containers", "*", "ports", "*", "containerPort"), _NUMBER),
    (("initContainers",), _LIST),
    (("hostNetwork",), _FLAG),
)


def _pod_template_checks(prefix: tuple[str, ...]) -> tuple[Check, ...]:
    return (
        ((*prefix, "template"), _MAP),
        ((*prefix, "template", "metadata", "labels"), _MAP),
        ((*prefix, "template", "metadata", "annotations"), _MAP),
        ((*prefix, "template", "spec"), _MAP),
        *(((*prefix, "template", "spec", *path), types) for path, types in _POD_SPEC),
    )


_SPEC = ("spec",)
CHECKS: dict[str, tuple[Check, ...]] = {
    "Pod": tuple(((*_SPEC, *path), types) for path, types in _POD_SPEC),
    "Deployment": ((("spec", "replicas"), _NUMBER), *_pod_template_checks(_SPEC)),
    "StatefulSet": ((("spec", "replicas"), _NUMBER), *_pod_template_checks(_SPEC)),
    "ReplicaSet": ((("spec", "replicas"), _NUMBER), *_pod_template_checks(_SPEC)),
    "ReplicationController": ((("spec", "replicas"), _NUMBER), *_pod_template_checks(_SPEC)),
    "DaemonSet": _pod_template_checks(_SPEC),
    "Job": _pod_template_checks(_SPEC),
    "CronJob": ((("spec", "jobTemplate"), _MAP),
                *_pod_template_checks(("spec", "jobTemplate", "spec"))),
    "Service": (
        (("spec", "selector"), _MAP),
        (("spec", "ports"), _LIST),
        (("spec", "ports", "*"), _MAP),
        (("spec", "ports", "*", "port"), _NUMBER),
        (("spec", "ports", "*", "targetPort"), _PORT),
        (("spec", "ports", "*", "name"), _TEXT),
    ),
    "VirtualService": (
        (("spec", "hosts"), _LIST),
        (("spec", "hosts", "*"), _TEXT),
        (("spec", "gateways"), _LIST),
        (("spec", "gateways", "*"), _TEXT),
        (("spec", "http"), _LIST),
        (("spec", "tcp"), _LIST),
        (("spec", "tls"), _LIST),
    ),
    "DestinationRule": ((("spec", "host"), _TEXT), (("spec", "trafficPolicy"), _MAP)),
    "AuthorizationPolicy": (
        (("spec", "action"), _TEXT),
        (("spec", "rules"), _LIST),
        (("spec", "rules", "*"), _MAP),
        (("spec", "selector"), _MAP),
        (("spec", "targetRefs"), _LIST),
    ),
    "RequestAuthentication": ((("spec", "selector"), _MAP), (("spec", "jwtRules"), _LIST)),
    "PeerAuthentication": ((("spec", "mtls"), _MAP), (("spec", "portLevelMtls"), _MAP)),
    "EnvoyFilter": ((("spec", "workloadSelector"), _MAP), (("spec", "configPatches"), _LIST)),
    "NetworkPolicy": ((("spec", "podSelector"), _MAP), (("spec", "ingress"), _LIST),
                      (("spec", "egress"), _LIST)),
}


def _walk(value: Any, path: tuple[str, ...], trail: str) -> list[tuple[str, Any]]:
    """Values found at ``path`` under ``value``, each with its dotted location."""
    if not path:
        return [(trail, value)]
    head, rest = path[0], path[1:]
    if head == "*":
        if not isinstance(value, list):
            return []
        found = []
        for index, item in enumerate(value):
            found.extend(_walk(item, rest, f"{trail}[{index}]"))
        return found
    if not isinstance(value, dict) or head not in value:
        return []
    return _walk(value[head], rest, f"{trail}.{head}" if trail else head)


def _type_name(types: tuple[type, ...]) -> str:
    names = {int: "a number", str: "a string", bool: "true or false", list: "a list",
             dict: "a mapping"}
    return " or ".join(names[t] for t in types)


def type_errors(kind: str, group: str, body: dict[str, Any]) -> list[str]:
    """One message per checked field of ``body`` whose value has the wrong type."""
    checks = CHECKS.get(kind)
    if checks is None or (kind == "Gateway" and group != "networking.istio.io"):
        return []
    errors = []
    for path, types in ((("spec",), _MAP), *checks):
        for where, value in _walk(body, path, ""):
            if value is None:
                continue
            # bool is an int in Python; a "true" replica count is still wrong.
            wrong = not isinstance(value, types) or (
                isinstance(value, bool) and bool not in types)
            if wrong:
                errors.append(f"'{where}' must be {_type_name(types)}, "
                              f"not {type(value).__name__} {value!r:.40}")
    return errors


__all__ = ["CHECKS", "WORKLOAD_KINDS", "type_errors"]
