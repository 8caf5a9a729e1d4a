"""``asm-advisor analyze PATH...``: verdicts per namespace for manifests on disk or stdin."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

import typer

from asm_mode_advisor.analysis import analyze
from asm_mode_advisor.commands.common import (
    check_mesh_version,
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
    DEFAULT_MESH_VERSION,
    DEFAULT_OUTPUT,
    AllowEmptyOption,
    AssumeModeOption,
    BaselineOption,
    ConfigOption,
    DefaultNamespaceOption,
    FailOnOption,
    MaxFileSizeOption,
    MeshVersionOption,
    NamespacesOption,
    OutputFileOption,
    OutputOption,
    QuietOption,
    ReportOption,
    RootNamespaceOption,
)
from asm_mode_advisor.completeness import describe_inputs
from asm_mode_advisor.domain import ROOT_NAMESPACE
from asm_mode_advisor.gcpause import keep_alive_until_exit, paused
from asm_mode_advisor.model import InputError, Resource
from asm_mode_advisor.report import Report
from asm_mode_advisor.sources.files import load_paths
from asm_mode_advisor.sources.prometheus import DEFAULT_WINDOW
from asm_mode_advisor.sources.reading import DEFAULT_MAX_FILE_MIB, MIB


def analyze_command(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(
        help="Files or folders of YAML/JSON manifests; '-' reads stdin.",
        show_default=False, metavar="PATH...")],
    output: OutputOption = DEFAULT_OUTPUT,
    output_file: OutputFileOption = None,
    report_to: ReportOption = None,
    namespace: NamespacesOption = None,
    exclude: Annotated[list[str] | None, typer.Option(
        "--exclude", metavar="GLOB", show_default=False,
        help="Do not read files whose path (or a folder above it) matches this glob "
             "(repeatable; adds to excludeFiles in the config).")] = None,
    mesh_version: MeshVersionOption = DEFAULT_MESH_VERSION,
    default_namespace: DefaultNamespaceOption = "default",
    root_namespace: RootNamespaceOption = ROOT_NAMESPACE,
    fail_on: FailOnOption = None,
    config: ConfigOption = None,
    baseline: BaselineOption = None,
    assume_mode: AssumeModeOption = None,
    allow_empty: AllowEmptyOption = False,
    quiet: QuietOption = False,
    max_file_size: MaxFileSizeOption = DEFAULT_MAX_FILE_MIB,
    prometheus: PrometheusOption = None,
    prometheus_token_file: PrometheusTokenOption = None,
    metrics_window: MetricsWindowOption = DEFAULT_WINDOW,
    require_metrics: RequireMetricsOption = False,
    traffic: TrafficOption = True,
) -> None:
    """Analyze manifests and print a verdict per namespace."""
    reports = parse_reports(report_to)
    run = gate_options(ctx, config, mesh_version=mesh_version, fail_on=fail_on,
                       assume_mode=assume_mode, baseline=baseline,
                       default_namespace=default_namespace, root_namespace=root_namespace)
    check_mesh_version(run.settings.mesh_version)
    evidence, problem = measure(prometheus, prometheus_token_file, metrics_window,
                                require_metrics)
    with paused():  # what is read and analysed is acyclic: collections would re-walk it all
        loaded = load_paths(paths, default_namespace=default_namespace, slim_bodies=True,
                            max_bytes=max_file_size * MIB,
                            exclude=(*run.settings.config.exclude_files, *(exclude or ())))
        chosen = frozenset(namespace or ())
        resources, missing = _chosen(loaded.resources, chosen, root_namespace)
        result = analyze(resources, [*loaded.errors, *missing, *required_error(problem)],
                         replace(run.settings, traffic_graph=traffic), files=loaded.files,
                         traffic=evidence)
    keep_alive_until_exit()  # rendering no longer re-scans every parsed object
    report = _counted(result.report, chosen, loaded.excluded_files)
    report = require_input(report, describe_inputs(paths), run.settings.config, allow_empty)
    finish(report, run, output, output_file, quiet=quiet, reports=reports)


def _chosen(resources: list[Resource], chosen: frozenset[str],
            root_namespace: str) -> tuple[list[Resource], list[InputError]]:
    """The objects ``-n`` keeps (all when none is chosen), and one error per absent namespace.

    As in ``scan``: the root namespace and cluster-scoped objects stay, because mesh-wide
    policies and Namespace labels still shape the chosen namespaces' verdicts.
    """
    if not chosen:
        return resources, []
    from asm_mode_advisor.sources.cluster import only_namespaces  # no kubernetes import

    present = {r.name for r in resources if r.kind == "Namespace"} | {
        r.namespace for r in resources if r.namespace}
    missing = [InputError(f"namespace {name!r} (--namespace) not found in the input")
               for name in sorted(chosen - present)]
    return only_namespaces(resources, chosen, frozenset({root_namespace})), missing


def _counted(report: Report, chosen: frozenset[str], excluded_files: int) -> Report:
    """The report limited to ``-n`` namespaces, with the files left unread in the summary."""
    if chosen:
        from asm_mode_advisor.commands.scan import keep_namespaces

        report = keep_namespaces(report, chosen)
    if excluded_files:
        summary = report.summary.model_copy(update={"excluded_files": excluded_files})
        report = report.model_copy(update={"summary": summary})
    return report


def register(app: typer.Typer) -> None:
    """Add ``analyze`` to the app."""
    app.command("analyze")(analyze_command)
