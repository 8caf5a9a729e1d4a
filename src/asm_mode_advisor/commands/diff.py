"""``asm-advisor diff OLD.json NEW.json``: what changed between two JSON reports.

Prints changed recommendations, then new and fixed findings (matched by fingerprint).
Exit 0 when the reports read, 2 when one cannot be read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer

EXIT_INPUT = 2


class ReportError(Exception):
    """A report file that cannot be read; the message is one line."""


@dataclass
class Snapshot:
    """What a report says: mode per namespace and findings by fingerprint."""

    modes: dict[str, str] = field(default_factory=dict)
    findings: dict[str, dict[str, Any]] = field(default_factory=dict)


def read_report(path: Path) -> Snapshot:
    """The recommendations and findings of a JSON report file."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ReportError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"{path}: not a JSON report: {exc}") from None
    namespaces = data.get("namespaces") if isinstance(data, dict) else None
    if not isinstance(namespaces, list):
        raise ReportError(f"{path}: not an asm-advisor JSON report (no 'namespaces' list)")
    snapshot = Snapshot()
    for verdict in namespaces:
        if not isinstance(verdict, dict) or not isinstance(verdict.get("name"), str):
            continue
        snapshot.modes[verdict["name"]] = str(verdict.get("recommendation", "?"))
        for reason in verdict.get("reasons") or []:
            if isinstance(reason, dict) and isinstance(reason.get("fingerprint"), str):
                snapshot.findings.setdefault(reason["fingerprint"], reason)
    return snapshot


def _finding_line(reason: dict[str, Any]) -> str:
    objects = reason.get("objects") or []
    first = objects[0] if objects and isinstance(objects[0], dict) else {}
    line = reason.get("fieldLine") or first.get("line")
    where = f" ({first['file']}:{line})" if first.get("file") and line else ""
    return f"{reason.get('severity', '?'):<7} {reason.get('ruleId', '?')} " \
           f"{reason.get('message', '')}{where}"


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


def diff_command(
    old: Annotated[Path, typer.Argument(help="The earlier JSON report.", dir_okay=False)],
    new: Annotated[Path, typer.Argument(help="The later JSON report.", dir_okay=False)],
) -> None:
    """Show changed recommendations and new (+) and fixed (-) findings between two reports."""
    try:
        before, after = read_report(old), read_report(new)
    except ReportError as exc:
        typer.echo(f"asm-advisor: error: {exc}", err=True)
        raise typer.Exit(EXIT_INPUT) from None
    lines = diff_lines(before, after)
    changed = sum(1 for line in lines if line.startswith("~"))
    added = sum(1 for line in lines if line.startswith("+"))
    fixed = sum(1 for line in lines if line.startswith("-"))
    for line in lines:
        typer.echo(line)
    typer.echo(f"{changed} recommendation(s) changed, {added} new finding(s), {fixed} fixed")


def register(app: typer.Typer) -> None:
    """Add ``diff`` to the app."""
    app.command("diff")(diff_command)
