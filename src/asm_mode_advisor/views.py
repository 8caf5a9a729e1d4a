"""Typed, read-only views of the kinds the rules read: thin frozen wrappers over the raw body.

A view names each field once (``VirtualService.http_routes`` rather than
``spec.get("http")`` in every rule) and always returns the right type, whatever the input
holds: a list where a mapping belongs reads as empty, as ``sources/validate.py`` already
reported it. Views copy nothing, so building one costs a single small object.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from asm_mode_advisor.kinds import CONTROLLER_KINDS, WORKLOAD_KINDS, pod_reads
from asm_mode_advisor.model import Resource, as_dict, as_int, as_list, as_str, dicts, str_map

MESH_GATEWAY = "mesh"

#: Kinds that pick workloads by selector or attach by targetRefs (see :class:`Selecting`).
SELECTING_KINDS = ("AuthorizationPolicy", "RequestAuthentication", "PeerAuthentication",
                   "Telemetry", "WasmPlugin", "EnvoyFilter", "Sidecar")

#: What the traffic graph (``traffic/manifests.py``) reads: addresses in env values and
#: arguments, service accounts, Service ports, route destinations and policy peers.
GRAPH_READS: tuple[str, ...] = (
    *pod_reads("spec.containers[].env[].name", "spec.containers[].env[].value",
               "spec.containers[].args", "spec.containers[].command",
               "spec.initContainers[].env[].name", "spec.initContainers[].env[].value",
               "spec.initContainers[].args", "spec.initContainers[].command",
               "spec.serviceAccountName"),
    "Service:spec.ports",
    "VirtualService:spec.gateways", "VirtualService:spec.http", "VirtualService:spec.tcp",
    "VirtualService:spec.tls",
    "HTTPRoute:spec.parentRefs", "HTTPRoute:spec.rules",
    "GRPCRoute:spec.parentRefs", "GRPCRoute:spec.rules",
    "AuthorizationPolicy:spec.rules", "AuthorizationPolicy:spec.action",
    "NetworkPolicy:spec.ingress",
)

#: Fields read below the rules, as ``Kind:path`` (see ``Rule.reads`` for the syntax): the
#: inventory's (controller owners, pod-template labels and annotations, Service selectors,
#: waypoint classes, policy selectors and targetRefs), ``domain.has_sidecar``'s container
#: names and ``live``'s istiod image. Slimming keeps these and every rule's reads.
#: It includes :data:`GRAPH_READS`.
CORE_READS: tuple[str, ...] = (
    *GRAPH_READS,
    *(f"{kind}:metadata.ownerReferences" for kind in sorted(WORKLOAD_KINDS)),
    *pod_reads("metadata.labels", "metadata.annotations", kinds=CONTROLLER_KINDS),
    *pod_reads("spec.containers[].name", "spec.initContainers[].name"),
    *pod_reads("spec.containers[].image", kinds=("Deployment",)),
    "Service:spec.selector",
    "Gateway:spec.gatewayClassName",
    # Pods per workload, for the cost estimate (``costs.replicas``).
    *(f"{kind}:spec.replicas" for kind in ("Deployment", "ReplicaSet", "ReplicationController",
                                           "StatefulSet")),
    "Job:spec.parallelism", "CronJob:spec.jobTemplate.spec.parallelism",
    *(f"{kind}:spec.{field}" for kind in SELECTING_KINDS
      for field in ("selector", "workloadSelector", "targetRef", "targetRefs")),
)


@dataclass(frozen=True, slots=True)
class View:
    """Base of every view: the resource and its ``spec``."""

    resource: Resource

    @property
    def spec(self) -> dict[str, Any]:
        """The ``spec`` mapping (empty when missing)."""
        return self.resource.spec

    @property
    def ref(self) -> str:
        """``Kind/namespace/name`` for messages."""
        return self.resource.ref


@dataclass(frozen=True, slots=True)
class Selecting(View):
    """A policy that picks workloads by ``selector`` or attaches by ``targetRef(s)``."""

    @property
    def selector_labels(self) -> dict[str, str]:
        """``selector.matchLabels`` (or ``workloadSelector.labels`` for EnvoyFilter)."""
        selector = as_dict(self.spec.get("selector"))
        if "matchLabels" in selector:
            return str_map(selector.get("matchLabels"))
        return str_map(as_dict(self.spec.get("workloadSelector")).get("labels"))

    @property
    def target_refs(self) -> list[dict[str, Any]]:
        """``targetRefs`` plus the older single ``targetRef``."""
        refs = dicts(self.spec.get("targetRefs"))
        single = self.spec.get("targetRef")
        return [*refs, single] if isinstance(single, dict) else refs

    @property
    def targeted_services(self) -> list[str]:
        """Names of the Services among the target refs."""
        return sorted({as_str(ref.get("name")) for ref in self.target_refs
                       if as_str(ref.get("kind")) == "Service" and ref.get("name")})


@dataclass(frozen=True, slots=True)
class VirtualService(View):
    """``networking.istio.io`` VirtualService."""

    @property
    def hosts(self) -> list[str]:
        """The hosts it routes."""
        return [as_str(host) for host in as_list(self.spec.get("hosts")) if as_str(host)]

    @property
    def gateways(self) -> list[str]:
        """The gateways it binds to (empty: the mesh only)."""
        return [as_str(g) for g in as_list(self.spec.get("gateways")) if as_str(g)]

    @property
    def mesh_bound(self) -> bool:
        """True when it applies to mesh traffic (no gateways, or ``mesh`` among them)."""
        gateways = self.gateways
        return not gateways or MESH_GATEWAY in gateways

    @property
    def http_routes(self) -> list[dict[str, Any]]:
        """``http`` routes, in order."""
        return dicts(self.spec.get("http"))

    @property
    def tcp_routes(self) -> list[dict[str, Any]]:
        """``tcp`` routes."""
        return dicts(self.spec.get("tcp"))

    @property
    def tls_routes(self) -> list[dict[str, Any]]:
        """``tls`` routes."""
        return dicts(self.spec.get("tls"))


@dataclass(frozen=True, slots=True)
class DestinationRule(View):
    """``networking.istio.io`` DestinationRule."""

    @property
    def host(self) -> str:
        """The host its policies apply to."""
        return as_str(self.spec.get("host"))

    @property
    def traffic_policy(self) -> dict[str, Any]:
        """The top-level ``trafficPolicy``."""
        return as_dict(self.spec.get("trafficPolicy"))

    @property
    def subsets(self) -> list[dict[str, Any]]:
        """Named subsets."""
        return dicts(self.spec.get("subsets"))


@dataclass(frozen=True, slots=True)
class AuthorizationPolicy(Selecting):
    """``security.istio.io`` AuthorizationPolicy."""

    @property
    def action(self) -> str:
        """``ALLOW`` (the default), ``DENY``, ``CUSTOM`` or ``AUDIT``."""
        return as_str(self.spec.get("action")).upper() or "ALLOW"

    @property
    def rules(self) -> list[dict[str, Any]]:
        """Its rules, in order."""
        return dicts(self.spec.get("rules"))


@dataclass(frozen=True, slots=True)
class RequestAuthentication(Selecting):
    """``security.istio.io`` RequestAuthentication."""

    @property
    def issuers(self) -> list[str]:
        """Issuers of its JWT rules, sorted."""
        return sorted({as_str(rule.get("issuer")) for rule in dicts(self.spec.get("jwtRules"))
                       if as_str(rule.get("issuer"))})


@dataclass(frozen=True, slots=True)
class PeerAuthentication(Selecting):
    """``security.istio.io`` PeerAuthentication."""

    @property
    def mode(self) -> str:
        """``spec.mtls.mode`` in upper case (empty when unset)."""
        return as_str(as_dict(self.spec.get("mtls")).get("mode")).upper()

    @property
    def port_modes(self) -> dict[str, str]:
        """Port-level modes, port number (as text) to mode in upper case."""
        return {str(port): as_str(as_dict(setting).get("mode")).upper()
                for port, setting in as_dict(self.spec.get("portLevelMtls")).items()}


@dataclass(frozen=True, slots=True)
class Telemetry(Selecting):
    """``telemetry.istio.io`` Telemetry."""

    @property
    def l7_sections(self) -> list[str]:
        """Which of ``tracing`` and ``accessLogging`` it turns on (or tunes).

        A section whose every entry only switches data off (``disabled: true``,
        ``disableSpanReporting: true``, ``randomSamplingPercentage: 0``) asks for no L7 proxy.
        """
        return [key for key in ("tracing", "accessLogging")
                if any(not _switches_off(entry) for entry in self._entries(key))]

    def _entries(self, key: str) -> list[dict[str, Any]]:
        single = as_dict(self.spec.get(key))
        return [single] if single else dicts(self.spec.get(key))


def _switches_off(entry: dict[str, Any]) -> bool:
    """True for a Telemetry tracing or access-log entry that only turns its data off."""
    if entry.get("disabled") is True or entry.get("disableSpanReporting") is True:
        return True
    sampling = entry.get("randomSamplingPercentage")
    return isinstance(sampling, int | float) and not isinstance(sampling, bool) and (
        sampling == 0)


@dataclass(frozen=True, slots=True)
class WasmPlugin(Selecting):
    """``extensions.istio.io`` WasmPlugin."""

    @property
    def url(self) -> str:
        """Where the module comes from."""
        return as_str(self.spec.get("url"))


@dataclass(frozen=True, slots=True)
class EnvoyFilter(Selecting):
    """``networking.istio.io`` EnvoyFilter."""

    @property
    def patch_contexts(self) -> list[tuple[int, str]]:
        """``(index, match.context)`` of every config patch (``""`` when unset)."""
        return [(index, as_str(as_dict(patch.get("match")).get("context")).upper())
                for index, patch in enumerate(dicts(self.spec.get("configPatches")))]


@dataclass(frozen=True, slots=True)
class Service(View):
    """Core ``Service``."""

    @property
    def selector(self) -> dict[str, str]:
        """Its pod selector (empty: it selects no pods)."""
        return str_map(self.spec.get("selector"))

    @property
    def ports(self) -> list[dict[str, Any]]:
        """Its port entries."""
        return dicts(self.spec.get("ports"))

    @property
    def target_port_numbers(self) -> list[int]:
        """Numeric target ports (the port itself when no number is given)."""
        found = (as_int(port.get("targetPort")) or as_int(port.get("port"))
                 for port in self.ports)
        return [number for number in found if number is not None]


@dataclass(frozen=True, slots=True)
class NetworkPolicy(View):
    """``networking.k8s.io`` NetworkPolicy."""

    def rules(self, direction: str) -> list[dict[str, Any]]:
        """``ingress`` or ``egress`` rules."""
        return dicts(self.spec.get(direction))


@dataclass(frozen=True, slots=True)
class MeshRoute(View):
    """Gateway API route (HTTPRoute, GRPCRoute, TCPRoute, TLSRoute)."""

    @property
    def service_parents(self) -> list[tuple[int, dict[str, Any]]]:
        """``(index, parentRef)`` of parents that are a Service or ServiceEntry (mesh routes)."""
        return [(index, parent) for index, parent in enumerate(dicts(self.spec.get("parentRefs")))
                if as_str(parent.get("kind")) in ("Service", "ServiceEntry")]


@dataclass(frozen=True, slots=True)
class IstioGateway(View):
    """``networking.istio.io`` Gateway (ingress, egress or east-west)."""

    @property
    def server_ports(self) -> list[tuple[int, int | None]]:
        """``(index, port.number)`` of every server."""
        return [(index, as_int(as_dict(server.get("port")).get("number")))
                for index, server in enumerate(dicts(self.spec.get("servers")))]


@dataclass(frozen=True, slots=True)
class ServiceEntry(View):
    """``networking.istio.io`` ServiceEntry."""

    @property
    def endpoint_networks(self) -> list[str]:
        """Networks its endpoints sit on, sorted."""
        return sorted({as_str(e.get("network")) for e in dicts(self.spec.get("endpoints"))
                       if as_str(e.get("network"))})
