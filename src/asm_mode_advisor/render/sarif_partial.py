"""SARIF for namespaces read in part (``completeness.py``): GitHub shows what it can.

A file with input errors that holds objects of an incomplete namespace gets a ``note``
result of the pseudo-rule ``AMA000``, at its first error's line. The run lists every
incomplete namespace in ``properties.incompleteNamespaces`` and, one per namespace, in a
``toolExecutionNotifications`` warning, which also covers stdin (no file to point at).
Nothing is added to a complete run, so its log stays as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator
from typing import Any

from asm_mode_advisor.render.common import partial_note
from asm_mode_advisor.report import Report

INPUT_RULE_ID = "AMA000"
INPUT_RULE_NAME = "incomplete-input"
_HELP = ("Input errors in a file leave its objects read in part, so the recommendation of "
         "every namespace with an object in that file rests on partial input. Fix the errors "
         "listed in the report (or on standard error) and run again.")


def input_rule(docs_base: str) -> dict[str, Any]:
    """The descriptor of the pseudo-rule behind the input notes."""
    return {
        "id": INPUT_RULE_ID,
        "name": INPUT_RULE_NAME,
        "shortDescription": {"text": "Recommendation rests on partial input"},
        "fullDescription": {"text": _HELP},
        "help": {"text": _HELP, "markdown": _HELP},
        "helpUri": f"{docs_base}/blob/main/docs/usage.md#bad-input",
        "defaultConfiguration": {"level": "note"},
        "properties": {"tags": ["asm-advisor", "input"], "precision": "high"},
    }


def error_files(report: Report) -> dict[str, tuple[int, int, list[str]]]:
    """Each real file with input errors behind an incomplete namespace.

    Values: the first error's line, the number of errors, the namespaces it leaves partial.
    """
    namespaces: dict[str, list[str]] = {}
    for verdict in report.namespaces:
        for file in verdict.input_error_files or ():
            if not file.startswith("<"):
                namespaces.setdefault(file, []).append(verdict.name)
    found: dict[str, tuple[int, int, list[str]]] = {}
    for error in report.errors:
        if error.file in namespaces:
            line, count, names = found.get(error.file, (error.line or 1, 0,
                                                        sorted(namespaces[error.file])))
            found[error.file] = (min(line, error.line or line), count + 1, names)
    return found


def results(report: Report, uri: Callable[[str], dict[str, Any]],
            rule_index: int) -> Iterator[dict[str, Any]]:
    """A ``note`` per file with input errors (``uri``: a file to its artifact location)."""
    for file, (line, count, names) in sorted(error_files(report).items()):
        location: dict[str, Any] = uri(file)
        digest = hashlib.sha256("\x1f".join([INPUT_RULE_ID, file, *names]).encode())
        yield {
            "ruleId": INPUT_RULE_ID,
            "ruleIndex": rule_index,
            "level": "note",
            "message": {"text": f"{count} input error(s) in this file: the recommendation for "
                                f"namespace(s) {', '.join(names)} rests on partial input"},
            "locations": [{"physicalLocation": {"artifactLocation": location,
                                                "region": {"startLine": line}}}],
            "partialFingerprints": {"asmAdvisorObject/v1": digest.hexdigest()[:16]},
            "properties": {"namespaces": names},
        }


def run_facts(report: Report) -> dict[str, Any]:
    """Run-level keys naming the incomplete namespaces (none for a complete run)."""
    names = report.summary.incomplete_namespaces
    if not names:
        return {}
    notes = [{"level": "warning",
              "message": {"text": f"namespace {verdict.name}: {partial_note(verdict)}"}}
             for verdict in report.namespaces if verdict.incomplete]
    return {"properties": {"incompleteNamespaces": list(names)},
            "invocations": [{"executionSuccessful": True,
                             "toolExecutionNotifications": notes}]}

