"""Drop the parts of object bodies no rule reads, as each object is read.

Parsed YAML costs about ten times its text in Python objects, and most of a manifest is
bulk no rule looks at: container environments, resources, probes and volumes, ConfigMap
data, CRD schemas, Secret data, server-side status. ``analyze`` and ``scan`` slim every body
right after it is validated, so the peak memory of a run follows what the rules need, not
what the files hold; Secret data is never kept. ``plan`` keeps whole bodies because it
writes manifests back.

Of a ``spec``, the lists below say what is dropped rather than what is kept, so a rule that
starts reading a new field of an analysed kind still finds it; ``tests/test_slim.py`` checks
that slimming changes no report on the examples, the rules' own examples and the shared
corpus.
"""

from __future__ import annotations

import hashlib
from typing import Any

from asm_mode_advisor.kinds import KNOWN_KINDS, WORKLOAD_KINDS, pod_template_path
from asm_mode_advisor.model import Resource

#: Kinds whose bodies the rules read; other kinds keep no body at all (their identity,
#: labels and annotations stay on the Resource).
ANALYSED_KINDS = frozenset(info.kind for info in KNOWN_KINDS)

#: Pod-spec fields no rule reads (scheduling, volumes, security and DNS settings).
POD_BULK = frozenset({
    "volumes", "affinity", "tolerations", "nodeSelector", "topologySpreadConstraints",
    "imagePullSecrets", "dnsConfig", "dnsPolicy", "hostAliases", "readinessGates",
    "securityContext", "priorityClassName", "priority", "schedulerName", "overhead",
    "resourceClaims", "schedulingGates", "terminationGracePeriodSeconds", "enableServiceLinks",
    "preemptionPolicy", "runtimeClassName", "os", "hostname", "subdomain",
    "activeDeadlineSeconds", "automountServiceAccountToken", "setHostnameAsFQDN",
})

#: Container fields no rule reads (names, images and ports are kept).
CONTAINER_BULK = frozenset({
    "env", "envFrom", "resources", "volumeMounts", "volumeDevices", "args", "command",
    "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "securityContext",
    "workingDir", "terminationMessagePath", "terminationMessagePolicy", "imagePullPolicy",
    "stdin", "stdinOnce", "tty", "resizePolicy",
})

CONTAINER_LISTS = ("containers", "initContainers", "ephemeralContainers")

#: Controller spec fields no rule reads: how many pods and how they roll out or run to
#: completion. Dropping them lets one app's controllers share a body across namespaces,
#: where they differ in little else (a CronJob's ``schedule`` is read, so it stays).
CONTROLLER_BULK = frozenset({
    "replicas", "strategy", "updateStrategy", "revisionHistoryLimit", "minReadySeconds",
    "progressDeadlineSeconds", "paused", "podManagementPolicy", "volumeClaimTemplates",
    "persistentVolumeClaimRetentionPolicy", "ordinals", "completions", "parallelism",
    "backoffLimit", "backoffLimitPerIndex", "maxFailedIndexes", "podFailurePolicy",
    "successPolicy", "ttlSecondsAfterFinished", "completionMode", "suspend",
    "podReplacementPolicy", "activeDeadlineSeconds", "concurrencyPolicy",
    "successfulJobsHistoryLimit", "failedJobsHistoryLimit", "startingDeadlineSeconds",
    "timeZone",
})


#: Structures seen so far in this process's read (see :func:`share`); emptied after a read.
_SEEN: dict[int, Any] = {}


def slim_and_share(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """:func:`slim` ``body``, then the equal body read before, if any, else ``body``.

    Once slimmed, bodies are mostly alike (one chart's Deployment in every namespace
    differs only in its metadata, which the Resource holds), so whole bodies are shared too.
    """
    slim(kind, body)
    shared: dict[str, Any] = share(body, _SEEN)
    return shared


def share_map(mapping: dict[str, str]) -> dict[str, str]:
    """The equal labels or annotations read before, if any, else ``mapping``.

    One app's labels repeat in every namespace it is deployed to (``app: web``), and a
    Service's labels are often its selector; each is kept once.
    """
    if not mapping:
        return mapping
    shared: dict[str, str] = share(mapping, _SEEN)
    return shared


def share_across_chunks(resources: list[Resource], table: dict[bytes, dict[str, Any]]) -> None:
    """Give ``resources`` (one parse worker's chunk) the equal bodies of earlier chunks.

    Each worker shares bodies only within its own chunk, so without this every chunk would
    keep its own copy of one chart's Deployment. ``table`` maps a digest of a body's
    ``repr`` (exact: key order and ``1`` against ``True`` both show) to its first copy.
    """
    digests: dict[int, dict[str, Any]] = {}
    for resource in resources:
        body = resource.body
        shared = digests.get(id(body))
        if shared is None:
            try:
                text = repr(body)
            except RecursionError:  # nested too deeply to write out: kept unshared
                text = ""
            shared = digests[id(body)] = table.setdefault(
                hashlib.blake2b(text.encode(), digest_size=16).digest(), body) if text else body
        if shared is not body:
            # The resource is fresh from the worker's pickle and nothing else holds it yet.
            object.__setattr__(resource, "body", shared)


def forget_shared() -> None:
    """End of a read: later reads must not reuse (or keep alive) this one's structures."""
    _SEEN.clear()


def slim(kind: str, body: dict[str, Any]) -> None:
    """Drop, in place, what no rule reads of ``body`` (an object of ``kind``).

    Rules read an object's identity, labels and annotations from the Resource, so of the
    body only ``spec`` (for analysed kinds) and the owner references stay.
    """
    metadata = body.get("metadata")
    owners = metadata.get("ownerReferences") if isinstance(metadata, dict) else None
    keep = "spec" if kind in ANALYSED_KINDS else None
    for key in [key for key in body if key != keep]:
        del body[key]
    if owners is not None:
        body["metadata"] = {"ownerReferences": owners}
    if kind in WORKLOAD_KINDS:
        pod_spec = _pod_spec(kind, body)
        if pod_spec is not None:
            _slim_pod_spec(pod_spec)
        if kind != "Pod":
            _slim_controller_specs(kind, body)


def _slim_controller_specs(kind: str, body: dict[str, Any]) -> None:
    """Drop :data:`CONTROLLER_BULK` from the controller's spec (and a CronJob's job spec)."""
    node: Any = body
    for key in pod_template_path(kind)[:-1]:  # every "spec" above the pod template
        node = node.get(key) if isinstance(node, dict) else None
        if key == "spec" and isinstance(node, dict):
            for field in CONTROLLER_BULK.intersection(node):
                del node[field]


def _pod_spec(kind: str, body: dict[str, Any]) -> dict[str, Any] | None:
    node: Any = body
    for key in (*pod_template_path(kind), "spec"):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, dict) else None


def _slim_pod_spec(pod_spec: dict[str, Any]) -> None:
    for key in POD_BULK.intersection(pod_spec):
        del pod_spec[key]
    for name in CONTAINER_LISTS:
        containers = pod_spec.get(name)
        if isinstance(containers, list):
            for container in containers:
                if isinstance(container, dict):
                    for key in CONTAINER_BULK.intersection(container):
                        del container[key]


_ATOMS = (str, int, float, bool, type(None))


#: Structures nested deeper than this are left unshared (no manifest needs more, and the
#: walk is recursive).
MAX_SHARE_DEPTH = 64


def share(value: Any, table: dict[int, Any], depth: int = 0) -> Any:
    """``value`` with equal mappings and lists replaced by one shared copy (bottom-up).

    Manifests repeat small structures everywhere (an app's labels are its selector, its
    template labels and its Service selector; one chart renders the same ports and
    annotations in every namespace), so after slimming each is kept once. ``table`` maps a
    structure's hash to its first copy; a copy is only shared when the two are really alike
    (same keys in the same order, same types), so ``1`` never stands in for ``True``.
    Shared structures must not be changed afterwards; nothing in analysis writes to bodies.
    """
    if depth > MAX_SHARE_DEPTH:
        return value
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, dict | list):
                value[key] = share(item, table, depth + 1)
        signature = hash(("m", *((key, item.__class__, item) if isinstance(item, _ATOMS)
                                 else (key, id(item)) for key, item in value.items())))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            if isinstance(item, dict | list):
                value[index] = share(item, table, depth + 1)
        signature = hash(("s", *((item.__class__, item) if isinstance(item, _ATOMS)
                                 else id(item) for item in value)))
    else:
        return value
    found = table.get(signature)
    if found is None:
        table[signature] = value
        return value
    return found if _alike(found, value) else value


def _alike(first: Any, second: Any) -> bool:
    """Equal with the same types and key order; children compared by identity (shared)."""
    if first.__class__ is not second.__class__ or len(first) != len(second):
        return False
    pairs = (zip(first.items(), second.items(), strict=True) if isinstance(first, dict)
             else (((0, a), (0, b)) for a, b in zip(first, second, strict=True)))
    for (key_a, a), (key_b, b) in pairs:
        if key_a != key_b or key_a.__class__ is not key_b.__class__:
            return False
        if a is b:
            continue
        if not isinstance(a, _ATOMS) or a.__class__ is not b.__class__ or a != b:
            return False
    return True
