"""The real-API-server test infrastructure itself (apiserver.py, crds.yaml, conftest.py).

Most tests run on a cluster of their own (module scope), not on the session's
``kube_cluster``: they make the reader request Secrets and stop the server,
which must not show up in the audit log or the uptime of the scan tests.
"""

from __future__ import annotations

import base64
import json
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import (
    ADMIN_USER,
    CRDS_FILE,
    LIMITED_USER,
    READER_CLUSTER_ROLE,
    READER_USER,
    ClusterError,
    TestCluster,
    find_assets,
    load_yaml,
    missing_assets_message,
)

CRDS = load_yaml(CRDS_FILE)

NS_A, NS_B = "smoke-a", "smoke-b"


def _deployment(name: str, namespace: str) -> dict[str, Any]:
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{"name": "app", "image": "example.invalid/app:1"}]},
            },
        },
    }


def _service(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"selector": {"app": name}, "ports": [{"name": "http", "port": 80}]},
    }


def _virtual_service(name: str, namespace: str, version: str) -> dict[str, Any]:
    return {
        "apiVersion": f"networking.istio.io/{version}", "kind": "VirtualService",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"hosts": [name], "http": [{"route": [{"destination": {"host": name}}]}]},
    }


def _cronjob(name: str, namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1beta1", "kind": "CronJob",  # 1.20: no batch/v1 CronJob
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "schedule": "*/5 * * * *",
            "jobTemplate": {"spec": {"template": {"spec": {
                "restartPolicy": "Never",
                "containers": [{"name": "job", "image": "example.invalid/job:1"}],
            }}}},
        },
    }


WORKLOADS: list[dict[str, Any]] = [
    # Namespaces are listed last on purpose: apply() must create them first.
    _deployment("web", NS_A), _deployment("api", NS_B),
    _service("web", NS_A), _service("api", NS_B),
    _virtual_service("web", NS_A, "v1"), _virtual_service("api", NS_B, "v1alpha3"),
    _cronjob("report", NS_A), _cronjob("cleanup", NS_B),
    {
        # A Pod with a sidecar: must be admitted without a controller-manager.
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "web-0", "namespace": NS_A,
                     "annotations": {"sidecar.istio.io/status": "{}"}},
        "spec": {"containers": [
            {"name": "app", "image": "example.invalid/app:1"},
            {"name": "istio-proxy", "image": "example.invalid/proxyv2:1",
             "securityContext": {"runAsUser": 1337}},
        ]},
    },
    {"apiVersion": "v1", "kind": "Namespace",
     "metadata": {"name": NS_A, "labels": {"istio-injection": "enabled"}}},
    {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": NS_B}},
]

# (list path, names created above) for the reader's cluster-wide pagination test.
LISTS = {
    "/api/v1/namespaces": {NS_A, NS_B},
    "/apis/apps/v1/deployments": {"web", "api"},
    "/api/v1/services": {"web", "api", "kubernetes"},
    "/apis/networking.istio.io/v1/virtualservices": {"web", "api"},
    "/apis/networking.istio.io/v1alpha3/virtualservices": {"web", "api"},
    "/apis/batch/v1beta1/cronjobs": {"report", "cleanup"},
}


@pytest.fixture(scope="module")
def cluster() -> Iterator[TestCluster]:
    assets = find_assets()
    if assets is None:
        pytest.fail(missing_assets_message(), pytrace=False)
    with TestCluster(assets) as own:
        own.apply(CRDS)
        yield own


@pytest.fixture(scope="module")
def workloads(cluster: TestCluster) -> list[dict[str, Any]]:
    return cluster.apply(WORKLOADS)


def _conditions(crd: dict[str, Any]) -> dict[str, str]:
    return {c["type"]: c["status"] for c in crd.get("status", {}).get("conditions", [])}


# ----------------------------------------------------------------------------- session fixture


def test_session_fixture_is_ready_with_crds(kube_cluster: TestCluster) -> None:
    status, body, _ = kube_cluster.request("GET", "/readyz", raw=True)
    assert status == 200, body
    for crd in CRDS:
        current = kube_cluster.get(
            f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{crd['metadata']['name']}")
        assert _conditions(current).get("Established") == "True", crd["metadata"]["name"]
    binding = kube_cluster.get(
        "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings/asm-advisor-test-reader")
    assert binding["roleRef"]["name"] == READER_CLUSTER_ROLE
    assert binding["subjects"][0]["name"] == READER_USER


# ----------------------------------------------------------------------------- server


def test_server_starts_and_is_kubernetes_1_20(cluster: TestCluster) -> None:
    assert cluster.url.startswith("https://127.0.0.1:")
    assert cluster.apiserver_running
    status, body, _ = cluster.request("GET", "/readyz", raw=True)
    assert (status, body) == (200, "ok")
    version = cluster.get("/version")
    assert version["gitVersion"].startswith("v1.20.")
    # TLS is verified against the generated CA (ssl.create_default_context checks names).
    context = ssl.create_default_context(cafile=str(cluster.ca_file))
    with urllib.request.urlopen(f"{cluster.url}/version", context=context, timeout=10) as resp:
        assert resp.status in (200, 401, 403)  # anonymous; only the TLS handshake matters


def test_unknown_token_is_rejected(cluster: TestCluster) -> None:
    status, body, _ = cluster.request("GET", "/api/v1/namespaces", token="nope")
    assert status == 401, body


def test_rest_mapping_from_discovery(cluster: TestCluster) -> None:
    cronjob = cluster.resource_for("batch/v1beta1", "CronJob")
    assert (cronjob.plural, cronjob.namespaced) == ("cronjobs", True)
    assert cluster.resource_for("v1", "Namespace").namespaced is False
    vs = cluster.resource_for("networking.istio.io/v1", "VirtualService")
    assert vs.collection_path("x") == "/apis/networking.istio.io/v1/namespaces/x/virtualservices"
    with pytest.raises(ClusterError):
        cluster.resource_for("batch/v1", "CronJob")  # CronJob reached batch/v1 in 1.21


# ----------------------------------------------------------------------------- CRDs


@pytest.mark.parametrize("crd", CRDS, ids=[c["metadata"]["name"] for c in CRDS])
def test_crd_is_established_and_served(cluster: TestCluster, crd: dict[str, Any]) -> None:
    name = crd["metadata"]["name"]
    current = cluster.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
    conditions = _conditions(current)
    assert conditions.get("Established") == "True", conditions
    assert conditions.get("NamesAccepted") == "True", conditions
    if crd["spec"]["group"].endswith(".k8s.io"):
        assert conditions.get("KubernetesAPIApprovalPolicyConformant") == "True", conditions
    assert [v["name"] for v in crd["spec"]["versions"] if v["storage"]] == current["status"][
        "storedVersions"]
    for version in crd["spec"]["versions"]:
        info = cluster.resource_for(f"{crd['spec']['group']}/{version['name']}",
                                    crd["spec"]["names"]["kind"])
        assert info.plural == crd["spec"]["names"]["plural"]
        assert info.namespaced is True


# ----------------------------------------------------------------------------- admin writes


def test_admin_creates_namespaces_and_workloads(cluster: TestCluster,
                                                workloads: list[dict[str, Any]]) -> None:
    assert len(workloads) == len(WORKLOADS)
    assert all(obj["metadata"].get("uid") for obj in workloads)
    kinds = [obj["kind"] for obj in workloads]
    assert kinds[:2] == ["Namespace", "Namespace"]
    assert {"Deployment", "Service", "VirtualService", "CronJob", "Pod"} <= set(kinds)
    pod = cluster.get(f"/api/v1/namespaces/{NS_A}/pods/web-0")
    assert [c["name"] for c in pod["spec"]["containers"]] == ["app", "istio-proxy"]
    # v1alpha3 and v1 are views of the same stored objects.
    vs = cluster.get(f"/apis/networking.istio.io/v1beta1/namespaces/{NS_B}/virtualservices/api")
    assert vs["apiVersion"] == "networking.istio.io/v1beta1"
    assert vs["spec"]["hosts"] == ["api"]


def test_apply_again_updates_in_place(cluster: TestCluster,
                                     workloads: list[dict[str, Any]]) -> None:
    service = _service("web", NS_A)
    service["metadata"]["labels"] = {"changed": "yes"}
    vs = _virtual_service("web", NS_A, "v1")
    vs["spec"]["hosts"] = ["web", "web.example.com"]
    again = cluster.apply([service, vs])
    for before in (o for o in workloads
                   if o["kind"] in ("Service", "VirtualService")
                   and o["metadata"]["name"] == "web"):
        after = next(o for o in again if o["kind"] == before["kind"])
        assert after["metadata"]["uid"] == before["metadata"]["uid"]
    assert again[0]["metadata"]["labels"] == {"changed": "yes"}
    assert again[0]["spec"]["clusterIP"]  # server-filled fields survive
    assert again[1]["spec"]["hosts"] == ["web", "web.example.com"]


# ----------------------------------------------------------------------------- reader


@pytest.mark.usefixtures("workloads")
@pytest.mark.parametrize("path", sorted(LISTS))
def test_reader_lists_cluster_wide_one_item_per_page(cluster: TestCluster, path: str) -> None:
    first = cluster.get(path, token=cluster.reader_token, query={"limit": 1})
    assert len(first["items"]) == 1
    assert first["metadata"].get("continue"), "a second page must exist"
    names = [item["metadata"]["name"]
             for item in cluster.list_all(path, token=cluster.reader_token, limit=1)]
    assert len(names) == len(set(names)) >= 2
    assert LISTS[path] <= set(names)
    everything = cluster.get(path, token=cluster.reader_token)
    assert sorted(names) == sorted(i["metadata"]["name"] for i in everything["items"])


@pytest.mark.usefixtures("workloads")
@pytest.mark.parametrize("path", ["/api/v1/secrets", f"/api/v1/namespaces/{NS_A}/secrets",
                                  f"/api/v1/namespaces/{NS_A}/secrets/any"])
def test_reader_is_forbidden_secrets(cluster: TestCluster, path: str) -> None:
    status, body, _ = cluster.request("GET", path, token=cluster.reader_token)
    assert status == 403, body
    assert body["reason"] == "Forbidden"
    assert f'"{READER_USER}"' in body["message"]


@pytest.mark.usefixtures("workloads")
def test_reader_cannot_write(cluster: TestCluster) -> None:
    status, body, _ = cluster.request("POST", f"/api/v1/namespaces/{NS_A}/services",
                                      _service("x", NS_A), token=cluster.reader_token)
    assert status == 403, body


@pytest.mark.usefixtures("workloads")
def test_limited_user_has_only_what_it_is_granted(cluster: TestCluster) -> None:
    token = cluster.limited_token
    assert cluster.request("GET", f"/api/v1/namespaces/{NS_A}/services", token=token)[0] == 403
    cluster.grant(LIMITED_USER, [{"apiGroups": [""], "resources": ["services"],
                                  "verbs": ["list"]}], namespace=NS_A)
    listed = cluster.get(f"/api/v1/namespaces/{NS_A}/services", token=token)
    assert [s["metadata"]["name"] for s in listed["items"]] == ["web"]
    assert cluster.request("GET", "/api/v1/services", token=token)[0] == 403
    assert cluster.request("GET", f"/api/v1/namespaces/{NS_B}/services", token=token)[0] == 403


# ----------------------------------------------------------------------------- audit


@pytest.mark.usefixtures("workloads")
def test_audit_log_records_user_verb_and_resource(cluster: TestCluster) -> None:
    since = cluster.audit_offset()
    cluster.get("/apis/networking.istio.io/v1/virtualservices", token=cluster.reader_token,
                query={"limit": 1})
    cluster.request("GET", "/api/v1/secrets", token=cluster.reader_token)
    events = cluster.audit_events(READER_USER, since=since)
    seen = {(e["verb"], e["objectRef"].get("apiGroup", ""), e["objectRef"]["resource"],
             e["responseStatus"]["code"]) for e in events if e.get("objectRef")}
    assert ("list", "networking.istio.io", "virtualservices", 200) in seen
    assert ("list", "", "secrets", 403) in seen
    assert all(e["level"] == "Metadata" and e["stage"] == "ResponseComplete" for e in events)
    assert all(e["user"]["username"] == READER_USER for e in events)
    assert "limit=1" in next(e["requestURI"] for e in events
                             if e["objectRef"]["resource"] == "virtualservices")
    # Earlier events are there too: the admin's writes.
    assert ("create", "batch", "cronjobs") in cluster.requested_resources(ADMIN_USER)
    assert cluster.audit_events(READER_USER, since=cluster.audit_offset()) == []


# ----------------------------------------------------------------------------- kubeconfig


@pytest.mark.parametrize("embed_ca", [True, False])
def test_kubeconfig_reaches_the_server(cluster: TestCluster, tmp_path: Path,
                                       embed_ca: bool) -> None:
    path = cluster.write_kubeconfig(tmp_path / "config", token=cluster.reader_token,
                                    context_name="smoke", namespace=NS_A, embed_ca=embed_ca)
    config = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert config["current-context"] == "smoke"
    [context] = config["contexts"]
    assert context["context"]["namespace"] == NS_A
    [user] = config["users"]
    assert user == {"name": READER_USER, "user": {"token": cluster.reader_token}}
    [entry] = config["clusters"]
    server = entry["cluster"]["server"]
    if embed_ca:
        ca = base64.b64decode(entry["cluster"]["certificate-authority-data"]).decode()
        context_ssl = ssl.create_default_context(cadata=ca)
    else:
        context_ssl = ssl.create_default_context(cafile=entry["cluster"]["certificate-authority"])
    request = urllib.request.Request(
        f"{server}/api/v1/namespaces/{NS_A}",
        headers={"Authorization": f"Bearer {user['user']['token']}"})
    with urllib.request.urlopen(request, context=context_ssl, timeout=10) as resp:
        assert json.load(resp)["metadata"]["name"] == NS_A


# ----------------------------------------------------------------------------- stop (keep last)


@pytest.mark.usefixtures("workloads")
def test_stop_kills_the_server_and_start_brings_it_back(cluster: TestCluster) -> None:
    cluster.stop()
    assert not cluster.apiserver_running
    with pytest.raises(urllib.error.URLError):
        cluster.request("GET", "/readyz", timeout=5)
    cluster.start_apiserver()
    assert cluster.apiserver_running
    # etcd kept everything.
    assert cluster.get(f"/apis/batch/v1beta1/namespaces/{NS_A}/cronjobs/report")["metadata"]
