"""Suppressions by config and annotation, their counts, baselines and ``diff``."""

from __future__ import annotations

import json
from pathlib import Path

import ci_helpers
from asm_mode_advisor.report import Report
from ci_helpers import AMBIENT_NS, SERVICE, SIDECAR_RESOURCE, VIRTUAL_SERVICE, cli, l7_pr, write

repo = ci_helpers.repo


def report_of(*args: str) -> tuple[int, Report]:
    result = cli("analyze", *args, "-o", "json")
    return result.exit_code, Report.model_validate_json(result.stdout)


def rule_ids(report: Report) -> set[str]:
    return {r.rule_id for v in report.namespaces for r in v.reasons}


def suppressed_ids(report: Report) -> set[str]:
    return {r.rule_id for v in report.namespaces for r in v.reasons if r.suppressed}


def annotate(text: str, value: str, reason: str | None = None) -> str:
    lines = f"  annotations:\n    asm-advisor.io/ignore: \"{value}\"\n"
    if reason:
        lines += f"    asm-advisor.io/ignore-reason: {reason}\n"
    return text.replace("  namespace: shop\n", "  namespace: shop\n" + lines, 1)


def test_annotation_suppresses_by_id_and_by_name_and_is_counted(repo: Path) -> None:
    for value in ("AMA501", "l7-config-without-waypoint", "AMA101, ama501"):
        write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n"
              + annotate(VIRTUAL_SERVICE, value, "migrating next sprint"))
        code, report = report_of("m.yaml")
        assert code == 0, value
        assert "AMA501" in suppressed_ids(report)
        suppressed = report.namespaces[0].suppressed or []
        entry = next(s for s in suppressed if s.rule_id == "AMA501")
        assert entry.by == "annotation" and entry.reason == "migrating next sprint"
        assert entry.object is not None and entry.object.name == "reviews"
        assert report.summary.suppressed is not None
        assert report.summary.suppressed.by_source["annotation"] >= 1


def test_annotation_for_another_rule_does_not_suppress(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n"
          + annotate(VIRTUAL_SERVICE, "AMA102"))
    code, report = report_of("m.yaml")
    assert code == 1 and "AMA501" in rule_ids(report)
    assert suppressed_ids(report) == set()
    assert report.summary.suppressed is None


def test_namespace_annotation_covers_its_objects(repo: Path) -> None:
    namespace = AMBIENT_NS.replace("  labels:", "  annotations: {asm-advisor.io/ignore: '*'}\n"
                                               "  labels:")
    write(repo, "m.yaml", namespace + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE)
    code, report = report_of("m.yaml")
    assert code == 0
    assert report.summary.suppressed is not None and report.summary.suppressed.total >= 2


def test_config_disables_rules_and_counts_them(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, ".asm-advisor.yaml", "rules:\n  disable: [l7-config-without-waypoint]\n")
    code, report = report_of("manifests")
    assert code == 0 and suppressed_ids(report) == {"AMA501"}
    reason = next(r for r in report.namespaces[0].reasons if r.rule_id == "AMA501")
    assert reason.suppressed_by == "config"
    assert report.summary.suppressed is not None
    assert report.summary.suppressed.by_rule == {"AMA501": 1}
    assert report.summary.suppressed.by_source == {"config": 1}


def test_config_severity_override_changes_the_gate(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SIDECAR_RESOURCE)
    assert report_of("m.yaml")[0] == 0
    write(repo, ".asm-advisor.yaml", "rules:\n  severity: {AMA508: error}\n")
    code, report = report_of("m.yaml")
    assert code == 1
    assert {r.severity for v in report.namespaces for r in v.reasons
            if r.rule_id == "AMA508"} == {"error"}


def test_config_ignores_objects_by_glob(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, ".asm-advisor.yaml", "ignore:\n- {kind: VirtualService, name: 'rev*', "
                                     "rules: [AMA501], reason: legacy}\n")
    code, report = report_of("manifests")
    assert code == 0
    entry = (report.namespaces[0].suppressed or [])[0]
    assert (entry.rule_id, entry.by, entry.reason) == ("AMA501", "config", "legacy")


def test_config_ignore_with_only_a_namespace_excludes_it(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, "manifests/other.yaml", SERVICE.replace("namespace: shop", "namespace: other"))
    write(repo, ".asm-advisor.yaml", "ignore:\n- namespace: 'sh*'\n")
    code, report = report_of("manifests")
    assert code == 0 and [v.name for v in report.namespaces] == ["other"]
    assert report.summary.excluded == 3  # the Namespace, the Service and the VirtualService
    assert report.summary.suppressed is not None
    assert report.summary.suppressed.ignored_namespaces == ["shop"]
    assert report.summary.suppressed.total == 0


def test_suppressed_finding_still_decides_the_mode(repo: Path) -> None:
    write(repo, "m.yaml", SERVICE + "---\n" + annotate(VIRTUAL_SERVICE, "AMA101"))
    _, report = report_of("m.yaml")
    verdict = report.namespaces[0]
    assert verdict.recommendation == "ambient-waypoint"
    assert [w.services for w in verdict.waypoints] == [("reviews",)]
    assert verdict.summary == "vs-http-routing (suppressed)"
    reason = next(r for r in verdict.reasons if r.rule_id == "AMA101")
    assert (reason.suppressed, reason.suppressed_by) == (True, "annotation")


def test_unsuppressed_finding_is_not_marked(repo: Path) -> None:
    write(repo, "m.yaml", SERVICE + "---\n" + VIRTUAL_SERVICE)
    _, report = report_of("m.yaml")
    verdict = report.namespaces[0]
    assert verdict.summary == "vs-http-routing"
    assert all(r.suppressed is None and r.suppressed_by is None for r in verdict.reasons)


def test_baseline_counts_only_new_findings(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    old = cli("analyze", "manifests", "-o", "json")
    (repo / "old.json").write_text(old.stdout)
    code, report = report_of("manifests", "--baseline", "old.json")
    assert code == 0
    assert all(r.baseline for v in report.namespaces for r in v.reasons)
    assert report.summary.baseline is not None and report.summary.baseline.new == 0
    assert report.namespaces[0].recommendation_changed is False
    other = VIRTUAL_SERVICE.replace("name: reviews\n  namespace", "name: ratings\n  namespace")
    write(repo, "manifests/ratings.yaml", other)
    code, report = report_of("manifests", "--baseline", "old.json")
    assert code == 1
    new = [r for v in report.namespaces for r in v.reasons if r.baseline is False]
    assert {r.objects[0].name for r in new} == {"ratings"}


def test_baseline_marks_changed_recommendations(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE)
    (repo / "old.json").write_text(cli("analyze", "m.yaml", "-o", "json").stdout)
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE)
    _, report = report_of("m.yaml", "--baseline", "old.json", "--fail-on", "never")
    verdict = report.namespaces[0]
    assert verdict.recommendation_changed is True
    assert verdict.baseline_recommendation == "ambient"
    assert report.summary.baseline is not None
    assert report.summary.baseline.recommendation_changed == ["shop"]


def test_unreadable_baseline_is_an_input_error(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    (repo / "old.json").write_text("{not json")
    result = cli("analyze", "manifests", "--baseline", "old.json")
    assert result.exit_code == 2 and "old.json" in result.stderr


def test_diff_prints_mode_changes_and_new_and_fixed_findings(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + SIDECAR_RESOURCE)
    (repo / "old.json").write_text(cli("analyze", "m.yaml", "-o", "json").stdout)
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE)
    (repo / "new.json").write_text(cli("analyze", "m.yaml", "-o", "json").stdout)
    result = cli("diff", "old.json", "new.json")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert "~ shop: ambient -> ambient-waypoint" in lines
    assert any(line.startswith("+ error   AMA501") for line in lines)
    assert any(line.startswith("- warning AMA508") for line in lines)
    assert lines[-1].startswith("1 recommendation(s) changed")
    same = cli("diff", "new.json", "new.json")
    assert same.stdout == "0 recommendation(s) changed, 0 new finding(s), 0 fixed\n"


def test_diff_of_a_non_report_is_an_input_error(repo: Path) -> None:
    (repo / "a.json").write_text(json.dumps({"hello": 1}))
    result = cli("diff", "a.json", "a.json")
    assert result.exit_code == 2 and "not an asm-advisor JSON report" in result.stderr
