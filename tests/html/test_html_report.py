"""The HTML report and PLAN.html without a browser: self-contained, escaped, deterministic;
the picture's layout (layers, cycles, the cap on boxes)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest
from pages import (
    ESTATE,
    EXAMPLES,
    HOSTILE,
    ROOT,
    Page,
    analysed,
    cli,
    estate,
    hostile,
    peer,
    report,
)

from asm_mode_advisor.render import OutputFormat, View, render, render_chunks
from asm_mode_advisor.render.html import MAX_BOXES
from asm_mode_advisor.render.svg import (
    BOX_H,
    BOX_W,
    COL_GAP,
    HEAD_H,
    MAX_COLUMNS,
    PAD,
    ROW_GAP,
    Arrow,
    Box,
    chosen,
    columns,
    layers,
)
from asm_mode_advisor.report import NamespaceTraffic, NamespaceVerdict

EXAMPLE_DIRS = sorted(p.name for p in EXAMPLES.iterdir() if p.is_dir())
#: Attributes that would make the browser fetch something.
FETCHING = ("src", "href", "xlink:href", "action", "formaction", "poster", "data", "srcset")


def self_contained(text: str) -> Page:
    """The parsed page, after checking it can fetch nothing and every script is inline."""
    page = Page(text)
    assert text.startswith("<!DOCTYPE html>\n") and text.endswith("</html>\n")
    for tag, attrs in page.tags:
        assert tag not in ("link", "img", "iframe", "object", "embed", "base", "image",
                           "use", "audio", "video", "source"), tag
        for name in FETCHING:
            value = attrs.get(name)
            if value is not None:
                assert tag == "a" and name == "href" and value.startswith("#"), (tag, attrs)
    assert not re.search(r"(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}/", "".join(page.scripts))
    assert not re.search(r"(?i)url\((?!#)|@import|@font-face", text)  # no CSS fetches
    assert "Content-Security-Policy" in text and "default-src 'none'" in text
    return page


@pytest.fixture(autouse=True)
def _from_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reports name files relative to the repository root, as the CLI run from there does."""
    monkeypatch.chdir(ROOT)


@pytest.mark.parametrize("example", [*EXAMPLE_DIRS, "."])
def test_every_example_page_parses_and_is_self_contained(example: str) -> None:
    shown = analysed(EXAMPLES / example)
    names = [verdict.name for verdict in shown.namespaces]
    page = self_contained(render(shown, OutputFormat.HTML, view=View()))
    cards = page.having("data-namespace")
    assert [c["data-namespace"] for c in cards] == names and names
    assert [c["id"] for c in cards] == [f"ns-{name}" for name in names]
    assert len(page.boxes()) >= len(names)  # peers outside the input are drawn too
    hrefs = {a["href"] for a in page.having("href")}
    assert {f"#ns-{name}" for name in names} <= hrefs
    reasons = sum(len(verdict.reasons) for verdict in shown.namespaces)
    assert sum(1 for tag, _ in page.tags if tag == "li") >= reasons


def test_same_input_same_bytes_and_streamed_in_pieces(tmp_path: Path) -> None:
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    for out in (first, second):
        assert cli("analyze", "examples", "-o", "html", "--output-file", str(out)
                   ).returncode == 0
    assert first.read_bytes() == second.read_bytes()
    big = estate(400)
    pieces = list(render_chunks(big, OutputFormat.HTML, view=View()))
    assert len(pieces) > 400 and max(map(len, pieces)) < 20_000
    assert "".join(pieces) == render(big, OutputFormat.HTML, view=View())


def test_hostile_names_are_escaped_everywhere() -> None:
    text = render(hostile(), OutputFormat.HTML, view=View())
    page = self_contained(text)
    assert len(page.scripts) == 2 and 'alert("x")' not in "".join(page.scripts)
    assert "<script>alert" not in text and "\x1b" not in text and "\u202e" not in text
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#x27;&quot;\\u202e\\x1b[31m" in (
        text)
    cards = page.having("data-namespace")
    assert [c["data-namespace"] for c in cards] == [
        '<script>alert("x")</script>&\'"\\u202e\\x1b[31m', "shop"]
    assert cards[0]["id"] == "ns_0"  # not a valid name: its card is found by position
    svg = text[text.index("<svg"):text.index("</svg>")]
    assert "<script" not in svg and svg.count('<g class="b ') == 3  # the unknown peer too
    assert 'class="e risk"' in svg  # the sidecar client calls a waypoint namespace


def test_gate_is_shown_and_failing_namespaces_are_marked() -> None:
    failing = render(hostile(), OutputFormat.HTML, view=View(fail_on="error"))
    assert "gate failed: 1 finding(s) at or above error (AMA201)" in failing
    assert '<g class="b v-sidecar fail">' in failing
    assert "gate not checked" in render(hostile(), OutputFormat.HTML, view=View(fail_on=None))
    passing = render(estate(3), OutputFormat.HTML, view=View(fail_on="error"))
    assert "gate passed (--fail-on error)" in passing and " fail\"" not in passing


def test_large_estate_draws_at_most_the_cap_and_says_so() -> None:
    big = estate(1000)
    page = Page(render(big, OutputFormat.HTML, view=View()))
    assert len(page.having("data-namespace")) == 1000
    assert len(page.boxes()) == MAX_BOXES
    text = render(big, OutputFormat.HTML, view=View())
    assert f"700 of 1000 namespace(s) not drawn (at most {MAX_BOXES}" in text
    size = re.search(r'<svg class="estate" width="(\d+)" height="(\d+)"', text)
    assert size is not None
    # Bounded, whatever the estate: a deep call chain folds into bands of columns.
    assert int(size[1]) <= 2 * PAD + MAX_COLUMNS * (BOX_W + COL_GAP)
    assert int(size[2]) < MAX_BOXES * (BOX_H + ROW_GAP + HEAD_H)


def test_layers_put_callers_left_and_break_cycles_the_same_way() -> None:
    calls = [Arrow("web", "shop"), Arrow("shop", "db"), Arrow("batch", "db"),
             Arrow("db", "web"), Arrow("ops", "ops")]
    names = ["web", "shop", "db", "batch", "ops"]
    layer = layers(names, calls)
    # The search starts at "batch": batch -> db -> web -> shop, and shop -> db closes a cycle.
    assert layer == {"batch": 0, "ops": 0, "db": 1, "web": 2, "shop": 3}
    for order in (list(reversed(names)), sorted(names)):
        assert layers(order, list(reversed(calls))) == layer
    assert columns(names, calls) == [["batch", "ops"], ["db"], ["web"], ["shop"]]


def test_columns_follow_their_callers_rows() -> None:
    calls = [Arrow("a", "z"), Arrow("b", "y"), Arrow("c", "x")]
    assert columns(["a", "b", "c", "x", "y", "z"], calls) == [["a", "b", "c"], ["z", "y", "x"]]


def test_long_chains_need_no_recursion() -> None:
    names = [f"n{i:05}" for i in range(5000)]
    calls = [Arrow(a, b) for a, b in itertools.pairwise(names)]
    assert layers(names, calls)["n04999"] == 4999


def test_the_cap_keeps_namespaces_with_calls_first() -> None:
    boxes = [Box(name, "ambient") for name in ("a", "b", "c", "d")]
    assert [b.name for b in chosen(boxes, [Arrow("c", "d")], 2)] == ["c", "d"]
    assert [b.name for b in chosen(boxes, [Arrow("c", "d")], 3)] == ["a", "c", "d"]


def test_peers_outside_the_input_are_drawn_dashed_and_linkless() -> None:
    verdict = NamespaceVerdict(name="web", current_mode="sidecar", recommendation="ambient",
                               summary="s", traffic=NamespaceTraffic(
                                   evidence="manifests", callees=(peer("far", "unknown"),)))
    text = render(report([verdict]), OutputFormat.HTML, view=View())
    assert '<g class="b v-unknown"><title>far: unknown (not in the input)</title>' in text
    assert 'href="#ns-far"' not in text


def test_plan_html_is_self_contained_with_its_waves(tmp_path: Path) -> None:
    out = tmp_path / "plan"
    done = cli("plan", str(ESTATE.relative_to(ROOT)), "--out", str(out))
    assert done.returncode == 0, done.stderr
    page = self_contained((out / "PLAN.html").read_text(encoding="utf-8"))
    assert [c["data-namespace"] for c in page.having("data-namespace")] == [
        "batch", "db", "quiet", "shop", "web"]  # four to move, then web on sidecars
    text = (out / "PLAN.html").read_text(encoding="utf-8")
    assert ">wave 1</text>" in text and ">wave 2</text>" in text
    assert len(page.boxes()) == 5 and "web stays on sidecars" in text
    again = tmp_path / "again"
    cli("plan", str(ESTATE.relative_to(ROOT)), "--out", str(again))
    assert (again / "PLAN.html").read_bytes() == (out / "PLAN.html").read_bytes()


def test_plan_html_escapes_what_it_prints() -> None:
    from asm_mode_advisor.plan.html import render_html
    from asm_mode_advisor.plan.model import Plan, Skipped

    done = cli("plan", "examples", "-o", "json")
    plan = Plan.model_validate_json(done.stdout)
    tampered = plan.model_copy(update={"skipped": [Skipped(name=HOSTILE, reason=HOSTILE)]})
    text = render_html(tampered)
    page = self_contained(text)
    assert len(page.scripts) == 2 and "<script>alert" not in text and "\x1b" not in text
    assert len(page.having("data-namespace")) == len(plan.namespaces) + len(
        plan.stays_on_sidecar)


def test_plan_html_that_is_a_link_is_refused(tmp_path: Path) -> None:
    out, target = tmp_path / "plan", tmp_path / "elsewhere.html"
    assert cli("plan", "examples", "--out", str(out)).returncode == 0
    target.write_text("mine", encoding="utf-8")
    (out / "PLAN.html").unlink()
    (out / "PLAN.html").symlink_to(target)
    done = cli("plan", "examples", "--out", str(out))
    assert done.returncode != 0 and "PLAN.html: is a symbolic link" in done.stderr
    assert target.read_text(encoding="utf-8") == "mine"
