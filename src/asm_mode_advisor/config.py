"""The ``.asm-advisor.yaml`` config file: rule switches, severities, ignores, run defaults.

The file is found from the working directory upward (the first one wins), or named with
``--config``. Flags given on the command line win over the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from asm_mode_advisor.matrix import DEFAULT_MESH_VERSION
from asm_mode_advisor.model import Severity
from asm_mode_advisor.rules import get

CONFIG_NAME = ".asm-advisor.yaml"
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AssumeMode(StrEnum):
    """Which namespaces the conformance rules treat as ambient."""

    LABELS = "labels"  # only namespaces labelled istio.io/dataplane-mode=ambient
    AMBIENT = "ambient"  # every namespace
    RECOMMENDED = "recommended"  # namespaces the advisor recommends ambient for


class FailOn(StrEnum):
    """The lowest severity that fails the gate."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"
    NEVER = "never"


class ConfigError(Exception):
    """A config file that cannot be used; the message is one line with the file name."""


class _Model(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True,
                              extra="forbid")


class IgnoreEntry(_Model):
    """Findings to leave out: every field is a glob (``*`` when absent)."""

    namespace: str = "*"
    kind: str = "*"
    name: str = "*"
    rules: tuple[str, ...] = ()  # ids or names; empty: every rule
    reason: str | None = None

    def matches(self, rule_ids: tuple[str, str], kind: str, namespace: str, name: str) -> bool:
        """True when the entry covers this rule (id or name) on this object."""
        if self.rules and not any(r.upper() == rule_ids[0] or r.lower() == rule_ids[1]
                                  for r in self.rules):
            return False
        return (fnmatchcase(namespace, self.namespace) and fnmatchcase(kind, self.kind)
                and fnmatchcase(name, self.name))

    @property
    def whole_namespace(self) -> bool:
        """True for an entry that drops whole namespaces (only ``namespace`` is set)."""
        return self.kind == "*" and self.name == "*" and not self.rules


class RuleSettings(_Model):
    """Rules to switch off and severities to change (keys are rule ids or names)."""

    disable: tuple[str, ...] = ()
    severity: dict[str, Severity] = Field(default_factory=dict)


class Config(_Model):
    """The whole config file."""

    mesh_version: str | None = None
    fail_on: FailOn | None = None
    assume_mode: AssumeMode | None = None
    baseline: str | None = None
    rules: RuleSettings = Field(default_factory=RuleSettings)
    ignore: tuple[IgnoreEntry, ...] = ()
    path: str | None = Field(default=None, exclude=True)

    @field_validator("mesh_version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) else value


def discover(start: Path) -> Path | None:
    """The nearest ``.asm-advisor.yaml`` in ``start`` or a parent folder."""
    for folder in (start, *start.parents):
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
    return None


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"


def parse_config(text: str, name: str) -> Config:
    """Parse config text; any problem raises ConfigError with a one-line message."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{name}{line}: YAML syntax error: "
                          f"{getattr(exc, 'problem', None) or exc}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: the config must be a mapping")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{name}: {_problem(exc)}") from None
    unknown = [key for key in (*config.rules.disable, *config.rules.severity)
               if not _known_rule(key)]
    if unknown:
        raise ConfigError(f"{name}: unknown rule(s) {', '.join(sorted(unknown))}; see "
                          "'asm-advisor rules'")
    return config.model_copy(update={"path": name})


def _known_rule(key: str) -> bool:
    return get(key) is not None


def load_config(path: Path | None, cwd: Path | None = None) -> Config:
    """The named config, else the discovered one, else defaults."""
    found = path if path is not None else discover((cwd or Path.cwd()).resolve())
    if found is None:
        return Config()
    try:
        text = found.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{found}: cannot read config: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{found}: config is not valid UTF-8") from None
    return parse_config(text, str(found))


@dataclass(frozen=True)
class RunOptions:
    """The gate settings of one run: flags first, then the config file, then defaults."""

    config: Config
    fail_on: FailOn = FailOn.ERROR
    assume_mode: str | None = None
    mesh_version: str = DEFAULT_MESH_VERSION
    baseline: Path | None = None


def resolve(config: Config, *, fail_on: FailOn | None = None,
            assume_mode: AssumeMode | None = None, mesh_version: str | None = None,
            baseline: Path | None = None) -> RunOptions:
    """Merge flags (None: not given) over the config file.

    A baseline path from the config file is relative to the config file's folder.
    """
    config_baseline = None
    if config.baseline is not None:
        folder = Path(config.path).parent if config.path else Path()
        config_baseline = folder / config.baseline
    mode = assume_mode or config.assume_mode
    return RunOptions(
        config=config, fail_on=fail_on or config.fail_on or FailOn.ERROR,
        assume_mode=None if mode in (None, AssumeMode.LABELS) else str(mode),
        mesh_version=mesh_version or config.mesh_version or DEFAULT_MESH_VERSION,
        baseline=baseline or config_baseline)
