"""The terminal table, byte for byte: the examples and a wrapping stress case."""

from __future__ import annotations

import dataclasses
import io
import os
import re
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
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
    monkeypatch.setenv("COLUMNS", str(table.WIDTH))  # the goldens are laid out at 110
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


def _widest(text: str) -> int:
    return max(cell_len(line) for line in text.splitlines())


@pytest.mark.parametrize("columns", [60, 200])
@pytest.mark.parametrize("color", [False, True])
def test_table_fills_the_columns_it_is_given(columns: int, color: bool,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    loaded = load_paths([CASES["wrapping"], CASES["examples"]], slim_bodies=True)
    report = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report
    monkeypatch.setenv("COLUMNS", str(columns))
    text = ANSI.sub("", table.render(report, color))
    assert _widest(text) <= columns
    top = next(line for line in text.splitlines() if line.startswith("┏"))
    if columns == 60:
        assert cell_len(top) == 60  # the overview shrinks to fit
    else:
        assert _widest(text) > table.WIDTH  # long reasons use the room a wide terminal has
    # Nothing is cut off: every word of every reason is still there, only wrapped.
    wide = table.render(report, False, width=1000)
    words = {word for line in wide.splitlines()
             if not line.startswith(("┃", "│", "┏", "┡", "└")) for word in line.split()}
    assert words <= set(" ".join(text.split()).split()) | _folded(text, words)


def _folded(text: str, words: set[str]) -> set[str]:
    """Words that fold across lines (longer than a line) count as present when joined."""
    joined = "".join(text.split())
    return {word for word in words if word in joined}


@pytest.mark.parametrize(("environ", "expected"), [
    ({"COLUMNS": "60"}, 60), ({"COLUMNS": "200"}, 200), ({}, 110),
    ({"COLUMNS": "wide"}, 110), ({"COLUMNS": "0"}, 110), ({"COLUMNS": "5"}, table.MIN_WIDTH),
])
def test_width_is_columns_else_110_off_a_terminal(environ: dict[str, str], expected: int,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    assert table.output_width() == expected


def test_a_terminal_gives_its_own_width(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True, raising=False)
    monkeypatch.setattr(sys.stdout, "fileno", lambda: 1, raising=False)
    monkeypatch.setattr(os, "get_terminal_size", lambda fd: os.terminal_size((72, 24)))
    assert table.output_width() == 72


def test_cli_at_60_columns_has_no_line_longer_than_60(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "60")
    result = CliRunner().invoke(app, ["analyze", "examples", CASES["wrapping"]])
    assert result.exit_code in (0, 1, 2)
    assert "\x1b[" not in result.stdout  # piped: no colour
    assert _widest(result.stdout) <= 60
    assert "billing: sidecar" in result.stdout


@pytest.mark.parametrize("columns", [20, 40, 60, 61, 200])
def test_narrow_overview_folds_every_column_and_slices_agree(
        columns: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    loaded = load_paths([CASES["wrapping"], CASES["examples"]], slim_bodies=True)
    report = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report
    whole = table.render(report, False, width=columns)
    assert _widest(whole) <= columns
    # Names and verdicts stay whole exactly when they fit beside a usable reasons column.
    assert table.unbroken(report, columns) == (columns >= 60)
    assert ("│ catalogue-data │" in whole) == (columns >= 60)
    monkeypatch.setattr(table, "OVERVIEW_SLICE", 2)
    assert table.render(report, False, width=columns) == whole
