"""Entry point for ``python -m asm_mode_advisor``."""

from asm_mode_advisor.cli import main

main()
