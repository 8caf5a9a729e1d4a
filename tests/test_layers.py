"""Layers point one way: no module imports a layer above its own.

Data flows sources -> inventory -> rules -> verdict -> report -> render, with the policy beside
the report (config, suppress, gate), the pipeline that runs them all, and the commands on top.
The report *model* (``report.py``, plain values) is what the verdict fills in, so in imports it
sits below the verdict; a renderer may import only the report and the base. Shared domain
facts (``domain``, ``model``, ``kinds``, ...) are the base every layer may import. Every import
is read from the source with ``ast``, including imports inside functions.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = "asm_mode_advisor"
SRC = Path(__file__).resolve().parents[1] / "src" / PACKAGE

#: Layers from the bottom up; a module may import its own layer and those below it.
LAYERS = ("base", "sources", "inventory", "rules", "report", "verdict", "policy", "render",
          "pipeline", "commands")

#: Where each module (or package, by prefix) sits. A new module must be placed here.
PLACES = {
    "": "base",  # the package itself: __version__
    "domain": "base", "model": "base", "text": "base", "jsonstream": "base",
    "matrix": "base", "names": "base", "redact": "base", "smallfile": "base",
    "exit_codes": "base", "gcpause": "base", "needs": "base", "kinds": "base",
    "views": "base", "fields": "base", "enforcement": "base",
    "sources": "sources", "slim": "sources", "sharing": "sources",
    "inventory": "inventory", "costs": "inventory",
    "traffic": "base", "traffic.manifests": "inventory", "traffic.section": "verdict",
    "rules": "rules", "locate": "rules", "rules_doc": "rules",
    "verdict": "verdict",
    "report": "report",
    "config": "policy", "suppress": "policy", "gate": "policy", "completeness": "policy",
    "render": "render",
    "analysis": "pipeline", "pipeline": "pipeline", "live": "pipeline", "plan": "pipeline",
    "cli": "commands", "commands": "commands", "__main__": "commands",
}

#: Layers whose modules may import only these (plus their own): stricter than "below".
ONLY = {
    "render": {"base", "report"},  # a renderer reads the report and the values handed to it
    "sources": {"base"},  # reading objects knows nothing of the inventory or the rules
}

#: Known exceptions, each with its reason; keep this short.
EXCEPTIONS = {
    # Slimming keeps what the registered rules declare they read: it looks the registry up
    # on use (a function-level import) rather than being handed it by the pipeline.
    ("slim", "rules"): "the rules' declared reads",
}

#: Rule modules: the verdict and the sources must not reach into them (``rules`` itself,
#: the package with ``Finding`` and the catalog, is what the verdict may use).
RULE_MODULES = frozenset(f"rules.{p.stem}" for p in (SRC / "rules").glob("*.py")
                         if not p.stem.startswith("_") and p.stem != "__init__")


def module_name(path: Path) -> str:
    """``rules.routing`` for ``src/asm_mode_advisor/rules/routing.py``; ``""`` for the package."""
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def place(name: str) -> str:
    """The layer of a module: the longest matching prefix in ``PLACES``."""
    parts = name.split(".") if name else []
    for end in range(len(parts), -1, -1):
        prefix = ".".join(parts[:end])
        if prefix in PLACES:
            return PLACES[prefix]
    raise KeyError(name)


def imported(path: Path, name: str) -> set[str]:
    """Package modules ``path`` imports (absolute or relative), without the package prefix."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name.split(".") if path.name == "__init__.py" and name else name.split(".")[:-1]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join([PACKAGE, *base, *(node.module or "").split(".")]).strip(".")
            else:
                module = node.module or ""
            # ``from pkg import mod`` imports a module when ``mod`` is one.
            targets = [module, *(f"{module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for target in targets:
            if target == PACKAGE or target.startswith(f"{PACKAGE}."):
                inner = target[len(PACKAGE) + 1:]
                if not inner or _exists(inner):
                    found.add(inner)
    return found


def _exists(name: str) -> bool:
    relative = Path(*name.split("."))
    return (SRC / relative).with_suffix(".py").exists() or (SRC / relative).is_dir()


def modules() -> list[tuple[str, Path]]:
    return sorted((module_name(path), path) for path in SRC.rglob("*.py"))


def problems(name: str, targets: set[str]) -> list[str]:
    """Why each import of module ``name`` breaks the layering (empty: none)."""
    own = place(name)
    rank = LAYERS.index(own)
    found = []
    for target in sorted(targets):
        layer = place(target)
        if layer == own or (name, target) in EXCEPTIONS:
            continue
        allowed = ONLY.get(own)
        if (allowed is not None and layer not in allowed) or LAYERS.index(layer) > rank:
            found.append(f"{name or PACKAGE} ({own}) imports {target} ({layer})")
        elif own == "verdict" and target in RULE_MODULES:
            found.append(f"{name} (verdict) imports the rule module {target}")
    return found


@pytest.mark.parametrize(("name", "path"), modules(), ids=lambda v: str(v))
def test_module_imports_no_layer_above_its_own(name: str, path: Path) -> None:
    assert problems(name, imported(path, name)) == []


def test_every_module_has_a_layer() -> None:
    unplaced = []
    for name, _ in modules():
        try:
            place(name)
        except KeyError:
            unplaced.append(name)
    assert unplaced == []


@pytest.mark.parametrize(("name", "target"), [
    ("render.sarif", "gate"), ("render.table", "config"), ("render.github", "suppress"),
    ("render.sarif", "rules"), ("render.markdown", "inventory"), ("render.json_yaml", "sources"),
    ("sources.cluster", "inventory"), ("sources.files", "rules"),
    ("verdict", "rules.workloads"), ("rules.routing", "verdict"), ("inventory", "verdict"),
    ("report", "verdict"), ("domain", "inventory"),
])
def test_a_wrong_way_import_is_caught(name: str, target: str) -> None:
    assert problems(name, {target})


@pytest.mark.parametrize(("name", "target"), [
    ("render.github", "render.common"), ("render.sarif", "report"), ("sources.cluster", "domain"),
    ("verdict", "rules"), ("verdict", "report"), ("plan.enrol", "domain"), ("live", "domain"),
    ("commands.scan", "gate"),
])
def test_a_downward_import_is_allowed(name: str, target: str) -> None:
    assert problems(name, {target}) == []


def _literal_exit(node: ast.AST) -> bool:
    """``sys.exit(2)``, ``typer.Exit(2)`` or ``raise SystemExit(2)``: a code not from the table."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    func = node.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    first = node.args[0]
    return called in ("exit", "Exit", "SystemExit") and isinstance(first, ast.Constant) and (
        isinstance(first.value, int))


def test_exit_codes_come_from_one_table() -> None:
    found = []
    for name, path in modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if _literal_exit(node):
                found.append(f"{name}:{node.lineno}: literal exit code")
            targets = node.targets if isinstance(node, ast.Assign) else []
            found += [f"{name}:{node.lineno}: {t.id}" for t in targets
                      if isinstance(t, ast.Name) and t.id.startswith("EXIT_")]
    assert found == []  # use exit_codes.ExitCode
