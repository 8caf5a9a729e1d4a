"""Where the tests find ``../shared`` (the product specification and the real-manifest corpus).

A user's own clone usually has no ``shared/`` beside it: the tests that read it are skipped
there, with the reason. CI always lays ``shared/`` beside the clone and sets ``CI``; there the
same tests run, and fail loudly when it is missing instead of skipping.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
CORPUS = SHARED / "corpus"
MATRIX_SPEC = SHARED / "feature-matrix.md"


def running_in_ci() -> bool:
    """True under CI, where ``shared/`` must be present (CI sets ``CI=true``)."""
    return os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def shared_absent_here(path: Path) -> bool:
    """True when ``path`` is missing and that is allowed (outside CI)."""
    return not path.exists() and not running_in_ci()


def needs_shared(path: Path) -> pytest.MarkDecorator:
    """Skip outside CI when ``path`` (under ``shared/``) is absent; under CI, run and fail."""
    return pytest.mark.skipif(
        shared_absent_here(path),
        reason=f"{path} is absent (no shared/ beside this clone); CI always has it and runs this")
