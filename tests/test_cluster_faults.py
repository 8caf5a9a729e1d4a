"""Cluster-source behaviour a real kube-apiserver cannot be made to show on demand.

These tests use an in-memory fake transport ON PURPOSE, and only for faults: a 429 with
Retry-After, 5xx storms and an expired ``continue`` token (410) cannot be provoked from a real
API server in a test. Everything else (discovery, RBAC, pagination, CRDs, auth) is tested
against a real kube-apiserver in tests/cluster/.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml

from asm_mode_advisor.kinds import KNOWN_KINDS
from asm_mode_advisor.sources.cluster import (
    METADATA_ONLY,
    ClusterError,
    HttpResponse,
    Reader,
    read_cluster,
)

ROOT = Path(__file__).resolve().parents[1]

Fault = Callable[[str, dict[str, list[str]]], HttpResponse | None]


def _ok(data: dict[str, Any]) -> HttpResponse:
    return HttpResponse(200, {"Content-Type": "application/json"}, json.dumps(data).encode())


class FakeServer:
    """Serves discovery and paginated lists for a fixed set of objects (batch/v1beta1 only)."""

    def __init__(self, objects: dict[str, list[dict[str, Any]]],
                 fault: Fault | None = None) -> None:
        self.objects = objects
        self.fault = fault
        self.paths: list[str] = []
        self.accepts: list[str] = []

    def get(self, path: str, accept: str) -> HttpResponse:
        self.paths.append(path)
        self.accepts.append(accept)
        parts = urlsplit(path)
        query = parse_qs(parts.query)
        if self.fault is not None:
            injected = self.fault(parts.path, query)
            if injected is not None:
                return injected
        if parts.path == "/version":
            return _ok({"gitVersion": "v1.20.2"})
        if parts.path == "/apis":
            return _ok({"groups": [
                {"name": "apps", "versions": [{"version": "v1"}]},
                {"name": "batch", "versions": [{"version": "v1"}, {"version": "v1beta1"}]},
                {"name": "networking.istio.io", "versions": [{"version": "v1beta1"}]},
            ]})
        discovery = {
            "/api/v1": ["namespaces", "nodes", "pods", "services", "secrets"],
            "/apis/apps/v1": ["deployments"],
            "/apis/batch/v1": ["jobs"],
            "/apis/batch/v1beta1": ["cronjobs"],
            "/apis/networking.istio.io/v1beta1": ["virtualservices"],
        }
        if parts.path in discovery:
            return _ok({"resources": [{"name": n} for n in discovery[parts.path]]})
        items = self.objects.get(parts.path)
        if items is None:
            return HttpResponse(404, {}, b"{}")
        limit = int(query["limit"][0])
        start = int(query.get("continue", ["0"])[0])
        page = items[start:start + limit]
        token = str(start + limit) if start + limit < len(items) else ""
        return _ok({"metadata": {"continue": token}, "items": page})


def _pods(count: int, owned: bool = True) -> list[dict[str, Any]]:
    owner = [{"kind": "ReplicaSet", "name": "web-5d8f7", "controller": True}]
    return [{"metadata": {"name": f"p{i}", "namespace": "shop",
                          **({"ownerReferences": owner} if owned else {})}}
            for i in range(count)]


OBJECTS = {
    "/api/v1/pods": _pods(5),
    "/api/v1/namespaces": [{"metadata": {"name": "shop"}}],
    "/api/v1/nodes": [{"metadata": {"name": "n1"}}, {"metadata": {"name": "n2"}}],
    "/apis/batch/v1beta1/cronjobs": [{"metadata": {"name": "nightly", "namespace": "shop"}}],
}


def _read(fault: Fault | None = None, page_size: int = 2) -> tuple[FakeServer, list[float],
                                                                    Any]:
    server = FakeServer(OBJECTS, fault)
    sleeps: list[float] = []
    snapshot = read_cluster(Reader(server, sleep=sleeps.append), page_size=page_size)
    return server, sleeps, snapshot


def test_429_retry_after_is_honoured() -> None:
    calls = {"n": 0}

    def throttle(path: str, _: dict[str, list[str]]) -> HttpResponse | None:
        if path == "/api/v1/pods" and calls["n"] < 2:
            calls["n"] += 1
            return HttpResponse(429, {"Retry-After": "7"}, b"{}")
        return None

    _, sleeps, snapshot = _read(throttle)
    assert sleeps == [7.0, 7.0]
    assert sorted(r.name for r in snapshot.resources if r.kind == "Pod") == [
        "p0", "p1", "p2", "p3", "p4"]


def test_5xx_retries_are_bounded_then_fail_with_one_line() -> None:
    def broken(path: str, _: dict[str, list[str]]) -> HttpResponse | None:
        return HttpResponse(503, {}, b'{"message": "etcd down"}') if (
            path == "/api/v1/pods") else None

    with pytest.raises(ClusterError) as caught:
        _read(broken)
    assert "\n" not in str(caught.value)
    assert "5 attempts" in str(caught.value) and "etcd down" in str(caught.value)


def test_backoff_doubles_without_retry_after() -> None:
    calls = {"n": 0}

    def flaky(path: str, _: dict[str, list[str]]) -> HttpResponse | None:
        if path == "/api/v1/services" and calls["n"] < 3:
            calls["n"] += 1
            return HttpResponse(500, {}, b"{}")
        return None

    _, sleeps, _ = _read(flaky)
    assert sleeps == [0.5, 1.0, 2.0]


def test_410_on_continue_restarts_that_list_without_duplicates() -> None:
    expired = {"done": False}

    def expire_once(path: str, query: dict[str, list[str]]) -> HttpResponse | None:
        if path == "/api/v1/pods" and "continue" in query and not expired["done"]:
            expired["done"] = True
            return HttpResponse(410, {}, b'{"reason": "Expired"}')
        return None

    server, _, snapshot = _read(expire_once)
    pods = [r.name for r in snapshot.resources if r.kind == "Pod"]
    assert sorted(pods) == ["p0", "p1", "p2", "p3", "p4"]
    pod_requests = [p for p in server.paths if p.startswith("/api/v1/pods")]
    # first page, expired continue, then three pages from the start
    assert len(pod_requests) == 5


def test_410_forever_gives_up() -> None:
    def always(path: str, query: dict[str, list[str]]) -> HttpResponse | None:
        return HttpResponse(410, {}, b"{}") if path == "/api/v1/pods" and "continue" in (
            query) else None

    with pytest.raises(ClusterError, match="continue token expired"):
        _read(always)


def test_401_is_fatal() -> None:
    with pytest.raises(ClusterError, match="401"):
        _read(lambda path, _: HttpResponse(401, {}, b"{}"))


def test_403_on_one_kind_gives_a_partial_snapshot() -> None:
    def forbid(path: str, _: dict[str, list[str]]) -> HttpResponse | None:
        return HttpResponse(403, {}, b"{}") if path == "/api/v1/pods" else None

    _, _, snapshot = _read(forbid)
    assert snapshot.forbidden == ["pods/v1"]
    assert not [r for r in snapshot.resources if r.kind == "Pod"]
    assert [r.name for r in snapshot.resources if r.kind == "CronJob"] == ["nightly"]


def test_cronjob_falls_back_to_v1beta1_and_missing_kinds_are_noted() -> None:
    server, _, snapshot = _read()
    assert snapshot.versions["CronJob.batch"] == "batch/v1beta1"
    cronjob = next(r for r in snapshot.resources if r.kind == "CronJob")
    assert cronjob.api_version == "batch/v1beta1" and cronjob.source.cluster
    assert "EnvoyFilter.networking.istio.io" in snapshot.not_served
    assert "Deployment.apps" not in snapshot.not_served
    assert not any("secrets" in path for path in server.paths)


def test_nodes_namespaces_and_owned_pods_are_read_as_metadata_only() -> None:
    server, _, snapshot = _read()
    accepts = dict(zip(server.paths, server.accepts, strict=True))
    assert accepts["/api/v1/nodes?limit=2"] == METADATA_ONLY
    assert accepts["/api/v1/namespaces?limit=2"] == METADATA_ONLY
    pod_lists = [(p, a) for p, a in zip(server.paths, server.accepts, strict=True)
                 if p.startswith("/api/v1/pods")]
    assert {accept for _, accept in pod_lists} == {METADATA_ONLY}
    assert len(pod_lists) == 3  # five controller-owned pods, two per page, listed once
    assert snapshot.node_count == 2
    assert not [r for r in snapshot.resources if r.kind == "Node"]


def test_a_pod_without_controller_makes_pods_listed_in_full() -> None:
    """A bare Pod is a workload whose spec the rules read, so Pods are listed again in full."""
    objects = {**OBJECTS, "/api/v1/pods": _pods(4) + _pods(1, owned=False)}
    server = FakeServer(objects)
    snapshot = read_cluster(Reader(server, sleep=lambda _: None), page_size=2)
    pod_lists = [a for p, a in zip(server.paths, server.accepts, strict=True)
                 if p.startswith("/api/v1/pods")]
    assert pod_lists == [METADATA_ONLY] * 3 + ["application/json"] * 3
    assert len([r for r in snapshot.resources if r.kind == "Pod"]) == 5


def test_rbac_grants_exactly_what_scan_reads() -> None:
    documents = list(yaml.safe_load_all((ROOT / "deploy" / "rbac.yaml").read_text()))
    role = next(d for d in documents if d["kind"] == "ClusterRole")
    granted = {(group, plural) for rule in role["rules"] if "resources" in rule
               for group in rule["apiGroups"] for plural in rule["resources"]}
    read = {(info.group, info.plural) for info in KNOWN_KINDS}
    assert granted == read
    assert all(set(rule["verbs"]) <= {"get", "list"} for rule in role["rules"])
    assert not any("secrets" in rule.get("resources", []) for rule in role["rules"])


def test_cli_import_does_not_load_kubernetes() -> None:
    code = ("import sys, asm_mode_advisor.cli; "
            "print(any(m == 'kubernetes' or m.startswith('kubernetes.') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
