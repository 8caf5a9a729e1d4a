"""Fixtures for the HTML tests: Debian's Chromium (FAIL, never skip, when it is missing)."""

from __future__ import annotations

from pathlib import Path

import pytest
from headless import INSTALL, find_chromium

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the tests that use the browser ``browser`` (see scripts/test.sh --no-cluster)."""
    for item in items:
        if HERE in item.path.resolve().parents and "chromium" in getattr(
                item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The Chromium executable: ``ASM_ADVISOR_CHROMIUM`` or ``chromium`` on the PATH."""
    binary = find_chromium()
    if binary is None:
        pytest.fail(f"no chromium executable for the browser tests: {INSTALL}, or set "
                    "ASM_ADVISOR_CHROMIUM", pytrace=False)
    return binary
