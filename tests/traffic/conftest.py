"""Fixtures for the traffic-evidence tests: a real Prometheus scraping Istio-shaped series."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from promserver import Exporter, PrometheusServer, find_prometheus, running


def prometheus_binary() -> str:
    """The executable, or FAIL (never skip): the test command fetches it."""
    binary = find_prometheus()
    if binary is None:
        pytest.fail("no prometheus executable: run `bash scripts/get-prometheus.sh` once "
                    "(scripts/test.sh does) or set ASM_ADVISOR_PROMETHEUS", pytrace=False)
    return binary


@pytest.fixture(scope="session")
def prometheus(tmp_path_factory: pytest.TempPathFactory
               ) -> Iterator[tuple[PrometheusServer, Exporter]]:
    """One Prometheus for the session, with every fixture series' samples in."""
    folder: Path = tmp_path_factory.mktemp("prometheus")
    yield from running(prometheus_binary(), folder)


@pytest.fixture()
def own_prometheus(tmp_path: Path) -> Iterator[tuple[PrometheusServer, Exporter]]:
    """A Prometheus of the test's own, to stop or misconfigure."""
    yield from running(prometheus_binary(), tmp_path)
