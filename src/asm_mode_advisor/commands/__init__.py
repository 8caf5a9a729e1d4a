"""Sub-commands that live in their own modules (imported by cli.py)."""
