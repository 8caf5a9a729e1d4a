"""Console-script entry: answers ``--version`` before importing the CLI and its models."""

from __future__ import annotations

import sys

from asm_mode_advisor import __version__


def main() -> None:
    """Run the CLI; ``asm-advisor --version`` alone is answered at once."""
    if sys.argv[1:] == ["--version"]:
        sys.stdout.write(f"asm-advisor {__version__}\n")
        return
    from asm_mode_advisor.cli import main as cli_main

    cli_main()
