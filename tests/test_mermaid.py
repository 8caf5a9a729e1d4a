"""The Mermaid picture of the estate: safe ids and labels, colours, calls, risks, size caps."""

from __future__ import annotations

import re

from pydantic import TypeAdapter

from asm_mode_advisor.render import mermaid
from asm_mode_advisor.report import (
    NamespaceTraffic,
    NamespaceVerdict,
    Reason,
    Report,
    Summary,
    TrafficPeer,
    TrafficSummary,
    Waypoint,
)

WAYPOINT = TypeAdapter(Waypoint)
VERDICTS = ("sidecar", "ambient", "ambient-waypoint", "not-applicable")
NODE = re.compile(r'^  (n\d+|m\d+)(\[|\{\{|\(\[)"(.*)"(\]|\}\}|\]\)):::(\w+)$')
EDGE = re.compile(r'^  (n\d+) -->\|"([^"]*)"\| (n\d+)$')


def reason(namespace: str, rule_id: str, severity: str, message: str = "") -> Reason:
    return Reason(rule_id=rule_id, rule_name="rule", title="title", severity=severity,
                  effect="info", message=f"{rule_id} in {namespace}{message}",
                  matrix_rows=("N-MIXED",))


def peer(namespace: str, mode: str, rps: float | None = None) -> TrafficPeer:
    return TrafficPeer(namespace=namespace, protocol="http" if rps else "tcp",
                       requests_per_second=rps, source="metrics" if rps else "manifests",
                       mode=mode)


def estate(count: int, message: str = "") -> Report:
    """``count`` namespaces of every verdict, each called by the one before it, with findings.

    Every 7th is a waypoint namespace whose sidecar caller skips its waypoint (AMA430); every
    11th has an error, every 5th a warning.
    """
    names = [f"ns-{i:04d}" for i in range(count)]
    verdicts = []
    for i, name in enumerate(names):
        recommendation = "ambient-waypoint" if i % 7 == 0 else VERDICTS[i % 4]
        reasons = [reason(name, "AMA203", "note", message)]
        if i % 11 == 0:
            reasons.append(reason(name, "AMA501", "error", message))
        if i % 5 == 0:
            reasons.append(reason(name, "AMA111", "warning", message))
        callers: tuple[TrafficPeer, ...] = ()
        if i:
            caller_mode = "sidecar" if i % 7 == 0 else "ambient"
            callers = (peer(names[i - 1], caller_mode, 2.5 if i % 3 == 0 else None),)
            if i % 7 == 0:
                reasons.append(reason(name, "AMA430", "warning", message))
        waypoints = ((WAYPOINT.validate_python({"name": "waypoint", "for": "service"}),)
                     if recommendation == "ambient-waypoint" else ())
        verdicts.append(NamespaceVerdict(
            name=name, current_mode="sidecar", recommendation=recommendation,
            summary="l4-only-namespace", reasons=reasons, waypoints=waypoints,
            traffic=NamespaceTraffic(evidence="manifests", callers=callers)))
    by_recommendation: dict[str, int] = {}
    for verdict in verdicts:
        by_recommendation[verdict.recommendation] = (
            by_recommendation.get(verdict.recommendation, 0) + 1)
    summary = Summary(namespaces=count, objects=count * 3, by_recommendation=by_recommendation,
                      by_kind={"Service": count}, traffic=TrafficSummary(
                          evidence="manifests", calls=max(count - 1, 0)))
    return Report(mesh_version="1.25", namespaces=verdicts, summary=summary)


def test_small_estate_draws_every_namespace_and_call_with_its_colour() -> None:
    chart = mermaid.flowchart(estate(8))
    nodes = [m for line in chart.lines if (m := NODE.match(line))]
    assert len(nodes) == 8
    assert {m.group(5) for m in nodes} == {"sidecar", "ambient", "waypoint", "na"}
    assert {line.split()[1] for line in chart.lines if "classDef" in line} >= {
        "sidecar", "ambient", "waypoint", "na"}
    edges = [line for line in chart.lines if EDGE.match(line)]
    assert len(edges) == 7
    assert chart.caption.startswith("All 8 namespace(s) drawn; 7 call(s)")


def test_waypoint_namespaces_are_hexagons_naming_their_waypoint() -> None:
    chart = mermaid.flowchart(estate(8))
    (first,) = [line for line in chart.lines if '"ns-0000' in line]
    assert first.startswith("  n") and '{{"ns-0000' in first and "waypoint: waypoint" in first


def test_sidecar_caller_of_a_skipped_waypoint_is_a_thick_red_edge() -> None:
    chart = mermaid.flowchart(estate(8))
    edges = [line for line in chart.lines if "-->" in line]
    risky = [i for i, line in enumerate(edges) if "skips waypoint" in line]
    assert risky == [0]  # riskiest first: ns-0006 (sidecar) calls ns-0007, a waypoint
    assert f"  linkStyle 0 {mermaid.RISK_STYLE}" in chart.lines
    assert "Red arrows (1)" in chart.caption


def test_measured_rate_is_on_the_edge() -> None:
    assert any('"http 2.5 rps"' in line for line in mermaid.flowchart(estate(8)).lines)


def test_without_traffic_there_are_no_edges() -> None:
    report = estate(6)
    report = report.model_copy(update={"namespaces": [
        NamespaceVerdict(name=v.name, current_mode=v.current_mode,
                         recommendation=v.recommendation, summary=v.summary)
        for v in report.namespaces]})
    chart = mermaid.flowchart(report)
    assert not any("-->" in line or "linkStyle" in line for line in chart.lines)
    assert "no calls between namespaces known" in chart.caption


def test_hostile_names_cannot_break_the_label_or_the_fence() -> None:
    name = 'a"]:::x\n%%`<b>#|```'
    assert mermaid.label(name) == "a#34;#93;:::x#92;x0a#37;#37;#96;#60;b#62;#35;#124;#96;#96;#96;"
    report = estate(3)
    report = report.model_copy(update={"namespaces": [
        NamespaceVerdict(name=name, current_mode="sidecar", recommendation="ambient",
                         summary="x"), *report.namespaces[1:]]})
    lines = mermaid.flowchart(report).lines
    assert all(NODE.match(line) or EDGE.match(line) or line.startswith(
        ("flowchart", "  classDef", "  linkStyle")) for line in lines)
    text = "\n".join(lines)
    assert not any(mark in text for mark in ("`", "<b>", "%%", "]:::x"))
    assert all(line.count('"') == 2 for line in lines if NODE.match(line))


def test_large_estate_stays_within_mermaid_limits_and_says_what_is_left_out() -> None:
    report = estate(2_000)
    chart = mermaid.flowchart(report)
    text = "\n".join(chart.lines)
    assert len(text) <= mermaid.MAX_CHARS < 50_000
    edges = [line for line in chart.lines if "-->" in line]
    assert 0 < len(edges) <= mermaid.MAX_EDGES < 500
    nodes = [line for line in chart.lines if NODE.match(line) and line.startswith("  n")]
    more = [line for line in chart.lines if line.startswith("  m")]
    assert len(nodes) <= mermaid.MAX_NODES
    counted = sum(int(m.group(1)) for line in more if (m := re.search(r'"(\d+) more', line)))
    assert len(nodes) + counted == 2_000  # every namespace is drawn or counted
    assert re.match(r"\d+ of 2000 namespace\(s\) drawn; \d+ of 1999 call\(s\)", chart.caption)
    assert "left out" in chart.caption
    # Risky calls are drawn first, so none is lost while a plain one is drawn.
    assert all("skips waypoint" in line for line in edges[:20])


def test_a_small_budget_shrinks_the_picture() -> None:
    chart = mermaid.flowchart(estate(200), max_chars=3_000)
    assert len("\n".join(chart.lines)) <= 3_000
    assert "of 200 namespace(s) drawn" in chart.caption


def test_same_input_same_picture() -> None:
    assert mermaid.flowchart(estate(300)) == mermaid.flowchart(estate(300))
