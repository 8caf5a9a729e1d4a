"""Traffic cost uses Istio's per-1,000-rps figures on the namespace's own side of each call."""

from __future__ import annotations

from asm_mode_advisor.traffic.costs import FIGURES, SOURCE, traffic_cost


def test_figures_and_source() -> None:
    assert SOURCE.startswith("https://istio.io/")
    assert FIGURES["ztunnel"].vcpu < FIGURES["sidecar"].vcpu < FIGURES["waypoint"].vcpu


def test_cost_by_mode() -> None:
    # 1,000 rps in and 1,000 out: two sidecar passes, or two ztunnel passes (+ waypoint in).
    assert traffic_cost("sidecar", 1000, 1000).line() == "400m CPU, 120 MB"
    assert traffic_cost("ambient", 1000, 1000).line() == "120m CPU, 24 MB"
    assert traffic_cost("ambient-waypoint", 1000, 1000).line() == "370m CPU, 84 MB"
    assert traffic_cost("ambient-waypoint", 0, 500).cpu_millicores == 30
    assert traffic_cost("sidecar", -5, 0).cpu_millicores == 0
