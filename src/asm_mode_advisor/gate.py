"""The exit-code policy of ``--fail-on``: 0 passed, 1 failed, 2 input or usage errors.

A finding fails the gate when its severity is at or above the threshold, it is not
marked suppressed, and it is not in the baseline. Input errors (exit 2) win over failures (1).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from asm_mode_advisor.config import FailOn
from asm_mode_advisor.model import Severity
from asm_mode_advisor.report import Reason, Report
from asm_mode_advisor.suppress import apply_baseline, load_baseline

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INPUT = 2


def counted(report: Report) -> Iterator[Reason]:
    """Reasons that count toward the gate, once each (mesh-wide ones repeat per namespace).

    Suppressed and baselined reasons stay in the report (they explain the verdict) but do
    not count.
    """
    seen: set[str] = set()
    for verdict in report.namespaces:
        for reason in verdict.reasons:
            if not reason.counts or reason.fingerprint in seen:
                continue
            seen.add(reason.fingerprint)
            yield reason


def failing(report: Report, fail_on: FailOn) -> list[Reason]:
    """Reasons at or above the threshold (none for ``never``)."""
    if fail_on is FailOn.NEVER:
        return []
    threshold = Severity(fail_on.value).rank
    return [r for r in counted(report) if Severity(r.severity).rank >= threshold]


def exit_code(report: Report, fail_on: FailOn) -> int:
    """2 for input errors, else 1 when a finding fails the gate, else 0."""
    if report.has_errors:
        return EXIT_INPUT
    return EXIT_FAILED if failing(report, fail_on) else EXIT_OK


def summary_line(report: Report, fail_on: FailOn) -> str:
    """One line for stderr: why the gate failed, or that it passed."""
    failed = failing(report, fail_on)
    if not failed:
        return f"gate passed (--fail-on {fail_on.value})"
    ids = sorted({r.rule_id for r in failed})
    return (f"gate failed: {len(failed)} finding(s) at or above {fail_on.value} "
            f"({', '.join(ids)})")


def with_baseline(report: Report, baseline: Path | None) -> Report:
    """The report marked against a baseline file (unchanged without one).

    Raises:
        BaselineError: the baseline cannot be read.
    """
    if baseline is None:
        return report
    return apply_baseline(report, load_baseline(baseline))
