"""Shared helpers for the CI-gate tests: a throwaway repository and CLI runs inside it."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from asm_mode_advisor.cli import app

AMBIENT_NS = """\
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio.io/dataplane-mode: ambient
"""
SERVICE = """\
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: shop
spec:
  selector: {app: reviews}
  ports: [{port: 9080, name: http}]
"""
VIRTUAL_SERVICE = """\
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: reviews
  namespace: shop
spec:
  hosts: [reviews]
  http:
  - route:
    - destination: {host: reviews}
    fault:
      abort: {httpStatus: 503, percentage: {value: 10}}
"""
WAYPOINT = """\
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  namespace: shop
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
"""
SIDECAR_RESOURCE = """\
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress: [{hosts: ["./*"]}]
"""


def write(root: Path, name: str, text: str) -> Path:
    path = root / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty repository (a ``.git`` folder) that is the working directory."""
    (tmp_path / ".git").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def l7_pr(root: Path, with_waypoint: bool) -> None:
    """A PR that adds L7 routing to an ambient namespace, with or without a waypoint."""
    namespace = AMBIENT_NS
    if with_waypoint:
        namespace += "    istio.io/use-waypoint: waypoint\n"
        write(root, "manifests/waypoint.yaml", WAYPOINT)
    write(root, "manifests/namespace.yaml", namespace)
    write(root, "manifests/reviews.yaml", SERVICE + "---\n" + VIRTUAL_SERVICE)


def cli(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))
