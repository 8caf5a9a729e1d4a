"""The ``kubernetes`` client's transport, for credential plugins, proxies and path prefixes.

Its configuration and pool are imported lazily (and only then), never its model objects; a
GET is its raw REST call (``call_api``, body not preloaded) read under the limits of
``limits.py``, as our own transport's is. Redirects are answered as they are and refused by
the caller; a credential plugin that fails stops the scan instead of being logged and ignored.
"""

from __future__ import annotations

import importlib
import logging
import os
import threading
import warnings
from collections.abc import Mapping
from typing import Any

from asm_mode_advisor.redact import remember
from asm_mode_advisor.sources.limits import (
    REQUEST_TIMEOUT,
    ClusterError,
    HttpResponse,
    Limits,
    first_line,
    read_capped,
    too_slow,
    unreachable,
)
from asm_mode_advisor.sources.transport import ClusterOptions


class _PluginErrors(logging.Filter):
    """Errors the ``kubernetes`` client logs and then ignores (a failing credential plugin).

    The client would go on unauthenticated; the records are kept (per thread) instead of
    printed as ``ERROR:root:...``, and the caller turns them into a ``ClusterError``.
    """

    def __init__(self) -> None:
        super().__init__()
        self._local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        """Keep kubernetes-package errors for ``raise_caught``; let anything else through."""
        if record.levelno >= logging.ERROR and f"{os.sep}kubernetes{os.sep}" in record.pathname:
            caught: list[str] = getattr(self._local, "caught", [])
            caught.append(record.getMessage())
            self._local.caught = caught
            return False
        return True

    def raise_caught(self) -> None:
        """Raise the first error logged in this thread since the last call, if any."""
        caught: list[str] = getattr(self._local, "caught", [])
        self._local.caught = []
        if caught:
            raise ClusterError("the kubeconfig's credential plugin failed: "
                               + " ".join(caught[0].split()))

    def install(self) -> None:
        """Filter the root logger, where the client logs; no default stderr handler is added."""
        root = logging.getLogger()
        if not root.handlers:
            root.addHandler(logging.NullHandler())
        if self not in root.filters:
            root.addFilter(self)


PLUGIN_ERRORS = _PluginErrors()


class KubeTransport:
    """GETs through the ``kubernetes`` client's configuration and connection pool."""

    def __init__(self, api_client: Any, limits: Limits | None = None) -> None:
        self._api = api_client
        self._limits = limits or Limits()

    def get(self, path: str, accept: str) -> HttpResponse:
        """One GET, given up on after the deadline (the client's reads only time out per read).

        The request runs in a daemon thread; one that outlives the deadline is abandoned.
        """
        outcome: list[HttpResponse | BaseException] = []

        def run() -> None:
            try:
                outcome.append(self._get(path, accept))
            except BaseException as exc:  # handed to the caller's thread
                outcome.append(exc)

        worker = threading.Thread(target=run, name="asm-advisor-get", daemon=True)
        worker.start()
        worker.join(self._limits.deadline)
        if not outcome:
            raise too_slow(self._api.configuration.host, self._limits.deadline)
        if isinstance(outcome[0], BaseException):
            raise outcome[0]
        return outcome[0]

    def _get(self, path: str, accept: str) -> HttpResponse:
        import urllib3
        from kubernetes.client.exceptions import ApiException

        try:
            method, url, headers, _, _ = self._api.param_serialize(
                "GET", path, header_params={"Accept": accept}, auth_settings=["BearerToken"])
            PLUGIN_ERRORS.raise_caught()  # a token refresh may have run the plugin again
            _check_headers(headers)
            response = self._api.call_api(method, url, header_params=headers,
                                          _request_timeout=REQUEST_TIMEOUT)
            raw = response.response
            try:
                body = read_capped(raw, path, self._limits.response_bytes)
            finally:
                raw.release_conn()
        except ApiException as exc:
            raise ClusterError(f"cannot reach the API server: {first_line(exc.reason)}") from None
        except urllib3.exceptions.HTTPError as exc:
            # A MaxRetryError carries the real failure as its ``reason``.
            raise unreachable(self._api.configuration.host,
                              getattr(exc, "reason", None) or exc) from None
        except ValueError:  # http.client refuses a header value
            raise ClusterError(BAD_HEADER) from None
        return HttpResponse(status=int(response.status), headers=dict(response.headers),
                            body=body)


BAD_HEADER = ("cannot send the request: a credential (from the kubeconfig or its plugin) holds "
              "a newline or another character not allowed in a header")


def _check_headers(headers: Mapping[str, str]) -> None:
    """Refuse to send a header value with a control character (urllib3 would send it)."""
    for value in headers.values():
        if any((ord(char) < 0x20 and char != "\t") or ord(char) == 0x7F for char in str(value)):
            remember([str(value)])
            raise ClusterError(BAD_HEADER)


def connect_with_client(options: ClusterOptions) -> KubeTransport:
    """The ``kubernetes`` client's configuration and pool (plugins, proxies), no redirects."""
    import urllib3
    from kubernetes import client
    from kubernetes.config.config_exception import ConfigException

    config: Any = importlib.import_module("kubernetes.config")
    configuration = client.Configuration()
    PLUGIN_ERRORS.install()
    PLUGIN_ERRORS.raise_caught()  # nothing left over from an earlier load
    try:
        if options.in_cluster:
            config.load_incluster_config(client_configuration=configuration)
        else:
            config.load_kube_config(config_file=options.kubeconfig, context=options.context,
                                    client_configuration=configuration, persist_config=False)
    except ConfigException as exc:
        raise ClusterError(_config_message(str(exc), options)) from None
    except (OSError, ValueError, TypeError, KeyError) as exc:
        raise ClusterError(f"cannot load kubeconfig: {first_line(exc)}") from None
    remember([str(value) for value in (*configuration.api_key.values(), configuration.password)
              if value])
    PLUGIN_ERRORS.raise_caught()
    # A redirect is answered as it is (3xx), and refused by the caller: following it would
    # send the credentials, or take the data, from another host or over plain http.
    configuration.retries = urllib3.Retry(total=1, redirect=0, raise_on_redirect=False)
    # An insecure-skip-tls-verify kubeconfig is the user's choice; kubectl does not warn per
    # request either, and the warning would flood stderr.
    warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)
    return KubeTransport(client.ApiClient(configuration), options.limits)


def _config_message(text: str, options: ClusterOptions) -> str:
    if options.in_cluster:
        return f"in-cluster configuration not available: {first_line(text)}"
    if options.context and options.context in text:
        return f"context {options.context!r} not found in kubeconfig"
    return f"invalid kubeconfig: {first_line(text)}"
