"""Help and usage errors speak the user's words, and the shell completion scripts work."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asm_mode_advisor.cli import app
from asm_mode_advisor.render import OutputFormat

#: What Python, Typer or pydantic would show a user instead of a word.
JARGON = re.compile(r"\{\w+(?:\.\.\.)?\}|<[a-z][\w \[\],|]*>|list\[|Value error|"
                    r"Input should be|int range|pydantic")
COMMANDS = sorted(command.name or "" for command in app.registered_commands)


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, list(args), prog_name="asm-advisor")
    return result.exit_code, result.output


def test_every_command_is_walked() -> None:
    assert {"analyze", "scan", "plan", "diff", "rules", "explain", "matrix"} <= set(COMMANDS)


@pytest.mark.parametrize("command", ["", *COMMANDS])
def test_help_has_no_python_types(command: str) -> None:
    code, text = _run(*([command] if command else []), "--help")
    assert code == 0
    assert "Usage: asm-advisor" in text
    assert JARGON.findall(text) == [], text


@pytest.mark.parametrize("args", [
    ["analyze", "examples", "-o", "pdf"],
    ["analyze", "examples", "--fail-on", "sometimes"],
    ["analyze", "examples", "--assume-mode", "maybe"],
    ["analyze", "examples", "--max-file-size", "0"],
    ["analyze", "examples", "--max-file-size", "lots"],
    ["analyze"],
    ["plan", "examples", "--nodes", "0"],
    ["plan", "examples", "-o", "pdf"],
    ["scan", "--page-size", "0"],
    ["rules", "-o", "xml"],
    ["diff", "a.json"],
    ["explain"],
])
def test_usage_errors_have_no_python_types(args: list[str]) -> None:
    code, text = _run(*args)
    assert code == 2
    assert "Error:" in text
    assert JARGON.findall(text) == [], text


def test_a_bad_output_lists_every_format() -> None:
    code, text = _run("analyze", "examples", "-o", "pdf")
    assert code == 2
    error = next(line for line in text.splitlines() if line.startswith("Error:"))
    for fmt in OutputFormat:
        assert f"'{fmt.value}'" in error


def _script(shell: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    return subprocess.run([sys.executable, "-m", "asm_mode_advisor", "--show-completion",
                           shell], capture_output=True, text=True, env=env, check=False,
                          timeout=60)


@pytest.mark.parametrize(("shell", "marker"), [
    ("bash", "complete -o default -F _asm_advisor_completion asm-advisor"),
    ("zsh", "#compdef asm-advisor"),
    ("fish", "complete --command asm-advisor"),
])
def test_show_completion_prints_a_script_for_the_console_script(shell: str,
                                                                marker: str) -> None:
    result = _script(shell)
    assert result.returncode == 0, result.stderr
    assert marker in result.stdout
    assert "_ASM_ADVISOR_COMPLETE" in result.stdout


def test_root_help_offers_completion() -> None:
    _, text = _run("--help")
    assert "--install-completion" in text and "--show-completion" in text


@pytest.mark.parametrize(("words", "cword", "expected"), [
    ("asm-advisor an", "1", ["analyze"]),
    ("asm-advisor analyze -o ", "3", [fmt.value for fmt in OutputFormat]),
])
def test_bash_completion_completes_commands_and_formats(words: str, cword: str,
                                                        expected: list[str]) -> None:
    env = {**os.environ, "_ASM_ADVISOR_COMPLETE": "complete_bash", "COMP_WORDS": words,
           "COMP_CWORD": cword}
    result = subprocess.run([sys.executable, "-m", "asm_mode_advisor"], capture_output=True,
                            text=True, env=env, check=False, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == expected


@pytest.mark.parametrize(("shell", "script"), [
    ("bash", ".bash_completions/asm-advisor.sh"),
    ("zsh", ".zfunc/_asm-advisor"),
    ("fish", ".config/fish/completions/asm-advisor.fish"),
])
def test_install_completion_writes_the_script_under_home(shell: str, script: str,
                                                         tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path),
           "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    result = subprocess.run([sys.executable, "-m", "asm_mode_advisor", "--install-completion",
                             shell], capture_output=True, text=True, env=env, check=False,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert "_ASM_ADVISOR_COMPLETE" in (tmp_path / script).read_text(encoding="utf-8")
