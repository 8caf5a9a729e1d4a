"""Folders that are sources for a renderer (Helm charts, kustomizations), not manifests.

Their YAML is a template or a patch: parsing it gives syntax errors or objects in the wrong
namespace. Such a folder is skipped with one line saying how to render it first.
"""

from __future__ import annotations

import shlex
from collections.abc import Collection

HELM_MARKERS = ("Chart.yaml",)
KUSTOMIZE_MARKERS = ("kustomization.yaml", "kustomization.yml", "Kustomization")


def render_hint(folder: str, files: Collection[str]) -> str | None:
    """How to render ``folder`` (whose file names are ``files``), or None for plain manifests."""
    # Quoted so that the command can be pasted whatever the folder is called.
    quoted = shlex.quote(folder.rstrip("/") or folder)
    if any(marker in files for marker in HELM_MARKERS):
        return f"a Helm chart; render it first: helm template {quoted} | asm-advisor analyze -"
    if any(marker in files for marker in KUSTOMIZE_MARKERS):
        return (f"a kustomization; render it first: kustomize build {quoted} | "
                "asm-advisor analyze -")
    return None
