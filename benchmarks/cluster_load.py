"""The scan benchmark: a large estate in the real test API server, then scan vs raw listing.

    python benchmarks/cluster_load.py            # start a server, load the estate, print rows
    python benchmarks/run.py --scan              # the same rows inside the full table

The estate: 1,000 namespaces, 10,000 Pods, 3,000 Deployments, 2,000 Services and a few hundred
Istio objects (VirtualService, DestinationRule, AuthorizationPolicy, PeerAuthentication),
built deterministically and created over REST by a few threads. The server is the
``TestCluster`` of ``tests/cluster/apiserver.py`` (etcd + kube-apiserver; assets from
``scripts/get-kube-assets.sh``).

Measured, each in its own process, best of ``--repeat``:

* ``asm-advisor scan -o json`` as the read-only reader user;
* the floor: listing the very collections scan listed (taken from the audit log), 500 per
  page, ``json.loads`` of each page, over one kept-alive HTTPS connection, nothing else;
* ``kubectl get <same kinds> -A -o json`` when kubectl is installed;
* one cluster client path? (issue 13): the same pages through our own transport and through
  the ``kubernetes`` client's raw REST path, then scan's whole read through each transport
  (``client_paths.py``), interleaved, best of ``--repeat``.

The request count of scan comes from the API server's audit log, not from scan itself.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import urllib.parse
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCHMARKS = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS))
sys.path.insert(0, str(BENCHMARKS.parent / "tests" / "cluster"))

from run import Row, Run, best, measure, print_table  # noqa: E402

SCAN_TARGET = 1.5
#: The ``kubernetes`` client may be this much slower and still become the only path.
ONE_PATH_TARGET = 1.1
CLIENT_PATHS = BENCHMARKS / "client_paths.py"
PAGE_SIZE = 500
LOAD_THREADS = 8
#: Room for 2,000 ClusterIPs (the test server's default range holds 254); the last flag wins.
SERVICE_RANGE = "--service-cluster-ip-range=10.96.0.0/16"

#: Lists the given collection paths page by page and parses each page; nothing else.
RAW_LIST = """
import http.client, json, ssl, sys, urllib.parse
host, port, token, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
connection = http.client.HTTPSConnection(host, port, context=ssl.create_default_context(cafile=ca))
headers = {"Authorization": "Bearer " + token, "Accept": "application/json"}
requests = items = 0
for path in sys.argv[5:]:
    cont = ""
    while True:
        query = {"limit": "500"}
        if cont:
            query["continue"] = cont
        connection.request("GET", path + "?" + urllib.parse.urlencode(query), headers=headers)
        page = json.loads(connection.getresponse().read())
        requests += 1
        items += len(page.get("items") or [])
        cont = (page.get("metadata") or {}).get("continue")
        if not cont:
            break
print(requests, items)
"""


@dataclass(frozen=True)
class Estate:
    """How many objects of each kind to create."""

    namespaces: int = 1_000
    pods_per_namespace: int = 10
    deployments_per_namespace: int = 3
    services_per_namespace: int = 2
    istio_every: int = 4  # one namespace in N gets VS + DR + AuthorizationPolicy + PA


SMOKE = Estate(namespaces=5, pods_per_namespace=2, deployments_per_namespace=1,
               services_per_namespace=1, istio_every=2)


def _meta(name: str, namespace: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": name, "namespace": namespace}
    if labels:
        meta["labels"] = labels
    return meta


def _container(app: str) -> dict[str, Any]:
    return {"name": app, "image": f"registry.example.com/{app}:1.0",
            "ports": [{"containerPort": 8080, "name": "http"}],
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}


def namespace_objects(index: int, estate: Estate) -> Iterator[dict[str, Any]]:
    """Everything inside namespace number ``index`` (the Namespace itself comes first)."""
    ns = f"team-{index:04d}"
    mode = ({"istio.io/dataplane-mode": "ambient"} if index % 3 == 0 else
            {"istio-injection": "enabled"} if index % 3 == 1 else {})
    yield {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns, "labels": mode}}
    apps = [f"app-{n}" for n in range(estate.deployments_per_namespace)]
    for app in apps:
        labels = {"app": app, "version": "v1"}
        yield {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": _meta(app, ns, labels),
               "spec": {"replicas": 2, "selector": {"matchLabels": labels},
                        "template": {"metadata": {"labels": labels},
                                     "spec": {"containers": [_container(app)]}}}}
    for number in range(estate.services_per_namespace):
        app = apps[number % len(apps)]
        yield {"apiVersion": "v1", "kind": "Service", "metadata": _meta(app, ns),
               "spec": {"selector": {"app": app},
                        "ports": [{"name": "http", "port": 80, "targetPort": 8080}]}}
    for number in range(estate.pods_per_namespace):
        app = apps[number % len(apps)]
        owner = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": f"{app}-5d8f7",
                 "uid": f"00000000-0000-0000-0000-{index:06d}{number:06d}",
                 "controller": True}
        meta = _meta(f"{app}-5d8f7-{number:05d}", ns, {"app": app, "version": "v1"})
        meta["ownerReferences"] = [owner]
        yield {"apiVersion": "v1", "kind": "Pod", "metadata": meta,
               "spec": {"containers": [_container(app)]}}
    if index % estate.istio_every == 0:
        app = apps[0]
        yield {"apiVersion": "networking.istio.io/v1beta1", "kind": "VirtualService",
               "metadata": _meta(app, ns),
               "spec": {"hosts": [app], "http": [{"timeout": "5s", "route": [
                   {"destination": {"host": app, "subset": "v1"}}]}]}}
        yield {"apiVersion": "networking.istio.io/v1beta1", "kind": "DestinationRule",
               "metadata": _meta(app, ns),
               "spec": {"host": app, "subsets": [{"name": "v1", "labels": {"version": "v1"}}]}}
        yield {"apiVersion": "security.istio.io/v1beta1", "kind": "AuthorizationPolicy",
               "metadata": _meta(f"{app}-allow", ns),
               "spec": {"selector": {"matchLabels": {"app": app}}, "action": "ALLOW",
                        "rules": [{"to": [{"operation": {"methods": ["GET"]}}]}]}}
        yield {"apiVersion": "security.istio.io/v1beta1", "kind": "PeerAuthentication",
               "metadata": _meta("default", ns), "spec": {"mtls": {"mode": "STRICT"}}}


def estate_objects(estate: Estate) -> list[dict[str, Any]]:
    """Every object of the estate, namespaces first."""
    objects = [obj for index in range(estate.namespaces)
               for obj in namespace_objects(index, estate)]
    return sorted(objects, key=lambda obj: obj["kind"] != "Namespace")


def load_estate(cluster: Any, estate: Estate) -> int:
    """Create the CRDs and the estate in ``cluster``; the number of objects created."""
    from apiserver import CRDS_FILE, load_yaml

    cluster.apply(load_yaml(CRDS_FILE))
    objects = estate_objects(estate)
    namespaces = [obj for obj in objects if obj["kind"] == "Namespace"]
    cluster.apply(namespaces)
    rest = objects[len(namespaces):]

    def create(obj: dict[str, Any]) -> None:
        info = cluster.resource_for(obj["apiVersion"], obj["kind"], wait=30.0)
        cluster.call("POST", info.collection_path(obj["metadata"]["namespace"]), obj)

    with ThreadPoolExecutor(LOAD_THREADS) as pool:
        list(pool.map(create, rest))
    return len(objects)


def scan_paths(cluster: Any, user: str, since: int) -> tuple[int, list[str], list[str]]:
    """Requests ``user`` made after ``since``, the collection paths it listed, and kubectl's
    resource names for them (``resource.group``)."""
    events = cluster.audit_events(user, since)
    paths: dict[str, None] = {}
    names: dict[str, None] = {}
    for event in events:
        ref = event.get("objectRef") or {}
        if event.get("verb") != "list" or not ref.get("resource"):
            continue
        paths[urllib.parse.urlsplit(event["requestURI"]).path] = None
        group = ref.get("apiGroup") or ""
        names[f"{ref['resource']}.{group}".rstrip(".")] = None
    return len(events), list(paths), list(names)


def scan_rows(repeat: int, smoke: bool = False) -> list[Row]:
    """Start a server, load the estate, measure; rows for the result table."""
    from apiserver import READER_USER, TestCluster

    estate = SMOKE if smoke else Estate()
    workdir = Path(tempfile.mkdtemp(prefix="asm-advisor-bench-"))
    try:
        with TestCluster(extra_apiserver_args=[SERVICE_RANGE]) as cluster:
            objects = load_estate(cluster, estate)
            kubeconfig = cluster.write_kubeconfig(workdir / "kubeconfig")
            scan_argv = [sys.executable, "-m", "asm_mode_advisor", "scan", "--kubeconfig",
                         str(kubeconfig), "-o", "json"]
            since = cluster.audit_offset()
            measure(scan_argv, allowed=(0, 1, 2))
            requests, paths, names = scan_paths(cluster, READER_USER, since)
            url = urllib.parse.urlsplit(cluster.url)
            raw_argv = [sys.executable, "-c", RAW_LIST, url.hostname or "127.0.0.1",
                        str(url.port), cluster.reader_token, str(cluster.ca_file), *paths]
            scans, raws, kubectls = [], [], []
            kubectl = shutil.which("kubectl")
            for _ in range(repeat):
                scans.append(measure(scan_argv, allowed=(0, 1, 2)))
                raws.append(measure(raw_argv))
                if kubectl is not None and names:
                    kubectls.append(measure([kubectl, "--kubeconfig", str(kubeconfig), "get",
                                             ",".join(names), "-A", "-o", "json"]))
            raw_requests = _raw_requests(raw_argv)
            label = f"{estate.namespaces} ns/{objects} obj"
            client_rows = client_path_rows(str(kubeconfig), paths, repeat, label)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    scan, raw = best(scans), best(raws)
    rows = [
        Row("scan vs raw listing (wall)", label, f"{scan.wall:.2f} s", f"{raw.wall:.2f} s",
            f"{scan.wall / raw.wall:.2f}×", f"≤ {SCAN_TARGET}×"),
        Row("scan API requests", label, str(requests), f"raw {raw_requests}",
            f"{len(paths)} kinds", "O(kinds), not O(namespaces)"),
        Row("scan peak RSS", label, f"{scan.rss / 2**20:.0f} MiB", "-", "-", "(info)"),
    ]
    if kubectls:
        kube = best(kubectls)
        rows.append(Row("scan vs kubectl get -A -o json", label, f"{scan.wall:.2f} s",
                        f"{kube.wall:.2f} s", f"{scan.wall / kube.wall:.2f}×", "< 1× (faster)"))
    return rows + client_rows


@dataclass(frozen=True)
class Timed:
    """One ``client_paths.py`` run: the process, and the seconds of work after start-up."""

    run: Run
    work: float


def _timed(argv: list[str]) -> Timed:
    """Run a ``client_paths.py`` mode; its process figures and the work seconds it prints."""
    import os
    import subprocess
    import time

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode:
            raise SystemExit(f"{' '.join(argv[1:3])} exited {proc.returncode}: "
                             f"{err.read().decode(errors='replace')[-400:]}")
        seconds, _, peak = out.read().split()[:3]
    return Timed(Run(wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss=int(peak)),
                 float(seconds))


def client_path_rows(kubeconfig: str, paths: list[str], repeat: int, label: str) -> list[Row]:
    """Own transport vs the ``kubernetes`` client: same pages, then scan's whole read."""
    runs: dict[str, list[Timed]] = {mode: [] for mode in
                                     ("own-list", "client-list", "own-scan", "client-scan")}
    for _ in range(repeat):
        for mode, timed in runs.items():
            argv = [sys.executable, str(CLIENT_PATHS), mode, kubeconfig]
            timed.append(_timed(argv + paths if mode.endswith("-list") else argv))
    rows = []
    for what, own, client in (("list pages", "own-list", "client-list"),
                              ("scan read", "own-scan", "client-scan")):
        mine, theirs = _best_timed(runs[own]), _best_timed(runs[client])
        name = f"{what}: kubernetes client vs own transport"
        for measure_name, a, b, unit in (
                ("wall", theirs.run.wall, mine.run.wall, "s"),
                ("cpu", theirs.run.cpu, mine.run.cpu, "s"),
                ("start-up", theirs.run.wall - theirs.work, mine.run.wall - mine.work, "s"),
                ("work", theirs.work, mine.work, "s"),
                ("peak RSS", theirs.run.rss / 2**20, mine.run.rss / 2**20, "MiB")):
            rows.append(Row(f"{name} ({measure_name})", label, f"{a:.2f} {unit}",
                            f"{b:.2f} {unit}", f"{a / b:.2f}×",
                            f"≤ {ONE_PATH_TARGET}× → one path"))
    return rows


def _best_timed(runs: list[Timed]) -> Timed:
    """The fastest run by wall time (and its work); CPU its minimum, peak RSS its maximum."""
    fastest = min(runs, key=lambda timed: timed.run.wall)
    return Timed(Run(wall=fastest.run.wall, cpu=min(t.run.cpu for t in runs),
                     rss=max(t.run.rss for t in runs)), fastest.work)


def _raw_requests(argv: list[str]) -> str:
    """The raw lister's own request count (it prints ``requests items``)."""
    import subprocess

    done = subprocess.run(argv, capture_output=True, text=True, check=True)
    return done.stdout.split()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--smoke", action="store_true", help="a tiny estate")
    args = parser.parse_args()
    print_table(scan_rows(args.repeat, smoke=args.smoke))


if __name__ == "__main__":
    main()
