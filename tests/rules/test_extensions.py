"""Extensibility: WasmPlugin needs a waypoint; EnvoyFilter on app sidecars keeps sidecars."""

from __future__ import annotations

from asm_mode_advisor.analysis import Analysis
from asm_mode_advisor.rules import Finding
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
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: store}
spec:
  template:
    metadata: {labels: {app: cart}}
    spec: {containers: [{name: app, image: cart:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: other, namespace: quiet}
spec: {selector: {app: other}, ports: [{name: http, port: 80}]}
"""


def run(text: str) -> Analysis:
    analysis = analysis_from(APP + "---\n" + text)
    assert analysis.report.errors == []
    return analysis


def fired(analysis: Analysis, rule_id: str) -> list[Finding]:
    return [f for f in analysis.findings if f.rule.id == rule_id]


def modes(analysis: Analysis) -> dict[str, str]:
    return {v.name: v.recommendation for v in analysis.report.namespaces}


def wasm(selector: str) -> str:
    return ("apiVersion: extensions.istio.io/v1alpha1\nkind: WasmPlugin\n"
            f"metadata: {{name: w, namespace: shop}}\nspec:\n{selector}"
            "  url: oci://example.com/filter:1\n")


def envoy_filter(spec: str, namespace: str = "shop") -> str:
    return ("apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\n"
            f"metadata: {{name: ef, namespace: {namespace}}}\nspec:\n{spec}")


PATCH = ("  configPatches:\n  - applyTo: HTTP_FILTER\n    match: {context: %s}\n"
         "    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.lua}}\n")


def test_wasm_plugin_needs_a_waypoint() -> None:
    analysis = run(wasm("  selector: {matchLabels: {app: cart}}\n"))
    found = fired(analysis, "AMA130")
    assert len(found) == 1
    assert found[0].services == ("cart",)
    assert "oci://example.com/filter:1" in found[0].message
    assert modes(analysis)["shop"] == "ambient-waypoint"


def test_wasm_plugin_on_the_ingress_gateway_needs_nothing() -> None:
    analysis = run(wasm("  selector: {matchLabels: {istio: ingressgateway}}\n"))
    assert fired(analysis, "AMA130") == []
    assert modes(analysis)["shop"] == "ambient"


def test_envoy_filter_on_app_sidecars_blocks_ambient() -> None:
    analysis = run(envoy_filter("  workloadSelector: {labels: {app: cart}}\n"
                                + PATCH % "SIDECAR_INBOUND"))
    found = fired(analysis, "AMA301")
    assert len(found) == 1
    assert found[0].path == ("spec", "configPatches", 0)
    assert found[0].services == ("cart",)
    assert found[0].effect.value == "blocks-ambient"
    assert modes(analysis) == {"quiet": "ambient", "shop": "sidecar", "store": "ambient"}


def test_namespace_wide_envoy_filter_with_any_context_blocks_its_namespace() -> None:
    analysis = run(envoy_filter(PATCH % "ANY"))
    found = fired(analysis, "AMA301")
    assert len(found) == 1 and "every sidecar in namespace shop" in found[0].message
    assert modes(analysis)["shop"] == "sidecar"


def test_envoy_filter_on_the_gateway_needs_nothing() -> None:
    for text in (envoy_filter(PATCH % "GATEWAY"),
                 envoy_filter("  workloadSelector: {labels: {istio: ingressgateway}}\n"
                              + PATCH % "ANY")):
        analysis = run(text)
        assert fired(analysis, "AMA301") == []
        assert modes(analysis)["shop"] == "ambient"


def test_envoy_filter_selecting_nothing_here_needs_nothing() -> None:
    analysis = run(envoy_filter("  workloadSelector: {labels: {app: gone}}\n"
                                + PATCH % "SIDECAR_OUTBOUND"))
    assert fired(analysis, "AMA301") == []


def test_root_namespace_envoy_filter_without_selector_blocks_every_namespace() -> None:
    analysis = run(envoy_filter(PATCH % "SIDECAR_OUTBOUND", namespace="istio-system"))
    found = fired(analysis, "AMA301")
    assert len(found) == 1 and found[0].namespace is None
    assert set(modes(analysis).values()) - {"not-applicable"} == {"sidecar"}


def test_root_namespace_envoy_filter_with_selector_blocks_where_it_matches() -> None:
    analysis = run(envoy_filter("  workloadSelector: {labels: {app: cart}}\n"
                                + PATCH % "SIDECAR_INBOUND", namespace="istio-system"))
    assert sorted(f.namespace or "" for f in fired(analysis, "AMA301")) == ["shop", "store"]
    assert modes(analysis)["shop"] == "sidecar"
    assert modes(analysis)["store"] == "sidecar"
    assert modes(analysis)["quiet"] == "ambient"


def test_envoy_filter_with_target_refs_needs_a_waypoint() -> None:
    analysis = run(envoy_filter(
        "  targetRefs: [{kind: Service, group: '', name: cart}]\n" + PATCH % "WAYPOINT"))
    assert fired(analysis, "AMA301") == []
    found = fired(analysis, "AMA131")
    assert len(found) == 1 and found[0].services == ("cart",)
    assert found[0].path == ("spec", "targetRefs")
    assert modes(analysis)["shop"] == "ambient-waypoint"
