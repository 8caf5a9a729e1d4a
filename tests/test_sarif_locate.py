"""The lazy field-line finder: paths to lines, fallbacks, and only documents with findings."""

from __future__ import annotations

from pathlib import Path

import pytest

from asm_mode_advisor import locate
from asm_mode_advisor.locate import compose, document_text, field_line
from asm_mode_advisor.report import NamespaceVerdict, ObjectRef, Reason, Report, Summary

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


def reason(file: str, line: int, path: list[str | int]) -> Reason:
    return Reason(rule_id="AMA101", rule_name="vs-http-routing", title="t",
                  effect="needs-waypoint", severity="note", matrix_rows=["L-ROUTING"],
                  message="m", field_path=path,
                  objects=[ObjectRef(kind="VirtualService", name="reviews", file=file,
                                     line=line)])


def test_find_lines_reads_only_files_with_field_paths(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    wanted = tmp_path / "vs.yaml"
    wanted.write_text(TEXT)
    other = tmp_path / "other.yaml"
    other.write_text(TEXT)
    read: list[str] = []
    original = Path.read_text

    def spy(self: Path, *args: object, **kwargs: object) -> str:
        read.append(self.name)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "read_text", spy)
    report = Report(mesh_version="1.25", summary=Summary(namespaces=1, objects=2,
                                                         by_recommendation={}, by_kind={}),
                    namespaces=[NamespaceVerdict(
                        name="shop", current_mode="none", recommendation="ambient",
                        summary="s", reasons=[reason(str(wanted), 5, ["spec", "http", 1,
                                                                      "fault"]),
                                              reason(str(other), 5, [])])])
    located = locate.add_field_lines(report)
    assert read == ["vs.yaml"]
    assert located.namespaces[0].reasons[0].field_line == 13
    assert located.namespaces[0].reasons[1].field_line is None


def test_missing_file_keeps_the_object_line(tmp_path: Path) -> None:
    report = Report(mesh_version="1.25", summary=Summary(namespaces=1, objects=1,
                                                         by_recommendation={}, by_kind={}),
                    namespaces=[NamespaceVerdict(
                        name="shop", current_mode="none", recommendation="ambient",
                        summary="s", reasons=[reason(str(tmp_path / "gone.yaml"), 5,
                                                     ["spec"])])])
    assert locate.add_field_lines(report).namespaces[0].reasons[0].field_line is None
