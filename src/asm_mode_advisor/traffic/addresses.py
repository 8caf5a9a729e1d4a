"""Addresses in env values and arguments: the one definition the graph and slimming share.

The graph (``traffic/manifests.py``) reads peers' addresses out of env values, ``args`` and
``command``. Slimming (``slim.py``) keeps only what that reading can use: each text reduced to
its address tokens (:func:`digest`), and entries with none dropped. So a password or a
config blob in an env value is never held in memory, and the graph reads the same addresses
from a slimmed body as from a whole one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

#: Env names that hold an address: a bare host in them is a call (``REDIS=redis-cart``).
ADDRESS_NAME = re.compile(r"(ADDR|ADDRESS|HOST|HOSTNAME|URL|URI|ENDPOINT|SERVICE|SVC|SERVER|"
                          r"UPSTREAM|BACKEND|DSN|TARGET)S?$", re.IGNORECASE)
#: A DNS-ish host, optionally with a port, as found in env values, args and URLs.
_HOST = re.compile(r"(?<![\w.-])([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
                   r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::(\d{1,5}))?(?![\w-])")
#: A URL: scheme, optional userinfo, then its host and port (group 1) and the rest.
_URL = re.compile(r"(?:[a-z][a-z0-9+.-]*)?://(?:[^/?#\s@]*@)?([^/?#\s,;'\"@]*)[^\s,;'\"]*")
_HOST_PORT = re.compile(r"([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
                        r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)(?::(\d{1,5}))?")
#: Longest text looked at per value: addresses are short; a bundled config file is not read.
MAX_VALUE = 4096
#: Kept in a digest when the text held a URL: a bare host in a URL is an address.
URL_MARK = "://"
#: Container fields slimming reduces to their addresses (:func:`digest_container`).
DIGESTED = ("env", "args", "command")


def hosts(text: str) -> Iterator[tuple[str, int | None]]:
    """Host names (lower case) and ports in a text; ``user`` of ``user@host`` is skipped."""
    lowered = text[:MAX_VALUE].lower()  # may differ in length from ``text``: index only it
    for match in _HOST.finditer(lowered):
        if match.end() < len(lowered) and lowered[match.end()] == "@":
            continue
        yield match.group(1), int(match.group(2)) if match.group(2) else None


def addresses(text: str, named_address: bool) -> Iterator[tuple[str, int | None]]:
    """The hosts of ``text`` that may be addresses of peers.

    In a URL only its host is one (not the user, path or query); elsewhere a host with a port
    or a dot is, and a bare word only in a setting whose name says it holds an address.
    """
    rest = text[:MAX_VALUE].lower()
    for match in _URL.finditer(rest):
        found = _HOST_PORT.fullmatch(match.group(1))
        if found is not None:
            yield found.group(1), int(found.group(2)) if found.group(2) else None
    rest = _URL.sub(" ", rest)
    for host, port in hosts(rest):
        if named_address or port is not None or "." in host:
            yield host, port


def digest(text: str, named_address: bool) -> str:
    """``text`` reduced to its addresses ("" when none); :func:`addresses` reads it the same.

    A URL's host stays a URL (``://host:port``), so that a bare host keeps counting.
    """
    rest = text[:MAX_VALUE].lower()
    found = [f"{URL_MARK}{match.group(1)}" for match in _URL.finditer(rest)
             if _HOST_PORT.fullmatch(match.group(1))]
    found += [f"{host}:{port}" if port is not None else host
              for host, port in addresses(_URL.sub(" ", rest), named_address)]
    return " ".join(found)


def digest_container(container: dict[str, Any]) -> list[str]:
    """Take, in place, a container's env, args and command; return the addresses in them.

    Every address the graph would accept, in reading order, written as ``://host:port`` (a
    URL's host always counts, so a bare name from an address setting keeps counting). Joined,
    they are the workload's ``Resource.addresses``, which the graph reads instead.
    """
    found: list[str] = []
    env = container.pop("env", None)
    if isinstance(env, list):
        for entry in env:
            if isinstance(entry, dict) and isinstance(entry.get("value"), str):
                name = entry.get("name")
                named = isinstance(name, str) and bool(ADDRESS_NAME.search(name))
                found += _marked(entry["value"], named)
    for key in ("args", "command"):
        items = container.pop(key, None)
        if isinstance(items, list):
            for item in items:
                if isinstance(item, str):
                    found += _marked(item, False)
    return found


def _marked(text: str, named_address: bool) -> list[str]:
    return [f"{URL_MARK}{host}:{port}" if port is not None else f"{URL_MARK}{host}"
            for host, port in addresses(text, named_address)]
