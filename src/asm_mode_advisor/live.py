"""Live facts a cluster has and manifests lack: modes seen on pods, mesh version, ztunnel.

Pure functions over the inventory (built from cluster resources); the result goes into
``Report.cluster`` as plain, sorted data.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from asm_mode_advisor.domain import has_sidecar
from asm_mode_advisor.inventory import Inventory, pod_template
from asm_mode_advisor.matrix import parse_version
from asm_mode_advisor.model import Mode, Resource, as_str, dicts

AMBIENT_REDIRECTION = "ambient.istio.io/redirection"
#: Namespaces where istiod runs: upstream Istio and ASM's in-cluster control plane.
CONTROL_PLANE_NAMESPACES = ("istio-system", "asm-system")
ISTIOD_NAMES = ("istiod", "pilot")
ZTUNNEL = "ztunnel"


def pod_mode(pod: Resource) -> Mode:
    """What a running pod shows: an injected sidecar, ambient redirection, or neither."""
    if has_sidecar(pod):
        return Mode.SIDECAR
    if pod.annotations.get(AMBIENT_REDIRECTION) == "enabled":
        return Mode.AMBIENT
    return Mode.NONE


def pods_mode(counts: Counter[Mode]) -> str:
    """One word for a namespace's pods: sidecar, ambient, mixed or none."""
    meshed = {mode for mode in (Mode.SIDECAR, Mode.AMBIENT) if counts[mode]}
    if len(meshed) == 2:
        return "mixed"
    return meshed.pop().value if meshed else Mode.NONE.value


def namespace_facts(inventory: Inventory, namespace: str) -> dict[str, Any]:
    """Mode by labels and by pods, and the pods that still need a restart."""
    pods = inventory.of_kind("Pod", namespace)
    modes = {pod.name: pod_mode(pod) for pod in pods}
    counts = Counter(modes.values())
    label_mode = inventory.current_mode(namespace)
    stale = sorted(name for name, mode in modes.items() if mode is Mode.SIDECAR) if (
        label_mode is Mode.AMBIENT) else []
    return {
        "modeFromLabels": label_mode.value,
        "modeFromPods": pods_mode(counts),
        "pods": {"total": len(pods), "sidecar": counts[Mode.SIDECAR],
                 "ambient": counts[Mode.AMBIENT]},
        "podsNeedingRestart": stale,
    }


def image_tag(image: str) -> str:
    """The tag of an image reference (``""`` when it has none or only a digest)."""
    image = image.split("@", 1)[0]
    name, _, tag = image.rpartition(":")
    return tag if name and "/" not in tag else ""


def detected_mesh_version(resources: Iterable[Resource]) -> str | None:
    """The istiod image tag in a control-plane namespace, when it parses as a version."""
    deployments = sorted((r for r in resources if r.kind == "Deployment"
                          and r.namespace in CONTROL_PLANE_NAMESPACES
                          and r.name.startswith(ISTIOD_NAMES)),
                         key=lambda r: (CONTROL_PLANE_NAMESPACES.index(r.namespace or ""),
                                        r.name))
    for deployment in deployments:
        _, template = pod_template(deployment)
        for container in dicts(template.get("containers")):
            tag = image_tag(as_str(container.get("image")))
            if parse_version(tag) is not None:
                return tag
    return None


def ztunnel(inventory: Inventory) -> list[str]:
    """``namespace/name`` of every ztunnel DaemonSet."""
    return sorted(f"{d.namespace}/{d.name}" for d in inventory.of_kind("DaemonSet")
                  if d.name == ZTUNNEL or d.labels.get("app") == ZTUNNEL)


def cluster_facts(inventory: Inventory, namespaces: list[str]) -> dict[str, Any]:
    """Cluster-wide and per-namespace live facts for ``Report.cluster``."""
    return {
        "namespaces": {ns: namespace_facts(inventory, ns) for ns in sorted(namespaces)},
        "waypoints": sorted(f"{w.namespace}/{w.name}" for w in inventory.waypoints()),
        "ztunnel": ztunnel(inventory),
        "ztunnelPresent": bool(ztunnel(inventory)),
    }


def resolve_mesh_version(override: str | None, detected: str | None,
                         default: str) -> tuple[str, str]:
    """``(version, where it came from)``: ``--mesh-version``, the istiod image, or the default."""
    if override is not None:
        return override, "--mesh-version"
    if detected is not None:
        return detected, "istiod image"
    return default, "default"
