"""What a rule is: metadata as a frozen pydantic model, and findings made the same way."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.matrix import DEFAULT_MESH_VERSION, ROWS_BY_ID
from asm_mode_advisor.model import Effect, Resource, Severity
from asm_mode_advisor.needs import NEEDS, Need

#: Where the rule docs are published (one page per rule id).
DOCS_BASE = "https://github.com/asm-advisor/asm-advisor/blob/main/docs/rules.md"

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Context:
    """Settings every detector may read."""

    mesh_version: str = DEFAULT_MESH_VERSION
    assume_mode: str | None = None
    #: ``Kind.group`` of kinds the source could not read (403 in a scan).
    unread: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule firing on one object (or on a namespace, or on the whole mesh)."""

    rule: Rule
    namespace: str | None  # None: applies to every namespace (mesh-wide)
    message: str
    objects: tuple[Resource, ...] = ()
    services: tuple[str, ...] = ()
    workloads: tuple[str, ...] = ()
    severity: Severity = Severity.NOTE
    path: FieldPath = ()  # the offending field inside the first object, when known
    extra_rows: tuple[str, ...] = field(default=())

    @property
    def effect(self) -> Effect:
        """The effect on the mode, from the rule's need."""
        return self.rule.effect

    @property
    def rows(self) -> tuple[str, ...]:
        """Matrix rows the finding cites (the rule's own tuple when it adds none)."""
        if not self.extra_rows:
            return self.rule.rows  # the rule model keeps its rows unique
        return tuple(dict.fromkeys((*self.rule.rows, *self.extra_rows)))


Detector = Callable[[Inventory, Context], Iterator[Finding]]


class Rule(BaseModel):
    """Rule metadata: identity, the need it detects, matrix rows, docs and examples."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    name: str
    title: str
    need: str
    rows: tuple[str, ...] = ()
    severity: Severity = Severity.NOTE
    kinds: tuple[str, ...]
    rationale: str
    triggers: tuple[str, ...] = ()
    passes: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id_form(cls, value: str) -> str:
        if not (value.startswith("AMA") and value[3:].isdigit() and len(value) == 6):
            raise ValueError("rule ids look like AMA123")
        return value

    @field_validator("title")
    @classmethod
    def _title_form(cls, value: str) -> str:
        if value.endswith(".") or "\n" in value:
            raise ValueError("a title is one line without a final period")
        return value

    @model_validator(mode="after")
    def _need_and_rows(self) -> Rule:
        if self.need not in NEEDS:
            raise ValueError(f"unknown need {self.need!r}")
        unknown = [r for r in self.rows if r not in ROWS_BY_ID]
        if unknown:
            raise ValueError(f"unknown matrix rows {unknown}")
        if not self.rows:
            object.__setattr__(self, "rows", NEEDS[self.need].rows)
        if len(set(self.rows)) != len(self.rows):
            raise ValueError(f"matrix rows listed twice: {list(self.rows)}")
        return self

    @property
    def need_info(self) -> Need:
        """The need this rule detects."""
        return NEEDS[self.need]

    @property
    def effect(self) -> Effect:
        """The effect on the mode, derived from the need's support per layer."""
        return NEEDS[self.need].effect

    @property
    def doc_url(self) -> str:
        """Link to the rule's documentation."""
        return f"{DOCS_BASE}#{self.id.lower()}-{self.name}"

    def finding(self, resource: Resource | None, message: str, *,
                namespace: str | None = None, services: Sequence[str] = (),
                workloads: Sequence[str] = (), path: FieldPath = (),
                severity: Severity | None = None,
                objects: Sequence[Resource] = (), mesh_wide: bool = False) -> Finding:
        """Build a finding with this rule's id, rows and severity filled in.

        ``mesh_wide`` findings apply to every namespace (multi-cluster, mesh version).
        """
        subjects = ((resource,) if resource is not None else ()) + tuple(objects)
        if mesh_wide:
            namespace = None
        elif namespace is None and resource is not None:
            namespace = resource.namespace
        return Finding(
            rule=self, message=message, namespace=namespace,
            objects=subjects, services=tuple(sorted(set(services))),
            workloads=tuple(sorted(set(workloads))), path=path,
            severity=severity or self.severity)
