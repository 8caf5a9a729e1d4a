"""Markdown PR comment (golden file) and GitHub workflow annotations."""

from __future__ import annotations

from pathlib import Path

import ci_helpers
from asm_mode_advisor.render.github import escape_data, escape_property
from ci_helpers import SIDECAR_RESOURCE, cli, l7_pr, write

repo = ci_helpers.repo
GOLDEN = Path(__file__).parent / "golden" / "ci"


def check_golden(name: str, text: str, update: bool) -> None:
    path = GOLDEN / name
    if update:
        path.write_text(text, encoding="utf-8")
    assert text == path.read_text(encoding="utf-8")


def test_markdown_comment_matches_golden(repo: Path, update_golden: bool) -> None:
    l7_pr(repo, with_waypoint=False)
    write(repo, "manifests/sidecar.yaml", SIDECAR_RESOURCE)
    write(repo, "manifests/other.yaml", "apiVersion: v1\nkind: Namespace\n"
                                        "metadata: {name: legacy, labels: "
                                        "{istio-injection: enabled}}\n")
    result = cli("analyze", "manifests", "-o", "markdown")
    assert result.exit_code == 1
    check_golden("pr-comment.md", result.stdout, update_golden)
    assert "<details>" in result.stdout and "### Errors (1)" in result.stdout


def test_markdown_for_a_passing_run_has_a_green_headline(repo: Path) -> None:
    l7_pr(repo, with_waypoint=True)
    text = cli("analyze", "manifests", "-o", "markdown").stdout
    assert text.startswith("## ✅ asm-advisor: 0 error(s), 0 warning(s)")


def test_github_annotations_put_errors_first_on_the_field_line(repo: Path) -> None:
    l7_pr(repo, with_waypoint=False)
    result = cli("analyze", "manifests", "-o", "github")
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    text = (repo / "manifests/reviews.yaml").read_text().splitlines()
    fault_line = text.index("    fault:") + 1
    assert lines[0].startswith(f"::error file=manifests/reviews.yaml,line={fault_line},"
                               "title=AMA501 l7-config-without-waypoint::")
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)


def test_github_escaping() -> None:
    assert escape_data("50% done\nnext") == "50%25 done%0Anext"
    assert escape_property("a:b,c") == "a%3Ab%2Cc"
