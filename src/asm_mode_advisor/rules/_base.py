"""What a rule is: its metadata, its findings, and the detectors and checks that make them.

Rule metadata is a frozen pydantic model; findings are made the same way by every rule.
Detectors (phase 1) look at objects, checks (phase 2) at the detectors' findings.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from pydantic import BaseModel, ConfigDict, field_validator, model_validator

from asm_mode_advisor.domain import AssumeMode
from asm_mode_advisor.enforcement import Enforcement, interned
from asm_mode_advisor.kinds import parse_read
from asm_mode_advisor.matrix import DEFAULT_MESH_VERSION, ROWS_BY_ID
from asm_mode_advisor.model import Effect, Mode, Resource, Severity
from asm_mode_advisor.needs import NEEDS, Need
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.traffic.graph import TrafficEvidence

#: Where the rule docs are published (one page per rule id).
DOCS_BASE = "https://github.com/asm-advisor/asm-advisor/blob/main/docs/rules.md"

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True, slots=True)
class Context:
    """Settings every detector may read."""

    mesh_version: str = DEFAULT_MESH_VERSION
    assume_mode: AssumeMode = AssumeMode.LABELS
    #: ``Kind.group`` of kinds the source could not read (403 in a scan).
    unread: frozenset[str] = frozenset()
    #: Who calls whom (manifests, and Prometheus when asked); None: no graph was built.
    traffic: TrafficEvidence | None = None


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
    #: Which proxy applies the object today and after the move (policies and routes).
    enforcement: Enforcement | None = None

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


def specs(*kinds: str) -> tuple[str, ...]:
    """Field reads of the whole ``spec`` of each of ``kinds`` (for ``Rule.reads``)."""
    return tuple(f"{kind}:spec" for kind in kinds)


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
    #: The body fields its detector reads, as ``Kind:dotted.path`` (``name[]``: each item of
    #: the list ``name``), e.g. ``Deployment:spec.template.spec.initContainers``. Slimming
    #: keeps exactly these (and ``views.CORE_READS``); a field read but not declared here
    #: reaches the rule dropped. :func:`specs` and ``kinds.pod_reads`` write them for you.
    reads: tuple[str, ...] = ()
    rationale: str
    triggers: tuple[str, ...] = ()
    passes: tuple[str, ...] = ()

    @field_validator("id")
    @classmethod
    def _id_form(cls, value: str) -> str:
        if not (value.startswith("AMA") and value[3:].isdigit() and len(value) == 6):
            raise ValueError("rule ids look like AMA123")
        return value

    @field_validator("reads")
    @classmethod
    def _reads_form(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for read in value:
            parse_read(read)  # raises ValueError on a malformed read
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
                objects: Sequence[Resource] = (), mesh_wide: bool = False,
                rows: Sequence[str] = (),
                enforcement: Enforcement | None = None) -> Finding:
        """Build a finding with this rule's id, rows and severity filled in.

        ``mesh_wide`` findings apply to every namespace (multi-cluster, mesh version);
        ``rows`` adds matrix rows this finding rests on beyond the rule's own.
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
            severity=severity or self.severity, extra_rows=tuple(rows),
            enforcement=None if enforcement is None else interned(enforcement))


#: Every workload kind, in the order rule docs list them (``kinds.WORKLOAD_KINDS`` as a tuple).
WORKLOADS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet",
             "ReplicationController")


def _kinds_of(rules: tuple[Rule, ...]) -> frozenset[str]:
    return frozenset(kind for rule in rules for kind in rule.kinds)


class _BoundToRules:
    """What detectors and checks share: a function bound to the rules it makes."""

    find: Callable[..., Iterator[Finding]]
    rules: tuple[Rule, ...]

    @property
    def name(self) -> str:
        """The function's name, for error lines."""
        return self.find.__name__

    @property
    def kinds(self) -> frozenset[str]:
        """The kinds of objects it may walk: its rules' ``kinds``."""
        return _kinds_of(self.rules)


@dataclass(frozen=True)
class Detector(_BoundToRules):
    """Phase 1: a function that finds its ``rules``' findings among objects of their kinds.

    It is handed a :class:`ScopedInventory` over the union of its rules' ``kinds``, and may
    only make findings of its own ``rules``.
    """

    find: Callable[[ScopedInventory, Context], Iterator[Finding]]
    rules: tuple[Rule, ...]

    def run(self, inventory: ScopedInventory, context: Context,
            detected: Sequence[Finding]) -> Iterator[Finding]:
        """Its findings; a detector looks at objects only, never at ``detected``."""
        del detected
        return self.find(inventory, context)


@dataclass(frozen=True)
class Check(_BoundToRules):
    """Phase 2: finds its ``rules``' findings from every detector's findings (and objects).

    The pipeline passes it all phase-1 findings, so a new capability rule is seen by every
    check without being listed anywhere; a check never sees another check's findings.
    """

    find: Callable[[ScopedInventory, Context, Sequence[Finding]], Iterator[Finding]]
    rules: tuple[Rule, ...]

    def run(self, inventory: ScopedInventory, context: Context,
            detected: Sequence[Finding]) -> Iterator[Finding]:
        """Its findings, built on the detectors' ``detected``."""
        return self.find(inventory, context, detected)


def recommend(findings: Iterable[Finding]) -> Mode:
    """The cheapest mode that meets every need: ambient < ambient-waypoint < sidecar."""
    return _cheapest({finding.effect for finding in findings})


def namespace_modes(namespaces: Iterable[str], findings: Iterable[Finding]) -> dict[str, Mode]:
    """The cheapest mode per namespace for its own and the mesh-wide findings."""
    effects: dict[str | None, set[Effect]] = defaultdict(set)
    for finding in findings:
        effects[finding.namespace].add(finding.effect)
    mesh_wide = effects.get(None, set())
    return {namespace: _cheapest(effects.get(namespace, set()) | mesh_wide)
            for namespace in namespaces}


def _cheapest(effects: set[Effect]) -> Mode:
    if Effect.BLOCKS_AMBIENT in effects:
        return Mode.SIDECAR
    if Effect.NEEDS_WAYPOINT in effects:
        return Mode.AMBIENT_WAYPOINT
    return Mode.AMBIENT


#: The waypoint planned in a namespace that has none yet (the verdict and checks share it).
DEFAULT_WAYPOINT_NAME = "waypoint"


def waypoint_targets(findings: Iterable[Finding],
                     services: Iterable[str]) -> tuple[frozenset[str], frozenset[str]]:
    """``(services, workloads)`` a namespace's planned waypoint serves, from its findings.

    Only needs-waypoint findings count; one that names neither a service nor a workload
    (a namespace-wide need) puts every Service of ``services`` behind the waypoint. The verdict
    and the checks about a planned waypoint both call this, so they never disagree.
    """
    l7 = [f for f in findings if f.effect is Effect.NEEDS_WAYPOINT]
    named = {s for f in l7 for s in f.services}
    if any(not f.services and not f.workloads for f in l7):
        named.update(services)
    workloads = {w for f in l7 if not f.services for w in f.workloads}
    return frozenset(named), frozenset(workloads)
