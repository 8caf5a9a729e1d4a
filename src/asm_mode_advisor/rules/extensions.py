"""Extensibility: WasmPlugin needs a waypoint; EnvoyFilter on app pods has no ambient form."""

from __future__ import annotations

from collections.abc import Iterator

from asm_mode_advisor.model import Resource
from asm_mode_advisor.rules._base import Context, Detector, Finding, Rule, specs
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.rules.gateways import gateway_bound
from asm_mode_advisor.views import EnvoyFilter, WasmPlugin

#: EnvoyFilter patch contexts that reach application proxies.
APP_CONTEXTS = frozenset({"SIDECAR_INBOUND", "SIDECAR_OUTBOUND", "ANY", ""})

WASM = Rule(
    id="AMA130", name="wasm-plugin",
    title="WasmPlugin needs a waypoint",
    need="wasm-extension", kinds=("WasmPlugin",),
    reads=specs("WasmPlugin"),
    rationale=(
        "WasmPlugins run inside an Envoy. In ambient the only Envoy in the path is the "
        "waypoint, which reads WasmPlugins through `targetRefs` (it ignores `selector`; "
        "https://istio.io/latest/docs/ambient/migrate/migrate-policies/). One bound to a "
        "gateway runs in the gateway's Envoy in both modes (AMA413)."),
    triggers=("""
apiVersion: extensions.istio.io/v1alpha1
kind: WasmPlugin
metadata: {name: header-filter, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  url: oci://registry.example.com/filters/header:1.0
""",),
)

ENVOYFILTER_WAYPOINT = Rule(
    id="AMA131", name="envoyfilter-on-waypoint",
    title="EnvoyFilter attached to a waypoint is high risk (Alpha)",
    need="waypoint-envoyfilter",
    rows=("U-ENVOYFILTER-AMBIENT", "L-EXTENSIBILITY"), kinds=("EnvoyFilter",),
    reads=specs("EnvoyFilter"),
    rationale=(
        "EnvoyFilter with `targetRefs` to a waypoint Gateway or Service is Alpha and its "
        "behaviour changed between releases (off in 1.26, back in 1.27). It needs a waypoint "
        "and a test on the exact ASM version; prefer a first-class API or WasmPlugin (the "
        "migration guide says EnvoyFilter is not supported on waypoints: "
        "https://istio.io/latest/docs/ambient/migrate/migrate-policies/)."),
    triggers=("""
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: lua, namespace: shop}
spec:
  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
  configPatches:
  - applyTo: HTTP_FILTER
    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.lua}}
""",),
)

ENVOYFILTER_SIDECAR = Rule(
    id="AMA301", name="envoyfilter-app-pods",
    title="EnvoyFilter aimed at application sidecars has no ambient equivalent",
    need="sidecar-envoyfilter",
    rows=("U-ENVOYFILTER-AMBIENT", "L-EXTENSIBILITY"), kinds=("EnvoyFilter",),
    reads=specs("EnvoyFilter"),
    rationale=(
        "An EnvoyFilter that patches application sidecars (a workloadSelector on app pods, "
        "or namespace-wide with SIDECAR_* or ANY contexts) is silently ignored after moving "
        "to ambient: there is no sidecar left to patch. Keep the namespace on sidecars until "
        "the filter is replaced (WasmPlugin, a first-class API) or deleted "
        "(https://istio.io/latest/docs/ambient/migrate/migrate-policies/)."),
    triggers=("""
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: ratelimit, namespace: shop}
spec:
  workloadSelector: {labels: {app: cart}}
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: SIDECAR_INBOUND}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.local_ratelimit}}
""",),
    passes=("""
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: gateway-lua, namespace: istio-system}
spec:
  workloadSelector: {labels: {istio: ingressgateway}}
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: GATEWAY}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.lua}}
""",),
)

RULES = (WASM, ENVOYFILTER_WAYPOINT, ENVOYFILTER_SIDECAR)


def detect_wasm(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Every WasmPlugin outside the root namespace needs a waypoint where its workloads go."""
    for resource in inventory.of_kind("WasmPlugin"):
        plugin = WasmPlugin(resource)
        if gateway_bound(inventory, resource) is not None:
            continue  # aimed at a gateway's own Envoy, not at application traffic (AMA413)
        url = plugin.url
        yield WASM.finding(resource, f"{plugin.ref} extends the proxy with Wasm"
                                     + (f" ({url})" if url else ""),
                           services=inventory.policy_services(resource), path=("spec",))


def detect_envoy_filters(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """EnvoyFilters on waypoints (risky) and on application sidecars (blocker)."""
    for resource in inventory.of_kind("EnvoyFilter"):
        envoy_filter = EnvoyFilter(resource)
        if gateway_bound(inventory, resource) is not None:
            continue  # an ingress/egress gateway Envoy, which exists in both modes (AMA413)
        if envoy_filter.target_refs:
            yield ENVOYFILTER_WAYPOINT.finding(
                resource, f"{envoy_filter.ref} patches a waypoint via targetRefs",
                services=envoy_filter.targeted_services, path=("spec", "targetRefs"))
            continue
        labels = envoy_filter.selector_labels
        contexts = [(index, context or "ANY") for index, context in envoy_filter.patch_contexts
                    if context in APP_CONTEXTS]
        if not contexts:
            continue
        index, context = contexts[0]
        namespace = resource.namespace or inventory.default_namespace
        if labels and namespace == inventory.root_namespace:
            # A root-namespace filter with a selector patches matching pods in every namespace.
            yield from _root_selector_findings(resource, labels, context, index, inventory)
            continue
        if labels:
            if not inventory.select_workloads(namespace, labels) and inventory.has_workloads(
                    namespace):
                continue  # selects nothing that runs here
            scope = "the selected workloads"
        elif namespace == inventory.root_namespace:
            scope = "every sidecar in the mesh"
        else:
            scope = f"every sidecar in namespace {namespace}"
        yield ENVOYFILTER_SIDECAR.finding(
            resource,
            f"{envoy_filter.ref} patches {scope} ({context}); ambient has no sidecar to patch",
            services=inventory.policy_services(resource),
            path=("spec", "configPatches", index),
            mesh_wide=not labels and namespace == inventory.root_namespace)


def _root_selector_findings(envoy_filter: Resource, labels: dict[str, str], context: str,
                            index: int, inventory: ScopedInventory) -> Iterator[Finding]:
    """One finding per namespace whose workloads a root-namespace EnvoyFilter selects."""
    hit = False
    for namespace in inventory.namespaces:
        workloads = inventory.select_workloads(namespace, labels)
        if not workloads:
            continue
        hit = True
        names = ", ".join(sorted(w.resource.name for w in workloads))
        yield ENVOYFILTER_SIDECAR.finding(
            envoy_filter, f"{envoy_filter.ref} (root namespace) patches {names} "
                          f"({context}); ambient has no sidecar to patch",
            namespace=namespace, services=inventory.services_of_workloads(namespace, workloads),
            workloads=[w.resource.name for w in workloads],
            path=("spec", "configPatches", index))
    if not hit:
        yield ENVOYFILTER_SIDECAR.finding(
            envoy_filter, f"{envoy_filter.ref} (root namespace) patches sidecars labelled "
                          f"{labels} ({context}) in any namespace; ambient has no sidecar to "
                          "patch", path=("spec", "configPatches", index))


DETECTORS = (
    Detector(detect_wasm, (WASM,)),
    Detector(detect_envoy_filters, (ENVOYFILTER_WAYPOINT, ENVOYFILTER_SIDECAR)),
)
