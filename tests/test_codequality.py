"""GitLab Code Quality report (``-o codequality``): format, what counts, order, golden file."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from asm_mode_advisor.render import codequality
from asm_mode_advisor.report import ObjectRef, Reason, Report
from ci_helpers import cli
from test_mermaid import estate, reason

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "ci" / "codequality.json"
SEVERITIES = {"info", "minor", "major", "critical", "blocker"}


def in_file(finding: Reason, file: str, line: int, **changes: Any) -> Reason:
    ref = ObjectRef(kind="Service", namespace="shop", name=finding.message, file=file, line=line)
    return dataclasses.replace(finding, objects=(ref,), fingerprint="", **changes)


def report_with(reasons: list[Reason]) -> Report:
    base = estate(1)
    return base.model_copy(update={"namespaces": [
        dataclasses.replace(base.namespaces[0], reasons=reasons)]})


def test_examples_match_golden(update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    result = cli("analyze", "examples", "-o", "codequality")
    assert result.exit_code in (0, 1), result.stderr
    if update_golden:
        GOLDEN.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == GOLDEN.read_text(encoding="utf-8")


def test_every_issue_has_the_fields_gitlab_reads(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    issues = json.loads(cli("analyze", "examples", "-o", "codequality").stdout)
    assert issues
    for issue in issues:
        assert issue["description"] and issue["check_name"].startswith("AMA")
        assert issue["severity"] in SEVERITIES
        assert issue["location"]["path"].startswith("examples/")
        assert isinstance(issue["location"]["lines"]["begin"], int)
        assert issue["location"]["lines"]["begin"] >= 1
    fingerprints = [issue["fingerprint"] for issue in issues]
    assert len(set(fingerprints)) == len(fingerprints)  # GitLab shows one issue per fingerprint
    places = [(i["location"]["path"], i["location"]["lines"]["begin"]) for i in issues]
    assert places == sorted(places)


def test_only_findings_that_count_are_listed(tmp_path: Path) -> None:
    counts = in_file(reason("shop", "AMA501", "error"), "b.yaml", 9)
    warning = in_file(reason("shop", "AMA111", "warning", " w"), "a.yaml", 3)
    suppressed = in_file(reason("shop", "AMA203", "note", " s"), "a.yaml", 1,
                         suppressed=True, suppressed_by="annotation")
    known = in_file(reason("shop", "AMA202", "note", " k"), "a.yaml", 2, baseline=True)
    stdin = in_file(reason("shop", "AMA204", "note", " i"), "<stdin>", 2)
    text = codequality.render(report_with([counts, warning, suppressed, known, stdin]),
                              root=Path.cwd())
    issues = json.loads(text)
    assert [(i["check_name"], i["severity"], i["location"]["path"]) for i in issues] == [
        ("AMA111 rule", "minor", "a.yaml"), ("AMA501 rule", "major", "b.yaml")]
    assert issues[1]["fingerprint"] == counts.fingerprint
    assert issues[1]["location"]["lines"] == {"begin": 9}


def test_nothing_to_report_is_an_empty_array() -> None:
    assert codequality.render(report_with([])) == "[]\n"


def test_output_is_deterministic_json_with_sorted_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    first = cli("analyze", "examples", "-o", "codequality").stdout
    assert first == cli("analyze", "examples", "-o", "codequality").stdout
    issues = json.loads(first)
    assert first == json.dumps(issues, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
