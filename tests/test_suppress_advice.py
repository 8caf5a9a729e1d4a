"""Suppressions never change the advice; exclusions leave objects out and are counted.

Issue 11 (part 2): an ``asm-advisor.io/ignore`` annotation or the config takes a finding out
of the gate and the listed findings, but the verdict, its waypoints and its reasons stay
as they were, with the suppressed reasons marked.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

import ci_helpers
from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.config import Config, ConfigError, RuleSettings, parse_config
from asm_mode_advisor.gate import counted
from asm_mode_advisor.report import Report, verdict_data
from asm_mode_advisor.rules import ALL_RULES
from asm_mode_advisor.sources.files import load_paths
from asm_mode_advisor.suppress import IGNORE_ANNOTATION
from ci_helpers import AMBIENT_NS, SERVICE, VIRTUAL_SERVICE, cli, l7_pr, write

repo = ci_helpers.repo

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
NAMES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith("."))
MARKED = " (suppressed)"


def advice(report: Report) -> list[dict[str, Any]]:
    """Each namespace's JSON without what suppressions add (marks, lists, summary notes)."""
    namespaces = []
    for verdict in report.namespaces:
        data = verdict_data(verdict)
        data.pop("suppressed", None)
        data["summary"] = data["summary"].replace(MARKED, "")
        for reason in data["reasons"]:
            reason.pop("suppressed", None)
            reason.pop("suppressedBy", None)
        namespaces.append(data)
    return namespaces


def example_report(name: str, config: Config | None = None, annotate: bool = False) -> Report:
    loaded = load_paths([str(EXAMPLES / name)], slim_bodies=True)
    resources = loaded.resources
    if annotate:  # ignore everything, on every object
        resources = [dataclasses.replace(r, annotations={**r.annotations,
                                                         IGNORE_ANNOTATION: "*"})
                     for r in resources]
    return analyze(resources, loaded.errors, Settings(config=config or Config()),
                   files=loaded.files).report


@pytest.mark.parametrize("name", NAMES)
def test_ignore_all_annotations_leave_every_verdict_of_an_example_unchanged(name: str) -> None:
    plain, ignored = example_report(name), example_report(name, annotate=True)
    assert advice(ignored) == advice(plain)
    assert list(counted(ignored)) == []
    reasons = [r for v in ignored.namespaces for r in v.reasons]
    assert reasons and all(r.suppressed and r.suppressed_by == "annotation" for r in reasons)
    assert ignored.summary.suppressed is not None and ignored.summary.suppressed.total > 0


@pytest.mark.parametrize("name", NAMES)
def test_config_disabling_every_rule_leaves_every_verdict_of_an_example_unchanged(
        name: str) -> None:
    config = Config(rules=RuleSettings(disable=tuple(rule.id for rule in ALL_RULES)))
    plain, disabled = example_report(name), example_report(name, config=config)
    assert advice(disabled) == advice(plain)
    assert [v.recommendation for v in disabled.namespaces] == [
        v.recommendation for v in plain.namespaces]
    assert list(counted(disabled)) == []
    assert list(counted(plain)) != []  # the comparison above is not between two empty runs


def test_advice_comparison_notices_a_changed_verdict() -> None:
    plain = example_report("canary-routing")
    changed = plain.namespaces[0]
    other = plain.model_copy(update={"namespaces": [
        dataclasses.replace(changed, recommendation="ambient", waypoints=())]})
    assert advice(other) != advice(plain)


# --- the canary from the issue --------------------------------------------------------------

def canary(root: Path, annotation: str | None) -> None:
    """examples/canary-routing, its VirtualService annotated to ignore ``annotation``."""
    shutil.copytree(EXAMPLES / "canary-routing", root / "canary")
    traffic = root / "canary" / "traffic.yaml"
    if annotation is not None:
        text = traffic.read_text(encoding="utf-8")
        head = "kind: VirtualService\nmetadata:\n"
        assert head in text
        traffic.write_text(text.replace(head, head + f"  annotations:\n    {IGNORE_ANNOTATION}: "
                                        f"\"{annotation}\"\n", 1), encoding="utf-8")


def test_suppressed_canary_routing_stays_ambient_waypoint_in_every_format(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    canary(repo, "vs-http-routing")
    result = cli("analyze", "canary", "-o", "json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    verdict = data["namespaces"][0]
    assert verdict["recommendation"] == "ambient-waypoint"
    assert [w["services"] for w in verdict["waypoints"]] == [["reviews"]]
    assert "needs no L7 feature" not in result.stdout
    routing = next(r for r in verdict["reasons"] if r["ruleId"] == "AMA101")
    assert (routing["suppressed"], routing["suppressedBy"]) == (True, "annotation")
    assert data["summary"]["suppressed"]["total"] == 1

    table = cli("analyze", "canary").stdout
    assert "vs-http-routing (suppressed)" in table
    assert "(suppressed by annotation)" in table
    assert "; 1 finding(s) suppressed;" in " ".join(table.split())
    markdown = cli("analyze", "canary", "-o", "markdown").stdout
    assert "_(suppressed by annotation)_" in markdown and "1 finding(s) suppressed" in markdown
    sarif = json.loads(cli("analyze", "canary", "-o", "sarif").stdout)["runs"][0]
    assert sarif["results"] == [] and sarif["properties"] == {"suppressedFindings": 1}
    github = cli("analyze", "canary", "-o", "github").stdout
    assert github.splitlines()[-1] == "::notice title=asm-advisor::1 finding(s) suppressed"
    assert "AMA101" not in github


def test_unsuppressed_canary_says_nothing_about_suppressions(
        repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    canary(repo, None)
    data = json.loads(cli("analyze", "canary", "-o", "json").stdout)
    assert data["namespaces"][0]["recommendation"] == "ambient-waypoint"
    assert "suppressed" not in data["summary"]
    assert "suppressed" not in cli("analyze", "canary").stdout
    assert "suppressed" not in cli("analyze", "canary", "-o", "markdown").stdout
    sarif = json.loads(cli("analyze", "canary", "-o", "sarif").stdout)["runs"][0]
    assert "properties" not in sarif
    github = cli("analyze", "canary", "-o", "github").stdout
    assert "AMA101" in github and "title=asm-advisor::" not in github


def test_suppressing_a_capability_rule_does_not_hide_it_from_conformance(repo: Path) -> None:
    # AMA501 builds on AMA101's findings: suppressing AMA101 must not make it vanish.
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE.replace(
        "  namespace: shop\n", f"  namespace: shop\n  annotations: {{{IGNORE_ANNOTATION}: "
                               "vs-http-routing}\n", 1))
    result = cli("analyze", "m.yaml", "-o", "json")
    reasons = json.loads(result.stdout)["namespaces"][0]["reasons"]
    assert {r["ruleId"]: r.get("suppressed", False) for r in reasons
            if r["ruleId"] in ("AMA101", "AMA501")} == {"AMA101": True, "AMA501": False}
    assert result.exit_code == 1


# --- unknown rules in annotations ---------------------------------------------------------------

def test_unknown_rule_in_an_annotation_is_an_input_error_naming_file_line_and_object(
        repo: Path) -> None:
    write(repo, "m.yaml", SERVICE + "---\n" + VIRTUAL_SERVICE.replace(
        "  namespace: shop\n", f"  namespace: shop\n  annotations: {{{IGNORE_ANNOTATION}: "
                               "'AMA101, AMA402, no-such-rule'}\n", 1))
    result = cli("analyze", "m.yaml", "-o", "json")
    assert result.exit_code == 2
    lines = [line for line in result.stderr.splitlines() if "unknown rule" in line]
    assert lines == [
        f"asm-advisor: m.yaml:15: VirtualService/shop/reviews: {IGNORE_ANNOTATION} names "
        f"unknown rule {name!r}; see 'asm-advisor rules'" for name in ("AMA402", "no-such-rule")]
    report = json.loads(result.stdout)
    assert report["summary"]["errors"] == 2
    assert report["namespaces"][0]["recommendation"] == "ambient-waypoint"  # still analyzed


@pytest.mark.parametrize("value", ["AMA101", "vs-http-routing", "*", "all", " ama101 , "])
def test_known_rules_and_wildcards_in_an_annotation_are_no_error(repo: Path, value: str) -> None:
    write(repo, "m.yaml", SERVICE + "---\n" + VIRTUAL_SERVICE.replace(
        "  namespace: shop\n", f"  namespace: shop\n  annotations: {{{IGNORE_ANNOTATION}: "
                               f"'{value}'}}\n", 1))
    result = cli("analyze", "m.yaml")
    assert result.exit_code == 0, result.stderr
    assert "unknown rule" not in result.stderr


def test_unknown_rule_text_from_a_manifest_stays_on_one_line(repo: Path) -> None:
    write(repo, "m.yaml", SERVICE + "---\n" + VIRTUAL_SERVICE.replace(
        "  namespace: shop\n", f"  namespace: shop\n  annotations: {{{IGNORE_ANNOTATION}: "
                               "\"AMA101,bad\\nrule\"}\n", 1))
    result = cli("analyze", "m.yaml")
    assert result.exit_code == 2
    [line] = [line for line in result.stderr.splitlines() if "unknown rule" in line]
    assert line.endswith("names unknown rule 'bad\\nrule'; see 'asm-advisor rules'")


# --- exclusions ---------------------------------------------------------------------------------

def test_exclude_by_path_glob_leaves_objects_out_and_counts_them(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, "manifests/legacy/old.yaml",
          VIRTUAL_SERVICE.replace("name: reviews\n  namespace", "name: old\n  namespace"))
    write(repo, ".asm-advisor.yaml", "exclude:\n- path: 'manifests/legacy/*'\n")
    result = cli("analyze", "manifests", "-o", "json")
    report = json.loads(result.stdout)
    assert report["summary"]["excluded"] == 1
    names = {o["name"] for ns in report["namespaces"] for r in ns["reasons"] for o in r["objects"]}
    assert "old" not in names and "reviews" in names
    table = cli("analyze", "manifests").stdout
    assert "1 object(s) excluded" in " ".join(table.split())


def test_exclude_by_kind_and_name_and_no_match_excludes_nothing(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, ".asm-advisor.yaml", "exclude:\n- {kind: VirtualService, name: 'rev*'}\n")
    report = json.loads(cli("analyze", "manifests", "-o", "json").stdout)
    assert report["summary"]["excluded"] == 1
    assert report["namespaces"][0]["recommendation"] == "ambient"
    write(repo, ".asm-advisor.yaml", "exclude:\n- {kind: VirtualService, name: 'other*'}\n")
    report = json.loads(cli("analyze", "manifests", "-o", "json").stdout)
    assert "excluded" not in report["summary"]
    assert report["namespaces"][0]["recommendation"] == "ambient-waypoint"


def test_exclude_by_namespace_takes_the_namespace_object_too(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, "manifests/other.yaml", SERVICE.replace("namespace: shop", "namespace: other"))
    write(repo, ".asm-advisor.yaml", "exclude:\n- namespace: shop\n")
    report = json.loads(cli("analyze", "manifests", "-o", "json").stdout)
    assert [ns["name"] for ns in report["namespaces"]] == ["other"]
    assert report["summary"]["excluded"] == 3
    assert "suppressed" not in report["summary"]  # an exclusion is not a suppression


def test_an_empty_exclude_entry_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"c\.yaml: exclude\.0: give a path"):
        parse_config("exclude:\n- {}\n", "c.yaml")
    assert parse_config("exclude:\n- {path: 'a/*'}\n", "c.yaml").exclude[0].path == "a/*"


def test_unknown_rule_in_a_config_ignore_entry_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"c\.yaml: unknown rule\(s\) AMA999"):
        parse_config("ignore:\n- {kind: Service, rules: [AMA999]}\n", "c.yaml")
    assert parse_config("ignore:\n- {kind: Service, rules: [AMA101]}\n", "c.yaml").ignore


def test_summary_line_counts_suppressions(repo: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NO_COLOR", "1")
    l7_pr(repo, with_waypoint=False)
    assert "suppressed" not in cli("analyze", "manifests").stdout
    write(repo, ".asm-advisor.yaml", "rules:\n  disable: [AMA501, AMA101]\n")
    table = " ".join(cli("analyze", "manifests").stdout.split())
    assert re.search(r"; 2 finding\(s\) suppressed; mesh version", table)


# --- baselines and diff --------------------------------------------------------------------------

def test_suppressing_a_finding_is_neither_new_nor_fixed_in_diff(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE)
    (repo / "old.json").write_text(cli("analyze", "m.yaml", "-o", "json").stdout)
    ignored = VIRTUAL_SERVICE.replace(
        "  namespace: shop\n", f"  namespace: shop\n  annotations: {{{IGNORE_ANNOTATION}: "
                               "'AMA501'}\n", 1)
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + ignored)
    (repo / "new.json").write_text(cli("analyze", "m.yaml", "-o", "json").stdout)
    lines = cli("diff", "old.json", "new.json").stdout.splitlines()
    assert any(line.startswith("+ note    AMA101") for line in lines)  # a counted finding
    assert not any("AMA501" in line for line in lines)  # the suppressed one
    report = json.loads((repo / "new.json").read_text())
    assert any(r.get("suppressed") for r in report["namespaces"][0]["reasons"])


def test_baseline_does_not_count_suppressed_findings_as_new(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE)
    (repo / "old.json").write_text(cli("analyze", "m.yaml", "-o", "json").stdout)
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE)
    write(repo, ".asm-advisor.yaml", "rules:\n  disable: [AMA501]\n")
    result = cli("analyze", "m.yaml", "--baseline", "old.json", "-o", "json")
    baseline = json.loads(result.stdout)["summary"]["baseline"]
    assert baseline["new"] == 1  # AMA101 only; the suppressed AMA501 is not new
    write(repo, ".asm-advisor.yaml", "")
    result = cli("analyze", "m.yaml", "--baseline", "old.json", "-o", "json")
    assert json.loads(result.stdout)["summary"]["baseline"]["new"] == 2


def plan_files(out: Path) -> dict[str, str]:
    """Every file of a written plan but the rollback copies (they restore the annotation too)."""
    return {p.relative_to(out).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(out.rglob("*")) if p.is_file() and "rollback" not in p.parts}


def test_suppression_leaves_the_migration_plan_unchanged(repo: Path) -> None:
    canary(repo, "vs-http-routing")
    assert cli("plan", "canary", "--out", "suppressed").exit_code == 0
    shutil.rmtree(repo / "canary")
    canary(repo, None)
    assert cli("plan", "canary", "--out", "plain").exit_code == 0
    plain = plan_files(repo / "plain")
    assert any("waypoint" in text for text in plain.values())
    assert plan_files(repo / "suppressed") == plain
