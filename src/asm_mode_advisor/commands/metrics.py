"""``--prometheus`` and its companions: measured calls for ``analyze``, ``scan`` and ``plan``.

Prometheus is evidence, not input: when it cannot be used, one warning line names the URL and
what failed, and the run goes on with the calls the manifests show. ``--require-metrics``
turns that into an input error (exit 2), for pipelines that must not decide without traffic.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asm_mode_advisor.commands.common import err
from asm_mode_advisor.model import InputError
from asm_mode_advisor.sources.prometheus import (
    DEFAULT_WINDOW,
    PASSWORD_ENV,
    USER_ENV,
    MetricsError,
    PrometheusOptions,
    fetch,
    shown_url,
    window_seconds,
)
from asm_mode_advisor.traffic.graph import Graph, TrafficEvidence


def _window(value: str) -> str:
    try:
        window_seconds(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    return value.strip()


PrometheusOption = Annotated[str | None, typer.Option(
    "--prometheus", metavar="URL",
    help="Read Istio's request metrics from this Prometheus (its base URL; managed services "
         "with a path prefix work too) to learn who calls whom.", show_default=False)]
PrometheusTokenOption = Annotated[Path | None, typer.Option(
    "--prometheus-token-file", metavar="PATH", dir_okay=False,
    help=f"File holding a bearer token for --prometheus (never printed). For basic auth set "
         f"{USER_ENV} and {PASSWORD_ENV} instead.", show_default=False)]
MetricsWindowOption = Annotated[str, typer.Option(
    "--metrics-window", metavar="DURATION", callback=_window,
    help="How far back the metrics look: a number and one of s, m, h, d, w.")]
TrafficOption = Annotated[bool, typer.Option(
    "--traffic/--no-traffic",
    help="Read who calls whom off the manifests (env addresses, routes, policy peers) for "
         "the traffic findings and the report's traffic sections.")]
RequireMetricsOption = Annotated[bool, typer.Option(
    "--require-metrics",
    help="Exit 2 when --prometheus cannot be used, instead of going on with the manifests.")]


def required_error(problem: str | None) -> list[InputError]:
    """The input error that makes a run with ``--require-metrics`` exit 2 (none: no problem)."""
    return [] if problem is None else [InputError(f"--require-metrics: {problem}")]


def measure(url: str | None, token_file: Path | None, window: str = DEFAULT_WINDOW,
            required: bool = False) -> tuple[TrafficEvidence, str | None]:
    """The run's traffic evidence, and the input error to report when metrics were required.

    Without ``url`` the evidence is the manifests' alone. A failure is one warning line; with
    ``required`` it is also returned as the error that makes the run exit 2.
    """
    if url is None:
        if token_file is not None:
            err("warning: --prometheus-token-file is ignored without --prometheus")
        return TrafficEvidence(), None
    try:
        measured = fetch(PrometheusOptions(url=url, token_file=str(token_file)
                                           if token_file is not None else None,
                                           window=window))
    except MetricsError as exc:
        problem = str(exc)
        err(f"{'error' if required else 'warning'}: {problem}; "
            + ("--require-metrics is set" if required else
               "going on with the calls the manifests show"))
        return (TrafficEvidence(evidence="manifests", window=window,
                                prometheus=shown_url(url), problem=problem),
                problem if required else None)
    graph = Graph()
    graph.add(measured.calls)
    return TrafficEvidence(graph=graph, evidence="metrics", window=window,
                           prometheus=measured.url), None
