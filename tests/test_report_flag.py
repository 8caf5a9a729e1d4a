"""``--report FORMAT=PATH``: one analysis writes every format, each file whole or not at all."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asm_mode_advisor.cli import app
from asm_mode_advisor.commands import common
from asm_mode_advisor.render import OutputFormat
from hostile import Hostile, kubeconfig

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "110")


def _run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_one_run_writes_every_format_as_its_own_run_would(tmp_path: Path) -> None:
    reports = [f"{fmt.value}={tmp_path / ('report.' + fmt.value)}" for fmt in OutputFormat]
    code, stdout, _ = _run("analyze", "examples", "-o", "json",
                           *[arg for value in reports for arg in ("--report", value)])
    assert code in (0, 1)
    for fmt in OutputFormat:
        alone = _run("analyze", "examples", "-o", fmt.value)[1]
        assert (tmp_path / f"report.{fmt.value}").read_text(encoding="utf-8") == alone, fmt
    assert stdout == (tmp_path / "report.json").read_text(encoding="utf-8")


def test_reports_go_with_output_file_and_the_terminal_table(tmp_path: Path) -> None:
    code, stdout, _ = _run("analyze", "examples/mixed-shop", "--output-file",
                           str(tmp_path / "out.sarif"), "-o", "sarif",
                           "--report", f"markdown={tmp_path / 'comment.md'}")
    assert code in (0, 1)
    assert stdout.startswith("asm-advisor: data-plane mode per namespace")
    assert (tmp_path / "out.sarif").read_text(encoding="utf-8").startswith("{")
    assert (tmp_path / "comment.md").stat().st_size > 0


def test_format_names_are_case_insensitive_and_paths_may_hold_equals(tmp_path: Path) -> None:
    target = tmp_path / "a=b.json"
    code, _, _ = _run("analyze", "examples/l4-only", "--report", f"JSON={target}")
    assert code in (0, 1)
    assert target.read_text(encoding="utf-8").startswith("{")


@pytest.mark.parametrize("value", ["json", "json=", "=out.json", "pdf=out.pdf", "out.json"])
def test_bad_report_value_is_one_usage_line_listing_the_formats(value: str,
                                                                tmp_path: Path) -> None:
    code, stdout, stderr = _run("analyze", "examples/l4-only", "--report", value)
    assert code == 2
    assert stdout == ""  # refused before anything is read
    lines = stderr.splitlines()
    assert len(lines) == 1
    assert "expected FORMAT=PATH" in lines[0]
    for fmt in OutputFormat:
        assert fmt.value in lines[0]


def test_an_unwritable_report_is_one_line_and_exit_2(tmp_path: Path) -> None:
    code, _, stderr = _run("analyze", "examples/l4-only", "--report",
                           f"json={tmp_path / 'missing' / 'r.json'}")
    assert code == 2
    assert [line for line in stderr.splitlines() if "cannot write" in line] == [
        f"asm-advisor: error: cannot write {tmp_path / 'missing' / 'r.json'}: "
        "No such file or directory"]


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    target = tmp_path / "report.json"
    target.write_text("old\n", encoding="utf-8")

    def pieces() -> object:
        yield "{"
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left"):
        common.write_atomically(target, pieces())  # type: ignore[arg-type]
    assert target.read_text(encoding="utf-8") == "old\n"
    assert sorted(os.listdir(tmp_path)) == ["report.json"]


def test_a_written_report_has_the_usual_permissions(tmp_path: Path) -> None:
    target = tmp_path / "r.md"
    common.write_atomically(target, iter(["# hi\n"]))
    mask = os.umask(0o022)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
    assert target.read_text(encoding="utf-8") == "# hi\n"


def test_scan_writes_reports_too(tmp_path: Path) -> None:
    with Hostile() as server:
        config = kubeconfig(tmp_path / "config", server.url, {"token": "t"})
        result = subprocess.run(
            [sys.executable, "-m", "asm_mode_advisor", "scan", "--kubeconfig", str(config),
             "--allow-empty", "-o", "json", "--report", f"sarif={tmp_path / 'scan.sarif'}",
             "--report", f"yaml={tmp_path / 'scan.yaml'}"],
            capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "cluster"
    assert json.loads((tmp_path / "scan.sarif").read_text(encoding="utf-8"))["runs"]
    assert "source: cluster" in (tmp_path / "scan.yaml").read_text(encoding="utf-8")


def test_scan_refuses_a_bad_report_before_connecting(tmp_path: Path) -> None:
    code, stdout, stderr = _run("scan", "--kubeconfig", str(tmp_path / "none"), "--report",
                                "xml=out.xml")
    assert code == 2 and stdout == ""
    assert stderr.startswith("asm-advisor: error: --report 'xml=out.xml': expected")
