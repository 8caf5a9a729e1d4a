"""The HTML pages in a real browser: Debian's Chromium, headless, with the network off.

Each page is loaded from a file: no console error (the page's recorder and Chromium's log),
its scripts ran to the end, one card per namespace, a picture with boxes; the screenshot is
looked at for the verdict colours. The test FAILS when Chromium is missing (see conftest).
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from headless import Loaded, load, pixels, screenshot
from pages import ESTATE, ROOT, Page, cli, estate, hostile

from asm_mode_advisor.render import OutputFormat, View, render
from asm_mode_advisor.render.html import MAX_BOXES

#: The boxes' fills (render/html.py STYLE): the picture is coloured by verdict.
FILLS = {"ambient": (0xCD, 0xEB, 0xD2), "ambient-waypoint": (0xCF, 0xE2, 0xFB),
         "sidecar": (0xFD, 0xE0, 0xC2)}


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The pages under test, written as a user would write them."""
    folder = tmp_path_factory.mktemp("pages")
    made = {"examples": folder / "report.html", "estate": folder / "estate.html",
            "plan": folder / "plan" / "PLAN.html", "hostile": folder / "hostile.html",
            "large": folder / "large.html"}
    # The command of the "Done when", as written there.
    done = cli("analyze", "examples/", "-o", "html", "--output-file", str(made["examples"]))
    assert done.returncode == 0, done.stderr
    done = cli("analyze", str(ESTATE.relative_to(ROOT)), "-o", "html", "--output-file",
               str(made["estate"]))
    assert done.returncode == 0, done.stderr
    done = cli("plan", "examples", "--out", str(folder / "plan"))
    assert done.returncode == 0, done.stderr
    made["hostile"].write_text(render(hostile(), OutputFormat.HTML, view=View()),
                               encoding="utf-8")
    made["large"].write_text(render(estate(2000), OutputFormat.HTML, view=View()),
                             encoding="utf-8")
    return made


def clean(loaded: Loaded) -> Page:
    """The DOM after the scripts, once it is known that none failed."""
    assert loaded.console == []
    body = re.search(r"<body([^>]*)>", loaded.dom)
    assert body is not None and 'data-errors="0"' in body[1] and 'data-ready="1"' in body[1]
    assert '<pre id="js-errors" hidden=""></pre>' in loaded.dom
    return Page(loaded.dom)


def cards(page: Page) -> list[str | None]:
    return [attrs["data-namespace"] for attrs in page.having("data-namespace")]


@pytest.mark.parametrize(("name", "expected"), [
    ("examples", 13), ("estate", 5), ("hostile", 2), ("large", 2000)])
def test_report_loads_offline_without_errors(chromium: str, pages: dict[str, Path], name: str,
                                             expected: int) -> None:
    started = time.monotonic()
    loaded = load(chromium, pages[name])
    elapsed = time.monotonic() - started
    page = clean(loaded)
    assert len(cards(page)) == expected
    assert len(page.boxes()) == min(expected + (1 if name == "hostile" else 0), MAX_BOXES)
    shown = re.search(r'id="shown"[^>]*>(\d+) of (\d+) namespace', loaded.dom)
    assert shown is not None and shown[1] == shown[2] == str(expected)  # the filter ran
    assert elapsed < 30, f"{name}: {elapsed:.1f}s to load"  # a few seconds; the box is shared


def test_plan_html_loads_offline_without_errors(chromium: str, pages: dict[str, Path]) -> None:
    page = clean(load(chromium, pages["plan"]))
    assert cards(page) == ["catalogue-data", "checkout", "orders", "partner-api", "pricing",
                           "reporting", "reviews", "shop-cart", "shop-frontend", "billing",
                           "shop-legacy", "stock"]
    assert len(page.boxes()) == 12


@pytest.mark.parametrize("name", ["examples", "plan"])
def test_screenshot_shows_the_estate_coloured_by_verdict(chromium: str, pages: dict[str, Path],
                                                         name: str, tmp_path: Path) -> None:
    width, height, colours = pixels(screenshot(chromium, pages[name], tmp_path / "shot.png"))
    assert (width, height) == (1400, 1000)
    distinct = set(colours)
    assert len(distinct) > 50  # not blank: text, boxes, borders
    for verdict, fill in FILLS.items():
        assert colours.count(fill) > 2000, verdict  # whole boxes of each colour, on screen


def test_sorting_and_filtering_work_in_the_browser(chromium: str, pages: dict[str, Path],
                                                   tmp_path: Path) -> None:
    # The page as written, plus a script that uses its controls as a user would.
    driver = """<script>(function(){
var v=document.getElementById("f-verdict");v.value="ambient";
v.dispatchEvent(new Event("change"));
var th=document.querySelector("#overview th");th.click();th.click();
var seen=[];document.querySelectorAll("#overview tbody tr").forEach(function(r){
if(!r.hidden){seen.push(r.getAttribute("data-name"));}});
var shownCards=[];document.querySelectorAll(".card").forEach(function(c){
if(!c.hidden){shownCards.push(c.getAttribute("data-namespace"));}});
document.body.setAttribute("data-seen",seen.join(","));
document.body.setAttribute("data-cards",shownCards.join(","));})();</script>"""
    page = tmp_path / "driven.html"
    page.write_text(pages["estate"].read_text(encoding="utf-8").replace(
        "</body>", driver + "</body>"), encoding="utf-8")
    loaded = load(chromium, page)
    clean(loaded)
    assert 'data-seen="db,batch"' in loaded.dom  # ambient only, namespace descending
    assert 'data-cards="batch,db"' in loaded.dom
    assert re.search(r'id="shown"[^>]*>2 of 5 namespace', loaded.dom)


def test_a_script_error_is_caught(chromium: str, pages: dict[str, Path], tmp_path: Path) -> None:
    """The checks above would see a broken page: an error is both logged and recorded."""
    page = tmp_path / "broken.html"
    page.write_text(pages["estate"].read_text(encoding="utf-8").replace(
        "</body>", "<script>no_such_function();</script></body>"), encoding="utf-8")
    loaded = load(chromium, page)
    assert any("no_such_function" in line for line in loaded.console)
    recorded = re.search(r'<pre id="js-errors">([^<]*)</pre>', loaded.dom)
    assert recorded is not None and "no_such_function is not defined" in recorded[1]
