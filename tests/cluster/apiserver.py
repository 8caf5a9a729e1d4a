"""A real Kubernetes API server (etcd + kube-apiserver) for tests.

Only the standard library and PyYAML are used: no ``kubernetes`` client and no
``asm_mode_advisor`` import, so the helper exercises the advisor from the
outside, exactly as a real cluster would.

The executables come from ``scripts/get-kube-assets.sh`` (envtest /
KUBEBUILDER_ASSETS layout: one folder holding ``etcd`` and ``kube-apiserver``).
The server is kube-apiserver 1.20.2; see ``KNOWN_LIMITS`` below.

Typical use::

    with TestCluster() as cluster:
        cluster.apply(load_yaml(CRDS_FILE))
        cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a"}}])
        cluster.write_kubeconfig(tmp / "kubeconfig", token=cluster.reader_token)

Users (static tokens, ``--token-auth-file``):

* ``admin``       group ``system:masters`` (everything)  -> ``admin_token``
* ``asm-reader``  bound to ClusterRole ``asm-advisor-reader`` from
  ``deploy/rbac.yaml`` (a minimal stand-in role while that file is missing)
  -> ``reader_token``
* ``limited``     no permissions at all until a test grants some with
  :meth:`TestCluster.grant` -> ``limited_token``
"""

from __future__ import annotations

import atexit
import base64
import contextlib
import ctypes
import json
import os
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import weakref
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CRDS_FILE = Path(__file__).resolve().parent / "crds.yaml"
RBAC_FILE = REPO_ROOT / "deploy" / "rbac.yaml"
GET_ASSETS_SCRIPT = REPO_ROOT / "scripts" / "get-kube-assets.sh"
DEFAULT_CACHE_DIR = Path.home() / ".cache" / "asm-advisor" / "kube-assets"

READER_CLUSTER_ROLE = "asm-advisor-reader"
ADMIN_USER = "admin"
READER_USER = "asm-reader"
LIMITED_USER = "limited"

KNOWN_LIMITS = """\
kube-apiserver 1.20 serves no batch/v1 CronJob (use batch/v1beta1), no policy/v1
PodDisruptionBudget (policy/v1beta1), no discovery.k8s.io/v1 EndpointSlice
(v1beta1), no autoscaling/v2 HPA (v2beta2); CRDs cannot use CEL
x-kubernetes-validations.  No controller-manager runs: Deployments never get
ReplicaSets/Pods, namespaces deleted stay Terminating, no ServiceAccount tokens
(the ServiceAccount admission plugin is disabled so Pods can be created)."""


class ClusterError(RuntimeError):
    """The test cluster could not be started or used."""


class AssetsMissingError(ClusterError):
    """etcd / kube-apiserver executables are not available."""


class ApiError(ClusterError):
    """An API request answered with a non-2xx status."""

    def __init__(self, method: str, path: str, status: int, body: Any):
        self.method = method
        self.path = path
        self.status = status
        self.body = body
        message = body.get("message") if isinstance(body, dict) else body
        super().__init__(f"{method} {path} -> HTTP {status}: {message}")

    @property
    def reason(self) -> str | None:
        return self.body.get("reason") if isinstance(self.body, dict) else None


# --------------------------------------------------------------------------- assets


def _has_assets(folder: Path) -> bool:
    return all(
        (folder / name).is_file() and os.access(folder / name, os.X_OK)
        for name in ("etcd", "kube-apiserver")
    )


def assets_cache_dir() -> Path:
    """The folder scripts/get-kube-assets.sh fills (ASM_ADVISOR_ASSETS or the default)."""
    override = os.environ.get("ASM_ADVISOR_ASSETS")
    return Path(override) if override else DEFAULT_CACHE_DIR


def find_assets() -> Path | None:
    """Folder holding ``etcd`` and ``kube-apiserver``: KUBEBUILDER_ASSETS, then the cache."""
    candidates = []
    if os.environ.get("KUBEBUILDER_ASSETS"):
        candidates.append(Path(os.environ["KUBEBUILDER_ASSETS"]))
    candidates.append(assets_cache_dir())
    for folder in candidates:
        if _has_assets(folder):
            return folder
    return None


def missing_assets_message() -> str:
    return (
        "etcd and kube-apiserver executables were not found (looked in "
        f"KUBEBUILDER_ASSETS={os.environ.get('KUBEBUILDER_ASSETS', '<unset>')} and "
        f"{assets_cache_dir()}). Run `bash scripts/get-kube-assets.sh` once on this "
        "machine (it installs etcd from Debian and builds kube-apiserver 1.20 from "
        "Debian's kubernetes source package, ~5 minutes)."
    )


# --------------------------------------------------------------------------- helpers


def load_yaml(path: str | os.PathLike[str]) -> list[dict]:
    """All non-empty documents of a (multi-document) YAML file."""
    with open(path, encoding="utf-8") as fh:
        return [doc for doc in yaml.safe_load_all(fh) if doc]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _load_prctl() -> Any:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):  # pragma: no cover
        return None


_PRCTL = _load_prctl()
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:  # runs in the child between fork and exec
    # Linux: SIGKILL the server processes when the test process dies abruptly,
    # so no etcd / kube-apiserver outlives a crashed or killed pytest.
    if _PRCTL is not None:
        _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)


def _tail(path: Path, lines: int = 60) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return f"<no log at {path}>"
    return "\n".join(text.splitlines()[-lines:])


@dataclass(frozen=True)
class ResourceInfo:
    """How a kind is reached over REST."""

    group: str  # "" for the core group
    version: str
    kind: str
    plural: str
    namespaced: bool

    @property
    def group_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    def collection_path(self, namespace: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            return f"{base}/namespaces/{namespace}/{self.plural}"
        return f"{base}/{self.plural}"

    def object_path(self, name: str, namespace: str | None = None) -> str:
        return f"{self.collection_path(namespace)}/{name}"


def _split_api_version(api_version: str) -> tuple[str, str]:
    if "/" in api_version:
        group, version = api_version.split("/", 1)
        return group, version
    return "", api_version


# --------------------------------------------------------------------------- certificates


class _Pki:
    """Serving CA + certificate for 127.0.0.1 and a service-account RSA key.

    Uses the ``openssl`` command when present, else the ``cryptography``
    package.  ``backend`` (or ASM_ADVISOR_TEST_PKI=openssl|cryptography) forces one.
    """

    def __init__(self, folder: Path, backend: str | None = None):
        self.folder = folder
        self.ca_cert = folder / "ca.crt"
        self.ca_key = folder / "ca.key"
        self.serving_cert = folder / "apiserver.crt"
        self.serving_key = folder / "apiserver.key"
        self.sa_key = folder / "sa.key"
        self.sa_pub = folder / "sa.pub"
        backend = backend or os.environ.get("ASM_ADVISOR_TEST_PKI")
        if backend is None:
            backend = "openssl" if shutil.which("openssl") else "cryptography"
        if backend not in ("openssl", "cryptography"):
            raise ClusterError(f"unknown PKI backend {backend!r}")
        self.backend = backend

    def generate(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if self.backend == "openssl":
            self._generate_openssl()
        else:
            self._generate_cryptography()
        for key in (self.ca_key, self.serving_key, self.sa_key):
            key.chmod(0o600)

    # -- openssl CLI
    def _openssl(self, *args: str, stdin: str | None = None) -> None:
        proc = subprocess.run(
            ["openssl", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=self.folder,
        )
        if proc.returncode != 0:
            raise ClusterError(f"openssl {' '.join(args)} failed:\n{proc.stderr}")

    def _generate_openssl(self) -> None:
        # EC P-256 for the TLS chain (fast to generate), RSA 2048 for
        # service-account tokens (RS256, what kube-apiserver expects by default).
        self._openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout",
                      "-out", str(self.ca_key))
        self._openssl(
            "req", "-x509", "-new", "-key", str(self.ca_key), "-sha256", "-days", "30",
            "-subj", "/CN=asm-advisor-test-ca", "-out", str(self.ca_cert),
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign",
        )
        self._openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout",
                      "-out", str(self.serving_key))
        csr = self.folder / "apiserver.csr"
        self._openssl(
            "req", "-new", "-key", str(self.serving_key), "-subj", "/CN=kube-apiserver",
            "-out", str(csr),
        )
        ext = self.folder / "apiserver.ext"
        ext.write_text(
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\n"
            "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,"
            "DNS:kubernetes.default,DNS:kubernetes.default.svc\n",
            encoding="utf-8",
        )
        self._openssl(
            "x509", "-req", "-in", str(csr), "-CA", str(self.ca_cert), "-CAkey", str(self.ca_key),
            "-CAcreateserial", "-days", "30", "-sha256", "-extfile", str(ext),
            "-out", str(self.serving_cert),
        )
        self._openssl("genrsa", "-out", str(self.sa_key), "2048")
        self._openssl("rsa", "-in", str(self.sa_key), "-pubout", "-out", str(self.sa_pub))

    # -- cryptography package
    def _generate_cryptography(self) -> None:
        try:
            import datetime
            import ipaddress

            from cryptography import x509
            from cryptography.hazmat.primitives import hashes, serialization
            from cryptography.hazmat.primitives.asymmetric import ec, rsa
            from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
        except ImportError as exc:  # pragma: no cover - depends on the machine
            raise ClusterError(
                "cannot create test certificates: neither the `openssl` command nor the "
                "`cryptography` package is available"
            ) from exc

        def write_key(key: Any, path: Path) -> None:
            path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.TraditionalOpenSSL,
                    serialization.NoEncryption(),
                )
            )

        now = datetime.datetime.now(datetime.UTC)
        start, end = now - datetime.timedelta(minutes=5), now + datetime.timedelta(days=30)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "asm-advisor-test-ca")])
        ca_cert = (
            x509.CertificateBuilder()
            .subject_name(ca_name)
            .issuer_name(ca_name)
            .public_key(ca_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False, content_commitment=False, key_encipherment=False,
                    data_encipherment=False, key_agreement=False, key_cert_sign=True,
                    crl_sign=True, encipher_only=False, decipher_only=False,
                ),
                critical=True,
            )
            .sign(ca_key, hashes.SHA256())
        )
        srv_key = ec.generate_private_key(ec.SECP256R1())
        srv_cert = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kube-apiserver")]))
            .issuer_name(ca_name)
            .public_key(srv_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start)
            .not_valid_after(end)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.SubjectAlternativeName(
                    [
                        x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                        x509.DNSName("localhost"),
                        x509.DNSName("kubernetes"),
                        x509.DNSName("kubernetes.default"),
                        x509.DNSName("kubernetes.default.svc"),
                    ]
                ),
                critical=False,
            )
            .sign(ca_key, hashes.SHA256())
        )
        write_key(ca_key, self.ca_key)
        self.ca_cert.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        write_key(srv_key, self.serving_key)
        self.serving_cert.write_bytes(srv_cert.public_bytes(serialization.Encoding.PEM))
        sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        write_key(sa_key, self.sa_key)
        self.sa_pub.write_bytes(
            sa_key.public_key().public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
        )


# --------------------------------------------------------------------------- cluster

_LIVE_CLUSTERS: weakref.WeakSet[TestCluster] = weakref.WeakSet()


@atexit.register
def _close_all_clusters() -> None:
    for cluster in list(_LIVE_CLUSTERS):
        with contextlib.suppress(Exception):
            cluster.close()


AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
"""

# Stand-in for deploy/rbac.yaml's ClusterRole while that file does not exist:
# read-only on everything the smoke tests touch, never Secrets.
_FALLBACK_READER_RULES = [
    {
        "apiGroups": [""],
        "resources": [
            "namespaces", "pods", "services", "endpoints", "configmaps",
            "serviceaccounts", "nodes", "events",
        ],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": [
            "apps", "batch", "networking.k8s.io", "policy", "autoscaling",
            "discovery.k8s.io", "apiextensions.k8s.io", "admissionregistration.k8s.io",
            "networking.istio.io", "security.istio.io", "telemetry.istio.io",
            "extensions.istio.io", "install.istio.io", "gateway.networking.k8s.io",
        ],
        "resources": ["*"],
        "verbs": ["get", "list", "watch"],
    },
]


class TestCluster:
    """etcd + kube-apiserver on free 127.0.0.1 ports, in a private temporary folder.

    ``TestCluster(...)`` only prepares; :meth:`start` (or ``with``) launches.
    Everything is torn down by :meth:`close`, by the context manager, or at
    interpreter exit; the child processes also die with the test process.
    """

    __test__ = False  # not a pytest test class despite its name

    def __init__(
        self,
        assets: str | os.PathLike[str] | None = None,
        workdir: str | os.PathLike[str] | None = None,
        *,
        rbac_file: str | os.PathLike[str] | None = RBAC_FILE,
        start_timeout: float = 60.0,
        pki_backend: str | None = None,
        extra_apiserver_args: Iterable[str] = (),
    ):
        found = Path(assets) if assets is not None else find_assets()
        if found is None or not _has_assets(found):
            raise AssetsMissingError(missing_assets_message())
        self.assets = found
        self._own_workdir = workdir is None
        self.workdir = Path(
            tempfile.mkdtemp(prefix="asm-advisor-cluster-") if workdir is None else workdir
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.rbac_file = Path(rbac_file) if rbac_file is not None else None
        self.start_timeout = start_timeout
        self.extra_apiserver_args = list(extra_apiserver_args)

        self.admin_token = "admin-" + secrets.token_hex(16)
        self.reader_token = "reader-" + secrets.token_hex(16)
        self.limited_token = "limited-" + secrets.token_hex(16)
        self.tokens = {
            ADMIN_USER: self.admin_token,
            READER_USER: self.reader_token,
            LIMITED_USER: self.limited_token,
        }

        self._pki = _Pki(self.workdir / "pki", backend=pki_backend)
        self.etcd_data_dir = self.workdir / "etcd-data"
        self.etcd_log_path = self.workdir / "etcd.log"
        self.apiserver_log_path = self.workdir / "kube-apiserver.log"
        self.audit_log_path = self.workdir / "audit.log"
        self.audit_policy_path = self.workdir / "audit-policy.yaml"
        self.token_file = self.workdir / "tokens.csv"

        self.etcd_client_port = 0
        self.etcd_peer_port = 0
        self.port = 0
        self._etcd: subprocess.Popen | None = None
        self._apiserver: subprocess.Popen | None = None
        self._log_files: list[Any] = []
        self._discovery: dict[str, dict[str, ResourceInfo]] = {}
        self._lock = threading.RLock()
        self._closed = False
        self._keep_workdir = os.environ.get("ASM_ADVISOR_KEEP_CLUSTER_DIR") == "1"
        self.reader_cluster_role: str | None = None
        self.startup_seconds: float | None = None
        _LIVE_CLUSTERS.add(self)

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> TestCluster:
        if self._apiserver is None:
            try:
                self.start()
            except BaseException:
                self.close()
                raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> TestCluster:
        """Generate credentials, start etcd and kube-apiserver, set up reader RBAC."""
        started = time.monotonic()
        try:
            self._start(started)
        except BaseException:
            self._keep_workdir = True  # the logs named in the error stay readable
            raise
        return self

    def _start(self, started: float) -> None:
        self._pki.generate()
        self.audit_policy_path.write_text(AUDIT_POLICY, encoding="utf-8")
        self.token_file.write_text(
            f'{self.admin_token},{ADMIN_USER},uid-admin,"system:masters"\n'
            f"{self.reader_token},{READER_USER},uid-asm-reader\n"
            f"{self.limited_token},{LIMITED_USER},uid-limited\n",
            encoding="utf-8",
        )
        self.token_file.chmod(0o600)
        self._start_etcd()
        self.start_apiserver()
        self._setup_reader_rbac()
        self.startup_seconds = time.monotonic() - started

    def _spawn(self, args: list[str], log_path: Path) -> subprocess.Popen:
        log = open(log_path, "ab")  # noqa: SIM115 - open for the process lifetime
        self._log_files.append(log)
        return subprocess.Popen(
            args,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=self.workdir,
            preexec_fn=_die_with_parent if _PRCTL is not None else None,
        )

    def _start_etcd(self) -> None:
        self.etcd_client_port = free_port()
        self.etcd_peer_port = free_port()
        client = f"http://127.0.0.1:{self.etcd_client_port}"
        peer = f"http://127.0.0.1:{self.etcd_peer_port}"
        self._etcd = self._spawn(
            [
                str(self.assets / "etcd"),
                "--name=asm-test",
                f"--data-dir={self.etcd_data_dir}",
                f"--listen-client-urls={client}",
                f"--advertise-client-urls={client}",
                f"--listen-peer-urls={peer}",
                f"--initial-advertise-peer-urls={peer}",
                f"--initial-cluster=asm-test={peer}",
                "--initial-cluster-state=new",
                "--logger=zap",
                "--log-level=warn",
                "--snapshot-count=100000",
            ],
            self.etcd_log_path,
        )
        deadline = time.monotonic() + self.start_timeout
        while True:
            if self._etcd.poll() is not None:
                raise ClusterError(
                    f"etcd exited with code {self._etcd.returncode}; log {self.etcd_log_path}:\n"
                    + _tail(self.etcd_log_path)
                )
            try:
                with urllib.request.urlopen(f"{client}/health", timeout=2) as resp:
                    if json.load(resp).get("health") == "true":
                        return
            except (OSError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"etcd not healthy after {self.start_timeout}s; log {self.etcd_log_path}:\n"
                    + _tail(self.etcd_log_path)
                )
            time.sleep(0.1)

    def apiserver_args(self) -> list[str]:
        pki = self._pki
        return [
            str(self.assets / "kube-apiserver"),
            f"--etcd-servers=http://127.0.0.1:{self.etcd_client_port}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.port}",
            "--insecure-port=0",
            f"--tls-cert-file={pki.serving_cert}",
            f"--tls-private-key-file={pki.serving_key}",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            "--service-cluster-ip-range=10.0.0.0/24",
            f"--token-auth-file={self.token_file}",
            "--authorization-mode=RBAC",
            # No controller-manager runs: the ServiceAccount admission plugin would
            # reject every Pod until a token controller created the default
            # ServiceAccount's token.
            "--disable-admission-plugins=ServiceAccount",
            "--allow-privileged=true",
            f"--audit-policy-file={self.audit_policy_path}",
            f"--audit-log-path={self.audit_log_path}",
            "--audit-log-format=json",
            "--audit-log-mode=blocking",
            "--audit-log-maxbackup=1",
            "--audit-log-maxsize=200",
            "--profiling=false",
            "--logtostderr=true",
            "--v=1",
            *self.extra_apiserver_args,
        ]

    def start_apiserver(self) -> None:
        """Start kube-apiserver (again, after :meth:`stop`: same port, same etcd data)."""
        with self._lock:
            if self._apiserver is not None and self._apiserver.poll() is None:
                return
            if self._etcd is None or self._etcd.poll() is not None:
                raise ClusterError("etcd is not running")
            if not self.port:
                self.port = free_port()
            self._apiserver = self._spawn(self.apiserver_args(), self.apiserver_log_path)
            self._discovery.clear()
            self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._apiserver is not None
        deadline = time.monotonic() + self.start_timeout
        last = "no answer yet"
        while True:
            if self._apiserver.poll() is not None:
                raise ClusterError(
                    f"kube-apiserver exited with code {self._apiserver.returncode}; "
                    f"log {self.apiserver_log_path}:\n" + _tail(self.apiserver_log_path)
                )
            try:
                status, body, _ = self.request("GET", "/readyz", timeout=2, raw=True)
                if status == 200:
                    return
                last = f"HTTP {status}: {body[-300:]!r}"
            except OSError as exc:
                last = str(exc)
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"kube-apiserver not ready after {self.start_timeout}s ({last}); "
                    f"log {self.apiserver_log_path}:\n" + _tail(self.apiserver_log_path)
                )
            time.sleep(0.1)

    @staticmethod
    def _terminate(proc: subprocess.Popen | None, grace: float = 10.0) -> None:
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)

    def stop(self) -> None:
        """Kill kube-apiserver only (etcd keeps the data): the server "goes away".

        Requests to :attr:`url` fail with connection refused afterwards;
        :meth:`start_apiserver` brings it back on the same port.
        """
        with self._lock:
            proc, self._apiserver = self._apiserver, None
            if proc is not None and proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)

    @property
    def apiserver_running(self) -> bool:
        return self._apiserver is not None and self._apiserver.poll() is None

    def close(self) -> None:
        """Stop both processes and delete the temporary folder."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            # Nothing is kept, so no graceful shutdown is needed for kube-apiserver.
            apiserver, self._apiserver = self._apiserver, None
            if apiserver is not None and apiserver.poll() is None:
                apiserver.kill()
                apiserver.wait(timeout=10)
            etcd, self._etcd = self._etcd, None
            self._terminate(etcd)
            for fh in self._log_files:
                with contextlib.suppress(OSError):
                    fh.close()
            self._log_files.clear()
            if self._own_workdir and not self._keep_workdir:
                shutil.rmtree(self.workdir, ignore_errors=True)
            _LIVE_CLUSTERS.discard(self)

    # ------------------------------------------------------------------ connection

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    @property
    def ca_file(self) -> Path:
        """CA that signed the serving certificate (verify TLS with it)."""
        return self._pki.ca_cert

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        query: dict[str, Any] | None = None,
        content_type: str = "application/json",
        timeout: float = 30.0,
        raw: bool = False,
    ) -> tuple[int, Any, dict[str, str]]:
        """One HTTPS request; returns (status, parsed JSON body or text, headers).

        Never raises for HTTP error statuses (connection errors raise OSError).
        ``token`` defaults to the admin token; pass ``""`` for no Authorization.
        """
        if query:
            params = {k: v for k, v in query.items() if v is not None}
            if params:
                path = f"{path}?{urllib.parse.urlencode(params)}"
        data = None
        headers = {"Accept": "application/json"}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        token = self.admin_token if token is None else token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context()) as resp:
                status, payload, resp_headers = resp.status, resp.read(), dict(resp.headers)
        except urllib.error.HTTPError as err:
            status, payload, resp_headers = err.code, err.read(), dict(err.headers or {})
        text = payload.decode("utf-8", errors="replace")
        if raw:
            return status, text, resp_headers
        try:
            parsed: Any = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return status, parsed, resp_headers

    def call(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        """Like :meth:`request` but returns the body and raises :class:`ApiError` on non-2xx."""
        status, parsed, _ = self.request(method, path, body, **kwargs)
        if not 200 <= status < 300:
            raise ApiError(method, path, status, parsed)
        return parsed

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.call("GET", path, **kwargs)

    def list_all(
        self, path: str, *, token: str | None = None, limit: int | None = None
    ) -> Iterator[dict]:
        """Iterate a collection, following ``continue`` tokens (``limit`` per page)."""
        cont: str | None = None
        while True:
            page = self.get(path, token=token, query={"limit": limit, "continue": cont})
            yield from page.get("items") or []
            cont = (page.get("metadata") or {}).get("continue")
            if not cont:
                return

    # ------------------------------------------------------------------ discovery

    def _group_version_resources(
        self, group_version: str, refresh: bool = False
    ) -> dict[str, ResourceInfo]:
        with self._lock:
            if not refresh and group_version in self._discovery:
                return self._discovery[group_version]
        group, version = _split_api_version(group_version)
        path = f"/apis/{group}/{version}" if group else f"/api/{version}"
        status, body, _ = self.request("GET", path)
        kinds: dict[str, ResourceInfo] = {}
        if status == 200:
            for res in body.get("resources", []):
                if "/" in res["name"]:
                    continue  # subresource
                kinds[res["kind"]] = ResourceInfo(
                    group, version, res["kind"], res["name"], bool(res["namespaced"])
                )
        elif status != 404:
            raise ApiError("GET", path, status, body)
        with self._lock:
            self._discovery[group_version] = kinds
        return kinds

    def resource_for(self, api_version: str, kind: str, *, wait: float = 0.0) -> ResourceInfo:
        """REST mapping of apiVersion/kind via discovery (refreshed on a miss).

        With ``wait``, a kind that a CustomResourceDefinition declares but the
        server does not serve yet is waited for; anything else fails at once.
        """
        deadline = time.monotonic() + wait
        refresh = False
        while True:
            kinds = self._group_version_resources(api_version, refresh=refresh)
            if kind in kinds:
                return kinds[kind]
            if refresh and (
                time.monotonic() >= deadline or not self._crd_declares(api_version, kind)
            ):
                raise ClusterError(f"the server does not serve {kind} in {api_version}")
            if refresh:
                time.sleep(0.1)
            refresh = True

    def _crd_declares(self, api_version: str, kind: str) -> bool:
        group, version = _split_api_version(api_version)
        if not group:
            return False
        status, body, _ = self.request(
            "GET", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"
        )
        if status != 200:
            return False
        for crd in body.get("items") or []:
            spec = crd.get("spec") or {}
            if spec.get("group") == group and (spec.get("names") or {}).get("kind") == kind:
                return any(v.get("name") == version and v.get("served")
                           for v in spec.get("versions") or [])
        return False

    def path_for(self, obj: dict) -> str:
        """REST path of one object (namespaced objects default to ``default``)."""
        info = self.resource_for(obj["apiVersion"], obj["kind"])
        meta = obj.get("metadata") or {}
        return info.object_path(meta["name"], meta.get("namespace") or "default")

    # ------------------------------------------------------------------ objects

    def apply(self, objects: Iterable[dict | None], token: str | None = None) -> list[dict]:
        """Create objects over plain REST (existing ones get a JSON merge patch).

        Order: Namespaces, then CustomResourceDefinitions (waiting until they are
        Established and served), then everything else in the given order.
        Namespaces that objects live in are created when missing; namespaced
        objects without a namespace go to ``default``.  ``kind: List`` is
        flattened.  Returns the server's version of each object.
        """
        flat: list[dict] = []

        def add(obj: dict | None) -> None:
            if not obj:
                return
            if obj.get("kind") == "List" or (
                obj.get("kind", "").endswith("List") and isinstance(obj.get("items"), list)
            ):
                for item in obj.get("items") or []:
                    add(item)
                return
            for field in ("apiVersion", "kind"):
                if not obj.get(field):
                    raise ClusterError(f"object without {field}: {obj!r}")
            if not (obj.get("metadata") or {}).get("name"):
                raise ClusterError(f"object without metadata.name: {obj!r}")
            flat.append(obj)

        for obj in objects:
            add(obj)

        def rank(obj: dict) -> int:
            if obj["kind"] == "Namespace" and obj["apiVersion"] == "v1":
                return 0
            if obj["kind"] == "CustomResourceDefinition":
                return 1
            return 2

        ordered = sorted(flat, key=rank)  # stable: keeps the given order within a rank
        results: list[dict] = []
        crds: list[dict] = []
        crds_waited = False
        for obj in ordered:
            if rank(obj) == 2 and crds and not crds_waited:
                self.wait_for_crds(crds)
                crds_waited = True
            results.append(self._create_or_replace(obj, token))
            if rank(obj) == 1:
                crds.append(results[-1])
        if crds and not crds_waited:
            self.wait_for_crds(crds)
        return results

    def apply_file(self, path: str | os.PathLike[str], token: str | None = None) -> list[dict]:
        return self.apply(load_yaml(path), token=token)

    def ensure_namespace(self, name: str, token: str | None = None) -> None:
        status, body, _ = self.request("GET", f"/api/v1/namespaces/{name}", token=token)
        if status == 200:
            return
        if status != 404:
            raise ApiError("GET", f"/api/v1/namespaces/{name}", status, body)
        ns = {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}}
        status, body, _ = self.request("POST", "/api/v1/namespaces", ns, token=token)
        if status not in (200, 201, 409):
            raise ApiError("POST", "/api/v1/namespaces", status, body)

    def _create_or_replace(self, obj: dict, token: str | None) -> dict:
        info = self.resource_for(obj["apiVersion"], obj["kind"], wait=10.0)
        body = json.loads(json.dumps(obj))  # deep copy, JSON-clean
        meta = body.setdefault("metadata", {})
        namespace = None
        if info.namespaced:
            namespace = meta.get("namespace") or "default"
            meta["namespace"] = namespace
            self.ensure_namespace(namespace, token=token)
        else:
            meta.pop("namespace", None)
        collection = info.collection_path(namespace)
        status, created, _ = self.request("POST", collection, body, token=token)
        if status in (200, 201):
            return created
        if status != 409:
            raise ApiError("POST", collection, status, created)
        # Already exists: JSON merge patch with the given content, so that
        # server-filled and immutable fields (a Service's clusterIP...) stay.
        # (Server-side apply is beta in 1.20 and rejects e.g. Service ports
        # without an explicit protocol.)
        path = info.object_path(meta["name"], namespace)
        return self.call("PATCH", path, body, token=token,
                         content_type="application/merge-patch+json")

    def delete(self, obj: dict, token: str | None = None) -> None:
        """Delete one object; a missing object is fine."""
        path = self.path_for(obj)
        status, body, _ = self.request("DELETE", path, token=token)
        if status not in (200, 202, 404):
            raise ApiError("DELETE", path, status, body)

    def wait_for_crds(self, crds: Iterable[dict], timeout: float = 30.0) -> None:
        """Wait until each CRD is Established and its kinds are in discovery."""
        deadline = time.monotonic() + timeout
        for crd in crds:
            name = crd["metadata"]["name"]
            path = f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}"
            while True:
                current = self.get(path)
                conditions = {
                    c.get("type"): c.get("status")
                    for c in (current.get("status") or {}).get("conditions") or []
                }
                if conditions.get("Established") == "True":
                    break
                if time.monotonic() > deadline:
                    raise ClusterError(f"CRD {name} not Established after {timeout}s: {conditions}")
                time.sleep(0.05)
            spec = current["spec"]
            for version in spec["versions"]:
                if version.get("served"):
                    remaining = max(deadline - time.monotonic(), 0.0)
                    self.resource_for(
                        f"{spec['group']}/{version['name']}", spec["names"]["kind"], wait=remaining
                    )

    # ------------------------------------------------------------------ RBAC

    def grant(
        self,
        user: str,
        rules: list[dict],
        *,
        namespace: str | None = None,
        name: str | None = None,
    ) -> None:
        """Give ``user`` the RBAC ``rules``: cluster-wide (ClusterRole + binding)
        or, with ``namespace``, in that namespace only (Role + RoleBinding)."""
        name = name or f"test-{user}-{secrets.token_hex(3)}"
        subject = {"kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": user}
        if namespace is None:
            role_kind, binding_kind, meta = "ClusterRole", "ClusterRoleBinding", {"name": name}
        else:
            role_kind, binding_kind = "Role", "RoleBinding"
            meta = {"name": name, "namespace": namespace}
        self.apply(
            [
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": role_kind,
                 "metadata": dict(meta), "rules": rules},
                {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": binding_kind,
                 "metadata": dict(meta), "subjects": [subject],
                 "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": role_kind,
                             "name": name}},
            ]
        )
        self._wait_until_allowed(user, rules, namespace)

    def _wait_until_allowed(self, user: str, rules: list[dict], namespace: str | None,
                            timeout: float = 30.0) -> None:
        """Block until the authorizer applies a new grant (it reads RBAC from a cache that
        can lag the write under load); checked with a SubjectAccessReview per rule."""
        reviews = []
        for rule in rules:
            if rule.get("nonResourceURLs"):
                continue
            attributes = {"group": rule["apiGroups"][0], "resource": rule["resources"][0],
                          "verb": rule["verbs"][0]}
            if namespace is not None:
                attributes["namespace"] = namespace
            reviews.append({"apiVersion": "authorization.k8s.io/v1",
                            "kind": "SubjectAccessReview",
                            "spec": {"user": user, "resourceAttributes": attributes}})
        deadline = time.monotonic() + timeout
        for review in reviews:
            while not self.call("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews",
                                review).get("status", {}).get("allowed"):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"RBAC grant for {user} not applied in {timeout} s")
                time.sleep(0.05)

    def _setup_reader_rbac(self) -> None:
        """Bind ``asm-reader`` to deploy/rbac.yaml's ClusterRole (or a stand-in)."""
        role_name = None
        if self.rbac_file is not None and self.rbac_file.is_file():
            objects = load_yaml(self.rbac_file)
            roles = [
                o["metadata"]["name"] for o in objects
                if o.get("kind") == "ClusterRole" and (o.get("metadata") or {}).get("name")
            ]
            if roles:
                self.apply(objects)
                role_name = READER_CLUSTER_ROLE if READER_CLUSTER_ROLE in roles else roles[0]
        if role_name is None:
            role_name = READER_CLUSTER_ROLE
            self.apply(
                [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
                  "metadata": {"name": role_name, "labels": {"asm-advisor-test/stand-in": "true"}},
                  "rules": _FALLBACK_READER_RULES}]
            )
        self.apply(
            [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
              "metadata": {"name": "asm-advisor-test-reader"},
              "subjects": [{"kind": "User", "apiGroup": "rbac.authorization.k8s.io",
                            "name": READER_USER}],
              "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                          "name": role_name}}]
        )
        self.reader_cluster_role = role_name

    # ------------------------------------------------------------------ kubeconfig

    def write_kubeconfig(
        self,
        path: str | os.PathLike[str],
        token: str | None = None,
        context_name: str = "asm-test",
        *,
        user_name: str | None = None,
        cluster_name: str | None = None,
        namespace: str | None = None,
        embed_ca: bool = True,
    ) -> Path:
        """Write a kubeconfig (token auth) for this cluster; token defaults to the reader's.

        With ``embed_ca`` the CA goes in ``certificate-authority-data``, else the
        file path goes in ``certificate-authority``.
        """
        token = self.reader_token if token is None else token
        user_name = user_name or next(
            (user for user, tok in self.tokens.items() if tok == token), f"{context_name}-user"
        )
        cluster_name = cluster_name or f"{context_name}-cluster"
        cluster: dict[str, Any] = {"server": self.url}
        if embed_ca:
            ca_data = base64.b64encode(self.ca_file.read_bytes()).decode()
            cluster["certificate-authority-data"] = ca_data
        else:
            cluster["certificate-authority"] = str(self.ca_file)
        context: dict[str, Any] = {"cluster": cluster_name, "user": user_name}
        if namespace:
            context["namespace"] = namespace
        config = {
            "apiVersion": "v1",
            "kind": "Config",
            "clusters": [{"name": cluster_name, "cluster": cluster}],
            "users": [{"name": user_name, "user": {"token": token}}],
            "contexts": [{"name": context_name, "context": context}],
            "current-context": context_name,
            "preferences": {},
        }
        out = Path(path)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
        out.chmod(0o600)
        return out

    # ------------------------------------------------------------------ audit

    def audit_offset(self) -> int:
        """Current end of the audit log: pass it as ``since`` to see only later events."""
        try:
            return self.audit_log_path.stat().st_size
        except FileNotFoundError:
            return 0

    def audit_events(self, user: str | None = None, since: int = 0) -> list[dict]:
        """Parsed audit events (stage ResponseComplete; Metadata level for every request).

        ``user`` keeps one user's events; ``since`` (from :meth:`audit_offset`)
        skips everything logged before that point.
        """
        try:
            with open(self.audit_log_path, "rb") as fh:
                fh.seek(since)
                text = fh.read().decode("utf-8", errors="replace")
        except FileNotFoundError:
            return []
        events = []
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            try:
                event = json.loads(line)
            except ValueError:
                continue  # a line being written right now
            if user is not None and (event.get("user") or {}).get("username") != user:
                continue
            events.append(event)
        return events

    def requested_resources(self, user: str, since: int = 0) -> set[tuple[str, str, str]]:
        """``(verb, apiGroup, resource)`` of every request ``user`` made (from the audit log)."""
        found = set()
        for event in self.audit_events(user, since):
            ref = event.get("objectRef") or {}
            if ref.get("resource"):
                found.add((event.get("verb", ""), ref.get("apiGroup", ""), ref["resource"]))
        return found
