"""Markdown PR comment (golden file) and GitHub workflow annotations."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

import ci_helpers
from asm_mode_advisor.render import markdown
from asm_mode_advisor.render.github import escape_data, escape_property
from asm_mode_advisor.render.markdown import LIMIT, MARKER, size
from asm_mode_advisor.report import Report, counted
from ci_helpers import SIDECAR_RESOURCE, cli, l7_pr, write
from test_mermaid import estate, reason

repo = ci_helpers.repo
ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden" / "ci"


def check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_markdown_comment_matches_golden(repo: Path, update_golden: bool) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, "manifests/sidecar.yaml", SIDECAR_RESOURCE)
    write(repo, "manifests/other.yaml", "apiVersion: v1\nkind: Namespace\n"
                                        "metadata: {name: legacy, labels: "
                                        "{istio-injection: enabled}}\n")
    result = cli("analyze", "manifests", "-o", "markdown")
    assert result.exit_code == 1
    check_golden("pr-comment.md", result.stdout, update_golden)
    assert "<details>" in result.stdout and "### Errors (1)" in result.stdout


def test_markdown_for_a_passing_run_has_a_green_headline(repo: Path) -> None:
    l7_pr(repo, with_waypoint=True)
    text = cli("analyze", "manifests", "-o", "markdown").stdout
    assert text.startswith(f"{MARKER}\n## ✅ asm-advisor: 0 error(s), 0 warning(s)")
    assert "**Gate passed**: 0 finding(s) at or above `--fail-on error`." in text


def test_github_annotations_put_errors_first_on_the_field_line(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    result = cli("analyze", "manifests", "-o", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    text = (repo / "manifests/reviews.yaml").read_text().splitlines()
    fault_line = text.index("    fault:") + 1
    assert lines[0].startswith(f"::error file=manifests/reviews.yaml,line={fault_line},"
                               "title=AMA501 l7-config-without-waypoint::")
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)


def test_github_escaping() -> None:
    assert escape_data("50% done\nnext") == "50%25 done%0Anext"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"


# --- the Mermaid picture in the comment -------------------------------------------------------

def test_comment_for_the_examples_with_its_picture_matches_golden(
        update_golden: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)  # paths in the comment relative to the repository
    result = cli("analyze", "examples", "-o", "markdown")
    assert result.exit_code in (0, 1), result.stderr
    check_golden("examples-comment.md", result.stdout, update_golden)
    text = result.stdout
    assert text.index("### Estate") < text.index("### Namespaces") < text.index("### Details")
    assert "```mermaid\nflowchart LR\n" in text and "classDef waypoint" in text


def test_a_sidecar_caller_that_skips_a_waypoint_is_red_in_the_comment(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    text = cli("analyze", "tests/traffic/estate", "-o", "markdown").stdout
    (edge,) = [line for line in text.splitlines() if "skips waypoint" in line]
    web, shop = re.findall(r"n\d+", edge)
    assert f'  {web}["web<br/>' in text and f'  {shop}{{{{"shop<br/>' in text
    assert "  linkStyle 0 stroke:#dc2626" in text


# --- the size bound ---------------------------------------------------------------------------

def _sections(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("### ")]


def test_comment_for_2000_namespaces_stays_under_githubs_limit_gate_failures_first() -> None:
    report = estate(2_000)
    text = markdown.render(report)
    assert size(text) <= LIMIT and len(text) < 65_536
    assert text.startswith(MARKER + "\n## ❌ asm-advisor: ")
    assert "**Gate failed**" in text.splitlines()[3]
    errors = sum(1 for r in counted(report) if r.severity == "error")
    warnings = sum(1 for r in counted(report) if r.severity == "warning")
    assert errors > markdown.MAX_LISTED and warnings > markdown.MAX_LISTED
    sections = _sections(text)
    assert sections[:4] == [f"### Errors ({errors})", f"### Warnings ({warnings})",
                            "### Estate", "### Namespaces"]
    assert sections[4] == "### Details"
    assert text.index("- **AMA501** AMA501 in ns-0000") < text.index("<details>")
    # The namespaces with errors come first in the table and in the details.
    first = re.search(r"<summary><b>([^<]+)</b>", text)
    assert first is not None and first.group(1) == "ns-0000"
    assert re.search(r"\n\*\*\d+ more namespace\(s\)\*\* not detailed here — see the full "
                     r"report artifact \(HTML or JSON\)\.\n$", text)
    assert f"- … {errors - markdown.MAX_LISTED} more; see the SARIF or JSON report" in text
    assert "of 2000 namespace(s) drawn" in text


def test_details_shown_and_left_out_add_up() -> None:
    text = markdown.render(estate(2_000))
    shown = text.count("<details>")
    more = re.search(r"\*\*(\d+) more namespace\(s\)\*\*", text)
    assert more is not None and shown + int(more.group(1)) == 2_000
    rows = len(re.findall(r"^\| ns-", text, re.M))
    table_more = re.search(r"_… (\d+) more namespace\(s\): see the full report artifact\._", text)
    assert table_more is not None and rows + int(table_more.group(1)) == 2_000


@pytest.mark.parametrize("limit", [3_000, 10_000, 30_000, LIMIT])
def test_no_input_makes_the_comment_longer_than_its_limit(limit: int) -> None:
    # Huge messages, paths and names, astral characters (two UTF-16 units each), newlines.
    hostile = "😀\n<x>|" * 20_000
    report = estate(500, hostile)
    first = report.namespaces[0]
    many = [dataclasses.replace(reason(first.name, "AMA501", "error", hostile), message=f"{i}")
            for i in range(3_000)]
    report = report.model_copy(update={"mesh_version": hostile, "namespaces": [
        dataclasses.replace(first, name="n" * 50_000, reasons=many, summary=hostile),
        *report.namespaces[1:]], "summary": report.summary.model_copy(
            update={"incomplete_namespaces": [hostile] * 50})})
    text = markdown.render(report, limit=limit)
    assert size(text) <= limit
    assert text.startswith(MARKER) and "more namespace(s)" in text.splitlines()[-1]


def test_a_huge_namespace_gets_a_bounded_details_block() -> None:
    report = estate(3)
    first = report.namespaces[0]
    many = [reason(first.name, "AMA203", "note", f" {i}") for i in range(2_000)]
    report = report.model_copy(update={"namespaces": [
        dataclasses.replace(first, reasons=many), *report.namespaces[1:]]})
    text = markdown.render(report)
    block = text[text.index("<details>"):text.index("</details>")]
    assert size(block) <= markdown.DETAILS_CHARS
    assert re.search(r"- … \d+ more line\(s\): see the full report artifact", block)
    assert text.count("<details>") == 3  # the others still fit


def test_the_comment_is_deterministic() -> None:
    assert markdown.render(estate(1_500)) == markdown.render(estate(1_500))


def test_fail_on_is_named_and_counted(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    text = cli("analyze", "manifests", "-o", "markdown", "--fail-on", "warning").stdout
    assert re.search(r"\*\*Gate failed\*\*: \d+ finding\(s\) at or above "
                     r"`--fail-on warning`\.", text)
    never = cli("analyze", "manifests", "-o", "markdown", "--fail-on", "never").stdout
    assert "Gate" not in never.split("###")[0]


def test_an_empty_report_is_a_short_comment() -> None:
    report = Report.model_validate({"meshVersion": "1.25", "namespaces": [], "summary": {
        "namespaces": 0, "objects": 0, "byRecommendation": {}, "byKind": {}}})
    text = markdown.render(report)
    assert text.startswith(MARKER) and "### Estate" not in text and "more namespace" not in text
    assert "**0 namespace(s)**: none." in text


# --- action.yml: one analysis, the comment found by its marker ---------------------------------

FAKE_GH = """\
import json, os, sys
args = sys.argv[1:]
with open(os.environ["GH_LOG"], "a", encoding="utf-8") as log:
    body = "" if "--paginate" in args else sys.stdin.read()
    log.write(json.dumps({"args": args, "stdin": body}) + "\\n")
if "--paginate" in args:  # one JSON array per page, back to back, as gh prints them
    sys.stdout.write("".join(json.dumps(page) for page in json.loads(os.environ["GH_PAGES"])))
"""


def action_step(name: str) -> str:
    steps = yaml.safe_load((ROOT / "action.yml").read_text(encoding="utf-8"))["runs"]["steps"]
    script: str = next(step["run"] for step in steps if step.get("name") == name)
    return script


def shim(folder: Path, name: str, code: str) -> None:
    """An executable ``name`` in ``folder`` that runs ``code`` with this Python."""
    folder.mkdir(exist_ok=True)
    (folder / f"{name}.py").write_text(code, encoding="utf-8")
    path = folder / name
    path.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{folder / name}.py" "$@"\n',
                    encoding="utf-8")
    path.chmod(0o755)


def run_step(name: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    bin_dir = tmp_path / "bin"
    full = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "GITHUB_REPOSITORY": "org/repo", **env}
    return subprocess.run(["bash", "-c", action_step(name)], env=full, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)


def test_action_runs_one_analysis_that_writes_every_report(tmp_path: Path) -> None:
    calls = tmp_path / "calls.log"
    shim(tmp_path / "bin", "asm-advisor",
         f"import sys, runpy\nopen({str(calls)!r}, 'a').write(' '.join(sys.argv[1:]) + '\\n')\n"
         "sys.argv = ['asm-advisor', *sys.argv[1:]]\n"
         "runpy.run_module('asm_mode_advisor', run_name='__main__')\n")
    summary, output = tmp_path / "summary.md", tmp_path / "output.txt"
    result = run_step("Analyze manifests", tmp_path, PATHS=str(ROOT / "examples"),
                      FAIL_ON="error", CONFIG="", BASELINE="", ASSUME_MODE="labels",
                      SARIF_FILE="sarif/asm-advisor.sarif", REPORT_DIR="out",
                      GITHUB_STEP_SUMMARY=str(summary), GITHUB_OUTPUT=str(output))
    assert result.returncode == 0, result.stderr
    (call,) = calls.read_text().splitlines()  # one analysis for every format
    assert call.count("--report ") == 4 and "-o github" in call
    comment = (tmp_path / "out" / "comment.md").read_text(encoding="utf-8")
    assert comment.startswith(MARKER + "\n") and summary.read_text() == comment
    json.loads((tmp_path / "out" / "report.json").read_text())
    json.loads((tmp_path / "sarif" / "asm-advisor.sarif").read_text())
    assert (tmp_path / "out" / "report.html").read_text().lstrip().lower().startswith(
        "<!doctype html")
    assert output.read_text() == "exit-code=0\n"


@pytest.mark.parametrize(("pages", "method", "endpoint"), [
    ([[{"id": 1, "body": "<!-- other-bot -->\nmine"}, {"id": 2, "body": None}],
      [{"id": 7, "body": f"{MARKER}\n## old"}, {"id": 9, "body": "the last comment"}]],
     "PATCH", "repos/org/repo/issues/comments/7"),
    ([[{"id": 1, "body": "asm-advisor said <!-- asm-advisor --> once"}], []],
     "POST", "repos/org/repo/issues/42/comments"),
])
def test_action_updates_the_comment_with_its_marker_or_creates_one(
        tmp_path: Path, pages: list[list[dict[str, object]]], method: str,
        endpoint: str) -> None:
    shim(tmp_path / "bin", "gh", FAKE_GH)
    body = tmp_path / "comment.md"
    body.write_text(f"{MARKER}\n## ✅ asm-advisor \"quoted\" $HOME `x`\n", encoding="utf-8")
    log = tmp_path / "gh.log"
    result = run_step("Comment on the pull request", tmp_path, GH_TOKEN="t", PR_NUMBER="42",
                      BODY=str(body), GH_LOG=str(log), GH_PAGES=json.dumps(pages))
    assert result.returncode == 0, result.stderr
    listing, change = [json.loads(line) for line in log.read_text().splitlines()]
    assert listing["args"] == ["api", "--paginate", "repos/org/repo/issues/42/comments"]
    assert change["args"] == ["api", "--method", method, endpoint, "--input", "-"]
    assert json.loads(change["stdin"]) == {"body": body.read_text(encoding="utf-8")}
