"""Generated docs (docs/rules.md, docs/feature-matrix.md) must match the code."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path
from types import ModuleType

from asm_mode_advisor.matrix import ROWS
from asm_mode_advisor.rules import ALL_RULES

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "gen_docs.py"


def gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_docs_are_current() -> None:
    module = gen_docs()
    assert module.stale() == [], "run python3 scripts/gen_docs.py and commit the result"


def test_rules_doc_has_a_section_per_rule() -> None:
    text = (REPO / "docs" / "rules.md").read_text(encoding="utf-8")
    for rule in ALL_RULES:
        assert f"## {rule.id} {rule.name}" in text, rule.id


def test_matrix_doc_has_every_row() -> None:
    text = (REPO / "docs" / "feature-matrix.md").read_text(encoding="utf-8")
    for row in ROWS:
        assert f"| {row.id} |" in text, row.id


def test_check_mode_flags_a_stale_file(tmp_path: Path) -> None:
    module = gen_docs()
    module.__dict__["REPO"] = tmp_path
    assert sorted(p.name for p in module.stale()) == ["feature-matrix.md", "rules.md"]
    assert module.main([]) == 0
    assert module.stale() == []
    (tmp_path / "docs" / "rules.md").write_text("# old\n", encoding="utf-8")
    assert [p.name for p in module.stale()] == ["rules.md"]
    assert module.main(["--check"]) == 1


def test_script_check_runs_clean() -> None:
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True,
                            text=True, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
