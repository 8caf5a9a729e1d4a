"""VirtualService to HTTPRoute, where the conversion is mechanical (L-ROUTING, M-TRAFFIC).

Converted: weights, path/header/query/method matches, timeouts, retries, prefix rewrites and
header changes; DestinationRule subsets become per-version Services. Anything else (fault
injection, mirroring, CORS, redirects, source matches, TCP/TLS routes...) keeps the
VirtualService, which the waypoint still applies (Alpha), and is listed with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.kinds import GATEWAY_API, ISTIO_NETWORKING
from asm_mode_advisor.model import Resource, as_dict, as_int, as_list, as_str, dicts, str_map
from asm_mode_advisor.plan.model import ManualItem
from asm_mode_advisor.plan.objects import service_ref
from asm_mode_advisor.views import VirtualService

ROWS = ["L-ROUTING", "M-TRAFFIC"]
UNSUPPORTED_ROUTE_FIELDS = {
    "fault": "fault injection has no Gateway API form",
    "mirror": "mirroring is not converted (RequestMirror differs in percentages)",
    "mirrors": "mirroring is not converted (RequestMirror differs in percentages)",
    "mirrorPercentage": "mirroring is not converted (RequestMirror differs in percentages)",
    "corsPolicy": "CORS policy has no core HTTPRoute form",
    "redirect": "redirects are not converted",
    "directResponse": "direct responses have no Gateway API form",
    "delegate": "delegate VirtualServices have no Gateway API form",
}
MATCH_PATH_TYPES = {"exact": "Exact", "prefix": "PathPrefix", "regex": "RegularExpression"}
VALUE_TYPES = {"exact": "Exact", "regex": "RegularExpression"}


class NotMechanical(Exception):
    """Raised inside a conversion: the VirtualService is kept and listed with the reason."""


@dataclass
class RouteConversions:
    """HTTPRoutes and per-version Services created, VirtualServices replaced or kept."""

    created: list[dict[str, Any]] = field(default_factory=list)
    replaced: list[Resource] = field(default_factory=list)
    manual: list[ManualItem] = field(default_factory=list)


@dataclass
class _Context:
    inventory: Inventory
    namespace: str
    services: dict[str, dict[str, Any]] = field(default_factory=dict)  # new per-version ones


def _value(match: object, where: str) -> tuple[str, str]:
    spec = as_dict(match)
    for key, kind in VALUE_TYPES.items():
        if key in spec:
            return kind, as_str(spec[key])
    raise NotMechanical(f"{where} uses {', '.join(sorted(spec)) or 'an empty match'}")


def convert_match(match: dict[str, Any]) -> dict[str, Any]:
    """One VirtualService ``match`` entry as an HTTPRoute match."""
    out: dict[str, Any] = {}
    unsupported = sorted(set(match) - {"uri", "headers", "queryParams", "method", "name"})
    if unsupported:
        raise NotMechanical(f"match on {', '.join(unsupported)} has no HTTPRoute form")
    uri = as_dict(match.get("uri"))
    if uri:
        key = next((k for k in MATCH_PATH_TYPES if k in uri), None)
        if key is None:
            raise NotMechanical(f"uri match {sorted(uri)} has no HTTPRoute form")
        out["path"] = {"type": MATCH_PATH_TYPES[key], "value": as_str(uri[key])}
    headers = [(name, *_value(spec, f"header {name}"))
               for name, spec in sorted(as_dict(match.get("headers")).items())]
    if headers:
        out["headers"] = [{"name": n, "type": t, "value": v} for n, t, v in headers]
    params = [(name, *_value(spec, f"query parameter {name}"))
              for name, spec in sorted(as_dict(match.get("queryParams")).items())]
    if params:
        out["queryParams"] = [{"name": n, "type": t, "value": v} for n, t, v in params]
    if "method" in match:
        kind, value = _value(match.get("method"), "method")
        if kind != "Exact":
            raise NotMechanical("method regex has no HTTPRoute form")
        out["method"] = value.upper()
    return out


def precedence(match: dict[str, Any]) -> tuple[int, int, int, int, int]:
    """Gateway API match precedence: exact path, longest prefix, method, headers, queries."""
    path = as_dict(match.get("path"))
    rank = {"Exact": 2, "PathPrefix": 1}.get(as_str(path.get("type")), 1)
    length = len(as_str(path.get("value"))) if path else 1
    return (rank, length, int("method" in match), len(as_list(match.get("headers"))),
            len(as_list(match.get("queryParams"))))


def check_order(rules: list[dict[str, Any]]) -> None:
    """Refuse rule lists whose first-match order Gateway API precedence would change."""
    keys: list[tuple[tuple[int, int, int, int, int], tuple[int, int, int, int, int]]] = []
    for rule in rules:
        matches = dicts(rule.get("matches")) or [{}]
        if any(as_str(as_dict(m.get("path")).get("type")) == "RegularExpression"
               for m in matches) and len(rules) > 1:
            raise NotMechanical("regex paths in several routes: precedence is "
                                "implementation-specific")
        ranked = [precedence(m) for m in matches]
        keys.append((min(ranked), max(ranked)))
    for (earlier, _), (_, later) in pairwise(keys):
        if later > earlier:
            raise NotMechanical("route order differs from Gateway API match precedence "
                                "(a later route has a more specific match)")


def _subset_labels(ctx: _Context, service: str, subset: str) -> dict[str, str]:
    for rule in ctx.inventory.of_kind("DestinationRule", ctx.namespace, group=ISTIO_NETWORKING):
        resolved = ctx.inventory.resolve_host(as_str(rule.spec.get("host")), ctx.namespace)
        if resolved != (ctx.namespace, service):
            continue
        for entry in dicts(rule.spec.get("subsets")):
            if as_str(entry.get("name")) == subset:
                return str_map(entry.get("labels"))
    raise NotMechanical(f"subset {subset} of {service} is not defined by a DestinationRule")


def version_service(ctx: _Context, service: Resource, subset: str) -> str:
    """Name of the Service for one subset: an existing match, or a new one the plan adds."""
    selector = {**str_map(service.spec.get("selector")),
                **_subset_labels(ctx, service.name, subset)}
    name = f"{service.name}-{subset}"
    existing = ctx.inventory.service(ctx.namespace, name)
    if existing is not None:
        if str_map(existing.spec.get("selector")) != selector:
            raise NotMechanical(f"Service {name} exists with another selector than subset "
                                f"{subset}")
        return name
    ports = [{k: v for k, v in port.items() if k != "nodePort"}
             for port in dicts(service.spec.get("ports"))]
    ctx.services[name] = {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": ctx.namespace},
        "spec": {"selector": dict(sorted(selector.items())), "ports": ports}}
    return name


def backend_ref(ctx: _Context, destination: dict[str, Any]) -> dict[str, Any]:
    """One weighted destination as a ``backendRef``."""
    target = as_dict(destination.get("destination"))
    host = as_str(target.get("host"))
    resolved = ctx.inventory.resolve_host(host, ctx.namespace)
    if resolved is None or resolved[0] != ctx.namespace:
        raise NotMechanical(f"destination {host} is not a Service in this namespace")
    service = ctx.inventory.service(*resolved)
    if service is None:
        raise NotMechanical(f"Service {resolved[1]} is not in the input (its ports are unknown)")
    subset = as_str(target.get("subset"))
    name = version_service(ctx, service, subset) if subset else service.name
    port = as_int(as_dict(target.get("port")).get("number"))
    ports = dicts(service.spec.get("ports"))
    if port is None and len(ports) == 1:
        port = as_int(ports[0].get("port"))
    if port is None:
        raise NotMechanical(f"destination {host} names no port and {service.name} has "
                            f"{len(ports)} ports")
    ref: dict[str, Any] = {"name": name, "port": port}
    if "weight" in destination:
        ref["weight"] = as_int(destination.get("weight")) or 0
    if destination.get("headers"):
        raise NotMechanical("per-destination header changes have no HTTPRoute form")
    return ref


def header_filter(kind: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A Request/ResponseHeaderModifier filter from VirtualService header operations."""
    body: dict[str, Any] = {}
    for op in ("set", "add"):
        values = as_dict(changes.get(op))
        if values:
            body[op] = [{"name": k, "value": as_str(v)} for k, v in sorted(values.items())]
    removed = [as_str(v) for v in as_list(changes.get("remove"))]
    if removed:
        body["remove"] = sorted(removed)
    key = kind[0].lower() + kind[1:]
    return {"type": kind, key: body}


def filters(route: dict[str, Any], matches: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Header modifiers and URL rewrites of one route."""
    out = []
    headers = as_dict(route.get("headers"))
    if as_dict(headers.get("request")):
        out.append(header_filter("RequestHeaderModifier", as_dict(headers.get("request"))))
    if as_dict(headers.get("response")):
        out.append(header_filter("ResponseHeaderModifier", as_dict(headers.get("response"))))
    rewrite = as_dict(route.get("rewrite"))
    if rewrite:
        unsupported = sorted(set(rewrite) - {"uri", "authority"})
        if unsupported:
            raise NotMechanical(f"rewrite of {', '.join(unsupported)} has no HTTPRoute form")
        body: dict[str, Any] = {}
        if "uri" in rewrite:
            if not matches or any(as_str(as_dict(m.get("path")).get("type")) != "PathPrefix"
                                  for m in matches):
                raise NotMechanical("uri rewrite without a prefix match")
            body["path"] = {"type": "ReplacePrefixMatch",
                            "replacePrefixMatch": as_str(rewrite["uri"])}
        if "authority" in rewrite:
            body["hostname"] = as_str(rewrite["authority"])
        out.append({"type": "URLRewrite", "urlRewrite": body})
    return out


def retry(retries: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """HTTPRoute ``retry`` (Gateway API v1.2+) and a per-try timeout from ``retries``."""
    conditions = [c.strip() for c in as_str(retries.get("retryOn")).split(",") if c.strip()]
    if any(not c.isdigit() for c in conditions):
        raise NotMechanical(f"retryOn {','.join(conditions)} has no Gateway API form")
    body: dict[str, Any] = {"attempts": as_int(retries.get("attempts")) or 0}
    if conditions:
        body["codes"] = [int(c) for c in conditions]
    per_try = as_str(retries.get("perTryTimeout"))
    return body, per_try or None


def convert_route(ctx: _Context, route: dict[str, Any]) -> dict[str, Any]:
    """One VirtualService http route as an HTTPRoute rule."""
    for key, why in UNSUPPORTED_ROUTE_FIELDS.items():
        if route.get(key):
            raise NotMechanical(why)
    destinations = dicts(route.get("route"))
    if not destinations:
        raise NotMechanical("a route without destinations")
    rule: dict[str, Any] = {}
    matches = [convert_match(m) for m in dicts(route.get("match"))]
    if matches:
        rule["matches"] = matches
    found = filters(route, matches)
    if found:
        rule["filters"] = found
    rule["backendRefs"] = [backend_ref(ctx, d) for d in destinations]
    timeouts: dict[str, str] = {}
    if as_str(route.get("timeout")):
        timeouts["request"] = as_str(route.get("timeout"))
    retries = as_dict(route.get("retries"))
    if retries:
        rule["retry"], per_try = retry(retries)
        if per_try:
            timeouts["backendRequest"] = per_try
    if timeouts:
        rule["timeouts"] = timeouts
    return rule


def convert(ctx: _Context, vs: Resource, route_names: set[str],
            routed: set[str]) -> dict[str, Any]:
    """The HTTPRoute for a mesh VirtualService; raises NotMechanical otherwise."""
    view = VirtualService(vs)
    for section, routes in (("tcp", view.tcp_routes), ("tls", view.tls_routes)):
        if routes:
            raise NotMechanical(f"{section.upper()} routes (use TCPRoute/TLSRoute by hand)")
    parents = []
    for host in as_list(vs.spec.get("hosts")):
        resolved = ctx.inventory.resolve_host(as_str(host), ctx.namespace)
        if resolved is None or resolved[0] != ctx.namespace:
            raise NotMechanical(f"host {as_str(host)} is not a Service in this namespace")
        parents.append(resolved[1])
    if routed.intersection(parents):
        raise NotMechanical("several VirtualServices route the same host; merge them first")
    for route in ctx.inventory.of_kind("HTTPRoute", ctx.namespace, group=GATEWAY_API):
        attached = {as_str(p.get("name")) for p in dicts(route.spec.get("parentRefs"))
                    if as_str(p.get("kind")) == "Service"}
        if attached.intersection(parents):
            raise NotMechanical(f"{route.ref} already routes {', '.join(sorted(attached))}; "
                                "merge by hand (never mix VirtualService and HTTPRoute)")
    rules = [convert_route(ctx, r) for r in view.http_routes]
    check_order(rules)
    name = vs.name
    while name in route_names:
        name += "-vs"
    route_names.add(name)
    routed.update(parents)
    return {"apiVersion": f"{GATEWAY_API}/v1", "kind": "HTTPRoute",
            "metadata": {"name": name, "namespace": ctx.namespace},
            "spec": {"parentRefs": [service_ref(p) for p in sorted(set(parents))],
                     "rules": rules}}


def shared_hosts(inventory: Inventory, namespace: str, mesh: list[Resource]) -> set[str]:
    """Services that more than one mesh VirtualService routes (never converted alone)."""
    seen: dict[str, int] = {}
    for vs in mesh:
        for host in {as_str(h) for h in as_list(vs.spec.get("hosts"))}:
            resolved = inventory.resolve_host(host, namespace)
            if resolved is not None:
                seen[resolved[1]] = seen.get(resolved[1], 0) + 1
    return {name for name, count in seen.items() if count > 1}


def convert_virtual_services(inventory: Inventory, namespace: str,
                             skip: set[str]) -> RouteConversions:
    """Convert every mesh VirtualService of a namespace that can be converted mechanically."""
    result = RouteConversions()
    route_names = {r.name for r in inventory.of_kind("HTTPRoute", namespace, group=GATEWAY_API)}
    services: dict[str, dict[str, Any]] = {}
    mesh = [vs for vs in inventory.of_kind("VirtualService", namespace, group=ISTIO_NETWORKING)
            if vs.name not in skip and VirtualService(vs).mesh_bound]
    routed = shared_hosts(inventory, namespace, mesh)
    for vs in mesh:
        ctx = _Context(inventory=inventory, namespace=namespace)
        try:
            route = convert(ctx, vs, route_names, routed)
        except NotMechanical as exc:
            result.manual.append(ManualItem(object=vs.ref, reason=f"kept as VirtualService "
                                            f"(applied by the waypoint, Alpha): {exc}",
                                            rows=ROWS))
            continue
        services.update(ctx.services)
        result.created.append(route)
        result.replaced.append(vs)
    result.created = [services[n] for n in sorted(services)] + result.created
    return result
