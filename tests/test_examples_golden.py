"""Every example folder's JSON report matches its golden file byte for byte.

Regenerate after an intended change with ``python3 -m pytest tests/test_examples_golden.py
--update-golden`` and review the diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from asm_mode_advisor.cli import app

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
GOLDEN = Path(__file__).resolve().parent / "golden" / "examples"
NAMES = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir() and not p.name.startswith("."))
ROW = re.compile(r"^\|\s*\[(?P<example>[\w-]+)\]\([^)]*\)\s*\|\s*(?P<namespace>[\w-]+)\s*\|"
                 r"\s*(?P<now>[\w-]+)\s*\|\s*(?P<verdict>[\w-]+)\s*\|")


def run_example(name: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """``asm-advisor analyze examples/<name> --output json`` from the repository root."""
    monkeypatch.chdir(REPO)
    result = CliRunner().invoke(app, ["analyze", f"examples/{name}", "--output", "json"])
    # 1 is the CI gate (a finding at or above the default --fail-on); 2 would be bad input.
    assert result.exit_code in (0, 1), result.output
    return result.stdout


def readme_expectations() -> dict[str, dict[str, tuple[str, str]]]:
    """``{example: {namespace: (current mode, verdict)}}`` from the table in examples/README.md."""
    table: dict[str, dict[str, tuple[str, str]]] = {}
    for line in (EXAMPLES / "README.md").read_text(encoding="utf-8").splitlines():
        match = ROW.match(line)
        if match:
            table.setdefault(match["example"], {})[match["namespace"]] = (
                match["now"], match["verdict"])
    return table


def test_there_are_at_least_ten_examples() -> None:
    assert len(NAMES) >= 10, NAMES


def test_readme_lists_every_example() -> None:
    assert sorted(readme_expectations()) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_golden_report(name: str, monkeypatch: pytest.MonkeyPatch, update_golden: bool) -> None:
    output = run_example(name, monkeypatch)
    golden = GOLDEN / f"{name}.json"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(output, encoding="utf-8", newline="\n")
    assert golden.read_text(encoding="utf-8") == output


@pytest.mark.parametrize("name", NAMES)
def test_verdicts_match_readme(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    report = json.loads(run_example(name, monkeypatch))
    actual = {ns["name"]: (ns["currentMode"], ns["recommendation"])
              for ns in report["namespaces"]}
    assert actual == readme_expectations()[name]


@pytest.mark.parametrize("name", NAMES)
def test_reasons_point_at_example_files(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    report = json.loads(run_example(name, monkeypatch))
    assert report["errors"] == []
    files = {obj["file"] for ns in report["namespaces"] for reason in ns["reasons"]
             for obj in reason["objects"] if "file" in obj}
    assert files, "every example should cite at least one object"
    for file in files:
        assert file.startswith(f"examples/{name}/"), file
        assert (REPO / file).is_file(), file


def test_every_example_has_a_golden_report(update_golden: bool) -> None:
    # Runs after the golden tests (file order), so --update-golden has written them by now.
    if update_golden:
        for stale in GOLDEN.glob("*.json"):
            if stale.stem not in NAMES:
                stale.unlink()
    goldens = sorted(p.stem for p in GOLDEN.glob("*.json"))
    assert goldens == NAMES
