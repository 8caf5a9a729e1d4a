"""Piecewise JSON: byte-identical to one ``json.dumps`` call, for reports and odd shapes."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import TypeAdapter

from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.jsonstream import Lazy, dumps_fast, iter_json
from asm_mode_advisor.render import OutputFormat, View, json_yaml, render, render_chunks, sarif
from asm_mode_advisor.report import (
    NamespaceVerdict,
    ObjectRef,
    Reason,
    verdict_json,
)
from asm_mode_advisor.rules import ALL_RULES
from asm_mode_advisor.sources.files import load_paths

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _plain(value: Any) -> Any:
    """The same data with every Lazy made a list of what its ``dump`` writes."""
    if isinstance(value, Lazy):
        return [json.loads(value.dump(item)) for item in value.items]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _shape(rng: random.Random, depth: int, in_lazy: bool = False) -> Any:
    """Random JSON with Lazy arrays anywhere but inside a lazy item (as tuples, to build twice)."""
    pick = rng.randrange(7 if depth < 4 else 3)
    if pick == 0:
        return rng.choice([0, -3, 2.5, True, False, None])
    if pick == 1:
        return rng.choice(["", "é → ü", "line\nbreak", 'quote "q"', "tab\t"])
    if pick == 2:
        return []
    if pick in (3, 4):
        return {f"k{rng.randrange(9)}": _shape(rng, depth + 1, in_lazy)
                for _ in range(rng.randrange(4))}
    lazy = pick == 5 and not in_lazy
    items = [_shape(rng, depth + 1, in_lazy or lazy) for _ in range(rng.randrange(4))]
    return ("lazy", items) if lazy else items


def _build(shape: Any, lazy: bool) -> Any:
    if isinstance(shape, tuple):
        items = [_build(item, lazy) for item in shape[1]]
        return Lazy(iter(items)) if lazy else items
    if isinstance(shape, dict):
        return {key: _build(item, lazy) for key, item in shape.items()}
    if isinstance(shape, list):
        return [_build(item, lazy) for item in shape]
    return shape


@pytest.mark.parametrize("seed", range(200))
def test_random_shapes_match_json_dumps(seed: int) -> None:
    shape = {"root": _shape(random.Random(seed), 0)}
    expected = _dumps(_build(shape, lazy=False))
    assert "".join(iter_json(_build(shape, lazy=True))) == expected


@pytest.mark.parametrize("seed", range(200))
def test_fast_writer_matches_json_dumps(seed: int) -> None:
    data = _build({"root": _shape(random.Random(seed), 0)}, lazy=False)
    assert dumps_fast(data) == _dumps(data)


@pytest.mark.parametrize("text", ["\x1b[31m", "\x7f\u2028\u202e", "\x00\x1f", "🙂 \\ \"q\" /",
                                  "\ud83d"])
def test_fast_writer_escapes_like_json_dumps(text: str) -> None:
    data = {"b": [text, {text: 1.5e-07, "a": -0.0}], "a": {}}
    assert dumps_fast(data) == _dumps(data)


EDGE_SHAPES = [
    lambda: {"a": Lazy([])},
    lambda: {"a": Lazy(iter([{}, [], {"b": [1]}]))},
    lambda: [Lazy([1, 2])],
    lambda: Lazy([]),
    lambda: Lazy(iter([{"x": []}])),
    lambda: {"a": Lazy([3, 4], dump=lambda n: json.dumps({"m": [n], "n": n}, indent=2))},
    lambda: {"z": 1, "a": {"m": Lazy([{"q": "ü"}])}},
]


@pytest.mark.parametrize("make", EDGE_SHAPES)
def test_edge_shapes_match_json_dumps(make: Callable[[], Any]) -> None:
    assert "".join(iter_json(make())) == _dumps(_plain(make()))


def test_lazy_items_are_produced_one_at_a_time() -> None:
    produced: list[int] = []

    def item(index: int) -> dict[str, int]:
        produced.append(index)
        return {"i": index}

    chunks = iter_json({"items": Lazy(item(i) for i in range(3))})
    seen = []
    for chunk in chunks:
        seen.append(chunk)
        if '"i": 0' in chunk:
            assert produced == [0]  # the second item is not built before the first is written
    assert produced == [0, 1, 2]


@pytest.mark.parametrize("output", [OutputFormat.JSON, OutputFormat.SARIF])
def test_reports_written_in_pieces_equal_one_dump(output: OutputFormat) -> None:
    loaded = load_paths([str(EXAMPLES)])
    report = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report
    view = View(rules=ALL_RULES)  # the catalog SARIF lists, as the commands hand it in
    pieces = list(render_chunks(report, output, view=view))
    assert len(pieces) > 10
    text = "".join(pieces)
    assert text == render(report, output, view=view)
    data = report.to_data() if output is OutputFormat.JSON else json.loads(text)
    assert text == _dumps(data) + "\n"


def test_verdict_json_is_the_sorted_dump_of_every_example_verdict() -> None:
    loaded = load_paths([str(EXAMPLES)])
    report = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report
    adapter = TypeAdapter(NamespaceVerdict)
    for verdict in report.namespaces:
        data = adapter.dump_python(verdict, by_alias=True, exclude_none=True, mode="json")
        assert verdict_json(verdict) == _dumps(data)


@pytest.mark.parametrize("source", [[str(EXAMPLES)], []], ids=["examples", "empty"])
def test_yaml_written_in_pieces_equals_one_dump(source: list[str]) -> None:
    loaded = load_paths(source)
    report = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report
    pieces = list(render_chunks(report, OutputFormat.YAML))
    assert len(pieces) == len(report.to_data()) + len(report.namespaces)
    whole = json_yaml.dump(report.to_data())
    assert "".join(pieces) == whole
    assert yaml.safe_load(whole) == report.to_data()


def _reason(**fields: Any) -> Reason:
    values: dict[str, Any] = {"effect": "info", "matrix_rows": ("M-COST",), "message": "m",
                              "rule_id": "AMA101", "rule_name": "r", "severity": "note",
                              "title": "t"}
    return Reason(**{**values, **fields})


def test_report_items_still_validate_what_they_are_not_given_exactly() -> None:
    parsed = _reason(matrix_rows=["M-COST"], field_path=["spec", 0],
                     objects=[{"kind": "Service", "name": "web"}])
    assert parsed.matrix_rows == ("M-COST",) and parsed.field_path == ("spec", 0)
    assert parsed.objects == (ObjectRef(kind="Service", name="web"),)
    with pytest.raises(ValueError, match="valid string"):
        _reason(matrix_rows=("M-COST", 3))
    with pytest.raises(ValueError):
        _reason(objects=({"kind": "Service"},))  # a tuple, but not of ObjectRefs: no name


def test_sarif_written_in_pieces_is_the_sarif_log() -> None:
    loaded = load_paths([str(EXAMPLES)])
    report = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report
    log = sarif.sarif_log(report, ALL_RULES, EXAMPLES.parent)
    assert log["runs"][0]["results"]
    assert json.loads("".join(sarif.chunks(report, ALL_RULES, EXAMPLES.parent))) == log
