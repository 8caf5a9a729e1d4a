"""Write a plan to a directory: numbered YAML files per namespace plus PLAN.md and PLAN.html.

Nothing is ever written or deleted outside ``--out``. Every path is built from validated
names in a fixed layout (``<namespace>/[cleanup/|rollback/]NN-name.yaml``), its real path must
stay inside the directory, and no symbolic link below it is ever followed: each folder and
file is checked with ``lstat`` and opened relative to its parent's descriptor with
``O_NOFOLLOW``, so a link swapped in between the check and the open fails too. A link found
anywhere the plan reads or writes stops the run before anything is changed.
"""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from asm_mode_advisor.names import is_namespace
from asm_mode_advisor.plan.html import render_html
from asm_mode_advisor.plan.markdown import render_markdown
from asm_mode_advisor.plan.model import Manifest, Plan

PLAN_FILE = "PLAN.md"
HTML_FILE = "PLAN.html"
SUBFOLDERS = ("cleanup", "rollback")
_GENERATED = re.compile(r"^[0-9]{2}-[a-z0-9-]+\.yaml$")
_VERBS = {"apply": "kubectl apply -f", "delete": "kubectl delete -f",
          "rollback": "kubectl apply -f"}
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_DIRECTORY = getattr(os, "O_DIRECTORY", 0)
_DIR_FLAGS = os.O_RDONLY | _DIRECTORY | _NOFOLLOW
_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | _NOFOLLOW


class PlanWriteError(Exception):
    """The output directory cannot take the plan (message is one line)."""


def manifest_text(manifest: Manifest) -> str:
    """A multi-document YAML file with a header that says when and how to use it."""
    header = (f"# asm-advisor plan, step {manifest.step} ({manifest.action}): "
              f"{_VERBS[manifest.action]} {manifest.path}\n")
    body = yaml.safe_dump_all(manifest.objects, sort_keys=False, default_flow_style=False,
                              allow_unicode=True, explicit_start=True, width=100)
    return header + body


def plan_parts(path: str) -> tuple[str, ...]:
    """The parts of a plan file's relative path, or PlanWriteError unless it fits the layout."""
    parts = tuple(path.split("/"))
    fits = (len(parts) in (2, 3) and is_namespace(parts[0])
            and (len(parts) == 2 or parts[1] in SUBFOLDERS)
            and _GENERATED.match(parts[-1]) is not None)
    if not fits:
        raise PlanWriteError(f"{path!r}: not a plan file path (<namespace>/[cleanup/|rollback/]"
                             "NN-name.yaml); refusing to write it")
    return parts


def _refuse_link(shown: Path, mode: int) -> None:
    if stat.S_ISLNK(mode):
        raise PlanWriteError(f"{shown}: is a symbolic link; refusing to follow it (remove it "
                             "or choose another --out)")


def _lstat(name: str, parent: int) -> os.stat_result | None:
    try:
        return os.lstat(name, dir_fd=parent)
    except FileNotFoundError:
        return None


@contextmanager
def _folder(parent: int, name: str, shown: Path, create: bool) -> Iterator[int | None]:
    """A descriptor of the real folder ``name`` under ``parent`` (None: absent, not created)."""
    found = _lstat(name, parent)
    if found is None:
        if not create:
            yield None
            return
        os.mkdir(name, 0o777, dir_fd=parent)  # the umask decides, as before
    else:
        _refuse_link(shown, found.st_mode)
        if not stat.S_ISDIR(found.st_mode):
            raise PlanWriteError(f"{shown}: exists and is not a directory")
    fd = os.open(name, _DIR_FLAGS, dir_fd=parent)
    try:
        yield fd
    finally:
        os.close(fd)


def _write_file(parent: int, name: str, shown: Path, text: str) -> None:
    found = _lstat(name, parent)
    if found is not None:
        _refuse_link(shown, found.st_mode)
        if not stat.S_ISREG(found.st_mode):
            raise PlanWriteError(f"{shown}: exists and is not a regular file")
    fd = os.open(name, _FILE_FLAGS, 0o666, dir_fd=parent)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _stale(folder: int, shown: Path) -> list[str]:
    """Files an earlier plan wrote in one folder; refuse if any entry there is a link."""
    names = []
    for entry in sorted(os.listdir(folder)):
        mode = os.lstat(entry, dir_fd=folder).st_mode
        _refuse_link(shown / entry, mode)
        if stat.S_ISREG(mode) and _GENERATED.match(entry):
            names.append(entry)
    return names


def _clear_folder(parent: int, name: str, shown: Path, dry_run: bool) -> None:
    """Check (``dry_run``) or remove one namespace folder's generated files, bottom up."""
    with _folder(parent, name, shown, create=False) as fd:
        if fd is None:
            return
        for sub in SUBFOLDERS:
            found = _lstat(sub, fd)
            if found is not None and stat.S_ISDIR(found.st_mode):
                _clear_folder(fd, sub, shown / sub, dry_run)
        for stale in _stale(fd, shown):
            if not dry_run:
                os.unlink(stale, dir_fd=fd)
        empty = not os.listdir(fd)
    if not dry_run and empty:
        os.rmdir(name, dir_fd=parent)


def _clear_previous(root: int, out: Path) -> None:
    """Remove what an earlier plan wrote here; refuse a folder that holds others, or links.

    Everything is checked first, so a refusal leaves the directory exactly as it was.
    """
    entries = sorted(os.listdir(root))
    plan_file = _lstat(PLAN_FILE, root)
    if plan_file is not None:
        _refuse_link(out / PLAN_FILE, plan_file.st_mode)
    if entries and (plan_file is None or not stat.S_ISREG(plan_file.st_mode)):
        raise PlanWriteError(f"{out}: not empty and holds no {PLAN_FILE}; choose another --out")
    folders = []
    for entry in entries:
        mode = os.lstat(entry, dir_fd=root).st_mode
        _refuse_link(out / entry, mode)
        if stat.S_ISDIR(mode):
            folders.append(entry)
    for dry_run in (True, False):
        for folder in folders:
            _clear_folder(root, folder, out / folder, dry_run)
    if plan_file is not None:
        os.unlink(PLAN_FILE, dir_fd=root)


def _inside(out: Path, relative: str) -> None:
    """Refuse a path whose real location is not below ``out`` (defence in depth)."""
    base = os.path.realpath(out)
    target = os.path.realpath(os.path.join(base, relative))
    if os.path.commonpath([base, target]) != base or target == base:
        raise PlanWriteError(f"{out / relative}: resolves outside {out}; refusing to write it")


def _write_manifest(root: int, out: Path, manifest: Manifest) -> Path:
    parts = plan_parts(manifest.path)
    _inside(out, manifest.path)
    with _folder(root, parts[0], out / parts[0], create=True) as fd:
        assert fd is not None
        if len(parts) == 2:
            _write_file(fd, parts[1], out / manifest.path, manifest_text(manifest))
        else:
            with _folder(fd, parts[1], out / parts[0] / parts[1], create=True) as sub:
                assert sub is not None
                _write_file(sub, parts[2], out / manifest.path, manifest_text(manifest))
    return out / manifest.path


def _open_out(out: Path) -> int:
    """A descriptor of ``out`` (created when missing); ``out`` itself is the user's choice."""
    if not _NOFOLLOW or not {os.open, os.stat, os.mkdir, os.unlink, os.rmdir} <= (
            os.supports_dir_fd):
        raise PlanWriteError("--out needs a system with openat() and O_NOFOLLOW (Linux, "
                             "macOS); print the plan with --output instead")
    if out.exists() and not out.is_dir():
        raise PlanWriteError(f"{out}: exists and is not a directory")
    out.mkdir(parents=True, exist_ok=True)
    return os.open(out, os.O_RDONLY | _DIRECTORY)


def write_plan(plan: Plan, out: Path) -> list[Path]:
    """Write every manifest, PLAN.md and PLAN.html under ``out``; return the paths, sorted."""
    for namespace in plan.namespaces:  # refuse a bad path before touching anything
        for manifest in namespace.files:
            plan_parts(manifest.path)
    try:
        root = _open_out(out)
        try:
            _clear_previous(root, out)
            written = [_write_manifest(root, out, manifest)
                       for namespace in plan.namespaces for manifest in namespace.files]
            _write_file(root, PLAN_FILE, out / PLAN_FILE, render_markdown(plan))
            _write_file(root, HTML_FILE, out / HTML_FILE, render_html(plan))
        finally:
            os.close(root)
    except OSError as exc:
        raise PlanWriteError(f"{exc.filename or out}: {exc.strerror or exc}") from None
    return sorted([*written, out / PLAN_FILE, out / HTML_FILE])
