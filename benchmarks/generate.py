"""Deterministic manifest corpus for the benchmarks: many namespaces, workloads, services, Istio.

    python benchmarks/generate.py 10000            # writes benchmarks/out/corpus-10000/
    python benchmarks/generate.py 50 --out /tmp/x  # a tiny corpus somewhere else

Every namespace holds a Namespace object and a handful of apps. Each app is one multi-document
file: a Deployment, its Service, a ServiceAccount and, for some apps, Istio policy
(VirtualService, DestinationRule, AuthorizationPolicy, PeerAuthentication, RequestAuthentication,
a waypoint Gateway). The same size always produces byte-identical files.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"
APPS_PER_NAMESPACE = 4
IMAGES = ("nginx:1.27", "ghcr.io/acme/api:2.3.1", "redis:7.2", "envoyproxy/echo:1.0",
          "registry.example.com/shop/cart:v5")


def _deployment(ns: str, app: str, rng: random.Random) -> str:
    port = rng.choice((8080, 9090, 3000, 6379))
    init = ("      initContainers:\n      - name: migrate\n        image: busybox:1.36\n"
            "        command: [sh, -c, 'echo migrate']\n") if rng.random() < 0.2 else ""
    annotations = ('      annotations:\n        prometheus.io/scrape: "true"\n'
                   '        prometheus.io/port: "15020"\n') if rng.random() < 0.5 else ""
    return f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app: {app}
    app.kubernetes.io/part-of: {ns}
    version: v1
spec:
  replicas: {rng.randint(1, 5)}
  selector:
    matchLabels:
      app: {app}
      version: v1
  template:
    metadata:
      labels:
        app: {app}
        version: v1
{annotations}    spec:
      serviceAccountName: {app}
{init}      containers:
      - name: {app}
        image: {rng.choice(IMAGES)}
        ports:
        - containerPort: {port}
          name: http
        env:
        - name: LOG_LEVEL
          value: info
        - name: UPSTREAM
          value: http://{app}-backend.{ns}.svc.cluster.local:{port}
        resources:
          requests:
            cpu: {rng.choice((50, 100, 250))}m
            memory: {rng.choice((64, 128, 256))}Mi
          limits:
            memory: 512Mi
        readinessProbe:
          httpGet:
            path: /healthz
            port: {port}
          periodSeconds: 10
"""


def _service(ns: str, app: str, rng: random.Random) -> str:
    port_name = rng.choice(("http", "grpc", "tcp-redis", "http-web"))
    return f"""apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {ns}
  labels:
    app: {app}
spec:
  selector:
    app: {app}
  ports:
  - name: {port_name}
    port: 80
    targetPort: 8080
"""


def _service_account(ns: str, app: str) -> str:
    return f"""apiVersion: v1
kind: ServiceAccount
metadata:
  name: {app}
  namespace: {ns}
"""


def _virtual_service(ns: str, app: str, rng: random.Random) -> str:
    if rng.random() < 0.5:
        return f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {app}
  namespace: {ns}
spec:
  hosts:
  - {app}
  http:
  - match:
    - headers:
        x-canary:
          exact: "true"
    route:
    - destination:
        host: {app}
        subset: v2
  - route:
    - destination:
        host: {app}
        subset: v1
      weight: 90
    - destination:
        host: {app}
        subset: v2
      weight: 10
    timeout: 5s
    retries:
      attempts: 3
"""
    return f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {app}
  namespace: {ns}
spec:
  hosts:
  - {app}.{ns}.svc.cluster.local
  tcp:
  - route:
    - destination:
        host: {app}.{ns}.svc.cluster.local
        port:
          number: 80
"""


def _destination_rule(ns: str, app: str) -> str:
    return f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {app}
  namespace: {ns}
spec:
  host: {app}
  trafficPolicy:
    tls:
      mode: ISTIO_MUTUAL
  subsets:
  - name: v1
    labels:
      version: v1
  - name: v2
    labels:
      version: v2
"""


def _authorization_policy(ns: str, app: str, rng: random.Random) -> str:
    rule = ("  - to:\n    - operation:\n        methods: [GET]\n        paths: [/api/*]\n"
            if rng.random() < 0.5 else
            f"  - from:\n    - source:\n        principals:\n"
            f"        - cluster.local/ns/{ns}/sa/frontend\n")
    return f"""apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: {app}-allow
  namespace: {ns}
spec:
  selector:
    matchLabels:
      app: {app}
  action: ALLOW
  rules:
{rule}"""


def _peer_authentication(ns: str) -> str:
    return f"""apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: {ns}
spec:
  mtls:
    mode: STRICT
"""


def _request_authentication(ns: str, app: str) -> str:
    return f"""apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: {app}-jwt
  namespace: {ns}
spec:
  selector:
    matchLabels:
      app: {app}
  jwtRules:
  - issuer: https://issuer.example.com
    jwksUri: https://issuer.example.com/.well-known/jwks.json
"""


def _namespace(ns: str, rng: random.Random) -> str:
    label = rng.choice(("istio-injection: enabled", "istio.io/dataplane-mode: ambient",
                        "istio.io/rev: asm-1-25", "team: platform"))
    return f"""apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
  labels:
    {label}
"""


def _waypoint(ns: str) -> str:
    return f"""apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  namespace: {ns}
  labels:
    istio.io/waypoint-for: service
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
"""


def _app_documents(ns: str, app: str, rng: random.Random) -> list[str]:
    docs = [_deployment(ns, app, rng), _service(ns, app, rng), _service_account(ns, app)]
    roll = rng.random()
    if roll < 0.35:
        docs += [_virtual_service(ns, app, rng), _destination_rule(ns, app)]
    if 0.25 < roll < 0.6:
        docs.append(_authorization_policy(ns, app, rng))
    if roll > 0.92:
        docs.append(_request_authentication(ns, app))
    return docs


def files(total: int, seed: int = 6) -> Iterator[tuple[str, str]]:
    """``(relative path, text)`` of every file of a corpus of about ``total`` documents."""
    rng = random.Random(seed)
    produced = 0
    index = 0
    while produced < total:
        ns = f"team-{index:05d}"
        index += 1
        head = [_namespace(ns, rng)]
        if rng.random() < 0.5:
            head.append(_peer_authentication(ns))
        if rng.random() < 0.15:
            head.append(_waypoint(ns))
        yield f"{ns}/namespace.yaml", "---\n".join(head)
        produced += len(head)
        for number in range(APPS_PER_NAMESPACE):
            if produced >= total:
                break
            app = f"svc-{number}"
            docs = _app_documents(ns, app, rng)
            yield f"{ns}/{app}.yaml", "---\n".join(docs)
            produced += len(docs)


#: The traffic corpus: small namespaces whose apps name services of other namespaces in env.
TRAFFIC_APPS = 2
TRAFFIC_PEERS = 10


def _with_peers(text: str, ns_index: int, namespaces: int, rng: random.Random) -> str:
    """A Deployment's text with ``TRAFFIC_PEERS`` env addresses of other namespaces' services."""
    lines = []
    for peer in range(TRAFFIC_PEERS):
        other = (ns_index + 1 + rng.randrange(max(namespaces - 1, 1))) % max(namespaces, 1)
        app = f"svc-{rng.randrange(TRAFFIC_APPS)}"
        lines.append(f"        - name: PEER_{peer}_ADDR\n"
                     f"          value: {app}.team-{other:05d}:8080\n")
    return text.replace("        env:\n", "        env:\n" + "".join(lines), 1)


def traffic_files(total: int, seed: int = 15) -> Iterator[tuple[str, str]]:
    """Like :func:`files`, with two apps per namespace that each call ten other namespaces.

    About ``total / 10`` namespaces and 20 calls out of each: at 10k documents, about 1,000
    namespaces and 20,000 calls for the traffic graph.
    """
    rng = random.Random(seed)
    namespaces = max(total // 10, 1)
    produced = 0
    for index in range(namespaces):
        if produced >= total:
            break
        ns = f"team-{index:05d}"
        head = [_namespace(ns, rng)]
        yield f"{ns}/namespace.yaml", "---\n".join(head)
        produced += len(head)
        for number in range(TRAFFIC_APPS):
            app = f"svc-{number}"
            docs = _app_documents(ns, app, rng)
            docs[0] = _with_peers(docs[0], index, namespaces, rng)
            yield f"{ns}/{app}.yaml", "---\n".join(docs)
            produced += len(docs)


def generate(total: int, out: Path, traffic: bool = False) -> Path:
    """Write a corpus of about ``total`` documents to ``out`` (replacing it); return ``out``.

    ``traffic``: the corpus of :func:`traffic_files` instead.
    """
    if out.exists():
        shutil.rmtree(out)
    for relative, text in (traffic_files(total) if traffic else files(total)):
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return out


def corpus_dir(total: int, base: Path = OUT, traffic: bool = False) -> Path:
    """The corpus of ``total`` documents under ``base``, generated on first use."""
    out = base / (f"traffic-{total}" if traffic else f"corpus-{total}")
    marker = out / ".complete"
    if not marker.exists():
        generate(total, out, traffic)
        marker.write_text(str(total), encoding="utf-8")
    return out


def size(text: str) -> int:
    """``10k`` (thousands of documents) or a plain number of documents."""
    lowered = text.lower()
    return int(lowered[:-1]) * 1_000 if lowered.endswith("k") else int(lowered)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("size", type=size, help="documents: 1k, 10k, 50k or any number")
    parser.add_argument("--out", type=Path, default=None, help="folder (default benchmarks/out)")
    args = parser.parse_args()
    out = args.out if args.out is not None else OUT / f"corpus-{args.size}"
    generate(args.size, out)
    count = sum(len(names) for _, _, names in os.walk(out))
    print(f"{out}: {count} files, {args.size} documents")


if __name__ == "__main__":
    main()
