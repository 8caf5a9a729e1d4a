"""Telemetry: tracing and HTTP access logs need a waypoint in ambient; metrics do not."""

from __future__ import annotations

from collections.abc import Iterator

from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.model import as_dict, dicts
from asm_mode_advisor.rules._base import Context, Finding, Rule

L7_TELEMETRY = Rule(
    id="AMA120", name="l7-telemetry",
    title="Telemetry with tracing or access logging needs a waypoint",
    need="l7-observability", kinds=("Telemetry",),
    rationale=(
        "Ztunnel reports L4 data only (addresses, ports, bytes). Distributed tracing and full "
        "HTTP request logs come from a waypoint in ambient, and the waypoint reads Telemetry "
        "only through `targetRefs`. Metrics-only Telemetry is not affected."),
    triggers=("""
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: tracing, namespace: shop}
spec:
  tracing:
  - providers: [{name: otel}]
    randomSamplingPercentage: 10
""",),
    passes=("""
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: metrics, namespace: shop}
spec:
  metrics:
  - providers: [{name: prometheus}]
""",),
)

RULES = (L7_TELEMETRY,)


def detect_telemetry(inventory: Inventory, _: Context) -> Iterator[Finding]:
    """Telemetry objects that configure tracing or access logging."""
    for telemetry in inventory.of_kind("Telemetry"):
        used = [key for key in ("tracing", "accessLogging") if dicts(telemetry.spec.get(key))
                or as_dict(telemetry.spec.get(key))]
        if not used:
            continue
        label = " and ".join("tracing" if k == "tracing" else "access logging" for k in used)
        mesh_wide = inventory.is_mesh_wide(telemetry)
        scope = [] if mesh_wide else inventory.policy_services(telemetry)
        where = " for the whole mesh" if mesh_wide else ""
        yield L7_TELEMETRY.finding(telemetry, f"{telemetry.ref} configures {label}{where}",
                                   services=scope, path=("spec", used[0]), mesh_wide=mesh_wide)


DETECTORS = (detect_telemetry,)
