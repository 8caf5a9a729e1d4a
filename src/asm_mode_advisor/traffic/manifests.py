"""Calls read off the manifests: addresses in env and args, routes, policy peers.

Real applications wire their peers through environment variables (Online Boutique's
``PRODUCT_CATALOG_SERVICE_ADDR=productcatalogservice:3550``, bookinfo's ``ratings`` host), so
a host that names a known Service in an env value, an argument or a URL is a call. Routes
(VirtualService and Gateway API destinations) and who an AuthorizationPolicy or NetworkPolicy
lets in are calls too. Only names of Services the input holds count, and no value is ever
printed: an env value may hold a credential.
"""

from __future__ import annotations

from collections.abc import Iterator

from asm_mode_advisor.inventory import Inventory, Workload
from asm_mode_advisor.kinds import GATEWAY_API, ISTIO_NETWORKING
from asm_mode_advisor.model import Resource, as_dict, as_int, as_list, as_str, dicts, str_map
from asm_mode_advisor.traffic.addresses import ADDRESS_NAME, addresses
from asm_mode_advisor.traffic.graph import Call, Clue, Protocol
from asm_mode_advisor.views import MESH_GATEWAY, VirtualService

_GRPC_NAMES = ("grpc",)
_HTTP_NAMES = ("http", "http2", "https", "h2c", "web")


def calls_from_manifests(inventory: Inventory) -> list[Call]:
    """Every call the manifests show, in no particular order (the graph sorts)."""
    calls: list[Call] = []
    lookup = Lookup(inventory)
    for workload in inventory.all_workloads():
        calls.extend(address_calls(inventory, workload, lookup))
    calls.extend(route_calls(inventory))
    calls.extend(policy_calls(inventory))
    return calls


# --- addresses in env values and arguments ----------------------------------------------

class Lookup:
    """Hosts to Services and Service ports to protocols, each worked out once per run.

    An estate names the same few hundred Services from thousands of workloads, and a host
    with a dot resolves the same from every namespace.
    """

    def __init__(self, inventory: Inventory) -> None:
        self._inventory = inventory
        self._targets: dict[tuple[str, str], tuple[tuple[str, str], Resource] | None] = {}
        self._protocols: dict[tuple[int, int | None], Protocol] = {}

    def target(self, host: str, namespace: str) -> tuple[tuple[str, str], Resource] | None:
        """``((namespace, name), Service)`` a host names from ``namespace``, or None."""
        key = (host, "" if "." in host else namespace)
        if key in self._targets:
            return self._targets[key]
        found = self._inventory.resolve_host(host, namespace)
        service = self._inventory.service(*found) if found is not None else None
        result = (found, service) if found is not None and service is not None else None
        self._targets[key] = result
        return result

    def protocol(self, service: Resource, port: int | None) -> Protocol:
        """:func:`service_protocol`, remembered per Service and port."""
        key = (id(service), port)
        found = self._protocols.get(key)
        if found is None:
            found = self._protocols[key] = service_protocol(service, port)
        return found


def address_calls(inventory: Inventory, workload: Workload,
                  lookup: Lookup | None = None) -> Iterator[Call]:
    """Calls from a workload to the Services its env values and arguments name."""
    lookup = Lookup(inventory) if lookup is None else lookup
    namespace = workload.resource.namespace or inventory.default_namespace
    seen: set[tuple[str, str]] = set()
    own: set[str] | None = None  # the workload's own Services, looked up when needed
    for text, named_address in _texts(workload):
        for host, port in addresses(text, named_address):
            target = lookup.target(host, namespace)
            if target is None or target[0] in seen:
                continue  # not a Service of the input, or named already
            found, service = target
            if found[0] == namespace:
                if own is None:
                    own = set(inventory.services_of_workloads(namespace, [workload]))
                if found[1] in own:
                    continue  # the workload's own Service
            seen.add(found)
            yield Call(source_namespace=namespace, source_workload=workload.resource.name,
                       destination_namespace=found[0], destination_service=found[1],
                       protocol=lookup.protocol(service, port), clue="address")


def _texts(workload: Workload) -> Iterator[tuple[str, bool]]:
    """``(text, names an address)`` for each env value and argument of every container."""
    if workload.resource.addresses is not None:  # slimmed: its addresses, digested
        yield workload.resource.addresses, False
        return
    for container in workload.containers:
        for env in dicts(container.get("env")):
            value = as_str(env.get("value"))
            if value:
                yield value, bool(ADDRESS_NAME.search(as_str(env.get("name"))))
        for key in ("args", "command"):
            items = container.get(key)
            if isinstance(items, list):
                for item in items:
                    if isinstance(item, str) and item:
                        yield item, False


def service_protocol(service: Resource, port: int | None) -> Protocol:
    """The protocol of the Service port a call uses (``appProtocol``, then the port name)."""
    ports = dicts(service.spec.get("ports"))
    chosen = [p for p in ports if port is None or as_int(p.get("port")) == port] or ports
    for entry in chosen[:1] if port is not None else chosen:
        kind = (as_str(entry.get("appProtocol")) or as_str(entry.get("name"))).lower()
        head = kind.split("-")[0].split("/")[-1]
        if head in _GRPC_NAMES or kind.startswith("grpc"):
            return "grpc"
        if head in _HTTP_NAMES or kind.startswith("http"):
            return "http"
    return "tcp"


# --- routes --------------------------------------------------------------------------

def route_calls(inventory: Inventory) -> Iterator[Call]:
    """Route destinations: from the route's namespace (mesh) or the gateway's (ingress)."""
    for resource in inventory.of_kind("VirtualService", group=ISTIO_NETWORKING):
        yield from _virtual_service_calls(inventory, resource)
    for kind in ("HTTPRoute", "GRPCRoute"):
        for resource in inventory.of_kind(kind, group=GATEWAY_API):
            yield from _gateway_route_calls(inventory, resource)


def _virtual_service_calls(inventory: Inventory, resource: Resource) -> Iterator[Call]:
    namespace = resource.namespace or inventory.default_namespace
    spec = resource.spec
    view = VirtualService(resource)
    sources: list[tuple[str, Clue]] = [(namespace, "route")] if view.mesh_bound else []
    for gateway in view.gateways:
        if gateway != MESH_GATEWAY:
            sources.append((gateway.split("/")[0] if "/" in gateway else namespace, "ingress"))
    protocol_of = {"http": "http", "tcp": "tcp", "tls": "tcp"}
    for section, protocol in protocol_of.items():
        for route in dicts(spec.get(section)):
            for destination in dicts(route.get("route")):
                target = as_dict(destination.get("destination"))
                found = inventory.resolve_host(as_str(target.get("host")), namespace)
                if found is None or inventory.service(*found) is None:
                    continue
                port = as_int(as_dict(target.get("port")).get("number"))
                service = inventory.service(*found)
                for source, clue in sources:
                    chosen: Protocol = "tcp" if protocol == "tcp" else (
                        service_protocol(service, port) if service is not None else "http")
                    if chosen == "tcp" and protocol == "http":
                        chosen = "http"
                    yield Call(source_namespace=source, destination_namespace=found[0],
                               destination_service=found[1], protocol=chosen, clue=clue)


def _gateway_route_calls(inventory: Inventory, resource: Resource) -> Iterator[Call]:
    namespace = resource.namespace or inventory.default_namespace
    sources: list[tuple[str, Clue]] = []
    for parent in dicts(resource.spec.get("parentRefs")):
        kind = as_str(parent.get("kind")) or "Gateway"
        parent_ns = as_str(parent.get("namespace")) or namespace
        sources.append((parent_ns, "ingress" if kind == "Gateway" else "route"))
    protocol: Protocol = "grpc" if resource.kind == "GRPCRoute" else "http"
    for rule in dicts(resource.spec.get("rules")):
        for backend in dicts(rule.get("backendRefs")):
            if as_str(backend.get("kind")) not in ("", "Service"):
                continue
            target = (as_str(backend.get("namespace")) or namespace, as_str(backend.get("name")))
            if inventory.service(*target) is None:
                continue
            for source, clue in dict.fromkeys(sources):
                yield Call(source_namespace=source, destination_namespace=target[0],
                           destination_service=target[1], protocol=protocol, clue=clue)


# --- who policies let in -------------------------------------------------------------

def policy_calls(inventory: Inventory) -> Iterator[Call]:
    """Callers an ALLOW AuthorizationPolicy or a NetworkPolicy names, by namespace."""
    for resource in inventory.of_kind("AuthorizationPolicy"):
        if as_str(resource.spec.get("action")).upper() not in ("", "ALLOW"):
            continue
        namespace = resource.namespace or inventory.default_namespace
        for source_ns, workload in sorted(_authz_sources(inventory, resource)):
            yield Call(source_namespace=source_ns, source_workload=workload,
                       destination_namespace=namespace, clue="authorization")
    for resource in inventory.of_kind("NetworkPolicy"):
        namespace = resource.namespace or inventory.default_namespace
        for source_ns in sorted(_network_policy_sources(inventory, resource)):
            yield Call(source_namespace=source_ns, destination_namespace=namespace,
                       clue="network-policy")


def _authz_sources(inventory: Inventory, resource: Resource) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for rule in dicts(resource.spec.get("rules")):
        for entry in dicts(rule.get("from")):
            source = as_dict(entry.get("source"))
            for namespace in map(as_str, as_list(source.get("namespaces"))):
                if _known(inventory, namespace):
                    found.add((namespace, ""))
            for principal in map(as_str, as_list(source.get("principals"))):
                peer = principal_peer(inventory, principal)
                if peer is not None:
                    found.add(peer)
    return found


def principal_peer(inventory: Inventory, principal: str) -> tuple[str, str] | None:
    """``(namespace, workload)`` of ``<trust domain>/ns/<ns>/sa/<sa>`` (workload "" if unknown)."""
    parts = principal.split("/")
    if len(parts) != 5 or parts[1] != "ns" or parts[3] != "sa" or "*" in principal:
        return None
    namespace, account = parts[2], parts[4]
    if not _known(inventory, namespace):
        return None
    users = sorted(w.resource.name for w in inventory.workloads(namespace)
                   if (as_str(w.pod_spec.get("serviceAccountName")) or "default") == account)
    return namespace, users[0] if len(users) == 1 else ""


def _network_policy_sources(inventory: Inventory, resource: Resource) -> set[str]:
    found: set[str] = set()
    for rule in dicts(resource.spec.get("ingress")):
        for peer in dicts(rule.get("from")):
            selector = peer.get("namespaceSelector")
            if not isinstance(selector, dict):
                continue
            labels = str_map(as_dict(selector).get("matchLabels"))
            if not labels or selector.get("matchExpressions"):
                continue  # an empty selector is every namespace: no particular caller
            for namespace in inventory.namespaces:
                own = {**inventory.namespace_labels(namespace),
                       "kubernetes.io/metadata.name": namespace}
                if all(own.get(k) == v for k, v in labels.items()):
                    found.add(namespace)
    found.discard(resource.namespace or "")
    return found


def _known(inventory: Inventory, namespace: str) -> bool:
    return namespace in inventory.namespace_set

