"""Write a plan to a directory: numbered YAML files per namespace plus PLAN.md."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from asm_mode_advisor.plan.markdown import render_markdown
from asm_mode_advisor.plan.model import Manifest, Plan

PLAN_FILE = "PLAN.md"
_GENERATED = re.compile(r"^[0-9]{2}-[a-z0-9-]+\.yaml$")
_VERBS = {"apply": "kubectl apply -f", "delete": "kubectl delete -f",
          "rollback": "kubectl apply -f"}


class PlanWriteError(Exception):
    """The output directory cannot take the plan (message is one line)."""


def manifest_text(manifest: Manifest) -> str:
    """A multi-document YAML file with a header that says when and how to use it."""
    header = (f"# asm-advisor plan, step {manifest.step} ({manifest.action}): "
              f"{_VERBS[manifest.action]} {manifest.path}\n")
    body = yaml.safe_dump_all(manifest.objects, sort_keys=False, default_flow_style=False,
                              allow_unicode=True, explicit_start=True, width=100)
    return header + body


def _clear_previous(out: Path) -> None:
    """Remove the files an earlier plan wrote here; refuse a directory that holds others."""
    if not out.exists():
        return
    if not out.is_dir():
        raise PlanWriteError(f"{out}: exists and is not a directory")
    if any(out.iterdir()) and not (out / PLAN_FILE).is_file():
        raise PlanWriteError(f"{out}: not empty and holds no {PLAN_FILE}; choose another --out")
    (out / PLAN_FILE).unlink(missing_ok=True)
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        for sub in (folder / "cleanup", folder / "rollback", folder):
            if sub.is_dir():
                for path in sorted(sub.iterdir()):
                    if path.is_file() and _GENERATED.match(path.name):
                        path.unlink()
                if not any(sub.iterdir()):
                    sub.rmdir()


def write_plan(plan: Plan, out: Path) -> list[Path]:
    """Write every manifest and PLAN.md under ``out``; return the paths written, sorted."""
    try:
        _clear_previous(out)
        written = []
        for namespace in plan.namespaces:
            for manifest in namespace.files:
                path = out / manifest.path
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(manifest_text(manifest), encoding="utf-8")
                written.append(path)
        out.mkdir(parents=True, exist_ok=True)
        (out / PLAN_FILE).write_text(render_markdown(plan), encoding="utf-8")
    except OSError as exc:
        raise PlanWriteError(f"{exc.filename or out}: {exc.strerror or exc}") from None
    return sorted([*written, out / PLAN_FILE])
