"""The command line: commands and options only; all logic lives in the pipeline modules."""

from __future__ import annotations

import errno
import os
import sys
from typing import Annotated

import typer

from asm_mode_advisor import __version__
from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.collector import keep_alive_until_exit
from asm_mode_advisor.commands import register as register_commands
from asm_mode_advisor.completeness import describe_inputs
from asm_mode_advisor.console import (
    EXIT_INPUT,
    check_mesh_version,
    err,
    finish,
    gate_options,
    out,
    require_input,
)
from asm_mode_advisor.inventory import ROOT_NAMESPACE
from asm_mode_advisor.matrix import ROWS
from asm_mode_advisor.options import (
    DEFAULT_MESH_VERSION,
    DEFAULT_OUTPUT,
    AllowEmptyOption,
    AssumeModeOption,
    BaselineOption,
    ConfigOption,
    DefaultNamespaceOption,
    FailOnOption,
    MaxFileSizeOption,
    MeshVersionOption,
    OutputFileOption,
    OutputOption,
    QuietOption,
    RootNamespaceOption,
)
from asm_mode_advisor.redact import safe_message
from asm_mode_advisor.rules import ALL_RULES, get
from asm_mode_advisor.rules_doc import rule_markdown
from asm_mode_advisor.sources.files import load_paths
from asm_mode_advisor.sources.reading import DEFAULT_MAX_FILE_MIB, MIB
from asm_mode_advisor.text import clip

app = typer.Typer(
    name="asm-advisor", no_args_is_help=True, add_completion=False,
    rich_markup_mode=None,
    help="Per-namespace advice: should this ASM (Istio) namespace run Sidecar, Ambient, or "
         "Ambient with a waypoint, and why.\n\nExit codes: 0 analyzed; 1 findings at or "
         "above --fail-on; 2 input, usage or configuration errors (the report is still "
         "printed).")


def _version(value: bool) -> None:
    if value:
        out(f"asm-advisor {__version__}")
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
    allow_empty: AllowEmptyOption = False,
    quiet: QuietOption = False,
    max_file_size: MaxFileSizeOption = DEFAULT_MAX_FILE_MIB,
) -> None:
    """Analyze manifests and print a verdict per namespace."""
    run = gate_options(ctx, config, mesh_version=mesh_version, fail_on=fail_on,
                       assume_mode=assume_mode, baseline=baseline)
    check_mesh_version(run.mesh_version)
    loaded = load_paths(paths, default_namespace=default_namespace, slim_bodies=True,
                        max_bytes=max_file_size * MIB)
    settings = Settings(mesh_version=run.mesh_version, default_namespace=default_namespace,
                        root_namespace=root_namespace, assume_mode=run.assume_mode,
                        config=run.config)
    result = analyze(loaded.resources, loaded.errors, settings, files=loaded.files)
    keep_alive_until_exit()  # rendering no longer re-scans every parsed object
    report = require_input(result.report, describe_inputs(paths), run.config, allow_empty)
    finish(report, run, output, output_file, quiet=quiet)


@app.command("rules")
def rules_command() -> None:
    """List every rule: id, name, default severity, effect, matrix rows and title."""
    width = max(len(rule.name) for rule in ALL_RULES)
    for rule in ALL_RULES:
        out(f"{rule.id}  {rule.name:<{width}}  {rule.severity.value:<8} "
            f"{rule.effect.value:<16} {','.join(rule.rows):<28} {rule.title}")


@app.command("explain")
def explain_command(rule_id: Annotated[str, typer.Argument(
        help="Rule id (AMA101) or name (vs-http-routing).")]) -> None:
    """Print a rule's documentation with examples."""
    rule = get(rule_id)
    if rule is None:
        err(f"error: no rule {clip(rule_id)!r}; see 'asm-advisor rules'")
        raise typer.Exit(EXIT_INPUT)
    out(rule_markdown(rule), nl=False)


@app.command("matrix")
def matrix_command() -> None:
    """Print the Sidecar / Ambient feature matrix the rules rest on."""
    for row in ROWS:
        out(f"{row.id:<16} {row.summary()}")


register_commands(app)


#: Errors of a write that failed for lack of room (a full disk or quota), not for a bug.
WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


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
        if isinstance(exc, OSError) and exc.errno in WRITE_ERRORS:
            # Help or usage text that could not be written (a full disk): no internal error.
            err(f"error: cannot write output: {exc.strerror}")
            sys.exit(EXIT_INPUT)
        # The exception may quote a header or URL: the message is redacted like any other.
        err(f"internal error: {type(exc).__name__}: {safe_message(exc)} (set "
            "ASM_ADVISOR_DEBUG=1 for details)")
        sys.exit(EXIT_INPUT)
