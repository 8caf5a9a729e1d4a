"""The traffic part of the report: each namespace's callers and callees, and the summary."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from asm_mode_advisor.model import MOVING, Mode
from asm_mode_advisor.report import (
    Benefit,
    NamespaceTraffic,
    NamespaceVerdict,
    TrafficPeer,
    TrafficSummary,
)
from asm_mode_advisor.traffic.costs import load_line
from asm_mode_advisor.traffic.graph import Call, Evidence, TrafficEvidence

#: The section of every namespace nothing calls and that calls nothing (shared, frozen).
NO_CALLS = NamespaceTraffic(evidence="none")
#: Rates are printed to this many decimals so that output stays byte-stable.
DECIMALS = 3


def summary(traffic: TrafficEvidence) -> TrafficSummary:
    """Where the calls came from, for ``summary.traffic``."""
    evidence = traffic.evidence if traffic.graph.calls or traffic.measured else "none"
    return TrafficSummary(evidence=evidence, calls=len(traffic.graph.calls),
                          window=traffic.window or None, prometheus=traffic.prometheus or None,
                          problem=traffic.problem or None)


def attach(verdicts: Iterable[NamespaceVerdict],
           traffic: TrafficEvidence) -> list[NamespaceVerdict]:
    """Each verdict with its ``traffic``: cross-namespace callers and callees, and totals."""
    listed = list(verdicts)
    modes = {v.name: v.recommendation for v in listed}
    graph = traffic.graph
    inbound, outbound = graph.by_destination(), graph.by_source()
    result = []
    for verdict in listed:
        calls_in = inbound.get(verdict.name, [])
        calls_out = outbound.get(verdict.name, [])
        evidence: Evidence = "metrics" if traffic.measured else (
            "manifests" if calls_in or calls_out else "none")
        measured = [c for c in calls_in if c.origin == "metrics"]
        section = NO_CALLS if evidence == "none" else NamespaceTraffic(
            evidence=evidence,
            callers=tuple(_peer(c, c.source_namespace, c.source_workload,
                                c.destination_service, modes)
                          for c in calls_in if c.crosses_namespaces),
            callees=tuple(_peer(c, c.destination_namespace, "", c.destination_service, modes)
                          for c in calls_out if c.crosses_namespaces),
            http_requests_per_second=_total(c.requests_per_second for c in measured)
            if traffic.measured else None,
            tcp_connections_per_second=_total(c.connections_per_second for c in measured)
            if traffic.measured else None)
        line = load_line(graph, verdict.name, verdict.recommendation) if (
            traffic.measured and Mode(verdict.recommendation) in MOVING) else None
        benefits = verdict.benefits if line is None else (
            *verdict.benefits, Benefit(row="M-COST", text=line))
        result.append(dataclasses.replace(verdict, traffic=section, benefits=benefits))
    return result


def _peer(call: Call, namespace: str, workload: str, service: str,
          modes: dict[str, str]) -> TrafficPeer:
    return TrafficPeer(namespace=namespace, workload=workload or None, service=service or None,
                       protocol=call.protocol, source=call.origin,
                       requests_per_second=_rounded(call.requests_per_second),
                       connections_per_second=_rounded(call.connections_per_second),
                       mode=modes.get(namespace, "unknown"))


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, DECIMALS)


def _total(values: Iterable[float | None]) -> float:
    return round(sum(v for v in values if v), DECIMALS)
