"""The Typer app: the root options and every command, assembled from ``commands/``.

``main`` is what the ``asm-advisor`` console script and ``python -m asm_mode_advisor`` run
(through ``__main__``, which answers ``--version`` before importing this module).
"""

from __future__ import annotations

import errno
import os
import re
import sys
from typing import Annotated, Any

import typer
from typer.core import TyperArgument, TyperCommand

from asm_mode_advisor import __version__
from asm_mode_advisor.commands import register as register_commands
from asm_mode_advisor.commands.common import err, out
from asm_mode_advisor.exit_codes import ExitCode
from asm_mode_advisor.redact import safe_message

#: Typer's type labels (``<int range>``, ``<list[str]>``) as the words help shows instead.
TYPE_WORDS = {"str": "TEXT", "int": "INTEGER", "int range": "INTEGER", "float": "NUMBER",
              "float range": "NUMBER", "file": "FILE", "path": "PATH", "dir": "FOLDER"}
#: What pydantic puts before the message of a validator's ValueError.
_PYDANTIC_PREFIX = re.compile(r"^(?:Value error|Assertion failed), ")


def _metavar(param: Any, ctx: typer.Context) -> str | None:
    """The word help shows for a value of ``param`` (None: a flag takes no value)."""
    if isinstance(param, TyperArgument):
        return param.name.upper() + ("..." if param.nargs != 1 else "")
    if param.is_flag or param.count:
        return None
    label = (param.display_type(ctx) or "").strip("<>")
    label = label.removeprefix("list[").removesuffix("]")
    if "|" in label:
        return f"[{label}]"
    return TYPE_WORDS.get(label, label.upper() or "VALUE")


def _no_type(ctx: typer.Context) -> None:
    """No type label after an argument's name in help."""


class PlainCommand(TyperCommand):
    """A command whose help and usage errors speak the user's words, not Python types.

    Every value gets a metavar (``TEXT``, ``[table|json]``) instead of ``<str>`` or
    ``<list[str]>``; arguments show as ``PATH...`` rather than ``{paths}...``; and a bad
    value's message loses pydantic's ``Value error,`` prefix.
    """

    def get_params(self, ctx: typer.Context) -> list[Any]:  # type: ignore[override]
        """The parameters, each with a metavar in words."""
        params: list[Any] = super().get_params(ctx)
        for param in params:
            if param.metavar is None and param.name != "help":
                param.metavar = _metavar(param, ctx)
            if isinstance(param, TyperArgument):
                # An argument's help row adds its Python type after the name; the name is
                # the metavar already.
                param.display_type_rich = _no_type  # type: ignore[method-assign,assignment]
        return params

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:  # type: ignore[override]
        """The usage line's parts: ``[OPTIONS]``, then each argument's metavar, bare."""
        pieces = [self.options_metavar] if self.options_metavar else []
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or param.name.upper()
                pieces.append(name if param.required else f"[{name}]")
        return pieces

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        """Parse as Typer does; a bad value's message without pydantic's wording."""
        try:
            return super().parse_args(ctx, args)
        except typer.BadParameter as exc:
            exc.message = _PYDANTIC_PREFIX.sub("", exc.message).replace(
                "Input should be ", "must be ").replace(
                ", unable to parse string as an integer", "")
            raise


app = typer.Typer(
    name="asm-advisor", no_args_is_help=True, add_completion=True,
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
for _command in app.registered_commands:
    if _command.cls in (None, TyperCommand):  # a command with a class of its own keeps it
        _command.cls = PlainCommand


#: Errors of a write that failed for lack of room (a full disk or quota), not for a bug.
WRITE_ERRORS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def main() -> None:
    """Run the app; never lets a traceback reach the user."""
    try:
        # One program name however it was started (``python -m`` too): usage lines and the
        # shell completion scripts name the console script, which is what users type.
        app(prog_name="asm-advisor")
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
