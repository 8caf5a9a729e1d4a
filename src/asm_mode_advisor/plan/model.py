"""The Plan: what ``asm-advisor plan`` writes, as one pydantic model (JSON and PLAN.md)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# Re-exported: the plan's JSON carries the estimator's values as they are.
from asm_mode_advisor.costs import ProxyRequests as ProxyRequests
from asm_mode_advisor.costs import WorkloadProxy as WorkloadProxy
from asm_mode_advisor.jsonstream import dumps
from asm_mode_advisor.report import ErrorEntry, Tool

PLAN_SCHEMA_VERSION = "1"
FileAction = Literal["apply", "delete", "rollback"]


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True,
                              extra="forbid")


class Manifest(_Model):
    """One YAML file of the plan: where it goes, how it is used, and its objects."""

    path: str
    action: FileAction
    step: int
    objects: list[dict[str, Any]]


class ManualItem(_Model):
    """Something the plan cannot do mechanically: the object, why, and the rows it rests on."""

    object: str
    reason: str
    rows: list[str] = Field(default_factory=list)


class Step(_Model):
    """One numbered step: what it does, files to apply, commands, checks and the way back."""

    number: int
    title: str
    actions: list[str] = Field(default_factory=list)
    apply: list[str] = Field(default_factory=list)
    commands: list[str] = Field(default_factory=list)
    verify: list[str] = Field(default_factory=list)
    rollback: list[str] = Field(default_factory=list)


class PlannedWaypoint(_Model):
    """A waypoint the plan deploys (or reuses): name, traffic type, bound services."""

    name: str
    for_: Literal["service", "workload", "all"] = Field(alias="for")
    services: list[str] = Field(default_factory=list)
    bound_by: Literal["namespace", "service"] = "namespace"
    exists: bool = False


class Latency(_Model):
    """Latency per hop and L7 parses per request, before and after, for a set of services."""

    hop: Literal["ambient", "ambient-waypoint"]
    services: list[str] = Field(default_factory=list)
    before_ms: tuple[float, float]
    after_ms: tuple[float, float]
    l7_parses_before: int
    l7_parses_after: int


class NamespaceEstimate(_Model):
    """Proxy cost and latency of one namespace, sidecar mode against the planned mode."""

    sidecars: ProxyRequests
    waypoints: ProxyRequests
    workloads: list[WorkloadProxy] = Field(default_factory=list)
    latency: list[Latency] = Field(default_factory=list)
    rows: list[str] = Field(default_factory=list)
    #: The namespace's share of ztunnel plus its waypoints against its sidecars: the very
    #: line ``analyze`` prints among the namespace's benefits.
    comparison: str = ""
    #: With ``--prometheus``: what the measured load costs in proxies (Istio's figures).
    at_measured_load: str | None = None


class NamespacePlan(_Model):
    """The migration plan of one namespace recommended for ambient or ambient-waypoint."""

    name: str
    current_mode: str
    recommendation: str
    waypoints: list[PlannedWaypoint] = Field(default_factory=list)
    steps: list[Step]
    manual: list[ManualItem] = Field(default_factory=list)
    files: list[Manifest] = Field(default_factory=list)
    estimate: NamespaceEstimate
    #: The wave it moves in (``Plan.order``), when more than one namespace moves.
    wave: int | None = None


class StaysOnSidecar(_Model):
    """A namespace the plan leaves on sidecars: why, and what would unblock it."""

    name: str
    current_mode: str
    why: list[str]
    unblock: list[str]


class Skipped(_Model):
    """A namespace the plan does not touch, and why."""

    name: str
    reason: str


class Assumptions(_Model):
    """Every figure the estimates rest on, printed with them."""

    sidecar: ProxyRequests
    ztunnel: ProxyRequests
    waypoint: ProxyRequests
    waypoint_replicas: int
    nodes: int
    nodes_source: Literal["flag", "cluster"] = "flag"


class Totals(_Model):
    """Proxy requests over every planned namespace: sidecar mode, ambient, and the change."""

    sidecar_mode: ProxyRequests
    ztunnel: ProxyRequests
    waypoints: ProxyRequests
    ambient_mode: ProxyRequests
    change: ProxyRequests
    rows: list[str] = Field(default_factory=list)


class Wave(_Model):
    """Namespaces that move together; waves run in order."""

    number: int
    namespaces: list[str]


class MoveOrder(_Model):
    """The order of the move, from the traffic graph: callers of a waypoint's L7 policy first."""

    waves: list[Wave] = Field(default_factory=list)
    #: Why each ordered pair is ordered: "web before shop: ...".
    reasons: list[str] = Field(default_factory=list)
    #: ``[caller, callee]`` pairs that call each other round a cycle: they move together.
    together: list[list[str]] = Field(default_factory=list)
    #: Callers that stay on sidecars and will skip a moved namespace's waypoint.
    left_behind: list[str] = Field(default_factory=list)
    #: Where the calls came from: "metrics", "manifests" or "none".
    evidence: str = "none"


class Plan(_Model):
    """The whole plan: per-namespace steps and files, namespaces left alone, estimates."""

    schema_version: str = PLAN_SCHEMA_VERSION
    tool: Tool = Field(default_factory=Tool)
    mesh_version: str
    source: Literal["files", "cluster"] = "files"
    preconditions: list[str] = Field(default_factory=list)
    namespaces: list[NamespacePlan] = Field(default_factory=list)
    stays_on_sidecar: list[StaysOnSidecar] = Field(default_factory=list)
    skipped: list[Skipped] = Field(default_factory=list)
    order: MoveOrder | None = None
    assumptions: Assumptions
    totals: Totals
    errors: list[ErrorEntry] = Field(default_factory=list)

    def to_json(self) -> str:
        """Deterministic JSON: camelCase, sorted keys, no timestamps, trailing newline."""
        data = self.model_dump(by_alias=True, exclude_none=True, mode="json")
        return dumps(data) + "\n"
