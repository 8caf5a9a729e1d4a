"""The needs a workload or namespace can have, and which data-plane layer serves each.

A rule's effect on the recommendation is derived from its need's support per mode, never
typed by hand: a need only a waypoint serves makes the rule ``needs-waypoint``.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, field_validator

from asm_mode_advisor.matrix import ROWS_BY_ID
from asm_mode_advisor.model import Effect


class Support(StrEnum):
    """How well a layer serves a need."""

    FULL = "full"
    COSTLY = "costly"  # works, but with explicit configuration or a per-pod price
    NONE = "none"


class Category(StrEnum):
    """Capability needs decide the mode; chores and info only shape the advice."""

    CAPABILITY = "capability"
    CHORE = "migration-chore"
    INFO = "info"


class Need(BaseModel):
    """One need: its title, matrix rows and support by sidecar, ztunnel and waypoint."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    title: str
    rows: tuple[str, ...]
    sidecar: Support = Support.FULL
    ztunnel: Support = Support.FULL
    waypoint: Support = Support.FULL
    category: Category = Category.CAPABILITY

    @field_validator("rows")
    @classmethod
    def _rows_exist(cls, rows: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [r for r in rows if r not in ROWS_BY_ID]
        if unknown:
            raise ValueError(f"unknown matrix rows: {unknown}")
        return rows

    @property
    def effect(self) -> Effect:
        """The effect on the mode, derived from support per layer."""
        if self.category is Category.CHORE:
            return Effect.MIGRATION_CHORE
        if self.category is Category.INFO:
            return Effect.INFO
        if self.ztunnel is Support.FULL:
            return Effect.FAVOURS_AMBIENT if self.sidecar is not Support.FULL else Effect.INFO
        if self.waypoint is Support.FULL:
            return Effect.NEEDS_WAYPOINT
        return Effect.BLOCKS_AMBIENT


def _l7(need_id: str, title: str, *rows: str) -> Need:
    return Need(id=need_id, title=title, rows=rows, ztunnel=Support.NONE)


def _sidecar_only(need_id: str, title: str, *rows: str) -> Need:
    return Need(id=need_id, title=title, rows=rows, ztunnel=Support.NONE,
                waypoint=Support.NONE)


def _ambient_better(need_id: str, title: str, *rows: str) -> Need:
    return Need(id=need_id, title=title, rows=rows, sidecar=Support.COSTLY)


def _other(need_id: str, title: str, category: Category, *rows: str) -> Need:
    return Need(id=need_id, title=title, rows=rows, category=category)


NEEDS: dict[str, Need] = {need.id: need for need in (
    _l7("l7-routing", "HTTP request-level routing", "L-ROUTING", "M-TRAFFIC"),
    _l7("l7-traffic-policy", "request-level load balancing and circuit breaking",
        "L-ROUTING", "M-TRAFFIC"),
    _l7("jwt-authentication", "JWT authentication", "L-SECURITY", "M-SECURITY"),
    _l7("l7-authorization", "HTTP-metadata authorization", "L-SECURITY", "M-SECURITY"),
    _l7("external-authorization", "external (OPA/ext-authz) or audit authorization",
        "L-SECURITY", "M-SECURITY"),
    _l7("l7-observability", "tracing and HTTP access logs", "L-OBSERVABILITY",
        "M-OBSERVABILITY"),
    _l7("wasm-extension", "WasmPlugin extension", "L-EXTENSIBILITY"),
    _l7("waypoint-envoyfilter", "EnvoyFilter on a waypoint", "L-EXTENSIBILITY"),
    _sidecar_only("sidecar-envoyfilter", "EnvoyFilter patching application proxies",
                  "L-EXTENSIBILITY", "M-TRAFFIC"),
    _sidecar_only("multi-cluster", "multi-cluster or multi-network mesh", "N-MULTICLUSTER"),
    _sidecar_only("vm-workloads", "VM workloads with their own sidecar", "N-MIXED",
                  "N-MULTICLUSTER"),
    _sidecar_only("mesh-version", "an ASM release with production-ready ambient",
                  "N-VERSION"),
    _sidecar_only("plaintext-peers", "plaintext (mTLS DISABLE) between mesh workloads",
                  "U-PA-DISABLE"),
    _sidecar_only("reserved-ports", "application ports that only ztunnel binds in the pod",
                  "U-ZTUNNEL-POD-PORTS"),
    _ambient_better("job-lifecycle", "Jobs that run to completion", "M-JOBS"),
    _ambient_better("server-first-protocol", "server-first protocols", "M-SERVERFIRST"),
    _ambient_better("l4-only", "L4 features only", "N-SKIPL7", "M-COST", "M-LATENCY",
                    "M-L7PARSING"),
    Need(id="l4-security", title="mTLS and L4 authorization", rows=("L-SECURITY", "M-SECURITY")),
    _other("mode-labels", "one data-plane mode per namespace", Category.CHORE, "M-ONBOARDING",
           "N-MIXED"),
    _other("sidecar-config", "sidecar-only configuration to remove", Category.CHORE,
           "M-LIFECYCLE", "M-ONBOARDING"),
    _other("hbone-port", "HBONE (TCP 15008) allowed by NetworkPolicy", Category.CHORE,
           "M-ONBOARDING"),
    _other("redundant-config", "configuration that adds nothing", Category.CHORE, "N-SKIPL7"),
    _other("ingress-routing", "routing served by the ingress gateway", Category.INFO,
           "L-ROUTING"),
    _other("l7-observability-default", "mesh-wide tracing or access logging", Category.INFO,
           "L-OBSERVABILITY", "M-OBSERVABILITY"),
    _other("mixed-modes", "one data-plane mode across namespaces that talk", Category.INFO,
           "N-MIXED"),
    _other("out-of-mesh", "traffic the mesh does not capture", Category.INFO, "M-SECURITY"),
    _other("gateway-policy", "policy applied by a gateway's own Envoy", Category.INFO,
           "U-GATEWAY-POLICY"),
    _l7("egress-l7", "routes, TLS origination or authorization for external hosts",
        "U-EGRESS-WAYPOINT", "U-ZTUNNEL-NO-L7-TRAFFIC"),
    _other("route-namespace", "routes and traffic policies in the service's namespace",
           Category.CHORE, "U-WAYPOINT-ROUTE-NAMESPACE"),
    _other("l4-locality", "locality-aware load balancing by traffic distribution",
           Category.CHORE, "U-TRAFFIC-DISTRIBUTION"),
    _other("egress-registry-only", "outbound traffic limited to registered hosts",
           Category.CHORE, "U-REGISTRY-ONLY"),
    _other("egress-gateway-routing", "egress traffic through an egress gateway",
           Category.INFO, "U-EGRESS-WAYPOINT"),
    _other("waypoint-identity", "L4 policies that see the waypoint's identity",
           Category.CHORE, "U-WAYPOINT-IDENTITY", "L-SECURITY"),
    _other("ingress-waypoint", "ingress traffic sent through the waypoint", Category.CHORE,
           "U-INGRESS-WAYPOINT"),
    _other("istio-ports", "application ports the sidecar binds in the pod", Category.CHORE,
           "U-SIDECAR-PORTS"),
    # Traffic evidence (rules/traffic.py): what the calls between namespaces say.
    _other("mixed-mode-callers", "callers that skip a waypoint's L7 policy", Category.INFO,
           "N-MIXED", "U-SIDECAR-SKIPS-WAYPOINT"),
    _other("traffic-evidence", "what measured traffic says of the configuration",
           Category.INFO, "N-SKIPL7"),
    _other("request-balancing", "request-level balancing of gRPC and HTTP/2", Category.INFO,
           "L-ROUTING"),
)}
