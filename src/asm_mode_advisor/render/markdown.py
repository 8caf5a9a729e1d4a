"""Markdown for a pull-request comment, never longer than GitHub accepts.

It starts with a hidden marker (the Action finds its own comment by it), then the headline
and the gate's failures, the estate as a Mermaid picture, the namespaces table, each
namespace's reasons in a collapsible ``<details>`` block, and "N more" for what did not fit.
Every block is measured as it is appended (:class:`Budget`), so no input makes the comment
longer than :data:`LIMIT`; whatever is cut is said, and is in the full report artifact.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator

from asm_mode_advisor.model import Severity
from asm_mode_advisor.render import mermaid
from asm_mode_advisor.render.common import partial_note
from asm_mode_advisor.report import NamespaceVerdict, Reason, Report, counted
from asm_mode_advisor.text import clip, html_text, md_code, md_text, safe_line

HEADINGS = {"error": "Errors", "warning": "Warnings", "note": "Notes"}
MAX_LISTED = 50
#: The first line: how the Action finds the comment to update (never "the last comment").
MARKER = "<!-- asm-advisor -->"
#: GitHub rejects a comment body over 65,536 characters.
LIMIT = 65_536
#: Longest message, path and name shown (a hostile value may be megabytes).
MESSAGE_CHARS = 400
NAME_CHARS = 100
#: Room the findings lists may take, so that the picture and the table always get some.
FINDINGS_CHARS = 24_000
#: Share of what is left after the picture that the table may take (the rest: details).
TABLE_SHARE = 0.4
#: One namespace's details block at most; a bigger one ends with "N more".
DETAILS_CHARS = 6_000
#: The picture is left out when less than this is left for it.
MIN_PICTURE = 2_000
#: Kept free for the "… N more" line that ends a cut list.
MORE_ROOM = 200
SEVERITY_ORDER = {"error": 0, "warning": 1, "note": 2}


def size(text: str) -> int:
    """What ``text`` counts against GitHub's limit at worst: UTF-16 units, newlines as CRLF."""
    return len(text.encode("utf-16-le")) // 2 + text.count("\n")


class Budget:
    """The comment block by block: a block is appended whole, or not at all if it would not fit."""

    def __init__(self, limit: int) -> None:
        self.blocks: list[str] = []
        self.left = limit

    def add(self, lines: Iterable[str], reserve: int = 0) -> bool:
        """Append ``lines`` if they fit with ``reserve`` still left after them."""
        block = "".join(line + "\n" for line in lines)
        cost = size(block)
        if cost + reserve > self.left:
            return False
        self.blocks.append(block)
        self.left -= cost
        return True


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
        return md_code(clip(f"{first.file}:{line}" if line else first.file, MESSAGE_CHARS))
    ref = f"{first.kind}/{first.namespace or ''}/{first.name}".replace("//", "/")
    return md_code(clip(ref, MESSAGE_CHARS))


def item(reason: Reason) -> str:
    """One finding as a list item (and its enforcement as a nested item, when it has one)."""
    location = where(reason)
    known = " _(in baseline)_" if reason.baseline else ""
    if reason.suppressed:
        known += f" _(suppressed by {reason.suppressed_by or 'config'})_"
    enforced = ("" if reason.enforcement is None
                else f"\n  - {md_text(clip(reason.enforcement.line(), MESSAGE_CHARS))}")
    return (f"- **{reason.rule_id}** {md_text(clip(reason.message, MESSAGE_CHARS))}"
            + (f" — {location}" if location else "")
            + f" [{', '.join(reason.matrix_rows)}]{known}{enforced}")


def _counts(reasons: list[Reason]) -> dict[str, int]:
    counts = {severity.value: 0 for severity in Severity}
    for reason in reasons:
        counts[reason.severity] += 1
    return counts


def _failing(reasons: list[Reason], fail_on: str | None) -> int | None:
    """How many counted findings fail the gate (None: ``fail_on`` fails nothing)."""
    if fail_on is None or fail_on not in SEVERITY_ORDER:
        return None
    rank = Severity(fail_on).rank
    return sum(1 for r in reasons if Severity(r.severity).rank >= rank)


def _names(names: list[str], shown: int = 10) -> str:
    """The first names, clipped and escaped, and "and N more"."""
    text = ", ".join(md_text(clip(name, NAME_CHARS)) for name in names[:shown])
    return text + (f" and {len(names) - shown} more" if len(names) > shown else "")


def _head(report: Report, reasons: list[Reason], counts: dict[str, int],
          fail_on: str | None) -> list[str]:
    """Marker, headline, the gate's verdict and the namespaces by recommendation."""
    mark = "❌" if counts["error"] else ("⚠️" if counts["warning"] else "✅")
    lines = [MARKER, f"## {mark} asm-advisor: {counts['error']} error(s), {counts['warning']} "
                     f"warning(s), {counts['note']} note(s)", ""]
    failing = _failing(reasons, fail_on)
    if failing is not None:
        lines.append(f"**Gate {'failed' if failing else 'passed'}**: {failing} finding(s) at "
                     f"or above `--fail-on {fail_on}`.")
    verdicts = sorted((rec, n) for rec, n in report.summary.by_recommendation.items() if n)
    lines.append(f"**{report.summary.namespaces} namespace(s)**: " + (", ".join(
        f"{count} {md_text(clip(rec, NAME_CHARS))}" for rec, count in verdicts) or "none") + ".")
    return lines


def _incomplete(report: Report) -> list[str]:
    names = report.summary.incomplete_namespaces
    if not names:
        return []
    return ["", f"> ⚠️ **Incomplete input**: the recommendation for {_names(names)} rests on "
                "partial input (input errors in their files; see the details)."]


def _order(reason: Reason) -> tuple[str, str, str]:
    return reason.rule_id, where(reason), reason.fingerprint


def _add_findings(budget: Budget, reasons: list[Reason], counts: dict[str, int],
                  reserve: int) -> None:
    """The first errors and warnings by rule, place and fingerprint (only those are sorted)."""
    start = budget.left
    for severity in ("error", "warning"):
        total = counts[severity]
        if not total or not budget.add(["", f"### {HEADINGS[severity]} ({total})", ""],
                                       reserve + MORE_ROOM):
            continue
        chosen = (r for r in reasons if r.severity == severity)
        shown = 0
        for reason in heapq.nsmallest(MAX_LISTED, chosen, key=_order):
            if (start - budget.left > FINDINGS_CHARS
                    or not budget.add([item(reason)], reserve + MORE_ROOM)):
                break
            shown += 1
        if shown < total:
            budget.add([f"- … {total - shown} more; see the SARIF or JSON report"], reserve)


def _add_picture(budget: Budget, report: Report, reserve: int) -> None:
    """The estate as a Mermaid flowchart, as big as it may be with room left for the rest."""
    if not report.namespaces:
        return
    # Half of what is left at most, so that the table and details keep some room.
    room = min(mermaid.MAX_CHARS, (budget.left - reserve) // 2)
    chart = mermaid.flowchart(report, max_chars=room - 1_000) if room >= MIN_PICTURE else None
    if chart is None or not budget.add(["", "### Estate", "", "```mermaid", *chart.lines, "```",
                                        "", chart.caption], reserve):
        budget.add(["", "_The picture of the estate is left out to keep this comment within "
                        "GitHub's size limit; see the full report artifact._"], reserve)


def _attention(verdict: NamespaceVerdict) -> int:
    """0 for a namespace with counted errors, 1 warnings, 2 notes, 3 nothing that counts."""
    if not verdict.gated:
        return 3
    return min((SEVERITY_ORDER.get(r.severity, 2) for r in verdict.reasons if r.counts),
               default=3)


def _row(verdict: NamespaceVerdict) -> str:
    changed = (f" (was {md_text(clip(verdict.baseline_recommendation, NAME_CHARS))})"
               if verdict.recommendation_changed and verdict.baseline_recommendation else "")
    partial = " ⚠️ incomplete" if verdict.incomplete else ""
    return (f"| {md_text(clip(verdict.name, NAME_CHARS))} | {md_text(verdict.current_mode)} | "
            f"**{md_text(verdict.recommendation)}**{changed}{partial} | "
            f"{md_text(clip(verdict.summary, MESSAGE_CHARS))} |")


def _add_table(budget: Budget, ordered: list[NamespaceVerdict], reserve: int) -> None:
    """A row per namespace, most in need of attention first, within the table's share."""
    room = int((budget.left - reserve) * TABLE_SHARE)
    start = budget.left
    if not budget.add(["", "### Namespaces", "", "| namespace | current | recommendation | "
                                                 "top reasons |", "|---|---|---|---|"],
                      reserve + MORE_ROOM):
        return
    shown = 0
    for verdict in ordered:
        row = _row(verdict)
        if start - budget.left + size(row) + 1 > room or not budget.add([row],
                                                                      reserve + MORE_ROOM):
            break
        shown += 1
    if shown < len(ordered):
        budget.add(["", f"_… {len(ordered) - shown} more namespace(s): see the full report "
                        "artifact._"], reserve)


def _detail_lines(verdict: NamespaceVerdict) -> Iterator[str]:
    if verdict.incomplete:
        yield f"- ⚠️ {cell(clip(partial_note(verdict, code=True), MESSAGE_CHARS * 2))}"
    yield from (item(r) for r in verdict.reasons)
    if not verdict.reasons:
        yield "- no findings"
    for waypoint in verdict.waypoints:
        served = clip(", ".join(waypoint.services or waypoint.workloads) or "the namespace",
                      MESSAGE_CHARS)
        state = "exists" if waypoint.exists else "to create"
        yield (f"- waypoint {md_code(clip(waypoint.name, NAME_CHARS))} (for: {waypoint.for_}, "
               f"{state}) serves: {md_text(served)}")
    if verdict.suppressed:
        listed = ", ".join(f"{s.rule_id} ({s.by})" for s in verdict.suppressed[:20])
        more = f" and {len(verdict.suppressed) - 20} more" if len(verdict.suppressed) > 20 else ""
        yield f"- {len(verdict.suppressed)} finding(s) suppressed: {listed}{more}"


def _details(verdict: NamespaceVerdict) -> list[str]:
    """One namespace's collapsible block, at most :data:`DETAILS_CHARS` long."""
    # Inside HTML Markdown escapes do not apply: the name is escaped as HTML.
    summary = (f"<b>{html_text(clip(verdict.name, NAME_CHARS))}</b>: "
               f"{html_text(verdict.recommendation)} (now: {html_text(verdict.current_mode)}, "
               f"{len(verdict.reasons)} reason(s))")
    lines = ["", f"<details><summary>{summary}</summary>", ""]
    used = size("\n".join(lines))
    body = list(_detail_lines(verdict))
    for index, line in enumerate(body):
        if used + size(line) + 1 > DETAILS_CHARS - MORE_ROOM:
            lines.append(f"- … {len(body) - index} more line(s): see the full report artifact")
            break
        lines.append(line)
        used += size(line) + 1
    return [*lines, "", "</details>"]


def _add_details(budget: Budget, ordered: list[NamespaceVerdict], reserve: int) -> int:
    """Details blocks in order while they fit; how many were added."""
    if not ordered or not budget.add(["", "### Details"], reserve):
        return 0
    for shown, verdict in enumerate(ordered):
        if not budget.add(_details(verdict), reserve):
            return shown
    return len(ordered)


def _footer(report: Report) -> list[str]:
    parts = [f"{report.summary.namespaces} namespace(s)", f"{report.summary.objects} object(s)",
             f"mesh version {md_text(clip(report.mesh_version, NAME_CHARS))}"]
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


def _more(count: int) -> list[str]:
    return ["", f"**{count} more namespace(s)** not detailed here — see the full report "
                "artifact (HTML or JSON)."]


def comment(report: Report, fail_on: str | None = "error", limit: int = LIMIT) -> list[str]:
    """The PR comment as blocks of lines, at most ``limit`` characters (:func:`size`) in all.

    The head comes first and whole (a few hundred characters of our own); the footer and the
    closing "N more" line are reserved before anything else is added, so they always fit
    (``limit`` must leave room for those three: 2,000 characters are plenty).
    """
    reasons = list(counted(report))
    counts = _counts(reasons)
    budget = Budget(limit)
    budget.add(_head(report, reasons, counts, fail_on))  # our own text: a few hundred chars
    footer = _footer(report)
    reserve = size("".join(f"{line}\n" for line in [*footer, *_more(len(report.namespaces))]))
    budget.add(_incomplete(report), reserve)
    _add_findings(budget, reasons, counts, reserve)
    _add_picture(budget, report, reserve)
    ordered = sorted(report.namespaces, key=_attention)
    _add_table(budget, ordered, reserve)
    shown = _add_details(budget, ordered, reserve)
    budget.add(footer)
    if shown < len(ordered):
        budget.add(_more(len(ordered) - shown))
    return budget.blocks


def chunks(report: Report, color: bool = False, *, fail_on: str | None = "error",
           limit: int = LIMIT) -> Iterator[str]:
    """The PR comment in pieces (each ends with a newline)."""
    return iter(comment(report, fail_on, limit))


def render(report: Report, color: bool = False, *, fail_on: str | None = "error",
           limit: int = LIMIT) -> str:
    """The PR comment."""
    return "".join(comment(report, fail_on, limit))
