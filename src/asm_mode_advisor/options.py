"""Option aliases shared by ``analyze`` and ``scan`` so both commands read the same."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from asm_mode_advisor.matrix import DEFAULT_MESH_VERSION
from asm_mode_advisor.render import OutputFormat

OutputOption = Annotated[OutputFormat, typer.Option(
    "--output", "-o", help="Report format.", case_sensitive=False)]
OutputFileOption = Annotated[Path | None, typer.Option(
    "--output-file", help="Also write the report (in --output format) to this file; the "
                          "table still goes to the terminal.", dir_okay=False)]
MeshVersionOption = Annotated[str, typer.Option(
    "--mesh-version", help="ASM/Istio version of the mesh (ambient is production-ready "
                           "from 1.25).")]
DefaultNamespaceOption = Annotated[str, typer.Option(
    "--default-namespace", help="Namespace for objects that name none (as kubectl does).")]
RootNamespaceOption = Annotated[str, typer.Option(
    "--root-namespace", help="Istio root namespace (mesh-wide policies live there).")]

DEFAULT_OUTPUT = OutputFormat.TABLE
__all__ = ["DEFAULT_MESH_VERSION", "DEFAULT_OUTPUT"]
