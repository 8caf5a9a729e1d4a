"""A hostile local API server: real sockets, real timing, misbehaving on purpose.

It serves a tiny cluster (one namespace, no pods) over HTTP or HTTPS; a ``fault`` may answer
any request instead (trickle bytes, redirect, send too much, repeat a continue token). Tests
that need a real kube-apiserver's behaviour live in tests/cluster/; this server shows what a
real apiserver never does.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

Fault = Callable[["Handler", str, dict[str, list[str]]], bool]

CLUSTER: dict[str, dict[str, Any]] = {
    "/version": {"gitVersion": "v1.30.0"},
    "/apis": {"groups": []},
    "/api/v1": {"resources": [{"name": "namespaces"}, {"name": "pods"}]},
    "/api/v1/namespaces": {"metadata": {}, "items": [{"metadata": {"name": "shop"}}]},
    "/api/v1/pods": {"metadata": {}, "items": []},
}


class Handler(BaseHTTPRequestHandler):
    """Answers from ``CLUSTER`` unless the server's fault answers first."""

    protocol_version = "HTTP/1.1"
    server: _Server

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        path = parts.path.removeprefix(self.server.hostile.prefix)
        self.server.hostile.requests.append(self.path)
        self.server.hostile.headers.append(dict(self.headers))
        fault = self.server.hostile.fault
        try:
            if fault is not None and fault(self, path, parse_qs(parts.query)):
                return
            if path in CLUSTER:
                self.send_json(200, CLUSTER[path])
            else:
                self.send_json(404, {"kind": "Status", "code": 404})
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
            pass  # the client gave up on us, as it should

    def send_json(self, status: int, data: object, headers: dict[str, str] | None = None
                  ) -> None:
        body = json.dumps(data).encode()
        self.send_raw(status, body, headers)

    def send_raw(self, status: int, body: bytes, headers: dict[str, str] | None = None
                 ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    hostile: Hostile

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Stay quiet when a client hangs up mid-answer (that is what the tool is meant to do).

        The default prints a traceback to ``sys.stderr``, which a CliRunner running at that
        moment captures as the command's own output.
        """


class Hostile:
    """A running server; use as a context manager. ``url`` is where it listens."""

    def __init__(self, fault: Fault | None = None, *, tls_dir: Path | None = None,
                 prefix: str = "") -> None:
        self.fault = fault
        self.prefix = prefix
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.hostile = self
        self.scheme = "http"
        if tls_dir is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self_signed(tls_dir))
            self._server.socket = context.wrap_socket(self._server.socket, server_side=True)
            self.scheme = "https"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self._server.server_address[1]}{self.prefix}"

    def __enter__(self) -> Hostile:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def self_signed(directory: Path) -> tuple[str, str]:
    """A throw-away certificate and key for 127.0.0.1 (the kubeconfig skips verification)."""
    cert, key = directory / "server.crt", directory / "server.key"
    if not cert.is_file():
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                       check=True, capture_output=True)
    return str(cert), str(key)


def kubeconfig(path: Path, server: str, user: dict[str, Any] | None = None,
               cluster: dict[str, Any] | None = None) -> Path:
    """A one-context kubeconfig for ``server`` (TLS verification skipped)."""
    data = {
        "apiVersion": "v1", "kind": "Config", "current-context": "hostile",
        "clusters": [{"name": "hostile", "cluster": {
            "server": server, **({"insecure-skip-tls-verify": True}
                                 if server.startswith("https") else {}), **(cluster or {})}}],
        "users": [{"name": "ci", "user": user if user is not None else {"token": "t0ken-ok"}}],
        "contexts": [{"name": "hostile", "context": {"cluster": "hostile", "user": "ci"}}],
    }
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path
