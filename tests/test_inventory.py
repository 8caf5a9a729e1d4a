"""The inventory: indexes, selectors, host and targetRef resolution, current mode."""

from __future__ import annotations

from typing import Any

import pytest

from asm_mode_advisor.inventory import INDEXED_FROM, Inventory, pod_template, selector_matches
from asm_mode_advisor.model import Mode
from support import inventory_from

SHOP = """
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio.io/dataplane-mode: ambient}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: cart, namespace: shop}
spec:
  template:
    metadata: {labels: {app: cart, version: v1, tier: backend}}
    spec: {containers: [{name: app, image: cart:1}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  template:
    metadata: {labels: {app: db, tier: data}}
    spec: {containers: [{name: db, image: db:1}]}
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: cart-5d8f
  namespace: shop
  ownerReferences: [{kind: Deployment, name: cart, controller: true}]
spec:
  template:
    metadata: {labels: {app: cart, version: v1}}
    spec: {containers: [{name: app, image: cart:1}]}
---
apiVersion: v1
kind: Pod
metadata: {name: debug, namespace: shop, labels: {app: debug}}
spec: {containers: [{name: sh, image: busybox}]}
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly, namespace: shop}
spec:
  jobTemplate:
    spec:
      template:
        metadata: {labels: {app: nightly}}
        spec: {containers: [{name: n, image: n:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: cart, namespace: shop}
spec: {selector: {app: cart}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec: {selector: {app: db}, ports: [{port: 5432}]}
---
apiVersion: v1
kind: Service
metadata: {name: external, namespace: shop}
spec: {type: ExternalName, externalName: example.com}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: other}
spec: {selector: {app: api}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: shop}
spec: {gatewayClassName: istio-waypoint}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec: {selector: {istio: ingressgateway}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: reader}
"""


@pytest.fixture(scope="module")
def inventory() -> Inventory:
    return inventory_from(SHOP)


def names(workloads: list[Any]) -> list[str]:
    return sorted(w.resource.name for w in workloads)


def test_namespaces_and_counts(inventory: Inventory) -> None:
    assert inventory.namespaces == ["other", "shop"]
    assert inventory.counts[None] == 2  # Namespace and ClusterRole
    assert inventory.counts["shop"] == 10


def test_controlled_replicaset_counts_through_its_deployment(inventory: Inventory) -> None:
    assert names(inventory.workloads("shop")) == ["cart", "db", "debug", "nightly"]
    assert len(inventory.of_kind("ReplicaSet", "shop")) == 1


def test_pod_templates_of_every_kind(inventory: Inventory) -> None:
    by_name = {w.resource.name: w for w in inventory.workloads("shop")}
    assert by_name["debug"].pod_labels == {"app": "debug"}
    assert by_name["nightly"].pod_labels == {"app": "nightly"}
    assert [c["name"] for c in by_name["db"].containers] == ["db"]
    meta, spec = pod_template(by_name["cart"].resource)
    assert meta["labels"]["version"] == "v1" and spec["containers"][0]["image"] == "cart:1"


def test_gateways_by_group(inventory: Inventory) -> None:
    assert [g.name for g in inventory.waypoints("shop")] == ["waypoint"]
    assert [g.name for g in inventory.istio_gateways()] == ["public"]
    assert len(inventory.of_kind("Gateway", "shop")) == 2


@pytest.mark.parametrize(("selector", "expected"), [
    ({}, ["cart", "db", "debug", "nightly"]),
    ({"app": "cart"}, ["cart"]),
    ({"matchLabels": {"tier": "backend"}}, ["cart"]),
    ({"matchLabels": {"app": "cart", "version": "v2"}}, []),
    ({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["backend", "data"]}]},
     ["cart", "db"]),
    ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["data"]}]},
     ["cart", "debug", "nightly"]),
    ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, ["cart", "db"]),
    ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, ["debug", "nightly"]),
    ({"matchLabels": {"tier": "backend"},
      "matchExpressions": [{"key": "version", "operator": "In", "values": ["v1"]}]}, ["cart"]),
    ({"app": "nobody"}, []),
])
def test_select_workloads(inventory: Inventory, selector: dict[str, Any],
                          expected: list[str]) -> None:
    assert names(inventory.select_workloads("shop", selector)) == expected


def test_selector_matches_plain_maps_and_stringifies() -> None:
    assert selector_matches({"v": 1}, {"v": "1"})
    assert not selector_matches({"matchLabels": {"a": "b"}}, {})
    assert selector_matches({"matchExpressions": "junk"}, {"a": "b"})


def test_services_of_workloads_and_back(inventory: Inventory) -> None:
    cart = inventory.select_workloads("shop", {"app": "cart"})
    assert inventory.services_of_workloads("shop", cart) == ["cart"]
    service = inventory.service("shop", "cart")
    assert service is not None
    assert names(inventory.workloads_of_service(service)) == ["cart"]
    external = inventory.service("shop", "external")
    assert external is not None and inventory.workloads_of_service(external) == []
    assert inventory.service("shop", "nope") is None


@pytest.mark.parametrize(("host", "resolved"), [
    ("cart", ("shop", "cart")),
    ("Cart ", ("shop", "cart")),
    ("api.other", ("other", "api")),
    ("cart.shop.svc", ("shop", "cart")),
    ("api.other.svc.cluster.local", ("other", "api")),
    ("new.unlisted.svc.cluster.local", ("unlisted", "new")),
    ("api.example", None),
    ("www.example.com", None),
    ("*.shop.svc.cluster.local", None),
    ("*", None),
    ("", None),
])
def test_resolve_host(inventory: Inventory, host: str,
                      resolved: tuple[str, str] | None) -> None:
    assert inventory.resolve_host(host, "shop") == resolved


def policy(spec: str, namespace: str = "shop") -> Inventory:
    return inventory_from(SHOP + "---\napiVersion: security.istio.io/v1\n"
                          "kind: AuthorizationPolicy\n"
                          f"metadata: {{name: p, namespace: {namespace}}}\nspec:\n{spec}")


def the_policy(inventory: Inventory) -> Any:
    return inventory.of_kind("AuthorizationPolicy")[0]


@pytest.mark.parametrize(("spec", "services"), [
    ("  targetRefs: [{kind: Service, name: db}, {kind: Gateway, name: waypoint}]\n", ["db"]),
    ("  targetRef: {kind: Service, name: cart}\n", ["cart"]),
    ("  selector: {matchLabels: {app: cart}}\n", ["cart"]),
    ("  selector: {matchLabels: {app: debug}}\n", []),
    ("  action: DENY\n", ["cart", "db", "external"]),
])
def test_policy_services(spec: str, services: list[str]) -> None:
    inventory = policy(spec)
    assert inventory.policy_services(the_policy(inventory)) == services


def test_mesh_wide_policy_is_root_namespace_without_selector() -> None:
    root = policy("  action: DENY\n", namespace="istio-system")
    assert root.is_mesh_wide(the_policy(root))
    scoped = policy("  selector: {matchLabels: {app: x}}\n", namespace="istio-system")
    assert not scoped.is_mesh_wide(the_policy(scoped))
    assert not policy("  action: DENY\n").is_mesh_wide(the_policy(policy("  action: DENY\n")))


@pytest.mark.parametrize(("labels", "mode"), [
    ({}, Mode.NONE),
    ({"istio-injection": "enabled"}, Mode.SIDECAR),
    ({"istio-injection": "disabled"}, Mode.NONE),
    ({"istio.io/rev": "asm-1-25"}, Mode.SIDECAR),
    ({"istio.io/dataplane-mode": "ambient"}, Mode.AMBIENT),
    ({"istio.io/dataplane-mode": "none"}, Mode.NONE),
    ({"istio-injection": "enabled", "istio.io/dataplane-mode": "ambient"}, Mode.CONFLICT),
])
def test_current_mode(labels: dict[str, str], mode: Mode) -> None:
    text = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ns\n"
    if labels:
        text += "  labels:\n" + "".join(f"    {k}: {v}\n" for k, v in labels.items())
    assert inventory_from(text).current_mode("ns") is mode


def test_namespace_without_object_has_no_mode(inventory: Inventory) -> None:
    assert inventory.current_mode("other") is Mode.NONE
    assert inventory.current_mode("shop") is Mode.AMBIENT


def test_resources_are_sorted_whatever_the_input_order() -> None:
    docs = SHOP.split("\n---\n")
    forward = [r.ref for r in inventory_from("\n---\n".join(docs)).resources]
    backward = [r.ref for r in inventory_from("\n---\n".join(reversed(docs))).resources]
    assert forward == backward
    assert forward[0] == "ClusterRole/reader"


def test_in_namespace_lists_every_kind(inventory: Inventory) -> None:
    kinds = sorted({r.kind for r in inventory.in_namespace("shop")})
    assert kinds == ["CronJob", "Deployment", "Gateway", "Pod", "ReplicaSet", "Service",
                     "StatefulSet"]


@pytest.mark.parametrize("count", [5, INDEXED_FROM + 8])
def test_selection_is_the_same_with_and_without_the_label_index(count: int) -> None:
    docs = [f"""\
apiVersion: apps/v1
kind: Deployment
metadata: {{name: app-{i}, namespace: big}}
spec:
  selector: {{matchLabels: {{app: app-{i % 7}}}}}
  template:
    metadata: {{labels: {{app: app-{i % 7}, tier: t{i % 3}}}}}
    spec: {{containers: [{{name: c, image: x}}]}}
""" for i in range(count)]
    inventory = inventory_from("---\n".join(docs))
    workloads = inventory.workloads("big")
    assert len(workloads) == count
    selectors: list[dict[str, Any]] = [
        {"app": "app-3"}, {"matchLabels": {"app": "app-3", "tier": "t0"}}, {"tier": "t2"},
        {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["t1"]}]},
        {"matchLabels": {"app": "none"}}]
    for selector in selectors:
        expected = [w for w in workloads if selector_matches(selector, w.pod_labels)]
        assert inventory.select_workloads("big", selector) == expected
    assert ("big" in inventory._label_index) == (count >= INDEXED_FROM)


def test_kind_and_name_lookups_stay_inside_their_namespace() -> None:
    inventory = inventory_from("""
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a}
spec: {ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: b}
spec: {ports: [{port: 81}]}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: web, namespace: a}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: a}
spec: {ports: [{port: 82}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: a}
spec: {ports: [{port: 83}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: c}
""")
    assert [s.name for s in inventory.of_kind("Service", "a")] == ["api", "web", "web"]
    assert [s.name for s in inventory.of_kind("Service", "b")] == ["web"]
    assert inventory.of_kind("Service", "c") == [] and inventory.of_kind("Service", "z") == []
    assert [r.kind for r in inventory.of_kind("ServiceAccount", "a")] == ["ServiceAccount"]
    later = inventory.service("a", "web")
    assert later is not None and later.spec["ports"] == [{"port": 83}]  # a duplicate replaces
    assert inventory.service("a", "nope") is None and inventory.service("z", "web") is None
    assert inventory.counts == {"a": 4, "b": 1, None: 1}
    assert inventory.namespaces == ["a", "b", "c"]
    assert [r.kind for r in inventory.in_namespace("a")] == [
        "Service", "Service", "Service", "ServiceAccount"]
