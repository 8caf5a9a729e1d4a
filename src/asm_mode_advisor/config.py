"""The ``.asm-advisor.yaml`` config file: rule switches, severities, ignores, run defaults.

The file is found from the working directory upward (the first one wins, up to the
repository root or the filesystem's edge), or named with ``--config``. Flags given on the
command line win over the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic.alias_generators import to_camel

from asm_mode_advisor.domain import ROOT_NAMESPACE, AssumeMode
from asm_mode_advisor.matrix import DEFAULT_MESH_VERSION, parse_version
from asm_mode_advisor.model import Severity
from asm_mode_advisor.rules import get
from asm_mode_advisor.smallfile import CONFIG_LIMIT, FileProblem, read_text

CONFIG_NAME = ".asm-advisor.yaml"
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
        """True for an entry with only ``namespace`` set: read as an ``exclude`` entry.

        Such an entry used to drop the namespace from the report; leaving objects out of the
        analysis is what ``exclude`` does, so it keeps working as one (and is counted so).
        """
        return self.kind == "*" and self.name == "*" and not self.rules


class ExcludeEntry(_Model):
    """Objects left out of the analysis: every given field is a glob, all must match.

    ``path`` matches the file an object was read from (as given on the command line, with
    ``/`` separators; ``*`` also matches ``/``). ``namespace`` matches a namespaced object's
    namespace and a Namespace object's own name.
    """

    path: str | None = None
    namespace: str | None = None
    kind: str | None = None
    name: str | None = None

    def matches(self, file: str | None, kind: str, namespace: str | None, name: str) -> bool:
        """True when the object (``file`` None: from a cluster) is covered by this entry."""
        if self.path is not None and (file is None or not fnmatchcase(file, self.path)):
            return False
        own = name if kind == "Namespace" and namespace is None else namespace
        if self.namespace is not None and (own is None or not fnmatchcase(own, self.namespace)):
            return False
        return ((self.kind is None or fnmatchcase(kind, self.kind))
                and (self.name is None or fnmatchcase(name, self.name)))


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
    exclude: tuple[ExcludeEntry, ...] = ()
    #: Globs of file paths never read (``analyze``), as ``--exclude`` adds on the command line.
    exclude_files: tuple[str, ...] = ()
    path: str | None = Field(default=None, exclude=True)

    @field_validator("mesh_version", mode="before")
    @classmethod
    def _version_text(cls, value: object) -> object:
        return str(value) if isinstance(value, int | float) else value

    @field_validator("mesh_version")
    @classmethod
    def _version_parses(cls, value: str | None) -> str | None:
        # Checked here, not at run time: a bad version is a config error (report printed).
        if value is not None and parse_version(value) is None:
            raise ValueError("not a version like 1.25")
        return value


def discover(start: Path) -> Path | None:
    """The nearest ``.asm-advisor.yaml`` in ``start`` or a parent folder.

    The walk stops at the repository root (the first folder holding ``.git``, searched
    too) and never crosses into another filesystem: a config in a home folder or on ``/``
    must not silently change a repository's gate.
    """
    device = _device(start)
    for folder in (start, *start.parents):
        if device is None or _device(folder) != device:
            return None
        candidate = folder / CONFIG_NAME
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            return None
    return None


def _device(folder: Path) -> int | None:
    """The filesystem a folder is on, or None when it cannot be read."""
    try:
        return folder.stat().st_dev
    except OSError:
        return None


def _problem(error: ValidationError) -> str:
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "(top level)"
    return f"{where}: {first['msg']}"


def parse_config(text: str, name: str) -> Config:
    """Parse config text; any problem raises ConfigError with a one-line message."""
    from asm_mode_advisor.sources.nesting import hard_too_deep  # the manifests' guard

    deep = hard_too_deep(text)
    if deep is not None:  # libyaml recurses in C: too deep a text crashes the interpreter
        raise ConfigError(f"{name}:{deep}: nesting is too deep for a config file")
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{name}{line}: YAML syntax error: "
                          f"{getattr(exc, 'problem', None) or exc}") from None
    except RecursionError:
        raise ConfigError(f"{name}: nesting is too deep for a config file") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise ConfigError(f"{name}: not a usable value: {str(exc).split(';')[0]}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: the config must be a mapping")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{name}: {_problem(exc)}") from None
    empty = [i for i, entry in enumerate(config.exclude) if entry == ExcludeEntry()]
    if empty:
        raise ConfigError(f"{name}: exclude.{empty[0]}: give a path, namespace, kind or name "
                          "(an empty entry would exclude everything)")
    unknown = [key for key in (*config.rules.disable, *config.rules.severity,
                               *(rule for entry in config.ignore for rule in entry.rules))
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
        text = read_text(found, CONFIG_LIMIT)
    except FileProblem as exc:
        raise ConfigError(f"{found}: cannot read config: {exc}") from None
    return parse_config(text, str(found))


@dataclass(frozen=True)
class Settings:
    """What the analysis is asked to do, from flags and config (the library's one input)."""

    mesh_version: str = DEFAULT_MESH_VERSION
    default_namespace: str = "default"
    root_namespace: str = ROOT_NAMESPACE
    assume_mode: AssumeMode = AssumeMode.LABELS
    config: Config = field(default_factory=Config)
    #: ``Kind.group`` of kinds the source could not read (403 in a scan).
    unread: frozenset[str] = frozenset()
    #: Nodes of a scanned cluster (None: ``costs.DEFAULT_NODES``), for the cost estimate.
    nodes: int | None = None
    #: Build the traffic graph from the manifests (``--no-traffic`` turns it off).
    traffic_graph: bool = True


@dataclass(frozen=True)
class RunOptions:
    """One run of ``analyze`` or ``scan``: what to analyse, and the gate on its report.

    Flags first, then the config file, then defaults.
    """

    settings: Settings
    fail_on: FailOn = FailOn.ERROR
    baseline: Path | None = None
    #: The config file could not be used (already reported): the run exits 2.
    config_failed: bool = False


def resolve(config: Config, *, fail_on: FailOn | None = None,
            assume_mode: AssumeMode | None = None, mesh_version: str | None = None,
            baseline: Path | None = None, default_namespace: str = "default",
            root_namespace: str = ROOT_NAMESPACE) -> RunOptions:
    """Merge flags (None: not given) over the config file.

    A baseline path from the config file is relative to the config file's folder.
    """
    config_baseline = None
    if config.baseline is not None:
        folder = Path(config.path).parent if config.path else Path()
        config_baseline = folder / config.baseline
    settings = Settings(
        mesh_version=mesh_version or config.mesh_version or DEFAULT_MESH_VERSION,
        default_namespace=default_namespace, root_namespace=root_namespace,
        assume_mode=assume_mode or config.assume_mode or AssumeMode.LABELS, config=config)
    return RunOptions(settings=settings, fail_on=fail_on or config.fail_on or FailOn.ERROR,
                      baseline=baseline or config_baseline)
