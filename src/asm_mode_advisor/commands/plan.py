"""``asm-advisor plan``: write a sidecar-to-ambient migration plan (YAML files + PLAN.md).

The planner, and with ``--from-cluster`` the cluster source, are imported only when the
command runs, so other commands do not pay for them at start-up.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from asm_mode_advisor.analysis import Analysis, Settings, analyze
from asm_mode_advisor.commands.common import check_mesh_version, err
from asm_mode_advisor.commands.common import out as write_out
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
    AllowEmptyOption,
    DefaultNamespaceOption,
    MaxFileSizeOption,
)
from asm_mode_advisor.completeness import describe_inputs, empty_problem
from asm_mode_advisor.config import Config
from asm_mode_advisor.exit_codes import ExitCode
from asm_mode_advisor.gcpause import paused
from asm_mode_advisor.matrix import DEFAULT_MESH_VERSION
from asm_mode_advisor.model import InputError
from asm_mode_advisor.sources.files import load_paths
from asm_mode_advisor.sources.prometheus import DEFAULT_WINDOW
from asm_mode_advisor.sources.reading import DEFAULT_MAX_FILE_MIB, MIB
from asm_mode_advisor.text import escape_in_strings

if TYPE_CHECKING:
    from asm_mode_advisor.plan.model import Plan
    from asm_mode_advisor.sources.cluster import ClusterOptions
    from asm_mode_advisor.traffic.graph import TrafficEvidence

class PlanFormat(StrEnum):
    """Formats of ``plan --output``."""

    MARKDOWN = "markdown"
    JSON = "json"


def render_plan(plan: Plan, output: PlanFormat) -> str:
    """The plan as PLAN.md text or JSON."""
    from asm_mode_advisor.plan.markdown import render_markdown

    if output is PlanFormat.JSON:
        return escape_in_strings(plan.to_json())  # same data; no raw bidi or C1 on a screen
    return render_markdown(plan)


def from_cluster(options: ClusterOptions, namespaces: list[str], mesh_version: str | None,
                 traffic: TrafficEvidence | None = None,
                 extra_errors: Sequence[InputError] = (),
                 traffic_graph: bool = True) -> tuple[Analysis, int | None]:
    """Read the live cluster (read-only) and run the shared pipeline on it.

    A plan from a partial read would be wrong, so any list the credentials cannot read is
    an error here (``ClusterError``), not a note.
    """
    from asm_mode_advisor.commands.scan import read_live
    from asm_mode_advisor.sources.cluster import ClusterError

    live = read_live(options, namespaces, mesh_version, slim_bodies=False, traffic=traffic,
                     extra_errors=extra_errors, base=Settings(traffic_graph=traffic_graph))
    if live.analysis.report.errors:
        first = live.analysis.report.errors[0].message
        more = len(live.analysis.report.errors) - 1
        raise ClusterError(first + (f" (and {more} more)" if more else ""))
    return live.analysis, live.snapshot.node_count


def _check_quantities(cpu: str, memory: str) -> None:
    from asm_mode_advisor.plan.estimates import parse_cpu, parse_memory

    if parse_cpu(cpu) is None:
        err(f"error: --sidecar-cpu {cpu!r} is not a CPU quantity like 100m or 0.5")
        raise typer.Exit(ExitCode.INPUT)
    if parse_memory(memory) is None:
        err(f"error: --sidecar-memory {memory!r} is not a memory quantity like 128Mi")
        raise typer.Exit(ExitCode.INPUT)


def plan_command(
    paths: Annotated[list[str] | None, typer.Argument(
        help="Files or folders of YAML/JSON manifests; '-' reads stdin.",
        show_default=False)] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="Write PLAN.md and numbered YAML files per namespace here.",
        file_okay=False)] = None,
    namespace: Annotated[list[str] | None, typer.Option(
        "--namespace", "-n", help="Plan only this namespace (repeatable).")] = None,
    output: Annotated[PlanFormat | None, typer.Option(
        "--output", "-o", case_sensitive=False,
        help="Print the plan to stdout (default markdown when --out is not given).")] = None,
    waypoint_per_service: Annotated[bool, typer.Option(
        "--waypoint-per-service", help="One waypoint per Service that needs L7, bound on the "
                                       "Service, instead of one per namespace.")] = False,
    allow_direct: Annotated[list[str] | None, typer.Option(
        "--allow-direct", metavar="PRINCIPAL",
        help="A caller (e.g. cluster.local/ns/web/sa/frontend) the offered waypoint-only "
             "policy still lets reach the pods directly (repeatable).")] = None,
    sidecar_cpu: Annotated[str, typer.Option(
        "--sidecar-cpu", help="Sidecar CPU request when a pod sets no "
                              "sidecar.istio.io/proxyCPU.")] = "100m",
    sidecar_memory: Annotated[str, typer.Option(
        "--sidecar-memory", help="Sidecar memory request when a pod sets no "
                                 "sidecar.istio.io/proxyMemory.")] = "128Mi",
    nodes: Annotated[int, typer.Option(
        "--nodes", min=1, help="Nodes, each running one ztunnel (counted with "
                               "--from-cluster).")] = 3,
    mesh_version: Annotated[str | None, typer.Option(
        "--mesh-version", help="ASM/Istio version of the mesh (default 1.25, or detected "
                               "with --from-cluster).")] = None,
    default_namespace: DefaultNamespaceOption = "default",
    cluster: Annotated[bool, typer.Option(
        "--from-cluster", help="Read a live cluster (read-only, as 'scan') instead of files.")
    ] = False,
    kubeconfig: Annotated[str | None, typer.Option(
        "--kubeconfig", help="With --from-cluster: kubeconfig file (default: $KUBECONFIG, "
                             "then ~/.kube/config).")] = None,
    context: Annotated[str | None, typer.Option(
        "--context", help="With --from-cluster: kubeconfig context (default: current).")
    ] = None,
    in_cluster: Annotated[bool, typer.Option(
        "--in-cluster", help="With --from-cluster: use the pod's service account.")] = False,
    allow_empty: AllowEmptyOption = False,
    max_file_size: MaxFileSizeOption = DEFAULT_MAX_FILE_MIB,
    prometheus: PrometheusOption = None,
    prometheus_token_file: PrometheusTokenOption = None,
    metrics_window: MetricsWindowOption = DEFAULT_WINDOW,
    require_metrics: RequireMetricsOption = False,
    traffic: TrafficOption = True,
) -> None:
    """Write a ready-to-apply migration plan with cost and latency estimates."""
    if mesh_version is not None:
        check_mesh_version(mesh_version)
    _check_quantities(sidecar_cpu, sidecar_memory)
    if bool(paths) == cluster:
        err("error: give manifest PATHS or --from-cluster (one of them)")
        raise typer.Exit(ExitCode.INPUT)
    namespaces = namespace or []
    cluster_nodes = None
    evidence, problem = measure(prometheus, prometheus_token_file, metrics_window,
                                require_metrics)
    if cluster:
        from asm_mode_advisor.sources.cluster import ClusterError, ClusterOptions

        options = ClusterOptions(kubeconfig=kubeconfig, context=context, in_cluster=in_cluster)
        try:
            analysis, cluster_nodes = from_cluster(options, namespaces, mesh_version, evidence,
                                                   required_error(problem), traffic)
        except ClusterError as exc:
            err(f"error: {exc}")
            raise typer.Exit(ExitCode.INPUT) from None
    else:
        with paused():  # what is read and analysed is acyclic (see gcpause.py)
            loaded = load_paths(paths or [], default_namespace=default_namespace,
                                max_bytes=max_file_size * MIB)
            analysis = analyze(
                loaded.resources, [*loaded.errors, *required_error(problem)], Settings(
                    mesh_version=mesh_version or DEFAULT_MESH_VERSION,
                    default_namespace=default_namespace, nodes=nodes, traffic_graph=traffic),
                files=loaded.files, traffic=evidence)
    from asm_mode_advisor.plan import PlanSettings, build_plan
    from asm_mode_advisor.plan.write import PlanWriteError, write_plan

    settings = PlanSettings(namespaces=tuple(namespaces),
                            waypoint_per_service=waypoint_per_service,
                            allow_direct=tuple(allow_direct or ()),
                            sidecar_cpu=sidecar_cpu, sidecar_memory=sidecar_memory, nodes=nodes)
    plan = build_plan(analysis, settings, cluster_nodes)
    for error in plan.errors:
        where = f"{error.file or '<input>'}{f':{error.line}' if error.line else ''}"
        err(f"{where}: {error.message}")
    missing = sorted(set(namespaces) - set(analysis.inventory.namespaces))
    for name in missing:
        err(f"error: namespace {name!r} is not in the input")
    empty = empty_problem(analysis.report, "the cluster" if cluster else
                          describe_inputs(paths or []), Config())
    if empty is not None:
        err(f"note: {empty} (--allow-empty)" if allow_empty else f"error: {empty}")
    failed = bool(plan.errors or missing or (empty and not allow_empty))
    if out is not None:
        try:
            written = write_plan(plan, out)
        except PlanWriteError as exc:
            err(f"error: {exc}")
            raise typer.Exit(ExitCode.INPUT) from None
        err(f"wrote {len(written)} file(s) to {out}")
    if output is not None or out is None:
        write_out(render_plan(plan, output or PlanFormat.MARKDOWN), nl=False)
    raise typer.Exit(ExitCode.INPUT if failed else ExitCode.OK)


def register(app: typer.Typer) -> None:
    """Add ``plan`` to the app."""
    app.command("plan")(plan_command)
