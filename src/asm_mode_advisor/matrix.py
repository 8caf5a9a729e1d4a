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
    #: Facts the seed matrix lacks, each from an upstream page named by ``source``.
    UPSTREAM = "upstream facts beyond the seed matrix"


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
    #: For upstream rows: the page (Istio docs or istiod source) the fact comes from.
    source: str = ""

    def summary(self) -> str:
        """One line that states the row, for reason texts and the ``matrix`` command."""
        if self.group is RowGroup.MODE:
            return f"{self.dimension}: sidecar {self.sidecar}; ambient {self.ambient}"
        if self.group is RowGroup.LAYER:
            return f"{self.dimension}: L4 (ztunnel) {self.l4}; L7 (waypoint) {self.l7}"
        if self.group is RowGroup.UPSTREAM:
            return f"{self.note} (upstream: {self.source})"
        return self.note


def _m(row_id: str, dimension: str, sidecar: str, ambient: str) -> MatrixRow:
    return MatrixRow(
        id=row_id, group=RowGroup.MODE, dimension=dimension, sidecar=sidecar, ambient=ambient
    )


def _n(row_id: str, dimension: str, note: str) -> MatrixRow:
    return MatrixRow(id=row_id, group=RowGroup.NOTE, dimension=dimension, note=note)


def _l(row_id: str, dimension: str, l4: str, l7: str) -> MatrixRow:
    return MatrixRow(id=row_id, group=RowGroup.LAYER, dimension=dimension, l4=l4, l7=l7)


def _u(row_id: str, dimension: str, note: str, source: str) -> MatrixRow:
    """An upstream row: a fact the seed matrix lacks, with the URL it comes from."""
    return MatrixRow(id=row_id, group=RowGroup.UPSTREAM, dimension=dimension, note=note,
                     source=source)


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
    # Upstream rows (id prefix U-): facts the seed lacks, each with its source URL. Keep
    # one block per concern so that rows stay easy to find.
    # -- upstream rows: enforcement of policies (security, telemetry, gateways) --
    _u("U-GATEWAY-POLICY", "Policies bound to a gateway",
       "A policy whose selector picks an ingress or egress gateway's pods, or whose targetRefs "
       "name a Gateway of a non-waypoint class, is applied by that gateway's own Envoy in "
       "sidecar and ambient mode alike; traffic from a gateway does not pass a waypoint "
       "unless the Service opts in with istio.io/ingress-use-waypoint",
       "https://istio.io/latest/docs/tasks/security/authorization/authz-ingress/"),
    _u("U-AUTHZ-ZTUNNEL", "AuthorizationPolicy on ztunnel",
       "istiod converts selector and namespace-wide AuthorizationPolicies for ztunnel: an ALLOW "
       "rule with HTTP attributes is dropped (no rule left: the selected workloads deny all "
       "traffic), a DENY rule loses its HTTP attributes and never matches when a whole clause "
       "was HTTP-only (an HTTP-only DENY has no effect), CUSTOM and AUDIT are not sent to "
       "ztunnel, and targetRefs policies reach only waypoints and gateways",
       "https://github.com/istio/istio/blob/master/pilot/pkg/serviceregistry/ambient/"
       "authorization.go"),
    _u("U-WAYPOINT-TARGETREFS", "Policies on waypoints attach by targetRefs",
       "Policies enforced by a waypoint must use targetRefs pointing to a Service or Gateway, "
       "not a pod selector: selector-based L7 policies cannot be reused as is",
       "https://istio.io/latest/docs/ambient/migrate/before-you-begin/"),
    _u("U-ENVOYFILTER-AMBIENT", "EnvoyFilter in ambient",
       "EnvoyFilter resources are not supported on waypoints; EnvoyFilters that configure "
       "sidecar proxy behaviour are silently ignored after migration and must be replaced "
       "(WasmPlugin), deleted, or treated as a blocker",
       "https://istio.io/latest/docs/ambient/migrate/migrate-policies/"),
    _u("U-PA-DISABLE", "PeerAuthentication DISABLE in ambient",
       "In ambient mode traffic between proxies is HBONE with mTLS, so PeerAuthentication "
       "DISABLE is not supported",
       "https://istio.io/latest/docs/reference/config/security/peer_authentication/"),
    # -- upstream rows: routing and egress --
    _u("U-ZTUNNEL-NO-L7-TRAFFIC", "Traffic management in ambient",
       "ztunnel is L4 only and reads no VirtualService or DestinationRule traffic policy: "
       "HTTP routing and load balancing, circuit breaking, rate limiting, fault injection, "
       "retries and timeouts need a waypoint proxy",
       "https://istio.io/latest/docs/ambient/usage/waypoint/"),
    _u("U-WAYPOINT-ROUTE-NAMESPACE", "Where a waypoint reads routes",
       "a waypoint applies only VirtualServices (and the routes converted to them) in the "
       "service's own namespace or in the waypoint's namespace; a DestinationRule is found "
       "in the waypoint's namespace, the service's namespace or the root namespace",
       "https://github.com/istio/istio/blob/master/pilot/pkg/networking/core/"
       "listener_waypoint.go"),
    _u("U-EGRESS-WAYPOINT", "Egress in ambient",
       "in ambient a waypoint acts as the egress gateway: a ServiceEntry bound to a waypoint "
       "(istio.io/use-waypoint) sends mesh traffic to that external host through it, where "
       "routes, TLS origination and authorization apply",
       "https://istio.io/latest/docs/ambient/usage/egress-gateway/"),
    _u("U-REGISTRY-ONLY", "Outbound traffic policy in ambient",
       "ztunnel does not enforce outboundTrafficPolicy mode REGISTRY_ONLY: traffic to hosts "
       "outside the registry leaves ambient pods directly",
       "https://github.com/istio/istio/issues/54281"),
    _u("U-TRAFFIC-DISTRIBUTION", "Locality-aware load balancing in ambient",
       "ztunnel prefers close endpoints (network, region, zone, subzone) for a Service, "
       "ServiceEntry or namespace annotated networking.istio.io/traffic-distribution "
       "(PreferSameZone, PreferClose) or a Service with spec.trafficDistribution",
       "https://istio.io/latest/docs/ambient/usage/traffic-distribution/"),
    _u("U-GATEWAY-ROUTES", "VirtualServices bound to gateways",
       "a VirtualService whose gateways list names gateways but not the reserved word mesh "
       "is applied only by those gateways' Envoy, never by sidecars or waypoints (omitting "
       "gateways means mesh)",
       "https://istio.io/latest/docs/reference/config/networking/virtual-service/"),
    # -- upstream rows: topology, ports and namespaces --
    _u("U-AMBIENT-EAST-WEST", "Multi-cluster signals, ambient style",
       "Upstream ambient multi-cluster (alpha; multi-primary, multi-network only) joins "
       "clusters through a Gateway API Gateway of class istio-east-west labelled "
       "topology.istio.io/network in the control-plane namespace, beside remote-cluster "
       "secrets; network labels, east-west gateways (port 15443 or class istio-east-west), "
       "remote secrets and endpoints on other networks all mark a mesh that spans clusters",
       "https://istio.io/latest/docs/ambient/install/multicluster/multi-primary_multi-network/"),
    _u("U-SIDECAR-PORTS", "Ports the sidecar binds in the pod",
       "The sidecar binds 15000, 15001, 15004, 15006, 15008, 15009, 15020, 15021, 15053 and "
       "15090 in the pod's network namespace; an application must not use them",
       "https://istio.io/latest/docs/ops/deployment/application-requirements/"
       "#ports-used-by-istio"),
    _u("U-ZTUNNEL-POD-PORTS", "Ports ztunnel binds in an ambient pod",
       "ztunnel opens listeners inside every ambient pod's network namespace on 15001, 15006, "
       "15008 and 127.0.0.1:15080 (SOCKS5), and 15053 when DNS capture is on; of these only "
       "15080 is not bound by a sidecar too",
       "https://istio.io/latest/docs/ambient/architecture/traffic-redirection/"),
    # -- upstream rows: plan (waypoint identity, ingress) --
    # -- upstream rows: traffic (calls between modes, balancing) --
    _u("U-SIDECAR-SKIPS-WAYPOINT", "Sidecar callers of a waypoint",
       "A client still on sidecars sends its calls straight to the destination, not through "
       "the destination's waypoint, so L7 policy attached to that waypoint does not apply to "
       "its calls (istio/istio#57213); the migration guide warns of an enforcement gap for L7 "
       "policies while namespaces move.",
       "https://istio.io/latest/docs/ambient/migrate/"),
    _u("U-WAYPOINT-IDENTITY", "Waypoint identity at ztunnel",
       "Traffic that passes a waypoint reaches the destination ztunnel with the waypoint's "
       "identity, not the client's: a selector or namespace-wide policy on client principals "
       "or namespaces sees the waypoint; a waypoint Gateway's service account is the Gateway's "
       "name (istio-waypoint class, no class suffix)",
       "https://istio.io/latest/docs/ambient/usage/l4-policy/"),
    _u("U-WAYPOINT-BYPASS", "Waypoint bypass",
       "A call straight to a pod skips the waypoint and its L7 policy unless a selector "
       "policy enforced by ztunnel admits only the waypoint's principal (DENY notPrincipals)",
       "https://istio.io/latest/docs/ambient/migrate/migrate-policies/"),
    _u("U-INGRESS-WAYPOINT", "Ingress through a waypoint",
       "An ingress gateway sends traffic straight to the backend pods, skipping the "
       "waypoint, unless the Service (or, from 1.25, its namespace) is labelled "
       "istio.io/ingress-use-waypoint=true",
       "https://istio.io/latest/docs/ambient/migrate/"),
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
