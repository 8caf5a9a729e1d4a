"""What every cluster transport shares: the bounds of one GET, its one-line errors, retries.

Two transports exist (our own in ``transport.py``, the ``kubernetes`` client's in
``kubeclient.py``; docs/performance.md, "One cluster client path?", says why); both keep the
limits and build the errors defined here, so neither can drift from the other:

* an answer is at most ``Limits.response_bytes`` (``read_capped``), a scan at most
  ``Limits.total_bytes`` (``Reader``);
* one request, body included, ends by ``Limits.deadline`` (``too_slow``);
* a failure is one line naming the server (``unreachable``), and every message goes through
  ``redact.safe_message`` (``ClusterError``), so no credential or userinfo is ever printed;
* 429 and 5xx are retried with capped backoff honouring ``Retry-After`` (``Reader``).
"""

from __future__ import annotations

import http.client
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from asm_mode_advisor.redact import safe_message

MIB = 1 << 20
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
MAX_ATTEMPTS = 5
MAX_BACKOFF_SECONDS = 30.0
JSON = "application/json"


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


def unreachable(url: str, exc: BaseException) -> ClusterError:
    """The error for a connection that failed, from the stdlib or from urllib3 alike."""
    return ClusterError(f"cannot reach the API server at {url}: {failure_reason(exc)}")


def failure_reason(exc: BaseException) -> str:
    """A few words on why a connection failed.

    urllib3's errors are recognised by their class names, so this module never imports it
    (our own transport runs without the ``kubernetes`` client installed).
    """
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, ssl.SSLError) or "SSL" in type(exc).__name__ or "SSLError" in names:
        return f"TLS failure: {first_line(exc)}"
    # Before the timeouts: urllib3's NewConnectionError is a ConnectTimeoutError too.
    if isinstance(exc, ConnectionRefusedError | socket.gaierror) or (
            "NewConnectionError" in names):
        return "connection refused or host unreachable"
    if isinstance(exc, TimeoutError) or "TimeoutError" in names:
        return "timed out"
    return first_line(exc)


def first_line(text: object) -> str:
    """The last non-empty line of a (possibly multi-line) message, clipped."""
    lines = str(text).strip().splitlines()
    return lines[-1].strip()[:300] if lines else "unknown error"


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


class Reader:
    """Counts requests and bytes, retries 429/5xx with capped backoff honouring Retry-After.

    The bytes of every answer count towards ``max_total_bytes`` (``Limits.total_bytes``).
    """

    def __init__(self, transport: Transport, sleep: Callable[[float], None] = time.sleep,
                 max_attempts: int = MAX_ATTEMPTS, max_total_bytes: int = MAX_TOTAL_BYTES
                 ) -> None:
        self.transport = transport
        self.sleep = sleep
        self.max_attempts = max_attempts
        self.max_total_bytes = max_total_bytes
        self.requests = 0
        self.bytes_read = 0
        self._count = threading.Lock()

    def get(self, path: str, accept: str = JSON) -> HttpResponse:
        """GET with bounded retries; returns the final response, whatever its status."""
        for attempt in range(1, self.max_attempts + 1):
            with self._count:
                self.requests += 1
            response = self.transport.get(path, accept)
            with self._count:
                self.bytes_read += len(response.body)
                over = self.bytes_read > self.max_total_bytes
            if over:
                raise ClusterError(f"the API server sent more than "
                                   f"{self.max_total_bytes // MIB} MiB in this scan; stopping "
                                   f"(at GET {path.split('?')[0]})")
            if response.status != 429 and response.status < 500:
                return response
            if attempt < self.max_attempts:
                self.sleep(_backoff(attempt, response.headers))
        return response


def _backoff(attempt: int, headers: Mapping[str, str]) -> float:
    """Seconds to wait before the next attempt: Retry-After when given, else 0.5 s doubling."""
    retry_after = {k.lower(): v for k, v in headers.items()}.get("retry-after", "")
    if retry_after.strip().isdigit():
        return min(float(retry_after.strip()), MAX_BACKOFF_SECONDS)
    return min(0.5 * float(2 ** (attempt - 1)), MAX_BACKOFF_SECONDS)
