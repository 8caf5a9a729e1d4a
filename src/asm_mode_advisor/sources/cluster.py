"""A live cluster to Resources: discovery, then one paginated cluster-wide list per kind.

Read-only (GET only), never Secrets. Items are taken as raw JSON and turned straight into
``Resource`` values without a file (their ``source`` is the cluster). The GETs themselves
(our own transport or the ``kubernetes`` client's) live in ``transport.py`` and
``kubeclient.py``; their shared limits, errors and retries (``Reader``) in ``limits.py``.
Kinds are listed by a few threads at once, each list still one paginated cluster-wide
request chain.

Fatal faults (unreachable server, TLS, 401, a redirect, an answer over a limit, an endless
list, unknown context) raise ``ClusterError`` with a one-line message. A 403 on one kind is
recorded and the scan goes on (a partial report); a kind the server does not serve is skipped
and noted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import urlencode

from asm_mode_advisor.domain import controller_of
from asm_mode_advisor.kinds import KNOWN_KINDS, KindInfo
from asm_mode_advisor.model import Resource, as_dict, as_str, str_map
from asm_mode_advisor.names import split_valid
from asm_mode_advisor.slim import slim as slim_body
from asm_mode_advisor.sources.kubeclient import KubeTransport, connect_with_client
from asm_mode_advisor.sources.limits import (
    JSON,
    MAX_ATTEMPTS,
    ClusterError,
    HttpResponse,
    Limits,
    Reader,
    Transport,
)
from asm_mode_advisor.sources.transport import (
    DEFAULT_PAGE_SIZE,
    ClusterOptions,
    NativeTransport,
    connect,
)

__all__ = ["DEFAULT_PAGE_SIZE", "ClusterError", "ClusterOptions", "HttpResponse",
           "KubeTransport", "Limits", "NativeTransport", "Reader", "Transport", "connect",
           "connect_with_client"]

T = TypeVar("T")

MAX_RESTARTS = 3
#: Pages in a row that hold no item yet promise more: a real server never sends two.
MAX_EMPTY_PAGES = 10
#: Metadata-only lists (served since Kubernetes 1.15): labels, annotations, owners; no spec.
METADATA_ONLY = "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
#: Kinds whose metadata is all the analysis needs (Nodes are only counted).
METADATA_KINDS = frozenset({"Namespace", "Node"})
#: Kinds read as metadata first: a controller-owned Pod counts through its controller, so its
#: labels and annotations (sidecar status, ambient redirection) are all that is needed. Only
#: when a Pod has no controller is the kind listed again in full, for that Pod's spec.
METADATA_FIRST_KINDS = frozenset({"Pod"})
#: Annotation dropped from every object: a stale copy of the manifest, large and misleading.
LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration"
#: Lists in flight at once: the server serialises one while we parse another.
LIST_THREADS = 4


@dataclass
class ClusterSnapshot:
    """What the scan read: resources plus facts about the read itself."""

    resources: list[Resource] = field(default_factory=list)
    node_count: int | None = None
    server_version: str | None = None
    #: ``plural.group/version`` lists the credentials may not read (HTTP 403).
    forbidden: list[str] = field(default_factory=list)
    #: ``Kind.group`` of the kinds behind ``forbidden``.
    unread: set[str] = field(default_factory=set)
    #: ``Kind.group`` kinds the server does not serve (CRD not installed).
    not_served: list[str] = field(default_factory=list)
    #: Kind -> ``group/version`` actually listed.
    versions: dict[str, str] = field(default_factory=dict)
    requests: int = 0
    #: One message per object left out for an invalid name or namespace (a hostile server).
    invalid: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ServedKind:
    """A known kind at the version the server serves it."""

    info: KindInfo
    version: str

    @property
    def api_version(self) -> str:
        """``group/version`` (``v1`` for the core group)."""
        return f"{self.info.group}/{self.version}" if self.info.group else self.version

    @property
    def list_path(self) -> str:
        """Cluster-wide list path of this kind."""
        prefix = f"/apis/{self.info.group}" if self.info.group else "/api"
        return f"{prefix}/{self.version}/{self.info.plural}"

    @property
    def label(self) -> str:
        """``plural.group/version`` for messages."""
        group = f".{self.info.group}" if self.info.group else ""
        return f"{self.info.plural}{group}/{self.version}"


# --- answers ---------------------------------------------------------------------------


def _decode(response: HttpResponse, what: str) -> dict[str, Any]:
    try:
        data = json.loads(response.body)
    except (ValueError, UnicodeDecodeError):
        raise ClusterError(f"{what}: the API server answered with something other than "
                           "JSON") from None
    except RecursionError:
        # The C decoder stops at Python's recursion limit (about 1,000 levels), before the
        # 10,000 levels Kubernetes' own decoder accepts; no real object nests past ~30.
        raise ClusterError(f"{what}: the API server's JSON is nested too deeply to read "
                           "(more than about 1,000 levels)") from None
    if not isinstance(data, dict):
        raise ClusterError(f"{what}: unexpected response from the API server")
    return data


def _status_message(response: HttpResponse) -> str:
    """``HTTP n: message`` (the server's words are made one safe line by ``ClusterError``)."""
    try:
        data = json.loads(response.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return f"HTTP {response.status}"
    message = as_str(as_dict(data).get("message"))
    return f"HTTP {response.status}: {message}" if message else f"HTTP {response.status}"


def _check_fatal(response: HttpResponse, what: str) -> None:
    """Raise for answers that mean nothing else can be read either."""
    if 300 <= response.status < 400:
        location = {k.lower(): v for k, v in response.headers.items()}.get("location", "")
        target = f" to {location[:200]}" if location else ""
        raise ClusterError(f"{what}: the API server answered with a redirect (HTTP "
                           f"{response.status}{target}); redirects are never followed")
    if response.status == 401:
        raise ClusterError("the API server rejected the credentials (401 Unauthorized): the "
                           "token or certificate is wrong or expired")
    if response.status == 429 or response.status >= 500:
        raise ClusterError(f"{what}: the API server kept failing after {MAX_ATTEMPTS} "
                           f"attempts ({_status_message(response)})")


# --- discovery ---------------------------------------------------------------------------


def _resources_of(reader: Reader, path: str) -> set[str] | None:
    """Plural names served at a discovery path, or None when the group/version is absent."""
    response = reader.get(path)
    _check_fatal(response, f"discovery {path}")
    if response.status in (403, 404):
        return None
    if response.status != 200:
        raise ClusterError(f"discovery {path}: {_status_message(response)}")
    return {as_str(item.get("name")) for item in _decode(response, path).get("resources", [])
            if isinstance(item, dict)}


def discover(reader: Reader) -> tuple[list[ServedKind], list[str]]:
    """The served version of every known kind, and the kinds the server does not serve.

    Requests: ``/api/v1``, ``/apis`` and one per candidate group/version the server offers,
    whatever the number of namespaces or objects.
    """
    groups_response = reader.get("/apis")
    _check_fatal(groups_response, "discovery /apis")
    if groups_response.status != 200:
        raise ClusterError(f"discovery /apis: {_status_message(groups_response)}")
    offered: dict[str, set[str]] = {}
    for group in _decode(groups_response, "/apis").get("groups", []):
        if isinstance(group, dict):
            offered[as_str(group.get("name"))] = {
                as_str(v.get("version")) for v in group.get("versions", []) if isinstance(v, dict)}
    offered[""] = {"v1"}
    cache: dict[tuple[str, str], set[str] | None] = {}
    served: list[ServedKind] = []
    missing: list[str] = []
    for info in KNOWN_KINDS:
        version = _served_version(reader, info, offered, cache)
        if version is None:
            missing.append(f"{info.kind}.{info.group}" if info.group else info.kind)
        else:
            served.append(ServedKind(info, version))
    return served, sorted(missing)


def _served_version(reader: Reader, info: KindInfo, offered: dict[str, set[str]],
                    cache: dict[tuple[str, str], set[str] | None]) -> str | None:
    for version in info.versions:
        if version not in offered.get(info.group, set()):
            continue
        key = (info.group, version)
        if key not in cache:
            path = f"/apis/{info.group}/{version}" if info.group else "/api/v1"
            cache[key] = _resources_of(reader, path)
        if info.plural in (cache[key] or set()):
            return version
    return None


# --- lists -------------------------------------------------------------------------------


class _Forbidden(Exception):
    """The credentials may not list this kind."""


def list_items(reader: Reader, kind: ServedKind, page_size: int, accept: str,
               convert: Callable[[dict[str, Any]], T]) -> Iterator[T]:
    """Every item of one kind, cluster-wide, page by page; restarts on 410 (stale continue).

    Each item goes through ``convert`` as its page is read (to a slimmed Resource, say), so
    one page of raw JSON is alive per list, not the whole kind's.
    """
    restarts = 0
    while True:
        try:
            yield from _pages(reader, kind, page_size, accept, convert)
            return
        except _ExpiredContinue:
            restarts += 1
            if restarts > MAX_RESTARTS:
                raise ClusterError(f"list {kind.label}: the continue token expired "
                                   f"{restarts} times; the list changes too fast") from None


class _ExpiredContinue(Exception):
    """HTTP 410 on a continued list."""


def _pages(reader: Reader, kind: ServedKind, page_size: int, accept: str,
           convert: Callable[[dict[str, Any]], T]) -> Iterator[T]:
    token = ""
    seen: set[str] = set()
    empty_pages = 0
    collected: list[T] = []
    while True:
        query: dict[str, str | int] = {"limit": page_size}
        if token:
            query["continue"] = token
        response = reader.get(f"{kind.list_path}?{urlencode(query)}", accept)
        _check_fatal(response, f"list {kind.label}")
        if response.status == 403:
            raise _Forbidden(kind.label)
        if response.status == 410 and token:
            raise _ExpiredContinue(kind.label)
        if response.status == 404:
            return
        if response.status != 200:
            raise ClusterError(f"list {kind.label}: {_status_message(response)}")
        page = _decode(response, f"list {kind.label}")
        collected.extend(convert(item) for item in page.get("items") or []
                         if isinstance(item, dict))
        token = as_str(as_dict(page.get("metadata")).get("continue"))
        if not token:
            break
        # A hostile or broken server can make a list endless; a real one never repeats a
        # token and never sends empty pages that promise more.
        if token in seen:
            raise ClusterError(f"list {kind.label}: the API server sent the same continue "
                               "token twice; stopping a list that would never end")
        seen.add(token)
        empty_pages = 0 if page.get("items") else empty_pages + 1
        if empty_pages >= MAX_EMPTY_PAGES:
            raise ClusterError(f"list {kind.label}: {MAX_EMPTY_PAGES} pages in a row held no "
                               "object yet promised more; stopping a list that would never end")
    # Items are only handed out once the whole list is read, so a restart never duplicates.
    yield from collected


def to_resource(item: dict[str, Any], kind: ServedKind, slim_bodies: bool = False) -> Resource:
    """A raw list item as a Resource from the cluster (managed fields and copies dropped).

    ``slim_bodies`` also drops what no rule reads (status, container bulk; see ``slim.py``).
    """
    item["kind"] = kind.info.kind
    item["apiVersion"] = kind.api_version
    metadata = as_dict(item.get("metadata"))
    metadata.pop("managedFields", None)
    annotations = as_dict(metadata.get("annotations"))
    annotations.pop(LAST_APPLIED, None)
    namespace = as_str(metadata.get("namespace")) or None
    # Identity first: slimming prunes the body's metadata in place.
    name = as_str(metadata.get("name"))
    labels, kept_annotations = str_map(metadata.get("labels")), str_map(annotations)
    addresses = slim_body(kind.info.kind, item) if slim_bodies else None
    return Resource(kind=kind.info.kind, api_version=kind.api_version, name=name,
                    namespace=namespace if kind.info.namespaced else None, labels=labels,
                    annotations=kept_annotations, body=item, addresses=addresses)


def read_cluster(reader: Reader, page_size: int = DEFAULT_PAGE_SIZE,
                 progress: Callable[[str], None] | None = None,
                 slim_bodies: bool = False) -> ClusterSnapshot:
    """Discover, then list every served kind once, cluster-wide (``slim_bodies``: as read)."""
    if page_size < 1:
        raise ClusterError("--page-size must be at least 1")
    snapshot = ClusterSnapshot()
    version = reader.get("/version")
    _check_fatal(version, "/version")
    if version.status == 200:
        snapshot.server_version = as_str(_decode(version, "/version").get("gitVersion")) or None
    served, snapshot.not_served = discover(reader)

    def read(kind: ServedKind) -> list[Resource] | None:
        """A kind's objects as Resources, each page converted (and slimmed) as it comes."""
        if progress is not None:
            progress(kind.label)
        metadata_first = kind.info.kind in METADATA_KINDS | METADATA_FIRST_KINDS

        def convert(item: dict[str, Any]) -> Resource:
            return to_resource(item, kind, slim_bodies)

        try:
            listed = list(list_items(reader, kind, page_size,
                                         METADATA_ONLY if metadata_first else JSON, convert))
            if kind.info.kind in METADATA_FIRST_KINDS and not all(
                    controller_of(resource) is not None for resource in listed):
                listed = list(list_items(reader, kind, page_size, JSON, convert))
            return listed
        except _Forbidden:
            return None

    # Results are taken in the order of ``served``, so the snapshot never depends on which
    # thread finished first.
    with ThreadPoolExecutor(max_workers=LIST_THREADS) as pool:
        listed = list(pool.map(read, served))
    for kind, items in zip(served, listed, strict=True):
        if items is None:
            snapshot.forbidden.append(kind.label)
            snapshot.unread.add(f"{kind.info.kind}.{kind.info.group}".rstrip("."))
            continue
        snapshot.versions[f"{kind.info.kind}.{kind.info.group}".rstrip(".")] = kind.api_version
        if kind.info.kind == "Node":
            snapshot.node_count = len(items)
            continue
        items, invalid = split_valid(items)
        snapshot.invalid.extend(invalid)
        snapshot.resources.extend(items)
    snapshot.forbidden.sort()
    snapshot.requests = reader.requests
    return snapshot


def only_namespaces(resources: list[Resource], namespaces: frozenset[str],
                    keep: frozenset[str]) -> list[Resource]:
    """Resources of the chosen namespaces (plus ``keep``, e.g. the root namespace)."""
    wanted = namespaces | keep
    return [r for r in resources
            if (r.namespace in wanted) or (r.kind == "Namespace" and r.name in wanted)
            or (r.namespace is None and r.kind != "Namespace")]
