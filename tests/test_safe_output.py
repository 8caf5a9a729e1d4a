"""Nothing hostile reaches a screen or a CI log, in any format; side files fail in one line.

Names below go straight into a Report, past the loader's name checks: the renderers must be
safe on their own.
"""

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
from asm_mode_advisor.matrix import parse_version
from asm_mode_advisor.render import OutputFormat, View, render
from asm_mode_advisor.report import ErrorEntry, Report
from asm_mode_advisor.rules import ALL_RULES
from asm_mode_advisor.text import (
    defuse_commands,
    escape_in_strings,
    gh_data,
    gh_property,
    html_text,
    md_code,
    md_text,
    safe_line,
)
from ci_helpers import AMBIENT_NS, SERVICE, VIRTUAL_SERVICE, cli, l7_pr, write

repo = ci_helpers.repo
ROOT = Path(__file__).resolve().parent.parent
HOSTILE = ("x\n::error::pwned", "[/oops]", "[link=http://x]hi[/link]", "a\x1b[2Jb",
           "\x1b]0;title\x07", "\u202eevil", "a\u2028b", "\x85c1", "a|b`c<img src=x>",
           "wrapped " * 20 + "::error::x", "::add-mask::secret", "\u00a0::warning::x")
SGR = re.compile(r"\x1b\[[0-9;]*m")
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


# --- the helpers --------------------------------------------------------------------------

def test_safe_line_escapes_what_could_start_a_line_or_drive_a_terminal() -> None:
    assert safe_line("x\n::error::pwned") == "x\\x0a::error::pwned"
    assert safe_line("a\x1b[2Jb\r\t") == "a\\x1b[2Jb\\x0d\\x09"
    assert safe_line("\x7f\x85\x9b") == "\\x7f\\x85\\x9b"
    assert safe_line("\u202eevil\u2028\u2066") == "\\u202eevil\\u2028\\u2066"


def test_safe_line_keeps_ordinary_text() -> None:
    for text in ("shop", "café/ünïcode 名前", "a [b] *c* | d", "C:\\path\\f.yaml", "😀"):
        assert safe_line(text) == text


def test_markdown_text_and_code_cannot_break_a_cell_or_open_html() -> None:
    assert md_text("a|b") == "a\\|b"
    assert md_text("<img src=x>") == "&lt;img src=x&gt;"
    assert md_text("[x](http://e)") == "\\[x\\](http://e)"
    assert md_text("`c` *b* &#x202E; \\") == "\\`c\\` \\*b\\* &amp;\\#x202E; \\\\"
    assert "\n" not in md_text("a\nb")
    assert md_code("a`b") == "``a`b``" and md_code("`x") == "`` `x ``"
    assert md_code("a|b") == "`a\\|b`"
    assert html_text("<b>&") == "&lt;b&gt;&amp;"
    # ordinary names are untouched
    assert md_text("reviews-v2.shop") == "reviews-v2.shop" and md_code("f.yaml:3") == "`f.yaml:3`"


def test_workflow_command_escaping_keeps_a_name_inside_its_command() -> None:
    assert gh_data("50% done\nnext") == "50%25 done%0Anext"
    assert gh_data("a\x1b[31m") == "a\\x1b[31m"
    assert gh_property("a:b,c\n") == "a%3Ab%2Cc%0A"
    assert gh_data("plain message") == "plain message"


def test_a_wrapped_line_cannot_start_a_workflow_command() -> None:
    assert defuse_commands("a\n    ::error::x\n\u00a0::warning::y\n") == \
        "a\n    \\x3a:error::x\n\u00a0\\x3a:warning::y\n"
    assert defuse_commands("\x1b[2m::notice::z") == "\x1b[2m\\x3a:notice::z"
    assert defuse_commands("see fe80::1 and ::1\n") == "see fe80::1 and ::1\n"  # mid-line
    text = render(hostile_report("w " * 60 + "::error::folded"), OutputFormat.TABLE)
    assert "\\x3a:error::folded" in text  # the fold did put it at a line start
    assert not any(line.lstrip().startswith("::") for line in text.splitlines())


def test_json_escapes_leave_the_data_unchanged() -> None:
    text = json.dumps({"k\u202e": "a\x85\u2028b\x7f"}, ensure_ascii=False)
    escaped = escape_in_strings(text)
    assert RAW.search(escaped) is None
    assert json.loads(escaped) == json.loads(text)
    assert escape_in_strings('{"a": "café"}') == '{"a": "café"}'


# --- every renderer, with hostile names -----------------------------------------------------

def hostile_report(name: str) -> Report:
    """The mixed-shop example's report with ``name`` as namespace, object, file and message."""
    result = cli("analyze", str(ROOT / "examples" / "mixed-shop"), "-o", "json")
    report = Report.model_validate_json(result.stdout)
    verdicts = []
    for verdict in report.namespaces:
        reasons = [dataclasses.replace(
            r, message=f"{r.message} {name}",
            objects=tuple(dataclasses.replace(o, name=name, file=f"{name}.yaml")
                          for o in r.objects)) for r in verdict.reasons]
        verdicts.append(dataclasses.replace(verdict, name=name, summary=f"{name} summary",
                                            reasons=reasons))
    return report.model_copy(update={
        "namespaces": verdicts, "mesh_version": name,
        "errors": [ErrorEntry(file=f"{name}.yaml", line=1, message=name)]})


@pytest.mark.parametrize("name", HOSTILE)
@pytest.mark.parametrize("output", list(OutputFormat))
def test_no_format_lets_a_hostile_name_through(name: str, output: OutputFormat) -> None:
    report = hostile_report(name)
    for color in (False, True):
        text = render(report, output, view=View(color=color, rules=ALL_RULES))
        lines = SGR.sub("", text).splitlines()  # the table's own colours aside
        assert not any(RAW.search(line) for line in lines), output
        if output is OutputFormat.GITHUB:
            assert all(re.fullmatch(r"::(error|warning|notice) [^\n]*::.*", ln) for ln in lines)
        else:
            assert not any(line.lstrip().startswith("::") for line in lines), output
    if output in (OutputFormat.JSON, OutputFormat.SARIF):
        json.loads(text)
    if output is OutputFormat.JSON:
        assert Report.model_validate_json(text).namespaces[0].name == name  # data unchanged
    if output is OutputFormat.YAML:
        assert yaml.safe_load(text)["namespaces"][0]["name"] == name


def test_table_shows_markup_as_text_and_makes_no_hyperlink() -> None:
    for color in (False, True):
        text = render(hostile_report("[link=http://x]hi[/link]"), OutputFormat.TABLE, color)
        assert "[link=http://x]hi[/link]" in text and "\x1b]8;" not in text
        assert "[/oops]" in render(hostile_report("[/oops]"), OutputFormat.TABLE, color)


def test_markdown_escapes_cells_and_the_details_summary() -> None:
    text = render(hostile_report("a|b<img src=x>"), OutputFormat.MARKDOWN)
    assert "| a\\|b&lt;img src=x&gt; |" in text
    assert "<summary><b>a|b&lt;img src=x&gt;</b>" in text
    assert "<img" not in re.sub(r"(`+).+?\1", "", text)  # literal in code spans, nowhere else


def test_plain_names_render_as_before() -> None:
    text = render(hostile_report("shop"), OutputFormat.MARKDOWN)
    assert "| shop |" in text and "<summary><b>shop</b>" in text
    assert "`shop.yaml:" in text


# --- stderr and stdout ----------------------------------------------------------------------

def test_error_messages_are_one_line_whatever_the_input_says() -> None:
    result = cli("explain", "x\n::error::pwned\x1b[2J")
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1 and "\x1b" not in result.stderr
    assert "x\\n::error::pwned\\x1b[2J" in result.stderr  # shown as repr: still one line


def test_an_object_name_in_an_error_cannot_start_a_workflow_command(repo: Path) -> None:
    write(repo, "m.yaml", AMBIENT_NS + "---\nkind: Service\nmetadata: {name: \"a\\n::error::x\","
                          " namespace: shop}\nspec: {ports: 7}\n")
    result = cli("analyze", "m.yaml", "-o", "json")
    assert result.exit_code == 2
    assert all(line.startswith("asm-advisor: ") for line in result.stderr.splitlines())
    assert "shop" in {v["name"] for v in json.loads(result.stdout)["namespaces"]}


def _run(args: list[str], stdout: int) -> subprocess.CompletedProcess[bytes]:
    env = {**os.environ, "NO_COLOR": "1"}
    return subprocess.run([sys.executable, "-m", "asm_mode_advisor", *args], stdout=stdout,
                          stderr=subprocess.PIPE, env=env, timeout=120, check=False)


def test_a_closed_pipe_exits_quietly_with_141() -> None:
    read, write_end = os.pipe()
    os.close(read)
    try:
        done = _run(["analyze", str(ROOT / "examples"), "-o", "json"], write_end)
    finally:
        os.close(write_end)
    assert done.returncode == 141 and done.stderr == b""


def test_a_full_disk_is_one_line_and_exit_2() -> None:
    with open(os.devnull, "wb") as null:
        fine = _run(["rules"], null.fileno())
    assert fine.returncode == 0 and fine.stderr == b""
    with open("/dev/full", "wb") as full:
        done = _run(["analyze", str(ROOT / "examples" / "l4-only")], full.fileno())
    assert done.returncode == 2
    assert done.stderr == b"asm-advisor: error: cannot write output: No space left on device\n"
    for args in (["--version"], ["analyze", "--help"]):  # the early answers too
        with open("/dev/full", "wb") as full:
            early = _run(args, full.fileno())
        assert early.returncode == 2, args
        assert early.stderr.endswith(b": cannot write output: No space left on device\n")


@pytest.mark.parametrize("version", ["1" * 5000, "1.²", "١.٢٥", "1." + "9" * 10])
def test_absurd_mesh_versions_are_usage_errors(version: str) -> None:
    assert parse_version(version) is None
    result = cli("analyze", str(ROOT / "examples" / "l4-only"), "--mesh-version", version)
    assert result.exit_code == 2 and "internal error" not in result.stderr
    assert result.stderr.count("\n") == 1 and len(result.stderr) < 300


def test_ordinary_mesh_versions_still_parse() -> None:
    assert parse_version("1.25") == (1, 25) and parse_version("v1.999999999.3") == (1, 999999999)


# --- config, baseline and diff files ---------------------------------------------------------

BAD_CONFIGS = {
    "deep.yaml": "rules: " + "[" * 5000 + "\n",
    "huge.yaml": "meshVersion: " + "1" * 5000 + "\n",
    "types.yaml": "rules: {disable: 5}\n",
    "syntax.yaml": "failOn: [\n",
    "version.yaml": "meshVersion: '1.²'\n",
    "bool.yaml": "meshVersion: true\n",
}


@pytest.mark.parametrize("name", sorted(BAD_CONFIGS))
def test_a_bad_config_is_one_line_and_the_report_is_still_printed(repo: Path, name: str) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, name, BAD_CONFIGS[name])
    result = cli("analyze", "manifests", "--config", name, "-o", "json")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"asm-advisor: error: {name}")
    assert result.stderr.count("\n") == 1, result.stderr
    assert [v["name"] for v in json.loads(result.stdout)["namespaces"]] == ["shop"]


def test_a_good_config_still_gates(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, "ok.yaml", "failOn: never\n")
    assert cli("analyze", "manifests", "--config", "ok.yaml").exit_code == 0
    assert cli("analyze", "manifests").exit_code == 1


@pytest.mark.parametrize("path", ["/dev/zero", "/dev/null"])
def test_a_config_that_is_no_file_is_refused(repo: Path, path: str) -> None:
    l7_pr(repo, with_waypoint=False)
    result = cli("analyze", "manifests", "--config", path)
    assert result.exit_code == 2 and "not a regular file" in result.stderr
    assert "shop" in result.stdout


BAD_BASELINES = {
    "deep.json": "[" * 100000,
    "huge.json": '{"namespaces": [], "n": ' + "9" * 5000 + "}",
    "types.json": '{"namespaces": [{"name": "shop", "reasons": 5}]}',
    "items.json": '{"namespaces": [7]}',
}


@pytest.mark.parametrize("name", sorted(BAD_BASELINES))
def test_a_bad_baseline_is_one_line_and_the_report_is_still_printed(repo: Path,
                                                                    name: str) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, name, BAD_BASELINES[name])
    result = cli("analyze", "manifests", "--baseline", name, "-o", "json")
    assert result.exit_code == 2
    assert result.stderr.startswith(f"asm-advisor: error: {name}")
    assert result.stderr.count("\n") == 1, result.stderr
    report = json.loads(result.stdout)
    assert [v["name"] for v in report["namespaces"]] == ["shop"]
    assert "baseline" not in report["summary"]


def test_a_baseline_from_a_pipe_is_read(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, "old.json", cli("analyze", "manifests", "-o", "json").stdout)
    with open(repo / "old.json", "rb") as old:
        piped = subprocess.run([sys.executable, "-m", "asm_mode_advisor", "analyze",
                                "manifests", "--baseline", "/dev/stdin"], stdin=old,
                               capture_output=True, timeout=120, check=False)
    assert piped.returncode == 0, piped.stderr


@pytest.mark.parametrize("name", sorted(BAD_BASELINES))
def test_diff_of_a_bad_report_is_one_line(repo: Path, name: str) -> None:
    write(repo, name, BAD_BASELINES[name])
    write(repo, "ok.json", '{"namespaces": []}')
    result = cli("diff", "ok.json", name)
    assert result.exit_code == 2 and result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"asm-advisor: error: {name}")


def test_diff_shows_hostile_names_on_one_line(repo: Path) -> None:
    old = {"namespaces": [{"name": "x\n::error::pwned", "recommendation": "ambient"}]}
    new = {"namespaces": [{"name": "x\n::error::pwned", "recommendation": "sidecar",
                           "reasons": [{"fingerprint": "f", "severity": {"a": 1},
                                        "ruleId": "\x1b[2J", "objects": 5}]}]}
    write(repo, "old.json", json.dumps(old))
    write(repo, "new.json", json.dumps(new))
    result = cli("diff", "old.json", "new.json")
    assert result.exit_code == 0
    assert result.stdout.splitlines()[:2] == [
        "~ x\\x0a::error::pwned: ambient -> sidecar", "+ ?       \\x1b[2J "]


def test_a_huge_number_in_a_manifest_skips_that_file_only(repo: Path) -> None:
    write(repo, "m/good.yaml", AMBIENT_NS + "---\n" + SERVICE + "---\n" + VIRTUAL_SERVICE)
    write(repo, "m/big.yaml", "kind: Namespace\nmetadata: {name: big}\nn: " + "9" * 5000)
    write(repo, "m/big.json", '{"kind": "Namespace", "n": ' + "9" * 5000 + "}")
    result = cli("analyze", "m", "-o", "json")
    assert result.exit_code == 2 and "internal error" not in result.stderr
    assert "big.yaml:1: a value cannot be read" in result.stderr
    assert "big.json:1: a value cannot be read" in result.stderr
    assert [v["name"] for v in json.loads(result.stdout)["namespaces"]] == ["shop"]


@pytest.mark.parametrize("name", HOSTILE)
def test_plan_markdown_and_json_keep_hostile_names_on_their_line(name: str) -> None:
    from asm_mode_advisor.commands.plan import PlanFormat, render_plan
    from asm_mode_advisor.plan.model import Plan, Skipped

    result = cli("plan", str(ROOT / "examples" / "mixed-shop"), "-o", "json")
    plan = Plan.model_validate_json(result.stdout)
    first = plan.namespaces[0].model_copy(update={"name": name})
    plan = plan.model_copy(update={
        "namespaces": [first, *plan.namespaces[1:]], "mesh_version": name,
        "skipped": [Skipped(name=name, reason=name)],
        "errors": [ErrorEntry(file=name, line=2, message=name)]})
    markdown = render_plan(plan, PlanFormat.MARKDOWN)
    lines = markdown.splitlines()
    assert not any(RAW.search(line) for line in lines)
    assert not any(line.lstrip().startswith("::") for line in lines)
    assert "<img" not in re.sub(r"(`+).+?\1", "", markdown)
    text = render_plan(plan, PlanFormat.JSON)
    assert RAW.search(text) is None and Plan.model_validate_json(text).mesh_version == name
