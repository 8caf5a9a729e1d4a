"""The command line: commands and options only; all logic lives in the pipeline modules."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from asm_mode_advisor import __version__
from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.collector import keep_alive_until_exit
from asm_mode_advisor.commands import register as register_commands
from asm_mode_advisor.console import EXIT_INPUT, check_mesh_version, err, finish, gate_options
from asm_mode_advisor.inventory import ROOT_NAMESPACE
from asm_mode_advisor.matrix import ROWS
from asm_mode_advisor.options import (
    DEFAULT_MESH_VERSION,
    DEFAULT_OUTPUT,
    AssumeModeOption,
    BaselineOption,
    ConfigOption,
    DefaultNamespaceOption,
    FailOnOption,
    MeshVersionOption,
    OutputFileOption,
    OutputOption,
    RootNamespaceOption,
)
from asm_mode_advisor.rules import ALL_RULES, get
from asm_mode_advisor.rules_doc import rule_markdown
from asm_mode_advisor.sources.files import load_paths

app = typer.Typer(
    name="asm-advisor", no_args_is_help=True, add_completion=False,
    rich_markup_mode=None,
    help="Per-namespace advice: should this ASM (Istio) namespace run Sidecar, Ambient, or "
         "Ambient with a waypoint, and why.\n\nExit codes: 0 analyzed; 1 findings at or "
         "above --fail-on; 2 input, usage or configuration errors (the report is still "
         "printed).")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"asm-advisor {__version__}")
        raise typer.Exit()


@app.callback()
def _root(version: Annotated[bool, typer.Option(
        "--version", callback=_version, is_eager=True,
        help="Print the version and exit.")] = False) -> None:
    """Advise Sidecar vs Ambient per namespace."""


@app.command("analyze")
def analyze_command(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(
        help="Files or folders of YAML/JSON manifests; '-' reads stdin.",
        show_default=False)],
    output: OutputOption = DEFAULT_OUTPUT,
    output_file: OutputFileOption = None,
    mesh_version: MeshVersionOption = DEFAULT_MESH_VERSION,
    default_namespace: DefaultNamespaceOption = "default",
    root_namespace: RootNamespaceOption = ROOT_NAMESPACE,
    fail_on: FailOnOption = None,
    config: ConfigOption = None,
    baseline: BaselineOption = None,
    assume_mode: AssumeModeOption = None,
) -> None:
    """Analyze manifests and print a verdict per namespace."""
    run = gate_options(ctx, config, mesh_version=mesh_version, fail_on=fail_on,
                       assume_mode=assume_mode, baseline=baseline)
    check_mesh_version(run.mesh_version)
    loaded = load_paths(paths, default_namespace=default_namespace, slim_bodies=True)
    settings = Settings(mesh_version=run.mesh_version, default_namespace=default_namespace,
                        root_namespace=root_namespace, assume_mode=run.assume_mode,
                        config=run.config)
    result = analyze(loaded.resources, loaded.errors, settings, files=loaded.files)
    keep_alive_until_exit()  # rendering no longer re-scans every parsed object
    finish(result.report, run, output, output_file)


@app.command("rules")
def rules_command() -> None:
    """List every rule: id, effect, matrix rows and title."""
    width = max(len(rule.name) for rule in ALL_RULES)
    for rule in ALL_RULES:
        typer.echo(f"{rule.id}  {rule.name:<{width}}  {rule.effect.value:<16} "
                   f"{','.join(rule.rows):<28} {rule.title}")


@app.command("explain")
def explain_command(rule_id: Annotated[str, typer.Argument(
        help="Rule id (AMA101) or name (vs-http-routing).")]) -> None:
    """Print a rule's documentation with examples."""
    rule = get(rule_id)
    if rule is None:
        err(f"error: no rule {rule_id!r}; see 'asm-advisor rules'")
        raise typer.Exit(EXIT_INPUT)
    typer.echo(rule_markdown(rule), nl=False)


@app.command("matrix")
def matrix_command() -> None:
    """Print the Sidecar / Ambient feature matrix the rules rest on."""
    for row in ROWS:
        typer.echo(f"{row.id:<16} {row.summary()}")


register_commands(app)


def main() -> None:
    """Console-script entry: never lets a traceback reach the user."""
    try:
        app()
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(130)
    except Exception as exc:
        if os.environ.get("ASM_ADVISOR_DEBUG"):
            raise
        err(f"internal error: {type(exc).__name__}: {exc} (set ASM_ADVISOR_DEBUG=1 for "
            "details)")
        sys.exit(EXIT_INPUT)
