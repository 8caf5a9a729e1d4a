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
from typing import Any

from asm_mode_advisor.inventory import Inventory, Workload
from asm_mode_advisor.kinds import GATEWAY_API, ISTIO_NETWORKING
from asm_mode_advisor.model import Resource, as_dict, as_int, as_str, dicts, str_map
from asm_mode_advisor.traffic.addresses import ADDRESS_NAME, addresses
from asm_mode_advisor.traffic.graph import Call, Clue, Protocol

_GRPC_NAMES = ("grpc",)
_HTTP_NAMES = ("http", "http2", "https", "h2c", "web")


def calls_from_manifests(inventory: Inventory) -> list[Call]:
    """Every call the manifests show, in no particular order (the graph sorts)."""
    calls: list[Call] = []
    protocols: dict[tuple[int, int | None], Protocol] = {}  # by Service and port
    for workload in inventory.all_workloads():
        calls.extend(address_calls(inventory, workload, protocols))
    calls.extend(route_calls(inventory))
    calls.extend(policy_calls(inventory))
    return calls


# --- addresses in env values and arguments ----------------------------------------------

def address_calls(inventory: Inventory, workload: Workload,
                  protocols: dict[tuple[int, int | None], Protocol] | None = None
                  ) -> Iterator[Call]:
    """Calls from a workload to the Services its env values and arguments name.

    ``protocols`` remembers each Service port's protocol across workloads.
    """
    known = {} if protocols is None else protocols
    namespace = workload.resource.namespace or inventory.default_namespace
    seen: set[tuple[str, str]] = set()
    own: set[str] | None = None  # the workload's own Services, looked up when needed
    for text, named_address in _texts(workload):
        for host, port in addresses(text, named_address):
            found = inventory.resolve_host(host, namespace)
            if found is None or found in seen:
                continue
            service = inventory.service(*found)
            if service is None:
                continue  # not a Service of the input
            if found[0] == namespace:
                if own is None:
                    own = set(inventory.services_of_workloads(namespace, [workload]))
                if found[1] in own:
                    continue  # the workload's own Service
            seen.add(found)
            protocol = known.get((id(service), port))
            if protocol is None:
                protocol = known[(id(service), port)] = service_protocol(service, port)
            yield Call(source_namespace=namespace, source_workload=workload.resource.name,
                       destination_namespace=found[0], destination_service=found[1],
                       protocol=protocol, clue="address")


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
    gateways = [g for g in _strings(spec.get("gateways")) if g != "mesh"]
    mesh = not gateways or "mesh" in _strings(spec.get("gateways"))
    sources: list[tuple[str, Clue]] = [(namespace, "route")] if mesh else []
    for gateway in gateways:
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
            for namespace in _strings(source.get("namespaces")):
                if _known(inventory, namespace):
                    found.add((namespace, ""))
            for principal in _strings(source.get("principals")):
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


def _strings(value: Any) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []
