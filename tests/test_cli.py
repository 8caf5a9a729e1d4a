"""The command line: exit codes, error lines on stderr, formats, determinism, no tracebacks."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner, Result

from asm_mode_advisor import __version__
from asm_mode_advisor.cli import app
from asm_mode_advisor.matrix import ROWS
from asm_mode_advisor.rules import ALL_RULES
from asm_mode_advisor.sources.files import excluded_path

GOOD = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {selector: {app: cart}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart, namespace: shop}
spec:
  hosts: [cart]
  http: [{timeout: 3s, route: [{destination: {host: cart}}]}]
"""
BAD = "apiVersion: v1\nkind: Service\nmetadata: {name: [x]}\n---\nkind: [\n"
ANSI = "\x1b["

runner = CliRunner()


@pytest.fixture
def manifests(tmp_path: Path) -> Path:
    (tmp_path / "good.yaml").write_text(GOOD)
    return tmp_path


@pytest.fixture
def broken(manifests: Path) -> Path:
    (manifests / "bad.yaml").write_text(BAD)
    return manifests


def test_clean_input_exits_0(manifests: Path) -> None:
    result = runner.invoke(app, ["analyze", str(manifests), "--output", "json"])
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    report = json.loads(result.stdout)
    assert [(n["name"], n["currentMode"], n["recommendation"]) for n in report["namespaces"]] == [
        ("shop", "sidecar", "ambient-waypoint")]
    reason = next(r for r in report["namespaces"][0]["reasons"] if r["ruleId"] == "AMA101")
    assert reason["matrixRows"] == ["U-ZTUNNEL-NO-L7-TRAFFIC", "M-TRAFFIC"]
    assert reason["objects"] == [{"kind": "VirtualService", "namespace": "shop", "name": "cart",
                                  "file": str(manifests / "good.yaml"), "line": 10}]
    assert report["schemaVersion"] == "1"
    assert report["tool"] == {"name": "asm-advisor", "version": __version__}
    assert report["summary"]["namespaces"] == 1 and report["errors"] == []


def test_bad_input_exits_2_with_one_line_per_error_and_the_report(broken: Path) -> None:
    result = runner.invoke(app, ["analyze", str(broken), "-o", "json"])
    assert result.exit_code == 2
    bad = str(broken / "bad.yaml")
    assert result.stderr.splitlines() == [
        f"asm-advisor: {bad}:1: Service object skipped: 'metadata.name' must be a string, "
        "not a list",
        f"asm-advisor: {bad}:6: YAML syntax error: did not find expected node content",
    ]
    report = json.loads(result.stdout)
    assert [e["line"] for e in report["errors"]] == [1, 6]
    assert report["namespaces"][0]["recommendation"] == "ambient-waypoint"


def test_missing_path_exits_2(manifests: Path) -> None:
    result = runner.invoke(app, ["analyze", str(manifests), str(manifests / "nope")])
    assert result.exit_code == 2
    assert result.stderr == f"asm-advisor: {manifests / 'nope'}: no such file or directory\n"
    assert "shop" in result.stdout


def test_stdin_and_default_namespace() -> None:
    text = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {ports: [{port: 80}]}\n"
    result = runner.invoke(app, ["analyze", "-", "--default-namespace", "shop", "-o", "json"],
                           input=text)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert [n["name"] for n in report["namespaces"]] == ["shop"]
    objects = [o for r in report["namespaces"][0]["reasons"] for o in r["objects"]]
    assert all(o.get("file") in (None, "<stdin>") for o in objects)


def test_bad_mesh_version_is_a_usage_error(manifests: Path) -> None:
    result = runner.invoke(app, ["analyze", str(manifests), "--mesh-version", "latest"])
    assert result.exit_code == 2
    assert "--mesh-version 'latest'" in result.stderr


def test_old_mesh_version_recommends_sidecar(manifests: Path) -> None:
    result = runner.invoke(app, ["analyze", str(manifests), "--mesh-version", "1.24", "-o",
                                 "json"])
    report = json.loads(result.stdout)
    assert report["meshVersion"] == "1.24"
    assert report["namespaces"][0]["recommendation"] == "sidecar"


@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_structured_output_parses_and_is_byte_identical(broken: Path, fmt: str) -> None:
    first = runner.invoke(app, ["analyze", str(broken), "-o", fmt])
    second = runner.invoke(app, ["analyze", str(broken), "-o", fmt])
    assert first.stdout == second.stdout
    data = json.loads(first.stdout) if fmt == "json" else yaml.safe_load(first.stdout)
    assert data["summary"]["byRecommendation"]["ambient-waypoint"] == 1
    assert ANSI not in first.stdout


def test_json_and_yaml_hold_the_same_data(manifests: Path) -> None:
    as_json = json.loads(runner.invoke(app, ["analyze", str(manifests), "-o", "json"]).stdout)
    as_yaml = yaml.safe_load(runner.invoke(app, ["analyze", str(manifests), "-o",
                                                 "yaml"]).stdout)
    assert as_json == as_yaml


def test_table_output_without_a_tty_has_no_colour(manifests: Path) -> None:
    result = runner.invoke(app, ["analyze", str(manifests)])
    assert result.exit_code == 0
    assert ANSI not in result.stdout
    assert "ambient-waypoint" in result.stdout and "AMA101" in result.stdout


def test_output_file_gets_the_format_and_terminal_gets_the_table(manifests: Path,
                                                                 tmp_path: Path) -> None:
    target = tmp_path / "report.json"
    result = runner.invoke(app, ["analyze", str(manifests), "-o", "json", "--output-file",
                                 str(target)])
    assert result.exit_code == 0
    assert json.loads(target.read_text())["namespaces"][0]["name"] == "shop"
    assert "asm-advisor: data-plane mode per namespace" in result.stdout


def test_rules_lists_every_rule() -> None:
    result = runner.invoke(app, ["rules"])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert [line.split()[0] for line in lines] == [r.id for r in ALL_RULES]
    assert "needs-waypoint" in lines[0] and "U-ZTUNNEL-NO-L7-TRAFFIC,M-TRAFFIC" in lines[0]


@pytest.mark.parametrize("name", ["AMA101", "ama101", "vs-http-routing"])
def test_explain_prints_the_rule_doc(name: str) -> None:
    result = runner.invoke(app, ["explain", name])
    assert result.exit_code == 0
    assert result.stdout.startswith("## AMA101 vs-http-routing\n")
    assert "```yaml" in result.stdout and "U-ZTUNNEL-NO-L7-TRAFFIC" in result.stdout


def test_explain_unknown_rule_exits_2() -> None:
    result = runner.invoke(app, ["explain", "nope"])
    assert result.exit_code == 2
    assert result.stderr == "asm-advisor: error: no rule 'nope'; see 'asm-advisor rules'\n"
    assert result.stdout == ""


def test_matrix_prints_every_row() -> None:
    result = runner.invoke(app, ["matrix"])
    assert result.exit_code == 0
    assert [line.split()[0] for line in result.stdout.splitlines()] == [r.id for r in ROWS]


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0 and result.stdout == f"asm-advisor {__version__}\n"


def test_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["analyze", "--no-such-flag"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


# --- real processes -------------------------------------------------------------------------

def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ASM_ADVISOR_DEBUG"}
    env["NO_COLOR"] = "1"
    return env


def _console_script() -> str:
    script = Path(sys.executable).parent / "asm-advisor"
    return str(script) if script.exists() else "asm-advisor"


@pytest.mark.parametrize("command", [[_console_script()],
                                     [sys.executable, "-m", "asm_mode_advisor"]],
                         ids=["console-script", "python-m"])
def test_real_process_reports_errors_without_traceback(command: list[str],
                                                       broken: Path) -> None:
    done = subprocess.run([*command, "analyze", str(broken), "-o", "json"],
                          capture_output=True, text=True, env=_env(), timeout=120, check=False)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 2 and all(line.startswith("asm-advisor: ") for line in lines)
    assert json.loads(done.stdout)["summary"]["errors"] == 2
    again = subprocess.run([*command, "analyze", str(broken), "-o", "json"],
                           capture_output=True, text=True, env=_env(), timeout=120,
                           check=False)
    assert again.stdout == done.stdout


def test_real_process_table_has_no_ansi_with_no_color(manifests: Path) -> None:
    done = subprocess.run([_console_script(), "analyze", str(manifests)], capture_output=True,
                          text=True, env=_env(), timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    assert ANSI not in done.stdout and "shop" in done.stdout


def test_real_process_stdin(manifests: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "asm_mode_advisor", "analyze", "-", "-o",
                           "json"], input=BAD, capture_output=True, text=True, env=_env(),
                          timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.splitlines()[0].startswith("asm-advisor: <stdin>:1: ")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("extra", [[], ["-n", "shop"]])
def test_analyze_never_imports_kubernetes(manifests: Path, extra: list[str]) -> None:
    code = ("import sys\nfrom asm_mode_advisor.cli import main\nsys.argv = ['asm-advisor', "
            f"'analyze', {str(manifests)!r}, '-o', 'json', *{extra!r}]\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print('kubernetes' in sys.modules, file=sys.stderr)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=_env(), timeout=120, check=False)
    assert done.stderr.strip().splitlines()[-1] == "False"


def test_version_is_answered_without_loading_the_cli() -> None:
    code = ("import sys\nsys.argv = ['asm-advisor', '--version']\n"
            "from asm_mode_advisor.__main__ import main\nmain()\n"
            "print(sorted(m for m in ('typer', 'pydantic', 'asm_mode_advisor.cli') "
            "if m in sys.modules))\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"asm-advisor {__version__}", "[]"]


OTHER = """\
apiVersion: v1
kind: Namespace
metadata: {name: billing}
---
apiVersion: v1
kind: Service
metadata: {name: ledger, namespace: billing}
spec: {selector: {app: ledger}, ports: [{name: tcp, port: 9000}]}
"""
MESH_WIDE = """\
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
"""


@pytest.fixture
def estate(manifests: Path) -> Path:
    (manifests / "billing").mkdir()
    (manifests / "billing" / "billing.yaml").write_text(OTHER)
    (manifests / "root.yaml").write_text(MESH_WIDE)
    return manifests


def _names(result: Result) -> list[str]:
    assert result.exit_code in (0, 1), result.output
    return [n["name"] for n in json.loads(result.stdout)["namespaces"]]


def test_namespace_option_keeps_the_chosen_namespaces(estate: Path) -> None:
    everything = runner.invoke(app, ["analyze", str(estate), "-o", "json"])
    assert _names(everything) == ["billing", "istio-system", "shop"]
    chosen = runner.invoke(app, ["analyze", str(estate), "-o", "json", "-n", "shop"])
    assert _names(chosen) == ["shop"]
    summary = json.loads(chosen.stdout)["summary"]
    assert summary["namespaces"] == 1 and sum(summary["byRecommendation"].values()) == 1
    # The chosen namespace's verdict and reasons are the ones the whole estate gives it
    # (mesh-wide objects of the root namespace still count); only shares of the estate's
    # costs may differ, the estate being smaller.
    whole = next(n for n in json.loads(everything.stdout)["namespaces"] if n["name"] == "shop")
    alone = json.loads(chosen.stdout)["namespaces"][0]
    assert [alone[key] for key in ("recommendation", "reasons", "waypoints")] == [
        whole[key] for key in ("recommendation", "reasons", "waypoints")]
    assert any(reason["ruleId"] for reason in alone["reasons"])
    both = runner.invoke(app, ["analyze", str(estate), "-o", "json", "-n", "shop",
                               "--namespace", "billing"])
    assert _names(both) == ["billing", "shop"]


def test_a_namespace_not_in_the_input_is_an_input_error(estate: Path) -> None:
    result = runner.invoke(app, ["analyze", str(estate), "-n", "shop", "-n", "nowhere"])
    assert result.exit_code == 2
    assert "namespace 'nowhere' (--namespace) not found in the input" in result.stderr


def test_a_bad_namespace_name_is_a_usage_error(estate: Path) -> None:
    result = runner.invoke(app, ["analyze", str(estate), "-n", "Not_A_Label"])
    assert result.exit_code == 2
    assert "DNS-1123" in result.output


def test_exclude_leaves_files_unread_and_counts_them(estate: Path) -> None:
    result = runner.invoke(app, ["analyze", str(estate), "-o", "json", "--exclude",
                                 "*/billing"])
    assert _names(result) == ["istio-system", "shop"]
    summary = json.loads(result.stdout)["summary"]
    assert summary["excludedFiles"] == 1 and summary["files"] == 2
    (estate / "billing" / "billing.yaml").write_text(BAD)  # never opened, so no error
    again = runner.invoke(app, ["analyze", str(estate), "--exclude", "*/billing/*.yaml",
                                "--exclude", "*/root.yaml"])
    assert again.exit_code == 0, again.output
    assert "2 file(s) excluded" in " ".join(again.stdout.split())
    plain = runner.invoke(app, ["analyze", str(estate), "-o", "json"])
    assert "excludedFiles" not in json.loads(plain.stdout)["summary"]


def test_exclude_files_in_the_config_add_to_the_flag(estate: Path) -> None:
    config = estate / ".asm-advisor.yaml"  # hidden: not read as a manifest
    config.write_text("excludeFiles: ['*/billing']\n")
    result = runner.invoke(app, ["analyze", str(estate), "-o", "json", "--config",
                                 str(config), "--exclude", "*/root.yaml"])
    assert _names(result) == ["shop"]
    assert json.loads(result.stdout)["summary"]["excludedFiles"] == 2


def test_rules_json_is_sorted_and_lists_every_rule() -> None:
    result = runner.invoke(app, ["rules", "-o", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [rule["id"] for rule in data] == [rule.id for rule in ALL_RULES]
    assert data[0]["effect"] == "needs-waypoint"
    assert "U-ZTUNNEL-NO-L7-TRAFFIC" in data[0]["matrixRows"]
    assert result.stdout == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    assert runner.invoke(app, ["rules", "-o", "json"]).stdout == result.stdout


def test_matrix_json_is_sorted_and_lists_every_row() -> None:
    result = runner.invoke(app, ["matrix", "--output", "json"])
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert [row["id"] for row in data] == [row.id for row in ROWS]
    assert data[0]["summary"] == ROWS[0].summary()
    assert result.stdout == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_diff_json_lists_changes_and_findings(manifests: Path, tmp_path: Path) -> None:
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(runner.invoke(app, ["analyze", str(manifests), "-o", "json"]).stdout)
    new.write_text(runner.invoke(app, ["analyze", str(manifests), "-o", "json",
                                       "--mesh-version", "1.20"]).stdout)
    result = runner.invoke(app, ["diff", str(old), str(new), "-o", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    text = runner.invoke(app, ["diff", str(old), str(new)]).stdout.splitlines()
    assert data["changed"] == [{"after": "sidecar", "before": "ambient-waypoint",
                                "namespace": "shop"}]
    assert data["summary"] == {"changed": 1, "new": len(data["new"]),
                               "fixed": len(data["fixed"])}
    assert text[-1] == (f"1 recommendation(s) changed, {len(data['new'])} new finding(s), "
                        f"{len(data['fixed'])} fixed")
    assert all({"fingerprint", "ruleId", "severity", "message"} <= set(item)
               for item in data["new"] + data["fixed"])
    assert result.stdout == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def test_explain_is_raw_markdown_when_piped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    result = runner.invoke(app, ["explain", "AMA101"])
    assert result.stdout.startswith("## AMA101 vs-http-routing\n")
    assert ANSI not in result.stdout


def test_explain_is_formatted_by_rich_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # what a terminal gets, without one
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "70")
    result = runner.invoke(app, ["explain", "AMA101"])
    assert result.exit_code == 0
    visible = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout)
    assert ANSI in result.stdout
    assert "## " not in visible and "**" not in visible  # markup rendered, not printed
    assert "AMA101 vs-http-routing" in visible
    assert max(len(line) for line in visible.splitlines()) <= 70


def test_force_color_colours_a_piped_table(manifests: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("FORCE_COLOR", "1")
    assert ANSI in runner.invoke(app, ["analyze", str(manifests)]).stdout
    monkeypatch.setenv("NO_COLOR", "1")  # NO_COLOR wins, as in rich
    assert ANSI not in runner.invoke(app, ["analyze", str(manifests)]).stdout
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.delenv("FORCE_COLOR")
    assert ANSI not in runner.invoke(app, ["analyze", str(manifests)]).stdout


@pytest.mark.parametrize(("path", "globs", "hit"), [
    ("./k8s/vendor/a.yaml", ["k8s/vendor"], True),  # a folder excludes what is under it
    ("k8s/vendor/a.yaml", ["./k8s/vendor/"], True),
    ("k8s/deep/x/a.generated.yaml", ["*.generated.yaml"], True),  # * also matches /
    ("k8s/vendors/a.yaml", ["k8s/vendor"], False),
    ("k8s/a.yaml", ["*.generated.yaml"], False),
    ("/abs/a.yaml", [""], False),  # an empty glob excludes nothing
])
def test_exclude_globs_match_paths_and_folders(path: str, globs: list[str], hit: bool) -> None:
    assert excluded_path(path, globs) is hit
