"""Parsed documents to Resources: ``List`` kinds expanded, fields type-checked, names validated.

A document that cannot be an object is one ``InputError`` naming its file and line; its
neighbours are still read.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from asm_mode_advisor.kinds import CLUSTER_SCOPED_KINDS, lookup
from asm_mode_advisor.model import InputError, Resource, is_str_map
from asm_mode_advisor.names import invalid_names
from asm_mode_advisor.sharing import Sharing
from asm_mode_advisor.slim import slim as slim_body
from asm_mode_advisor.sources.validate import type_errors


def to_resources(document: Any, name: str, line: int, item_lines: list[int],
                 default_namespace: str,
                 sharing: Sharing | None = None) -> Iterator[Resource | InputError]:
    """Turn one parsed document into Resources (``List`` kinds are expanded).

    With ``sharing``, what no rule reads of each body is dropped once it is validated
    (``slim.py``) and equal structures are kept once (``sharing.py``); without, bodies stay
    whole.
    """
    if document is None:
        return
    if not isinstance(document, dict):
        found = type(document).__name__
        yield InputError(f"document is not a mapping (found {found}); skipped", name, line)
        return
    kind = document.get("kind")
    items = document.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            item_line = item_lines[index] if index < len(item_lines) else line
            if not isinstance(item, dict):
                yield InputError(f"{kind} item {index} is not a mapping; skipped", name,
                                 item_line)
                continue
            yield from to_resources(item, name, item_line, [], default_namespace, sharing)
        return
    yield from _resource(document, name, line, default_namespace, sharing)


def _resource(document: dict[str, Any], name: str, line: int,
              default_namespace: str,
              sharing: Sharing | None) -> Iterator[Resource | InputError]:
    problems: list[str] = []
    kind = document.get("kind")
    api_version = document.get("apiVersion")
    metadata = document.get("metadata")
    if not isinstance(kind, str) or not kind:
        problems.append("missing or invalid 'kind'")
    if not isinstance(api_version, str) or not api_version:
        problems.append("missing or invalid 'apiVersion'")
    if not isinstance(metadata, dict):
        problems.append("missing or invalid 'metadata'")
        metadata = {}
    object_name = metadata.get("name")
    if not isinstance(object_name, str) or not object_name:
        generate_name = metadata.get("generateName")
        if isinstance(generate_name, str) and generate_name:
            object_name = generate_name
        elif object_name is None:
            problems.append("missing 'metadata.name'")
        else:
            problems.append(f"'metadata.name' must be a string, not {_type(object_name)}")
    namespace = metadata.get("namespace")
    if namespace is not None and not isinstance(namespace, str):
        problems.append(f"'metadata.namespace' must be a string, not {_type(namespace)}")
    if problems and not isinstance(kind, str) and not isinstance(api_version, str):
        yield InputError("not a Kubernetes object (no 'kind' or 'apiVersion'); skipped", name,
                         line)
        return
    # Tool configs may go unnamed, but a namespace that is not a string is still wrong.
    unnamed = bool(problems) and _is_tool_config(api_version) and all(
        "metadata" in p and "namespace" not in p for p in problems)
    if unnamed:
        problems, object_name = [], "(unnamed)"
    if problems:
        label = f"{kind} " if isinstance(kind, str) and kind else ""
        yield InputError(f"{label}object skipped: {'; '.join(problems)}", name, line)
        return
    assert isinstance(kind, str) and isinstance(api_version, str)
    assert isinstance(object_name, str)
    labels, label_problem = _string_map(metadata.get("labels"), "metadata.labels")
    annotations, annotation_problem = _string_map(metadata.get("annotations"),
                                                  "metadata.annotations")
    group = api_version.rpartition("/")[0]
    info = lookup(kind, group)
    cluster_scoped = kind in CLUSTER_SCOPED_KINDS or (info is not None and not info.namespaced)
    resolved_namespace = None if cluster_scoped else (namespace or default_namespace)
    invalid = invalid_names(kind, group, None if unnamed else object_name, resolved_namespace,
                            generated=object_name != metadata.get("name"))
    if invalid is not None:  # names become paths and shell words: never let a bad one through
        yield InputError(invalid, name, line)
        return
    wrong_types = type_errors(kind, group, document)  # on the whole body, before slimming
    body = document
    addresses = None
    if sharing is not None:
        labels, annotations = sharing.labels(labels), sharing.labels(annotations)
        addresses = slim_body(kind, document)
        body = sharing.body(document)
    resource = Resource(kind=kind, api_version=api_version, name=object_name,
                        namespace=resolved_namespace, labels=labels, annotations=annotations,
                        body=body, file=name, line=line, addresses=addresses)
    for problem in (label_problem, annotation_problem, *wrong_types):
        if problem:
            yield InputError(f"{resource.ref}: {problem}", name, line)
    yield resource


def _is_tool_config(api_version: object) -> bool:
    """Tool input documents (kustomize, IstioOperator) legitimately have no name."""
    return isinstance(api_version, str) and api_version.startswith(
        ("kustomize.config.k8s.io/", "install.istio.io/"))


def _type(value: object) -> str:
    return {dict: "a mapping", list: "a list", str: "a string", int: "a number",
            float: "a number", bool: "a boolean"}.get(type(value), type(value).__name__)


def _string_map(value: object, where: str) -> tuple[dict[str, str], str | None]:
    if value is None:
        return {}, None  # slimming keeps one per read (``Sharing.labels``)
    if not isinstance(value, dict):
        return {}, f"'{where}' must be a mapping, not {_type(value)}"
    if is_str_map(value):
        return value, None  # the usual case: keep the parsed mapping, no copy
    bad = sorted(str(key) for key, item in value.items() if not isinstance(item, str))
    result = {str(key): item if isinstance(item, str) else _scalar_text(item)
              for key, item in value.items()}
    if bad:
        return result, f"'{where}' values must be strings (quote them): {', '.join(bad)}"
    return result, None


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


