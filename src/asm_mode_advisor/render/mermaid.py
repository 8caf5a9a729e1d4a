"""The estate as a Mermaid ``flowchart`` for the pull-request comment (GitHub renders it).

One node per namespace, coloured by its recommendation; a hexagon when it gets a waypoint;
an arrow per pair of namespaces that call each other (from ``traffic.callers``), red and thick
when the caller stays on sidecars and so skips the destination's waypoint (AMA430). Large
estates are cut by construction: the most telling namespaces are drawn, the others are counted
in one "more" box per verdict, and the caption says what was left out. Mermaid's own caps
(``maxTextSize`` 50,000 characters, ``maxEdges`` 500) are never reached.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from asm_mode_advisor.report import NamespaceVerdict, Report
from asm_mode_advisor.text import clip, safe_line

#: Well under Mermaid's maxTextSize (50,000) and maxEdges (500), and small enough to leave
#: most of a 65,536-character comment to the findings.
MAX_CHARS = 20_000
MAX_NODES = 120
MAX_EDGES = 250
#: The rule whose destination's calls are drawn as a risk.
SKIPS_WAYPOINT = "AMA430"

#: Class per recommendation: fill, stroke, text colour (readable in light and dark themes).
CLASSES = {
    "sidecar": ("sidecar", "#dbeafe", "#1d4ed8", "#0b1f4d"),
    "ambient": ("ambient", "#dcfce7", "#15803d", "#052e16"),
    "ambient-waypoint": ("waypoint", "#fef3c7", "#b45309", "#451a03"),
    "not-applicable": ("na", "#f3f4f6", "#6b7280", "#1f2937"),
}
#: Peers outside the input, and any recommendation this module does not know.
OTHER = ("other", "#ffffff", "#6b7280", "#1f2937")
RISK_STYLE = "stroke:#dc2626,stroke-width:3px,color:#991b1b"
#: Characters kept as they are in a label; any other is written as a ``#NNN;`` entity code.
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:/+=()'-")


def label(text: str, limit: int = 70) -> str:
    r"""``text`` as the inside of a quoted Mermaid label: nothing in it is syntax or markup.

    Control characters are first shown as ``\xNN``; then every character but letters, digits
    and a few marks becomes a decimal entity code (``#35;`` for ``#``), so quotes, brackets,
    pipes, backticks (which would close the Markdown fence), ``<`` and ``%%`` are inert.
    """
    return "".join(c if c in _PLAIN else f"#{ord(c)};" for c in safe_line(clip(text, limit)))


@dataclass
class Call:
    """Every call from one namespace to another, merged: protocols, measured rate, risk."""

    source: str
    target: str
    protocols: set[str] = field(default_factory=set)
    rps: float | None = None
    risky: bool = False

    def text(self) -> str:
        """The edge label: protocols, the measured rate, and the risk when there is one."""
        words = ["/".join(sorted(self.protocols))]
        if self.rps is not None:
            words.append(f"{self.rps:.3g} rps")
        if self.risky:
            words.append("skips waypoint")
        return " ".join(words)


@dataclass(frozen=True)
class Flowchart:
    """The diagram's lines (without the fence) and a caption saying what it leaves out."""

    lines: list[str]
    caption: str


def calls(report: Report) -> list[Call]:
    """Calls between namespaces, one per (caller, callee), riskiest and busiest first."""
    merged: dict[tuple[str, str], Call] = {}
    for verdict in report.namespaces:
        if verdict.traffic is None:
            continue
        skipped = any(r.rule_id == SKIPS_WAYPOINT for r in verdict.reasons)
        for peer in verdict.traffic.callers:
            if peer.namespace == verdict.name:
                continue  # calls inside a namespace are not part of the estate's picture
            call = merged.setdefault((peer.namespace, verdict.name),
                                     Call(peer.namespace, verdict.name))
            call.protocols.add(peer.protocol)
            if peer.requests_per_second is not None:
                call.rps = (call.rps or 0.0) + peer.requests_per_second
            call.risky |= skipped and peer.mode == "sidecar"
    return sorted(merged.values(),
                  key=lambda c: (not c.risky, -(c.rps or 0.0), c.source, c.target))


def _priority(verdicts: list[NamespaceVerdict], edges: list[Call]) -> list[str]:
    """Namespace names, most telling first: at a risky call, at any call, not plain ambient."""
    risky = {n for c in edges if c.risky for n in (c.source, c.target)}
    called = {n for c in edges for n in (c.source, c.target)}
    known = {v.name: i for i, v in enumerate(verdicts)}
    plain = {v.name for v in verdicts if v.recommendation == "ambient"}
    names = sorted(known.keys() | called,
                   key=lambda n: (n not in risky, n not in called, n in plain,
                                  known.get(n, len(known)), n))
    return names


def _node(node_id: str, verdict: NamespaceVerdict | None, name: str) -> str:
    if verdict is None:
        return f'  {node_id}["{label(name)}<br/>not in the input"]:::{OTHER[0]}'
    css = CLASSES.get(verdict.recommendation, OTHER)[0]
    parts = [label(name), label(f"{verdict.current_mode} → {verdict.recommendation}")]
    if verdict.waypoints:
        names = [w.name for w in verdict.waypoints]
        more = f" +{len(names) - 2}" if len(names) > 2 else ""
        parts.append(label("waypoint: " + ", ".join(names[:2]), 50) + more)
    text = "<br/>".join(parts)
    shape = ("{{", "}}") if verdict.waypoints else ("[", "]")
    return f'  {node_id}{shape[0]}"{text}"{shape[1]}:::{css}'


def _more_node(node_id: str, recommendation: str, count: int) -> str:
    css = CLASSES.get(recommendation, OTHER)[0]
    return f'  {node_id}(["{count} more: {label(recommendation)}"]):::{css}'


def _header() -> list[str]:
    lines = ["flowchart LR"]
    for css, fill, stroke, color in (*CLASSES.values(), OTHER):
        lines.append(f"  classDef {css} fill:{fill},stroke:{stroke},color:{color}")
    return lines


def _size(lines: Iterable[str]) -> int:
    return sum(len(line) + 1 for line in lines)


def _pick_nodes(report: Report, edges: list[Call], room: int,
                max_nodes: int) -> tuple[dict[str, str], list[str], int]:
    """Node ids and lines, most telling namespaces first, while they fit in ``room``."""
    verdicts = {v.name: v for v in report.namespaces}
    ids: dict[str, str] = {}
    lines: list[str] = []
    for name in _priority(report.namespaces, edges):
        node_id = f"n{len(ids) + 1}"
        line = _node(node_id, verdicts.get(name), name)
        if len(ids) >= max_nodes or len(line) + 1 > room:
            break
        ids[name] = node_id
        lines.append(line)
        room -= len(line) + 1
    return ids, lines, room


def _pick_edges(edges: list[Call], ids: dict[str, str], room: int,
                max_edges: int) -> tuple[list[str], list[int]]:
    """Edge lines between drawn nodes, in order, and the indexes of the risky ones."""
    lines: list[str] = []
    risky: list[int] = []
    for call in edges:
        if len(lines) >= max_edges:
            break
        if call.source not in ids or call.target not in ids:
            continue
        line = f'  {ids[call.source]} -->|"{label(call.text())}"| {ids[call.target]}'
        # A risky edge also adds its index to the linkStyle line.
        cost = len(line) + 1 + (len(str(len(lines))) + 1 if call.risky else 0)
        if cost > room:
            break
        if call.risky:
            risky.append(len(lines))
        lines.append(line)
        room -= cost
    return lines, risky


def flowchart(report: Report, max_chars: int = MAX_CHARS, max_nodes: int = MAX_NODES,
              max_edges: int = MAX_EDGES) -> Flowchart:
    """The estate as a flowchart of at most ``max_chars`` characters (fence not counted).

    Namespaces are added most telling first while they fit, room being kept for the "more"
    boxes and the style line; then the calls between drawn namespaces, riskiest and busiest
    first.
    """
    edges = calls(report)
    header = _header()
    kinds = sorted({v.recommendation for v in report.namespaces})
    # The "more" boxes at their widest (any count) and the linkStyle line without indexes.
    reserve = (_size(_more_node(f"m{len(kinds)}", kind, 10 ** 9) for kind in kinds)
               + len(f"  linkStyle  {RISK_STYLE}") + 1)
    ids, node_lines, room = _pick_nodes(report, edges, max_chars - _size(header) - reserve,
                                        max_nodes)
    edge_lines, risky = _pick_edges(edges, ids, room, max_edges)
    left: dict[str, int] = {}
    for verdict in report.namespaces:
        if verdict.name not in ids:
            left[verdict.recommendation] = left.get(verdict.recommendation, 0) + 1
    more = [_more_node(f"m{i}", rec, count) for i, (rec, count) in
            enumerate(sorted(left.items()), start=1)]
    style = [f"  linkStyle {','.join(map(str, risky))} {RISK_STYLE}"] if risky else []
    shown = sum(1 for v in report.namespaces if v.name in ids)  # peers outside the input aside
    return Flowchart([*header, *node_lines, *more, *edge_lines, *style],
                     _caption(report, shown, len(edge_lines), len(edges), len(risky)))


def _caption(report: Report, shown: int, drawn_edges: int, all_edges: int,
             risky: int) -> str:
    total = len(report.namespaces)
    parts = [f"{shown} of {total} namespace(s) drawn" if shown < total
             else f"All {total} namespace(s) drawn"]
    evidence = report.summary.traffic.evidence if report.summary.traffic else "none"
    if all_edges:
        source = "measured by Prometheus" if evidence == "metrics" else "read from the manifests"
        parts.append(f"{drawn_edges} of {all_edges} call(s) between namespaces ({source})"
                     if drawn_edges < all_edges else f"{all_edges} call(s) between "
                                                     f"namespaces ({source})")
    else:
        parts.append("no calls between namespaces known")
    text = "; ".join(parts) + "."
    if shown < total or drawn_edges < all_edges:
        text += (" The namespaces left out are counted in the \"more\" boxes; calls to them "
                 "are not drawn. See the full report artifact.")
    if risky:
        text += (f" Red arrows ({risky}): callers on sidecars that skip the "
                 f"destination's waypoint and its L7 policy ({SKIPS_WAYPOINT}).")
    return text
