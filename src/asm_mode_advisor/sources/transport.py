"""One bounded, authenticated GET against the API server, by a transport of our own.

Token, certificate and basic-auth kubeconfigs are served by a small keep-alive HTTP(S)
transport of our own; credential plugins and proxies fall back to the ``kubernetes`` client
(``kubeclient.py``), under the same limits.

A server may be hostile or broken, so every answer is bounded (see ``Limits``): its size, and
the wall-clock time of the whole request, measured on a monotonic clock across every read (a
socket timeout alone restarts with each byte a trickling server sends). Redirects are never
followed. Every message goes through ``redact.safe_message``: no credential or userinfo is
ever printed.
"""

from __future__ import annotations

import http.client
import io
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from asm_mode_advisor.redact import safe_message
from asm_mode_advisor.sources.kubeconfig import (
    Endpoint,
    KubeconfigError,
    NeedsClient,
    in_cluster_endpoint,
    load_endpoint,
)

MIB = 1 << 20
DEFAULT_PAGE_SIZE = 500
#: Largest single answer. A list page holds at most ``--page-size`` objects (500 by default);
#: real objects are 2-30 KiB of JSON, so a page is 1-15 MiB. 256 MiB leaves room for 500
#: objects of 512 KiB each and bounds what one of the four list threads holds at a time.
MAX_RESPONSE_BYTES = 256 * MIB
#: Largest sum of answers in one scan: far above a 150,000-pod cluster (pods and nodes are
#: read as metadata, about 2 KiB each), low enough to stop a server that never ends.
MAX_TOTAL_BYTES = 4096 * MIB
#: Wall-clock limit of one request: connect, send, headers and the whole body.
REQUEST_DEADLINE_SECONDS = 120.0
#: Connect and per-read timeouts for the ``kubernetes`` client (the deadline applies as well).
REQUEST_TIMEOUT = (10.0, 120.0)
READ_CHUNK = MIB


class ClusterError(Exception):
    """A fault that stops the scan; ``str()`` is the one-line, credential-free message."""

    def __init__(self, message: str) -> None:
        super().__init__(safe_message(message))


@dataclass(frozen=True)
class HttpResponse:
    """Status, headers and body of one GET."""

    status: int
    headers: Mapping[str, str]
    body: bytes


@dataclass(frozen=True)
class Limits:
    """Bounds on what one scan reads from a server that may be hostile."""

    response_bytes: int = MAX_RESPONSE_BYTES
    total_bytes: int = MAX_TOTAL_BYTES
    deadline: float = REQUEST_DEADLINE_SECONDS


@dataclass(frozen=True)
class ClusterOptions:
    """How to reach the cluster and how to read it."""

    kubeconfig: str | None = None
    context: str | None = None
    in_cluster: bool = False
    page_size: int = DEFAULT_PAGE_SIZE
    limits: Limits = field(default_factory=Limits)


class Transport(Protocol):
    """Something that performs one authenticated GET against the API server."""

    def get(self, path: str, accept: str) -> HttpResponse:
        """GET ``path`` (with its query string) asking for ``accept``."""


def too_large(path: str, limit: int) -> ClusterError:
    """The error for an answer over ``Limits.response_bytes``."""
    return ClusterError(f"GET {path.split('?')[0]}: the API server's answer is larger than "
                        f"{limit // MIB} MiB; try a smaller --page-size")


def too_slow(url: str, deadline: float) -> ClusterError:
    """The error for a request that outlived ``Limits.deadline``."""
    return ClusterError(f"cannot reach the API server at {url}: no complete answer within "
                        f"{deadline:g} s")


# --- our own transport -------------------------------------------------------------------


class _DeadlineSocketIO(io.RawIOBase):
    """Socket reads that all end by one monotonic deadline, however slowly bytes arrive."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        """Always readable."""
        return True

    def readinto(self, buffer: Any) -> int:
        """One ``recv_into`` with the time left as its timeout."""
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("request deadline passed")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(buffer)


class _BoundedResponse(http.client.HTTPResponse):
    """An ``HTTPResponse`` whose status line, headers and body all read by the deadline."""

    deadline = 0.0  # set on a per-request subclass by ``_response_class``

    def __init__(self, sock: socket.socket, *args: Any, **kwargs: Any) -> None:
        super().__init__(sock, *args, **kwargs)
        self.fp.close()  # the socket stays open; only its default file is replaced
        self.fp = io.BufferedReader(_DeadlineSocketIO(sock, self.deadline))


def _response_class(deadline: float) -> type[_BoundedResponse]:
    return type("_DeadlineResponse", (_BoundedResponse,), {"deadline": deadline})


def read_capped(response: Any, path: str, limit: int) -> bytes:
    """The body, or ``too_large`` as soon as it (or its announced length) passes ``limit``.

    ``response`` is an ``http.client`` or a ``urllib3`` response (both have these methods).
    """
    announced = str(response.headers.get("Content-Length") or "").strip()
    if announced.isdigit() and int(announced) > limit:
        raise too_large(path, limit)
    if isinstance(response, http.client.HTTPResponse) and response.length is not None:
        # Not chunked: exactly the announced length, read into one buffer (no copy), and
        # http.client never decompresses. The deadline still bounds the read.
        return response.read()
    chunks: list[bytes] = []
    size = 0
    while chunk := response.read(READ_CHUNK):
        size += len(chunk)
        if size > limit:
            raise too_large(path, limit)
        chunks.append(chunk)
    return b"".join(chunks)


class NativeTransport:
    """GETs over one kept-alive HTTP(S) connection per thread (stdlib only)."""

    def __init__(self, endpoint: Endpoint, limits: Limits | None = None) -> None:
        self._endpoint = endpoint
        self._limits = limits or Limits()
        self._local = threading.local()

    def _connection(self, deadline: float) -> http.client.HTTPConnection:
        connection: http.client.HTTPConnection | None = getattr(self._local, "connection", None)
        if connection is None:
            endpoint = self._endpoint
            timeout = min(REQUEST_TIMEOUT[0], self._limits.deadline)
            if endpoint.ssl_context is None:
                connection = http.client.HTTPConnection(endpoint.host, endpoint.port,
                                                        timeout=timeout)
            else:
                connection = _HTTPSConnection(endpoint, timeout)
            self._local.connection = connection
        elif connection.sock is not None:
            connection.sock.settimeout(max(deadline - time.monotonic(), 0.001))
        connection.response_class = _response_class(deadline)
        return connection

    def get(self, path: str, accept: str) -> HttpResponse:
        """One GET; a connection the server closed while idle is reopened once."""
        headers = {**self._endpoint.headers, "Accept": accept,
                   "User-Agent": "asm-advisor"}
        for attempt in (1, 2):
            deadline = time.monotonic() + self._limits.deadline
            connection = self._connection(deadline)
            try:
                connection.request("GET", path, headers=headers)
                response = connection.getresponse()
                body = read_capped(response, path, self._limits.response_bytes)
            except (http.client.RemoteDisconnected, BrokenPipeError,
                    ConnectionResetError) as exc:
                self._drop(connection)
                if attempt == 2:
                    raise self._unreachable(exc) from None
                continue
            except ClusterError:
                self._drop(connection)  # the rest of an oversized body is never read
                raise
            except TimeoutError:
                self._drop(connection)
                if time.monotonic() >= deadline - 0.01:
                    raise too_slow(self._endpoint.url, self._limits.deadline) from None
                raise self._unreachable(TimeoutError()) from None
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self._drop(connection)
                raise self._unreachable(exc) from None
            return HttpResponse(status=response.status, headers=dict(response.getheaders()),
                                body=body)
        raise AssertionError("unreachable")  # pragma: no cover - the loop always returns

    def _drop(self, connection: http.client.HTTPConnection) -> None:
        self._local.connection = None
        connection.close()

    def _unreachable(self, exc: BaseException) -> ClusterError:
        if isinstance(exc, ssl.SSLError):
            reason = f"TLS failure: {first_line(exc)}"
        elif isinstance(exc, ConnectionRefusedError | socket.gaierror):
            reason = "connection refused or host unreachable"
        elif isinstance(exc, TimeoutError):
            reason = "timed out"
        else:
            reason = first_line(exc)
        return ClusterError(f"cannot reach the API server at {self._endpoint.url}: {reason}")


class _HTTPSConnection(http.client.HTTPSConnection):
    """HTTPS with the kubeconfig's TLS settings, and its ``tls-server-name`` when set."""

    def __init__(self, endpoint: Endpoint, timeout: float) -> None:
        super().__init__(endpoint.host, endpoint.port, timeout=timeout,
                         context=endpoint.ssl_context)
        self._server_hostname = endpoint.server_hostname or endpoint.host
        self._tls = endpoint.ssl_context

    def connect(self) -> None:
        """Open the socket and wrap it, naming the server the certificate must match."""
        http.client.HTTPConnection.connect(self)
        assert self._tls is not None
        self.sock = self._tls.wrap_socket(self.sock, server_hostname=self._server_hostname)


def first_line(text: object) -> str:
    """The last non-empty line of a (possibly multi-line) message, clipped."""
    lines = str(text).strip().splitlines()
    return lines[-1].strip()[:300] if lines else "unknown error"


def connect(options: ClusterOptions) -> Transport:
    """Load kubeconfig (``--kubeconfig``, ``KUBECONFIG``, ``~/.kube/config``) or in-cluster.

    The stdlib transport serves tokens, certificates and basic auth; anything that needs a
    credential plugin or a proxy goes through the ``kubernetes`` client.
    """
    try:
        endpoint = in_cluster_endpoint() if options.in_cluster else load_endpoint(
            options.kubeconfig, options.context)
    except KubeconfigError as exc:
        raise ClusterError(str(exc)) from None
    except NeedsClient:
        from asm_mode_advisor.sources.kubeclient import connect_with_client

        return connect_with_client(options)
    return NativeTransport(endpoint, options.limits)
