"""Output formats: thin functions from a Report to text (they never compute anything)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from asm_mode_advisor.render import codequality, github, html, json_yaml, markdown, sarif
from asm_mode_advisor.report import Report
from asm_mode_advisor.text import defuse_commands, escape_in_strings


class OutputFormat(StrEnum):
    """Formats of ``--output``."""

    TABLE = "table"
    JSON = "json"
    YAML = "yaml"
    SARIF = "sarif"
    MARKDOWN = "markdown"
    GITHUB = "github"
    HTML = "html"
    CODEQUALITY = "codequality"


@dataclass(frozen=True)
class View:
    """How to show a report: plain data, so renderers import neither the gate nor the config.

    The table reads colours, the ``--fail-on`` threshold its marks and footer show (None:
    never), and ``quiet`` (the overview and the summary only). SARIF lists ``rules``, the
    rule catalog the command hands in (every rule a finding may name).
    """

    color: bool = False
    fail_on: str | None = "error"
    quiet: bool = False
    rules: Sequence[sarif.RuleEntry] = ()


#: A format's text in pieces, from the report and how to show it.
Chunks = Callable[[Report, View], Iterable[str]]


def _table(report: Report, view: View) -> Iterable[str]:
    # Imported on use: rich is only needed for the table, and scan -o json never draws one.
    from asm_mode_advisor.render import table

    # Whole lines: a long message folded at a space must not start a line with "::".
    return map(defuse_commands, table.chunks(report, view.color, fail_on=view.fail_on,
                                             quiet=view.quiet))


#: Every format is written piece by piece, so none holds its whole text.
CHUNKS: dict[OutputFormat, Chunks] = {
    OutputFormat.TABLE: _table,
    # Same data; DEL, C1, separators and bidi marks in names written as \uNNNN escapes.
    OutputFormat.JSON: lambda report, _: map(escape_in_strings, report.json_chunks()),
    OutputFormat.YAML: lambda report, _: json_yaml.yaml_chunks(report),
    OutputFormat.SARIF: lambda report, view: map(escape_in_strings,
                                                 sarif.chunks(report, view.rules)),
    OutputFormat.MARKDOWN: lambda report, view: markdown.chunks(report, fail_on=view.fail_on),
    OutputFormat.GITHUB: lambda report, _: github.chunks(report),
    OutputFormat.HTML: lambda report, view: html.chunks(report, view.fail_on),
    # GitLab's merge-request findings; DEL, C1, separators and bidi marks as \uNNNN escapes.
    OutputFormat.CODEQUALITY: lambda report, _: map(escape_in_strings,
                                                    codequality.chunks(report)),
}


def render_chunks(report: Report, output: OutputFormat, color: bool = False,
                  view: View | None = None) -> Iterable[str]:
    """A report in one format, in pieces (``view``, when given, wins over ``color``)."""
    return CHUNKS[output](report, view or View(color=color))


def render(report: Report, output: OutputFormat, color: bool = False,
           view: View | None = None) -> str:
    """A report in one format, as one text."""
    return "".join(render_chunks(report, output, color, view))
