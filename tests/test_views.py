"""Typed views read the fields they name and tolerate wrong types (already reported)."""

from __future__ import annotations

import inspect

import pytest

from asm_mode_advisor import views
from asm_mode_advisor.model import Resource
from asm_mode_advisor.slim import registry_keep_trees
from asm_mode_advisor.views import (
    SELECTING_KINDS,
    AuthorizationPolicy,
    DestinationRule,
    EnvoyFilter,
    IstioGateway,
    MeshRoute,
    PeerAuthentication,
    RequestAuthentication,
    Selecting,
    Service,
    ServiceEntry,
    Telemetry,
    View,
    VirtualService,
    WasmPlugin,
)
from recording import Read, RecordingDict, kept
from support import load

#: The kinds each view wraps (a new view must be added here, or the test below fails).
VIEW_KINDS: dict[type[View], tuple[str, ...]] = {
    Selecting: SELECTING_KINDS, VirtualService: ("VirtualService",),
    DestinationRule: ("DestinationRule",), AuthorizationPolicy: ("AuthorizationPolicy",),
    RequestAuthentication: ("RequestAuthentication",),
    PeerAuthentication: ("PeerAuthentication",), Telemetry: ("Telemetry",),
    WasmPlugin: ("WasmPlugin",), EnvoyFilter: ("EnvoyFilter",), Service: ("Service",),
    views.NetworkPolicy: ("NetworkPolicy",),
    MeshRoute: ("HTTPRoute", "GRPCRoute", "TCPRoute", "TLSRoute"),
    IstioGateway: ("Gateway",), ServiceEntry: ("ServiceEntry",),
}


def _fields_read(view_type: type[View], kind: str) -> set[Read]:
    """What every property (and ``NetworkPolicy.rules``) of the view reads of a body."""
    log: set[Read] = set()
    body = RecordingDict({"spec": {}}, kind, (), log)
    view = view_type(Resource(kind=kind, api_version="v1", name="n", namespace="ns",
                              labels={}, annotations={}, body=body))
    for name, member in inspect.getmembers(view_type):
        if isinstance(member, property):
            getattr(view, name)
    if isinstance(view, views.NetworkPolicy):
        view.rules("ingress"), view.rules("egress")
    return log


def test_every_view_is_mapped_to_its_kinds() -> None:
    found = {member for _, member in inspect.getmembers(views, inspect.isclass)
             if issubclass(member, View) and member is not View}
    assert found == set(VIEW_KINDS)


@pytest.mark.parametrize("view_type", list(VIEW_KINDS), ids=lambda v: v.__name__)
def test_every_field_a_view_reads_is_kept_by_slimming(view_type: type[View]) -> None:
    trees = registry_keep_trees()
    for kind in VIEW_KINDS[view_type]:
        dropped = sorted(read for read in _fields_read(view_type, kind) if not kept(read, trees))
        assert dropped == [], f"{view_type.__name__} reads fields no Rule.reads declares"


def one(text: str) -> Resource:
    loaded = load(text)
    assert len(loaded.resources) == 1, loaded.errors
    return loaded.resources[0]


def test_virtual_service_fields_and_mesh_binding() -> None:
    resource = one("""
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: r, namespace: shop}
spec:
  hosts: [reviews, 7]
  gateways: [mesh, istio-system/public]
  http: [{route: [{destination: {host: reviews}}]}, "junk"]
  tcp: {not: a-list}
""")
    vs = VirtualService(resource)
    assert vs.hosts == ["reviews"]
    assert vs.mesh_bound and vs.gateways == ["mesh", "istio-system/public"]
    assert len(vs.http_routes) == 1 and vs.tcp_routes == [] and vs.tls_routes == []


def test_selecting_policies() -> None:
    resource = one("""
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: p, namespace: shop}
spec:
  selector: {matchLabels: {app: cart}}
  targetRef: {kind: Service, name: cart}
  action: deny
  rules: [{to: [{operation: {methods: [GET]}}]}]
""")
    policy = AuthorizationPolicy(resource)
    assert policy.action == "DENY" and len(policy.rules) == 1
    assert policy.selector_labels == {"app": "cart"}
    assert policy.targeted_services == ["cart"]
    envoy = EnvoyFilter(one("""
apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata: {name: f, namespace: shop}
spec:
  workloadSelector: {labels: {app: web}}
  configPatches: [{match: {context: sidecar_inbound}}, {applyTo: CLUSTER}]
"""))
    assert envoy.selector_labels == {"app": "web"}
    assert envoy.patch_contexts == [(0, "SIDECAR_INBOUND"), (1, "")]
    assert Selecting(envoy.resource).target_refs == []


def test_security_and_telemetry_views() -> None:
    peer = PeerAuthentication(one("""
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: p, namespace: shop}
spec: {mtls: {mode: strict}, portLevelMtls: {9100: {mode: DISABLE}}}
"""))
    assert peer.mode == "STRICT" and peer.port_modes == {"9100": "DISABLE"}
    jwt = RequestAuthentication(one("""
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: j, namespace: shop}
spec: {jwtRules: [{issuer: b}, {issuer: a}, {issuer: a}, {jwksUri: x}]}
"""))
    assert jwt.issuers == ["a", "b"]
    telemetry = Telemetry(one("""
apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata: {name: t, namespace: shop}
spec: {metrics: [{providers: [{name: prometheus}]}], accessLogging: [{}]}
"""))
    assert telemetry.l7_sections == ["accessLogging"]


def test_service_routes_gateways_and_entries() -> None:
    service = Service(one("""
apiVersion: v1
kind: Service
metadata: {name: s, namespace: shop}
spec: {selector: {app: s}, ports: [{port: 80, targetPort: 8080}, {port: 15008}, {port: x}]}
"""))
    assert service.selector == {"app": "s"} and service.target_port_numbers == [8080, 15008]
    route = MeshRoute(one("""
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: shop}
spec: {parentRefs: [{name: public}, {kind: Service, name: s}]}
"""))
    assert [index for index, _ in route.service_parents] == [1]
    gateway = IstioGateway(one("""
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: g, namespace: shop}
spec: {servers: [{port: {number: 15443}}, {hosts: ["*"]}]}
"""))
    assert gateway.server_ports == [(0, 15443), (1, None)]
    entry = ServiceEntry(one("""
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: e, namespace: shop}
spec: {endpoints: [{address: 1.2.3.4, network: n2}, {address: 1.2.3.5, network: n1}]}
"""))
    assert entry.endpoint_networks == ["n1", "n2"]
