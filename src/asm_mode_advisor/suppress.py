"""Suppressions and baselines: which findings count, and how many were left out and why.

Config and annotation suppressions apply to findings *before* verdicts: a suppressed
finding neither decides a namespace's mode nor counts toward ``--fail-on``, and is listed
under the namespace's ``suppressed`` with its source. A baseline applies to the finished
report: known findings stay in it, marked ``baseline: true``, and only new ones count.
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

from asm_mode_advisor.config import Config, IgnoreEntry
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.model import Severity
from asm_mode_advisor.report import (
    BaselineCounts,
    NamespaceVerdict,
    ObjectRef,
    Report,
    SuppressedReason,
    SuppressionCounts,
)
from asm_mode_advisor.rules import Finding, get
from asm_mode_advisor.verdict import to_reason

IGNORE_ANNOTATION = "asm-advisor.io/ignore"
REASON_ANNOTATION = "asm-advisor.io/ignore-reason"
ALL_RULES_WORDS = frozenset({"*", "all"})


@dataclass(frozen=True, slots=True)
class Suppression:
    """A finding left out, by what, and the reason given."""

    finding: Finding
    by: Literal["annotation", "config"]
    reason: str | None = None


@dataclass
class Filtered:
    """Findings after suppression, and what was left out."""

    kept: list[Finding] = field(default_factory=list)
    suppressed: list[Suppression] = field(default_factory=list)
    ignored_namespaces: list[str] = field(default_factory=list)


def _names(finding: Finding) -> tuple[str, str]:
    return finding.rule.id, finding.rule.name


def _listed(value: str, finding: Finding) -> bool:
    """True when a comma list (``AMA101,vs-http-routing`` or ``*``) names the finding's rule."""
    words = {word.strip() for word in value.split(",") if word.strip()}
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
        if entry.matches((rule_id, name), kind, namespace, object_name):
            return Suppression(finding, "config", entry.reason)
    return None


def override_severity(finding: Finding, config: Config) -> Finding:
    """The finding with the config's severity for its rule, if one is set."""
    for key, severity in config.rules.severity.items():
        rule = get(key)
        if rule is not None and rule.id == finding.rule.id:
            return dataclasses.replace(finding, severity=Severity(severity))
    return finding


def ignored_namespaces(namespaces: Iterable[str], entries: Iterable[IgnoreEntry]) -> list[str]:
    """Namespaces an ignore entry drops whole (no kind, name or rules given)."""
    whole = [entry for entry in entries if entry.whole_namespace]
    return sorted(ns for ns in namespaces
                  if any(entry.matches(("", ""), "*", ns, "*") for entry in whole))


def filter_findings(findings: Iterable[Finding], inventory: Inventory,
                    config: Config) -> Filtered:
    """Apply severity overrides, config ignores and annotations to every finding."""
    result = Filtered(ignored_namespaces=ignored_namespaces(inventory.namespaces,
                                                            config.ignore))
    for finding in findings:
        finding = override_severity(finding, config)
        suppression = config_suppression(finding, config) or annotation_suppression(
            finding, inventory)
        if suppression is None:
            result.kept.append(finding)
        else:
            result.suppressed.append(suppression)
    return result


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


def attach_suppressions(verdicts: list[NamespaceVerdict],
                        filtered: Filtered) -> tuple[list[NamespaceVerdict],
                                                     SuppressionCounts | None]:
    """Drop ignored namespaces, list each namespace's suppressions, and count them all."""
    by_namespace: dict[str, list[SuppressedReason]] = {}
    for suppression in filtered.suppressed:
        namespace = suppression.finding.namespace or ""
        by_namespace.setdefault(namespace, []).append(suppressed_entry(suppression))
    ignored = set(filtered.ignored_namespaces)
    kept = []
    for verdict in verdicts:
        if verdict.name in ignored:
            continue
        entries = sorted(by_namespace.get(verdict.name, []), key=_entry_key)
        kept.append(replace(verdict, suppressed=entries) if entries else verdict)
    if not filtered.suppressed and not ignored:
        return kept, None
    counts = SuppressionCounts(
        total=len(filtered.suppressed),
        by_source=dict(sorted(Counter(s.by for s in filtered.suppressed).items())),
        by_rule=dict(sorted(Counter(s.finding.rule.id for s in filtered.suppressed).items())),
        ignored_namespaces=sorted(ignored))
    return kept, counts


# --- baseline ------------------------------------------------------------------------------

class BaselineError(Exception):
    """A baseline report that cannot be read; the message is one line."""


@dataclass(frozen=True)
class Baseline:
    """What an earlier report said: finding fingerprints and each namespace's mode."""

    fingerprints: frozenset[str]
    recommendations: dict[str, str]


def parse_baseline(text: str, name: str) -> Baseline:
    """Read the fingerprints and recommendations of a JSON report."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(f"{name}:{exc.lineno}: not a JSON report: {exc.msg}") from None
    namespaces = data.get("namespaces") if isinstance(data, dict) else None
    if not isinstance(namespaces, list):
        raise BaselineError(f"{name}: not an asm-advisor JSON report (no 'namespaces' list)")
    prints: set[str] = set()
    modes: dict[str, str] = {}
    for verdict in namespaces:
        if not isinstance(verdict, dict):
            continue
        if isinstance(verdict.get("name"), str) and isinstance(
                verdict.get("recommendation"), str):
            modes[verdict["name"]] = verdict["recommendation"]
        for reason in verdict.get("reasons") or []:
            if isinstance(reason, dict) and isinstance(reason.get("fingerprint"), str):
                prints.add(reason["fingerprint"])
    return Baseline(fingerprints=frozenset(prints), recommendations=modes)


def load_baseline(path: Path) -> Baseline:
    """Read a baseline report file."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        detail = exc.strerror if isinstance(exc, OSError) else "not valid UTF-8"
        raise BaselineError(f"{path}: cannot read baseline: {detail or exc}") from None
    return parse_baseline(text, str(path))


def apply_baseline(report: Report, baseline: Baseline) -> Report:
    """Mark known findings and changed recommendations, and count new and fixed findings."""
    verdicts = []
    seen: set[str] = set()
    for verdict in report.namespaces:
        reasons = [replace(r, baseline=r.fingerprint in baseline.fingerprints)
                   for r in verdict.reasons]
        seen.update(r.fingerprint for r in reasons)
        old = baseline.recommendations.get(verdict.name)
        verdicts.append(replace(verdict, reasons=reasons, baseline_recommendation=old,
                                recommendation_changed=old != verdict.recommendation))
    counts = BaselineCounts(
        known=len(seen & baseline.fingerprints), new=len(seen - baseline.fingerprints),
        fixed=len(baseline.fingerprints - seen),
        recommendation_changed=[v.name for v in verdicts if v.recommendation_changed])
    summary = report.summary.model_copy(update={"baseline": counts})
    return report.model_copy(update={"namespaces": verdicts, "summary": summary})
