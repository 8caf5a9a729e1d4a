"""Suppressions, exclusions and baselines: which findings count, and what was left out.

Config and annotation suppressions never change the advice: verdicts, waypoints and reasons
are computed from every finding, then a suppressed finding's reason is marked
``suppressed`` (with ``suppressedBy``), leaves the gate and the listed findings (SARIF,
annotations), is listed under its namespace's ``suppressed`` and counted in the summary.
Excluded objects (config ``exclude``) are left out before the analysis and only counted.
A baseline applies to the finished report: known findings stay in it, marked
``baseline: true``, and only new ones count.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from asm_mode_advisor.config import Config, ExcludeEntry
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.locate import find_lines
from asm_mode_advisor.model import InputError, Resource, Severity
from asm_mode_advisor.report import (
    BaselineCounts,
    NamespaceVerdict,
    ObjectRef,
    Report,
    SuppressedReason,
    SuppressionCounts,
    SuppressionSource,
)
from asm_mode_advisor.rules import Finding, get
from asm_mode_advisor.smallfile import REPORT_LIMIT, FileProblem, parse_json, read_text
from asm_mode_advisor.verdict import to_reason

IGNORE_ANNOTATION = "asm-advisor.io/ignore"
REASON_ANNOTATION = "asm-advisor.io/ignore-reason"
ALL_RULES_WORDS = frozenset({"*", "all"})


@dataclass(frozen=True, slots=True)
class Suppression:
    """A finding taken out of the gate, by what, and the reason given."""

    finding: Finding
    by: SuppressionSource
    reason: str | None = None


def _names(finding: Finding) -> tuple[str, str]:
    return finding.rule.id, finding.rule.name


def _words(value: str) -> set[str]:
    return {word.strip() for word in value.split(",") if word.strip()}


def _listed(value: str, finding: Finding) -> bool:
    """True when a comma list (``AMA101,vs-http-routing`` or ``*``) names the finding's rule."""
    words = _words(value)
    rule_id, name = _names(finding)
    return bool(words & ALL_RULES_WORDS) or any(
        word.upper() == rule_id or word.lower() == name for word in words)


def annotation_suppression(finding: Finding, inventory: Inventory) -> Suppression | None:
    """An ``asm-advisor.io/ignore`` annotation on the object, or on its Namespace."""
    holders = list(finding.objects[:1])
    namespace = inventory.namespace_objects.get(finding.namespace or "")
    if namespace is not None:
        holders.append(namespace)
    for holder in holders:
        value = holder.annotations.get(IGNORE_ANNOTATION)
        if value is not None and _listed(value, finding):
            return Suppression(finding, "annotation", holder.annotations.get(REASON_ANNOTATION))
    return None


def unknown_annotation_rules(resources: Iterable[Resource]) -> list[InputError]:
    """One input error per ``asm-advisor.io/ignore`` word that names no rule.

    Each points at the annotation's own line when the file still has it, else at the object.
    """
    unknown = []
    for resource in resources:
        value = resource.annotations.get(IGNORE_ANNOTATION) if resource.annotations else None
        if value is not None:
            unknown += [(resource, word) for word in sorted(_words(value) - ALL_RULES_WORDS)
                        if get(word) is None]
    lines = find_lines(sorted({target for r, _ in unknown
                               if (target := _annotation_target(r)) is not None}))

    def line(resource: Resource) -> int | None:
        target = _annotation_target(resource)
        return resource.line if target is None else lines.get(target, resource.line)

    return [InputError(f"{r.ref}: {IGNORE_ANNOTATION} names unknown rule {word!r}; see "
                       "'asm-advisor rules'", r.file, line(r)) for r, word in unknown]


def _annotation_target(resource: Resource) -> tuple[str, int, tuple[str | int, ...]] | None:
    """Where to look for the ignore annotation's line (None: not in a readable file)."""
    if not resource.file or not resource.line or resource.file.startswith("<"):
        return None
    return resource.file, resource.line, ("metadata", "annotations", IGNORE_ANNOTATION)


def _identity(finding: Finding) -> tuple[str, str, str]:
    first = finding.objects[0] if finding.objects else None
    if first is None:
        return "", finding.namespace or "", ""
    return first.kind, first.namespace or finding.namespace or "", first.name


def config_suppression(finding: Finding, config: Config) -> Suppression | None:
    """A rule disabled in the config, or an ``ignore`` entry that covers the finding."""
    rule_id, name = _names(finding)
    if any(key.upper() == rule_id or key.lower() == name for key in config.rules.disable):
        return Suppression(finding, "config", "rule disabled in config")
    kind, namespace, object_name = _identity(finding)
    for entry in config.ignore:
        if not entry.whole_namespace and entry.matches((rule_id, name), kind, namespace,
                                                       object_name):
            return Suppression(finding, "config", entry.reason)
    return None


def override_severity(finding: Finding, config: Config) -> Finding:
    """The finding with the config's severity for its rule, if one is set."""
    for key, severity in config.rules.severity.items():
        rule = get(key)
        if rule is not None and rule.id == finding.rule.id:
            return dataclasses.replace(finding, severity=Severity(severity))
    return finding


@dataclass
class Suppressor:
    """Tells the verdicts which findings are suppressed, and keeps each one to count it.

    Called once per finding as the verdicts are built (findings :func:`decide` adds
    included), so the suppressions it keeps are exactly the marked reasons.
    """

    inventory: Inventory
    config: Config
    found: list[Suppression] = field(default_factory=list)

    def __call__(self, finding: Finding) -> SuppressionSource | None:
        """What suppresses ``finding`` (the config first), or None when it counts."""
        suppression = config_suppression(finding, self.config) or annotation_suppression(
            finding, self.inventory)
        if suppression is None:
            return None
        self.found.append(suppression)
        return suppression.by


@dataclass
class Exclusion:
    """Objects left out by ``exclude`` entries (and namespace-only ``ignore`` entries)."""

    count: int = 0
    #: Namespaces of objects left out by namespace-only ``ignore`` entries.
    namespaces: set[str] = field(default_factory=set)


def exclude_entries(config: Config) -> tuple[ExcludeEntry, ...]:
    """``exclude`` entries, then namespace-only ``ignore`` entries read as exclusions."""
    return config.exclude + tuple(ExcludeEntry(namespace=entry.namespace)
                                  for entry in config.ignore if entry.whole_namespace)


def excluded(resources: Iterable[Resource], config: Config,
             exclusion: Exclusion) -> Iterator[Resource]:
    """The resources no exclusion covers; the others are counted in ``exclusion``."""
    entries = exclude_entries(config)
    legacy = len(config.exclude)
    if not entries:
        yield from resources
        return
    for resource in resources:
        file = resource.file.replace("\\", "/").removeprefix("./") if resource.file else None
        hits = [index for index, entry in enumerate(entries)
                if entry.matches(file, resource.kind, resource.namespace, resource.name)]
        if not hits:
            yield resource
            continue
        exclusion.count += 1
        if hits[-1] >= legacy:
            exclusion.namespaces.add(resource.namespace or resource.name)


def suppressed_entry(suppression: Suppression) -> SuppressedReason:
    """A suppression as the report lists it."""
    reason = to_reason(suppression.finding)
    return SuppressedReason(rule_id=reason.rule_id, fingerprint=reason.fingerprint,
                            by=suppression.by, reason=suppression.reason,
                            object=reason.objects[0] if reason.objects else None)


def _entry_key(entry: SuppressedReason) -> tuple[str, str, str, str]:
    first: ObjectRef | None = entry.object
    return (entry.rule_id, first.kind if first else "", first.name if first else "",
            entry.fingerprint)


def attach_suppressions(verdicts: list[NamespaceVerdict], suppressions: list[Suppression],
                        exclusion: Exclusion) -> tuple[list[NamespaceVerdict],
                                                       SuppressionCounts | None]:
    """List each namespace's suppressions, and count them all (None: nothing left out)."""
    by_namespace: dict[str, list[SuppressedReason]] = {}
    for suppression in suppressions:
        namespace = suppression.finding.namespace or ""
        by_namespace.setdefault(namespace, []).append(suppressed_entry(suppression))
    listed = []
    for verdict in verdicts:
        entries = sorted(by_namespace.get(verdict.name, []), key=_entry_key)
        listed.append(replace(verdict, suppressed=entries) if entries else verdict)
    if not suppressions and not exclusion.namespaces:
        return listed, None
    counts = SuppressionCounts(
        total=len(suppressions),
        by_source=dict(sorted(Counter(s.by for s in suppressions).items())),
        by_rule=dict(sorted(Counter(s.finding.rule.id for s in suppressions).items())),
        ignored_namespaces=sorted(exclusion.namespaces))
    return listed, counts


# --- baseline ------------------------------------------------------------------------------

class BaselineError(Exception):
    """A baseline report that cannot be read; the message is one line."""


@dataclass(frozen=True)
class Baseline:
    """What an earlier report said: finding fingerprints and each namespace's mode."""

    fingerprints: frozenset[str]
    recommendations: dict[str, str]


def parse_baseline(text: str, name: str) -> Baseline:
    """Read the fingerprints and recommendations of a JSON report.

    Missing fields are skipped; a field of the wrong type is an error naming it.
    """
    try:
        data = parse_json(text)
    except FileProblem as exc:
        raise BaselineError(f"{name}: not a JSON report: {exc}") from None
    namespaces = data.get("namespaces") if isinstance(data, dict) else None
    if not isinstance(namespaces, list):
        raise BaselineError(f"{name}: not an asm-advisor JSON report (no 'namespaces' list)")
    prints: set[str] = set()
    modes: dict[str, str] = {}
    for index, verdict in enumerate(namespaces):
        where = f"namespaces[{index}]"
        if not isinstance(verdict, dict):
            raise BaselineError(f"{name}: {where} is not an object")
        if isinstance(verdict.get("name"), str) and isinstance(
                verdict.get("recommendation"), str):
            modes[verdict["name"]] = verdict["recommendation"]
        reasons = verdict.get("reasons") or []
        if not isinstance(reasons, list):
            raise BaselineError(f"{name}: {where}.reasons is not a list")
        for reason in reasons:
            if isinstance(reason, dict) and isinstance(reason.get("fingerprint"), str):
                prints.add(reason["fingerprint"])
    return Baseline(fingerprints=frozenset(prints), recommendations=modes)


def load_baseline(path: Path) -> Baseline:
    """Read a baseline report file (a regular file or a pipe, of bounded size)."""
    try:
        text = read_text(path, REPORT_LIMIT)
    except FileProblem as exc:
        raise BaselineError(f"{path}: cannot read baseline: {exc}") from None
    return parse_baseline(text, str(path))


def apply_baseline(report: Report, baseline: Baseline) -> Report:
    """Mark known findings and changed recommendations, and count new and fixed findings.

    Suppressed findings are marked too but not counted: they are neither new nor present.
    """
    verdicts = []
    seen: set[str] = set()
    for verdict in report.namespaces:
        reasons = [replace(r, baseline=r.fingerprint in baseline.fingerprints)
                   for r in verdict.reasons]
        seen.update(r.fingerprint for r in reasons if not r.suppressed)
        old = baseline.recommendations.get(verdict.name)
        verdicts.append(replace(verdict, reasons=reasons, baseline_recommendation=old,
                                recommendation_changed=old != verdict.recommendation))
    counts = BaselineCounts(
        known=len(seen & baseline.fingerprints), new=len(seen - baseline.fingerprints),
        fixed=len(baseline.fingerprints - seen),
        recommendation_changed=[v.name for v in verdicts if v.recommendation_changed])
    summary = report.summary.model_copy(update={"baseline": counts})
    return report.model_copy(update={"namespaces": verdicts, "summary": summary})
