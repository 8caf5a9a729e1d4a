"""Exit codes of the gate: thresholds, input errors, and the pull-request scenario."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

import ci_helpers
from asm_mode_advisor.config import FailOn
from asm_mode_advisor.gate import exit_code, failing
from asm_mode_advisor.report import Report
from ci_helpers import AMBIENT_NS, SIDECAR_RESOURCE, cli, l7_pr, write

repo = ci_helpers.repo


def test_pr_adding_l7_routing_without_waypoint_fails_with_sarif_on_the_fault_line(
        repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    result = cli("analyze", "manifests", "-o", "sarif")
    assert result.exit_code == 1
    sarif = json.loads(result.stdout)
    errors = [r for r in sarif["runs"][0]["results"] if r["level"] == "error"]
    assert [r["ruleId"] for r in errors] == ["AMA501"]
    location = errors[0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "manifests/reviews.yaml"
    lines = (repo / "manifests/reviews.yaml").read_text().splitlines()
    assert lines[location["region"]["startLine"] - 1].strip().startswith("fault:")
    assert "gate failed" in result.stderr and "AMA501" in result.stderr


def test_same_pr_with_a_waypoint_passes(repo: Path) -> None:
    l7_pr(repo, with_waypoint=True)
    result = cli("analyze", "manifests", "-o", "sarif")
    assert result.exit_code == 0, result.stderr
    levels = {r["level"] for r in json.loads(result.stdout)["runs"][0]["results"]}
    assert "error" not in levels


@pytest.mark.parametrize(("fail_on", "expected"), [
    ("error", 0), ("warning", 1), ("note", 1), ("never", 0)])
def test_thresholds_on_a_warning(repo: Path, fail_on: str, expected: int) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SIDECAR_RESOURCE)
    assert cli("analyze", "m.yaml", "--fail-on", fail_on).exit_code == expected


@pytest.mark.parametrize(("fail_on", "expected"), [
    ("error", 1), ("warning", 1), ("note", 1), ("never", 0)])
def test_thresholds_on_an_error(repo: Path, fail_on: str, expected: int) -> None:
    l7_pr(repo, with_waypoint=False)
    assert cli("analyze", "manifests", "--fail-on", fail_on).exit_code == expected


def test_notes_fail_only_at_note(repo: Path) -> None:
    # A Service gives the namespace advice (AMA203, a note); an empty one would get none.
    write(repo, "m.yaml", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n---\n"
                          "apiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: shop}\n"
                          "spec: {selector: {app: web}, ports: [{port: 80}]}\n")
    assert cli("analyze", "m.yaml", "--fail-on", "warning").exit_code == 0
    assert cli("analyze", "m.yaml", "--fail-on", "note").exit_code == 1


def test_input_errors_win_over_failures(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, "manifests/broken.yaml", "kind: [unclosed\n")
    assert cli("analyze", "manifests").exit_code == 2


def test_exit_code_is_the_same_for_every_output_format(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    codes = {fmt: cli("analyze", "manifests", "-o", fmt).exit_code
             for fmt in ("table", "json", "yaml", "sarif", "markdown", "github")}
    assert set(codes.values()) == {1}, codes


def test_unknown_threshold_is_a_usage_error(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS)
    assert cli("analyze", "m.yaml", "--fail-on", "fatal").exit_code == 2


def test_output_file_gets_the_format_and_terminal_gets_the_table(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    result = cli("analyze", "manifests", "-o", "sarif", "--output-file", "out.sarif")
    assert result.exit_code == 1
    assert json.loads((repo / "out.sarif").read_text())["version"] == "2.1.0"
    assert "data-plane mode per namespace" in result.stdout


def test_failing_dedupes_mesh_wide_reasons_and_skips_baselined(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    report = Report.model_validate_json(cli("analyze", "manifests", "-o", "json").stdout)
    assert [r.rule_id for r in failing(report, FailOn.ERROR)] == ["AMA501"]
    marked = report.model_copy(update={"namespaces": [
        replace(v, reasons=[replace(r, baseline=True) for r in v.reasons])
        for v in report.namespaces]})
    assert exit_code(marked, FailOn.NOTE) == 0
