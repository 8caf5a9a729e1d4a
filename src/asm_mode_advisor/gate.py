"""The exit-code policy of ``--fail-on`` (codes in ``exit_codes``): passed, failed, bad input.

A finding fails the gate when its severity is at or above the threshold, it is not
marked suppressed, and it is not in the baseline. Input errors (exit 2) win over failures (1).
"""

from __future__ import annotations

from pathlib import Path

from asm_mode_advisor.config import FailOn
from asm_mode_advisor.exit_codes import ExitCode
from asm_mode_advisor.model import Severity
from asm_mode_advisor.report import Reason, Report, counted
from asm_mode_advisor.suppress import apply_baseline, load_baseline


def failing(report: Report, fail_on: FailOn) -> list[Reason]:
    """Reasons at or above the threshold (none for ``never``)."""
    if fail_on is FailOn.NEVER:
        return []
    threshold = Severity(fail_on.value).rank
    return [r for r in counted(report) if Severity(r.severity).rank >= threshold]


def exit_code(report: Report, fail_on: FailOn) -> ExitCode:
    """INPUT for input errors, else FAILED when a finding fails the gate, else OK."""
    if report.has_errors:
        return ExitCode.INPUT
    return ExitCode.FAILED if failing(report, fail_on) else ExitCode.OK


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
