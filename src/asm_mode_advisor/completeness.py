"""Input that cannot carry a verdict: nothing read, everything ignored, namespaces read in part.

A run over no objects (empty stdin from a failed ``helm template … |``, an empty folder)
must not pass a gate, and a recommendation read from a file with input errors says so.
An input error is tied to namespaces through its file: every namespace with an object read
from the file that has the error (stdin counts as one file) is *incomplete*. An error in a
file that gave no object at all cannot be tied to a namespace; it still fails the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from asm_mode_advisor.config import Config
from asm_mode_advisor.model import STDIN_NAME, InputError, Resource
from asm_mode_advisor.report import ErrorEntry, NamespaceVerdict, Report

CONCATENATION_HINT = ("hint: several documents may have been concatenated without '---' "
                      "between them")
#: Duplicate keys in stdin from this many errors on suggest a missing ``---``.
DUPLICATE_KEYS_FOR_HINT = 2


def partial_namespaces(resources: Iterable[Resource],
                       errors: Iterable[InputError]) -> dict[str, dict[str, int]]:
    """For each namespace read in part: the files with input errors and their error counts."""
    per_file = Counter(error.file for error in errors if error.file)
    if not per_file:
        return {}
    found: dict[str, dict[str, int]] = {}
    for resource in resources:
        file = resource.file
        if file is not None and file in per_file and resource.namespace:
            found.setdefault(resource.namespace, {})[file] = per_file[file]
    return found


def mark_incomplete(verdicts: list[NamespaceVerdict],
                    partial: dict[str, dict[str, int]]) -> list[NamespaceVerdict]:
    """The verdicts with ``incomplete``, the error count and the files set where they apply."""
    if not partial:
        return verdicts
    marked = []
    for verdict in verdicts:
        files = partial.get(verdict.name)
        if files:
            verdict = replace(verdict, incomplete=True, input_errors=sum(files.values()),
                              input_error_files=tuple(sorted(files)))
        marked.append(verdict)
    return marked


def incomplete_names(verdicts: Iterable[NamespaceVerdict]) -> list[str] | None:
    """Names of the incomplete namespaces, or None when every one is complete."""
    names = sorted(v.name for v in verdicts if v.incomplete)
    return names or None


def describe_inputs(paths: Sequence[str]) -> str:
    """The inputs as a user named them (``-`` is stdin), for a one-line message."""
    shown = [STDIN_NAME if path == "-" else path if path.isprintable() else repr(path)
             for path in paths]
    return ", ".join(shown) or "the input"


def empty_problem(report: Report, inputs: str, config: Config) -> str | None:
    """Why a report with no namespace cannot pass a gate, or None when it has some.

    Objects that are all cluster-scoped give no namespace either; that input was read and is
    not empty, so it passes.
    """
    if report.namespaces:
        return None
    suppressed = report.summary.suppressed
    source = f"config {config.path}" if config.path else "the config"
    if suppressed is not None and suppressed.ignored_namespaces:
        return (f"{source} ignores every namespace "
                f"({len(suppressed.ignored_namespaces)}); nothing left to check")
    if report.summary.excluded:
        return (f"{source} excludes every namespaced object ({report.summary.excluded} "
                "excluded); nothing left to check")
    if report.summary.objects == 0:
        return f"no Kubernetes objects found in {inputs}"
    return None


def require_namespaces(report: Report, inputs: str, config: Config,
                       allow_empty: bool) -> tuple[Report, str | None]:
    """The report with an error added when nothing could be checked (unless ``allow_empty``).

    Returns the report and the problem (None when there is none), so that the caller can
    print it as a note when it is allowed.
    """
    problem = empty_problem(report, inputs, config)
    if problem is None or allow_empty:
        return report, problem
    summary = report.summary.model_copy(update={"errors": report.summary.errors + 1})
    return report.model_copy(update={"errors": [*report.errors, ErrorEntry(message=problem)],
                                     "summary": summary}), problem


def concatenation_hint(errors: Iterable[ErrorEntry | InputError]) -> str | None:
    """A hint when duplicate keys in stdin suggest documents joined without ``---``."""
    duplicates = sum(1 for error in errors
                     if error.file == STDIN_NAME and error.message.startswith("duplicate key "))
    return CONCATENATION_HINT if duplicates >= DUPLICATE_KEYS_FOR_HINT else None
