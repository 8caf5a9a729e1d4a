"""Kubeconfig and in-cluster settings read without the ``kubernetes`` client.

Covers what CI kubeconfigs use: bearer tokens (inline or file), client certificates, basic
auth, CA bundles and ``insecure-skip-tls-verify``. Credentials that need a plugin (``exec``,
``auth-provider``) or a proxy raise ``NeedsClient`` so that the caller falls back to the
``kubernetes`` client, which knows them all. Merging follows kubectl: with several files in
``KUBECONFIG``, the first file that defines a name (or ``current-context``) wins.
"""

from __future__ import annotations

import base64
import os
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from asm_mode_advisor.model import as_dict, as_str, dicts
from asm_mode_advisor.redact import remember, safe_message
from asm_mode_advisor.smallfile import TOKEN_LIMIT, FileProblem, read_text

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
#: Keys of a kubeconfig user section whose values are not secret (paths, names, switches);
#: every other string in the section is masked wherever it would be printed.
NOT_SECRET = frozenset({"apiVersion", "command", "interactiveMode", "installHint", "name",
                        "provideClusterInfo", "client-certificate", "client-key", "tokenFile",
                        "username", "as", "as-groups"})


class KubeconfigError(Exception):
    """The configuration cannot be used; ``str()`` is the one-line, credential-free message."""

    def __init__(self, message: str) -> None:
        super().__init__(safe_message(message))


class NeedsClient(Exception):
    """The credentials need the ``kubernetes`` client (plugins, proxies)."""


@dataclass(frozen=True)
class Endpoint:
    """Where the API server is and how to authenticate to it."""

    host: str
    port: int
    scheme: str = "https"
    headers: dict[str, str] = field(default_factory=dict)
    ssl_context: ssl.SSLContext | None = None
    server_hostname: str | None = None

    @property
    def url(self) -> str:
        """``scheme://host:port`` for messages."""
        return f"{self.scheme}://{self.host}:{self.port}"


def kubeconfig_files(explicit: str | None) -> list[Path]:
    """The files to merge: ``--kubeconfig``, else ``$KUBECONFIG``, else ``~/.kube/config``."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise KubeconfigError(f"cannot load kubeconfig: {explicit}: no such file")
        return [path]
    listed = os.environ.get("KUBECONFIG", "")
    if listed:
        files = [Path(p).expanduser() for p in listed.split(os.pathsep) if p]
        found = [p for p in files if p.is_file()]
        if not found:
            raise KubeconfigError(f"invalid kubeconfig: no file of KUBECONFIG={listed} exists")
        return found
    default = Path("~/.kube/config").expanduser()
    if not default.is_file():
        raise KubeconfigError("invalid kubeconfig: no --kubeconfig, KUBECONFIG or "
                              "~/.kube/config found")
    return [default]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise KubeconfigError(f"cannot load kubeconfig: {path}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark is not None else str(path)
        raise KubeconfigError(f"invalid kubeconfig: {where}: not valid YAML") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise KubeconfigError(f"invalid kubeconfig: {path}: not a mapping")
    return data


@dataclass
class _Merged:
    current_context: str = ""
    contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    clusters: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)
    users: dict[str, tuple[dict[str, Any], Path]] = field(default_factory=dict)


def _merge(files: list[Path]) -> _Merged:
    merged = _Merged()
    for path in files:
        data = _read(path)
        merged.current_context = merged.current_context or as_str(data.get("current-context"))
        for entry in dicts(data.get("contexts")):
            merged.contexts.setdefault(as_str(entry.get("name")), as_dict(entry.get("context")))
        for entry in dicts(data.get("clusters")):
            merged.clusters.setdefault(as_str(entry.get("name")),
                                       (as_dict(entry.get("cluster")), path))
        for entry in dicts(data.get("users")):
            merged.users.setdefault(as_str(entry.get("name")), (as_dict(entry.get("user")), path))
    return merged


def _relative(value: str, base: Path) -> str:
    """Paths in a kubeconfig are relative to the file that holds them."""
    return value if os.path.isabs(value) else str(base.parent / value)


def _decoded(value: str, what: str) -> bytes:
    try:
        return base64.b64decode(value, validate=True)
    except ValueError:
        raise KubeconfigError(f"invalid kubeconfig: {what} is not base64") from None


def _tls_context(cluster: dict[str, Any], cluster_file: Path, user: dict[str, Any],
                 user_file: Path) -> ssl.SSLContext:
    # As kubectl does, a cluster's own CA is the only root it trusts; the system's roots
    # (slow to load, too) only serve a cluster that names no CA.
    try:
        if cluster.get("insecure-skip-tls-verify") is True:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        elif as_str(cluster.get("certificate-authority-data")):
            data = _decoded(as_str(cluster.get("certificate-authority-data")),
                            "certificate-authority-data")
            context = ssl.create_default_context(cadata=data.decode("ascii", "replace"))
        elif as_str(cluster.get("certificate-authority")):
            context = ssl.create_default_context(
                cafile=_relative(as_str(cluster.get("certificate-authority")), cluster_file))
        else:
            context = ssl.create_default_context()
        _load_client_certificate(context, user, user_file)
    except (OSError, ssl.SSLError) as exc:
        raise KubeconfigError(f"invalid kubeconfig: cannot load TLS files: {exc}") from None
    return context


def _load_client_certificate(context: ssl.SSLContext, user: dict[str, Any],
                             user_file: Path) -> None:
    cert_data, key_data = (as_str(user.get("client-certificate-data")),
                           as_str(user.get("client-key-data")))
    if cert_data and key_data:
        # ssl loads certificates from files only; the files live only while loading.
        with _temporary(_decoded(cert_data, "client-certificate-data")) as cert, _temporary(
                _decoded(key_data, "client-key-data")) as key:
            context.load_cert_chain(cert, key)
        return
    cert_file, key_file = (as_str(user.get("client-certificate")),
                           as_str(user.get("client-key")))
    if cert_file and key_file:
        context.load_cert_chain(_relative(cert_file, user_file), _relative(key_file, user_file))


@contextmanager
def _temporary(data: bytes) -> Iterator[str]:
    handle = tempfile.NamedTemporaryFile(prefix="asm-advisor-", delete=False)  # noqa: SIM115
    try:
        with handle:
            os.chmod(handle.name, 0o600)
            handle.write(data)
        yield handle.name
    finally:
        os.unlink(handle.name)


def remember_secrets(user: object) -> None:
    """Register every secret-looking string of a user section (nested ones too) for masking."""
    found: list[str] = []
    pending: list[tuple[str, object]] = [("", user)]
    while pending:  # iterative: a hostile kubeconfig may nest deeply
        key, value = pending.pop()
        if isinstance(value, str) and key not in NOT_SECRET:
            found.append(value)
        elif isinstance(value, dict):
            pending.extend((str(k), v) for k, v in value.items())
        elif isinstance(value, list):
            pending.extend((key, v) for v in value)
    remember(found)


def header_token(token: str, owner: str) -> str:
    """``token`` if it can be sent in a header, else a one-line error that does not show it."""
    if "\n" in token or "\r" in token:
        raise KubeconfigError(f"{owner}: token contains a newline")
    if any(not 0x21 <= ord(char) <= 0x7E for char in token):
        raise KubeconfigError(f"{owner}: token contains an invalid character (a space, a "
                              "control character or a non-ASCII character)")
    return token


def _auth_headers(user: dict[str, Any], user_file: Path, owner: str) -> dict[str, str]:
    if user.get("exec") or user.get("auth-provider"):
        raise NeedsClient("credential plugin")
    token = as_str(user.get("token"))
    if not token and as_str(user.get("tokenFile")):
        try:
            token = read_text(Path(_relative(as_str(user.get("tokenFile")), user_file)),
                              TOKEN_LIMIT).strip()
        except FileProblem as exc:
            raise KubeconfigError(f"invalid kubeconfig: cannot read tokenFile: {exc}") from None
        remember([token])
        owner = f"{owner} (tokenFile {as_str(user.get('tokenFile'))})"
    if token:
        return {"Authorization": f"Bearer {header_token(token, owner)}"}
    username, password = as_str(user.get("username")), as_str(user.get("password"))
    if username and password:
        basic = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
        return {"Authorization": f"Basic {basic}"}
    return {}


def _endpoint(server: str, headers: dict[str, str], context: ssl.SSLContext | None,
              server_name: str | None) -> Endpoint:
    parts = urlsplit(server)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise KubeconfigError(f"invalid kubeconfig: server {server!r} is not an http(s) URL")
    if parts.path.strip("/"):
        raise NeedsClient("server URL with a path prefix")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return Endpoint(host=parts.hostname, port=port, scheme=parts.scheme, headers=headers,
                    ssl_context=context if parts.scheme == "https" else None,
                    server_hostname=server_name)


def load_endpoint(explicit: str | None, context_name: str | None) -> Endpoint:
    """The endpoint of a kubeconfig context (the current one by default)."""
    merged = _merge(kubeconfig_files(explicit))
    name = context_name or merged.current_context
    if not name:
        raise KubeconfigError("invalid kubeconfig: no current context; pass --context")
    if name not in merged.contexts:
        raise KubeconfigError(f"context {name!r} not found in kubeconfig")
    context = merged.contexts[name]
    cluster_name, user_name = as_str(context.get("cluster")), as_str(context.get("user"))
    if cluster_name not in merged.clusters:
        raise KubeconfigError(f"invalid kubeconfig: context {name!r} names cluster "
                              f"{cluster_name!r}, which is not defined")
    cluster, cluster_file = merged.clusters[cluster_name]
    for known, _ in merged.users.values():
        remember_secrets(known)
    user, user_file = merged.users.get(user_name, ({}, cluster_file))
    # Checked before any hand-over, so the client never sends a token with a newline.
    headers = _auth_headers(user, user_file, f"kubeconfig user {user_name!r}")
    if cluster.get("proxy-url"):
        raise NeedsClient("proxy-url")
    server = as_str(cluster.get("server"))
    if not server:
        raise KubeconfigError(f"invalid kubeconfig: cluster {cluster_name!r} has no server")
    tls = _tls_context(cluster, cluster_file, user, user_file) if server.startswith(
        "https") else None
    return _endpoint(server, headers, tls, as_str(cluster.get("tls-server-name")) or None)


def in_cluster_endpoint() -> Endpoint:
    """The endpoint of the pod's own cluster, from its service account."""
    host = os.environ.get("KUBERNETES_SERVICE_HOST", "")
    port = os.environ.get("KUBERNETES_SERVICE_PORT", "")
    token_file, ca_file = SERVICE_ACCOUNT_DIR / "token", SERVICE_ACCOUNT_DIR / "ca.crt"
    if not host or not port or not token_file.is_file():
        raise KubeconfigError("in-cluster configuration not available: not running in a pod "
                              "with a service account (KUBERNETES_SERVICE_HOST/PORT unset or "
                              "no token)")
    try:
        token = token_file.read_text(encoding="utf-8").strip()
        context = ssl.create_default_context(cafile=str(ca_file))
    except (OSError, ssl.SSLError, UnicodeDecodeError) as exc:
        raise KubeconfigError(f"in-cluster configuration not available: {exc}") from None
    remember([token])
    token = header_token(token, f"service account token {token_file}")
    if ":" in host:
        host = f"[{host}]"
    return _endpoint(f"https://{host}:{port}", {"Authorization": f"Bearer {token}"}, context,
                     None)
