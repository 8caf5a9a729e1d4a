"""SARIF output: structure GitHub accepts, stable fingerprints, exact bytes, field lines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema

import ci_helpers
from asm_mode_advisor.rules import ALL_RULES
from ci_helpers import AMBIENT_NS, SERVICE, VIRTUAL_SERVICE, cli, l7_pr, write

repo = ci_helpers.repo
SCHEMA = json.loads((Path(__file__).parent / "golden/ci/sarif-2.1.0-subset.schema.json")
                    .read_text(encoding="utf-8"))


def sarif(*args: str) -> dict[str, Any]:
    result = cli("analyze", *args, "-o", "sarif")
    assert result.exit_code in (0, 1), result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def results(data: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = data["runs"][0]["results"]
    return found


def by_rule(data: dict[str, Any], rule_id: str) -> dict[str, Any]:
    return next(r for r in results(data) if r["ruleId"] == rule_id)


def test_sarif_validates_against_the_schema(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    data = sarif("manifests")
    jsonschema.validate(data, SCHEMA)
    assert data["$schema"].endswith("sarif-2.1.0.json")


def test_every_rule_is_described_and_results_point_into_the_rule_list(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    data = sarif("manifests")
    rules = data["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == [rule.id for rule in ALL_RULES]
    for rule in rules:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"]
        assert rule["help"]["text"] and rule["helpUri"].startswith("https://")
    for item in results(data):
        assert rules[item["ruleIndex"]]["id"] == item["ruleId"]
        assert item["message"]["text"]


def test_clean_run_still_has_a_results_array(repo: Path) -> None:
    write(repo, "empty.yaml", "# nothing here\n")
    result = cli("analyze", "empty.yaml", "-o", "sarif", "--allow-empty")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["runs"][0]["results"] == []
    jsonschema.validate(data, SCHEMA)


def test_result_has_relative_uri_field_line_logical_location_and_fingerprint(
        repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    item = by_rule(sarif("manifests"), "AMA501")
    location = item["locations"][0]
    physical = location["physicalLocation"]
    assert physical["artifactLocation"] == {"uri": "manifests/reviews.yaml",
                                            "uriBaseId": "%SRCROOT%"}
    text = (repo / "manifests/reviews.yaml").read_text().splitlines()
    assert text[physical["region"]["startLine"] - 1] == "    fault:"
    assert location["logicalLocations"] == [{
        "fullyQualifiedName": "VirtualService/shop/reviews", "kind": "resource",
        "name": "reviews"}]
    assert len(item["partialFingerprints"]["asmAdvisorObject/v1"]) == 16


def test_paths_are_relative_to_the_repository_root_from_a_subfolder(
        repo: Path, monkeypatch: Any) -> None:
    l7_pr(repo, with_waypoint=False)
    monkeypatch.chdir(repo / "manifests")
    item = by_rule(sarif("."), "AMA501")
    uri = item["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == "manifests/reviews.yaml"


def test_output_is_byte_identical_across_runs(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    first = cli("analyze", "manifests", "-o", "sarif").stdout
    assert first == cli("analyze", "manifests", "-o", "sarif").stdout


def test_fingerprints_stay_when_unrelated_lines_move(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE)
    before = by_rule(sarif("m.yaml"), "AMA501")
    write(repo, "m.yaml", "# a comment\n# another\n" + AMBIENT_NS + "---\n"
          + SERVICE.replace("spec:", "spec:\n  type: ClusterIP") + "---\n" + VIRTUAL_SERVICE)
    after = by_rule(sarif("m.yaml"), "AMA501")
    assert after["partialFingerprints"] == before["partialFingerprints"]
    line = before["locations"][0]["physicalLocation"]["region"]["startLine"]
    assert after["locations"][0]["physicalLocation"]["region"]["startLine"] == line + 3


def test_fingerprints_differ_per_object(repo: Path) -> None:
    other = VIRTUAL_SERVICE.replace("name: reviews\n  namespace", "name: reviews-b\n  namespace")
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE + "---\n"
          + other)
    prints = [r["partialFingerprints"]["asmAdvisorObject/v1"] for r in results(sarif("m.yaml"))
              if r["ruleId"] == "AMA501"]
    assert len(prints) == 2 and len(set(prints)) == 2


def test_suppressed_findings_are_left_out(repo: Path) -> None:
    annotated = VIRTUAL_SERVICE.replace(
        "  namespace: shop\n",
        "  namespace: shop\n  annotations:\n    asm-advisor.io/ignore: AMA501\n", 1)
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + annotated)
    result = cli("analyze", "m.yaml", "-o", "sarif")
    assert result.exit_code == 0
    assert "AMA501" not in {r["ruleId"] for r in results(json.loads(result.stdout))}
    assert "AMA101" in {r["ruleId"] for r in results(json.loads(result.stdout))}


def test_stdin_findings_have_no_physical_location_and_are_left_out(repo: Path) -> None:
    text = AMBIENT_NS + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE
    from typer.testing import CliRunner

    from asm_mode_advisor.cli import app
    result = CliRunner().invoke(app, ["analyze", "-", "-o", "sarif"], input=text)
    assert result.exit_code == 1
    assert json.loads(result.stdout)["runs"][0]["results"] == []
