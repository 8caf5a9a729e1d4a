"""``asm-advisor scan``: the same verdicts as ``analyze``, read from a live cluster.

The ``kubernetes`` client is only imported when the command runs (inside the cluster source).
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Annotated, Any

import typer

from asm_mode_advisor.analysis import Analysis, Settings, analyze
from asm_mode_advisor.commands.common import (
    check_mesh_version,
    err,
    finish,
    gate_options,
    parse_reports,
    require_input,
)
from asm_mode_advisor.commands.metrics import (
    MetricsWindowOption,
    PrometheusOption,
    PrometheusTokenOption,
    RequireMetricsOption,
    TrafficOption,
    measure,
    required_error,
)
from asm_mode_advisor.commands.options import (
    DEFAULT_OUTPUT,
    AllowEmptyOption,
    AssumeModeOption,
    BaselineOption,
    ConfigOption,
    FailOnOption,
    OutputFileOption,
    OutputOption,
    QuietOption,
    ReportOption,
)
from asm_mode_advisor.domain import ROOT_NAMESPACE
from asm_mode_advisor.exit_codes import ExitCode
from asm_mode_advisor.gcpause import keep_alive_until_exit, paused
from asm_mode_advisor.live import cluster_facts, detected_mesh_version, resolve_mesh_version
from asm_mode_advisor.matrix import DEFAULT_MESH_VERSION
from asm_mode_advisor.model import InputError, Mode
from asm_mode_advisor.report import Report
from asm_mode_advisor.sources.cluster import (
    DEFAULT_PAGE_SIZE,
    ClusterError,
    ClusterOptions,
    ClusterSnapshot,
    Reader,
    connect,
    only_namespaces,
    read_cluster,
)
from asm_mode_advisor.sources.prometheus import DEFAULT_WINDOW
from asm_mode_advisor.text import safe_line
from asm_mode_advisor.traffic.graph import TrafficEvidence

CLUSTER_SOURCE = "cluster"
NAMESPACES_LIST = "namespaces/v1"


def scan_errors(snapshot: ClusterSnapshot, missing: list[str]) -> list[InputError]:
    """One error per unreadable list, per namespace not found, per object with a bad name."""
    errors = [InputError(f"forbidden: cannot list {label} cluster-wide; the report leaves "
                         "them out", file=CLUSTER_SOURCE) for label in snapshot.forbidden]
    errors.extend(InputError(f"namespace {name!r} not found", file=CLUSTER_SOURCE)
                  for name in missing)
    errors.extend(InputError(message, file=CLUSTER_SOURCE) for message in snapshot.invalid)
    return errors


def keep_namespaces(report: Report, namespaces: frozenset[str]) -> Report:
    """The report limited to the chosen namespaces, with its summary counts redone."""
    verdicts = [v for v in report.namespaces if v.name in namespaces]
    by_recommendation = {mode.value: 0 for mode in (Mode.AMBIENT, Mode.AMBIENT_WAYPOINT,
                                                    Mode.SIDECAR)}
    by_recommendation.update(Counter(v.recommendation for v in verdicts))
    summary = report.summary.model_copy(update={"namespaces": len(verdicts),
                                                "by_recommendation": by_recommendation})
    return report.model_copy(update={"namespaces": verdicts, "summary": summary})


@contextmanager
def progress_reporter() -> Iterator[Callable[[str], None] | None]:
    """A stderr spinner naming the list being read, only when stderr is a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.text import Text

    console = Console(stderr=True)
    with console.status("asm-advisor: discovering API groups") as status:
        # A Text, never markup: the label is a kind the cluster named.
        yield lambda label: status.update(Text(f"asm-advisor: listing {safe_line(label)}"))


@dataclass
class LiveRead:
    """A cluster read and analyzed: what ``scan`` reports and ``plan --from-cluster`` plans."""

    analysis: Analysis
    snapshot: ClusterSnapshot
    chosen: frozenset[str]
    mesh_version: str
    mesh_version_source: str
    detected_version: str | None


@paused()  # the listed objects are acyclic; collections would re-walk them all
def read_live(options: ClusterOptions, namespaces: list[str], mesh_version: str | None,
              root_namespace: str = ROOT_NAMESPACE, base: Settings | None = None,
              slim_bodies: bool = True, traffic: TrafficEvidence | None = None,
              extra_errors: Sequence[InputError] = ()) -> LiveRead:
    """Read the cluster and run the shared pipeline; raises ``ClusterError`` on a fatal fault.

    ``slim_bodies=False`` keeps whole objects, for commands that write manifests back;
    ``traffic`` holds calls Prometheus measured, ``extra_errors`` errors met before the read.
    """
    transport = connect(options)
    with progress_reporter() as progress:
        reader = Reader(transport, max_total_bytes=options.limits.total_bytes)
        snapshot = read_cluster(reader, options.page_size, progress, slim_bodies)
    resources = snapshot.resources
    chosen = frozenset(namespaces)
    if chosen:
        resources = only_namespaces(resources, chosen, frozenset({root_namespace}))
    detected = detected_mesh_version(snapshot.resources)
    version, version_source = resolve_mesh_version(mesh_version, detected, DEFAULT_MESH_VERSION)
    present = {r.name for r in snapshot.resources if r.kind == "Namespace"} | {
        r.namespace for r in snapshot.resources if r.namespace}
    missing = sorted(chosen - present) if NAMESPACES_LIST not in snapshot.forbidden else []
    settings = replace(base or Settings(), mesh_version=version, root_namespace=root_namespace,
                       unread=frozenset(snapshot.unread), nodes=snapshot.node_count)
    result = analyze(resources, [*scan_errors(snapshot, missing), *extra_errors], settings,
                     source="cluster", traffic=traffic)
    return LiveRead(analysis=result, snapshot=snapshot, chosen=chosen, mesh_version=version,
                    mesh_version_source=version_source, detected_version=detected)


def run_scan(options: ClusterOptions, namespaces: list[str], mesh_version: str | None,
             root_namespace: str = ROOT_NAMESPACE, base: Settings | None = None,
             traffic: TrafficEvidence | None = None,
             extra_errors: Sequence[InputError] = ()) -> tuple[Report, ClusterSnapshot]:
    """The scan report: the analysis plus the live facts, limited to ``-n`` namespaces."""
    live = read_live(options, namespaces, mesh_version, root_namespace, base,
                     traffic=traffic, extra_errors=extra_errors)
    snapshot, result, chosen = live.snapshot, live.analysis, live.chosen
    shown = chosen or frozenset(result.inventory.namespaces)
    facts: dict[str, Any] = {
        "serverVersion": snapshot.server_version,
        "meshVersion": {"used": live.mesh_version, "source": live.mesh_version_source,
                        "detected": live.detected_version},
        "nodes": snapshot.node_count,
        "forbidden": snapshot.forbidden,
        "notServed": snapshot.not_served,
        "apiVersions": dict(sorted(snapshot.versions.items())),
        "partial": bool(snapshot.forbidden),
        **cluster_facts(result.inventory, sorted(shown & set(result.inventory.namespaces))),
    }
    report = result.report.model_copy(update={"cluster": facts})
    if chosen:
        report = keep_namespaces(report, chosen)
    return report, snapshot


def register(app: typer.Typer) -> None:
    """Add ``scan`` to the app."""
    app.command("scan")(scan_command)


def scan_command(
    ctx: typer.Context,
    kubeconfig: Annotated[str | None, typer.Option(
        "--kubeconfig", help="Kubeconfig file (default: $KUBECONFIG, which may list several "
                             "files, then ~/.kube/config).")] = None,
    context: Annotated[str | None, typer.Option(
        "--context", help="Kubeconfig context (default: the current context).")] = None,
    in_cluster: Annotated[bool, typer.Option(
        "--in-cluster", help="Use the pod's service account (from a CI job or CronJob).")
    ] = False,
    namespace: Annotated[list[str] | None, typer.Option(
        "--namespace", "-n", metavar="NS", show_default=False,
        help="Namespace to report on (repeatable; default: all).")
    ] = None,
    output: OutputOption = DEFAULT_OUTPUT,
    output_file: OutputFileOption = None,
    report_to: ReportOption = None,
    mesh_version: Annotated[str | None, typer.Option(
        "--mesh-version", help="ASM/Istio version of the mesh (default: the istiod image "
                               "tag, else 1.25).")] = None,
    allow_partial: Annotated[bool, typer.Option(
        "--allow-partial", help="Exit 0 even when some kinds could not be read (403).")
    ] = False,
    page_size: Annotated[int, typer.Option(
        "--page-size", min=1, help="Objects per list request.")] = DEFAULT_PAGE_SIZE,
    root_namespace: Annotated[str, typer.Option(
        "--root-namespace", help="Istio root namespace (mesh-wide policies live there).")
    ] = ROOT_NAMESPACE,
    fail_on: FailOnOption = None,
    config: ConfigOption = None,
    baseline: BaselineOption = None,
    assume_mode: AssumeModeOption = None,
    allow_empty: AllowEmptyOption = False,
    quiet: QuietOption = False,
    prometheus: PrometheusOption = None,
    prometheus_token_file: PrometheusTokenOption = None,
    metrics_window: MetricsWindowOption = DEFAULT_WINDOW,
    require_metrics: RequireMetricsOption = False,
    traffic: TrafficOption = True,
) -> None:
    """Scan a live cluster (read-only) and print a verdict per namespace."""
    reports = parse_reports(report_to)
    run = gate_options(ctx, config, mesh_version=mesh_version or DEFAULT_MESH_VERSION,
                       fail_on=fail_on, assume_mode=assume_mode, baseline=baseline,
                       root_namespace=root_namespace)
    if mesh_version is None and run.settings.config.mesh_version is not None:
        mesh_version = run.settings.mesh_version  # the config file names it; detection is skipped
    if mesh_version is not None:
        check_mesh_version(mesh_version)
    options = ClusterOptions(kubeconfig=kubeconfig, context=context, in_cluster=in_cluster,
                             page_size=page_size)
    evidence, problem = measure(prometheus, prometheus_token_file, metrics_window,
                                require_metrics)
    try:
        report, snapshot = run_scan(options, namespace or [], mesh_version, root_namespace,
                                    replace(run.settings, traffic_graph=traffic),
                                    traffic=evidence, extra_errors=required_error(problem))
    except ClusterError as exc:
        err(f"error: {exc}")
        raise typer.Exit(ExitCode.INPUT) from None
    keep_alive_until_exit()
    report = require_input(report, "the cluster", run.settings.config, allow_empty)
    finish(report, run, output, output_file,
           tolerated_errors=len(snapshot.forbidden) if allow_partial else 0, quiet=quiet,
           reports=reports)
