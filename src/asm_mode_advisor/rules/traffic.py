"""Calls between namespaces: what the move does to each one (traffic graph, issue 15).

These checks read the run's traffic graph (``Context.traffic``: calls from the manifests, and
from Prometheus when asked) beside the detectors' findings. None of them changes a
recommendation: they say what the calls mean for it, and each says whether it rests on
measured traffic or on the manifests.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from asm_mode_advisor.model import Effect, Mode, Resource, Severity
from asm_mode_advisor.rules._base import (
    Check,
    Context,
    Detector,
    Finding,
    Rule,
    namespace_modes,
)
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.traffic.graph import Call, TrafficEvidence

#: Needs whose policy a waypoint enforces and a sidecar caller skips.
L7_POLICY_NEEDS = frozenset({"jwt-authentication", "l7-authorization",
                             "external-authorization"})
#: Callers named in one message before "and N more".
SHOWN_CALLERS = 8

SIDECAR_CALLERS = Rule(
    id="AMA430", name="sidecar-callers-skip-waypoint",
    title="Callers that stay on sidecars skip the destination's waypoint and its L7 policy",
    need="mixed-mode-callers", kinds=(), severity=Severity.WARNING,
    rationale=(
        "A client on sidecars sends its calls straight to the destination pods, not through "
        "the destination's waypoint (istio/istio#57213), so JWT and L7 authorization attached "
        "to the waypoint do not apply to its calls. The Istio migration guide "
        "(https://istio.io/latest/docs/ambient/migrate/) warns of this enforcement gap. Move "
        "such callers to ambient before (or with) the destination, or keep an L4 policy that "
        "admits only the waypoint. Callers come from the traffic graph: the manifests, and "
        "Prometheus when `--prometheus` is given."),
    triggers=("""
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {selector: {app: cart}, ports: [{name: http, port: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  template:
    metadata: {labels: {app: cart}}
    spec: {containers: [{name: cart, image: example/cart:1}]}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: cart-read, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  rules: [{to: [{operation: {methods: [GET]}}]}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: legacy, namespace: legacy}
spec:
  selector: {matchLabels: {app: legacy}}
  template:
    metadata: {labels: {app: legacy}}
    spec:
      containers:
      - name: legacy
        image: example/legacy:1
        env: [{name: CART_URL, value: "http://cart.shop:8080/"}]
---
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: lua, namespace: legacy}
spec:
  workloadSelector: {labels: {app: legacy}}
  configPatches:
  - applyTo: HTTP_FILTER
    match: {context: SIDECAR_OUTBOUND}
    patch: {operation: INSERT_BEFORE, value: {name: envoy.filters.http.lua}}
""",),
)

L7_UNUSED = Rule(
    id="AMA431", name="l7-config-unused",
    title="L7 configuration that no measured request used in the window",
    need="traffic-evidence", kinds=(),
    rationale=(
        "With `--prometheus`, a namespace whose L7 routing or policy calls for a waypoint but "
        "which received no HTTP or gRPC request in the metrics window may not need that "
        "configuration any more; without it, ztunnel alone serves the namespace (N-SKIPL7). "
        "The recommendation still counts the configuration: delete it to change it."),
)

AMBIENT_CONFIRMED = Rule(
    id="AMA432", name="ambient-confirmed-by-traffic",
    title="Only TCP traffic measured: the ambient recommendation is confirmed by traffic",
    need="traffic-evidence", kinds=(),
    rationale=(
        "With `--prometheus`, a namespace recommended ambient (no waypoint) that received only "
        "TCP connections in the metrics window loses no HTTP-level feature by moving: the "
        "traffic confirms the verdict read off the configuration."),
)

FAULTS_IN_USE = Rule(
    id="AMA433", name="fault-injection-in-use",
    title="Measured responses show fault injection in use",
    need="traffic-evidence", kinds=(), rows=("L-ROUTING",),
    rationale=(
        "Envoy marks injected aborts (`FI`) and delays (`DI`) in the `response_flags` of "
        "Istio's request metrics. Fault injection is L7 routing: in ambient only a waypoint "
        "applies it, so a namespace that relies on it needs one."),
)

CONNECTION_BALANCING = Rule(
    id="AMA434", name="grpc-connection-balancing",
    title="gRPC callers of a namespace without a waypoint lose per-request balancing",
    need="request-balancing", kinds=("Service",), severity=Severity.WARNING,
    rationale=(
        "Ztunnel balances TCP connections, a waypoint HTTP requests (L-ROUTING). gRPC and "
        "other HTTP/2 clients keep one long-lived connection, so without a waypoint all their "
        "requests go to the pod the connection reached. A sidecar balanced them per request "
        "on the client side: after the move, load can pile on one replica. Add a waypoint for "
        "these services, or balance in the client."),
    triggers=("""
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: shop}
spec: {selector: {app: catalog}, ports: [{name: grpc, port: 3550}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec:
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers:
      - name: frontend
        image: example/frontend:1
        env: [{name: CATALOG_ADDR, value: "catalog:3550"}]
""",),
    passes=("""
apiVersion: v1
kind: Service
metadata: {name: catalog, namespace: shop}
spec: {selector: {app: catalog}, ports: [{name: http, port: 8080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: shop}
spec:
  selector: {matchLabels: {app: frontend}}
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers:
      - name: frontend
        image: example/frontend:1
        env: [{name: CATALOG_ADDR, value: "catalog:8080"}]
""",),
)

RULES = (SIDECAR_CALLERS, L7_UNUSED, AMBIENT_CONFIRMED, FAULTS_IN_USE, CONNECTION_BALANCING)


def check_traffic(inventory: ScopedInventory, context: Context,
                  detected: Sequence[Finding]) -> Iterator[Finding]:
    """Every traffic finding, from the graph and the detectors' findings."""
    traffic = context.traffic
    if traffic is None or not traffic.graph.calls:
        return
    advised = set(inventory.advised_namespaces)
    modes = namespace_modes(sorted(advised), detected)
    by_destination = traffic.graph.by_destination()
    yield from _sidecar_callers(detected, modes, by_destination, traffic)
    yield from _balancing(inventory, modes, by_destination, traffic)
    if traffic.measured:
        yield from _measured(detected, modes, by_destination, traffic)


def policy_services(detected: Sequence[Finding]) -> dict[str, set[str] | None]:
    """Per namespace, the services with L7 policy (None: the whole namespace has it)."""
    found: dict[str, set[str] | None] = {}
    for finding in detected:
        if finding.namespace is None or finding.rule.need not in L7_POLICY_NEEDS:
            continue
        if finding.rule.effect is not Effect.NEEDS_WAYPOINT:
            continue
        current = found.get(finding.namespace, set())
        if current is None or not finding.services:
            found[finding.namespace] = None
        else:
            current.update(finding.services)
            found[finding.namespace] = current
    return found


def _sidecar_callers(detected: Sequence[Finding], modes: dict[str, Mode],
                     by_destination: dict[str, list[Call]],
                     traffic: TrafficEvidence) -> Iterator[Finding]:
    policies: dict[str, list[Resource]] = defaultdict(list)
    for finding in detected:
        if finding.namespace is not None and finding.rule.need in L7_POLICY_NEEDS:
            policies[finding.namespace].extend(finding.objects)
    for namespace, services in sorted(policy_services(detected).items()):
        if modes.get(namespace) is not Mode.AMBIENT_WAYPOINT:
            continue
        risky = [call for call in by_destination.get(namespace, [])
                 if call.crosses_namespaces and modes.get(call.source_namespace) is Mode.SIDECAR
                 and (services is None or call.destination_service in services
                      or not call.destination_service)]
        if not risky:
            continue
        targets = sorted({c.destination_service for c in risky if c.destination_service})
        objects = list({id(r): r for r in policies[namespace]}.values())  # policies skipped
        message = (f"namespace {namespace} gets a waypoint with L7 policy, but caller(s) "
                   f"{_callers(risky)} stay on sidecars and skip it: that policy does not "
                   f"apply to their calls ({_evidence(risky, traffic)})")
        yield SIDECAR_CALLERS.finding(
            objects[0] if objects else None, message,
            namespace=namespace, services=targets, objects=objects[1:])


def _balancing(inventory: ScopedInventory, modes: dict[str, Mode],
               by_destination: dict[str, list[Call]],
               traffic: TrafficEvidence) -> Iterator[Finding]:
    for namespace, calls in sorted(by_destination.items()):
        if modes.get(namespace) is not Mode.AMBIENT:
            continue
        grpc = [c for c in calls if c.protocol == "grpc" and c.destination_service]
        if not grpc:
            continue
        services = sorted({c.destination_service for c in grpc})
        found = [r for r in (inventory.service(namespace, name) for name in services) if r]
        message = (f"gRPC calls to {', '.join(services)} from {_callers(grpc)} would be "
                   "balanced per connection by ztunnel, not per request "
                   f"({_evidence(grpc, traffic)})")
        yield CONNECTION_BALANCING.finding(
            found[0] if found else None, message, namespace=namespace, services=services,
            objects=found[1:])


def _measured(detected: Sequence[Finding], modes: dict[str, Mode],
              by_destination: dict[str, list[Call]],
              traffic: TrafficEvidence) -> Iterator[Finding]:
    l7_rules: dict[str, set[str]] = defaultdict(set)
    for finding in detected:
        if finding.namespace is not None and finding.rule.effect is Effect.NEEDS_WAYPOINT:
            l7_rules[finding.namespace].add(finding.rule.id)
    window = traffic.window
    for namespace in sorted(modes):
        measured = [c for c in by_destination.get(namespace, []) if c.origin == "metrics"]
        requests = [c for c in measured if c.requests_per_second]
        if l7_rules.get(namespace) and not requests:
            yield L7_UNUSED.finding(
                None, f"configured but unused in the last {window}: no HTTP or gRPC request "
                      f"reached namespace {namespace}, whose L7 configuration "
                      f"({', '.join(sorted(l7_rules[namespace]))}) calls for a waypoint",
                namespace=namespace)
        if modes[namespace] is Mode.AMBIENT and measured and not requests:
            yield AMBIENT_CONFIRMED.finding(
                None, f"namespace {namespace} received only TCP connections in the last "
                      f"{window}: the ambient verdict is confirmed by traffic",
                namespace=namespace)
        faulted = [c for c in measured if c.response_flags]
        if faulted:
            flags = sorted({flag for c in faulted for flag in c.response_flags})
            services = sorted({c.destination_service for c in faulted})
            yield FAULTS_IN_USE.finding(
                None, f"calls to {', '.join(services)} carried response flag(s) "
                      f"{', '.join(flags)} in the last {window}: fault injection is in use",
                namespace=namespace, services=services)


def _callers(calls: list[Call]) -> str:
    """``web/frontend (50.0 rps), batch`` for a message: each caller once, rates if known."""
    rates: dict[str, float] = defaultdict(float)
    for call in calls:
        name = (f"{call.source_namespace}/{call.source_workload}" if call.source_workload
                else call.source_namespace)
        rates[name] += call.requests_per_second or 0.0
    shown = [f"{name} ({rate:.1f} rps)" if rate else name
             for name, rate in sorted(rates.items())]
    more = len(shown) - SHOWN_CALLERS
    return ", ".join(shown[:SHOWN_CALLERS]) + (f" and {more} more" if more > 0 else "")


def _evidence(calls: list[Call], traffic: TrafficEvidence) -> str:
    if any(c.origin == "metrics" for c in calls):
        return f"measured by Prometheus over {traffic.window}"
    return "read off the manifests"


CHECKS = (Check(check_traffic, RULES),)
DETECTORS: tuple[Detector, ...] = ()
