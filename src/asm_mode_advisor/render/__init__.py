"""Output formats: thin functions from a Report to text (they never compute anything)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import StrEnum

from asm_mode_advisor.render import github, json_yaml, markdown, sarif
from asm_mode_advisor.report import Report


class OutputFormat(StrEnum):
    """Formats of ``--output``."""

    TABLE = "table"
    JSON = "json"
    YAML = "yaml"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    GITHUB = "github"


#: A format's text in pieces: the report, and whether to colour it (only the table does).
Chunks = Callable[[Report, bool], Iterable[str]]


def _table(report: Report, color: bool) -> Iterable[str]:
    # Imported on use: rich is only needed for the table, and scan -o json never draws one.
    from asm_mode_advisor.render import table

    return table.chunks(report, color)


#: Every format is written piece by piece, so none holds its whole text.
CHUNKS: dict[OutputFormat, Chunks] = {
    OutputFormat.TABLE: _table,
    OutputFormat.JSON: lambda report, _: report.json_chunks(),
    OutputFormat.YAML: lambda report, _: json_yaml.yaml_chunks(report),
    OutputFormat.SARIF: lambda report, _: sarif.chunks(report),
    OutputFormat.MARKDOWN: markdown.chunks,
    OutputFormat.GITHUB: github.chunks,
}


def render_chunks(report: Report, output: OutputFormat, color: bool = False) -> Iterable[str]:
    """A report in one format, in pieces."""
    return CHUNKS[output](report, color)


def render(report: Report, output: OutputFormat, color: bool = False) -> str:
    """A report in one format, as one text."""
    return "".join(render_chunks(report, output, color))
