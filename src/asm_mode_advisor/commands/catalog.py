"""``asm-advisor rules``, ``explain`` and ``matrix``: the rule catalog and the feature matrix."""

from __future__ import annotations

import io
from typing import Annotated, Any

import typer

from asm_mode_advisor.commands.common import err, json_text, out, styled_output
from asm_mode_advisor.commands.options import ListFormat, ListFormatOption
from asm_mode_advisor.exit_codes import ExitCode
from asm_mode_advisor.matrix import ROWS
from asm_mode_advisor.rules import ALL_RULES, get
from asm_mode_advisor.rules_doc import rule_markdown
from asm_mode_advisor.text import clip


def rules_data() -> list[dict[str, Any]]:
    """Every rule as plain data, in catalog order (what ``rules -o json`` prints)."""
    return [{"id": rule.id, "name": rule.name, "title": rule.title,
             "severity": rule.severity.value, "effect": rule.effect.value,
             "matrixRows": list(rule.rows), "kinds": list(rule.kinds)} for rule in ALL_RULES]


def rules_command(output: ListFormatOption = ListFormat.TEXT) -> None:
    """List every rule: id, name, default severity, effect, matrix rows and title."""
    if output is ListFormat.JSON:
        out(json_text(rules_data()), nl=False)
        return
    width = max(len(rule.name) for rule in ALL_RULES)
    for rule in ALL_RULES:
        out(f"{rule.id}  {rule.name:<{width}}  {rule.severity.value:<8} "
            f"{rule.effect.value:<16} {','.join(rule.rows):<28} {rule.title}")


def explain_command(rule_id: Annotated[str, typer.Argument(
        help="Rule id (AMA101) or name (vs-http-routing).", metavar="RULE")]) -> None:
    """Print a rule's documentation with examples (formatted on a terminal, raw if piped)."""
    rule = get(rule_id)
    if rule is None:
        err(f"error: no rule {clip(rule_id)!r}; see 'asm-advisor rules'")
        raise typer.Exit(ExitCode.INPUT)
    text = rule_markdown(rule)
    if styled_output():
        out(formatted_markdown(text), nl=False, color=True)
    else:
        out(text, nl=False)


def formatted_markdown(text: str) -> str:
    """Markdown laid out for this terminal by rich: its width, colour unless NO_COLOR.

    The text is the rule catalog's own, never input: markup in it is meant.
    """
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console(file=io.StringIO(), force_terminal=True, highlight=False, emoji=False,
                      width=terminal_width(), color_system="standard")
    console.print(Markdown(text))
    buffer = console.file
    assert isinstance(buffer, io.StringIO)
    return buffer.getvalue()


def terminal_width() -> int:
    """The terminal's width (``COLUMNS`` wins), as the table uses it."""
    from asm_mode_advisor.render.table import output_width

    return output_width()


def matrix_data() -> list[dict[str, Any]]:
    """Every feature-matrix row as plain data, in matrix order (``matrix -o json``)."""
    return [{**row.model_dump(mode="json"), "summary": row.summary()} for row in ROWS]


def matrix_command(output: ListFormatOption = ListFormat.TEXT) -> None:
    """Print the Sidecar / Ambient feature matrix the rules rest on."""
    if output is ListFormat.JSON:
        out(json_text(matrix_data()), nl=False)
        return
    for row in ROWS:
        out(f"{row.id:<16} {row.summary()}")


def register(app: typer.Typer) -> None:
    """Add the catalog commands to the app."""
    app.command("rules")(rules_command)
    app.command("explain")(explain_command)
    app.command("matrix")(matrix_command)
