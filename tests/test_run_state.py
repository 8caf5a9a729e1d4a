"""No run leaves state behind: sharing tables belong to a read, the GC pause to the command."""

from __future__ import annotations

import dataclasses
import gc
import re
from pathlib import Path

import pytest
import yaml

from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.report import NamespaceVerdict, verdict_json
from asm_mode_advisor.sources.construct import STR_TAG, resolve_scalar
from asm_mode_advisor.sources.files import load_paths

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

APP = """\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {namespace}, labels: {{app: web}}}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: web:1}}]}}
"""


def _two_namespaces(tmp_path: Path) -> Path:
    path = tmp_path / "apps.yaml"
    path.write_text(APP.format(namespace="a") + "---\n" + APP.format(namespace="b"))
    return path


def test_a_read_shares_equal_bodies_and_the_next_read_starts_afresh(tmp_path: Path) -> None:
    path = str(_two_namespaces(tmp_path))
    first = load_paths([path], slim_bodies=True).resources
    assert first[0].body is first[1].body  # one chart's Deployment, kept once per read
    assert first[0].labels is first[1].labels
    second = load_paths([path], slim_bodies=True).resources
    assert second[0].body == first[0].body and second[0].body is not first[0].body


def test_whole_bodies_are_never_shared(tmp_path: Path) -> None:
    resources = load_paths([str(_two_namespaces(tmp_path))]).resources
    assert resources[0].body is not resources[1].body


def test_analysis_leaves_the_collector_to_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("the library paused the garbage collector")

    monkeypatch.setattr(gc, "disable", refuse)
    loaded = load_paths([str(EXAMPLES)], slim_bodies=True)
    assert analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report


def test_report_items_are_declared_in_reading_order_and_written_sorted() -> None:
    names = [field.name for field in dataclasses.fields(NamespaceVerdict)]
    assert names[:4] == ["name", "current_mode", "recommendation", "summary"]
    verdict = NamespaceVerdict(name="shop", current_mode="sidecar", recommendation="ambient",
                               summary="nothing blocks ambient")
    text = verdict_json(verdict)
    assert text.index('"currentMode"') < text.index('"name"') < text.index('"summary"')


def test_scalar_tags_are_remembered_per_resolver_class() -> None:
    class Shouting(yaml.SafeLoader):
        """A loader with an implicit resolver of its own."""

    Shouting.add_implicit_resolver("!shout", re.compile(r"^[A-Z]+$"), list("HELO"))
    assert resolve_scalar(yaml.SafeLoader(""), "HELLO", (True, False)) == STR_TAG
    assert resolve_scalar(Shouting(""), "HELLO", (True, False)) == "!shout"
    assert resolve_scalar(yaml.SafeLoader(""), "HELLO", (True, False)) == STR_TAG
