"""The feature matrix as data, version parsing, and how needs derive their effect."""

from __future__ import annotations

import re

import pytest

from asm_mode_advisor.matrix import (
    L7_PARSES,
    LATENCY_MS,
    ROWS,
    ROWS_BY_ID,
    RowGroup,
    ambient_ready,
    parse_version,
    row,
)
from asm_mode_advisor.model import Effect
from asm_mode_advisor.needs import NEEDS, Category, Need, Support
from shared_spec import MATRIX_SPEC, needs_shared

SPEC = MATRIX_SPEC


@needs_shared(MATRIX_SPEC)
def test_rows_match_the_specification() -> None:
    assert SPEC.is_file(), f"the feature-matrix spec is missing: expected it at {SPEC}"
    spec_ids = set(re.findall(r"\b[MNL]-[A-Z0-9]+\b", SPEC.read_text(encoding="utf-8")))
    assert {r.id for r in ROWS if r.group is not RowGroup.UPSTREAM} == spec_ids


def test_row_ids_are_unique_and_grouped_by_prefix() -> None:
    assert len(ROWS_BY_ID) == len(ROWS)
    prefix = {"M": RowGroup.MODE, "N": RowGroup.NOTE, "L": RowGroup.LAYER,
              "U": RowGroup.UPSTREAM}
    assert all(r.group is prefix[r.id[0]] for r in ROWS)


def test_summaries_state_the_cells() -> None:
    assert row("M-COST").summary() == "Average resource cost: sidecar high; ambient low"
    assert row("L-EXTENSIBILITY").summary() == (
        "Extensibility: L4 (ztunnel) none; L7 (waypoint) WasmPlugin")
    assert "1.25" in row("N-VERSION").summary()
    assert all(r.summary() and "\n" not in r.summary() for r in ROWS)


def test_upstream_rows_name_their_source() -> None:
    upstream = [r for r in ROWS if r.group is RowGroup.UPSTREAM]
    for found in upstream:
        assert found.source.startswith("https://"), found.id
        assert found.note and found.source in found.summary()
    # The seed's own rows never carry a source: an upstream fact is never a bent seed row.
    assert not [r.id for r in ROWS if r.group is not RowGroup.UPSTREAM and r.source]


def test_unknown_row_is_a_key_error() -> None:
    with pytest.raises(KeyError):
        row("M-NOPE")


def test_latency_and_parse_figures_agree_with_the_rows() -> None:
    latency = row("M-LATENCY")
    for low, high in LATENCY_MS.values():
        assert f"{low:.2f} ms" in latency.sidecar + latency.ambient
        assert f"{high:.2f} ms" in latency.sidecar + latency.ambient
    assert L7_PARSES == {"sidecar": 2, "ambient": 0, "ambient-waypoint": 1}


@pytest.mark.parametrize(("text", "parsed"), [
    ("1.25", (1, 25)), ("v1.24.3", (1, 24)), ("1.25.3-asm", (1, 25)), (" V2.0 ", (2, 0)),
    ("1", None), ("latest", None), ("1.x", None), ("", None)])
def test_parse_version(text: str, parsed: tuple[int, int] | None) -> None:
    assert parse_version(text) == parsed


@pytest.mark.parametrize(("text", "ready"), [
    ("1.25", True), ("1.26.1", True), ("2.0", True), ("1.24.9", False), ("0.99", False),
    ("nonsense", False)])
def test_ambient_ready_from_1_25(text: str, ready: bool) -> None:
    assert ambient_ready(text) is ready


@pytest.mark.parametrize(("sidecar", "ztunnel", "waypoint", "category", "effect"), [
    (Support.FULL, Support.NONE, Support.FULL, Category.CAPABILITY, Effect.NEEDS_WAYPOINT),
    (Support.FULL, Support.NONE, Support.NONE, Category.CAPABILITY, Effect.BLOCKS_AMBIENT),
    (Support.COSTLY, Support.FULL, Support.FULL, Category.CAPABILITY, Effect.FAVOURS_AMBIENT),
    (Support.FULL, Support.FULL, Support.FULL, Category.CAPABILITY, Effect.INFO),
    (Support.FULL, Support.NONE, Support.NONE, Category.CHORE, Effect.MIGRATION_CHORE),
    (Support.FULL, Support.NONE, Support.NONE, Category.INFO, Effect.INFO),
])
def test_need_effect_is_derived_from_support(sidecar: Support, ztunnel: Support,
                                             waypoint: Support, category: Category,
                                             effect: Effect) -> None:
    need = Need(id="n", title="t", rows=("M-COST",), sidecar=sidecar, ztunnel=ztunnel,
                waypoint=waypoint, category=category)
    assert need.effect is effect


def test_need_rows_must_exist() -> None:
    with pytest.raises(ValueError, match="unknown matrix rows"):
        Need(id="n", title="t", rows=("X-NOPE",))


def test_key_needs_have_the_documented_effect() -> None:
    assert NEEDS["l7-routing"].effect is Effect.NEEDS_WAYPOINT
    assert NEEDS["multi-cluster"].effect is Effect.BLOCKS_AMBIENT
    assert NEEDS["job-lifecycle"].effect is Effect.FAVOURS_AMBIENT
    assert NEEDS["l4-security"].effect is Effect.INFO
    assert NEEDS["mode-labels"].effect is Effect.MIGRATION_CHORE


def test_effect_weights_order_strongest_first() -> None:
    assert [e.weight for e in Effect] == list(range(len(Effect)))
    assert Effect.BLOCKS_AMBIENT.weight < Effect.NEEDS_WAYPOINT.weight < Effect.INFO.weight
