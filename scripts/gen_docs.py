"""Regenerate the generated docs: docs/rules.md (rule registry), docs/feature-matrix.md (matrix).

Usage: ``python3 scripts/gen_docs.py`` writes them; ``--check`` exits 1 when any is stale.
tests/test_docs.py runs the check.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from asm_mode_advisor.matrix import ROWS, RowGroup
from asm_mode_advisor.rules import ALL_RULES
from asm_mode_advisor.rules_doc import rules_markdown

REPO = Path(__file__).resolve().parent.parent

MATRIX_INTRO = (
    "Generated from `asm_mode_advisor.matrix.ROWS` by `python3 scripts/gen_docs.py`; a test "
    "fails when this file is stale. `asm-advisor matrix` prints the same rows. Every reason "
    "the advisor gives cites one or more of these row ids."
)
COLUMNS: dict[RowGroup, tuple[tuple[str, str], ...]] = {
    RowGroup.MODE: (("dimension", "dimension"), ("Sidecar mode", "sidecar"),
                    ("Ambient mode", "ambient")),
    RowGroup.NOTE: (("note", "note"),),
    RowGroup.LAYER: (("dimension", "dimension"), ("L4 (ztunnel)", "l4"),
                     ("L7 (waypoint)", "l7")),
    RowGroup.UPSTREAM: (("dimension", "dimension"), ("fact", "note"), ("source", "source")),
}
#: Said above the upstream rows: they are ours, not the seed's.
UPSTREAM_INTRO = (
    "These rows are **not** in the seed matrix (`shared/feature-matrix.md`). Each states one "
    "fact checked against the upstream page or istiod source file in its `source` column, "
    "and is cited where no seed row supports a reason.")


def cell(text: str) -> str:
    """A Markdown table cell: pipes escaped."""
    return text.replace("|", "\\|")


def rules_citing(row_id: str) -> str:
    """The ids of the rules that cite a row, for the matrix table."""
    return ", ".join(f"[{r.id}](rules.md#{r.id.lower()}-{r.name})"
                     for r in ALL_RULES if row_id in r.rows)


def matrix_markdown() -> str:
    """The feature matrix as Markdown tables, one per row group, with the rules citing rows."""
    lines = ["# Feature matrix", "", MATRIX_INTRO, ""]
    for group in RowGroup:
        columns = COLUMNS[group]
        lines += [f"## {group.value[0].upper()}{group.value[1:]}", "",
                  *([UPSTREAM_INTRO, ""] if group is RowGroup.UPSTREAM else []),
                  "| id | " + " | ".join(title for title, _ in columns) + " | rules |",
                  "|---|" + "---|" * len(columns) + "---|"]
        for row in ROWS:
            if row.group is group:
                values = [cell(str(getattr(row, attr))) for _, attr in columns]
                lines.append(f"| {row.id} | " + " | ".join(values)
                             + f" | {rules_citing(row.id)} |")
        lines.append("")
    return "\n".join(lines)


GENERATED: dict[str, Callable[[], str]] = {
    "docs/rules.md": rules_markdown,
    "docs/feature-matrix.md": matrix_markdown,
}


def expected() -> dict[Path, str]:
    """Each generated file's path and the text it must hold (one trailing newline)."""
    return {REPO / name: make().rstrip("\n") + "\n" for name, make in GENERATED.items()}


def stale() -> list[Path]:
    """Generated files whose content differs from what the code generates now."""
    return [path for path, text in expected().items()
            if not path.is_file() or path.read_text(encoding="utf-8") != text]


def main(argv: list[str]) -> int:
    """Write the docs, or with ``--check`` report stale ones and return 1."""
    if "--check" in argv:
        outdated = stale()
        for path in outdated:
            print(f"{path.relative_to(REPO)} is stale; run python3 scripts/gen_docs.py",
                  file=sys.stderr)
        return 1 if outdated else 0
    for path, text in expected().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8", newline="\n")
        print(f"wrote {path.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
