"""Our own transport against the ``kubernetes`` client's raw REST path, on the same pages.

    python benchmarks/client_paths.py MODE KUBECONFIG [COLLECTION_PATH ...]

Run by ``cluster_load.py`` (one process per run, interleaved, best of ``--repeat``) to answer
issue 13's question: is one cluster client path (the ``kubernetes`` client's) within 10% of
ours? Modes:

* ``own-list``: the given collection paths, 500 per page, through ``NativeTransport.get``
  (kubeconfig read by ``kubeconfig.py``, one kept-alive HTTPS connection), ``json.loads`` of
  each page;
* ``client-list``: the same pages through ``ApiClient.call_api`` (the client's configuration
  and keep-alive urllib3 pool; since client 29 ``call_api`` never preloads, which is the old
  ``_preload_content=False``) and ``json.loads(response.read())``;
* ``own-scan`` / ``client-scan``: scan's whole read (``read_cluster``: discovery, four list
  threads, slimming, every limit) through ``NativeTransport`` or through ``KubeTransport``.

Each prints ``seconds requests peak``: the seconds after imports and kubeconfig loading (so
the process's wall and CPU time from ``os.wait4`` split into start-up and work), and its peak
RSS from ``/proc/self/status`` (``VmHWM``: ``wait4``'s figure also counts the parent's pages
from before ``exec``, the benchmark's whole estate).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlencode

PAGE_SIZE = 500
JSON = "application/json"
MODES = ("own-list", "client-list", "own-scan", "client-scan")


def page_queries(path: str, fetch: Callable[[str], dict[str, Any]]) -> Iterator[dict[str, Any]]:
    """Every page of one collection, 500 at a time, following ``continue``."""
    token = ""
    while True:
        query: dict[str, str | int] = {"limit": PAGE_SIZE}
        if token:
            query["continue"] = token
        page = fetch(f"{path}?{urlencode(query)}")
        yield page
        token = (page.get("metadata") or {}).get("continue") or ""
        if not token:
            return


def own_fetch(kubeconfig: str) -> Callable[[str], dict[str, Any]]:
    """``NativeTransport.get`` and ``json.loads``."""
    from asm_mode_advisor.sources.transport import ClusterOptions, connect

    transport = connect(ClusterOptions(kubeconfig=kubeconfig))

    def fetch(path: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(transport.get(path, JSON).body)
        return data

    return fetch


def client_fetch(kubeconfig: str) -> Callable[[str], dict[str, Any]]:
    """``ApiClient.call_api`` (not preloaded) and ``json.loads`` of its bytes."""
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(config_file=kubeconfig, client_configuration=configuration,
                            persist_config=False)
    api = client.ApiClient(configuration)

    def fetch(path: str) -> dict[str, Any]:
        method, url, headers, _, _ = api.param_serialize(
            "GET", path, header_params={"Accept": JSON}, auth_settings=["BearerToken"])
        response = api.call_api(method, url, header_params=headers)
        data: dict[str, Any] = json.loads(response.read())
        return data

    return fetch


def list_paths(fetch: Callable[[str], dict[str, Any]], paths: list[str]) -> int:
    """List every path page by page; the number of requests."""
    return sum(1 for path in paths for _ in page_queries(path, fetch))


def read_scan(kubeconfig: str, through_client: bool) -> Callable[[], int]:
    """Scan's read of the whole cluster through one transport; returns the request count."""
    from asm_mode_advisor.sources.cluster import (
        ClusterOptions,
        Reader,
        connect,
        connect_with_client,
        read_cluster,
    )

    options = ClusterOptions(kubeconfig=kubeconfig)
    transport = connect_with_client(options) if through_client else connect(options)

    def run() -> int:
        return read_cluster(Reader(transport), slim_bodies=True).requests

    return run


def main(argv: list[str]) -> None:
    mode, kubeconfig, paths = argv[0], argv[1], argv[2:]
    if mode not in MODES:
        raise SystemExit(f"mode must be one of {', '.join(MODES)}")
    if mode.endswith("-list"):
        fetch = own_fetch(kubeconfig) if mode == "own-list" else client_fetch(kubeconfig)

        def work() -> int:
            return list_paths(fetch, paths)
    else:
        work = read_scan(kubeconfig, through_client=mode == "client-scan")
    started = time.perf_counter()
    requests = work()
    print(f"{time.perf_counter() - started:.4f} {requests} {peak_rss()}")


def peak_rss() -> int:
    """This process's peak resident set, in bytes (0 where ``/proc`` is missing)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


if __name__ == "__main__":
    main(sys.argv[1:])
