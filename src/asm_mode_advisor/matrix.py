"""The Sidecar / Ambient feature matrix (product specification) as data.

Every row of ``shared/feature-matrix.md`` lives here with its stable id. Rules cite rows by
id; nothing else in the package holds matrix facts.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class RowGroup(StrEnum):
    """The three tables of the matrix."""

    MODE = "mode comparison"
    NOTE = "notes that constrain the choice"
    LAYER = "what ztunnel (L4) and waypoint (L7) can do"


class MatrixRow(BaseModel):
    """One row: for M rows the sidecar and ambient cells, for L rows the L4 and L7 cells."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    group: RowGroup
    dimension: str
    sidecar: str = ""
    ambient: str = ""
    l4: str = ""
    l7: str = ""
    note: str = ""

    def summary(self) -> str:
        """One line that states the row, for reason texts and the ``matrix`` command."""
        if self.group is RowGroup.MODE:
            return f"{self.dimension}: sidecar {self.sidecar}; ambient {self.ambient}"
        if self.group is RowGroup.LAYER:
            return f"{self.dimension}: L4 (ztunnel) {self.l4}; L7 (waypoint) {self.l7}"
        return self.note


def _m(row_id: str, dimension: str, sidecar: str, ambient: str) -> MatrixRow:
    return MatrixRow(
        id=row_id, group=RowGroup.MODE, dimension=dimension, sidecar=sidecar, ambient=ambient
    )


def _n(row_id: str, dimension: str, note: str) -> MatrixRow:
    return MatrixRow(id=row_id, group=RowGroup.NOTE, dimension=dimension, note=note)


def _l(row_id: str, dimension: str, l4: str, l7: str) -> MatrixRow:
    return MatrixRow(id=row_id, group=RowGroup.LAYER, dimension=dimension, l4=l4, l7=l7)


ROWS: tuple[MatrixRow, ...] = (
    _m("M-TRAFFIC", "Traffic management", "complete Istio feature set",
       "complete Istio feature set (requires waypoint)"),
    _m("M-SECURITY", "Security", "complete Istio feature set",
       "complete: mTLS and L4 security by default; L7 authorization requires waypoint"),
    _m("M-OBSERVABILITY", "Observability", "complete Istio feature set",
       "complete: L4 observability by default; L7 observability requires waypoint"),
    _m("M-ONBOARDING", "Onboarding",
       "add auto-injection label to the namespace and restart all pods",
       "add a label to the namespace; no pod restart"),
    _m("M-UPGRADES", "Upgrades",
       "in-place and canary upgrade; restart all pods to inject the new sidecar",
       "in-place upgrade; data plane upgrades with the control plane; no pod restart"),
    _m("M-LIFECYCLE", "Lifecycle management", "application developers manage the proxy",
       "platform administrators manage the proxy; transparent to application developers"),
    _m("M-UTILIZATION", "Resource utilization",
       "every pod runs an L7 proxy; high utilization is hard",
       "waypoints scale independently; a namespace or cluster can share one waypoint"),
    _m("M-COST", "Average resource cost", "high", "low"),
    _m("M-LATENCY", "Average latency (Istio community data)", "0.63 ms – 0.88 ms",
       "without waypoint 0.16 ms – 0.20 ms; with waypoint 0.40 ms – 0.50 ms"),
    _m("M-L7PARSING", "L7 parsing", "twice (client sidecar + server sidecar)",
       "without waypoint 0; with waypoint 1"),
    _m("M-SCALE", "Large-scale support",
       "each sidecar's configuration scope must be tuned to cut config volume",
       "no tuning; only needed configuration is delivered"),
    _m("M-SERVERFIRST", "Server-first protocols", "require explicit configuration",
       "supported by default"),
    _m("M-JOBS", "Kubernetes Jobs", "complex: the sidecar is bound to the pod lifecycle",
       "transparent"),
    _m("M-SECMODEL", "Security model", "strongest: each workload holds its own key",
       "strong: each ztunnel holds keys only for the workloads on its node"),
    _m("M-KEYEXPOSURE", "Can a compromised pod reach mesh keys?", "yes", "no"),
    _n("N-SKIPL7", "Skip L7",
       "The L4/L7 split lets a service skip L7 processing entirely when it needs no L7 "
       "feature: skip the waypoint for L4-only services to save resources and latency."),
    _n("N-MIXED", "Mixed modes",
       "Mixing sidecar and ambient in one mesh is not production-ready: pods in different "
       "modes cannot talk to each other."),
    _n("N-MULTICLUSTER", "Multi-cluster",
       "Ambient mode does not support multi-cluster management (ASM)."),
    _n("N-VERSION", "Mesh version",
       "Ambient is production-ready for single-cluster from ASM 1.25."),
    _l("L-SECURITY", "Security",
       "mTLS, ServiceAccount-based authorization, IP-based authorization",
       "HTTP-metadata authorization (method, path), JWT authentication, JWT-based "
       "authorization, OPA-based authorization"),
    _l("L-OBSERVABILITY", "Observability",
       "source/destination IP and port, bytes sent/received",
       "tracing, full HTTP request records (method, path, host, status code)"),
    _l("L-ROUTING", "Routing",
       "TCP connection-level load balancing, circuit breaking, rate limiting, timeout, retry",
       "HTTP request-level load balancing, circuit breaking, rate limiting, timeout, retry, "
       "fault injection, traffic mirroring"),
    _l("L-EXTENSIBILITY", "Extensibility", "none", "WasmPlugin"),
)

ROWS_BY_ID: dict[str, MatrixRow] = {row.id: row for row in ROWS}

#: First ASM release where ambient is production-ready for a single cluster (N-VERSION).
AMBIENT_GA_VERSION: tuple[int, int] = (1, 25)
DEFAULT_MESH_VERSION = "1.25"

#: Latency per hop class in milliseconds (M-LATENCY) and L7 parses per request (M-L7PARSING).
LATENCY_MS: dict[str, tuple[float, float]] = {
    "sidecar": (0.63, 0.88),
    "ambient": (0.16, 0.20),
    "ambient-waypoint": (0.40, 0.50),
}
L7_PARSES: dict[str, int] = {"sidecar": 2, "ambient": 0, "ambient-waypoint": 1}


def row(row_id: str) -> MatrixRow:
    """Return the row with this id; ``KeyError`` names an unknown id (a bug in a rule)."""
    return ROWS_BY_ID[row_id]


def parse_version(text: str) -> tuple[int, int] | None:
    """Parse ``1.25``, ``v1.25.3`` or ``1.25.3-asm`` into ``(major, minor)``, else None."""
    cleaned = text.strip().lstrip("vV")
    parts = cleaned.replace("-", ".").split(".")
    if len(parts) < 2 or not _number(parts[0]) or not _number(parts[1]):
        return None
    return int(parts[0]), int(parts[1])


def _number(part: str) -> bool:
    """ASCII digits only (``isdigit`` takes ``²`` too) and short enough for ``int``."""
    return part.isascii() and part.isdigit() and len(part) <= 9


def ambient_ready(mesh_version: str) -> bool:
    """True when the mesh version runs production-ready single-cluster ambient (N-VERSION)."""
    parsed = parse_version(mesh_version)
    return parsed is not None and parsed >= AMBIENT_GA_VERSION
