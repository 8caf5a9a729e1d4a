"""Shared helpers: build an inventory or a whole analysis from inline YAML."""

from __future__ import annotations

import textwrap

import pytest

from asm_mode_advisor.analysis import Analysis, Settings, analyze
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.sources.files import LoadResult, load_text


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite golden files from the current output")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


def load(yaml_text: str, name: str = "test.yaml", default_namespace: str = "default") -> LoadResult:
    """Parse inline YAML like a file."""
    result = LoadResult()
    load_text(textwrap.dedent(yaml_text), name, default_namespace, result)
    return result


def inventory_from(yaml_text: str) -> Inventory:
    """An inventory of inline YAML (input errors fail the test)."""
    loaded = load(yaml_text)
    assert not loaded.errors, loaded.errors
    return Inventory.build(loaded.resources)


def analysis_from(yaml_text: str, **settings: str) -> Analysis:
    """The whole pipeline on inline YAML."""
    loaded = load(yaml_text)
    return analyze(loaded.resources, loaded.errors, Settings(**settings), files=1)
