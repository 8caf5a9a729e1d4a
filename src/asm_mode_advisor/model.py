"""Frozen value types shared by every layer: where an object came from, and the object itself."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Mode(StrEnum):
    """A data-plane mode: what a namespace runs today or is advised to run."""

    SIDECAR = "sidecar"
    AMBIENT = "ambient"
    AMBIENT_WAYPOINT = "ambient-waypoint"
    NONE = "none"
    CONFLICT = "conflict"
    #: No mode advice: a system or control-plane namespace, or one with nothing to move.
    NOT_APPLICABLE = "not-applicable"


#: Recommendations that move a namespace off sidecars (and share ztunnel).
MOVING = frozenset({Mode.AMBIENT, Mode.AMBIENT_WAYPOINT})


class Effect(StrEnum):
    """What a finding does to the recommendation, strongest first."""

    BLOCKS_AMBIENT = "blocks-ambient"
    NEEDS_WAYPOINT = "needs-waypoint"
    FAVOURS_AMBIENT = "favours-ambient"
    MIGRATION_CHORE = "migration-chore"
    INFO = "info"

    @property
    def weight(self) -> int:
        """Sort key: lower is stronger."""
        return list(Effect).index(self)


class Severity(StrEnum):
    """Finding level, as used by ``--fail-on`` and SARIF."""

    ERROR = "error"
    WARNING = "warning"
    NOTE = "note"

    @property
    def rank(self) -> int:
        """Higher is more severe."""
        return {"note": 1, "warning": 2, "error": 3}[self.value]


@dataclass(frozen=True, slots=True)
class SourceRef:
    """Where an object came from: a file and the line its document starts on, or the cluster."""

    file: str | None = None
    line: int | None = None
    cluster: bool = False

    def __str__(self) -> str:
        if self.cluster:
            return "cluster"
        if self.file is None:
            return "?"
        return f"{self.file}:{self.line}" if self.line else self.file


CLUSTER = SourceRef(cluster=True)


@dataclass(frozen=True, slots=True)
class Resource:
    """One Kubernetes or Istio object: identity fields plus the raw body, kept thin on purpose."""

    kind: str
    api_version: str
    name: str
    namespace: str | None
    labels: dict[str, str]
    annotations: dict[str, str]
    body: dict[str, Any] = field(repr=False, compare=False, hash=False)
    #: Where it was read: a file and the line its document starts on; None for the cluster.
    #: Two plain fields rather than a SourceRef, which would cost 64 bytes per object.
    file: str | None = field(default=None, compare=False, hash=False)
    line: int | None = field(default=None, compare=False, hash=False)
    #: A slimmed workload's peer addresses (``traffic/addresses.py``), taken out of its
    #: containers' env, args and command so that the pod template stays shareable.
    addresses: str | None = field(default=None, compare=False, hash=False)

    @property
    def source(self) -> SourceRef:
        """Where it came from, as one value."""
        return CLUSTER if self.file is None else SourceRef(file=self.file, line=self.line)

    @property
    def group(self) -> str:
        """API group (``""`` for the core group)."""
        return self.api_version.rpartition("/")[0]

    @property
    def spec(self) -> dict[str, Any]:
        """The ``spec`` mapping, or an empty one when it is missing or not a mapping."""
        spec = self.body.get("spec")
        return spec if isinstance(spec, dict) else {}

    @property
    def ref(self) -> str:
        """``Kind/namespace/name`` for messages."""
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else (
            f"{self.kind}/{self.name}"
        )


#: How errors and objects read from standard input name their "file".
STDIN_NAME = "<stdin>"


@dataclass(frozen=True, slots=True)
class InputError:
    """A problem with the input: reported, listed in the report, and the run goes on."""

    message: str
    file: str | None = None
    line: int | None = None

    def __str__(self) -> str:
        where = self.file or "<input>"
        if self.line:
            where = f"{where}:{self.line}"
        return f"{where}: {self.message}"


def as_dict(value: object) -> dict[str, Any]:
    """``value`` if it is a mapping, else an empty mapping (rules read bodies defensively)."""
    return value if isinstance(value, dict) else {}


def as_list(value: object) -> list[Any]:
    """``value`` if it is a list, else an empty list."""
    return value if isinstance(value, list) else []


def dicts(value: object) -> list[dict[str, Any]]:
    """The mapping items of a list (other items are skipped)."""
    return [item for item in as_list(value) if isinstance(item, dict)]


def as_str(value: object) -> str:
    """``value`` if it is a string, else ``""``."""
    return value if isinstance(value, str) else ""


def is_str_map(value: dict[Any, Any]) -> bool:
    """True when every key and value is a string (the mapping can be kept as it is)."""
    return all(type(k) is str and type(v) is str for k, v in value.items())


def str_map(value: object) -> dict[str, str]:
    """A string-to-string mapping (labels, selectors); non-string values are stringified.

    A mapping that already holds only strings is returned as it is (read it, never change
    it), and a missing one is a new empty mapping.
    """
    if not isinstance(value, dict):
        return {}
    if is_str_map(value):
        return value
    return {str(k): v if isinstance(v, str) else str(v) for k, v in value.items()}


def as_int(value: object) -> int | None:
    """``value`` if it is an int (not a bool), or a string of digits; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def as_bool(value: object) -> bool:
    """True for ``true`` or the string ``"true"`` (any case)."""
    return value is True or (isinstance(value, str) and value.lower() == "true")
