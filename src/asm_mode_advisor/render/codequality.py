"""GitLab Code Quality report: the findings GitLab shows in a merge request.

The report is a JSON array of issues, each with ``description``, ``check_name``,
``fingerprint``, ``severity`` (``info``, ``minor``, ``major``, ``critical`` or ``blocker``)
and ``location`` (``path`` relative to the repository root, ``lines.begin``); GitLab reads it
from a job's ``artifacts:reports:codequality``. Only findings that count toward the gate are
listed (not suppressed, not in the baseline), and only those with a file to point at, as in
SARIF. GitLab compares the fingerprints of the merge request with its target's, so the
finding's own fingerprint (rule, object and field; never a line) is used as it is.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from asm_mode_advisor.render.common import (
    artifact_path,
    location_line,
    reason_file,
    repo_root,
    sort_by,
)
from asm_mode_advisor.report import Reason, Report, counted

#: The advisor's severities on GitLab's scale, as linters commonly map theirs.
SEVERITIES = {"error": "major", "warning": "minor", "note": "info"}


def located(report: Report, root: Path) -> list[tuple[str, Reason]]:
    """Counted findings with a file, as (path, finding), by path, line, rule and fingerprint."""
    paths: dict[str, str] = {}
    found: list[tuple[str, Reason]] = []
    for reason in counted(report):
        file = reason_file(reason)
        if file is None:
            continue  # from stdin or the cluster: no file to point at
        if file not in paths:
            paths[file] = artifact_path(file, root)
        found.append((paths[file], reason))
    sort_by(found, lambda pair: pair[0], lambda pair: location_line(pair[1]),
            lambda pair: pair[1].rule_id, lambda pair: pair[1].fingerprint)
    return found


def issue(path: str, reason: Reason) -> dict[str, Any]:
    """One Code Quality issue for a finding in the file at ``path``."""
    return {
        "type": "issue",
        "description": f"{reason.rule_id} {reason.message} [{', '.join(reason.matrix_rows)}]",
        "check_name": f"{reason.rule_id} {reason.rule_name}",
        "fingerprint": reason.fingerprint,
        "severity": SEVERITIES.get(reason.severity, "info"),
        "location": {"path": path, "lines": {"begin": location_line(reason)}},
    }


def chunks(report: Report, root: Path | None = None) -> Iterator[str]:
    """The report as deterministic JSON (sorted keys), one issue's text at a time."""
    found = located(report, root or repo_root())
    if not found:
        yield "[]\n"
        return
    for index, (path, reason) in enumerate(found):
        text = json.dumps(issue(path, reason), indent=2, sort_keys=True, ensure_ascii=False)
        yield ("[\n" if index == 0 else ",\n") + "\n".join("  " + line
                                                          for line in text.splitlines())
    yield "\n]\n"


def render(report: Report, root: Path | None = None) -> str:
    """The whole Code Quality report."""
    return "".join(chunks(report, root))

