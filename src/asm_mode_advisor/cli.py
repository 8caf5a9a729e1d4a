"""The Typer app: the root options and every command, assembled from ``commands/``.

``main`` is what the ``asm-advisor`` console script and ``python -m asm_mode_advisor`` run
(through ``__main__``, which answers ``--version`` before importing this module).
"""

from __future__ import annotations

import errno
import os
import sys
from typing import Annotated

import typer

from asm_mode_advisor import __version__
from asm_mode_advisor.commands import register as register_commands
from asm_mode_advisor.commands.common import err, out
from asm_mode_advisor.exit_codes import ExitCode
from asm_mode_advisor.redact import safe_message

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


register_commands(app)


#: Errors of a write that failed for lack of room (a full disk or quota), not for a bug.
WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def main() -> None:
    """Run the app; never lets a traceback reach the user."""
    try:
        app()
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(ExitCode.INTERRUPTED)
    except Exception as exc:
        if os.environ.get("ASM_ADVISOR_DEBUG"):
            raise
        if isinstance(exc, OSError) and exc.errno in WRITE_ERRORS:
            # Help or usage text that could not be written (a full disk): no internal error.
            err(f"error: cannot write output: {exc.strerror}")
            sys.exit(ExitCode.INPUT)
        # The exception may quote a header or URL: the message is redacted like any other.
        err(f"internal error: {type(exc).__name__}: {safe_message(exc)} (set "
            "ASM_ADVISOR_DEBUG=1 for details)")
        sys.exit(ExitCode.INPUT)
