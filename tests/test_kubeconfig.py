"""The stdlib kubeconfig reader: merging, paths, credentials, and when it hands over."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
import yaml

from asm_mode_advisor.sources.kubeconfig import (
    KubeconfigError,
    NeedsClient,
    in_cluster_endpoint,
    load_endpoint,
)


def write(path: Path, *, context: str = "dev", server: str = "https://10.0.0.1:6443",
          user: dict[str, object] | None = None, cluster: dict[str, object] | None = None,
          current: str | None = "dev") -> Path:
    data: dict[str, object] = {
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": f"{context}-cluster",
                      "cluster": {"server": server, "insecure-skip-tls-verify": True,
                                  **(cluster or {})}}],
        "users": [{"name": f"{context}-user", "user": user or {"token": "abc"}}],
        "contexts": [{"name": context,
                      "context": {"cluster": f"{context}-cluster", "user": f"{context}-user"}}],
    }
    if current:
        data["current-context"] = current
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def test_token_kubeconfig(tmp_path: Path) -> None:
    endpoint = load_endpoint(str(write(tmp_path / "config")), None)
    assert (endpoint.host, endpoint.port, endpoint.scheme) == ("10.0.0.1", 6443, "https")
    assert endpoint.headers == {"Authorization": "Bearer abc"}
    assert endpoint.ssl_context is not None and not endpoint.ssl_context.check_hostname


def test_token_file_is_relative_to_the_kubeconfig(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("from-file\n", encoding="utf-8")
    endpoint = load_endpoint(str(write(tmp_path / "config", user={"tokenFile": "token"})), None)
    assert endpoint.headers == {"Authorization": "Bearer from-file"}


@pytest.mark.parametrize(("target", "problem"), [
    ("/dev/zero", "not a regular file"), ("big", "larger than 64 KiB")])
def test_token_file_is_read_bounded(tmp_path: Path, target: str, problem: str) -> None:
    """A tokenFile that is a device or huge is one error, never an endless read."""
    (tmp_path / "big").write_text("x" * (65 << 10), encoding="utf-8")
    with pytest.raises(KubeconfigError, match=f"cannot read tokenFile: {problem}"):
        load_endpoint(str(write(tmp_path / "config", user={"tokenFile": target})), None)


def test_basic_auth(tmp_path: Path) -> None:
    endpoint = load_endpoint(str(write(tmp_path / "config",
                                       user={"username": "ann", "password": "pw"})), None)
    assert endpoint.headers["Authorization"] == "Basic " + base64.b64encode(b"ann:pw").decode()


def test_several_files_first_definition_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    first = write(tmp_path / "a", context="dev", server="https://first:1", current=None)
    second = write(tmp_path / "b", context="dev", server="https://second:2", current="dev")
    monkeypatch.setenv("KUBECONFIG", f"{tmp_path / 'missing'}:{first}:{second}")
    endpoint = load_endpoint(None, None)
    assert (endpoint.host, endpoint.port) == ("first", 1)


def test_unknown_and_missing_contexts(tmp_path: Path) -> None:
    config = str(write(tmp_path / "config"))
    with pytest.raises(KubeconfigError, match="context 'nowhere' not found in kubeconfig"):
        load_endpoint(config, "nowhere")
    bare = str(write(tmp_path / "bare", current=None))
    with pytest.raises(KubeconfigError, match="no current context"):
        load_endpoint(bare, None)


@pytest.mark.parametrize(("content", "message"), [
    ("clusters: [\n", "not valid YAML"),
    ("- a list\n", "not a mapping"),
])
def test_broken_files_are_one_line_errors(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "config"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(KubeconfigError, match=message) as caught:
        load_endpoint(str(path), None)
    assert "\n" not in str(caught.value)


def test_missing_explicit_file(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="no such file"):
        load_endpoint(str(tmp_path / "nope"), None)


@pytest.mark.parametrize("user", [
    {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1", "command": "aliyun"}},
    {"auth-provider": {"name": "oidc"}},
])
def test_credential_plugins_need_the_client(tmp_path: Path, user: dict[str, object]) -> None:
    with pytest.raises(NeedsClient):
        load_endpoint(str(write(tmp_path / "config", user=user)), None)


def test_proxy_needs_the_client(tmp_path: Path) -> None:
    with pytest.raises(NeedsClient):
        load_endpoint(str(write(tmp_path / "config",
                                cluster={"proxy-url": "http://proxy:3128"})), None)


def test_server_must_be_a_url(tmp_path: Path) -> None:
    with pytest.raises(KubeconfigError, match="not an http"):
        load_endpoint(str(write(tmp_path / "config", server="10.0.0.1:6443")), None)


def test_bad_ca_file_is_a_config_error(tmp_path: Path) -> None:
    config = write(tmp_path / "config", cluster={"insecure-skip-tls-verify": False,
                                                 "certificate-authority": "missing-ca.crt"})
    with pytest.raises(KubeconfigError, match="cannot load TLS files"):
        load_endpoint(str(config), None)


def test_in_cluster_needs_the_service_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(KubeconfigError, match="in-cluster configuration not available"):
        in_cluster_endpoint()
