"""Sub-commands that live in their own modules; ``register`` adds them to the Typer app.

Each module defines ``register(app)``. Modules must not import heavy dependencies (the
``kubernetes`` client) at import time: ``analyze`` must never pay for them.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add every sub-command module's commands to ``app`` (listed explicitly)."""
    from asm_mode_advisor.commands import diff, plan, scan

    scan.register(app)
    plan.register(app)
    diff.register(app)
