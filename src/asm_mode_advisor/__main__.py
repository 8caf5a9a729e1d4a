"""Entry point of ``asm-advisor`` and ``python -m asm_mode_advisor``.

``asm-advisor --version`` alone is answered here, before the CLI and its models are imported.
"""

from __future__ import annotations

import errno
import os
import sys

from asm_mode_advisor import __version__
from asm_mode_advisor.exit_codes import ExitCode


def main() -> None:
    """Run the CLI; ``asm-advisor --version`` alone is answered at once."""
    if sys.argv[1:] == ["--version"]:
        code = _say(f"asm-advisor {__version__}\n")
        if code:
            sys.exit(code)
        return
    from asm_mode_advisor.cli import main as cli_main

    cli_main()


def _say(text: str) -> ExitCode:
    """Write to stdout: OK, else PIPE for a closed pipe, INPUT for a failed write (as ``out``)."""
    try:
        sys.stdout.write(text)
        sys.stdout.flush()
    except OSError as exc:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())  # the interpreter's last flush must not fail again
        if exc.errno == errno.EPIPE:
            return ExitCode.PIPE
        sys.stderr.write(f"asm-advisor: error: cannot write output: {exc.strerror}\n")
        return ExitCode.INPUT
    return ExitCode.OK


if __name__ == "__main__":
    main()
