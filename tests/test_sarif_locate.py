"""The lazy field-line finder: paths to lines, fallbacks, and only documents with findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from asm_mode_advisor import locate
from asm_mode_advisor.locate import compose, document_text, field_line
from asm_mode_advisor.model import Resource
from asm_mode_advisor.rules import ALL_RULES, Finding
from asm_mode_advisor.verdict import to_reason

TEXT = """\
apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
spec:
  http:
  - route: []
  - timeout: 2s
    fault:
      delay: {fixedDelay: 1s}
"""


def test_document_text_stops_at_the_next_document() -> None:
    lines = TEXT.splitlines(keepends=True)
    assert document_text(lines, 1).count("\n") == 3
    assert document_text(lines, 5).startswith("apiVersion: networking")


def test_field_line_follows_keys_and_indexes() -> None:
    root = compose(document_text(TEXT.splitlines(keepends=True), 5))
    assert root is not None
    assert field_line(root, ("spec", "http", 1, "fault")) == 8  # 0-based within the slice
    assert field_line(root, ("spec", "http", 0)) == 6
    assert field_line(root, ("spec", "http", 1, "mirror")) == 7  # deepest key found
    assert field_line(root, ("status",)) is None


def test_list_item_slice_composes_to_the_item() -> None:
    text = "- apiVersion: v1\n  kind: Service\n  spec:\n    ports: []\n"
    root = compose(text)
    assert root is not None and field_line(root, ("spec", "ports")) == 3


def test_broken_document_falls_back() -> None:
    assert compose("a: [unclosed\n") is None


def finding(file: str, line: int, path: tuple[str | int, ...]) -> Finding:
    resource = Resource(kind="VirtualService", api_version="networking.istio.io/v1",
                        name="reviews", namespace="shop", labels={}, annotations={}, body={},
                        file=file, line=line)
    return Finding(rule=ALL_RULES[0], namespace="shop", message="m", objects=(resource,),
                   path=path)


def test_find_lines_reads_only_files_with_field_paths(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = tmp_path / "vs.yaml"
    wanted.write_text(TEXT)
    other = tmp_path / "other.yaml"
    other.write_text(TEXT)
    read: list[str] = []

    def spy(file: str, *args: Any, **kwargs: Any) -> Any:
        read.append(Path(file).name)
        return open(file, *args, **kwargs)

    monkeypatch.setattr(locate, "open", spy, raising=False)  # the module's own open()
    found = [finding(str(wanted), 5, ("spec", "http", 1, "fault")),
             finding(str(other), 5, ())]
    lines = locate.find_lines(locate.targets(found))
    assert read == ["vs.yaml"]
    assert locate.line_of(found[0], lines) == 13
    assert locate.line_of(found[1], lines) is None
    assert to_reason(found[0], lines=lines).field_line == 13


def test_missing_file_keeps_the_object_line(tmp_path: Path) -> None:
    gone = finding(str(tmp_path / "gone.yaml"), 5, ("spec",))
    lines = locate.find_lines(locate.targets([gone]))
    assert lines == {}
    reason = to_reason(gone, lines=lines)
    assert reason.field_line is None and reason.objects[0].line == 5


def test_stdin_and_cluster_findings_are_not_looked_up() -> None:
    stdin = finding("<stdin>", 3, ("spec",))
    cluster = Finding(rule=ALL_RULES[0], namespace="shop", message="m", path=("spec",),
                      objects=(Resource(kind="Service", api_version="v1", name="a",
                                        namespace="shop", labels={}, annotations={}, body={}),))
    assert locate.targets([stdin, cluster]) == []
