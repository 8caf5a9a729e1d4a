"""``asm-advisor scan`` against a real kube-apiserver (tests/cluster/apiserver.py).

Objects are loaded as the admin user; ``scan`` runs as ``asm-reader`` (bound to the ClusterRole
of deploy/rbac.yaml) or as ``limited``. No API is mocked here.
"""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from apiserver import CRDS_FILE, LIMITED_USER, READER_USER, TestCluster, load_yaml

from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.sources.cluster import (
    ClusterError,
    ClusterOptions,
    Reader,
    connect,
    read_cluster,
)
from asm_mode_advisor.sources.files import load_paths
from asm_mode_advisor.sources.kubeconfig import load_endpoint

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"


def example_objects() -> list[dict[str, Any]]:
    """Every object of examples/, with CronJobs as batch/v1beta1 (the server is 1.20)."""
    objects = []
    for path in sorted(EXAMPLES.rglob("*.y*ml")):
        for document in yaml.safe_load_all(path.read_text(encoding="utf-8")):
            if not isinstance(document, dict):
                continue
            document = copy.deepcopy(document)
            if document.get("kind") == "CronJob":
                document["apiVersion"] = "batch/v1beta1"
            objects.append(document)
    return objects


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    # The table follows COLUMNS when it is set: fix it, whatever the calling shell says.
    env = {**os.environ, "COLUMNS": "110"}
    return subprocess.run([sys.executable, "-m", "asm_mode_advisor", "scan", *args],
                          capture_output=True, text=True, timeout=120, check=False, env=env)


@pytest.fixture(scope="module")
def loaded(kube_cluster: TestCluster) -> TestCluster:
    kube_cluster.apply(load_yaml(CRDS_FILE))
    kube_cluster.apply(example_objects())
    return kube_cluster


@pytest.fixture(scope="module")
def reader_config(loaded: TestCluster, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return loaded.write_kubeconfig(tmp_path_factory.mktemp("kc") / "reader",
                                   token=loaded.reader_token, context_name="reader")


def verdicts(report: dict[str, Any]) -> dict[str, tuple[str, list[str]]]:
    return {ns["name"]: (ns["recommendation"], sorted({r["ruleId"] for r in ns["reasons"]}))
            for ns in report["namespaces"]}


def test_examples_give_the_same_verdicts_as_analyze(reader_config: Path) -> None:
    files = load_paths([str(EXAMPLES)])
    assert not files.errors
    expected = verdicts(analyze(files.resources, [], Settings()).report.to_data())
    result = run_cli("--kubeconfig", str(reader_config), "--output", "json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    scanned = verdicts(report)
    assert len(expected) >= 10
    for namespace, verdict in expected.items():
        assert scanned.get(namespace) == verdict, namespace
    assert report["source"] == "cluster"
    objects = [o for ns in report["namespaces"] for r in ns["reasons"] for o in r["objects"]]
    assert objects and all(o["source"] == "cluster" and "file" not in o for o in objects)
    assert report["cluster"]["apiVersions"]["CronJob.batch"] == "batch/v1beta1"


def test_namespace_filter_and_deterministic_output(reader_config: Path) -> None:
    wanted = sorted(ns for ns in verdicts(json.loads(run_cli(
        "--kubeconfig", str(reader_config), "-o", "json").stdout)) if ns != "default")[:2]
    args = ["--kubeconfig", str(reader_config), "-o", "json", "-n", wanted[1], "-n", wanted[0]]
    first, second = run_cli(*args), run_cli(*args)
    assert first.returncode == 0, first.stderr
    assert first.stdout == second.stdout
    report = json.loads(first.stdout)
    assert [ns["name"] for ns in report["namespaces"]] == wanted
    assert report["summary"]["namespaces"] == 2


def test_scan_reads_only_get_list_and_never_secrets(loaded: TestCluster,
                                                    reader_config: Path) -> None:
    assert run_cli("--kubeconfig", str(reader_config), "-o", "json").returncode == 0
    requested = loaded.requested_resources(READER_USER)
    assert requested, "the audit log shows no request by the reader"
    assert not [r for r in requested if r[2] in ("secrets", "configmaps")]
    assert {verb for verb, _, _ in requested} <= {"get", "list"}
    assert ("list", "", "pods") in requested


def test_pagination_over_more_objects_than_a_page(loaded: TestCluster,
                                                  reader_config: Path) -> None:
    loaded.apply([{"apiVersion": "v1", "kind": "Service",
                   "metadata": {"name": f"page-{i}", "namespace": "paging"},
                   "spec": {"ports": [{"name": "http", "port": 80}]}} for i in range(7)])
    small = run_cli("--kubeconfig", str(reader_config), "-o", "json", "--page-size", "2")
    large = run_cli("--kubeconfig", str(reader_config), "-o", "json")
    assert small.returncode == 0, small.stderr
    assert small.stdout == large.stdout
    paging = next(ns for ns in json.loads(small.stdout)["namespaces"] if ns["name"] == "paging")
    assert paging["objects"] >= 7
    reader = Reader(connect(ClusterOptions(kubeconfig=str(reader_config))))
    snapshot = read_cluster(reader, page_size=2)
    assert len([r for r in snapshot.resources if r.namespace == "paging"]) >= 7
    limits = [e for e in loaded.audit_events(READER_USER)
              if "/namespaces" not in e.get("requestURI", "")
              and e.get("requestURI", "").startswith("/api/v1/services?")
              and "continue=" in e.get("requestURI", "")]
    assert limits, "no continued list request reached the server"


def _add_namespaces(cluster: TestCluster, prefix: str, count: int) -> None:
    objects: list[dict[str, Any]] = []
    for i in range(count):
        namespace = f"{prefix}-{i}"
        objects.append({"apiVersion": "v1", "kind": "Namespace",
                        "metadata": {"name": namespace,
                                     "labels": {"istio.io/dataplane-mode": "ambient"}}})
        objects.append({"apiVersion": "v1", "kind": "Service",
                        "metadata": {"name": "web", "namespace": namespace},
                        "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}})
    cluster.apply(objects)


def test_requests_do_not_grow_with_namespaces(loaded: TestCluster,
                                              reader_config: Path) -> None:
    options = ClusterOptions(kubeconfig=str(reader_config))
    _add_namespaces(loaded, "few", 3)
    few = read_cluster(Reader(connect(options)))
    _add_namespaces(loaded, "many", 27)
    many = read_cluster(Reader(connect(options)))
    assert len({r.namespace for r in many.resources}) >= len(
        {r.namespace for r in few.resources}) + 27
    assert many.requests == few.requests
    assert few.requests < 60


def test_limited_user_gets_a_partial_report(loaded: TestCluster, tmp_path: Path) -> None:
    loaded.grant(LIMITED_USER, [
        {"apiGroups": [""], "resources": ["namespaces", "pods", "services"],
         "verbs": ["get", "list"]},
        {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]},
    ], name="asm-advisor-test-limited")
    config = loaded.write_kubeconfig(tmp_path / "limited", token=loaded.limited_token,
                                     context_name="limited")
    strict = run_cli("--kubeconfig", str(config), "-o", "json")
    assert strict.returncode == 2
    report = json.loads(strict.stdout)
    forbidden = report["cluster"]["forbidden"]
    assert "virtualservices.networking.istio.io/v1" in forbidden
    assert "statefulsets.apps/v1" in forbidden
    assert "pods/v1" not in forbidden and "deployments.apps/v1" not in forbidden
    assert report["cluster"]["partial"] is True
    assert "forbidden: cannot list virtualservices.networking.istio.io/v1" in strict.stderr
    assert "Traceback" not in strict.stderr
    relaxed = run_cli("--kubeconfig", str(config), "-o", "json", "--allow-partial")
    assert relaxed.returncode == 0, relaxed.stderr
    assert json.loads(relaxed.stdout)["cluster"]["forbidden"] == forbidden


def test_scan_applies_the_same_gate_as_analyze(reader_config: Path, tmp_path: Path) -> None:
    passed = run_cli("--kubeconfig", str(reader_config), "-o", "json")
    assert passed.returncode == 0, passed.stderr
    notes = run_cli("--kubeconfig", str(reader_config), "-o", "json", "--fail-on", "note")
    assert notes.returncode == 1
    assert notes.stderr.strip().splitlines()[-1].startswith("asm-advisor: gate failed")
    assumed = run_cli("--kubeconfig", str(reader_config), "-o", "json",
                      "--assume-mode", "ambient")
    assert assumed.returncode == 1
    errors = {r["ruleId"] for ns in json.loads(assumed.stdout)["namespaces"]
              for r in ns["reasons"] if r["severity"] == "error"}
    assert "AMA501" in errors  # L7 configuration with no waypoint in use
    config = tmp_path / ".asm-advisor.yaml"
    config.write_text("failOn: never\n", encoding="utf-8")
    from_config = run_cli("--kubeconfig", str(reader_config), "--config", str(config),
                          "--assume-mode", "ambient", "-o", "json")
    assert from_config.returncode == 0, from_config.stderr


def test_wrong_token_is_one_line_and_exit_2(loaded: TestCluster, tmp_path: Path) -> None:
    config = loaded.write_kubeconfig(tmp_path / "bad", token="not-a-token",
                                     context_name="bad")
    result = run_cli("--kubeconfig", str(config))
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "401" in result.stderr and "Traceback" not in result.stderr


def test_unknown_context_is_exit_2(reader_config: Path) -> None:
    result = run_cli("--kubeconfig", str(reader_config), "--context", "nowhere")
    assert result.returncode == 2
    assert result.stderr.strip() == "asm-advisor: error: context 'nowhere' not found in " \
                                    "kubeconfig"


def test_kubeconfig_env_with_several_files(reader_config: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [],
                                     "users": [], "contexts": []}))
    result = subprocess.run(
        [sys.executable, "-m", "asm_mode_advisor", "scan", "--context", "reader", "-o",
         "json"], capture_output=True, text=True, timeout=120, check=False,
        env={"KUBECONFIG": f"{other}:{reader_config}", "PATH": "/usr/bin:/bin",
             "HOME": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["source"] == "cluster"


def test_credential_plugin_goes_through_the_kubernetes_client(loaded: TestCluster,
                                                              tmp_path: Path) -> None:
    """An exec plugin (as cloud CLIs use) is served by the client fallback, for real."""
    config = loaded.write_kubeconfig(tmp_path / "exec", token=loaded.reader_token,
                                     context_name="exec")
    data = yaml.safe_load(config.read_text())
    credential = json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1",
                             "kind": "ExecCredential",
                             "status": {"token": loaded.reader_token}})
    data["users"][0]["user"] = {"exec": {
        "apiVersion": "client.authentication.k8s.io/v1beta1", "command": "/bin/sh",
        "args": ["-c", f"printf '%s' '{credential}'"], "interactiveMode": "Never"}}
    config.write_text(yaml.safe_dump(data))
    options = ClusterOptions(kubeconfig=str(config))
    transport = connect(options)
    assert type(transport).__name__ == "KubeTransport"
    snapshot = read_cluster(Reader(transport))
    assert any(r.kind == "Namespace" for r in snapshot.resources)
    assert not snapshot.forbidden


def test_token_file_and_ca_path_use_the_stdlib_transport(loaded: TestCluster,
                                                         tmp_path: Path) -> None:
    config = loaded.write_kubeconfig(tmp_path / "files", token=loaded.reader_token,
                                     context_name="files", embed_ca=False)
    data = yaml.safe_load(config.read_text())
    (tmp_path / "reader.token").write_text(loaded.reader_token + "\n")
    data["users"][0]["user"] = {"tokenFile": "reader.token"}
    config.write_text(yaml.safe_dump(data))
    transport = connect(ClusterOptions(kubeconfig=str(config)))
    assert type(transport).__name__ == "NativeTransport"
    snapshot = read_cluster(Reader(transport), page_size=3)
    namespaces = {r.name for r in snapshot.resources if r.kind == "Namespace"}
    assert {"reviews", "orders", "stock"} <= namespaces


@pytest.mark.parametrize("embed_ca", [True, False])
def test_the_cluster_ca_is_the_only_trusted_root(loaded: TestCluster, tmp_path: Path,
                                                 embed_ca: bool) -> None:
    config = loaded.write_kubeconfig(tmp_path / "ca", embed_ca=embed_ca)
    context = load_endpoint(str(config), None).ssl_context
    assert context is not None and context.check_hostname
    assert [cert["subject"] for cert in context.get_ca_certs()] == [
        cert["subject"] for cert in loaded.ssl_context().get_ca_certs()]


def test_token_scan_never_imports_the_kubernetes_client(reader_config: Path) -> None:
    code = ("import sys\nfrom asm_mode_advisor.cli import main\n"
            f"sys.argv = ['asm-advisor', 'scan', '--kubeconfig', {str(reader_config)!r}, "
            "'-o', 'json']\n"
            "try:\n    main()\nexcept SystemExit as done:\n    code = done.code\n"
            "print('KUBERNETES', 'kubernetes' in sys.modules, code, file=sys.stderr)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=120, check=False)
    assert "KUBERNETES False 0" in result.stderr, result.stderr[-500:]


def test_plan_from_cluster_matches_the_plan_from_files(reader_config: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "asm_mode_advisor", "plan", "--from-cluster", "--kubeconfig",
         str(reader_config), "-n", "reviews", "--output", "json"],
        capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    live = json.loads(result.stdout)
    files = subprocess.run(
        [sys.executable, "-m", "asm_mode_advisor", "plan", str(EXAMPLES / "canary-routing"),
         "--output", "json"], capture_output=True, text=True, timeout=120, check=False)
    assert files.returncode == 0, files.stderr
    planned = json.loads(files.stdout)

    def steps(plan: dict[str, Any]) -> list[tuple[str, str, list[str]]]:
        return [(ns["name"], ns["recommendation"], [step["title"] for step in ns["steps"]])
                for ns in plan["namespaces"] if ns["name"] == "reviews"]

    assert steps(live) == steps(planned) != []


def test_tls_failure_is_exit_2(loaded: TestCluster, tmp_path: Path) -> None:
    config = loaded.write_kubeconfig(tmp_path / "tls", token=loaded.reader_token,
                                     context_name="tls")
    data = yaml.safe_load(config.read_text())
    # trust a self-signed CA that did not sign the server's certificate
    ca = tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=not-the-cluster-ca", "-keyout", str(tmp_path / "k.pem"),
                    "-out", str(ca)], check=True, capture_output=True)
    cluster = data["clusters"][0]["cluster"]
    cluster.pop("certificate-authority-data", None)
    cluster["certificate-authority"] = str(ca)
    config.write_text(yaml.safe_dump(data))
    result = run_cli("--kubeconfig", str(config))
    assert result.returncode == 2
    assert "TLS" in result.stderr or "certificate" in result.stderr.lower()
    assert result.stderr.strip().count("\n") == 0


def test_missing_crds_and_server_stopped_mid_scan(tmp_path: Path) -> None:
    """A dedicated server without CRDs; it is stopped while the scan lists kinds."""
    with TestCluster() as bare:
        bare.apply([{"apiVersion": "v1", "kind": "Namespace",
                     "metadata": {"name": "plain", "labels": {"istio-injection": "enabled"}}},
                    {"apiVersion": "v1", "kind": "Service",
                     "metadata": {"name": "web", "namespace": "plain"},
                     "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}]}}])
        config = bare.write_kubeconfig(tmp_path / "bare", token=bare.reader_token)
        result = run_cli("--kubeconfig", str(config), "-o", "json", "-n", "plain")
        assert result.returncode == 0, result.stderr
        report = json.loads(result.stdout)
        assert "VirtualService.networking.istio.io" in report["cluster"]["notServed"]
        assert "HTTPRoute.gateway.networking.k8s.io" in report["cluster"]["notServed"]
        assert report["namespaces"][0]["currentMode"] == "sidecar"

        listed: list[str] = []

        def stop_after_three(label: str) -> None:
            listed.append(label)
            if len(listed) == 3:
                bare.stop()

        reader = Reader(connect(ClusterOptions(kubeconfig=str(config))))
        with pytest.raises(ClusterError) as caught:
            read_cluster(reader, progress=stop_after_three)
        assert "cannot reach the API server" in str(caught.value)
        assert "\n" not in str(caught.value)
        stopped = run_cli("--kubeconfig", str(config))
        assert stopped.returncode == 2
        assert stopped.stderr.startswith("asm-advisor: error: cannot reach the API server")
        assert "Traceback" not in stopped.stderr


def _owned_pod(name: str, namespace: str, annotations: dict[str, str]) -> dict[str, Any]:
    owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{name}-rs",
             "uid": "3f0c5a51-7a55-4c2e-9f5e-000000000001", "controller": True}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "annotations": annotations,
                         "labels": {"app": name}, "ownerReferences": [owner]},
            "spec": {"containers": [{"name": "app", "image": "example/app:1"}]}}


def test_live_facts_pods_mesh_version_ztunnel_nodes(tmp_path: Path) -> None:
    """What only a cluster knows: modes seen on pods, stale sidecars, istiod tag, ztunnel."""
    sidecar_status = '{"containers":["istio-proxy"],"initContainers":["istio-init"]}'
    with TestCluster() as cluster:
        cluster.apply(load_yaml(CRDS_FILE))
        cluster.apply([
            {"apiVersion": "v1", "kind": "Namespace",
             "metadata": {"name": "moved", "labels": {"istio.io/dataplane-mode": "ambient"}}},
            {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "istio-system"}},
            _owned_pod("old", "moved", {"sidecar.istio.io/status": sidecar_status}),
            _owned_pod("new", "moved", {"ambient.istio.io/redirection": "enabled"}),
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": "istiod", "namespace": "istio-system"},
             "spec": {"selector": {"matchLabels": {"app": "istiod"}},
                      "template": {"metadata": {"labels": {"app": "istiod"}}, "spec": {
                          "containers": [{"name": "discovery",
                                          "image": "registry.example.com/asm/pilot:1.26.2"}]}}}},
            {"apiVersion": "apps/v1", "kind": "DaemonSet",
             "metadata": {"name": "ztunnel", "namespace": "istio-system"},
             "spec": {"selector": {"matchLabels": {"app": "ztunnel"}},
                      "template": {"metadata": {"labels": {"app": "ztunnel"}}, "spec": {
                          "containers": [{"name": "istio-proxy", "image": "ztunnel:1.26.2"}]}}}},
            *({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"node-{n}"}}
              for n in range(3)),
        ])
        config = cluster.write_kubeconfig(tmp_path / "live", token=cluster.reader_token)
        result = run_cli("--kubeconfig", str(config), "-o", "json")
        table = run_cli("--kubeconfig", str(config))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    facts = report["cluster"]
    moved = facts["namespaces"]["moved"]
    assert moved["modeFromLabels"] == "ambient" and moved["modeFromPods"] == "mixed"
    assert moved["podsNeedingRestart"] == ["old"]
    assert facts["meshVersion"] == {"used": "1.26.2", "source": "istiod image",
                                    "detected": "1.26.2"}
    assert report["meshVersion"] == "1.26.2"
    assert facts["nodes"] == 3 and facts["ztunnelPresent"] is True
    reasons = {r["ruleId"]: r for ns in report["namespaces"] if ns["name"] == "moved"
               for r in ns["reasons"]}
    assert reasons["AMA412"]["workloads"] == ["old"]
    assert reasons["AMA412"]["severity"] == "warning"
    assert "cluster: server v1.20.2; 3 node(s); mesh version from istiod image; ztunnel " \
           "present" in table.stdout


def test_slim_scan_drops_status_and_container_bulk(loaded: TestCluster,
                                                  reader_config: Path) -> None:
    options = ClusterOptions(kubeconfig=str(reader_config))
    whole = read_cluster(Reader(connect(options)))
    slim = read_cluster(Reader(connect(options)), slim_bodies=True)
    key = lambda r: (r.kind, r.namespace or "", r.name)  # noqa: E731
    assert sorted(map(key, whole.resources)) == sorted(map(key, slim.resources))
    assert any("status" in r.body for r in whole.resources)  # the server adds status
    assert not any(set(r.body) - {"spec", "metadata"} for r in slim.resources)
    assert not any("managedFields" in r.body.get("metadata", {}) for r in slim.resources)
    containers = [c for r in slim.resources if r.kind == "Deployment"
                  for c in r.body["spec"]["template"]["spec"].get("containers", [])]
    assert containers and all(c.get("image") for c in containers)
    assert not any({"env", "resources", "terminationMessagePath"} & set(c) for c in containers)


def test_scan_reads_measured_calls_from_a_real_prometheus(reader_config: Path,
                                                          tmp_path: Path) -> None:
    """scan --prometheus: the cluster's objects, and calls measured by Prometheus."""
    from contextlib import contextmanager

    from promserver import find_prometheus, running

    binary = find_prometheus()
    if binary is None:
        pytest.fail("no prometheus executable: run `bash scripts/get-prometheus.sh`",
                    pytrace=False)
    with contextmanager(running)(binary, tmp_path) as (server, _):
        result = run_cli("--kubeconfig", str(reader_config), "--output", "json",
                         "--prometheus", server.url, "--metrics-window", "5m")
        assert result.returncode in (0, 1), result.stderr
        report = json.loads(result.stdout)
        assert report["summary"]["traffic"]["evidence"] == "metrics"
        assert report["summary"]["traffic"]["prometheus"] == server.url
        assert report["summary"]["traffic"]["calls"] > 0
        stopped = run_cli("--kubeconfig", str(reader_config), "--output", "json",
                          "--prometheus", "http://127.0.0.1:9", "--require-metrics")
        assert stopped.returncode == 2
        assert "cannot reach Prometheus" in stopped.stderr
