"""Telemetry: tracing and access logs need a waypoint; metrics-only Telemetry needs nothing."""

from __future__ import annotations

import pytest

from asm_mode_advisor.analysis import Analysis
from support import analysis_from

APP = """
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  template:
    metadata: {labels: {app: cart}}
    spec: {containers: [{name: app, image: cart:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {selector: {app: cart}, ports: [{name: http, port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
"""


def telemetry(spec: str, namespace: str = "shop") -> Analysis:
    analysis = analysis_from(APP + "---\napiVersion: telemetry.istio.io/v1\nkind: Telemetry\n"
                             f"metadata: {{name: t, namespace: {namespace}}}\nspec:\n{spec}")
    assert analysis.report.errors == []
    return analysis


def recommendation(analysis: Analysis, namespace: str = "shop") -> str:
    return next(v.recommendation for v in analysis.report.namespaces if v.name == namespace)


@pytest.mark.parametrize(("spec", "label", "path"), [
    ("  tracing: [{providers: [{name: otel}], randomSamplingPercentage: 5}]\n", "tracing",
     ("spec", "tracing")),
    ("  accessLogging: [{providers: [{name: envoy}]}]\n", "access logging",
     ("spec", "accessLogging")),
    ("  tracing: [{providers: [{name: otel}]}]\n  accessLogging: [{providers: [{name: e}]}]\n",
     "tracing and access logging", ("spec", "tracing")),
])
def test_tracing_or_access_logging_needs_a_waypoint(spec: str, label: str,
                                                    path: tuple[str, ...]) -> None:
    analysis = telemetry(spec)
    found = [f for f in analysis.findings if f.rule.id == "AMA120"]
    assert len(found) == 1
    assert found[0].message.endswith(f"configures {label}")
    assert found[0].path == path
    assert found[0].rows == ("L-OBSERVABILITY", "M-OBSERVABILITY")
    assert found[0].services == ("cart", "web")
    assert recommendation(analysis) == "ambient-waypoint"


def test_selector_limits_the_services() -> None:
    analysis = telemetry("  selector: {matchLabels: {app: cart}}\n"
                         "  tracing: [{providers: [{name: otel}]}]\n")
    assert [f.services for f in analysis.findings if f.rule.id == "AMA120"] == [("cart",)]


def test_metrics_only_telemetry_needs_nothing() -> None:
    analysis = telemetry("  metrics: [{providers: [{name: prometheus}]}]\n")
    assert [f for f in analysis.findings if f.rule.id == "AMA120"] == []
    assert recommendation(analysis) == "ambient"


def test_disabled_or_empty_sections_need_nothing() -> None:
    analysis = telemetry("  tracing: []\n  accessLogging: []\n")
    assert [f for f in analysis.findings if f.rule.id == "AMA120"] == []


def test_root_namespace_telemetry_is_a_mesh_default_not_a_waypoint_need() -> None:
    analysis = telemetry("  accessLogging: [{providers: [{name: envoy}]}]\n",
                         namespace="istio-system")
    assert [f for f in analysis.findings if f.rule.id == "AMA120"] == []
    notes = [f for f in analysis.findings if f.rule.id == "AMA411"]
    assert len(notes) == 1 and notes[0].namespace is None
    assert "for the whole mesh" in notes[0].message
    assert recommendation(analysis) == "ambient"



# --- Telemetry that only switches data off is no L7 need (issue 14, point 2) -------------

@pytest.mark.parametrize("spec", [
    "  accessLogging: [{disabled: true}]\n",
    "  accessLogging: [{providers: [{name: envoy}], disabled: true}]\n",
    "  tracing: [{randomSamplingPercentage: 0}]\n",
    "  tracing: [{randomSamplingPercentage: 0.0}]\n",
    "  tracing: [{disableSpanReporting: true}]\n",
    "  metrics: [{overrides: [{disabled: true}]}]\n",
    "  accessLogging: [{disabled: true}]\n  tracing: [{disableSpanReporting: true}]\n",
], ids=["logs-off", "logs-provider-off", "sampling-0", "sampling-0.0", "spans-off",
        "metrics-off", "both-off"])
def test_telemetry_that_only_switches_off_needs_nothing(spec: str) -> None:
    for namespace in ("shop", "istio-system"):
        analysis = telemetry(spec, namespace=namespace)
        assert [f.rule.id for f in analysis.findings
                if f.rule.id in ("AMA120", "AMA411")] == [], namespace
    assert recommendation(telemetry(spec)) == "ambient"


@pytest.mark.parametrize(("spec", "label"), [
    ("  accessLogging: [{disabled: true}]\n  tracing: [{randomSamplingPercentage: 10}]\n",
     "tracing"),
    ("  accessLogging: [{disabled: false, providers: [{name: envoy}]}]\n"
     "  tracing: [{disableSpanReporting: true}]\n", "access logging"),
    ("  tracing: [{randomSamplingPercentage: 0}, {providers: [{name: otel}]}]\n", "tracing"),
], ids=["logs-off-tracing-on", "logs-on-spans-off", "one-entry-on"])
def test_an_enabling_section_still_counts(spec: str, label: str) -> None:
    analysis = telemetry(spec)
    found = [f for f in analysis.findings if f.rule.id == "AMA120"]
    assert len(found) == 1 and found[0].message.endswith(f"configures {label}")
    assert recommendation(analysis) == "ambient-waypoint"
