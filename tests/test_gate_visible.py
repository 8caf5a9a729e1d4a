"""What fails the gate is visible: table marks, legend and footer; ``rules``; ``--quiet``."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ci_helpers
from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.config import ConfigError, FailOn, parse_config
from asm_mode_advisor.gate import failing
from asm_mode_advisor.render import table
from asm_mode_advisor.rules import ALL_RULES
from asm_mode_advisor.sources.files import load_paths
from ci_helpers import AMBIENT_NS, SIDECAR_RESOURCE, cli, l7_pr, write

repo = ci_helpers.repo

REPO = Path(__file__).resolve().parent.parent
ANSI = re.compile(r"\x1b\[[0-9;]*m")
MARKED_REASON = re.compile(r"^✖ \S AMA\d{3} ")
LEGEND = re.compile(r"^✗ blocks ambient  ◆ needs waypoint  ✓ favours ambient  • chore  · info$")


def lines_of(text: str) -> list[str]:
    return text.splitlines()


@pytest.fixture
def no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")


@pytest.mark.usefixtures("no_color")
def test_failing_finding_is_marked_with_a_legend_and_counted_in_the_footer(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    result = cli("analyze", "manifests")
    assert result.exit_code == 1
    lines = lines_of(result.stdout)
    marked = [line for line in lines if MARKED_REASON.match(line)]
    assert len(marked) == 1 and " AMA501 " in marked[0]
    assert any(line.startswith("  ◆ AMA101 ") for line in lines)  # advice, not failing
    assert "✖ fails the gate (--fail-on error)  ✗ blocks ambient" in result.stdout
    assert lines[-1] == "1 finding(s) fail the gate (--fail-on error)"


@pytest.mark.usefixtures("no_color")
def test_nothing_is_marked_when_nothing_fails(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    result = cli("analyze", "manifests", "--fail-on", "never")
    assert result.exit_code == 0
    assert table.GATE_MARK not in result.stdout
    assert any(LEGEND.match(line) for line in lines_of(result.stdout))
    assert lines_of(result.stdout)[-1] == "0 finding(s) fail the gate (--fail-on never)"


@pytest.mark.usefixtures("no_color")
def test_threshold_decides_which_findings_are_marked(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SIDECAR_RESOURCE)  # AMA508 is a warning
    at_error = cli("analyze", "m.yaml").stdout
    at_warning = cli("analyze", "m.yaml", "--fail-on", "warning").stdout
    assert not any(MARKED_REASON.match(line) for line in lines_of(at_error))
    assert any(MARKED_REASON.match(line) and "AMA508" in line for line in lines_of(at_warning))
    assert lines_of(at_warning)[-1] == "1 finding(s) fail the gate (--fail-on warning)"


@pytest.mark.usefixtures("no_color")
def test_suppressed_finding_is_not_marked_and_not_counted(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, ".asm-advisor.yaml", "rules:\n  disable: [AMA501]\n")
    result = cli("analyze", "manifests")
    assert result.exit_code == 0
    assert not any(MARKED_REASON.match(line) for line in lines_of(result.stdout))
    assert "(suppressed by config)" in result.stdout
    assert lines_of(result.stdout)[-1] == "0 finding(s) fail the gate (--fail-on error)"


def test_gate_mark_is_bold_red_and_distinct_from_advice_marks(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    loaded = load_paths(["manifests"], slim_bodies=True)
    report = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report
    coloured = table.render(report, True, fail_on="error")
    assert "\x1b[1;31m" + table.GATE_MARK in coloured
    assert table.GATE_MARK not in table.EFFECT_MARK.values()
    plain = table.render(report, False, fail_on="never")
    assert table.GATE_MARK not in plain and "\x1b[" not in plain


@pytest.mark.parametrize("fail_on", ["error", "warning", "note", "never"])
def test_footer_counts_what_the_gate_counts(fail_on: str,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    loaded = load_paths(["examples"], slim_bodies=True)
    report = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report
    expected = len(failing(report, FailOn(fail_on)))
    assert table.failing_count(report, fail_on) == expected
    footer = table.render(report, fail_on=fail_on).splitlines()[-1]
    assert footer == f"{expected} finding(s) fail the gate (--fail-on {fail_on})"
    if fail_on == "note":
        assert expected > 0  # the examples do have findings to count


def test_rules_lists_each_rules_default_severity() -> None:
    result = cli("rules")
    assert result.exit_code == 0
    lines = lines_of(result.stdout)
    assert len(lines) == len(ALL_RULES)
    for rule, line in zip(ALL_RULES, lines, strict=True):
        fields = line.split()
        assert fields[:3] == [rule.id, rule.name, rule.severity.value], line
    severities = {line.split()[2] for line in lines}
    assert {"error", "warning"} <= severities  # not one value printed for every rule


@pytest.mark.usefixtures("no_color")
def test_quiet_prints_only_the_overview_and_the_summary(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    full = cli("analyze", "manifests")
    quiet = cli("analyze", "manifests", "--quiet")
    assert quiet.exit_code == full.exit_code == 1
    assert "benefits" in full.stdout and "AMA501" in full.stdout
    assert "benefits" not in quiet.stdout and "AMA501" not in quiet.stdout
    assert "fails the gate" not in quiet.stdout  # no legend without marks
    assert "┃ namespace" in quiet.stdout and "│ shop" in quiet.stdout
    assert lines_of(quiet.stdout)[-1] == "1 finding(s) fail the gate (--fail-on error)"
    assert "namespaces (" in quiet.stdout
    assert len(lines_of(quiet.stdout)) < len(lines_of(full.stdout))
    assert "gate failed" in quiet.stderr


def test_quiet_does_not_change_machine_formats(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    for output in ("json", "sarif", "markdown"):
        assert (cli("analyze", "manifests", "-q", "-o", output).stdout
                == cli("analyze", "manifests", "-o", output).stdout)


def test_scan_accepts_quiet() -> None:
    result = cli("scan", "--help")
    assert "--quiet" in ANSI.sub("", result.stdout)


def ci_doc() -> str:
    return (REPO / "docs" / "ci.md").read_text(encoding="utf-8")


def test_ci_doc_config_example_is_a_valid_config() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", ci_doc(), re.S)
    [example] = [b for b in blocks if b.startswith("meshVersion:")]
    config = parse_config(example, "docs/ci.md")  # unknown rule ids would raise
    assert config.rules.disable and config.ignore and config.exclude
    with pytest.raises(ConfigError, match="unknown rule"):
        parse_config(example.replace("AMA404", "AMA402"), "docs/ci.md")


def test_ci_doc_installs_from_the_repository_not_pypi() -> None:
    installs = [line for line in ci_doc().splitlines() if "pip install" in line]
    assert installs
    assert not any(re.search(r"pip install\s+asm-advisor\b", line) for line in installs)
    assert not any("git+" in line for line in installs)
