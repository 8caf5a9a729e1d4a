"""Fixtures for the HTML tests: Debian's Chromium (FAIL, never skip, when it is missing)."""

from __future__ import annotations

import pytest
from headless import INSTALL, find_chromium


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable: ``ASM_ADVISOR_CHROMIUM`` or ``chromium`` on the PATH."""
    binary = find_chromium()
    if binary is None:
        pytest.fail(f"no chromium executable for the browser tests: {INSTALL}, or set "
                    "ASM_ADVISOR_CHROMIUM", pytrace=False)
    return binary
