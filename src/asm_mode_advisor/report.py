"""The Report: the one output model every renderer takes (its JSON schema is the contract)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass

from asm_mode_advisor import __version__
from asm_mode_advisor.enforcement import Enforcement
from asm_mode_advisor.jsonstream import Lazy, dumps_fast, iter_json
from asm_mode_advisor.model import Resource

SCHEMA_VERSION = "1"
#: What suppressed a finding: an ``asm-advisor.io/ignore`` annotation or the config file.
SuppressionSource = Literal["annotation", "config"]


_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")

# The parts a report holds by the thousand (one per namespace, reason and object) are
# slotted frozen dataclasses: 72 bytes for an ObjectRef against about 1 KiB as a model,
# with the same validation, aliases and JSON; as models, they cost 39% more peak memory
# at 50k documents (docs/performance.md, "What each memory trick is worth"). The few
# whole-report parts below stay models for ``model_copy`` and ``model_validate_json``.
# ``dataclasses.replace`` changes a copy. Fields are declared in reading order (identity,
# then verdict, then reasons); the JSON writer sorts keys (:func:`verdict_json`).


class _Model(BaseModel):
    model_config = ConfigDict(**_CONFIG, frozen=True)


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class ObjectRef:
    """An object behind a reason: identity plus file and line, or ``source: cluster``."""

    kind: str
    namespace: str | None = None
    name: str
    file: str | None = None
    line: int | None = None
    source: Literal["cluster"] | None = None

    @classmethod
    def of(cls, resource: Resource) -> ObjectRef:
        """Reference a resource, keeping where it came from."""
        if resource.file is None:
            return cls(kind=resource.kind, namespace=resource.namespace, name=resource.name,
                       source="cluster")
        return cls(kind=resource.kind, namespace=resource.namespace, name=resource.name,
                   file=resource.file, line=resource.line)


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class Reason:
    """One finding as printed: rule, effect, severity, matrix rows, message, objects."""

    # Tuples, not lists: a report holds thousands of reasons, most with no services or
    # workloads, and every empty tuple is the same object.
    rule_id: str
    rule_name: str
    title: str
    severity: str
    effect: str
    message: str
    matrix_rows: tuple[str, ...]
    objects: tuple[ObjectRef, ...] = ()
    services: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    field_path: tuple[str | int, ...] = ()
    field_line: int | None = None
    fingerprint: str = ""
    #: Suppressed findings still decide the verdict; they only leave the gate and the lists.
    suppressed: bool | None = None
    suppressed_by: SuppressionSource | None = None
    baseline: bool | None = None
    #: Which proxy applies the object today and after the move (every AuthorizationPolicy).
    enforcement: Enforcement | None = None

    def __post_init__(self) -> None:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(self))

    @property
    def counts(self) -> bool:
        """True when the finding counts toward the gate: neither suppressed nor in the baseline."""
        return not self.suppressed and not self.baseline


def fingerprint(reason: Reason) -> str:
    """Stable id of a finding: rule, object identity and field path; never line numbers."""
    if reason.objects:
        first = reason.objects[0]
        identity = [first.kind, first.namespace or "", first.name]
    else:
        identity = [",".join(reason.services), ",".join(reason.workloads), reason.message]
    parts = [reason.rule_id, *identity, "/".join(str(p) for p in reason.field_path)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class SuppressedReason:
    """A finding left out by an annotation or the config file, kept here to be counted."""

    rule_id: str
    fingerprint: str
    object: ObjectRef | None = None
    by: SuppressionSource
    reason: str | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class Waypoint:
    """A waypoint the namespace needs: its name, traffic type and the services it serves."""

    name: str
    for_: Literal["service", "workload", "all"] = Field(alias="for")
    services: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    exists: bool = False


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class Benefit:
    """A general benefit of the recommended mode, from an M-* row."""

    row: str
    text: str


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class TrafficPeer:
    """One namespace (and workload, when known) on the other end of a namespace's calls."""

    namespace: str
    workload: str | None = None
    #: The Service called: in ``callers`` one of this namespace's, in ``callees`` theirs.
    service: str | None = None
    protocol: Literal["http", "grpc", "tcp"]
    requests_per_second: float | None = None
    connections_per_second: float | None = None
    source: Literal["metrics", "manifests"]
    #: The peer namespace's recommendation ("unknown" when it is not in the input).
    mode: str


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class NamespaceTraffic:
    """Who calls this namespace and whom it calls, from the traffic graph."""

    evidence: Literal["metrics", "manifests", "none"]
    callers: tuple[TrafficPeer, ...] = ()
    callees: tuple[TrafficPeer, ...] = ()
    http_requests_per_second: float | None = None
    tcp_connections_per_second: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class NamespaceVerdict:
    """Everything the advisor says about one namespace."""

    name: str
    current_mode: str
    recommendation: str
    summary: str
    objects: int = 0
    reasons: list[Reason] = Field(default_factory=list)
    waypoints: tuple[Waypoint, ...] = ()
    benefits: tuple[Benefit, ...] = ()
    suppressed: list[SuppressedReason] | None = None
    #: Set when input errors sit in files this namespace's objects came from (see
    #: ``completeness.py``): the recommendation rests on partial input.
    incomplete: bool | None = None
    input_errors: int | None = None
    input_error_files: tuple[str, ...] | None = None
    baseline_recommendation: str | None = None
    recommendation_changed: bool | None = None
    traffic: NamespaceTraffic | None = None

    @property
    def gated(self) -> bool:
        """False for a namespace that gets no mode advice and does not run ambient today.

        It is never moved, so its findings (about a move) never fail the gate; one that is
        labelled ambient is checked as it runs.
        """
        return self.recommendation != "not-applicable" or self.current_mode in (
            "ambient", "conflict")


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class ErrorEntry:
    """An input problem: file, line and what is wrong."""

    file: str | None = None
    line: int | None = None
    message: str


class Tool(_Model):
    """Who wrote the report."""

    name: str = "asm-advisor"
    version: str = __version__


class SuppressionCounts(_Model):
    """How many findings suppressions took out of the gate, by source and by rule.

    ``ignored_namespaces`` lists namespaces a config ``ignore`` entry with only a namespace
    left out of the analysis (counted in ``Summary.excluded`` too).
    """

    total: int = 0
    by_source: dict[str, int] = Field(default_factory=dict)
    by_rule: dict[str, int] = Field(default_factory=dict)
    ignored_namespaces: list[str] = Field(default_factory=list)


class BaselineCounts(_Model):
    """Findings compared with a baseline report (by fingerprint)."""

    known: int = 0
    new: int = 0
    fixed: int = 0
    recommendation_changed: list[str] = Field(default_factory=list)


class TrafficSummary(_Model):
    """Where the run's calls came from: the manifests, and Prometheus when asked."""

    evidence: Literal["metrics", "manifests", "none"]
    calls: int = 0
    window: str | None = None
    prometheus: str | None = None
    #: Why Prometheus could not be used, when it was asked for.
    problem: str | None = None


class Summary(_Model):
    """Counts over the whole report."""

    namespaces: int
    objects: int
    files: int = 0
    by_recommendation: dict[str, int]
    by_kind: dict[str, int]
    unknown_kinds: dict[str, int] = Field(default_factory=dict)
    errors: int = 0
    #: Namespaces whose recommendation rests on partial input (None when there are none).
    incomplete_namespaces: list[str] | None = None
    #: Objects an ``exclude`` entry of the config left out of the analysis (None: none).
    excluded: int | None = None
    #: Files an exclude glob (``--exclude``, ``excludeFiles``) kept from being read (None: none).
    excluded_files: int | None = None
    suppressed: SuppressionCounts | None = None
    baseline: BaselineCounts | None = None
    traffic: TrafficSummary | None = None


class Report(_Model):
    """The whole report."""

    schema_version: str = SCHEMA_VERSION
    tool: Tool = Field(default_factory=Tool)
    mesh_version: str
    source: Literal["files", "cluster"] = "files"
    namespaces: list[NamespaceVerdict]
    errors: list[ErrorEntry] = Field(default_factory=list)
    summary: Summary
    cluster: dict[str, Any] | None = None

    def to_data(self, namespaces: bool = True) -> dict[str, Any]:
        """Plain data with camelCase keys and no empty optionals (``namespaces``: with them)."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json",
                               exclude=None if namespaces else {"namespaces"})

    def to_json(self) -> str:
        """Deterministic JSON: sorted keys, no timestamps, trailing newline."""
        return "".join(self.json_chunks())

    def json_chunks(self) -> Iterator[str]:
        """The same text as :meth:`to_json` in pieces, one namespace's data alive at a time."""
        data = self.to_data(namespaces=False)
        data["namespaces"] = Lazy(self.namespaces, dump=verdict_json)
        yield from iter_json(data)
        yield "\n"

    @property
    def has_errors(self) -> bool:
        """True when any input error was found."""
        return bool(self.errors)


_VERDICT = TypeAdapter(NamespaceVerdict)


def verdict_data(verdict: NamespaceVerdict) -> dict[str, Any]:
    """One namespace as plain data, as in :meth:`Report.to_data`."""
    data: dict[str, Any] = _VERDICT.dump_python(verdict, by_alias=True, exclude_none=True,
                                                mode="json")
    return data


def verdict_json(verdict: NamespaceVerdict) -> str:
    """One namespace as indented JSON with sorted keys, as :func:`jsonstream.dumps` writes."""
    return dumps_fast(verdict_data(verdict))


def counted(report: Report) -> Iterator[Reason]:
    """Reasons that count toward the gate, once each (mesh-wide ones repeat per namespace).

    Suppressed and baselined reasons stay in the report (they explain the verdict) but do
    not count, nor do those of a namespace that is not gated (``NamespaceVerdict.gated``).
    Here, beside the report, so that renderers and the gate read the same list.
    """
    seen: set[str] = set()
    for verdict in report.namespaces:
        if not verdict.gated:
            continue  # a mesh-wide reason still counts through the namespaces it concerns
        for reason in verdict.reasons:
            if not reason.counts or reason.fingerprint in seen:
                continue
            seen.add(reason.fingerprint)
            yield reason
