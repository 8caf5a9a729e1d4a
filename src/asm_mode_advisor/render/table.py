"""The terminal view: one row per namespace, then each namespace's reasons and waypoints."""

from __future__ import annotations

import io
from typing import Any

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


def _hanging(rows: list[tuple[Text, Text]]) -> Table:
    """Two columns so that long lines wrap under their text, not under the marker."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in rows:
        grid.add_row(label, text)
    return grid


def _reason_rows(verdict: NamespaceVerdict) -> list[tuple[Text, Text]]:
    rows: list[tuple[Text, Text]] = []
    shown: dict[str, int] = {}
    for reason in verdict.reasons:
        shown[reason.rule_id] = shown.get(reason.rule_id, 0) + 1
        if shown[reason.rule_id] > MAX_REASONS_PER_RULE:
            continue
        label = Text(f"  {EFFECT_MARK.get(reason.effect, '-')} ")
        label.append(reason.rule_id, style="bold")
        text = Text(reason.message)
        text.append(_where(reason), style="dim")
        text.append(f" [{', '.join(reason.matrix_rows)}]", style="magenta")
        rows.append((label, text))
    for rule_id, count in sorted(shown.items()):
        if count > MAX_REASONS_PER_RULE:
            rows.append((Text("         "), Text(
                f"… {count - MAX_REASONS_PER_RULE} more {rule_id} reason(s); see --output json",
                style="dim")))
    return rows


def _details(console: Console, verdict: NamespaceVerdict) -> None:
    console.print()
    heading = Text(f"{verdict.name}: ", style="bold")
    heading.append(verdict.recommendation, style="bold " + MODE_STYLE.get(
        verdict.recommendation, ""))
    heading.append(f"  (now: {verdict.current_mode}, {verdict.objects} objects)")
    console.print(heading)
    rows = _reason_rows(verdict)
    for waypoint in verdict.waypoints:
        served = ", ".join(waypoint.services or waypoint.workloads) or "the namespace"
        state = "exists" if waypoint.exists else "to create"
        rows.append((Text("  waypoint", style="cyan"), Text(
            f"{waypoint.name} (for: {waypoint.for_}, {state}) serves: {served}", style="cyan")))
    for index, benefit in enumerate(verdict.benefits):
        rows.append((Text("  benefits" if index == 0 else "", style="dim"),
                     Text(f"{benefit.text} [{benefit.row}]", style="dim")))
    if rows:
        console.print(_hanging(rows))


def _cluster_line(facts: dict[str, Any]) -> str:
    """Live facts of a scan in one line: server, nodes, mesh version source, ztunnel, waypoints."""
    mesh = facts.get("meshVersion") or {}
    parts = [f"server {facts.get('serverVersion') or 'unknown'}",
             f"{facts.get('nodes') if facts.get('nodes') is not None else '?'} node(s)",
             f"mesh version from {mesh.get('source', 'default')}",
             "ztunnel present" if facts.get("ztunnelPresent") else "no ztunnel found",
             f"{len(facts.get('waypoints') or [])} waypoint(s)"]
    if facts.get("partial"):
        parts.append(f"PARTIAL: {len(facts.get('forbidden') or [])} kind(s) unreadable")
    return "cluster: " + "; ".join(parts)


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
    origin = ("the cluster" if report.source == "cluster" else f"{summary.files} file(s)")
    console.print(f"{summary.namespaces} namespaces ({counts}); {summary.objects} objects from "
                  f"{origin}; {summary.errors} input error(s); mesh version "
                  f"{report.mesh_version}")
    if report.cluster is not None:
        console.print(_cluster_line(report.cluster), style="dim")
    # Grid columns pad to full width; trailing blanks only make diffs and copies noisy.
    return "".join(line.rstrip() + "\n" for line in buffer.getvalue().splitlines())
