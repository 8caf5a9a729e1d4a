"""Every command, one module per command family; ``register`` adds them to the Typer app.

Each module defines ``register(app)``; shared plumbing is in ``common`` and shared option
declarations in ``options``. Modules must not import heavy dependencies (the ``kubernetes``
client) at import time: ``analyze`` must never pay for them.
"""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add every command to ``app``, in the order ``--help`` lists them."""
    from asm_mode_advisor.commands import analyze, catalog, diff, plan, scan

    analyze.register(app)
    catalog.register(app)
    scan.register(app)
    plan.register(app)
    diff.register(app)
