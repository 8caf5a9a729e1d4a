"""The command line: commands and options only; all logic lives in the pipeline modules."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from asm_mode_advisor import __version__
from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.collector import keep_alive_until_exit
from asm_mode_advisor.commands import register as register_commands
from asm_mode_advisor.config import (
    AssumeMode,
    ConfigError,
    FailOn,
    RunOptions,
    load_config,
    resolve,
)
from asm_mode_advisor.gate import exit_code, summary_line, with_baseline
from asm_mode_advisor.inventory import ROOT_NAMESPACE
from asm_mode_advisor.matrix import ROWS, parse_version
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
from asm_mode_advisor.render import OutputFormat, render
from asm_mode_advisor.report import Report
from asm_mode_advisor.rules import ALL_RULES, get
from asm_mode_advisor.rules_doc import rule_markdown
from asm_mode_advisor.sources.files import load_paths
from asm_mode_advisor.suppress import BaselineError

EXIT_OK = 0
EXIT_INPUT = 2

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


def err(message: str) -> None:
    """One line on stderr, prefixed with the tool name."""
    typer.echo(f"asm-advisor: {message}", err=True)


def use_color() -> bool:
    """Colours only on a terminal, and never with NO_COLOR set."""
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def check_mesh_version(mesh_version: str) -> None:
    """Reject a version that does not parse (usage error, exit 2)."""
    if parse_version(mesh_version) is None:
        err(f"error: --mesh-version {mesh_version!r} is not a version like 1.25")
        raise typer.Exit(EXIT_INPUT)


def emit(report: Report, output: OutputFormat, output_file: Path | None) -> None:
    """Print errors to stderr, the report to stdout, and optionally to a file."""
    for error in report.errors:
        where = error.file or "<input>"
        if error.line:
            where = f"{where}:{error.line}"
        err(f"{where}: {error.message}")
    if output_file is not None:
        try:
            output_file.write_text(render(report, output), encoding="utf-8")
        except OSError as exc:
            err(f"error: cannot write {output_file}: {exc.strerror or exc}")
            raise typer.Exit(EXIT_INPUT) from None
        if output is not OutputFormat.TABLE:
            typer.echo(render(report, OutputFormat.TABLE, use_color()), nl=False)
            return
    typer.echo(render(report, output, use_color() and output is OutputFormat.TABLE), nl=False)


def given(ctx: typer.Context, name: str) -> bool:
    """True when option ``name`` came from the command line or the environment."""
    source = ctx.get_parameter_source(name)
    return source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT")


def gate_options(ctx: typer.Context, config: Path | None, *, mesh_version: str,
                 fail_on: FailOn | None, assume_mode: AssumeMode | None,
                 baseline: Path | None) -> RunOptions:
    """Config file plus gate flags (flags win), or exit 2 with a one-line message."""
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        err(f"error: {exc}")
        raise typer.Exit(EXIT_INPUT) from None
    return resolve(loaded, mesh_version=mesh_version if given(ctx, "mesh_version") else None,
                   fail_on=fail_on, assume_mode=assume_mode, baseline=baseline)


def finish(report: Report, run: RunOptions, output: OutputFormat,
           output_file: Path | None) -> None:
    """Apply the baseline, print the report, and exit with the gate's code."""
    try:
        report = with_baseline(report, run.baseline)
    except BaselineError as exc:
        err(f"error: {exc}")
        raise typer.Exit(EXIT_INPUT) from None
    emit(report, output, output_file)
    code = exit_code(report, run.fail_on)
    if code == 1:
        err(summary_line(report, run.fail_on))
    raise typer.Exit(code)


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
    loaded = load_paths(paths, default_namespace=default_namespace)
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
