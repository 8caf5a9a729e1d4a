"""Calls read off the manifests: env addresses, routes and policy peers."""

from __future__ import annotations

import random
import textwrap

from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.sources.files import LoadResult, load_paths, load_text
from asm_mode_advisor.traffic.addresses import addresses, digest
from asm_mode_advisor.traffic.graph import Call, Graph, merged
from asm_mode_advisor.traffic.manifests import calls_from_manifests
from shared_spec import CORPUS, needs_shared

BOUTIQUE = CORPUS / "39-large-inputs" / "online-boutique" / "release" / "kubernetes-manifests.yaml"


def graph_of(text: str) -> Graph:
    result = LoadResult()
    load_text(textwrap.dedent(text), "test.yaml", "default", result)
    graph = Graph()
    graph.add(calls_from_manifests(Inventory.build(result.resources)))
    return graph


def pairs(graph: Graph) -> set[tuple[str, str, str, str, str, str]]:
    return {(c.source_namespace, c.source_workload, c.destination_namespace,
             c.destination_service, c.protocol, c.clue) for c in graph.calls}


SERVICES = """
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec:
  selector: {app: cart}
  ports: [{name: grpc, port: 7070}]
---
apiVersion: v1
kind: Service
metadata: {name: redis, namespace: shop}
spec:
  selector: {app: redis}
  ports: [{name: tcp-redis, port: 6379}]
---
apiVersion: v1
kind: Service
metadata: {name: orders, namespace: api}
spec:
  selector: {app: orders}
  ports: [{name: http, port: 8080, appProtocol: http}]
---
"""


def test_env_values_args_and_urls_name_services() -> None:
    graph = graph_of(SERVICES + """
apiVersion: apps/v1
kind: Deployment
metadata: {name: frontend, namespace: web}
spec:
  template:
    metadata: {labels: {app: frontend}}
    spec:
      containers:
      - name: app
        image: example/frontend
        args: ["--orders=http://orders.api.svc.cluster.local:8080/v1"]
        env:
        - {name: CART_SERVICE_ADDR, value: "cart.shop:7070"}
        - {name: CACHE, value: "redis://user:secret@redis.shop.svc:6379/0"}
        - {name: MODE, value: "cart"}
""")
    assert pairs(graph) == {
        ("web", "frontend", "api", "orders", "http", "address"),
        ("web", "frontend", "shop", "cart", "grpc", "address"),
        ("web", "frontend", "shop", "redis", "tcp", "address"),
    }


def test_bare_words_count_only_in_address_settings() -> None:
    graph = graph_of(SERVICES + """
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker, namespace: shop}
spec:
  template:
    metadata: {labels: {app: worker}}
    spec:
      containers:
      - name: app
        image: example/worker
        env:
        - {name: ROLE, value: "redis"}
        - {name: REDIS_HOST, value: "redis"}
""")
    assert pairs(graph) == {("shop", "worker", "shop", "redis", "tcp", "address")}


def test_own_service_and_unknown_hosts_are_not_calls() -> None:
    graph = graph_of(SERVICES + """
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  template:
    metadata: {labels: {app: cart}}
    spec:
      containers:
      - name: app
        image: example/cart
        env:
        - {name: SELF_ADDR, value: "cart:7070"}
        - {name: UPSTREAM_URL, value: "https://api.example.com:443"}
""")
    assert not graph.calls


def test_routes_and_policy_peers() -> None:
    graph = graph_of(SERVICES + """
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: orders-ingress, namespace: api}
spec:
  hosts: [orders.example.com]
  gateways: [istio-ingress/public]
  http: [{route: [{destination: {host: orders}}]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cart-from-web, namespace: web}
spec:
  hosts: [cart.shop.svc.cluster.local]
  http: [{timeout: 2s, route: [{destination: {host: cart.shop.svc.cluster.local}}]}]
---
apiVersion: v1
kind: Namespace
metadata: {name: web, labels: {team: web}}
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: orders-callers, namespace: api}
spec:
  rules: [{from: [{source: {namespaces: [web]}}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: from-web, namespace: shop}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {team: web}}}]}]
""")
    found = pairs(graph)
    assert ("istio-ingress", "", "api", "orders", "http", "ingress") in found
    assert ("web", "", "shop", "cart", "grpc", "route") in found
    assert ("web", "", "api", "", "tcp", "authorization") in found
    assert ("web", "", "shop", "", "tcp", "network-policy") in found
    assert [c.source_namespace for c in graph.by_destination()["shop"]
            if c.crosses_namespaces] == ["web", "web"]


def test_merge_prefers_measured_figures_and_specific_protocols() -> None:
    manifest = Call("web", "shop", "cart", "frontend", protocol="tcp", clue="address")
    metric = Call("web", "shop", "cart", "frontend", protocol="grpc", origin="metrics",
                  requests_per_second=4.0)
    both = merged(manifest, metric)
    assert (both.origin, both.protocol, both.requests_per_second, both.clue) == (
        "metrics", "grpc", 4.0, "address")
    graph = Graph()
    graph.add([manifest, metric, manifest])
    assert len(graph.calls) == 1 and graph.calls[0].origin == "metrics"


@needs_shared(BOUTIQUE)
def test_online_boutique_frontend_calls_its_peers() -> None:
    result = load_paths([str(BOUTIQUE)], slim_bodies=True)
    graph = Graph()
    graph.add(calls_from_manifests(Inventory.build(result.resources)))
    frontend = {c.destination_service: c.protocol for c in graph.calls
                if c.source_workload == "frontend"}
    assert frontend == {"adservice": "grpc", "cartservice": "grpc", "checkoutservice": "grpc",
                        "currencyservice": "grpc", "productcatalogservice": "grpc",
                        "recommendationservice": "grpc", "shippingservice": "grpc"}
    checkout = {c.destination_service for c in graph.calls
                if c.source_workload == "checkoutservice"}
    assert {"paymentservice", "emailservice", "shippingservice"} <= checkout


def test_compact_drops_policy_peers_a_precise_call_covers() -> None:
    graph = Graph()
    graph.add([Call("web", "shop", clue="authorization"),
               Call("web", "shop", "cart", "frontend", clue="address"),
               Call("ops", "shop", clue="network-policy")])
    graph.compact()
    assert [(c.source_namespace, c.destination_service) for c in graph.sorted_calls()] == [
        ("ops", ""), ("web", "cart")]


def test_a_digest_reads_as_its_text() -> None:
    """Slimming keeps digests: the graph must find the same addresses in them (seeded)."""
    rng = random.Random(15)
    pieces = ["cart", "cart.shop", "cart.shop.svc.cluster.local", ":8080", "http://", "redis://",
              "user:pw@", "/v1/x.y", "?q=a.b", " ", ",", "=", "--flag", "db-1", "@", "x.y.z",
              "CAFÉ", "İ", "\t", ";", "'", '"']
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(1, 12)))
        for named in (False, True):
            assert list(addresses(digest(text, named), named)) == list(addresses(text, named))
