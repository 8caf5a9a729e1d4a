"""The estate as a picture: namespaces as boxes in columns, calls as arrows, as SVG text.

The layout is computed here, in Python, so the picture needs no script and no library: a
call graph is layered by longest path (callers left of their callees), its cycles broken
deterministically first; boxes without any call are set in a grid below. Every string put in
the SVG is escaped. Only the boxes (and the calls between them) are drawn; the caller picks
which, so that a large estate keeps a bounded picture.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from asm_mode_advisor.text import clip, safe_line

BOX_W, BOX_H = 180, 30
COL_GAP, ROW_GAP, PAD = 90, 12, 16
HEAD_H = 26  # a column heading (the plan's waves)
LABEL_CHARS = 24
MAX_COLUMNS = 8  # columns side by side; more fold into a band below
GRID_COLUMNS, GRID_GAP = 6, 16  # boxes with no call: a grid under the columns
#: Verdicts with a colour of their own (the page's CSS); anything else is drawn as unknown.
VERDICTS = ("ambient", "ambient-waypoint", "sidecar", "not-applicable")


@dataclass(frozen=True, slots=True)
class Box:
    """One namespace to draw: its name, verdict, link target and whether it fails the gate."""

    name: str
    verdict: str
    href: str | None = None
    failing: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class Arrow:
    """A call from one box to another; ``risky`` calls are drawn in the warning colour."""

    source: str
    target: str
    risky: bool = False
    note: str = ""


def esc(text: str) -> str:
    """Any text as HTML/SVG character data or attribute value, on one harmless line."""
    return html.escape(safe_line(text), quote=True)


def verdict_class(verdict: str) -> str:
    """The CSS class of a verdict's colour (``v-unknown`` for one not in :data:`VERDICTS`)."""
    return f"v-{verdict}" if verdict in VERDICTS else "v-unknown"


def _successors(names: Sequence[str], arrows: Iterable[Arrow]) -> dict[str, list[str]]:
    known = set(names)
    succ: dict[str, set[str]] = {name: set() for name in names}
    for arrow in arrows:
        if arrow.source in known and arrow.target in known and arrow.source != arrow.target:
            succ[arrow.source].add(arrow.target)
    return {name: sorted(targets) for name, targets in succ.items()}


def _back_edges(succ: dict[str, list[str]]) -> tuple[list[str], set[tuple[str, str]]]:
    """Depth-first search in name order: its post-order and the edges that close a cycle."""
    state: dict[str, int] = {}  # 1: on the stack, 2: done
    post: list[str] = []
    back: set[tuple[str, str]] = set()
    for root in sorted(succ):
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ[root]))]
        while stack:
            node, targets = stack[-1]
            for target in targets:
                seen = state.get(target)
                if seen is None:
                    state[target] = 1
                    stack.append((target, iter(succ[target])))
                    break
                if seen == 1:
                    back.add((node, target))
            else:
                state[node] = 2
                post.append(node)
                stack.pop()
    return post, back


def layers(names: Sequence[str], arrows: Iterable[Arrow]) -> dict[str, int]:
    """Each name's column: the longest path to it from a namespace nobody calls.

    Calls that close a cycle (found by a depth-first search in name order) are left out of
    the layering, so the result is the same for the same graph whatever the input order.
    """
    succ = _successors(names, arrows)
    post, back = _back_edges(succ)
    layer: dict[str, int] = {}
    for node in reversed(post):  # a topological order of the graph without back edges
        here = layer.setdefault(node, 0)
        for target in succ[node]:
            if (node, target) not in back:
                layer[target] = max(layer.get(target, 0), here + 1)
    return layer


def columns(names: Sequence[str], arrows: Sequence[Arrow]) -> list[list[str]]:
    """Names in layered columns, each column ordered by its callers' mean row, then name."""
    layer = layers(names, arrows)
    preds: dict[str, list[str]] = {name: [] for name in names}
    for source, targets in _successors(names, arrows).items():
        for target in targets:
            if layer[source] < layer[target]:
                preds[target].append(source)
    out: list[list[str]] = [[] for _ in range(max(layer.values(), default=-1) + 1)]
    for name in names:
        out[layer[name]].append(name)
    row: dict[str, int] = {}

    def mean_row(name: str) -> tuple[float, str]:
        rows = [row[p] for p in preds[name]]  # callers sit in earlier, placed columns
        return (sum(rows) / len(rows) if rows else 0.0, name)

    for column in out:
        column.sort(key=mean_row)
        row.update((name, position) for position, name in enumerate(column))
    return out


def chosen(boxes: Sequence[Box], arrows: Sequence[Arrow], cap: int) -> list[Box]:
    """At most ``cap`` boxes: those with the most calls first, then by name (input order)."""
    if len(boxes) <= cap:
        return list(boxes)
    degree: dict[str, int] = {}
    for arrow in arrows:
        if arrow.source != arrow.target:
            degree[arrow.source] = degree.get(arrow.source, 0) + 1
            degree[arrow.target] = degree.get(arrow.target, 0) + 1
    ranked = sorted(range(len(boxes)), key=lambda i: (-degree.get(boxes[i].name, 0), i))
    keep = sorted(ranked[:cap])
    return [boxes[i] for i in keep]


@dataclass(frozen=True, slots=True)
class _Placed:
    box: Box
    x: int
    y: int


def _box(placed: _Placed) -> str:
    box = placed.box
    classes = f"b {verdict_class(box.verdict)}" + (" fail" if box.failing else "")
    tip = f"{box.name}: {box.verdict}" + (f" ({box.note})" if box.note else "")
    shape = (f'<g class="{classes}"><title>{esc(tip)}</title>'
             f'<rect x="{placed.x}" y="{placed.y}" width="{BOX_W}" height="{BOX_H}" rx="5"/>'
             f'<text x="{placed.x + 8}" y="{placed.y + 19}">'
             f'{esc(clip(box.name, LABEL_CHARS))}</text></g>')
    if box.href is None:
        return shape
    return f'<a href="{esc(box.href)}">{shape}</a>'


def _arrow(arrow: Arrow, start: _Placed, end: _Placed) -> str:
    x1, y1 = start.x + BOX_W, start.y + BOX_H // 2
    x2, y2 = end.x, end.y + BOX_H // 2
    if x2 <= x1 and end.y > start.y + BOX_H:  # into the next band: down to its top
        x1, x2, y1, y2 = start.x + BOX_W // 2, end.x + BOX_W // 2, start.y + BOX_H, end.y
        middle = (y1 + y2) // 2
        path = f"M{x1},{y1} C{x1},{middle} {x2},{middle} {x2},{y2}"
    elif x2 <= x1:  # a call back to the left (a cycle) leaves and enters from below
        x1, x2 = start.x + BOX_W // 2, end.x + BOX_W // 2
        y1, y2 = start.y + BOX_H, end.y + BOX_H
        bend = max(abs(x1 - x2) // 4, 30)
        path = f"M{x1},{y1} C{x1},{y1 + bend} {x2},{y2 + bend} {x2},{y2}"
    else:
        middle = (x1 + x2) // 2
        path = f"M{x1},{y1} C{middle},{y1} {middle},{y2} {x2},{y2}"
    tip = f"{arrow.source} calls {arrow.target}" + (f": {arrow.note}" if arrow.note else "")
    return (f'<path class="e{" risk" if arrow.risky else ""}" d="{path}">'
            f"<title>{esc(tip)}</title></path>")


def _bands(layout: list[list[Box]], top: int, headed: bool) -> Iterator[tuple[int, int, int]]:
    """Each column's x, its top and its heading's baseline, in bands of :data:`MAX_COLUMNS`.

    A wide layout folds into bands one under the other, so a deep call chain stays on screen.
    """
    for first in range(0, len(layout), MAX_COLUMNS):
        band = layout[first:first + MAX_COLUMNS]
        boxes_top = top + (HEAD_H if headed else 0)
        for index in range(len(band)):
            yield PAD + index * (BOX_W + COL_GAP), boxes_top, top + 14
        rows = max(len(column) for column in band)
        top = boxes_top + rows * (BOX_H + ROW_GAP) + ROW_GAP


def _place(layout: list[list[Box]], loose: Sequence[Box], headed: bool) -> tuple[
        list[_Placed], list[tuple[int, int]], int, int]:
    """Boxes and headings placed; the width and height of the whole picture."""
    spots = list(_bands(layout, PAD, headed))
    placed = [_Placed(box, x, y + row * (BOX_H + ROW_GAP))
              for column, (x, y, _) in zip(layout, spots, strict=True)
              for row, box in enumerate(column)]
    bottom = max((p.y + BOX_H + ROW_GAP * 2 for p in placed), default=PAD)
    per_row = max(min(GRID_COLUMNS, len(loose)), 1)
    placed += [_Placed(box, PAD + (i % per_row) * (BOX_W + GRID_GAP),
                       bottom + (i // per_row) * (BOX_H + ROW_GAP))
               for i, box in enumerate(loose)]
    if loose:
        bottom += -(-len(loose) // per_row) * (BOX_H + ROW_GAP)
    width = PAD * 2 + max(min(len(layout), MAX_COLUMNS) * (BOX_W + COL_GAP) - COL_GAP,
                          per_row * (BOX_W + GRID_GAP) - GRID_GAP)
    return placed, [(x, base) for x, _, base in spots], width, bottom + PAD


def picture(layout: list[list[Box]], arrows: Sequence[Arrow] = (), loose: Sequence[Box] = (),
            headings: Sequence[str] = (), label: str = "") -> Iterator[str]:
    """The SVG of boxes in columns, ``headings`` above them, and ``loose`` boxes in a grid below.

    Arrows are drawn between drawn boxes only (one to a box left out is left out too).
    """
    placed, heads, width, height = _place(layout, loose, bool(headings))
    yield (f'<svg class="estate" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{esc(label)}">'
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker>'
           '<marker id="arrow-risk" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z"/></marker>'
           "</defs>\n")
    for heading, (x, y) in zip(headings, heads, strict=False):
        yield f'<text class="h" x="{x}" y="{y}">{esc(heading)}</text>\n'
    where = {p.box.name: p for p in placed}
    for arrow in arrows:
        start, end = where.get(arrow.source), where.get(arrow.target)
        if start is not None and end is not None and start is not end:
            yield _arrow(arrow, start, end) + "\n"
    for spot in placed:
        yield _box(spot) + "\n"
    yield "</svg>\n"


def estate(boxes: Sequence[Box], arrows: Sequence[Arrow], label: str) -> Iterator[str]:
    """The call graph laid out in layers; boxes with no call among the drawn ones in a grid."""
    by_name = {box.name: box for box in boxes}
    linked = {name for arrow in arrows if arrow.source != arrow.target
              and arrow.source in by_name and arrow.target in by_name
              for name in (arrow.source, arrow.target)}
    names = [box.name for box in boxes if box.name in linked]
    layout = [[by_name[name] for name in column] for column in columns(names, arrows)]
    loose = [box for box in boxes if box.name not in linked]
    return picture(layout, arrows, loose, label=label)
