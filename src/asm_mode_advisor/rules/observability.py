"""Telemetry: tracing and HTTP access logs need a waypoint in ambient; metrics do not."""

from __future__ import annotations

from collections.abc import Iterator

from asm_mode_advisor.rules._base import Context, Detector, Finding, Rule, specs
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.rules.gateways import gateway_bound
from asm_mode_advisor.views import Telemetry

L7_TELEMETRY = Rule(
    id="AMA120", name="l7-telemetry",
    title="Telemetry with tracing or access logging needs a waypoint",
    need="l7-observability", kinds=("Telemetry",),
    reads=specs("Telemetry"),
    rationale=(
        "Ztunnel reports L4 data only (addresses, ports, bytes). Distributed tracing and full "
        "HTTP request logs come from a waypoint in ambient, and the waypoint reads Telemetry "
        "only through `targetRefs` (https://istio.io/latest/docs/reference/config/telemetry/). "
        "Metrics-only Telemetry is not affected, and neither is one that only switches data "
        "off (`disabled: true`, `disableSpanReporting: true`, `randomSamplingPercentage: 0`)."),
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

MESH_DEFAULT_TELEMETRY = Rule(
    id="AMA411", name="mesh-wide-l7-telemetry",
    title="Mesh-wide tracing or access logging reaches only namespaces with a waypoint",
    need="l7-observability-default", kinds=("Telemetry",),
    reads=specs("Telemetry"),
    rationale=(
        "A Telemetry in the root namespace with no selector is a mesh default, not a need of "
        "any one namespace, so it does not call for a waypoint everywhere. In ambient, "
        "namespaces without a waypoint report connections (L4) only; those that must keep "
        "HTTP traces or request logs need a waypoint and a Telemetry attached to it "
        "(https://istio.io/latest/docs/reference/config/telemetry/)."),
    triggers=("""
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: mesh-default, namespace: istio-system}
spec:
  accessLogging:
  - providers: [{name: envoy}]
""",),
)

RULES = (L7_TELEMETRY, MESH_DEFAULT_TELEMETRY)


def detect_telemetry(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Telemetry objects that configure tracing or access logging."""
    for telemetry in inventory.of_kind("Telemetry"):
        used = Telemetry(telemetry).l7_sections
        if not used or gateway_bound(inventory, telemetry) is not None:
            continue  # switches L7 data off only, or a gateway's own (AMA413)
        label = " and ".join("tracing" if k == "tracing" else "access logging" for k in used)
        if inventory.is_mesh_wide(telemetry):
            yield MESH_DEFAULT_TELEMETRY.finding(
                telemetry, f"{telemetry.ref} configures {label} for the whole mesh; in "
                           "ambient only namespaces with a waypoint keep HTTP-level data",
                path=("spec", used[0]), mesh_wide=True)
            continue
        yield L7_TELEMETRY.finding(telemetry, f"{telemetry.ref} configures {label}",
                                   services=inventory.policy_services(telemetry),
                                   path=("spec", used[0]))


DETECTORS = (Detector(detect_telemetry, (L7_TELEMETRY, MESH_DEFAULT_TELEMETRY)),)
