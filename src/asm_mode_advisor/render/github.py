"""GitHub Actions workflow commands: one ``::error``/``::warning``/``::notice`` per finding.

GitHub shows only the first ten annotations of each level per step, so errors come first.
Paths are relative to the repository root, as in SARIF.
"""

from __future__ import annotations

from collections.abc import Iterator
from operator import attrgetter
from pathlib import Path

from asm_mode_advisor.gate import counted
from asm_mode_advisor.model import Severity
from asm_mode_advisor.render.order import sort_by
from asm_mode_advisor.render.sarif import artifact_path, location_line, repo_root
from asm_mode_advisor.report import Reason, Report

LEVELS = {"error": "error", "warning": "warning", "note": "notice"}


def escape_data(text: str) -> str:
    """Escape a message the way the Actions runner unescapes it."""
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """Escape a property value (``file``, ``title``): also ``:`` and ``,``."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(reason: Reason, root_path: str | None = None,
               paths: dict[str, str] | None = None) -> str:
    """One workflow command for a finding (``paths``: files already made relative)."""
    first = reason.objects[0] if reason.objects else None
    properties = []
    if first is not None and first.file and not first.file.startswith("<"):
        known = {} if paths is None else paths
        path = known.get(first.file)
        if path is None:
            root = Path(root_path) if root_path else repo_root()
            path = known[first.file] = artifact_path(first.file, root)
        properties += [f"file={escape_property(path)}", f"line={location_line(reason)}"]
    properties.append(f"title={escape_property(f'{reason.rule_id} {reason.rule_name}')}")
    message = f"{reason.message} [{', '.join(reason.matrix_rows)}]"
    return f"::{LEVELS[reason.severity]} {','.join(properties)}::{escape_data(message)}"


#: Most severe first (error, warning, note), then by rule and fingerprint.
_SEVERITY_ORDER = {severity.value: -severity.rank for severity in Severity}


def ordered(report: Report) -> list[Reason]:
    """The counted findings, most severe first, then by rule and fingerprint."""
    reasons = list(counted(report))
    sort_by(reasons, lambda r: _SEVERITY_ORDER[r.severity], attrgetter("rule_id"),
            attrgetter("fingerprint"))
    return reasons


def chunks(report: Report, color: bool = False) -> Iterator[str]:
    """Every counted finding as an annotation line, most severe first."""
    root = str(repo_root())
    paths: dict[str, str] = {}
    for reason in ordered(report):
        yield annotation(reason, root, paths) + "\n"


def render(report: Report, color: bool = False) -> str:
    """Every counted finding as an annotation, most severe first."""
    return "".join(chunks(report))
