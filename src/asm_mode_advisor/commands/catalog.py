"""``asm-advisor rules``, ``explain`` and ``matrix``: the rule catalog and the feature matrix."""

from __future__ import annotations

from typing import Annotated

import typer

from asm_mode_advisor.commands.common import err, out
from asm_mode_advisor.exit_codes import ExitCode
from asm_mode_advisor.matrix import ROWS
from asm_mode_advisor.rules import ALL_RULES, get
from asm_mode_advisor.rules_doc import rule_markdown
from asm_mode_advisor.text import clip


def rules_command() -> None:
    """List every rule: id, name, default severity, effect, matrix rows and title."""
    width = max(len(rule.name) for rule in ALL_RULES)
    for rule in ALL_RULES:
        out(f"{rule.id}  {rule.name:<{width}}  {rule.severity.value:<8} "
            f"{rule.effect.value:<16} {','.join(rule.rows):<28} {rule.title}")


def explain_command(rule_id: Annotated[str, typer.Argument(
        help="Rule id (AMA101) or name (vs-http-routing).")]) -> None:
    """Print a rule's documentation with examples."""
    rule = get(rule_id)
    if rule is None:
        err(f"error: no rule {clip(rule_id)!r}; see 'asm-advisor rules'")
        raise typer.Exit(ExitCode.INPUT)
    out(rule_markdown(rule), nl=False)


def matrix_command() -> None:
    """Print the Sidecar / Ambient feature matrix the rules rest on."""
    for row in ROWS:
        out(f"{row.id:<16} {row.summary()}")


def register(app: typer.Typer) -> None:
    """Add the catalog commands to the app."""
    app.command("rules")(rules_command)
    app.command("explain")(explain_command)
    app.command("matrix")(matrix_command)
