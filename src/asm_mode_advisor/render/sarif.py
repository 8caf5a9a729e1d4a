"""SARIF 2.1.0 for GitHub code scanning: every rule, and one result per counted finding.

Suppressed and baselined findings are left out here, because GitHub ignores SARIF
``suppressions``; how many were suppressed (and objects excluded) is in the run's
``properties``. Paths are relative to the repository root
(the folder holding ``.git`` above the working directory, else the working directory).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote

from asm_mode_advisor import __version__
from asm_mode_advisor.jsonstream import Lazy, iter_json
from asm_mode_advisor.matrix import ROWS_BY_ID
from asm_mode_advisor.model import Effect, Severity
from asm_mode_advisor.render import sarif_partial
from asm_mode_advisor.render.common import (
    artifact_path,
    location_line,
    reason_file,
    repo_root,
    sort_by,
)
from asm_mode_advisor.report import Reason, Report, counted

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://github.com/asm-advisor/asm-advisor"
FINGERPRINT_KEY = "asmAdvisorObject/v1"
MAX_TEXT = 1000


class RuleEntry(Protocol):
    """What the SARIF driver lists about a rule (``rules.Rule`` is one).

    The catalog is handed in (``View.rules``), so that no format imports the rules.
    """

    @property
    def id(self) -> str: ...  # noqa: D102
    @property
    def name(self) -> str: ...  # noqa: D102
    @property
    def title(self) -> str: ...  # noqa: D102
    @property
    def rationale(self) -> str: ...  # noqa: D102
    @property
    def rows(self) -> tuple[str, ...]: ...  # noqa: D102
    @property
    def severity(self) -> Severity: ...  # noqa: D102
    @property
    def effect(self) -> Effect: ...  # noqa: D102
    @property
    def doc_url(self) -> str: ...  # noqa: D102


def artifact_uri(file: str, root: Path) -> str:
    """RFC 3986 URI of a file: relative inside the repository, ``file://`` outside it."""
    path = artifact_path(file, root)
    if path.startswith("/"):
        return Path(path).as_uri()
    return quote(path, safe="/")


def _clip(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def rule_descriptor(rule: RuleEntry) -> dict[str, Any]:
    """A SARIF reportingDescriptor for one rule."""
    rows = "; ".join(f"{row}: {ROWS_BY_ID[row].summary()}" for row in rule.rows)
    return {
        "id": rule.id,
        "name": rule.name,
        "shortDescription": {"text": rule.title},
        "fullDescription": {"text": _clip(rule.rationale)},
        "help": {"text": _clip(f"{rule.rationale}\n\nMatrix rows: {rows}"),
                 "markdown": f"{rule.rationale}\n\nMatrix rows: {', '.join(rule.rows)}. "
                             f"[Rule documentation]({rule.doc_url})"},
        "helpUri": rule.doc_url,
        "defaultConfiguration": {"level": rule.severity.value},
        "properties": {"tags": ["asm-advisor", rule.effect.value], "precision": "high",
                       "matrixRows": list(rule.rows)},
    }


def _artifact(uri: str) -> dict[str, str]:
    """An artifact location: relative URIs are resolved against ``%SRCROOT%``."""
    return {"uri": uri} if uri.startswith("file:") else {"uri": uri, "uriBaseId": "%SRCROOT%"}


def result(reason: Reason, index: dict[str, int], uri: str) -> dict[str, Any]:
    """A SARIF result for a finding whose first object is in the file at ``uri``."""
    first = reason.objects[0]
    qualified = "/".join(part for part in (first.kind, first.namespace, first.name) if part)
    artifact = _artifact(uri)
    enforcement = reason.enforcement
    enforced = "" if enforcement is None else f" {enforcement.line()}."
    properties: dict[str, Any] = {"effect": reason.effect,
                                  "matrixRows": list(reason.matrix_rows),
                                  "fieldPath": [str(p) for p in reason.field_path]}
    if enforcement is not None:
        properties["enforcement"] = {
            "today": enforcement.today.value, "afterMove": enforcement.after_move.value,
            "change": enforcement.change.value, "detail": enforcement.detail}
    return {
        "ruleId": reason.rule_id,
        "ruleIndex": index[reason.rule_id],
        "level": reason.severity,
        "message": {"text": f"{reason.message}.{enforced} [{', '.join(reason.matrix_rows)}]"},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": artifact,
                "region": {"startLine": location_line(reason)},
            },
            "logicalLocations": [{"name": first.name, "fullyQualifiedName": qualified,
                                  "kind": "resource"}],
        }],
        "partialFingerprints": {FINGERPRINT_KEY: reason.fingerprint},
        "properties": properties,
    }


def located(report: Report, root: Path) -> tuple[list[Reason], dict[str, str]]:
    """The counted findings that point at a file, in result order, and each file's URI.

    Results are ordered by file, line, rule and fingerprint. Only the findings are sorted,
    so each result can be built (and dropped) while the log is written, instead of every
    result being built first to be sorted.
    """
    uris: dict[str, str] = {}
    found: list[Reason] = []
    for reason in counted(report):
        file = reason_file(reason)
        if file is None:
            continue  # from stdin or the cluster: no file to point at
        if file not in uris:
            uris[file] = artifact_uri(file, root)
        found.append(reason)
    sort_by(found, lambda r: uris[r.objects[0].file or ""], location_line,
            attrgetter("rule_id"), attrgetter("fingerprint"))
    return found, uris


def left_out(report: Report) -> dict[str, int]:
    """The run's property bag: findings suppressed and objects excluded, when any."""
    counts: dict[str, int] = {}
    if report.summary.suppressed is not None:
        counts["suppressedFindings"] = report.summary.suppressed.total
    if report.summary.excluded:
        counts["excludedObjects"] = report.summary.excluded
    return counts


def _log(results: list[dict[str, Any]] | Lazy, properties: dict[str, int],
         catalog: Sequence[RuleEntry], partial: dict[str, Any] | None = None) -> dict[str, Any]:
    rules = [rule_descriptor(rule) for rule in catalog]
    if partial:  # only a run with incomplete namespaces describes the input pseudo-rule
        rules.append(sarif_partial.input_rule(INFORMATION_URI))
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "asm-advisor", "version": __version__, "semanticVersion": __version__,
            "informationUri": INFORMATION_URI,
            "rules": rules,
        }},
        "columnKind": "utf16CodeUnits",
        "results": results,
    }
    if properties:
        run["properties"] = properties
    if partial:
        run["properties"] = {**run.get("properties", {}), **partial["properties"]}
        run["invocations"] = partial["invocations"]
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def _results(report: Report, root: Path | None,
             catalog: Sequence[RuleEntry]) -> Iterator[dict[str, Any]]:
    index = {rule.id: position for position, rule in enumerate(catalog)}
    base = root or repo_root()
    reasons, uris = located(report, base)
    for reason in reasons:
        yield result(reason, index, uris[reason.objects[0].file or ""])
    yield from sarif_partial.results(report, lambda file: _artifact(artifact_uri(file, base)),
                                     len(catalog))


def sarif_log(report: Report, catalog: Sequence[RuleEntry],
              root: Path | None = None) -> dict[str, Any]:
    """The whole SARIF log as plain data; ``catalog``: every rule, in index order."""
    return _log(list(_results(report, root, catalog)), left_out(report), catalog,
                sarif_partial.run_facts(report))


def chunks(report: Report, catalog: Sequence[RuleEntry],
           root: Path | None = None) -> Iterator[str]:
    """SARIF as deterministic JSON in pieces (one result's text at a time)."""
    yield from iter_json(_log(Lazy(_results(report, root, catalog)), left_out(report), catalog,
                              sarif_partial.run_facts(report)))
    yield "\n"
