"""Egress: external hosts with L7 configuration, and outbound traffic policy.

In sidecar mode the client sidecar applies routes, TLS origination and traffic policy for an
external host (a ServiceEntry). In ambient ztunnel reads none of them: a waypoint bound to
the ServiceEntry (an egress waypoint) applies them instead. ``REGISTRY_ONLY`` is not
enforced by ztunnel at all.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from asm_mode_advisor.domain import USE_WAYPOINT_LABEL
from asm_mode_advisor.enforcement import Change, Enforcement, Enforcer, same
from asm_mode_advisor.kinds import ISTIO_NETWORKING
from asm_mode_advisor.model import Mode, Resource, Severity, as_dict, as_list, as_str, dicts
from asm_mode_advisor.rules._ambient import AMBIENT_NAMESPACE_EXAMPLE, ambient_namespaces
from asm_mode_advisor.rules._base import Check, Context, Detector, Finding, Rule, specs
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.rules.routing import external_host, policy_keys, vs_features
from asm_mode_advisor.views import DestinationRule, Selecting, VirtualService

#: DestinationRule TLS modes that make the client originate TLS to the external host.
ORIGINATION_MODES = frozenset({"SIMPLE", "MUTUAL"})
REGISTRY_ONLY = "REGISTRY_ONLY"
EGRESS_SOURCE = "https://istio.io/latest/docs/ambient/usage/egress-gateway/"
REGISTRY_SOURCE = "https://github.com/istio/istio/issues/54281"

EGRESS_L7 = Rule(
    id="AMA105", name="egress-l7-config",
    title="Routes, TLS origination or authorization for an external host need an egress "
          "waypoint",
    need="egress-l7", kinds=("ServiceEntry", "VirtualService", "DestinationRule",
                             "AuthorizationPolicy"),
    reads=(*specs("ServiceEntry", "VirtualService", "DestinationRule"),
           "AuthorizationPolicy:spec.targetRefs", "AuthorizationPolicy:spec.targetRef"),
    rationale=(
        "For an external host (a ServiceEntry with `location: MESH_EXTERNAL`, the default) "
        "the client sidecar applies a VirtualService on that host, a DestinationRule's "
        "traffic policy or TLS origination (`tls.mode: SIMPLE` or `MUTUAL`) today. Ztunnel "
        "reads none of them: in ambient a waypoint bound to the ServiceEntry "
        "(`istio.io/use-waypoint`) acts as the egress gateway and applies them, as does an "
        "AuthorizationPolicy whose `targetRefs` name the ServiceEntry "
        f"({EGRESS_SOURCE}). The need goes to the ServiceEntry's namespace, where the egress "
        "waypoint runs; `asm-advisor plan` proposes it."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: cnn, namespace: shop}
spec:
  hosts: [edition.cnn.com]
  location: MESH_EXTERNAL
  ports: [{number: 80, name: http-port, protocol: HTTP, targetPort: 443}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: edition-cnn-com, namespace: shop}
spec:
  host: edition.cnn.com
  trafficPolicy:
    portLevelSettings:
    - port: {number: 80}
      tls: {mode: SIMPLE}
""",),
    passes=("""
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: httpbin-ext, namespace: shop}
spec:
  hosts: [httpbin.org]
  location: MESH_EXTERNAL
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
""",),
)

EGRESS_GATEWAY = Rule(
    id="AMA419", name="egress-gateway-config",
    title="Traffic policy for an external host is applied by the egress gateway",
    need="egress-gateway-routing", kinds=("ServiceEntry", "VirtualService",
                                          "DestinationRule"),
    reads=specs("ServiceEntry", "VirtualService", "DestinationRule"),
    rationale=(
        "When mesh traffic to an external host is routed to an egress gateway, the gateway's "
        "own Envoy sends it on and applies the host's DestinationRule (TLS origination, "
        "connection pool) in both modes. The mesh-side route to the gateway is a "
        "VirtualService that ztunnel ignores (AMA105): in ambient an egress waypoint "
        f"replaces that hop ({EGRESS_SOURCE})."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: cnn, namespace: shop}
spec:
  hosts: [edition.cnn.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: direct-cnn-through-egress-gateway, namespace: shop}
spec:
  hosts: [edition.cnn.com]
  gateways: [istio-egressgateway, mesh]
  http:
  - match: [{gateways: [mesh], port: 80}]
    route:
    - destination: {host: istio-egressgateway.istio-system.svc.cluster.local, port: {number: 80}}
  - match: [{gateways: [istio-egressgateway], port: 80}]
    route:
    - destination: {host: edition.cnn.com, port: {number: 443}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: originate-tls-for-edition-cnn-com, namespace: shop}
spec:
  host: edition.cnn.com
  trafficPolicy:
    portLevelSettings:
    - port: {number: 443}
      tls: {mode: SIMPLE}
""",),
)

REGISTRY_ONLY_ADVICE = Rule(
    id="AMA418", name="registry-only-not-enforced",
    title="outboundTrafficPolicy REGISTRY_ONLY is not enforced by ztunnel",
    need="egress-registry-only", severity=Severity.WARNING,
    kinds=("Sidecar", "IstioOperator"),
    reads=("Sidecar:spec.outboundTrafficPolicy",
           "IstioOperator:spec.meshConfig.outboundTrafficPolicy"),
    rationale=(
        "With `outboundTrafficPolicy.mode: REGISTRY_ONLY` (in a Sidecar resource, or in the "
        "mesh config of an IstioOperator) the client sidecar blocks hosts that no Service or "
        "ServiceEntry declares. Ztunnel does not enforce it "
        f"({REGISTRY_SOURCE}): once the namespace runs ambient its pods reach any external "
        "host. Restrict egress another way before the move (a Kubernetes NetworkPolicy with "
        "egress rules, or an egress waypoint with an AuthorizationPolicy per ServiceEntry). "
        "In a namespace already labelled ambient this is an error (AMA512)."),
    triggers=("""
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
""", """
apiVersion: apps/v1
kind: Deployment
metadata: {name: curl, namespace: shop}
spec:
  template:
    metadata: {labels: {app: curl}}
    spec: {containers: [{name: curl, image: curlimages/curl}]}
---
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec:
  meshConfig:
    outboundTrafficPolicy: {mode: REGISTRY_ONLY}
"""),
    passes=("""
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  outboundTrafficPolicy: {mode: ALLOW_ANY}
""",),
)

REGISTRY_ONLY_AMBIENT = Rule(
    id="AMA512", name="registry-only-in-ambient",
    title="outboundTrafficPolicy REGISTRY_ONLY does nothing in an ambient namespace",
    need="egress-registry-only", severity=Severity.ERROR,
    kinds=("Sidecar", "IstioOperator"),
    reads=("Sidecar:spec.outboundTrafficPolicy",
           "IstioOperator:spec.meshConfig.outboundTrafficPolicy"),
    rationale=(
        "Ztunnel does not enforce `outboundTrafficPolicy.mode: REGISTRY_ONLY` "
        f"({REGISTRY_SOURCE}): pods of a namespace labelled `istio.io/dataplane-mode=ambient` "
        "reach hosts outside the registry although the configuration says they cannot. "
        "Restrict egress with a NetworkPolicy or an egress waypoint."),
    triggers=(AMBIENT_NAMESPACE_EXAMPLE + """apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
""",),
    passes=("""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  outboundTrafficPolicy: {mode: REGISTRY_ONLY}
""",),
)

RULES = (EGRESS_L7, EGRESS_GATEWAY, REGISTRY_ONLY_ADVICE, REGISTRY_ONLY_AMBIENT)

#: What REGISTRY_ONLY does once its pods run ambient.
UNENFORCED_REGISTRY_ONLY = Enforcement(
    today=Enforcer.CLIENT_SIDECAR, after_move=Enforcer.NOBODY, change=Change.NOT_ENFORCED,
    detail="ztunnel lets pods reach hosts outside the registry")
#: The same in a namespace that runs ambient already: nobody applies it today either.
IGNORED_REGISTRY_ONLY = Enforcement(
    today=Enforcer.NOBODY, after_move=Enforcer.NOBODY, change=Change.NOT_ENFORCED,
    detail="ztunnel lets pods reach hosts outside the registry")


@dataclass(frozen=True, slots=True)
class External:
    """External hosts: the ServiceEntries that declare them, by host pattern."""

    entries: tuple[tuple[str, Resource], ...]  # (host pattern, ServiceEntry), in order

    def entry(self, host: str) -> Resource | None:
        """The ServiceEntry that declares ``host`` (exact first, then a wildcard)."""
        host = host.strip().lower()
        exact = next((se for pattern, se in self.entries if pattern == host), None)
        if exact is not None:
            return exact
        return next((se for pattern, se in self.entries if pattern.startswith("*.")
                     and host.endswith(pattern[1:])), None)


def is_external(entry: Resource) -> bool:
    """MESH_EXTERNAL, or no location and no in-mesh workloads behind it."""
    location = as_str(entry.spec.get("location")).upper()
    if location:
        return location == "MESH_EXTERNAL"
    return not as_dict(entry.spec.get("workloadSelector"))


def external_entries(inventory: ScopedInventory) -> External:
    """Every external ServiceEntry's hosts."""
    entries: list[tuple[str, Resource]] = []
    for entry in inventory.of_kind("ServiceEntry", group=ISTIO_NETWORKING):
        if not is_external(entry):
            continue
        entries.extend((as_str(host).strip().lower(), entry)
                       for host in as_list(entry.spec.get("hosts")) if as_str(host))
    return External(entries=tuple(entries))


def _destination_hosts(vs: VirtualService) -> list[str]:
    return [as_str(as_dict(d.get("destination")).get("host"))
            for section in (vs.http_routes, vs.tcp_routes, vs.tls_routes)
            for route in section for d in dicts(route.get("route"))]


def _to_egress_gateway(inventory: ScopedInventory, vs: VirtualService) -> bool:
    """True when the VirtualService sends traffic to an in-cluster egress gateway Service."""
    namespace = vs.resource.namespace or inventory.default_namespace
    for host in _destination_hosts(vs):
        resolved = inventory.resolve_host(host, namespace)
        if resolved is not None and "egressgateway" in resolved[1]:
            return True
    return False


def _bound_today(inventory: ScopedInventory, entry: Resource | None, namespace: str) -> bool:
    """True when an ambient namespace already binds the ServiceEntry to a waypoint."""
    if inventory.current_mode(namespace) is not Mode.AMBIENT:
        return False
    labels = dict(inventory.namespace_objects[namespace].labels) if (
        namespace in inventory.namespace_objects) else {}
    if entry is not None:
        labels.update(entry.labels)
    return labels.get(USE_WAYPOINT_LABEL, "none") != "none"


def _enforcement(inventory: ScopedInventory, entry: Resource | None, namespace: str,
                 today: Enforcer, detail: str) -> Enforcement:
    if _bound_today(inventory, entry, namespace):
        return same(Enforcer.EGRESS_WAYPOINT, detail)
    change = Change.STRICTER if today is Enforcer.NOBODY else Change.SAME
    return Enforcement(today=today, after_move=Enforcer.EGRESS_WAYPOINT, change=change,
                       detail=detail)


def _need(inventory: ScopedInventory, resource: Resource, entry: Resource | None,
          host: str, what: str, today: Enforcer = Enforcer.CLIENT_SIDECAR,
          detail: str = "", path: tuple[str | int, ...] = ()) -> Finding:
    """AMA105 in the ServiceEntry's namespace (or, with none in the input, the object's)."""
    if entry is None:
        namespace = resource.namespace or inventory.default_namespace
        return EGRESS_L7.finding(
            resource, f"{resource.ref} {what} for external host {host}; no ServiceEntry in "
                      "the input declares it, and an egress waypoint needs one",
            namespace=namespace, path=path,
            enforcement=_enforcement(inventory, None, namespace, today, detail))
    namespace = entry.namespace or inventory.default_namespace
    return EGRESS_L7.finding(
        resource, f"{resource.ref} {what} for external host {host} ({entry.ref}); in ambient "
                  f"only an egress waypoint bound to {entry.name} applies it",
        namespace=namespace, services=[entry.name], objects=[entry] if entry is not resource
        else [], path=path,
        enforcement=_enforcement(inventory, entry, namespace, today, detail))


def _vs_findings(inventory: ScopedInventory, external: External,
                 via_gateway: set[str]) -> Iterator[Finding]:
    """Mesh VirtualServices on external hosts (in-mesh hosts are routing's AMA101/AMA102)."""
    for resource in inventory.of_kind("VirtualService", group=ISTIO_NETWORKING):
        vs = VirtualService(resource)
        namespace = resource.namespace or inventory.default_namespace
        hosts = [h for h in vs.hosts if external_host(h)
                 and inventory.resolve_host(h, namespace) is None]
        if not vs.mesh_bound or not hosts:
            continue
        host = hosts[0]
        if host.lower() in via_gateway:
            yield _need(inventory, resource, external.entry(host), host,
                        "routes mesh traffic to the egress gateway",
                        detail="ztunnel does not route to the egress gateway",
                        path=("spec", "hosts"))
            continue
        features = vs_features(vs)
        if features:
            yield _need(inventory, resource, external.entry(host), host,
                        f"routes mesh traffic with {', '.join(features)}",
                        path=("spec", "hosts"))


def _tls_origination(rule: DestinationRule) -> bool:
    policy = rule.traffic_policy
    policies = [policy, *dicts(policy.get("portLevelSettings")),
                *(as_dict(s.get("trafficPolicy")) for s in rule.subsets)]
    return any(as_str(as_dict(p.get("tls")).get("mode")).upper() in ORIGINATION_MODES
               for p in policies)


def _dr_findings(inventory: ScopedInventory, external: External,
                 via_gateway: set[str]) -> Iterator[Finding]:
    for resource in inventory.of_kind("DestinationRule", group=ISTIO_NETWORKING):
        rule = DestinationRule(resource)
        host = rule.host.strip().lower()
        entry = external.entry(host)
        if not external_host(host) or entry is None:
            continue  # no ServiceEntry: the sidecar passes it through and applies no policy
        features = sorted(policy_keys(rule)) + (
            ["TLS origination"] if _tls_origination(rule) else [])
        if not features:
            continue
        if host in via_gateway:
            yield EGRESS_GATEWAY.finding(
                resource, f"{rule.ref} sets {', '.join(features)} for {host}, which is "
                          "routed through an egress gateway: the gateway applies it in both "
                          "modes", namespace=entry.namespace or inventory.default_namespace,
                objects=[entry],
                path=("spec", "trafficPolicy"),
                enforcement=same(Enforcer.GATEWAY, "the egress gateway sends to the host"))
            continue
        yield _need(inventory, resource, entry, host, f"sets {', '.join(features)}",
                    path=("spec", "trafficPolicy"))


def _policy_findings(inventory: ScopedInventory) -> Iterator[Finding]:
    for resource in inventory.of_kind("AuthorizationPolicy"):
        namespace = resource.namespace or inventory.default_namespace
        for index, ref in enumerate(Selecting(resource).target_refs):
            if as_str(ref.get("kind")) != "ServiceEntry":
                continue
            name = as_str(ref.get("name"))
            entry = next((se for se in inventory.of_kind("ServiceEntry", namespace)
                          if se.name == name), None)
            hosts = [as_str(h) for h in as_list(entry.spec.get("hosts"))] if entry else []
            yield _need(inventory, resource, entry, hosts[0] if hosts else name,
                        "authorizes traffic", today=Enforcer.NOBODY,
                        detail="sidecars ignore targetRefs; only a waypoint applies it",
                        path=("spec", "targetRefs", index))


def detect_egress(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """AMA105 and AMA419: L7 configuration on external hosts."""
    external = external_entries(inventory)
    via_gateway = {h.strip().lower()
                   for r in inventory.of_kind("VirtualService", group=ISTIO_NETWORKING)
                   if _to_egress_gateway(inventory, VirtualService(r))
                   for h in VirtualService(r).hosts if external_host(h)}
    yield from _vs_findings(inventory, external, via_gateway)
    yield from _dr_findings(inventory, external, via_gateway)
    yield from _policy_findings(inventory)


@dataclass(frozen=True, slots=True)
class RegistryOnly:
    """One REGISTRY_ONLY setting: where it is, whom it covers (None: the whole mesh)."""

    resource: Resource
    namespace: str | None
    workloads: tuple[str, ...]
    path: tuple[str | int, ...]


def _mode(policy: Any) -> str:
    return as_str(as_dict(policy).get("mode")).upper()


def registry_only(inventory: ScopedInventory) -> Iterator[RegistryOnly]:
    """Sidecar resources and IstioOperator mesh configs that set REGISTRY_ONLY."""
    for resource in inventory.of_kind("IstioOperator"):
        mesh = as_dict(resource.spec.get("meshConfig"))
        if _mode(mesh.get("outboundTrafficPolicy")) == REGISTRY_ONLY:
            yield RegistryOnly(resource, None, (), ("spec", "meshConfig",
                                                    "outboundTrafficPolicy", "mode"))
    for resource in inventory.of_kind("Sidecar", group=ISTIO_NETWORKING):
        if _mode(resource.spec.get("outboundTrafficPolicy")) != REGISTRY_ONLY:
            continue
        namespace = resource.namespace or inventory.default_namespace
        selector = Selecting(resource).selector_labels
        path = ("spec", "outboundTrafficPolicy", "mode")
        if not selector and namespace == inventory.root_namespace:
            yield RegistryOnly(resource, None, (), path)  # the mesh-wide default Sidecar
            continue
        workloads = tuple(w.resource.name for w in inventory.select_workloads(
            namespace, {"matchLabels": selector})) if selector else ()
        yield RegistryOnly(resource, namespace, workloads, path)


def _scope(setting: RegistryOnly, namespace: str | None) -> str:
    if setting.workloads:
        return f"pods of {', '.join(setting.workloads)} in {namespace}"
    return f"pods in {namespace}" if namespace else "its pods"


def _when(namespace: str | None) -> str:
    return f"once {namespace} runs ambient" if namespace else "once a namespace runs ambient"


def detect_registry_only(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """AMA418: REGISTRY_ONLY that ztunnel will not enforce (namespaces not yet ambient)."""
    for setting in registry_only(inventory):
        namespace = setting.namespace
        if namespace is not None and inventory.current_mode(namespace) is Mode.AMBIENT:
            continue  # AMA512 reports it as an error there
        yield REGISTRY_ONLY_ADVICE.finding(
            setting.resource,
            f"{setting.resource.ref} sets outboundTrafficPolicy REGISTRY_ONLY; ztunnel does "
            f"not enforce it, so {_when(namespace)}, {_scope(setting, namespace)} reach any "
            "external host: restrict egress with a NetworkPolicy or an egress waypoint",
            namespace=namespace, mesh_wide=namespace is None, workloads=setting.workloads,
            path=setting.path, enforcement=UNENFORCED_REGISTRY_ONLY)


def check_registry_only(inventory: ScopedInventory, context: Context,
                        detected: Sequence[Finding]) -> Iterator[Finding]:
    """AMA512: REGISTRY_ONLY covering a namespace that runs ambient."""
    ambient = ambient_namespaces(inventory, context, detected)
    if not ambient:
        return
    for setting in registry_only(inventory):
        targets = sorted(ambient) if setting.namespace is None else (
            [setting.namespace] if setting.namespace in ambient else [])
        for namespace in targets:
            yield REGISTRY_ONLY_AMBIENT.finding(
                setting.resource,
                f"{setting.resource.ref} sets outboundTrafficPolicy REGISTRY_ONLY, but "
                f"{namespace} runs ambient and ztunnel does not enforce it: "
                f"{_scope(setting, namespace)} reach any external host",
                namespace=namespace, workloads=setting.workloads, path=setting.path,
                enforcement=IGNORED_REGISTRY_ONLY)


DETECTORS = (
    Detector(detect_egress, (EGRESS_L7, EGRESS_GATEWAY)),
    Detector(detect_registry_only, (REGISTRY_ONLY_ADVICE,)),
)
CHECKS = (Check(check_registry_only, (REGISTRY_ONLY_AMBIENT,)),)
