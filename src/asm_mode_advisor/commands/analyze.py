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
    OutputFileOption,
    OutputOption,
    QuietOption,
    RootNamespaceOption,
)
from asm_mode_advisor.completeness import describe_inputs
from asm_mode_advisor.domain import ROOT_NAMESPACE
from asm_mode_advisor.gcpause import keep_alive_until_exit, paused
from asm_mode_advisor.sources.files import load_paths
from asm_mode_advisor.sources.prometheus import DEFAULT_WINDOW
from asm_mode_advisor.sources.reading import DEFAULT_MAX_FILE_MIB, MIB


def analyze_command(
    ctx: typer.Context,
    paths: Annotated[list[str], typer.Argument(
        help="Files or folders of YAML/JSON manifests; '-' reads stdin.",
        show_default=False)],
    output: OutputOption = DEFAULT_OUTPUT,
    output_file: OutputFileOption = None,
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
    run = gate_options(ctx, config, mesh_version=mesh_version, fail_on=fail_on,
                       assume_mode=assume_mode, baseline=baseline,
                       default_namespace=default_namespace, root_namespace=root_namespace)
    check_mesh_version(run.settings.mesh_version)
    evidence, problem = measure(prometheus, prometheus_token_file, metrics_window,
                                require_metrics)
    with paused():  # what is read and analysed is acyclic: collections would re-walk it all
        loaded = load_paths(paths, default_namespace=default_namespace, slim_bodies=True,
                            max_bytes=max_file_size * MIB)
        result = analyze(loaded.resources, [*loaded.errors, *required_error(problem)],
                         replace(run.settings, traffic_graph=traffic), files=loaded.files,
                         traffic=evidence)
    keep_alive_until_exit()  # rendering no longer re-scans every parsed object
    report = require_input(result.report, describe_inputs(paths), run.settings.config,
                           allow_empty)
    finish(report, run, output, output_file, quiet=quiet)


def register(app: typer.Typer) -> None:
    """Add ``analyze`` to the app."""
    app.command("analyze")(analyze_command)
