"""The pipeline after the source: inventory, rules, verdicts, report. Shared by every command."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from asm_mode_advisor.completeness import incomplete_names, mark_incomplete, partial_namespaces
from asm_mode_advisor.config import Settings as Settings  # re-exported: analyze()'s input
from asm_mode_advisor.costs import basis
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.kinds import CLUSTER_SCOPED_KINDS, lookup
from asm_mode_advisor.locate import find_lines, targets
from asm_mode_advisor.model import InputError, Mode, Resource
from asm_mode_advisor.report import ErrorEntry, Report, Summary
from asm_mode_advisor.rules import Context, Finding
from asm_mode_advisor.rules.phases import run_rules
from asm_mode_advisor.suppress import (
    Exclusion,
    Suppressor,
    attach_suppressions,
    excluded,
    override_severity,
    unknown_annotation_rules,
)
from asm_mode_advisor.traffic import section as traffic_section
from asm_mode_advisor.traffic.graph import TrafficEvidence
from asm_mode_advisor.traffic.manifests import calls_from_manifests
from asm_mode_advisor.verdict import decide


@dataclass
class Analysis:
    """Everything a run produced: the inventory and findings (for later stages) and the report.

    ``findings`` are all of them, suppressed or not: suppressions never change the advice.
    """

    inventory: Inventory
    findings: list[Finding]
    report: Report
    #: Who calls whom (None with ``--no-traffic``): the plan orders its waves by it.
    traffic: TrafficEvidence | None = None


def analyze(resources: Iterable[Resource], errors: Iterable[InputError], settings: Settings,
            *, files: int = 0, source: Literal["files", "cluster"] = "files",
            cluster: dict[str, Any] | None = None,
            traffic: TrafficEvidence | None = None) -> Analysis:
    """Run the whole pipeline on resources from any source.

    Objects an ``exclude`` entry covers are left out first and only counted. Verdicts are
    built from every finding; suppressions (config file, annotations) only mark reasons, so
    a suppressed finding still decides a mode but does not count toward the gate. Field
    lines are looked up before reasons are built, only in the documents that have a finding
    with a field path.

    ``traffic`` carries the calls Prometheus measured (``commands/metrics.py``); the calls
    the manifests show are added to it here, unless ``settings.traffic_graph`` is off.
    """
    exclusion = Exclusion()
    inventory = Inventory.build(excluded(resources, settings.config, exclusion),
                                default_namespace=settings.default_namespace,
                                root_namespace=settings.root_namespace)
    evidence, graph_errors = _traffic(inventory, traffic, settings.traffic_graph)
    context = Context(mesh_version=settings.mesh_version, assume_mode=settings.assume_mode,
                      unread=settings.unread, traffic=evidence)
    findings, rule_errors = run_rules(inventory, context)
    rule_errors = [*graph_errors, *rule_errors]
    findings = [override_severity(finding, settings.config) for finding in findings]
    all_errors = sorted([*errors, *rule_errors, *unknown_annotation_rules(inventory.resources)],
                        key=lambda e: (e.file or "", e.line or 0, e.message))
    # Field lines are found before reasons are built, so no reason is copied to add one.
    lines = find_lines(targets(findings)) if source == "files" else {}
    suppressor = Suppressor(inventory, settings.config)
    verdicts, suppressed = attach_suppressions(
        decide(inventory, findings, lines, suppressor, basis(settings.nodes)),
        suppressor.found, exclusion)
    verdicts = mark_incomplete(verdicts, partial_namespaces(inventory.resources, all_errors))
    if evidence is not None:
        verdicts = traffic_section.attach(verdicts, evidence)
    summary = _summary(inventory, verdicts_modes=[v.recommendation for v in verdicts],
                       files=files, errors=len(all_errors),
                       incomplete=incomplete_names(verdicts))
    report = Report(
        mesh_version=settings.mesh_version, source=source, namespaces=verdicts,
        errors=[ErrorEntry(file=e.file, line=e.line, message=e.message) for e in all_errors],
        summary=summary.model_copy(update={
            "suppressed": suppressed, "excluded": exclusion.count or None,
            "traffic": traffic_section.summary(evidence) if evidence is not None else None}),
        cluster=cluster)
    return Analysis(inventory=inventory, findings=findings, report=report, traffic=evidence)


def _traffic(inventory: Inventory, measured: TrafficEvidence | None,
             from_manifests: bool) -> tuple[TrafficEvidence | None, list[InputError]]:
    """The run's traffic evidence: measured calls (if any) and the manifests' own calls.

    A fault in building the graph is one error line; the analysis goes on without the graph.
    """
    if not from_manifests:  # --no-traffic: only what Prometheus said, if it was asked
        asked = measured is not None and (measured.measured or bool(measured.problem))
        return (measured if asked else None), []
    evidence = measured if measured is not None else TrafficEvidence()
    try:
        evidence.graph.add(calls_from_manifests(inventory))
        evidence.graph.compact()
    except (AttributeError, KeyError, IndexError, TypeError, ValueError) as exc:
        return None, [InputError(f"internal error in the traffic graph: {exc!r:.200}; the "
                                 "analysis went on without it")]
    return evidence, []


def _summary(inventory: Inventory, verdicts_modes: list[str], files: int,
             errors: int, incomplete: list[str] | None = None) -> Summary:
    by_kind = Counter(r.kind for r in inventory.resources)
    unknown = Counter(r.kind for r in inventory.resources
                      if lookup(r.kind, r.group) is None and r.kind not in CLUSTER_SCOPED_KINDS)
    by_recommendation = {mode.value: 0 for mode in (Mode.AMBIENT, Mode.AMBIENT_WAYPOINT,
                                                    Mode.SIDECAR)}
    by_recommendation.update(Counter(verdicts_modes))
    return Summary(namespaces=len(verdicts_modes), objects=len(inventory.resources),
                   files=files, by_recommendation=by_recommendation,
                   by_kind=dict(sorted(by_kind.items())),
                   unknown_kinds=dict(sorted(unknown.items())), errors=errors,
                   incomplete_namespaces=incomplete)
