"""The command line: exit codes, error lines on stderr, formats, determinism, no tracebacks."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from asm_mode_advisor import __version__
from asm_mode_advisor.cli import app
from asm_mode_advisor.matrix import ROWS
from asm_mode_advisor.rules import ALL_RULES

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


def test_analyze_never_imports_kubernetes(manifests: Path) -> None:
    code = ("import sys\nfrom asm_mode_advisor.cli import main\nsys.argv = ['asm-advisor', "
            f"'analyze', {str(manifests)!r}, '-o', 'json']\n"
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
