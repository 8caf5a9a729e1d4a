"""``asm-advisor plan``: write a sidecar-to-ambient migration plan (YAML files + PLAN.md).

With ``--from-cluster`` the cluster source is imported only when the command runs.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from asm_mode_advisor.analysis import Analysis, Settings, analyze
from asm_mode_advisor.console import EXIT_INPUT, check_mesh_version, err
from asm_mode_advisor.matrix import DEFAULT_MESH_VERSION
from asm_mode_advisor.options import DefaultNamespaceOption
from asm_mode_advisor.plan import PlanSettings, build_plan
from asm_mode_advisor.plan.estimates import parse_cpu, parse_memory
from asm_mode_advisor.plan.markdown import render_markdown
from asm_mode_advisor.plan.model import Plan
from asm_mode_advisor.plan.write import PlanWriteError, write_plan
from asm_mode_advisor.sources.files import load_paths

EXIT_OK = 0


class PlanFormat(StrEnum):
    """Formats of ``plan --output``."""

    MARKDOWN = "markdown"
    JSON = "json"


def render_plan(plan: Plan, output: PlanFormat) -> str:
    """The plan as PLAN.md text or JSON."""
    return plan.to_json() if output is PlanFormat.JSON else render_markdown(plan)


def from_cluster(namespaces: list[str], mesh_version: str | None) -> tuple[Analysis, int | None]:
    """Read the live cluster (read-only) and run the shared pipeline on it."""
    from asm_mode_advisor.live import detected_mesh_version, resolve_mesh_version
    from asm_mode_advisor.sources.cluster import (
        ClusterOptions,
        Reader,
        connect,
        only_namespaces,
        read_cluster,
    )

    snapshot = read_cluster(Reader(connect(ClusterOptions())))
    resources = snapshot.resources
    if namespaces:
        resources = only_namespaces(resources, frozenset(namespaces), frozenset())
    version, _ = resolve_mesh_version(mesh_version, detected_mesh_version(snapshot.resources),
                                      DEFAULT_MESH_VERSION)
    analysis = analyze(resources, [], Settings(mesh_version=version), source="cluster")
    return analysis, snapshot.node_count


def _check_quantities(cpu: str, memory: str) -> None:
    if parse_cpu(cpu) is None:
        err(f"error: --sidecar-cpu {cpu!r} is not a CPU quantity like 100m or 0.5")
        raise typer.Exit(EXIT_INPUT)
    if parse_memory(memory) is None:
        err(f"error: --sidecar-memory {memory!r} is not a memory quantity like 128Mi")
        raise typer.Exit(EXIT_INPUT)


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
        "--from-cluster", help="Read the current kubeconfig context instead of files.")
    ] = False,
) -> None:
    """Write a ready-to-apply migration plan with cost and latency estimates."""
    if mesh_version is not None:
        check_mesh_version(mesh_version)
    _check_quantities(sidecar_cpu, sidecar_memory)
    if bool(paths) == cluster:
        err("error: give manifest PATHS or --from-cluster (one of them)")
        raise typer.Exit(EXIT_INPUT)
    namespaces = namespace or []
    cluster_nodes = None
    if cluster:
        from asm_mode_advisor.sources.cluster import ClusterError

        try:
            analysis, cluster_nodes = from_cluster(namespaces, mesh_version)
        except ClusterError as exc:
            err(f"error: {exc}")
            raise typer.Exit(EXIT_INPUT) from None
    else:
        loaded = load_paths(paths or [], default_namespace=default_namespace)
        analysis = analyze(loaded.resources, loaded.errors, Settings(
            mesh_version=mesh_version or DEFAULT_MESH_VERSION,
            default_namespace=default_namespace), files=loaded.files)
    settings = PlanSettings(namespaces=tuple(namespaces),
                            waypoint_per_service=waypoint_per_service,
                            sidecar_cpu=sidecar_cpu, sidecar_memory=sidecar_memory, nodes=nodes)
    plan = build_plan(analysis, settings, cluster_nodes)
    for error in plan.errors:
        where = f"{error.file or '<input>'}{f':{error.line}' if error.line else ''}"
        err(f"{where}: {error.message}")
    missing = sorted(set(namespaces) - set(analysis.inventory.namespaces))
    for name in missing:
        err(f"error: namespace {name!r} is not in the input")
    if out is not None:
        try:
            written = write_plan(plan, out)
        except PlanWriteError as exc:
            err(f"error: {exc}")
            raise typer.Exit(EXIT_INPUT) from None
        err(f"wrote {len(written)} file(s) to {out}")
    if output is not None or out is None:
        typer.echo(render_plan(plan, output or PlanFormat.MARKDOWN), nl=False)
    raise typer.Exit(EXIT_INPUT if plan.errors or missing else EXIT_OK)


def register(app: typer.Typer) -> None:
    """Add ``plan`` to the app."""
    app.command("plan")(plan_command)
