"""The Report: the one output model every renderer takes (its JSON schema is the contract)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

from asm_mode_advisor import __version__
from asm_mode_advisor.jsonstream import iter_json, lazy_map
from asm_mode_advisor.model import Resource

SCHEMA_VERSION = "1"


#: One set object per distinct combination of given fields (see ``_Model.model_post_init``).
_FIELD_SETS: dict[frozenset[str], set[str]] = {}


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True,
                              extra="forbid")

    def model_post_init(self, context: Any, /) -> None:
        """Share the set of given field names between instances.

        pydantic keeps that set on every instance, and for a handful of names it takes more
        memory than the fields themselves (728 bytes for an ObjectRef); a large report holds
        tens of thousands of them. The models are frozen, so nothing adds to a shared set, and
        ``model_copy`` copies it before changing it.
        """
        given = self.__pydantic_fields_set__
        shared = _FIELD_SETS.setdefault(frozenset(given), given)
        object.__setattr__(self, "__pydantic_fields_set__", shared)


class ObjectRef(_Model):
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
        if resource.source.cluster:
            return cls(kind=resource.kind, namespace=resource.namespace, name=resource.name,
                       source="cluster")
        return cls(kind=resource.kind, namespace=resource.namespace, name=resource.name,
                   file=resource.source.file, line=resource.source.line)


class Reason(_Model):
    """One finding as printed: rule, effect, severity, matrix rows, message, objects."""

    rule_id: str
    rule_name: str
    title: str
    effect: str
    severity: str
    matrix_rows: list[str]
    message: str
    objects: list[ObjectRef] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)
    workloads: list[str] = Field(default_factory=list)
    field_path: list[str | int] = Field(default_factory=list)
    fingerprint: str = ""
    field_line: int | None = None
    baseline: bool | None = None

    @model_validator(mode="after")
    def _fill_fingerprint(self) -> Reason:
        if not self.fingerprint:
            object.__setattr__(self, "fingerprint", fingerprint(self))
        return self


def fingerprint(reason: Reason) -> str:
    """Stable id of a finding: rule, object identity and field path; never line numbers."""
    if reason.objects:
        first = reason.objects[0]
        identity = [first.kind, first.namespace or "", first.name]
    else:
        identity = [",".join(reason.services), ",".join(reason.workloads), reason.message]
    parts = [reason.rule_id, *identity, "/".join(str(p) for p in reason.field_path)]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


class SuppressedReason(_Model):
    """A finding left out by an annotation or the config file, kept here to be counted."""

    rule_id: str
    fingerprint: str
    by: Literal["annotation", "config"]
    object: ObjectRef | None = None
    reason: str | None = None

class Waypoint(_Model):
    """A waypoint the namespace needs: its name, traffic type and the services it serves."""

    name: str
    for_: Literal["service", "workload", "all"] = Field(alias="for")
    services: list[str] = Field(default_factory=list)
    workloads: list[str] = Field(default_factory=list)
    exists: bool = False


class Benefit(_Model):
    """A general benefit of the recommended mode, from an M-* row."""

    row: str
    text: str


class NamespaceVerdict(_Model):
    """Everything the advisor says about one namespace."""

    name: str
    current_mode: str
    recommendation: str
    summary: str
    reasons: list[Reason] = Field(default_factory=list)
    waypoints: list[Waypoint] = Field(default_factory=list)
    benefits: list[Benefit] = Field(default_factory=list)
    objects: int = 0
    suppressed: list[SuppressedReason] | None = None
    baseline_recommendation: str | None = None
    recommendation_changed: bool | None = None


class ErrorEntry(_Model):
    """An input problem: file, line and what is wrong."""

    file: str | None = None
    line: int | None = None
    message: str


class Tool(_Model):
    """Who wrote the report."""

    name: str = "asm-advisor"
    version: str = __version__


class SuppressionCounts(_Model):
    """How many findings suppressions removed, by source and by rule."""

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


class Summary(_Model):
    """Counts over the whole report."""

    namespaces: int
    objects: int
    files: int = 0
    by_recommendation: dict[str, int]
    by_kind: dict[str, int]
    unknown_kinds: dict[str, int] = Field(default_factory=dict)
    errors: int = 0
    suppressed: SuppressionCounts | None = None
    baseline: BaselineCounts | None = None


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

    def to_data(self) -> dict[str, Any]:
        """Plain data with camelCase keys and no empty optionals."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")

    def to_json(self) -> str:
        """Deterministic JSON: sorted keys, no timestamps, trailing newline."""
        return "".join(self.json_chunks())

    def json_chunks(self) -> Iterator[str]:
        """The same text as :meth:`to_json` in pieces, one namespace's data alive at a time."""
        data = self.model_dump(by_alias=True, exclude_none=True, mode="json",
                               exclude={"namespaces"})
        data["namespaces"] = lazy_map(_plain, self.namespaces)
        yield from iter_json(data)
        yield "\n"

    @property
    def has_errors(self) -> bool:
        """True when any input error was found."""
        return bool(self.errors)


def _plain(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True, mode="json")
