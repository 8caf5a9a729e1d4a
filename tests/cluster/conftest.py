"""Fixtures for tests against a real kube-apiserver (see apiserver.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from apiserver import CRDS_FILE, TestCluster, find_assets, load_yaml, missing_assets_message

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test in this folder ``cluster`` (``scripts/test.sh --no-cluster`` skips them)."""
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.cluster)


@pytest.fixture(scope="session")
def kube_cluster() -> Iterator[TestCluster]:
    """One etcd + kube-apiserver 1.20 for the whole session, with the Istio and
    Gateway API CRDs of crds.yaml installed and ``asm-reader`` bound to the
    ``asm-advisor-reader`` ClusterRole.

    Missing executables FAIL the tests that use it (never skip): run
    ``bash scripts/get-kube-assets.sh`` once on the machine.
    """
    assets = find_assets()
    if assets is None:
        pytest.fail(missing_assets_message(), pytrace=False)
    with TestCluster(assets) as cluster:
        cluster.apply(load_yaml(CRDS_FILE))
        yield cluster
