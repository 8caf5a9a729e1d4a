"""Piecewise JSON: byte-identical to one ``json.dumps`` call, for reports and odd shapes."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.jsonstream import Lazy, iter_json
from asm_mode_advisor.render import OutputFormat, render, render_chunks
from asm_mode_advisor.sources.files import load_paths

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _dumps(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)


def _plain(value: Any) -> Any:
    """The same data with every Lazy made a list (built from a fresh copy of its items)."""
    if isinstance(value, Lazy):
        return [_plain(item) for item in value.items]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def _shape(rng: random.Random, depth: int) -> Any:
    """Random JSON with Lazy arrays placed anywhere (as lists, so they can be read twice)."""
    pick = rng.randrange(7 if depth < 4 else 3)
    if pick == 0:
        return rng.choice([0, -3, 2.5, True, False, None])
    if pick == 1:
        return rng.choice(["", "é → ü", "line\nbreak", 'quote "q"', "tab\t"])
    if pick == 2:
        return []
    if pick in (3, 4):
        return {f"k{rng.randrange(9)}": _shape(rng, depth + 1) for _ in range(rng.randrange(4))}
    items = [_shape(rng, depth + 1) for _ in range(rng.randrange(4))]
    return ("lazy", items) if pick == 5 else items


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


EDGE_SHAPES = [
    lambda: {"a": Lazy([])},
    lambda: {"a": Lazy(iter([{}, [], {"b": Lazy([1])}]))},
    lambda: [Lazy([1, 2])],
    lambda: Lazy([]),
    lambda: Lazy(iter([{"x": Lazy([])}])),
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
    pieces = list(render_chunks(report, output))
    assert len(pieces) > 10
    text = "".join(pieces)
    assert text == render(report, output)
    data = report.to_data() if output is OutputFormat.JSON else json.loads(text)
    assert text == _dumps(data) + "\n"
