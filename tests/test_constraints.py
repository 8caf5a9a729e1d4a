"""The test command's pins: every dependency named in pyproject.toml has one exact version."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*")


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pinned() -> dict[str, str]:
    pins: dict[str, str] = {}
    for line in (REPO / "scripts" / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, _, version = line.partition("==")
            assert version, f"not an exact pin: {line!r}"
            pins[_normal(name)] = version
    return pins


def declared() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = [*project["dependencies"],
                    *(r for extra in project["optional-dependencies"].values() for r in extra)]
    names = []
    for requirement in requirements:
        match = NAME.match(requirement)
        assert match is not None, requirement
        names.append(_normal(match.group()))
    return names


def test_every_declared_dependency_is_pinned_exactly() -> None:
    pins = pinned()
    missing = [name for name in declared() if name not in pins]
    assert missing == []
    assert {"ruff", "mypy", "pytest", "pyyaml", "pydantic", "typer", "rich",
            "kubernetes"} <= set(pins)


def test_the_pins_meet_the_declared_lower_bounds() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pins = pinned()
    for requirement in [*project["dependencies"], *project["optional-dependencies"]["test"]]:
        match = re.fullmatch(r"([A-Za-z0-9._-]+)>=([0-9.]+)", requirement)
        assert match is not None, f"{requirement!r}: declare a plain lower bound"
        bound = tuple(int(p) for p in match.group(2).split("."))
        version = tuple(int(p) for p in re.findall(r"\d+", pins[_normal(match.group(1))])[:3])
        assert version >= bound, requirement


def test_the_test_command_installs_with_the_pins_unless_asked_for_the_newest() -> None:
    script = (REPO / "scripts" / "test.sh").read_text(encoding="utf-8")
    assert "-c scripts/constraints.txt" in script
    assert "--latest" in script and "--no-cluster" in script
    assert "bash scripts/test.sh" in (REPO / ".ci" / "run").read_text(encoding="utf-8")
