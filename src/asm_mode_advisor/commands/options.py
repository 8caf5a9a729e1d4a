"""Option aliases shared by ``analyze`` and ``scan`` so both commands read the same."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from asm_mode_advisor.config import FailOn
from asm_mode_advisor.domain import AssumeMode
from asm_mode_advisor.matrix import DEFAULT_MESH_VERSION
from asm_mode_advisor.names import namespace_option_problem
from asm_mode_advisor.render import OutputFormat

OutputOption = Annotated[OutputFormat, typer.Option(
    "--output", "-o", help="Report format.", case_sensitive=False)]
class ListFormat(StrEnum):
    """Formats of the ``rules``, ``matrix`` and ``diff`` listings."""

    TEXT = "text"
    JSON = "json"


ListFormatOption = Annotated[ListFormat, typer.Option(
    "--output", "-o", help="Listing format: lines of text, or JSON (sorted keys).",
    case_sensitive=False)]
OutputFileOption = Annotated[Path | None, typer.Option(
    "--output-file", help="Also write the report (in --output format) to this file; the "
                          "table still goes to the terminal.", dir_okay=False)]
ReportOption = Annotated[list[str] | None, typer.Option(
    "--report", metavar="FORMAT=PATH", show_default=False,
    help="Also write the report in FORMAT (any --output format) to PATH, whole or not at "
         "all (repeatable: one run writes every format).")]
MeshVersionOption = Annotated[str, typer.Option(
    "--mesh-version", help="ASM/Istio version of the mesh (ambient is production-ready "
                           "from 1.25).")]


def _namespace_value(value: str) -> str:
    """A namespace flag value, or a usage error (exit 2): it becomes a folder and a word."""
    problem = namespace_option_problem(value)
    if problem is not None:
        raise typer.BadParameter(problem)
    return value


def _namespace_values(values: list[str] | None) -> list[str] | None:
    """Every ``--namespace`` value checked like one (exit 2 on the first bad one)."""
    return [_namespace_value(value) for value in values] if values else values


NamespacesOption = Annotated[list[str] | None, typer.Option(
    "--namespace", "-n", metavar="NS", show_default=False, callback=_namespace_values,
    help="Namespace to report on (repeatable; default: all). Mesh-wide objects of the root "
         "namespace still apply.")]
DefaultNamespaceOption = Annotated[str, typer.Option(
    "--default-namespace", help="Namespace for objects that name none (as kubectl does).",
    callback=_namespace_value)]
RootNamespaceOption = Annotated[str, typer.Option(
    "--root-namespace", help="Istio root namespace (mesh-wide policies live there).")]

FailOnOption = Annotated[FailOn | None, typer.Option(
    "--fail-on", help="Exit 1 when a finding at or above this severity remains after "
                      "suppressions and the baseline [default: error].",
    case_sensitive=False, show_default=False)]
ConfigOption = Annotated[Path | None, typer.Option(
    "--config", help="Config file (default: the nearest .asm-advisor.yaml from the working "
                     "directory up to the repository root).", dir_okay=False)]
BaselineOption = Annotated[Path | None, typer.Option(
    "--baseline", help="An earlier JSON report: only findings not in it count toward "
                       "--fail-on.", dir_okay=False)]
AssumeModeOption = Annotated[AssumeMode | None, typer.Option(
    "--assume-mode", help="Conformance checks apply to namespaces labelled ambient (labels), "
                          "to every namespace (ambient), or to those recommended ambient "
                          "(recommended) [default: labels].", case_sensitive=False,
    show_default=False)]
AllowEmptyOption = Annotated[bool, typer.Option(
    "--allow-empty", help="Exit 0 when there is nothing to check (no objects, or every "
                          "namespace ignored) instead of 2.")]
MaxFileSizeOption = Annotated[int, typer.Option(
    "--max-file-size", min=1, metavar="MIB",
    help="Skip, with an input error, any file (or stdin) larger than this many MiB.")]
QuietOption = Annotated[bool, typer.Option(
    "--quiet", "-q", help="Table: print only the overview and the summary (no per-namespace "
                          "reasons); other formats are unchanged.")]

DEFAULT_OUTPUT = OutputFormat.TABLE
__all__ = ["DEFAULT_MESH_VERSION", "DEFAULT_OUTPUT"]
