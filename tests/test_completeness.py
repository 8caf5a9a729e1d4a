"""Empty or broken input never passes a gate: nothing read, all ignored, namespaces read in part."""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner, Result

import ci_helpers
from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.cli import app
from asm_mode_advisor.commands import scan
from asm_mode_advisor.completeness import (
    CONCATENATION_HINT,
    concatenation_hint,
    describe_inputs,
    partial_namespaces,
)
from asm_mode_advisor.model import InputError
from asm_mode_advisor.sources.renderable import render_hint
from ci_helpers import AMBIENT_NS, SERVICE, write
from support import load

repo = ci_helpers.repo
SARIF_SCHEMA = json.loads((Path(__file__).parent / "golden/ci/sarif-2.1.0-subset.schema.json")
                          .read_text(encoding="utf-8"))
NO_OBJECTS = "no Kubernetes objects found in"
OTHER_NS = """\
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: other
spec:
  selector: {app: web}
  ports: [{port: 80, name: http}]
"""
#: Two manifests joined without ``---``: every top-level key of the second is a duplicate.
CONCATENATED = AMBIENT_NS + SERVICE


def cli(*args: str, input: str | None = None) -> Result:
    return CliRunner().invoke(app, list(args), input=input)


def _stderr_lines(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line]


# --- nothing to check --------------------------------------------------------------------

def test_empty_stdin_exits_2_with_one_line(repo: Path) -> None:
    result = cli("analyze", "-", input="")
    assert result.exit_code == 2
    assert _stderr_lines(result) == [f"asm-advisor: error: {NO_OBJECTS} <stdin>"]


def test_empty_stdin_is_an_error_in_the_json_report(repo: Path) -> None:
    data = json.loads(cli("analyze", "-", "-o", "json", input="").stdout)
    assert data["errors"] == [{"message": f"{NO_OBJECTS} <stdin>"}]
    assert data["summary"]["errors"] == 1


def test_allow_empty_turns_empty_input_into_exit_0_with_a_note(repo: Path) -> None:
    result = cli("analyze", "-", "--allow-empty", "-o", "json", input="")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["errors"] == []
    assert f"note: {NO_OBJECTS} <stdin> (--allow-empty)" in result.stderr


def test_stdin_with_an_object_is_not_empty(repo: Path) -> None:
    result = cli("analyze", "-", input=AMBIENT_NS)
    assert result.exit_code == 0
    assert NO_OBJECTS not in result.stderr


def test_folder_of_comments_and_empty_folder_exit_2_naming_them(repo: Path) -> None:
    write(repo, "k8s/a.yaml", "# only a comment\n---\n# and another\n")
    (repo / "none").mkdir()
    result = cli("analyze", "k8s", "none")
    assert result.exit_code == 2
    assert f"{NO_OBJECTS} k8s, none" in result.stderr


def test_cluster_scoped_objects_only_are_not_empty(repo: Path) -> None:
    write(repo, "crd.yaml", "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
                            "metadata: {name: reader}\n")
    result = cli("analyze", "crd.yaml")
    assert result.exit_code == 0, result.stderr
    assert NO_OBJECTS not in result.stderr


def test_plan_on_empty_stdin_exits_2_unless_allowed(repo: Path) -> None:
    result = cli("plan", "-", input="")
    assert result.exit_code == 2
    assert f"error: {NO_OBJECTS} <stdin>" in result.stderr
    assert cli("plan", "-", "--allow-empty", input="").exit_code == 0
    assert cli("plan", "-", input=AMBIENT_NS).exit_code == 0


def _fake_scan(report_yaml: str) -> Any:
    loaded = load(report_yaml)
    report = analyze(loaded.resources, [], Settings(), source="cluster").report

    def run_scan(*_: Any, **__: Any) -> tuple[Any, Any]:
        return report, SimpleNamespace(forbidden=[])
    return run_scan


@pytest.mark.parametrize(("manifests", "allow", "code"), [
    ("", False, 2), ("", True, 0), (AMBIENT_NS, False, 0)])
def test_scan_of_an_empty_cluster_exits_2_unless_allowed(
        repo: Path, monkeypatch: pytest.MonkeyPatch, manifests: str, allow: bool,
        code: int) -> None:
    monkeypatch.setattr(scan, "run_scan", _fake_scan(manifests))
    result = cli("scan", "--mesh-version", "1.25", *(["--allow-empty"] if allow else []))
    assert result.exit_code == code, result.stderr
    assert (f"{NO_OBJECTS} the cluster" in result.stderr) is (not manifests)


def test_config_that_ignores_every_namespace_is_treated_as_empty(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE)
    write(repo, ".asm-advisor.yaml", "ignore:\n  - namespace: '*'\n")
    result = cli("analyze", "m.yaml")
    assert result.exit_code == 2
    assert "ignores every namespace (1); nothing left to check" in result.stderr
    assert cli("analyze", "m.yaml", "--allow-empty").exit_code == 0


def test_config_that_ignores_some_namespaces_is_not_empty(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + OTHER_NS)
    write(repo, ".asm-advisor.yaml", "ignore:\n  - namespace: other\n")
    result = cli("analyze", "m.yaml")
    assert result.exit_code == 0, result.stderr
    assert "nothing left to check" not in result.stderr


def test_describe_inputs_names_stdin_and_escapes_odd_paths() -> None:
    assert describe_inputs(["-", "k8s/"]) == "<stdin>, k8s/"
    assert describe_inputs(["a\nb"]) == "'a\\nb'"
    assert describe_inputs([]) == "the input"


# --- incomplete namespaces ---------------------------------------------------------------

def test_duplicate_keys_in_stdin_mark_the_namespace_incomplete_in_json(repo: Path) -> None:
    result = cli("analyze", "-", "-o", "json", input=CONCATENATED)
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    shop = next(v for v in data["namespaces"] if v["name"] == "shop")
    assert (shop["incomplete"], shop["inputErrors"], shop["inputErrorFiles"]) == (
        True, 3, ["<stdin>"])
    assert data["summary"]["incompleteNamespaces"] == ["shop"]


def test_duplicate_keys_in_stdin_give_the_concatenation_hint_once(repo: Path) -> None:
    result = cli("analyze", "-", input=CONCATENATED)
    assert result.stderr.count(CONCATENATION_HINT) == 1
    assert _stderr_lines(result)[-1] == f"asm-advisor: {CONCATENATION_HINT}"


def test_one_duplicate_key_or_duplicates_in_a_file_give_no_hint(repo: Path) -> None:
    one = AMBIENT_NS.replace("  name: shop\n", "  name: shop\n  name: shop\n")
    assert CONCATENATION_HINT not in cli("analyze", "-", input=one).stderr
    write(repo, "cat.yaml", CONCATENATED)
    assert CONCATENATION_HINT not in cli("analyze", "cat.yaml").stderr


def test_concatenation_hint_counts_only_duplicate_keys_in_stdin() -> None:
    dup = [InputError("duplicate key 'kind' in a mapping", "<stdin>", n) for n in (3, 9)]
    assert concatenation_hint(dup) == CONCATENATION_HINT
    assert concatenation_hint(dup[:1]) is None
    other = [InputError("YAML syntax error: x", "<stdin>", n) for n in (3, 9)]
    assert concatenation_hint(other) is None


def test_errors_mark_only_the_namespaces_of_their_own_file(repo: Path) -> None:
    write(repo, "k8s/shop.yaml", CONCATENATED)
    write(repo, "k8s/other.yaml", OTHER_NS)
    data = json.loads(cli("analyze", "k8s", "-o", "json").stdout)
    verdicts = {v["name"]: v for v in data["namespaces"]}
    assert verdicts["shop"]["inputErrorFiles"] == ["k8s/shop.yaml"]
    assert "incomplete" not in verdicts["other"] and "inputErrors" not in verdicts["other"]
    assert data["summary"]["incompleteNamespaces"] == ["shop"]


def test_complete_run_has_no_incomplete_keys(repo: Path) -> None:
    data = json.loads(cli("analyze", "-", "-o", "json", input=OTHER_NS).stdout)
    assert "incompleteNamespaces" not in data["summary"]
    assert all("incomplete" not in v for v in data["namespaces"])


def test_partial_namespaces_maps_errors_through_files() -> None:
    loaded = load(OTHER_NS, name="a.yaml")
    errors = [InputError("bad", "a.yaml", 9), InputError("bad", "a.yaml", 12),
              InputError("bad", "b.yaml", 1), InputError("internal")]
    assert partial_namespaces(loaded.resources, errors) == {"other": {"a.yaml": 2}}
    assert partial_namespaces(loaded.resources, errors[2:]) == {}


def test_incomplete_namespace_is_marked_in_the_table(repo: Path) -> None:
    out = cli("analyze", "-", input=CONCATENATED).stdout
    row = next(line for line in out.splitlines() if line.startswith("│ shop"))
    assert "ambient*" in row
    assert "recommendation rests on partial input: 3 input error(s) in <stdin>" in out
    assert "* incomplete (recommendation rests on partial input): shop" in out
    clean = cli("analyze", "-", input=AMBIENT_NS).stdout
    assert "partial input" not in clean and "ambient*" not in clean


def test_incomplete_namespace_is_marked_in_markdown(repo: Path) -> None:
    out = cli("analyze", "-", "-o", "markdown", input=CONCATENATED).stdout
    assert "**ambient** ⚠️ incomplete" in out
    assert "- ⚠️ recommendation rests on partial input: 3 input error(s) in `<stdin>`" in out
    assert "1 namespace(s) incomplete" in out
    assert "incomplete" not in cli("analyze", "-", "-o", "markdown", input=AMBIENT_NS).stdout


def test_incomplete_namespace_from_stdin_is_named_in_sarif(repo: Path) -> None:
    data = json.loads(cli("analyze", "-", "-o", "sarif", input=CONCATENATED).stdout)
    jsonschema.validate(data, SARIF_SCHEMA)
    run = data["runs"][0]
    assert run["properties"]["incompleteNamespaces"] == ["shop"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [
        "namespace shop: recommendation rests on partial input: 3 input error(s) in <stdin>"]


def test_input_errors_in_a_file_become_a_sarif_note_on_that_file(repo: Path) -> None:
    write(repo, "k8s/shop.yaml", CONCATENATED)
    data = json.loads(cli("analyze", "k8s", "-o", "sarif").stdout)
    jsonschema.validate(data, SARIF_SCHEMA)
    run = data["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    note = next(r for r in run["results"] if r["ruleId"] == "AMA000")
    assert rules[note["ruleIndex"]]["id"] == "AMA000" and note["level"] == "note"
    location = note["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "k8s/shop.yaml"
    lines = (repo / "k8s/shop.yaml").read_text().splitlines()
    assert lines[location["region"]["startLine"] - 1].startswith("apiVersion")  # 1st duplicate
    assert "namespace(s) shop" in note["message"]["text"]


def test_complete_run_adds_nothing_to_sarif(repo: Path) -> None:
    run = json.loads(cli("analyze", "-", "-o", "sarif", input=AMBIENT_NS).stdout)["runs"][0]
    assert "invocations" not in run
    assert "incompleteNamespaces" not in run.get("properties", {})
    assert all(r["id"] != "AMA000" for r in run["tool"]["driver"]["rules"])


def test_incomplete_namespace_is_a_github_warning(repo: Path) -> None:
    out = cli("analyze", "-", "-o", "github", input=CONCATENATED).stdout
    assert "::warning title=asm-advisor incomplete input::namespace shop: " in out
    assert "incomplete input" not in cli("analyze", "-", "-o", "github", input=AMBIENT_NS).stdout


# --- charts and kustomizations -----------------------------------------------------------

CHART_TEMPLATE = "apiVersion: v1\nkind: Service\nmetadata:\n  name: {{ .Release.Name }}\n"


def test_helm_chart_folder_gets_one_render_line_and_exits_2(repo: Path) -> None:
    write(repo, "charts/shop/Chart.yaml", "apiVersion: v2\nname: shop\nversion: 0.1.0\n")
    write(repo, "charts/shop/templates/svc.yaml", CHART_TEMPLATE)
    write(repo, "charts/shop/templates/deploy.yaml", "{{- if .Values.on }}\nkind: x\n")
    result = cli("analyze", "charts/shop/")
    assert result.exit_code == 2
    assert _stderr_lines(result) == [
        "asm-advisor: charts/shop: a Helm chart; render it first: helm template charts/shop | "
        "asm-advisor analyze -",
        f"asm-advisor: error: {NO_OBJECTS} charts/shop/"]


def test_chart_and_kustomization_inside_a_folder_are_skipped_the_rest_read(repo: Path) -> None:
    write(repo, "deploy/app.yaml", AMBIENT_NS)
    write(repo, "deploy/charts/shop/Chart.yaml", "apiVersion: v2\nname: shop\n")
    write(repo, "deploy/charts/shop/templates/svc.yaml", CHART_TEMPLATE)
    write(repo, "deploy/overlays/prod/kustomization.yaml", "resources: [../../app.yaml]\n")
    result = cli("analyze", "deploy", "-o", "json")
    assert result.exit_code == 2
    data = json.loads(result.stdout)
    assert [v["name"] for v in data["namespaces"]] == ["shop"]
    assert [(e["file"], e["message"].split(";")[0]) for e in data["errors"]] == [
        ("deploy/charts/shop", "a Helm chart"),
        ("deploy/overlays/prod", "a kustomization")]
    assert "kustomize build deploy/overlays/prod | asm-advisor analyze -" in result.stderr
    assert "YAML syntax error" not in result.stderr


def test_plain_folder_gets_no_render_hint(repo: Path) -> None:
    write(repo, "k8s/app.yaml", AMBIENT_NS)
    write(repo, "k8s/values.yaml", "replicas: 2\n")  # not a chart without Chart.yaml
    result = cli("analyze", "k8s/app.yaml", "k8s")
    assert "render it first" not in result.stderr


@pytest.mark.parametrize(("files", "expected"), [
    ({"Chart.yaml"}, "a Helm chart; render it first: helm template"),
    ({"kustomization.yml"}, "a kustomization; render it first: kustomize build"),
    ({"Kustomization"}, "a kustomization; render it first: kustomize build"),
])
def test_render_hint_markers(files: set[str], expected: str) -> None:
    hint = render_hint("my chart/$(x)", files)
    assert hint is not None and hint.startswith(expected)
    assert shlex.quote("my chart/$(x)") in hint  # safe to paste whatever the folder is named


def test_render_hint_none_for_manifests() -> None:
    assert render_hint("k8s", {"app.yaml", "chart.yaml", "values.yaml"}) is None
