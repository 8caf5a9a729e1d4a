"""``scan`` against a hostile local API server (tests/hostile.py): every read is bounded.

Real sockets and real clocks, no mock: a server that trickles a byte at a time, sends too
much, never ends a list, nests JSON without end, redirects, or puts a newline in its message.
Each case runs through our own transport and, where the code differs, the ``kubernetes``
client's (a server URL with a path prefix is served by the client).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from asm_mode_advisor.cli import app
from asm_mode_advisor.sources.cluster import (
    MAX_EMPTY_PAGES,
    ClusterError,
    ClusterOptions,
    ClusterSnapshot,
    Limits,
    Reader,
    connect,
    read_cluster,
)
from hostile import Handler, Hostile, kubeconfig

FAST = Limits(deadline=1.0)


def scan(server: Hostile, tmp_path: Path, limits: Limits = FAST) -> ClusterSnapshot:
    config = kubeconfig(tmp_path / "config", server.url)
    options = ClusterOptions(kubeconfig=str(config), limits=limits)
    return read_cluster(Reader(connect(options), sleep=lambda _: None,
                               max_total_bytes=limits.total_bytes))


def trickle(part: str) -> Any:
    """A fault that sends the namespaces list (headers or body) a byte every 0.2 s."""
    def fault(handler: Handler, path: str, _: dict[str, list[str]]) -> bool:
        if path != "/api/v1/namespaces":
            return False
        body = json.dumps({"metadata": {}, "items": []}).encode()
        head = (f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                f"{len(body)}\r\n\r\n").encode()
        slow, fast = (head, b"") if part == "headers" else (b"", head)
        handler.wfile.write(fast)
        handler.wfile.flush()
        for byte in slow + body:  # ~10 s in all, far past the 1 s deadline
            handler.wfile.write(bytes([byte]))
            handler.wfile.flush()
            time.sleep(0.2)
        return True
    return fault


@pytest.mark.parametrize("prefix", ["", "/via-client"])
@pytest.mark.parametrize("part", ["headers", "body"])
def test_a_trickling_server_is_cut_off_at_the_deadline(tmp_path: Path, part: str,
                                                       prefix: str) -> None:
    with Hostile(trickle(part), prefix=prefix) as server:
        started = time.monotonic()
        with pytest.raises(ClusterError, match="no complete answer within 1 s") as caught:
            scan(server, tmp_path)
        assert time.monotonic() - started < 4.0
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("prefix", ["", "/via-client"])
def test_a_prompt_server_is_read_within_the_same_deadline(tmp_path: Path, prefix: str) -> None:
    with Hostile(prefix=prefix) as server:
        snapshot = scan(server, tmp_path)
    assert [r.name for r in snapshot.resources if r.kind == "Namespace"] == ["shop"]


def big_list(size: int, framing: str = "length") -> Any:
    """A namespaces list of about ``size`` bytes: with a Content-Length, chunked, or chunked
    under a small (false) Content-Length, which HTTP says to ignore."""
    def fault(handler: Handler, path: str, _: dict[str, list[str]]) -> bool:
        if path != "/api/v1/namespaces":
            return False
        pad = "x" * max(size - 60, 0)
        body = json.dumps({"metadata": {}, "items": [{"metadata": {"name": "shop",
                                                                   "labels": {"p": pad}}}]})
        if framing == "length":
            handler.send_raw(200, body.encode())
            return True
        handler.send_response(200)
        handler.send_header("Transfer-Encoding", "chunked")
        if framing == "false length":
            handler.send_header("Content-Length", "10")
        handler.end_headers()
        data = body.encode()
        for start in range(0, len(data), 4096):
            chunk = data[start:start + 4096]
            handler.wfile.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        handler.wfile.write(b"0\r\n\r\n")
        return True
    return fault


@pytest.mark.parametrize("prefix", ["", "/via-client"])
@pytest.mark.parametrize("framing", ["length", "chunked", "false length"])
def test_an_answer_over_the_size_limit_is_refused(tmp_path: Path, framing: str,
                                                  prefix: str) -> None:
    limits = Limits(response_bytes=2 << 20, deadline=10.0)
    with Hostile(big_list(3 << 20, framing), prefix=prefix) as server, pytest.raises(
            ClusterError, match="larger than 2 MiB; try a smaller --page-size"):
        scan(server, tmp_path, limits)
    with Hostile(big_list(1 << 20, framing), prefix=prefix) as server:
        snapshot = scan(server, tmp_path, limits)
    assert [r.name for r in snapshot.resources if r.kind == "Namespace"] == ["shop"]


def test_the_bytes_of_a_whole_scan_are_capped(tmp_path: Path) -> None:
    with Hostile(big_list(1 << 20)) as server:
        with pytest.raises(ClusterError, match="more than 1 MiB in this scan"):
            scan(server, tmp_path, Limits(total_bytes=1 << 20, deadline=10.0))
        assert scan(server, tmp_path, Limits(total_bytes=2 << 20, deadline=10.0)).resources


def paging(token: Any, items: bool = True) -> Any:
    """A pods list whose every page promises more with ``token(n)`` (the n-th request).

    After 50 pages it ends anyway, so that a reader without the guard finishes (and the test
    fails) instead of hanging.
    """
    calls = {"n": 0}

    def fault(handler: Handler, path: str, _: dict[str, list[str]]) -> bool:
        if path != "/api/v1/pods":
            return False
        calls["n"] += 1
        pod = {"metadata": {"name": f"p{calls['n']}", "namespace": "shop",
                            "ownerReferences": [{"kind": "ReplicaSet", "name": "r",
                                                 "controller": True}]}}
        more = token(calls["n"]) if calls["n"] < 50 else ""
        handler.send_json(200, {"metadata": {"continue": more},
                                "items": [pod] if items else []})
        return True
    return fault


def test_a_repeated_continue_token_stops_the_list(tmp_path: Path) -> None:
    with Hostile(paging(lambda n: "same")) as server:
        with pytest.raises(ClusterError, match="list pods/v1: the API server sent the same "
                                               "continue token twice"):
            scan(server, tmp_path)
        assert len([p for p in server.requests if p.startswith("/api/v1/pods")]) == 2


def test_distinct_tokens_page_on_until_the_last(tmp_path: Path) -> None:
    with Hostile(paging(lambda n: f"t{n}" if n < 5 else "")) as server:
        snapshot = scan(server, tmp_path)
    assert len([r for r in snapshot.resources if r.kind == "Pod"]) == 5


def test_empty_pages_that_promise_more_stop_the_list(tmp_path: Path) -> None:
    with Hostile(paging(lambda n: f"t{n}", items=False)) as server:
        with pytest.raises(ClusterError, match=f"{MAX_EMPTY_PAGES} pages in a row"):
            scan(server, tmp_path)
        assert len([p for p in server.requests if p.startswith("/api/v1/pods")]) == (
            MAX_EMPTY_PAGES)


def nested(depth: int) -> Any:
    def fault(handler: Handler, path: str, _: dict[str, list[str]]) -> bool:
        if path != "/api/v1/namespaces":
            return False
        deep = "[" * depth + "]" * depth
        handler.send_raw(200, ('{"metadata": {}, "items": [{"metadata": {"name": "shop"}, '
                               f'"deep": {deep}}}]}}').encode())
        return True
    return fault


def test_json_nested_past_the_parser_is_one_line(tmp_path: Path) -> None:
    with Hostile(nested(100_000)) as server, pytest.raises(
            ClusterError, match="list namespaces/v1: the API server's JSON is nested too "
                                "deeply") as caught:
        scan(server, tmp_path)
    assert "\n" not in str(caught.value)
    with Hostile(nested(100)) as server:
        assert scan(server, tmp_path).resources


def redirect(target: str) -> Any:
    def fault(handler: Handler, path: str, _: dict[str, list[str]]) -> bool:
        handler.send_json(302, {}, {"Location": f"{target}{path}"})
        return True
    return fault


@pytest.mark.parametrize(("prefix", "tls"), [("", False), ("/via-client", False),
                                              ("/via-client", True)])
def test_redirects_are_refused(tmp_path: Path, prefix: str, tls: bool) -> None:
    """Neither transport follows a redirect, to another host or from https down to http."""
    with Hostile() as elsewhere, Hostile(redirect(elsewhere.url), prefix=prefix,
                                         tls_dir=tmp_path if tls else None) as server:
        with pytest.raises(ClusterError, match=r"redirect \(HTTP 302 to http://127") as caught:
            scan(server, tmp_path)
        assert server.requests == [f"{prefix}/version"]
        assert elsewhere.requests == []
    assert "never followed" in str(caught.value)


def test_a_server_message_with_a_newline_stays_one_line(tmp_path: Path) -> None:
    def refuse(handler: Handler, path: str, _: dict[str, list[str]]) -> bool:
        if path != "/api/v1/namespaces":
            return False
        handler.send_json(400, {"message": "bad\nasm-advisor: error: forged\r\x1b[31mline"})
        return True

    with Hostile(refuse) as server:
        config = kubeconfig(tmp_path / "config", server.url)
        result = CliRunner().invoke(app, ["scan", "--kubeconfig", str(config)])
    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "\x1b" not in result.stderr and "\r" not in result.stderr
    assert lines[0].startswith("asm-advisor: error: list namespaces/v1: HTTP 400: bad")
    assert "forged" in lines[0]


def closed_port() -> int:
    """A local port nothing listens on (bound, then released)."""
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("prefix", ["", "/via-client"])
def test_an_unreachable_server_is_the_same_one_line_on_both_transports(
        tmp_path: Path, prefix: str) -> None:
    """One set of error words (``limits.unreachable``) for our transport and the client's."""
    server = f"http://127.0.0.1:{closed_port()}{prefix}"
    options = ClusterOptions(kubeconfig=str(kubeconfig(tmp_path / "config", server)),
                             limits=FAST)
    with pytest.raises(ClusterError) as caught:
        read_cluster(Reader(connect(options), sleep=lambda _: None))
    assert str(caught.value) == (f"cannot reach the API server at {server}: connection "
                                 "refused or host unreachable")


def test_failure_reasons_read_stdlib_and_urllib3_errors_alike() -> None:
    import ssl

    import urllib3

    from asm_mode_advisor.sources.limits import failure_reason

    pool = urllib3.HTTPConnectionPool("127.0.0.1")
    refused = urllib3.exceptions.NewConnectionError(pool, "refused")
    assert failure_reason(refused) == failure_reason(ConnectionRefusedError()) == (
        "connection refused or host unreachable")
    read_timeout = urllib3.exceptions.ReadTimeoutError(pool, "/", "read timed out")
    assert failure_reason(read_timeout) == failure_reason(TimeoutError()) == "timed out"
    assert failure_reason(urllib3.exceptions.SSLError("bad cert")) == "TLS failure: bad cert"
    assert failure_reason(ssl.SSLError(1, "bad cert")) == "TLS failure: bad cert"
    assert failure_reason(OSError("first\nsecond")) == "second"
