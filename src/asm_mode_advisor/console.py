"""Plumbing every command shares: one-line errors, config and gate flags, printing the report.

Kept apart from ``cli.py`` so that sub-command modules (``scan``, ``plan``) can use it without
importing the app that registers them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import typer

from asm_mode_advisor.config import (
    AssumeMode,
    ConfigError,
    FailOn,
    RunOptions,
    load_config,
    resolve,
)
from asm_mode_advisor.gate import exit_code, summary_line, with_baseline
from asm_mode_advisor.matrix import parse_version
from asm_mode_advisor.render import OutputFormat, render_chunks
from asm_mode_advisor.report import Report
from asm_mode_advisor.suppress import BaselineError

EXIT_OK = 0
EXIT_INPUT = 2


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
            with output_file.open("w", encoding="utf-8") as handle:
                for piece in batched(render_chunks(report, output)):
                    handle.write(piece)
        except OSError as exc:
            err(f"error: cannot write {output_file}: {exc.strerror or exc}")
            raise typer.Exit(EXIT_INPUT) from None
        output = OutputFormat.TABLE  # the file has the chosen format; the terminal, the table
    color = use_color() and output is OutputFormat.TABLE
    for piece in batched(render_chunks(report, output, color)):
        typer.echo(piece, nl=False)


def batched(chunks: Iterable[str], size: int = 1 << 16) -> Iterator[str]:
    """Join small chunks into pieces of about ``size`` characters (fewer writes and flushes)."""
    pending: list[str] = []
    length = 0
    for chunk in chunks:
        pending.append(chunk)
        length += len(chunk)
        if length >= size:
            yield "".join(pending)
            pending, length = [], 0
    if pending:
        yield "".join(pending)


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
           output_file: Path | None, tolerated_errors: int = 0) -> None:
    """Apply the baseline, print the report, and exit with the gate's code.

    ``tolerated_errors`` input errors (kinds a scan with ``--allow-partial`` could not read)
    do not turn the exit code into 2; the gate still applies to what was read.
    """
    try:
        report = with_baseline(report, run.baseline)
    except BaselineError as exc:
        err(f"error: {exc}")
        raise typer.Exit(EXIT_INPUT) from None
    emit(report, output, output_file)
    gated = report
    if report.errors and len(report.errors) <= tolerated_errors:
        gated = report.model_copy(update={"errors": []})
    code = exit_code(gated, run.fail_on)
    if code == 1:
        err(summary_line(report, run.fail_on))
    raise typer.Exit(code)
