"""Plumbing every command shares: one-line errors, config and gate flags, printing the report.

Kept apart from ``cli.py`` so that command modules can use it without importing the app that
registers them.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path

import typer

from asm_mode_advisor.completeness import concatenation_hint, require_namespaces
from asm_mode_advisor.config import (
    Config,
    ConfigError,
    FailOn,
    RunOptions,
    load_config,
    resolve,
)
from asm_mode_advisor.domain import ROOT_NAMESPACE, AssumeMode
from asm_mode_advisor.exit_codes import ExitCode
from asm_mode_advisor.gate import exit_code, summary_line, with_baseline
from asm_mode_advisor.matrix import parse_version
from asm_mode_advisor.render import OutputFormat, View, render_chunks
from asm_mode_advisor.report import Report
from asm_mode_advisor.rules import ALL_RULES
from asm_mode_advisor.suppress import BaselineError
from asm_mode_advisor.text import clip, escape_in_strings, safe_line


def err(message: str) -> None:
    """One line on stderr, prefixed with the tool name.

    The message names files and objects from the input, so control characters are escaped:
    a name holding a newline must never start a line of its own (``::error::`` in CI logs).
    """
    with contextlib.suppress(OSError):  # stderr itself gone: nowhere left to say anything
        typer.echo(f"asm-advisor: {safe_line(message)}", err=True)


def out(text: str, nl: bool = True, color: bool | None = None) -> None:
    """Write to stdout; a closed pipe exits quietly (141), any other failure in one line (2).

    Neither may look like a failed gate (exit 1), which is what click does for a closed pipe.
    ``color=True`` keeps ANSI codes that click would strip off a pipe (``FORCE_COLOR``).
    """
    try:
        typer.echo(text, nl=nl, color=color)
    except OSError as exc:
        _drop_stdout()
        if exc.errno == errno.EPIPE:
            raise typer.Exit(ExitCode.PIPE) from None
        err(f"error: cannot write output: {exc.strerror or exc}")
        raise typer.Exit(ExitCode.INPUT) from None


def _drop_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's last flush cannot fail again."""
    try:
        descriptor = sys.stdout.fileno()
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, descriptor)
        os.close(null)
    except (OSError, ValueError):
        pass  # not a real file (tests capture stdout): nothing is flushed at exit


def styled_output() -> bool:
    """True when stdout is a terminal, or ``FORCE_COLOR`` is set (https://force-color.org)."""
    return bool(os.environ.get("FORCE_COLOR")) or sys.stdout.isatty()


def use_color() -> bool:
    """Colours on a terminal (or with FORCE_COLOR), and never with NO_COLOR set (as rich)."""
    return styled_output() and not os.environ.get("NO_COLOR")


def check_mesh_version(mesh_version: str) -> None:
    """Reject a version that does not parse (usage error, exit 2)."""
    if parse_version(mesh_version) is None:
        err(f"error: --mesh-version {clip(mesh_version)!r} is not a version like 1.25")
        raise typer.Exit(ExitCode.INPUT)


def emit(report: Report, output: OutputFormat, output_file: Path | None,
         view: View | None = None, reports: Iterable[ReportTarget] = ()) -> None:
    """Print errors to stderr, the report to stdout, and optionally to a file.

    ``view`` (colour aside, which only a terminal gets) tells the table the gate's threshold
    and whether to be quiet; the rule catalog is added here for SARIF. ``reports``: more
    formats of the same report, each written whole to its file before anything is printed.
    """
    plain = replace(view or View(), rules=ALL_RULES)
    for error in report.errors:
        if error.file is None and not error.line:
            err(f"error: {error.message}")  # about the run as a whole (nothing found)
            continue
        where = error.file or "<input>"
        if error.line:
            where = f"{where}:{error.line}"
        err(f"{where}: {error.message}")
    hint = concatenation_hint(report.errors)
    if hint is not None:
        err(hint)
    write_reports(report, reports, plain)
    if output_file is not None:
        try:
            with output_file.open("w", encoding="utf-8") as handle:
                for piece in batched(render_chunks(report, output,
                                                   view=replace(plain, color=False))):
                    handle.write(piece)
        except OSError as exc:
            err(f"error: cannot write {output_file}: {exc.strerror or exc}")
            raise typer.Exit(ExitCode.INPUT) from None
        output = OutputFormat.TABLE  # the file has the chosen format; the terminal, the table
    color = use_color() and output is OutputFormat.TABLE
    for piece in batched(render_chunks(report, output, view=replace(plain, color=color))):
        out(piece, nl=False, color=color or None)


#: One extra report of a run: the format and the file it goes to (``--report FORMAT=PATH``).
ReportTarget = tuple[OutputFormat, Path]


def formats_list() -> str:
    """Every ``--output`` value, comma-separated, for usage errors."""
    return ", ".join(fmt.value for fmt in OutputFormat)


def parse_reports(values: Iterable[str] | None) -> list[ReportTarget]:
    """``--report FORMAT=PATH`` values as targets; a bad one is a usage error (exit 2).

    Checked before anything is read, so a typo costs no analysis.
    """
    targets: list[ReportTarget] = []
    for value in values or ():
        name, sep, path = value.partition("=")
        fmt = next((f for f in OutputFormat if f.value == name.strip().lower()), None)
        if not sep or not path or fmt is None:
            err(f"error: --report {clip(value)!r}: expected FORMAT=PATH with FORMAT one of "
                f"{formats_list()}")
            raise typer.Exit(ExitCode.INPUT)
        targets.append((fmt, Path(path)))
    return targets


def write_atomically(path: Path, pieces: Iterable[str]) -> None:
    """Write ``pieces`` to ``path`` whole or not at all: a temporary file, then a rename.

    The temporary file sits in the same folder, so the rename never crosses file systems;
    on any failure it is removed and ``path`` is left as it was. Raises ``OSError``.
    """
    folder = path.parent
    handle = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed, renamed or removed below
        "w", encoding="utf-8", newline="", dir=folder, prefix=f".{path.name}.",
        suffix=".tmp", delete=False)
    try:
        with handle:
            os.chmod(handle.name, 0o666 & ~_umask())  # as open() would make it, not 0600
            for piece in batched(pieces):
                handle.write(piece)
        os.replace(handle.name, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(handle.name)
        raise


def _umask() -> int:
    """The process's umask (read by setting it, then putting it back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def write_reports(report: Report, targets: Iterable[ReportTarget], view: View) -> None:
    """Each extra report to its file, without colour; a failed write is one line, exit 2."""
    for fmt, path in targets:
        try:
            write_atomically(path, render_chunks(report, fmt, view=replace(view, color=False)))
        except OSError as exc:
            err(f"error: cannot write {path}: {exc.strerror or exc}")
            raise typer.Exit(ExitCode.INPUT) from None


def json_text(data: object) -> str:
    r"""Deterministic JSON (sorted keys, two-space indent, trailing newline) for listings.

    DEL, C1, separators and bidi marks in strings are ``\uNNNN`` escapes, as in reports.
    """
    return escape_in_strings(json.dumps(data, indent=2, sort_keys=True,
                                        ensure_ascii=False)) + "\n"


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
                 baseline: Path | None, default_namespace: str = "default",
                 root_namespace: str = ROOT_NAMESPACE) -> RunOptions:
    """Config file plus flags (flags win): the analysis settings and the gate of one run.

    A config file that cannot be used is reported in one line and the run goes on with the
    defaults and the flags: the report is still printed, and the run exits 2 (``finish``).
    """
    failed = False
    try:
        loaded = load_config(config)
    except ConfigError as exc:
        err(f"error: {exc}")
        loaded, failed = Config(), True
    if loaded.path is not None:
        err(f"using config {loaded.path}")  # found by walking up: say which one applies
    run = resolve(loaded, mesh_version=mesh_version if given(ctx, "mesh_version") else None,
                  fail_on=fail_on, assume_mode=assume_mode, baseline=baseline,
                  default_namespace=default_namespace, root_namespace=root_namespace)
    return replace(run, config_failed=True) if failed else run


def require_input(report: Report, inputs: str, config: Config, allow_empty: bool) -> Report:
    """The report with an input error when there was nothing to check (a note if allowed)."""
    report, problem = require_namespaces(report, inputs, config, allow_empty)
    if problem is not None and allow_empty:
        err(f"note: {problem} (--allow-empty)")
    return report


def finish(report: Report, run: RunOptions, output: OutputFormat,
           output_file: Path | None, tolerated_errors: int = 0, quiet: bool = False,
           reports: Iterable[ReportTarget] = ()) -> None:
    """Apply the baseline, print the report, and exit with the gate's code.

    ``tolerated_errors`` input errors (kinds a scan with ``--allow-partial`` could not read)
    do not turn the exit code into 2; the gate still applies to what was read. ``quiet``:
    the table shows only the overview and the summary. A config or baseline file that
    cannot be used is reported, the report printed without it, and the run exits 2.
    ``reports`` (``--report``) are written too.
    """
    unusable = run.config_failed
    try:
        report = with_baseline(report, run.baseline)
    except BaselineError as exc:
        err(f"error: {exc}")
        unusable = True
    emit(report, output, output_file, View(fail_on=run.fail_on.value, quiet=quiet), reports)
    gated = report
    if report.errors and len(report.errors) <= tolerated_errors:
        gated = report.model_copy(update={"errors": []})
    code = ExitCode.INPUT if unusable else exit_code(gated, run.fail_on)
    if code is ExitCode.FAILED:
        err(summary_line(report, run.fail_on))
    raise typer.Exit(code)
