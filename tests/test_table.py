"""The terminal table, byte for byte: the examples and a wrapping stress case."""

from __future__ import annotations

import dataclasses
import io
import re
from pathlib import Path

import pytest
from rich.console import Console
from typer.testing import CliRunner

from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.cli import app
from asm_mode_advisor.render import table
from asm_mode_advisor.sources.files import load_paths

ANSI = re.compile(r"\x1b\[[0-9;]*m")

REPO = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "table"
CASES = {"examples": "examples", "wrapping": "tests/fixtures/table/wrapping.yaml"}


@pytest.mark.parametrize("name", sorted(CASES))
def test_table_matches_golden(name: str, monkeypatch: pytest.MonkeyPatch,
                              update_golden: bool) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NO_COLOR", "1")
    result = CliRunner().invoke(app, ["analyze", CASES[name]])
    assert result.exit_code in (0, 1), result.output
    golden = GOLDEN / f"{name}.txt"
    if update_golden:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(result.stdout, encoding="utf-8", newline="\n")
    assert golden.read_text(encoding="utf-8") == result.stdout


def test_colour_output_shows_the_same_text(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    loaded = load_paths([CASES["wrapping"], CASES["examples"]], slim_bodies=True)
    report = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report
    plain, coloured = table.render(report, False), table.render(report, True)
    assert "\x1b[" in coloured and "\x1b[" not in plain
    visible = "".join(line.rstrip() + "\n" for line in ANSI.sub("", coloured).splitlines())
    assert visible == plain


@pytest.mark.parametrize(("text", "width", "lines"), [
    ("short", 10, ["short"]),
    ("two words here", 9, ["two words ", "here"]),  # a trailing space may overflow
    ("two words here", 8, ["two ", "words ", "here"]),
    ("abcdefghij", 4, ["abcd", "efgh", "ij"]),
    ("x abcdefghij", 4, ["x ", "abcd", "efgh", "ij"]),
    ("评论服务路由", 5, ["评论", "服务", "路由"]),
    ("a\nb c", 3, ["a", "b c"]),
    ("", 5, [""]),
])
def test_fold(text: str, width: int, lines: list[str]) -> None:
    assert table.fold(text, width) == lines


@pytest.mark.parametrize("color", [False, True])
def test_overview_in_slices_is_the_overview_as_one_table(color: bool,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    loaded = load_paths([CASES["wrapping"], CASES["examples"]], slim_bodies=True)
    report = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report
    # Long summaries, so rich has to narrow the reasons column to fit the table.
    verdicts = [dataclasses.replace(v, summary=", ".join([v.summary or "none"] * (i % 4 + 1)))
                for i, v in enumerate(report.namespaces)]
    report = report.model_copy(update={"namespaces": verdicts})
    assert len(report.namespaces) > 4
    whole = table.render(report, color)
    top = next(line for line in ANSI.sub("", whole).splitlines() if line.startswith("┏"))
    assert len(top) == table.WIDTH
    monkeypatch.setattr(table, "OVERVIEW_SLICE", 2)
    assert table.render(report, color) == whole
    monkeypatch.setattr(table, "OVERVIEW_SLICE", 1)
    assert table.render(report, color) == whole
    # The widths read off the few extreme rows are those of the whole table's top edge.
    console = Console(file=io.StringIO(), width=table.WIDTH)
    widths = table._overview_widths(console, report)
    assert top == "┏" + "┳".join("━" * width for width in widths) + "┓"
