"""Entry point for ``python -m asm_mode_advisor``."""

from asm_mode_advisor.entry import main

main()
