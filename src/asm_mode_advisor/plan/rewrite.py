"""Policy rewrites for a waypoint: ``selector`` to ``targetRefs``, and L4 rules to flag.

Waypoints ignore ``selector``; L7 AuthorizationPolicy, RequestAuthentication, WasmPlugin and
Telemetry must name the Service (or the waypoint Gateway) in ``targetRefs`` (L-SECURITY,
L-OBSERVABILITY, L-EXTENSIBILITY). L4-only policies stay on ztunnel unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asm_mode_advisor.model import Resource, as_dict, as_str, dicts
from asm_mode_advisor.plan.model import ManualItem, PlannedWaypoint
from asm_mode_advisor.plan.objects import clean_copy, gateway_ref, service_ref
from asm_mode_advisor.plan.rule_roles import L4_POLICY_RULES, WAYPOINT_POLICY_RULES, fired
from asm_mode_advisor.rules import Finding, Rule

REWRITE_SUFFIX = "-waypoint"
CLIENT_IDENTITY_SOURCES = frozenset({"principals", "notPrincipals", "namespaces",
                                     "notNamespaces", "serviceAccounts", "notServiceAccounts"})
CLIENT_IDENTITY_KEYS = frozenset({"source.principal", "source.namespace"})


@dataclass
class PolicyRewrites:
    """New ``targetRefs`` policies, the selector policies they replace, and manual items."""

    created: list[dict[str, Any]] = field(default_factory=list)
    replaced: list[Resource] = field(default_factory=list)
    manual: list[ManualItem] = field(default_factory=list)


def _subjects(findings: list[Finding],
              rules: tuple[Rule, ...]) -> list[tuple[Resource, Finding]]:
    """First finding per subject object for the given rules, in object order."""
    seen: dict[tuple[str, str], tuple[Resource, Finding]] = {}
    for finding in findings:
        if fired(finding, rules) and finding.objects:
            subject = finding.objects[0]
            seen.setdefault((subject.kind, subject.name), (subject, finding))
    return [seen[key] for key in sorted(seen)]


def _has_selector(policy: Resource) -> bool:
    selector = as_dict(policy.spec.get("selector"))
    return bool(as_dict(selector.get("matchLabels")) or dicts(selector.get("matchExpressions")))


def target_refs(policy: Resource, services: list[str],
                waypoints: list[PlannedWaypoint]) -> list[dict[str, Any]] | str:
    """The ``targetRefs`` a policy moves to, or why it cannot move mechanically."""
    if not _has_selector(policy):
        return [gateway_ref(w.name) for w in waypoints]
    if not services:
        return ("its selector matches no workload behind a Service; targetRefs can name only a "
                "Service or the waypoint, so choose the scope by hand")
    served = {s for w in waypoints for s in w.services} | (
        set(services) if any(w.bound_by == "namespace" for w in waypoints) else set())
    missing = sorted(set(services) - served)
    if missing:
        return f"service(s) {', '.join(missing)} get no waypoint in this plan"
    return [service_ref(name) for name in services]


def rewritten(policy: Resource, refs: list[dict[str, Any]], taken: set[str]) -> dict[str, Any]:
    """A copy of the policy named ``<name>-waypoint`` with ``targetRefs`` for ``selector``."""
    body = clean_copy(policy)
    name = policy.name + REWRITE_SUFFIX
    while name in taken:
        name += "-new"
    taken.add(name)
    body["metadata"]["name"] = name
    spec = dict(as_dict(body.get("spec")))
    spec.pop("selector", None)
    spec["targetRefs"] = refs
    body["spec"] = spec
    return body


def policy_rewrites(findings: list[Finding], waypoints: list[PlannedWaypoint],
                    names_in_use: set[tuple[str, str]]) -> PolicyRewrites:
    """Move every L7 policy of a namespace onto its waypoint(s)."""
    result = PolicyRewrites()
    if not waypoints:
        return result
    for policy, finding in _subjects(findings, WAYPOINT_POLICY_RULES):
        if "targetRefs" in policy.spec or "targetRef" in policy.spec:
            continue  # already attached to a waypoint, Service or Gateway
        refs = target_refs(policy, list(finding.services), waypoints)
        if isinstance(refs, str):
            result.manual.append(ManualItem(object=policy.ref, reason=f"not moved: {refs}",
                                            rows=list(finding.rows)))
            continue
        taken = {name for kind, name in names_in_use if kind == policy.kind}
        body = rewritten(policy, refs, taken)
        names_in_use.add((policy.kind, body["metadata"]["name"]))
        result.created.append(body)
        result.replaced.append(policy)
    return result


def client_identity_fields(policy: Resource) -> list[str]:
    """Client-identity attributes (principals, namespaces, service accounts) a policy uses."""
    found: set[str] = set()
    for rule in dicts(policy.spec.get("rules")):
        for entry in dicts(rule.get("from")):
            found.update(k for k in as_dict(entry.get("source")) if k in CLIENT_IDENTITY_SOURCES)
        for condition in dicts(rule.get("when")):
            key = as_str(condition.get("key"))
            if key in CLIENT_IDENTITY_KEYS:
                found.add(key)
    return sorted(found)


def hidden_client_identity(findings: list[Finding],
                           waypoints: list[PlannedWaypoint]) -> list[ManualItem]:
    """L4 policies on client identity for workloads that get a waypoint.

    Ztunnel then sees the waypoint's identity, not the client's.
    """
    namespace_wide = any(w.bound_by == "namespace" for w in waypoints)
    behind = {s for w in waypoints for s in w.services}
    items = []
    for policy, finding in _subjects(findings, L4_POLICY_RULES):
        if policy.kind != "AuthorizationPolicy" or "targetRefs" in policy.spec:
            continue
        fields = client_identity_fields(policy)
        hit = sorted(finding.services) if namespace_wide else sorted(
            behind.intersection(finding.services))
        if fields and hit and waypoints:
            items.append(ManualItem(
                object=policy.ref,
                reason=(f"matches clients by {', '.join(fields)} on {', '.join(hit)}, which get "
                        "a waypoint: ztunnel will see the waypoint's identity, so move these "
                        "rules to the waypoint (targetRefs) and let this policy allow the "
                        "waypoint's service account"),
                rows=["L-SECURITY", "M-SECURITY"]))
    return items
