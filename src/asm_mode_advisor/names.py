"""Kubernetes name rules, checked on every object before anything uses its names.

Names reach file paths (``plan --out``) and shell commands (PLAN.md), so an object whose name
the API server would refuse is an input error at load time, from files or from a cluster (a
hostile server need not enforce its own rules). The rules follow apimachinery's validation:
namespaces are DNS-1123 labels, Services DNS-1035 labels, RBAC objects path-segment names,
and everything else (custom resources included) DNS-1123 subdomains.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from asm_mode_advisor.model import Resource

_PART = r"[a-z0-9](?:[-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL = re.compile(_PART)
# Object names (not namespaces) may hold upper case: the API server refuses it, but Istio's
# and Gateway API's own test data use it (``statusPort``) and ``istioctl analyze`` reads them;
# upper case cannot reach a path (only namespaces do) and commands quote every name.
DNS1123_SUBDOMAIN = re.compile(rf"{_PART}(?:\.{_PART})*", re.IGNORECASE)
DNS1035_LABEL = re.compile(r"[a-z](?:[-a-z0-9]*[a-z0-9])?", re.IGNORECASE)
LABEL_MAX = 63
SUBDOMAIN_MAX = 253


@dataclass(frozen=True)
class Rule:
    """A name rule: what it accepts, and how messages describe it."""

    pattern: re.Pattern[str] | None  # None: a path segment
    max_length: int
    text: str

    def accepts(self, name: str, generated: bool = False) -> bool:
        """True when ``name`` follows the rule; ``generated``: a ``generateName`` prefix.

        As the API server does, a prefix may end with '-' (a random suffix follows it).
        """
        if self.pattern is None:
            return bool(name) and name not in (".", "..") and "/" not in name and (
                "%" not in name)
        if generated and len(name) > 1 and name.endswith("-"):
            name = name[:-1] + "a"
        return len(name) <= self.max_length and self.pattern.fullmatch(name) is not None


LABEL = Rule(DNS1123_LABEL, LABEL_MAX, "must be a DNS-1123 label (lowercase letters, digits "
             f"and '-', starting and ending with a letter or digit, at most {LABEL_MAX} "
             "characters)")
SUBDOMAIN = Rule(DNS1123_SUBDOMAIN, SUBDOMAIN_MAX, "must be a DNS-1123 subdomain (lowercase "
                 "letters, digits, '-' and '.', each part starting and ending with a letter or "
                 f"digit, at most {SUBDOMAIN_MAX} characters)")
DNS1035 = Rule(DNS1035_LABEL, LABEL_MAX, "must be a DNS-1035 label (lowercase letters, digits "
               "and '-', starting with a letter and ending with a letter or digit, at most "
               f"{LABEL_MAX} characters)")
PATH_SEGMENT = Rule(None, 0, "may not be empty, '.' or '..', nor contain '/' or '%'")

RBAC_GROUP = "rbac.authorization.k8s.io"
#: Kinds whose names follow another rule than DNS-1123 subdomains, by ``(kind, group)``.
KIND_RULES = {
    **{(kind, RBAC_GROUP): PATH_SEGMENT for kind in (
        "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")},
    ("Service", ""): DNS1035,
    ("Namespace", ""): LABEL,
}


def shown(value: str) -> str:
    """``value`` quoted for a one-line message, control and invisible characters escaped."""
    return repr(value)


@lru_cache(maxsize=4096)  # a corpus has few namespaces and thousands of objects in them
def is_namespace(value: str) -> bool:
    """True when ``value`` is a valid namespace name (a DNS-1123 label)."""
    return LABEL.accepts(value)


def name_rule(kind: str, group: str) -> Rule:
    """The rule an object name of this kind follows (custom resources: DNS-1123 subdomain)."""
    return KIND_RULES.get((kind, group), SUBDOMAIN)


def invalid_names(kind: str, group: str, name: str | None, namespace: str | None,
                  generated: bool = False) -> str | None:
    """The message for an object with an invalid name or namespace; None when both are fine.

    ``name`` None skips the name (tool configuration that legitimately has none).
    """
    problems = []
    rule = name_rule(kind, group)
    if name is not None and not rule.accepts(name, generated):
        what = "generateName" if generated else "name"
        problems.append(f"invalid {what} {shown(name)}: {rule.text}")
    if namespace is not None and not is_namespace(namespace):
        problems.append(f"invalid namespace name {shown(namespace)}: {LABEL.text}")
    if not problems:
        return None
    return f"{kind} {shown(name or '')}: {'; '.join(problems)}; object skipped"


def resource_problem(resource: Resource) -> str | None:
    """:func:`invalid_names` for a Resource read from a cluster."""
    return invalid_names(resource.kind, resource.group, resource.name, resource.namespace)


def split_valid(resources: Iterable[Resource]) -> tuple[list[Resource], list[str]]:
    """Resources with valid names, and one message per resource left out."""
    kept, problems = [], []
    for resource in resources:
        problem = resource_problem(resource)
        if problem is None:
            kept.append(resource)
        else:
            problems.append(problem)
    return kept, problems


def namespace_option_problem(value: str) -> str | None:
    """Why a namespace given as a command-line value is invalid, or None."""
    return None if is_namespace(value) else f"{shown(value)} {LABEL.text}"
