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


Renderer = Callable[[Report, bool], str]


def _table(report: Report, color: bool) -> str:
    # Imported on use: rich is only needed for the table, and scan -o json never draws one.
    from asm_mode_advisor.render import table

    return table.render(report, color)

RENDERERS: dict[OutputFormat, Renderer] = {
    OutputFormat.TABLE: _table,
    OutputFormat.JSON: json_yaml.render_json,
    OutputFormat.YAML: json_yaml.render_yaml,
    OutputFormat.SARIF: sarif.render,
    OutputFormat.MARKDOWN: markdown.render,
    OutputFormat.GITHUB: github.render,
}


def render(report: Report, output: OutputFormat, color: bool = False) -> str:
    """Render a report in one format."""
    return RENDERERS[output](report, color)


def render_chunks(report: Report, output: OutputFormat, color: bool = False) -> Iterable[str]:
    """The same text as :func:`render`, in pieces, so no format holds its whole text."""
    if output is OutputFormat.JSON:
        return report.json_chunks()
    if output is OutputFormat.SARIF:
        return sarif.chunks(report)
    if output is OutputFormat.YAML:
        return json_yaml.yaml_chunks(report)
    if output is OutputFormat.TABLE:
        from asm_mode_advisor.render import table

        return table.chunks(report, color)
    if output is OutputFormat.MARKDOWN:
        return markdown.chunks(report)
    return github.chunks(report)
