"""A real Prometheus (Debian's package) on loopback, scraping an exporter the tests run.

The exporter serves Istio-standard metric text from ``series.yaml``: every series is a counter
that grows at its ``rate`` per second from the moment the exporter starts, so Prometheus's
``increase`` over any window sees real, growing samples. Prometheus scrapes it every second;
:meth:`PrometheusServer.wait_for_samples` returns once every series has a few samples in.

Only faults a real Prometheus cannot produce are made here: a bearer-token check (Prometheus
has no bearer auth; managed services put a proxy in front of it, and so does
:class:`TokenProxy`).
"""

from __future__ import annotations

import http.client
import http.server
import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
SERIES_FILE = HERE / "traffic" / "series.yaml"
REPO = HERE.parent
CACHED = Path.home() / ".cache" / "asm-advisor" / "prometheus" / "root" / "usr" / "bin"
CACHED = CACHED / "prometheus"


class QuietServer(http.server.ThreadingHTTPServer):
    """A threaded test server that does not print a traceback when a client hangs up."""

    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass


def find_prometheus() -> str | None:
    """The executable: ``ASM_ADVISOR_PROMETHEUS``, the cache of get-prometheus.sh, or PATH."""
    named = os.environ.get("ASM_ADVISOR_PROMETHEUS")
    if named:
        return named if os.access(named, os.X_OK) else None
    if os.access(CACHED, os.X_OK):
        return str(CACHED)
    return shutil.which("prometheus")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def load_series() -> dict[str, list[dict[str, Any]]]:
    data: dict[str, list[dict[str, Any]]] = yaml.safe_load(SERIES_FILE.read_text(encoding="utf-8"))
    return data


def metric_text(series: dict[str, list[dict[str, Any]]], elapsed: float) -> str:
    """Prometheus text format: each series at ``rate * elapsed`` (a growing counter)."""
    lines = []
    names = {"requests": "istio_requests_total",
             "connections": "istio_tcp_connections_opened_total"}
    for key, metric in names.items():
        lines.append(f"# TYPE {metric} counter")
        for entry in series.get(key, []):
            labels = {k: str(v) for k, v in entry.items() if k != "rate"}
            rendered = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
            lines.append(f"{metric}{{{rendered}}} {float(entry['rate']) * elapsed:.3f}")
    return "\n".join(lines) + "\n"


class Exporter:
    """An HTTP server on loopback serving ``/metrics`` from the series."""

    def __init__(self, series: dict[str, list[dict[str, Any]]]) -> None:
        self.series = series
        self.started = time.monotonic()
        exporter = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = metric_text(exporter.series,
                                   time.monotonic() - exporter.started + 1).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain; version=0.0.4")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class PrometheusServer:
    """Prometheus scraping one exporter every second, with its data in ``folder``."""

    def __init__(self, binary: str, folder: Path, target_port: int,
                 extra_args: tuple[str, ...] = ()) -> None:
        self.folder = folder
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
                  "scrape_configs": [{"job_name": "istio-fixture",
                                      "static_configs": [
                                          {"targets": [f"127.0.0.1:{target_port}"]}]}]}
        (folder / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.log = (folder / "prometheus.log").open("wb")
        self.process = subprocess.Popen(
            [binary, f"--config.file={folder / 'prometheus.yml'}",
             f"--storage.tsdb.path={folder / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}", "--log.level=warn", *extra_args],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.log_tail()}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                connection.request("GET", "/-/ready")
                if connection.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready after {timeout:g} s: {self.log_tail()}")

    def query(self, text: str) -> list[dict[str, Any]]:
        """An instant query's result list (the tests' own view, not the tool's client)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request("GET", "/api/v1/query?" + urllib.parse.urlencode({"query": text}))
        answer = json.loads(connection.getresponse().read())
        result: list[dict[str, Any]] = answer["data"]["result"]
        return result

    def wait_for_samples(self, series: int, samples: int = 4, timeout: float = 60.0) -> None:
        """Until every one of ``series`` series has at least ``samples`` samples in."""
        query = (f"count(count_over_time(istio_requests_total[5m]) >= {samples}) + "
                 f"count(count_over_time(istio_tcp_connections_opened_total[5m]) >= {samples})")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            result = self.query(query)
            if result and float(result[0]["value"][1]) >= series:
                return
            time.sleep(0.5)
        raise RuntimeError(f"samples not in after {timeout:g} s: {self.log_tail()}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()

    def log_tail(self) -> str:
        self.log.flush()
        text = (self.folder / "prometheus.log").read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-20:])


class TokenProxy:
    """Forwards to Prometheus only requests with ``Authorization: Bearer <token>``.

    Stands for the auth proxy of a managed Prometheus; Prometheus itself has no bearer auth.
    ``before_forward(n)`` runs before the n-th request (1-based) is forwarded. A request that
    cannot reach Prometheus gets the 502 such a proxy answers.
    """

    def __init__(self, upstream_port: int, token: str,
                 before_forward: Callable[[int], None] | None = None) -> None:
        self.seen: list[str] = []
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                proxy.seen.append(self.headers.get("Authorization", ""))
                if self.headers.get("Authorization") != f"Bearer {token}":
                    payload = b'{"status":"error","errorType":"unauthorized","error":"bad token"}'
                    self.send_response(401)
                else:
                    if before_forward is not None:
                        before_forward(len(proxy.seen))  # e.g. stop Prometheus mid-run
                    connection = http.client.HTTPConnection("127.0.0.1", upstream_port,
                                                            timeout=30)
                    try:
                        connection.request("POST", self.path, body=body, headers={
                            "Content-Type": self.headers.get("Content-Type", "")})
                        answer = connection.getresponse()
                        payload = answer.read()
                        self.send_response(answer.status)
                    except OSError:
                        payload = b'{"status":"error","errorType":"unavailable","error":"upstream"}'
                        self.send_response(502)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = QuietServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def series_count(series: dict[str, list[dict[str, Any]]]) -> int:
    return sum(len(v) for v in series.values())


def running(binary: str, folder: Path, extra_args: tuple[str, ...] = ()
            ) -> Iterator[tuple[PrometheusServer, Exporter]]:
    """An exporter and a Prometheus scraping it, with every series' samples in."""
    series = load_series()
    exporter = Exporter(series)
    server = PrometheusServer(binary, folder, exporter.port, extra_args)
    try:
        server.wait_for_samples(series_count(series))
        yield server, exporter
    finally:
        server.stop()
        exporter.close()
