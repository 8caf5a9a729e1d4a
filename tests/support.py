"""Helpers to build an inventory or a whole analysis from inline YAML.

A plain module (not conftest) so that test files import it by a unique name: the cluster
tests have a conftest of their own.
"""

from __future__ import annotations

import textwrap

from asm_mode_advisor.analysis import Analysis, Settings, analyze
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.sources.files import LoadResult, load_text


def load(yaml_text: str, name: str = "test.yaml", default_namespace: str = "default",
         slim: bool = True) -> LoadResult:
    """Parse inline YAML like a file, bodies slimmed as ``analyze`` does (``slim=False``: whole)."""
    result = LoadResult(slim=slim)
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
