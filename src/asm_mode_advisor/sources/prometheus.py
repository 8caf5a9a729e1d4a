"""Calls measured by Prometheus: Istio's standard metrics over a window, in three queries.

The queries are aggregated by the server (``sum by``), so their number never grows with the
estate: one for requests (``istio_requests_total``), one for TCP connections
(``istio_tcp_connections_opened_total``) and one for response flags (fault injection).
Managed Prometheus services (ARMS and others) want a bearer token, read from a file, or basic
auth, read from the environment; neither is ever printed. Every answer is bounded in time and
size, and every label value is checked before it names a namespace or a workload.
"""

from __future__ import annotations

import base64
import http.client
import json
import math
import os
import re
import ssl
import time
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from asm_mode_advisor.names import DNS1123_LABEL, DNS1123_SUBDOMAIN, LABEL_MAX, SUBDOMAIN_MAX
from asm_mode_advisor.redact import remember, safe_message
from asm_mode_advisor.smallfile import TOKEN_LIMIT, FileProblem, read_text
from asm_mode_advisor.sources.limits import failure_reason
from asm_mode_advisor.traffic.graph import Call, Protocol

#: Environment variables for basic auth (managed services that want a user and password).
USER_ENV = "ASM_ADVISOR_PROMETHEUS_USER"
PASSWORD_ENV = "ASM_ADVISOR_PROMETHEUS_PASSWORD"
DEFAULT_WINDOW = "7d"
DEFAULT_TIMEOUT = 30.0
MAX_ANSWER_BYTES = 64 << 20
MAX_SERIES = 200_000
#: Response flags Envoy sets when a fault was injected: an abort (FI) or a delay (DI).
FAULT_FLAGS = frozenset({"FI", "DI"})

_DURATION = re.compile(r"^([1-9][0-9]{0,5})(s|m|h|d|w)$")
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_BY = ("reporter", "source_workload_namespace", "source_workload",
       "destination_service_namespace", "destination_service_name")


class MetricsError(Exception):
    """Prometheus could not be used; ``str()`` is one line that names the URL, never a secret."""

    def __init__(self, message: str) -> None:
        super().__init__(safe_message(message))


@dataclass(frozen=True)
class PrometheusOptions:
    """Where Prometheus is, how to log in, and the window to look at."""

    url: str
    token_file: str | None = None
    window: str = DEFAULT_WINDOW
    timeout: float = DEFAULT_TIMEOUT
    max_bytes: int = MAX_ANSWER_BYTES


@dataclass
class Measured:
    """What the metrics said: calls, the window, and how many queries it took."""

    url: str
    window: str
    calls: list[Call] = field(default_factory=list)
    queries: int = 0
    series: int = 0


def window_seconds(window: str) -> int:
    """Seconds of a Prometheus duration such as ``7d``, ``12h`` or ``30m``.

    Raises:
        ValueError: not one number and one unit of s, m, h, d or w.
    """
    match = _DURATION.match(window.strip())
    if match is None:
        raise ValueError(f"{window!r} is not a duration such as 7d, 12h or 30m")
    return int(match.group(1)) * _SECONDS[match.group(2)]


def shown_url(url: str) -> str:
    """The URL as messages show it: scheme, host, port and path; no userinfo or query."""
    try:
        parts = urllib.parse.urlsplit(url.strip())
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        return "the --prometheus URL"
    return f"{parts.scheme}://{parts.hostname or ''}{port}{parts.path.rstrip('/')}"


def queries(window: str) -> dict[str, str]:
    """The three PromQL queries, by what they measure."""
    by = ", ".join(_BY)
    return {
        "requests": f"sum by ({by}, request_protocol) (increase(istio_requests_total[{window}]))",
        "connections": f"sum by ({by}) (increase(istio_tcp_connections_opened_total[{window}]))",
        "flags": (f"sum by ({by}, response_flags) (increase(istio_requests_total"
                  f"{{response_flags!=\"-\"}}[{window}]))"),
    }


def fetch(options: PrometheusOptions) -> Measured:
    """Query Prometheus and turn its answers into calls.

    Raises:
        MetricsError: unreachable, refused, slow, too large, not Prometheus, or no Istio data.
    """
    seconds = window_seconds(options.window)
    client = _Client(options)
    measured = Measured(url=client.shown, window=options.window)
    answers = {name: client.query(text) for name, text in queries(options.window).items()}
    measured.queries = len(answers)
    measured.series = sum(len(rows) for rows in answers.values())
    if not answers["requests"] and not answers["connections"]:
        raise MetricsError(f"Prometheus at {client.shown} has no Istio metrics "
                           f"(istio_requests_total, istio_tcp_connections_opened_total) in the "
                           f"last {options.window}")
    measured.calls = list(_calls(answers, seconds))
    return measured


def _calls(answers: dict[str, list[tuple[dict[str, str], float]]],
           seconds: int) -> Iterator[Call]:
    """Calls per reporter; the graph keeps the larger of two reporters' figures."""
    for labels, value in answers["requests"]:
        ends = _ends(labels)
        if ends is not None and value > 0:
            yield replace(ends, protocol=_protocol(labels.get("request_protocol", "")),
                          requests_per_second=value / seconds)
    for labels, value in answers["connections"]:
        ends = _ends(labels)
        if ends is not None and value > 0:
            yield replace(ends, protocol="tcp", connections_per_second=value / seconds)
    for labels, value in answers["flags"]:
        ends = _ends(labels)
        flags = tuple(sorted(FAULT_FLAGS.intersection(
            labels.get("response_flags", "").split(","))))
        if ends is not None and value > 0 and flags:
            yield replace(ends, protocol="http", response_flags=flags)


def _ends(labels: dict[str, str]) -> Call | None:
    """A measured call with its caller and callee from a series' labels (no figures yet).

    None when a namespace is unknown (callers outside the mesh) or a name is invalid.
    """
    found = {
        "source_namespace": labels.get("source_workload_namespace", ""),
        "source_workload": labels.get("source_workload", ""),
        "destination_namespace": labels.get("destination_service_namespace", ""),
        "destination_service": labels.get("destination_service_name", ""),
    }
    for key in ("source_namespace", "destination_namespace"):
        if not _label(found[key]):
            return None  # "unknown" callers (outside the mesh) have no namespace to advise
    if found["source_namespace"] == "unknown" or found["destination_namespace"] == "unknown":
        return None
    if not _subdomain(found["destination_service"]):
        return None
    if not _subdomain(found["source_workload"]) or found["source_workload"] == "unknown":
        found["source_workload"] = ""
    return Call(source_namespace=found["source_namespace"],
                source_workload=found["source_workload"],
                destination_namespace=found["destination_namespace"],
                destination_service=found["destination_service"], origin="metrics")


def _label(value: str) -> bool:
    return 0 < len(value) <= LABEL_MAX and DNS1123_LABEL.fullmatch(value) is not None


def _subdomain(value: str) -> bool:
    return 0 < len(value) <= SUBDOMAIN_MAX and DNS1123_SUBDOMAIN.fullmatch(value) is not None


def _protocol(value: str) -> Protocol:
    value = value.lower()
    return "grpc" if value == "grpc" else ("http" if value.startswith("http") else "tcp")


class _Client:
    """POSTs to ``/api/v1/query`` under the base URL, bounded in time and size."""

    def __init__(self, options: PrometheusOptions) -> None:
        try:
            parts = urllib.parse.urlsplit(options.url.strip())
            parts.port  # noqa: B018 - a bad port raises here, not in the middle of a request
        except ValueError:
            raise MetricsError("--prometheus: not a valid URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise MetricsError(f"--prometheus {shown_url(options.url)!s}: not an http(s) URL")
        self.shown = shown_url(options.url)
        self._options = options
        self._parts = parts
        self._path = parts.path.rstrip("/") + "/api/v1/query"
        self._headers = {"User-Agent": "asm-advisor", "Accept": "application/json",
                         "Content-Type": "application/x-www-form-urlencoded",
                         **_authorization(options, parts)}

    def query(self, text: str) -> list[tuple[dict[str, str], float]]:
        """One instant query's vector: ``(labels, value)`` per series."""
        body = urllib.parse.urlencode({"query": text,
                                       "timeout": f"{max(int(self._options.timeout), 1)}s"})
        status, data = self._post(body.encode("ascii"))
        try:
            answer = json.loads(data)
        except (ValueError, UnicodeDecodeError):
            raise MetricsError(f"Prometheus at {self.shown} answered HTTP {status} with "
                               "something that is not JSON") from None
        if status != 200 or not isinstance(answer, dict) or answer.get("status") != "success":
            raise MetricsError(f"Prometheus at {self.shown} refused the query: HTTP {status}"
                               + _error_text(answer))
        return _vector(answer, self.shown)

    def _post(self, body: bytes) -> tuple[int, bytes]:
        options, parts = self._options, self._parts
        deadline = time.monotonic() + options.timeout
        connection: http.client.HTTPConnection
        if parts.scheme == "https":
            connection = http.client.HTTPSConnection(
                parts.hostname or "", parts.port, timeout=options.timeout,
                context=ssl.create_default_context())
        else:
            connection = http.client.HTTPConnection(parts.hostname or "", parts.port,
                                                    timeout=options.timeout)
        try:
            connection.request("POST", self._path, body=body, headers=self._headers)
            response = connection.getresponse()
            return response.status, _read(response, deadline, options.max_bytes, self.shown)
        except TimeoutError:
            raise MetricsError(f"Prometheus at {self.shown} did not answer within "
                               f"{options.timeout:g} s") from None
        except (OSError, http.client.HTTPException) as exc:
            raise MetricsError(f"cannot reach Prometheus at {self.shown}: "
                               f"{failure_reason(exc)}") from None
        finally:
            connection.close()


def _read(response: http.client.HTTPResponse, deadline: float, limit: int,
          shown: str) -> bytes:
    """The body, by the deadline and within ``limit`` bytes (redirects are not followed)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        if time.monotonic() > deadline:
            raise TimeoutError
        chunk = response.read1(1 << 16)
        if not chunk:
            return b"".join(chunks)
        size += len(chunk)
        if size > limit:
            raise MetricsError(f"Prometheus at {shown} sent more than {limit >> 20} MiB")
        chunks.append(chunk)


def _authorization(options: PrometheusOptions,
                   parts: urllib.parse.SplitResult) -> dict[str, str]:
    """The Authorization header: a bearer token from a file, else basic auth from the env."""
    if parts.username or parts.password:
        raise MetricsError(f"--prometheus {shown_url(options.url)}: put credentials in "
                           f"{USER_ENV}/{PASSWORD_ENV} or a token file, not in the URL")
    if options.token_file:
        token = _token(options.token_file)
        return {"Authorization": f"Bearer {token}"}
    user, password = os.environ.get(USER_ENV, ""), os.environ.get(PASSWORD_ENV, "")
    if user or password:
        remember([password, user])
        pair = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        remember([pair])
        return {"Authorization": f"Basic {pair}"}
    return {}


def _token(path: str) -> str:
    try:
        token = read_text(Path(path), TOKEN_LIMIT).strip()
    except FileProblem as exc:
        raise MetricsError(f"--prometheus-token-file {path}: {exc}") from None
    if not token or any(c.isspace() or not c.isprintable() for c in token):
        raise MetricsError(f"--prometheus-token-file {path}: not one token on one line")
    remember([token])
    return token


def _vector(answer: dict[str, Any], shown: str) -> list[tuple[dict[str, str], float]]:
    data = answer.get("data")
    if not isinstance(data, dict) or data.get("resultType") != "vector" or not isinstance(
            data.get("result"), list):
        raise MetricsError(f"Prometheus at {shown} answered without a vector result")
    rows: list[tuple[dict[str, str], float]] = []
    for item in data["result"][:MAX_SERIES]:
        if not isinstance(item, dict):
            continue
        metric, value = item.get("metric"), item.get("value")
        if not isinstance(metric, dict) or not isinstance(value, list) or len(value) != 2:
            continue
        try:
            number = float(value[1])
        except (TypeError, ValueError):
            continue
        if math.isfinite(number):
            rows.append(({str(k): str(v) for k, v in metric.items() if isinstance(v, str)},
                         number))
    return rows


def _error_text(answer: object) -> str:
    if isinstance(answer, dict) and isinstance(answer.get("error"), str):
        kind = answer.get("errorType")
        return f" ({kind}: {answer['error'][:200]})" if isinstance(kind, str) else (
            f" ({answer['error'][:200]})")
    return ""
