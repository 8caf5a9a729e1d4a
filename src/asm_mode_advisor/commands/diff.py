"""``asm-advisor diff OLD.json NEW.json``: what changed between two JSON reports.

Prints changed recommendations, then new and fixed findings (matched by fingerprint).
Exit 0 when the reports read, 2 when one cannot be read.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

from asm_mode_advisor.commands.common import err, json_text, out
from asm_mode_advisor.commands.options import ListFormat, ListFormatOption
from asm_mode_advisor.exit_codes import ExitCode
from asm_mode_advisor.smallfile import REPORT_LIMIT, FileProblem, parse_json, read_text
from asm_mode_advisor.text import safe_line


class ReportError(Exception):
    """A report file that cannot be read; the message is one line."""


@dataclass
class Snapshot:
    """What a report says: mode per namespace and findings by fingerprint."""

    modes: dict[str, str] = field(default_factory=dict)
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_report(path: Path) -> Snapshot:
    """The recommendations and findings of a JSON report file.

    Missing fields are skipped; a field of the wrong type is an error naming it.
    """
    try:
        data = parse_json(read_text(path, REPORT_LIMIT))
    except FileProblem as exc:
        raise ReportError(f"{path}: not a readable JSON report: {exc}") from None
    namespaces = data.get("namespaces") if isinstance(data, dict) else None
    if not isinstance(namespaces, list):
        raise ReportError(f"{path}: not an asm-advisor JSON report (no 'namespaces' list)")
    snapshot = Snapshot()
    for index, verdict in enumerate(namespaces):
        if not isinstance(verdict, dict) or not isinstance(verdict.get("name"), str):
            raise ReportError(f"{path}: namespaces[{index}] is not an object with a name")
        snapshot.modes[verdict["name"]] = _text(verdict.get("recommendation"))
        reasons = verdict.get("reasons") or []
        if not isinstance(reasons, list):
            raise ReportError(f"{path}: namespaces[{index}].reasons is not a list")
        for reason in reasons:
            # A suppressed reason explains a verdict but is not a finding that counts.
            if (isinstance(reason, dict) and isinstance(reason.get("fingerprint"), str)
                    and reason.get("suppressed") is not True):
                snapshot.findings.setdefault(reason["fingerprint"], reason)
    return snapshot


def _text(value: object) -> str:
    """A field shown as text: strings and numbers as they are, anything else ``?``."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return "?"
    return str(value)


def _finding_line(reason: dict[str, Any]) -> str:
    objects = reason.get("objects")
    first = objects[0] if isinstance(objects, list) and objects else None
    first = first if isinstance(first, dict) else {}
    line = _text(reason.get("fieldLine") or first.get("line"))
    where = f" ({_text(first.get('file'))}:{line})" if first.get("file") and line != "?" else ""
    return (f"{_text(reason.get('severity')):<7} {_text(reason.get('ruleId'))} "
            f"{_text(reason.get('message', ''))}{where}")


def diff_lines(old: Snapshot, new: Snapshot) -> list[str]:
    """The difference as text lines (empty list: nothing changed)."""
    lines: list[str] = []
    for namespace in sorted(set(old.modes) | set(new.modes)):
        before, after = old.modes.get(namespace), new.modes.get(namespace)
        if before != after:
            lines.append(f"~ {namespace}: {before or '(absent)'} -> {after or '(absent)'}")
    added = sorted((new.findings[k] for k in set(new.findings) - set(old.findings)),
                   key=_finding_line)
    fixed = sorted((old.findings[k] for k in set(old.findings) - set(new.findings)),
                   key=_finding_line)
    lines += [f"+ {_finding_line(r)}" for r in added]
    lines += [f"- {_finding_line(r)}" for r in fixed]
    return lines


def _finding_data(reason: dict[str, Any]) -> dict[str, Any]:
    """A finding of ``diff -o json``: its rule, severity, message and first object's place."""
    objects = reason.get("objects")
    first = objects[0] if isinstance(objects, list) and objects else None
    first = first if isinstance(first, dict) else {}
    data = {"fingerprint": _text(reason.get("fingerprint")),
            "ruleId": _text(reason.get("ruleId")), "severity": _text(reason.get("severity")),
            "message": _text(reason.get("message", "")),
            "file": _text(first.get("file")) if first.get("file") else None,
            "line": _text(reason.get("fieldLine") or first.get("line"))}
    return {key: value for key, value in data.items() if value not in (None, "?")}


def diff_data(old: Snapshot, new: Snapshot) -> dict[str, Any]:
    """The difference as data: changed recommendations, new and fixed findings, counts."""
    changed = [{"namespace": name, "before": old.modes.get(name), "after": new.modes.get(name)}
               for name in sorted(set(old.modes) | set(new.modes))
               if old.modes.get(name) != new.modes.get(name)]
    added = sorted((_finding_data(new.findings[k]) for k in set(new.findings) - set(old.findings)),
                   key=lambda item: (item.get("ruleId", ""), item["fingerprint"]))
    fixed = sorted((_finding_data(old.findings[k]) for k in set(old.findings) - set(new.findings)),
                   key=lambda item: (item.get("ruleId", ""), item["fingerprint"]))
    return {"changed": changed, "new": added, "fixed": fixed,
            "summary": {"changed": len(changed), "new": len(added), "fixed": len(fixed)}}


def diff_command(
    old: Annotated[Path, typer.Argument(help="The earlier JSON report.", dir_okay=False,
                                        metavar="OLD.json")],
    new: Annotated[Path, typer.Argument(help="The later JSON report.", dir_okay=False,
                                        metavar="NEW.json")],
    output: ListFormatOption = ListFormat.TEXT,
) -> None:
    """Show changed recommendations and new (+) and fixed (-) findings between two reports."""
    try:
        before, after = read_report(old), read_report(new)
    except ReportError as exc:
        err(f"error: {exc}")
        raise typer.Exit(ExitCode.INPUT) from None
    if output is ListFormat.JSON:
        out(json_text(diff_data(before, after)), nl=False)
        return
    lines = diff_lines(before, after)
    changed = sum(1 for line in lines if line.startswith("~"))
    added = sum(1 for line in lines if line.startswith("+"))
    fixed = sum(1 for line in lines if line.startswith("-"))
    for line in lines:
        out(safe_line(line))  # names come from the reports: no line may start a CI command
    out(f"{changed} recommendation(s) changed, {added} new finding(s), {fixed} fixed")


def register(app: typer.Typer) -> None:
    """Add ``diff`` to the app."""
    app.command("diff")(diff_command)
