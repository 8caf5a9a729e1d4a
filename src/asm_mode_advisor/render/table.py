"""The terminal view: one row per namespace, then each namespace's reasons and waypoints."""

from __future__ import annotations

import io

from rich.console import Console
from rich.table import Table
from rich.text import Text

from asm_mode_advisor.report import NamespaceVerdict, Reason, Report

MODE_STYLE = {"sidecar": "yellow", "ambient": "green", "ambient-waypoint": "cyan",
              "conflict": "red", "none": "dim"}
EFFECT_MARK = {"blocks-ambient": "✗", "needs-waypoint": "◆", "favours-ambient": "✓",
               "migration-chore": "•", "info": "·"}
MAX_REASONS_PER_RULE = 5
WIDTH = 110


def _where(reason: Reason) -> str:
    if not reason.objects:
        return ""
    first = reason.objects[0]
    if first.source == "cluster":
        return " (cluster)"
    if first.file:
        return f" ({first.file}:{first.line})" if first.line else f" ({first.file})"
    return ""


def _overview(report: Report) -> Table:
    table = Table(title="asm-advisor: data-plane mode per namespace", title_justify="left",
                  expand=False)
    table.add_column("namespace", no_wrap=True)
    table.add_column("current")
    table.add_column("recommendation", no_wrap=True)
    table.add_column("top reasons")
    for verdict in report.namespaces:
        table.add_row(verdict.name,
                      Text(verdict.current_mode, style=MODE_STYLE.get(verdict.current_mode, "")),
                      Text(verdict.recommendation,
                           style="bold " + MODE_STYLE.get(verdict.recommendation, "")),
                      verdict.summary)
    return table


def _details(console: Console, verdict: NamespaceVerdict) -> None:
    console.print()
    heading = Text(f"{verdict.name}: ", style="bold")
    heading.append(verdict.recommendation, style="bold " + MODE_STYLE.get(
        verdict.recommendation, ""))
    heading.append(f"  (now: {verdict.current_mode}, {verdict.objects} objects)")
    console.print(heading)
    shown: dict[str, int] = {}
    for reason in verdict.reasons:
        shown[reason.rule_id] = shown.get(reason.rule_id, 0) + 1
        if shown[reason.rule_id] > MAX_REASONS_PER_RULE:
            continue
        line = Text(f"  {EFFECT_MARK.get(reason.effect, '-')} ")
        line.append(f"{reason.rule_id} ", style="bold")
        line.append(reason.message)
        line.append(_where(reason), style="dim")
        line.append(f" [{', '.join(reason.matrix_rows)}]", style="magenta")
        console.print(line)
    hidden = {rid: n - MAX_REASONS_PER_RULE for rid, n in shown.items()
              if n > MAX_REASONS_PER_RULE}
    for rule_id, count in sorted(hidden.items()):
        console.print(Text(f"    … {count} more {rule_id} reason(s); see --output json",
                           style="dim"))
    for waypoint in verdict.waypoints:
        served = ", ".join(waypoint.services or waypoint.workloads) or "the namespace"
        state = "exists" if waypoint.exists else "to create"
        console.print(Text(f"  waypoint {waypoint.name} (for: {waypoint.for_}, {state}) "
                           f"serves: {served}", style="cyan"))
    if verdict.benefits:
        console.print(Text("  benefits: " + "; ".join(f"{b.text} [{b.row}]"
                                                      for b in verdict.benefits), style="dim"))


def render(report: Report, color: bool = False) -> str:
    """The whole terminal view as text (ANSI colours only when ``color``)."""
    buffer = io.StringIO()
    console = Console(file=buffer, width=WIDTH, force_terminal=color, no_color=not color,
                      highlight=False, emoji=False, color_system="standard" if color else None)
    console.print(_overview(report))
    for verdict in report.namespaces:
        _details(console, verdict)
    summary = report.summary
    counts = ", ".join(f"{count} {mode}" for mode, count in summary.by_recommendation.items())
    console.print()
    console.print(f"{summary.namespaces} namespaces ({counts}); {summary.objects} objects from "
                  f"{summary.files} file(s); {summary.errors} input error(s); mesh version "
                  f"{report.mesh_version}")
    return buffer.getvalue()
