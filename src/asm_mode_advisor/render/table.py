"""The terminal view: one row per namespace, then each namespace's reasons and waypoints."""

from __future__ import annotations

import io
import os
import re
import sys
from collections.abc import Iterator
from itertools import accumulate, pairwise
from typing import Any

from rich.cells import cell_len, get_character_cell_size
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from asm_mode_advisor.model import Severity
from asm_mode_advisor.render.common import partial_note
from asm_mode_advisor.report import NamespaceVerdict, Reason, Report
from asm_mode_advisor.text import safe_line

MODE_STYLE = {"sidecar": "yellow", "ambient": "green", "ambient-waypoint": "cyan",
              "conflict": "red", "none": "dim", "not-applicable": "dim"}
EFFECT_MARK = {"blocks-ambient": "✗", "needs-waypoint": "◆", "favours-ambient": "✓",
               "migration-chore": "•", "info": "·"}
EFFECT_WORDS = {"blocks-ambient": "blocks ambient", "needs-waypoint": "needs waypoint",
                "favours-ambient": "favours ambient", "migration-chore": "chore",
                "info": "info"}
#: Marks a finding that fails the gate: a mark of its own, never one of the advice marks.
GATE_MARK = "✖"
GATE_STYLE = "bold red"
MAX_REASONS_PER_RULE = 5
#: The width when stdout is not a terminal and ``COLUMNS`` is unset (files, CI logs).
WIDTH = 110
#: Narrower than this, not even a namespace name and its verdict fit: lines overflow.
MIN_WIDTH = 20
#: After the recommendation of a namespace read in part (input errors in its files).
INCOMPLETE_MARK = "*"


def output_width() -> int:
    """Columns to lay out for: ``COLUMNS``, else the terminal's width, else ``WIDTH``.

    ``COLUMNS`` wins as it does for rich and most tools, so a test or a pipe can fix it;
    a value that is not a positive number is ignored.
    """
    columns = os.environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return max(int(columns), MIN_WIDTH)
    try:
        if sys.stdout.isatty():
            return max(os.get_terminal_size(sys.stdout.fileno()).columns, MIN_WIDTH)
    except (OSError, ValueError):
        pass  # no real terminal behind stdout (captured by a test, or closed)
    return WIDTH


def _where(reason: Reason) -> str:
    if not reason.objects:
        return ""
    first = reason.objects[0]
    if first.source == "cluster":
        return " (cluster)"
    if first.file:
        return f" ({first.file}:{first.line})" if first.line else f" ({first.file})"
    return ""


#: Overview rows laid out per rich table. The whole overview as one table holds every
#: row's cells and segments at once (about 3 KiB a namespace); slices of it with the
#: widths fixed print the same text. Worth 10% of the peak memory of ``-o table`` at 50k
#: documents (docs/performance.md, "What each memory trick is worth").
OVERVIEW_SLICE = 256
_HEADERS = ("namespace", "current", "recommendation", "top reasons")


def _overview_cells(verdict: NamespaceVerdict) -> tuple[str, Text, Text, str]:
    return (safe_line(verdict.name),
            Text(verdict.current_mode, style=MODE_STYLE.get(verdict.current_mode, "")),
            Text(verdict.recommendation + (INCOMPLETE_MARK if verdict.incomplete else ""),
                 style="bold " + MODE_STYLE.get(verdict.recommendation, "")),
            safe_line(verdict.summary))


#: Cells of a table's borders and padding around four columns: 5 rules and 4 x 2 spaces.
_TABLE_FRAME = 13
#: The narrowest "top reasons" column worth keeping names and verdicts unbroken for.
_MIN_REASONS = 10


def unbroken(report: Report, width: int) -> bool:
    """True when every namespace name and verdict fits on one line of its column.

    Then those columns never wrap and only the reasons fold; on a terminal too narrow for
    that, every column folds, so that no line is wider than the terminal.
    """
    def widest(header: str, cells: Iterator[str]) -> int:
        return max([cell_len(header), *map(cell_len, cells)])

    verdicts = report.namespaces
    needed = (widest(_HEADERS[0], (safe_line(v.name) for v in verdicts))
              + widest(_HEADERS[1], (v.current_mode for v in verdicts))
              + widest(_HEADERS[2], (_overview_cells(v)[2].plain for v in verdicts)))
    return needed + _MIN_REASONS + _TABLE_FRAME <= width


def _overview_table(rows: list[tuple[str, Text, Text, str]], widths: list[int] | None,
                    head: bool = True, title: bool = True, whole: bool = True) -> Table:
    """The overview's table for ``rows``; ``widths`` (with padding) fix its columns.

    ``whole``: names and verdicts are never wrapped (see ``unbroken``).
    """
    table = Table(title="asm-advisor: data-plane mode per namespace" if head and title else None,
                  title_justify="left", expand=False, show_header=head)
    for index, header in enumerate(_HEADERS):
        # Long words fold rather than end in "…": a narrow terminal loses no word.
        table.add_column(header, no_wrap=whole and index in (0, 2), overflow="fold",
                         width=None if widths is None else widths[index] - 2)
    for row in rows:
        table.add_row(*row)
    return table


def _overview_widths(console: Console, report: Report, whole: bool = True) -> list[int]:
    """The column widths (with padding) rich gives the overview as one table.

    They depend only on each column's widest cell and longest word, so a table of the
    few rows that hold those is laid out instead of the whole overview, and the widths are
    read off its top edge: a corner, then each column's run of rule characters, one
    divider between columns.
    """
    options = console.options
    extremes: dict[tuple[int, int], tuple[int, tuple[str, Text, Text, str]]] = {}
    for verdict in report.namespaces:
        cells = _overview_cells(verdict)
        for column, cell in enumerate[str | Text](cells):
            for bound, size in enumerate(Measurement.get(console, options, cell)):
                best = extremes.get((column, bound))
                if best is None or size > best[0]:
                    extremes[(column, bound)] = (size, cells)
    proxy = _overview_table([cells for _, cells in extremes.values()], None, title=False,
                            whole=whole)
    top = "".join(segment.text for segment in console.render_lines(proxy, options)[0])
    return [len(run) for run in top.rstrip()[1:-1].split("┳")]


def _overview(console: Console, report: Report) -> Iterator[str]:
    """The overview table, slice by slice (edges between slices left out)."""
    verdicts = report.namespaces
    whole = unbroken(report, console.width)
    if len(verdicts) <= OVERVIEW_SLICE:
        console.print(_overview_table([_overview_cells(v) for v in verdicts], None,
                                      whole=whole))
        yield "".join(_taken(console))
        return
    widths = _overview_widths(console, report, whole)
    for start in range(0, len(verdicts), OVERVIEW_SLICE):
        part = verdicts[start:start + OVERVIEW_SLICE]
        console.print(_overview_table([_overview_cells(v) for v in part], widths,
                                      head=start == 0, whole=whole))
        lines = _taken(console)
        first = 0 if start == 0 else 1  # a later slice's top edge
        last = len(lines) if start + OVERVIEW_SLICE >= len(verdicts) else -1  # bottom edge
        yield "".join(lines[first:last])


def _taken(console: Console) -> list[str]:
    """What ``console`` printed since last taken, as lines without trailing blanks."""
    buffer = console.file
    assert isinstance(buffer, io.StringIO)
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    # Table cells pad to full width; trailing blanks only make diffs and copies noisy.
    return [line.rstrip() + "\n" for line in text.splitlines()]


#: Part of a line: its text and a rich style ("" for none).
Segment = tuple[str, str]
#: A row of the hanging layout: a label and the text that wraps beside it.
Row = tuple[list[Segment], list[Segment]]

_WORD = re.compile(r"\s*\S+\s*")


def _chop(word: str, width: int) -> list[str]:
    """A word longer than ``width`` cells cut into pieces of at most ``width`` cells."""
    pieces, piece, used = [], "", 0
    for char in word:
        size = get_character_cell_size(char)
        if piece and used + size > width:
            pieces.append(piece)
            piece, used = "", 0
        piece += char
        used += size
    return [*pieces, piece] if piece else pieces


def breaks(text: str, width: int) -> list[int]:
    """Where to break one line of ``text`` so each part fits ``width`` cells.

    Words keep their trailing spaces; a word that does not fit starts a new line, and one
    longer than a line is folded. This is how rich folds text, written out because laying
    out a rich grid for every namespace made the table the slowest output by far.
    """
    found: list[int] = []
    offset = 0
    for match in _WORD.finditer(text):
        start, word = match.start(), match.group(0)
        length = cell_len(word.rstrip())
        if width - offset >= length:
            offset += cell_len(word)
        elif length > width:
            pieces = _chop(word, width)
            for index, piece in enumerate(pieces):
                if start:
                    found.append(start)
                if index == len(pieces) - 1:
                    offset = cell_len(piece)
                else:
                    start += len(piece)
        elif offset and start:
            found.append(start)
            offset = cell_len(word)
    return found


def fold(text: str, width: int) -> list[str]:
    """``text`` as lines of at most ``width`` cells (its own newlines kept)."""
    lines: list[str] = []
    for part in text.split("\n"):
        part = part.expandtabs(8)
        cuts = [0, *breaks(part, width), len(part)]
        lines.extend(part[a:b] for a, b in pairwise(cuts))
    return lines


def _wrapped(segments: list[Segment], width: int, first: list[Segment], rest: str,
             color: bool) -> Iterator[str | Text]:
    """``segments`` folded to ``width`` cells; the first line after ``first``, others ``rest``.

    Plain strings without colours; with them, styled rich text cut at the same places.
    Names and messages come from the input: control characters are shown escaped.
    """
    segments = [(safe_line(text), style) for text, style in segments]
    first = [(safe_line(text), style) for text, style in first]
    lines = fold("".join(text for text, _ in segments), width)
    if not color:
        head = "".join(text for text, _ in first)
        for index, line in enumerate(lines):
            yield (head if index == 0 else rest) + line
        return
    styled = Text.assemble(*segments).divide(_cut_points(lines))
    for index, piece in enumerate(styled):
        # A line's trailing space sits inside its colour codes, where no rstrip finds it:
        # dropped here, it cannot push a full-width line into the next terminal row.
        piece.rstrip()
        yield (Text.assemble(*first) if index == 0 else Text(rest)) + piece


def _hanging(rows: list[Row], color: bool, width: int = WIDTH) -> Iterator[str | Text]:
    """Two columns so that long lines wrap under their text, not under the marker.

    The label column is as wide as the widest label, then one space, then the text folded
    to the rest of the width, as a rich grid would lay it out (one per namespace made the
    table the slowest output by far).
    """
    widths = [sum(cell_len(text) for text, _ in label) for label, _ in rows]
    label_width = max(widths)
    indent = " " * (label_width + 1)
    for (label, segments), own in zip(rows, widths, strict=True):
        gap = (" " * (label_width - own + 1), "")
        yield from _wrapped(segments, max(width - label_width - 1, 1), [*label, gap], indent,
                            color)


def _cut_points(lines: list[str]) -> list[int]:
    return list(accumulate(len(line) for line in lines[:-1]))


def threshold(fail_on: str | None) -> int | None:
    """The lowest severity rank that fails the gate (None: nothing fails)."""
    if fail_on is None or fail_on not in {severity.value for severity in Severity}:
        return None
    return Severity(fail_on).rank


def fails(reason: Reason, rank: int | None) -> bool:
    """True when the reason counts toward the gate and is at or above ``rank``."""
    return rank is not None and reason.counts and Severity(reason.severity).rank >= rank


def failing_count(report: Report, fail_on: str | None) -> int:
    """Findings that fail the gate, once each, as ``gate.failing`` counts them."""
    rank = threshold(fail_on)
    return len({r.fingerprint for v in report.namespaces if v.gated for r in v.reasons
                if fails(r, rank)})


def legend(fail_on: str | None) -> str:
    """One line (of at most ``WIDTH`` cells) explaining the marks of the reasons."""
    marks = [f"{EFFECT_MARK[effect]} {word}" for effect, word in EFFECT_WORDS.items()]
    if threshold(fail_on) is not None:
        marks.insert(0, f"{GATE_MARK} fails the gate (--fail-on {fail_on})")
    return "  ".join(marks)


def _reason_rows(verdict: NamespaceVerdict, rank: int | None = None) -> list[Row]:
    rows: list[Row] = []
    shown: dict[str, int] = {}
    for reason in verdict.reasons:
        shown[reason.rule_id] = shown.get(reason.rule_id, 0) + 1
        if shown[reason.rule_id] > MAX_REASONS_PER_RULE:
            continue
        mark = f" {EFFECT_MARK.get(reason.effect, '-')} "
        label = ([(GATE_MARK, GATE_STYLE), (mark, ""), (reason.rule_id, GATE_STYLE)]
                 if fails(reason, rank) else [(" " + mark, ""), (reason.rule_id, "bold")])
        text = [(reason.message, ""), (_where(reason), "dim"),
                (f" [{', '.join(reason.matrix_rows)}]", "magenta")]
        if reason.suppressed:
            text.append((f" (suppressed by {reason.suppressed_by or 'config'})", "yellow"))
        rows.append((label, text))
        if reason.enforcement is not None:
            rows.append(([("", "")], [(f"↳ {reason.enforcement.line()}", "dim")]))
    for rule_id, count in sorted(shown.items()):
        if count > MAX_REASONS_PER_RULE:
            rows.append(([("         ", "")], [(
                f"… {count - MAX_REASONS_PER_RULE} more {rule_id} reason(s); see --output json",
                "dim")]))
    return rows


def _details(verdict: NamespaceVerdict, color: bool, rank: int | None = None,
             width: int = WIDTH) -> Iterator[str | Text]:
    """A namespace's heading, reasons, waypoints and benefits, line by line."""
    yield ""
    heading = [(f"{verdict.name}: ", "bold"),
               (verdict.recommendation, "bold " + MODE_STYLE.get(verdict.recommendation, "")),
               (f"  (now: {verdict.current_mode}, {verdict.objects} objects)", "bold")]
    yield from _wrapped(heading, width, [], "", color)
    rows = _reason_rows(verdict, rank if verdict.gated else None)
    if verdict.incomplete:
        rows.insert(0, ([(f"  {INCOMPLETE_MARK}", "bold red")], [(partial_note(verdict), "red")]))
    for waypoint in verdict.waypoints:
        served = ", ".join(waypoint.services or waypoint.workloads) or "the namespace"
        state = "exists" if waypoint.exists else "to create"
        rows.append(([("  waypoint", "cyan")], [
            (f"{waypoint.name} (for: {waypoint.for_}, {state}) serves: {served}", "cyan")]))
    for index, benefit in enumerate(verdict.benefits):
        rows.append(([("  benefits" if index == 0 else "", "dim")],
                     [(f"{benefit.text} [{benefit.row}]", "dim")]))
    if rows:
        yield from _hanging(rows, color, width)


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


def _summary_line(report: Report) -> str:
    """Counts of the whole run in one line, with what suppressions and exclusions left out."""
    summary = report.summary
    counts = ", ".join(f"{count} {mode}" for mode, count in summary.by_recommendation.items())
    origin = ("the cluster" if report.source == "cluster" else f"{summary.files} file(s)")
    line = (f"{summary.namespaces} namespaces ({counts}); {summary.objects} objects from "
            f"{origin}; {summary.errors} input error(s)")
    if summary.suppressed is not None:
        line += f"; {summary.suppressed.total} finding(s) suppressed"
    if summary.excluded:
        line += f"; {summary.excluded} object(s) excluded"
    if summary.excluded_files:
        line += f"; {summary.excluded_files} file(s) excluded"
    return line + f"; mesh version {report.mesh_version}"


def chunks(report: Report, color: bool = False, *, fail_on: str | None = "error",
           quiet: bool = False, width: int | None = None) -> Iterator[str]:
    """The terminal view in pieces: the overview, each namespace, the summary.

    ``fail_on`` marks the findings that fail the gate and counts them in the footer;
    ``quiet`` leaves out the namespaces' details (and so the legend of their marks);
    ``width`` (default: ``output_width()``) is the longest line in cells.
    """
    width = output_width() if width is None else width
    # markup=False: names are text, never rich markup ("[/oops]" or a hidden "[link=...]").
    console = Console(file=io.StringIO(), width=width, force_terminal=color,
                      no_color=not color, highlight=False, emoji=False, markup=False,
                      color_system="standard" if color else None)

    def taken() -> str:
        return "".join(_taken(console))

    yield from _overview(console, report)
    rank = threshold(fail_on)
    if report.namespaces and not quiet:
        console.print()
        console.print(legend(fail_on), style="dim")
        yield taken()
    for verdict in [] if quiet else report.namespaces:
        lines = list(_details(verdict, color, rank, width))
        if color:
            console.print(Text("\n").join(Text(line) if isinstance(line, str) else line
                                           for line in lines), soft_wrap=True)
            yield taken()
        else:
            yield "".join(str(line).rstrip() + "\n" for line in lines)
    console.print()
    console.print(safe_line(_summary_line(report)))
    if fail_on is not None:
        failed = failing_count(report, fail_on)
        console.print(f"{failed} finding(s) fail the gate (--fail-on {fail_on})",
                      style=GATE_STYLE if failed else "")
    if report.summary.incomplete_namespaces:
        console.print(f"{INCOMPLETE_MARK} incomplete (recommendation rests on partial input): "
                      f"{safe_line(', '.join(report.summary.incomplete_namespaces))}",
                      style="red")
    if report.cluster is not None:
        console.print(safe_line(_cluster_line(report.cluster)), style="dim")
    yield taken()


def render(report: Report, color: bool = False, *, fail_on: str | None = "error",
           quiet: bool = False, width: int | None = None) -> str:
    """The whole terminal view as text (ANSI colours only when ``color``)."""
    return "".join(chunks(report, color, fail_on=fail_on, quiet=quiet, width=width))
