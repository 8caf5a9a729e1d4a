"""Markdown for a pull-request comment: verdicts per namespace, findings by severity.

Errors and warnings are listed in the open; each namespace's full reasons sit in a
collapsible ``<details>`` block so the comment stays short.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator

from asm_mode_advisor.model import Severity
from asm_mode_advisor.render.common import partial_note
from asm_mode_advisor.report import NamespaceVerdict, Reason, Report, counted
from asm_mode_advisor.text import html_text, md_code, md_text, safe_line

HEADINGS = {"error": "Errors", "warning": "Warnings", "note": "Notes"}
MAX_LISTED = 50


def cell(text: str) -> str:
    """Our own Markdown (code spans kept) safe inside a table cell: one line, pipes escaped.

    Text from the input goes through ``md_text`` or ``md_code`` instead.
    """
    return safe_line(text).replace("|", "\\|")


def where(reason: Reason) -> str:
    """``file:line`` of the finding (the field's line when known), or the object ref."""
    first = reason.objects[0] if reason.objects else None
    if first is None:
        return ""
    if first.file:
        line = reason.field_line or first.line
        return md_code(f"{first.file}:{line}" if line else first.file)
    return md_code(f"{first.kind}/{first.namespace or ''}/{first.name}".replace("//", "/"))


def item(reason: Reason) -> str:
    """One finding as a list item (and its enforcement as a nested item, when it has one)."""
    location = where(reason)
    known = " _(in baseline)_" if reason.baseline else ""
    if reason.suppressed:
        known += f" _(suppressed by {reason.suppressed_by or 'config'})_"
    enforced = ("" if reason.enforcement is None
                else f"\n  - {md_text(reason.enforcement.line())}")
    return (f"- **{reason.rule_id}** {md_text(reason.message)}"
            + (f" — {location}" if location else "")
            + f" [{', '.join(reason.matrix_rows)}]{known}{enforced}")


def _counts(reasons: list[Reason]) -> dict[str, int]:
    counts = {severity.value: 0 for severity in Severity}
    for reason in reasons:
        counts[reason.severity] += 1
    return counts


def _headline(report: Report, counts: dict[str, int]) -> str:
    mark = "❌" if counts["error"] else ("⚠️" if counts["warning"] else "✅")
    return (f"## {mark} asm-advisor: {counts['error']} error(s), {counts['warning']} "
            f"warning(s), {counts['note']} note(s)")


def _table(report: Report) -> Iterator[str]:
    yield from ("| namespace | current | recommendation | top reasons |", "|---|---|---|---|")
    for verdict in report.namespaces:
        changed = (f" (was {verdict.baseline_recommendation})"
                   if verdict.recommendation_changed and verdict.baseline_recommendation
                   else "")
        partial = " ⚠️ incomplete" if verdict.incomplete else ""
        yield (f"| {md_text(verdict.name)} | {verdict.current_mode} | "
               f"**{verdict.recommendation}**{changed}{partial} | {md_text(verdict.summary)} |")
    if report.summary.incomplete_namespaces:
        yield from ("", f"> ⚠️ **Incomplete input**: the recommendation for "
                        f"{md_text(', '.join(report.summary.incomplete_namespaces))} rests on "
                        "partial input (input errors in their files; see the details).")


def _order(reason: Reason) -> tuple[str, str, str]:
    return reason.rule_id, where(reason), reason.fingerprint


def _findings(reasons: list[Reason], counts: dict[str, int]) -> Iterator[str]:
    """The first errors and warnings by rule, place and fingerprint (only those are sorted)."""
    for severity in ("error", "warning"):
        if not counts[severity]:
            continue
        yield from ("", f"### {HEADINGS[severity]} ({counts[severity]})", "")
        chosen = (r for r in reasons if r.severity == severity)
        yield from (item(r) for r in heapq.nsmallest(MAX_LISTED, chosen, key=_order))
        if counts[severity] > MAX_LISTED:
            yield f"- … {counts[severity] - MAX_LISTED} more; see the SARIF or JSON report"


def _details(verdict: NamespaceVerdict) -> list[str]:
    # Inside HTML Markdown escapes do not apply: the name is escaped as HTML.
    summary = (f"<b>{html_text(verdict.name)}</b>: {verdict.recommendation} "
               f"(now: {verdict.current_mode}, {len(verdict.reasons)} reason(s))")
    lines = ["", f"<details><summary>{summary}</summary>", ""]
    if verdict.incomplete:
        lines.append(f"- ⚠️ {cell(partial_note(verdict, code=True))}")
    lines += [item(r) for r in verdict.reasons] or ["- no findings"]
    for waypoint in verdict.waypoints:
        served = ", ".join(waypoint.services or waypoint.workloads) or "the namespace"
        state = "exists" if waypoint.exists else "to create"
        lines.append(f"- waypoint {md_code(waypoint.name)} (for: {waypoint.for_}, {state}) "
                     f"serves: {md_text(served)}")
    if verdict.suppressed:
        lines.append(f"- {len(verdict.suppressed)} finding(s) suppressed: " + ", ".join(
            f"{s.rule_id} ({s.by})" for s in verdict.suppressed))
    return [*lines, "", "</details>"]


def _footer(report: Report) -> list[str]:
    parts = [f"{report.summary.namespaces} namespace(s)", f"{report.summary.objects} object(s)",
             f"mesh version {md_text(report.mesh_version)}"]
    if report.summary.suppressed is not None:
        parts.append(f"{report.summary.suppressed.total} finding(s) suppressed")
    if report.summary.excluded:
        parts.append(f"{report.summary.excluded} object(s) excluded")
    if report.summary.baseline is not None:
        parts.append(f"{report.summary.baseline.new} new, {report.summary.baseline.fixed} "
                     "fixed since the baseline")
    if report.errors:
        parts.append(f"{len(report.errors)} input error(s)")
    if report.summary.incomplete_namespaces:
        parts.append(f"{len(report.summary.incomplete_namespaces)} namespace(s) incomplete")
    return ["", "_" + "; ".join(parts) + "._"]


def lines(report: Report) -> Iterator[str]:
    """The PR comment line by line, a namespace's details at a time."""
    reasons = list(counted(report))
    counts = _counts(reasons)
    yield _headline(report, counts)
    yield ""
    yield from _table(report)
    yield from _findings(reasons, counts)
    if report.namespaces:
        yield from ("", "### Details")
    for verdict in report.namespaces:
        yield from _details(verdict)
    yield from _footer(report)


def chunks(report: Report, color: bool = False) -> Iterator[str]:
    """The PR comment in pieces (each line ends with a newline)."""
    return (line + "\n" for line in lines(report))


def render(report: Report, color: bool = False) -> str:
    """The PR comment."""
    return "".join(chunks(report))
