"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` per finding.

GitHub shows only the first ten annotations of each level per step, so errors come first.
Paths are relative to the repository root, as in SARIF.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from pathlib import Path

from asm_mode_advisor.model import Severity
from asm_mode_advisor.render.common import (
    artifact_path,
    location_line,
    partial_note,
    reason_file,
    repo_root,
    sort_by,
)
from asm_mode_advisor.report import Reason, Report, counted
from asm_mode_advisor.text import gh_data, gh_property

LEVELS = {"error": "error", "warning": "warning", "note": "notice"}


#: A message and a property value as the runner unescapes them; control characters from
#: the input are escaped first, so no name can end the command or colour the log.
escape_data = gh_data
escape_property = gh_property


def annotation(reason: Reason, root_path: str | None = None,
               paths: dict[str, str] | None = None) -> str:
    """One workflow command for a finding (``paths``: files already made relative)."""
    file = reason_file(reason)
    properties = []
    if file is not None:
        known = {} if paths is None else paths
        path = known.get(file)
        if path is None:
            root = Path(root_path) if root_path else repo_root()
            path = known[file] = artifact_path(file, root)
        properties += [f"file={escape_property(path)}", f"line={location_line(reason)}"]
    properties.append(f"title={escape_property(f'{reason.rule_id} {reason.rule_name}')}")
    message = f"{reason.message} [{', '.join(reason.matrix_rows)}]"
    if reason.enforcement is not None:
        message += f"\n{reason.enforcement.line()}"  # a second line of the annotation
    return f"::{LEVELS[reason.severity]} {','.join(properties)}::{escape_data(message)}"


#: Most severe first (error, warning, note), then by rule and fingerprint.
_SEVERITY_ORDER = {severity.value: -severity.rank for severity in Severity}


def ordered(report: Report) -> list[Reason]:
    """The counted findings, most severe first, then by rule and fingerprint."""
    reasons = list(counted(report))
    sort_by(reasons, lambda r: _SEVERITY_ORDER[r.severity], attrgetter("rule_id"),
            attrgetter("fingerprint"))
    return reasons


def left_out(report: Report) -> str | None:
    """A notice saying how many findings were suppressed and objects excluded (None: none)."""
    parts = []
    if report.summary.suppressed is not None:
        parts.append(f"{report.summary.suppressed.total} finding(s) suppressed")
    if report.summary.excluded:
        parts.append(f"{report.summary.excluded} object(s) excluded")
    if not parts:
        return None
    return f"::notice title=asm-advisor::{escape_data('; '.join(parts))}"


def chunks(report: Report, color: bool = False) -> Iterator[str]:
    """Every counted finding as an annotation line, most severe first, then what was left out."""
    root = str(repo_root())
    paths: dict[str, str] = {}
    for reason in ordered(report):
        yield annotation(reason, root, paths) + "\n"
    for verdict in report.namespaces:
        if verdict.incomplete:
            yield (f"::warning title={escape_property('asm-advisor incomplete input')}::"
                   f"{escape_data(f'namespace {verdict.name}: {partial_note(verdict)}')}\n")
    notice = left_out(report)
    if notice is not None:
        yield notice + "\n"


def render(report: Report, color: bool = False) -> str:
    """Every counted finding as an annotation, most severe first."""
    return "".join(chunks(report))
