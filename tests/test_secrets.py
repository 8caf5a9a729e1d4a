"""No token, password, client key or userinfo ever appears in any output of ``scan``.

Each case is a failing scan run as a real process (so that anything printed by a library,
``logging`` included, is seen), with a unique secret; stdout, stderr and every file the run
wrote are searched for it. The servers are real local sockets (tests/hostile.py).
"""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from asm_mode_advisor.redact import redact, remember, safe_message
from asm_mode_advisor.sources.kubeconfig import (
    KubeconfigError,
    in_cluster_endpoint,
    load_endpoint,
)
from hostile import Handler, Hostile, kubeconfig, self_signed

SECRET = "S3cr3t-0f-h4-7c1e"
CLOSED = "127.0.0.1:9"  # discard port: nothing listens, the connection is refused


def run_scan(tmp_path: Path, config: Path, *extra: str) -> tuple[int, str]:
    """Exit code and everything the run showed or wrote (stdout, stderr, the output file)."""
    report = tmp_path / "out" / "report.json"
    report.parent.mkdir(exist_ok=True)
    result = subprocess.run(
        [sys.executable, "-m", "asm_mode_advisor", "scan", "--kubeconfig", str(config),
         "--output", "json", "--output-file", str(report), *extra],
        capture_output=True, text=True, timeout=60, check=False, cwd=tmp_path / "out")
    written = "".join(p.read_text(errors="replace") for p in report.parent.rglob("*")
                      if p.is_file())
    return result.returncode, result.stdout + result.stderr + written


def failing_plugin(tmp_path: Path) -> dict[str, Any]:
    script = tmp_path / "plugin.sh"
    script.write_text(f"#!/bin/sh\necho 'login failed for {SECRET}\nsecond line' >&2\nexit 1\n")
    script.chmod(0o755)
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                     "command": str(script), "args": [f"--password={SECRET}", "-v"],
                     "interactiveMode": "Never"}}


def plugin_token(tmp_path: Path, token: str) -> dict[str, Any]:
    credential = json.dumps({"apiVersion": "client.authentication.k8s.io/v1beta1",
                             "kind": "ExecCredential", "status": {"token": token}})
    script = tmp_path / "plugin.sh"
    script.write_text(f"#!/bin/sh\nprintf '%s' '{credential}'\n")
    script.chmod(0o755)
    return {"exec": {"apiVersion": "client.authentication.k8s.io/v1beta1",
                     "command": str(script), "interactiveMode": "Never"}}


def sent_token(server: Hostile) -> str:
    return {k.lower(): v for k, v in server.headers[0].items()}["authorization"]


def echo_credentials(handler: Handler, path: str, _: dict[str, list[str]]) -> bool:
    """A server whose error message quotes the request's Authorization header."""
    if path != "/api/v1/namespaces":
        return False
    handler.send_json(400, {"message": f"rejected {handler.headers.get('Authorization')}"})
    return True


CASES = {
    "userinfo, unreachable": ({"server": f"https://admin:{SECRET}@{CLOSED}"}, "cannot reach"),
    "userinfo, client, unreachable": ({"server": f"https://admin:{SECRET}@{CLOSED}/prefix"},
                                      "cannot reach"),
    "proxy userinfo, unreachable": ({"proxy": f"http://u:{SECRET}@{CLOSED}"}, "cannot reach"),
    "token with a newline": ({"user": {"token": f"{SECRET}\nnext"}},
                             "kubeconfig user 'ci': token contains a newline"),
    "token with a space": ({"user": {"token": f"{SECRET} x"}}, "invalid character"),
    "basic auth, unreachable": ({"user": {"username": "ann", "password": SECRET}},
                                "cannot reach"),
    "client key, unreachable": ({"user": {"client-certificate-data": "bm90",
                                          "client-key-data": SECRET}}, "not base64"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_failing_scan_never_shows_a_credential(tmp_path: Path, case: str) -> None:
    spec, message = CASES[case]
    cluster = {"proxy-url": spec["proxy"]} if "proxy" in spec else None
    server = spec.get("server", f"https://{CLOSED}")
    config = kubeconfig(tmp_path / "config", server, spec.get("user"), cluster)
    code, shown = run_scan(tmp_path, config)
    assert code == 2
    assert message in shown
    assert SECRET not in shown
    assert "Traceback" not in shown and "internal error" not in shown


def test_a_token_file_with_a_newline_is_named_not_shown(tmp_path: Path) -> None:
    (tmp_path / "token").write_text(f"{SECRET}\r\nmore\n")
    config = kubeconfig(tmp_path / "config", f"https://{CLOSED}", {"tokenFile": "token"})
    code, shown = run_scan(tmp_path, config)
    assert code == 2 and SECRET not in shown
    assert "kubeconfig user 'ci' (tokenFile token): token contains a newline" in shown


@pytest.mark.parametrize("prefix", ["", "/via-client"])
def test_a_server_quoting_the_token_back_is_masked(tmp_path: Path, prefix: str) -> None:
    with Hostile(echo_credentials, prefix=prefix) as server:
        config = kubeconfig(tmp_path / "config", server.url, {"token": SECRET})
        code, shown = run_scan(tmp_path, config)
        assert sent_token(server) == f"Bearer {SECRET}"  # it was sent
    assert code == 2 and "HTTP 400: rejected " in shown and "***" in shown
    assert SECRET not in shown


def test_a_failing_credential_plugin_is_one_line_and_exit_2(tmp_path: Path) -> None:
    with Hostile() as server:
        config = kubeconfig(tmp_path / "config", server.url, failing_plugin(tmp_path))
        code, shown = run_scan(tmp_path, config)
        assert server.requests == []  # never carries on unauthenticated
    assert code == 2
    assert shown.count("\n") == 1 and "ERROR:root" not in shown
    assert shown.startswith("asm-advisor: error: the kubeconfig's credential plugin failed: "
                            "exec: process returned 1. login failed for ***")
    assert SECRET not in shown


def test_a_working_credential_plugin_still_scans(tmp_path: Path) -> None:
    with Hostile() as server:
        config = kubeconfig(tmp_path / "config", server.url, plugin_token(tmp_path, SECRET))
        code, shown = run_scan(tmp_path, config, "--allow-empty")
        assert sent_token(server) == f"Bearer {SECRET}"
    assert code == 0, shown
    assert SECRET not in shown


def test_a_plugin_token_with_a_newline_is_one_line(tmp_path: Path) -> None:
    with Hostile() as server:
        config = kubeconfig(tmp_path / "config", server.url,
                            plugin_token(tmp_path, f"{SECRET}\nnext"))
        code, shown = run_scan(tmp_path, config)
        assert server.requests == []
    assert code == 2 and SECRET not in shown
    assert "holds a newline" in shown and shown.count("\n") == 1


def test_the_stdlib_reader_keeps_a_valid_token(tmp_path: Path) -> None:
    config = kubeconfig(tmp_path / "config", f"https://{CLOSED}", {"token": "abc.DEF-123_~+/="})
    assert load_endpoint(str(config), None).headers == {
        "Authorization": "Bearer abc.DEF-123_~+/="}
    bad = kubeconfig(tmp_path / "bad", f"https://{CLOSED}", {"token": "abc\x00def"})
    with pytest.raises(KubeconfigError, match="invalid character"):
        load_endpoint(str(bad), None)


def test_redaction_patterns() -> None:
    remember(["multi\nline-secret-value"])
    assert redact("GET https://bob:pw@host:6443/api failed") == (
        "GET https://***@host:6443/api failed")
    assert redact("b'Bearer abc.def\\n'") == "b'Bearer ***'"
    basic = base64.b64encode(b"ann:pw").decode()
    assert redact(f"Authorization: Basic {basic}") == "Authorization: Basic ***"
    assert safe_message("x multi\nline-secret-value y") == "x *** y"
    assert safe_message("line one\nline two") == "line one\\x0aline two"
    assert redact("https://host:6443/api and Bearer-less text") == (
        "https://host:6443/api and Bearer-less text")


def test_an_in_cluster_token_with_a_newline_is_refused_unseen(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import asm_mode_advisor.sources.kubeconfig as kubeconfig_module

    ca = self_signed(tmp_path)[0]
    (tmp_path / "ca.crt").write_text(Path(ca).read_text())
    monkeypatch.setattr(kubeconfig_module, "SERVICE_ACCOUNT_DIR", tmp_path)
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "10.0.0.1")
    monkeypatch.setenv("KUBERNETES_SERVICE_PORT", "443")
    (tmp_path / "token").write_text(f"{SECRET}-good\n")
    assert in_cluster_endpoint().headers == {"Authorization": f"Bearer {SECRET}-good"}
    (tmp_path / "token").write_text(f"{SECRET}\nrest\n")
    with pytest.raises(KubeconfigError, match=r"service account token .*: token contains a "
                                              r"newline") as caught:
        in_cluster_endpoint()
    assert SECRET not in str(caught.value)
