"""The Prometheus client against a real Prometheus scraping Istio-shaped series."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from asm_mode_advisor.sources.prometheus import (
    MetricsError,
    PrometheusOptions,
    fetch,
    queries,
    shown_url,
    window_seconds,
)
from asm_mode_advisor.traffic.graph import Call, Graph
from conftest import prometheus_binary
from promserver import Exporter, PrometheusServer, TokenProxy


def by_pair(calls: list[Call]) -> dict[tuple[str, str, str, str], Call]:
    graph = Graph()
    graph.add(calls)
    return {c.key: c for c in graph.calls}


def test_measured_calls_by_protocol(prometheus: tuple[PrometheusServer, Exporter]) -> None:
    server, _ = prometheus
    measured = fetch(PrometheusOptions(url=server.url, window="5m"))
    assert measured.queries == 3
    calls = by_pair(measured.calls)
    cart = calls[("web", "frontend", "shop", "cart")]
    catalog = calls[("web", "frontend", "shop", "catalog")]
    assert (cart.protocol, catalog.protocol) == ("http", "grpc")
    assert cart.origin == catalog.origin == "metrics"
    assert cart.requests_per_second and catalog.requests_per_second
    # Two reporters saw the same 50 rps: kept once, not doubled, so 10x catalog's 5 rps.
    assert 7 < cart.requests_per_second / catalog.requests_per_second < 13
    postgres = calls[("shop", "cart", "db", "postgres")]
    assert postgres.protocol == "tcp" and postgres.connections_per_second
    assert postgres.requests_per_second is None
    # Callers from outside the mesh have no namespace to advise.
    assert not [c for c in measured.calls if "unknown" in c.key]


def test_fault_flags_and_ambient_callers(prometheus: tuple[PrometheusServer, Exporter]) -> None:
    server, _ = prometheus
    calls = by_pair(fetch(PrometheusOptions(url=server.url, window="5m")).calls)
    assert calls[("shop", "cart", "shop", "reviews")].response_flags == ("FI",)
    assert calls[("web", "frontend", "shop", "cart")].response_flags == ()
    batch = calls[("batch", "report-job", "shop", "cart")]
    assert batch.protocol == "tcp" and batch.requests_per_second is None


def test_queries_stay_three_whatever_the_estate(
        prometheus: tuple[PrometheusServer, Exporter]) -> None:
    server, exporter = prometheus
    proxy = TokenProxy(server.port, "s3cret-token-value")
    try:
        token = Path(server.folder) / "token"
        token.write_text("s3cret-token-value\n", encoding="utf-8")
        measured = fetch(PrometheusOptions(url=proxy.url, token_file=str(token), window="5m"))
    finally:
        proxy.close()
    assert len(proxy.seen) == 3 == measured.queries
    assert set(Graph(measured.calls).namespaces()) == {"batch", "db", "shop", "web"}
    assert all(seen == "Bearer s3cret-token-value" for seen in proxy.seen)
    assert exporter.series  # the fixture really has several namespaces behind three queries


def test_wrong_token_is_one_line_without_the_token(
        prometheus: tuple[PrometheusServer, Exporter], tmp_path: Path) -> None:
    server, _ = prometheus
    proxy = TokenProxy(server.port, "the-right-token")
    token = tmp_path / "token"
    token.write_text("a-wrong-token-123", encoding="utf-8")
    try:
        with pytest.raises(MetricsError) as caught:
            fetch(PrometheusOptions(url=proxy.url, token_file=str(token)))
    finally:
        proxy.close()
    message = str(caught.value)
    assert "HTTP 401" in message and proxy.url in message
    assert "a-wrong-token-123" not in message and "\n" not in message


def test_stopped_prometheus(own_prometheus: tuple[PrometheusServer, Exporter]) -> None:
    server, _ = own_prometheus
    assert fetch(PrometheusOptions(url=server.url, window="5m")).calls
    server.stop()
    with pytest.raises(MetricsError, match=r"cannot reach Prometheus at http://127\.0\.0\.1"):
        fetch(PrometheusOptions(url=server.url, window="5m"))


def test_prometheus_stopped_mid_run(own_prometheus: tuple[PrometheusServer, Exporter],
                                    tmp_path: Path) -> None:
    """The first query is answered, then Prometheus stops before the second one."""
    server, _ = own_prometheus

    def stop_before_second(number: int) -> None:
        if number == 2:
            server.stop()

    proxy = TokenProxy(server.port, "t0ken-value", before_forward=stop_before_second)
    token = tmp_path / "token"
    token.write_text("t0ken-value", encoding="utf-8")
    try:
        with pytest.raises(MetricsError, match=r"refused the query: HTTP 502"):
            fetch(PrometheusOptions(url=proxy.url, token_file=str(token), window="5m"))
    finally:
        proxy.close()
    assert len(proxy.seen) == 2  # the run stopped at the first failed query


def test_query_timeout(own_prometheus: tuple[PrometheusServer, Exporter]) -> None:
    """A Prometheus that stops answering (the process frozen with SIGSTOP) times out."""
    server, _ = own_prometheus
    os.kill(server.process.pid, signal.SIGSTOP)
    started = time.monotonic()
    try:
        with pytest.raises(MetricsError, match=r"did not answer within 1 s"):
            fetch(PrometheusOptions(url=server.url, window="5m", timeout=1.0))
    finally:
        os.kill(server.process.pid, signal.SIGCONT)
    assert time.monotonic() - started < 10


def test_no_istio_metrics(tmp_path: Path) -> None:
    exporter = Exporter({})
    server = PrometheusServer(prometheus_binary(), tmp_path, exporter.port)
    try:
        with pytest.raises(MetricsError, match="has no Istio metrics"):
            fetch(PrometheusOptions(url=server.url, window="5m"))
    finally:
        server.stop()
        exporter.close()


def test_options_are_checked_before_any_request(tmp_path: Path) -> None:
    with pytest.raises(MetricsError, match="not an http"):
        fetch(PrometheusOptions(url="ftp://example.com"))
    with pytest.raises(MetricsError, match="not in the URL") as caught:
        fetch(PrometheusOptions(url="http://user:pa55word@127.0.0.1:9/"))
    assert "pa55word" not in str(caught.value)
    with pytest.raises(MetricsError, match=r"token-file .*: "):
        fetch(PrometheusOptions(url="http://127.0.0.1:9", token_file=str(tmp_path / "none")))
    two = tmp_path / "two"
    two.write_text("one two", encoding="utf-8")
    with pytest.raises(MetricsError, match="not one token"):
        fetch(PrometheusOptions(url="http://127.0.0.1:9", token_file=str(two)))
    with pytest.raises(ValueError, match="not a duration"):
        fetch(PrometheusOptions(url="http://127.0.0.1:9", window="7 days"))


def test_windows_and_urls() -> None:
    assert window_seconds("7d") == 604800 and window_seconds("90m") == 5400
    for bad in ("0d", "7", "1y", "-1h", "1.5h", "9999999d"):
        with pytest.raises(ValueError):
            window_seconds(bad)
    assert shown_url("https://u:p@prom.example.com:9090/arms/api/?x=1") == (
        "https://prom.example.com:9090/arms/api")
    assert all("[7d]" in text for text in queries("7d").values())
