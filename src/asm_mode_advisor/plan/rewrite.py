"""Policy rewrites for a waypoint: ``selector`` to ``targetRefs``, and the waypoint's identity.

Waypoints ignore ``selector``; L7 AuthorizationPolicy, RequestAuthentication, WasmPlugin and
Telemetry must name the Service (or the waypoint Gateway) in ``targetRefs`` (L-SECURITY,
L-OBSERVABILITY, L-EXTENSIBILITY). L4-only policies stay on ztunnel, but those that match
callers by identity see the waypoint's principal once traffic passes it (U-WAYPOINT-IDENTITY),
and a call straight to a pod skips the waypoint's policy unless a ztunnel policy stops it
(U-WAYPOINT-BYPASS).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from asm_mode_advisor.model import Resource, as_dict, as_str, dicts
from asm_mode_advisor.plan.model import ManualItem, PlannedWaypoint
from asm_mode_advisor.plan.objects import clean_copy, gateway_ref, service_ref
from asm_mode_advisor.plan.rule_roles import (
    WAYPOINT_IDENTITY_RULES,
    WAYPOINT_POLICY_RULES,
    fired,
)
from asm_mode_advisor.rules import Finding, Rule
from asm_mode_advisor.rules.waypoint_effects import (
    IDENTITY_KEYS,
    IDENTITY_SOURCES,
    client_identity_fields,
    waypoint_principal,
)
from asm_mode_advisor.views import AuthorizationPolicy, Service

REWRITE_SUFFIX = "-waypoint"


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


#: Why each kind of selector policy the plan re-attaches with targetRefs goes after the restart.
REPLACED_REASONS: dict[str, str] = {
    "RequestAuthentication": "JWT validation needs the waypoint: ztunnel cannot validate JWTs "
                             "and the waypoint ignores selector, so this copy does nothing",
    "Telemetry": "the waypoint ignores selector and ztunnel has no L7 telemetry, so this copy "
                 "does nothing",
    "WasmPlugin": "the waypoint ignores selector and ztunnel runs no Wasm, so this copy does "
                  "nothing",
}
#: The same for an AuthorizationPolicy, by action: ztunnel would enforce what is left of it.
AUTHZ_REASONS: dict[str, str] = {
    "ALLOW": "left on ztunnel, its rules with HTTP attributes are dropped, so calls they allow "
             "today would be denied",
    "DENY": "left on ztunnel, its HTTP attributes are dropped: a rule with only HTTP "
            "attributes denies nothing, one with L4 parts denies every call those parts match",
    "CUSTOM": "ztunnel does not enforce CUSTOM, so this copy does nothing",
    "AUDIT": "ztunnel does not enforce AUDIT, so this copy does nothing",
}


#: Why each kind of policy moves to the waypoint (which reads ``targetRefs``, not selector).
MOVED_REASONS: dict[str, str] = {
    "AuthorizationPolicy": "its HTTP attributes need the waypoint",
    "RequestAuthentication": "JWT validation needs the waypoint",
    "Telemetry": "its L7 telemetry (access logs, tracing, HTTP metrics) needs the waypoint",
    "WasmPlugin": "Wasm runs only on the waypoint",
}


def moved_reason(policy: Resource) -> str:
    """Why step 3 re-attaches this policy to the waypoint, for its own kind (and action)."""
    action = AuthorizationPolicy(policy).action if policy.kind == "AuthorizationPolicy" else ""
    why = (f"ztunnel does not enforce {action}, the waypoint does" if action in (
        "CUSTOM", "AUDIT") else MOVED_REASONS.get(policy.kind, "it needs the waypoint"))
    return f"{why}, and the waypoint ignores selector"


def replaced_reason(policy: Resource, replacement: str) -> str:
    """Why a selector policy is deleted after the restart, for its own kind (and action)."""
    why = (AUTHZ_REASONS.get(AuthorizationPolicy(policy).action, AUTHZ_REASONS["ALLOW"])
           if policy.kind == "AuthorizationPolicy" else
           REPLACED_REASONS.get(policy.kind, "the waypoint ignores selector"))
    return f"replaced by {policy.kind}/{policy.namespace}/{replacement} (targetRefs); {why}"


@dataclass
class IdentityUpdates:
    """L4 policies that also allow the waypoint's principal, and the originals they replace."""

    updated: list[dict[str, Any]] = field(default_factory=list)
    originals: list[Resource] = field(default_factory=list)
    principals: list[list[str]] = field(default_factory=list)
    manual: list[ManualItem] = field(default_factory=list)


@dataclass(frozen=True)
class WaypointIdentities:
    """The plan's waypoints in one namespace and the Gateways of those that exist already."""

    namespace: str
    waypoints: list[PlannedWaypoint]
    gateways: dict[str, Resource]

    def principals(self, services: tuple[str, ...]) -> list[str]:
        """Principals of the waypoints that serve any of ``services``."""
        return sorted({waypoint_principal(self.namespace, w.name, self.gateways.get(w.name))
                       for w in self.waypoints
                       if w.bound_by == "namespace" or set(w.services) & set(services)})


def with_principals(body: dict[str, Any], principals: list[str]) -> bool:
    """Add a ``from`` entry for ``principals`` to each rule that matches client identity."""
    changed = False
    for rule in dicts(as_dict(body.get("spec")).get("rules")):
        sources = dicts(rule.get("from"))
        if not any(k in IDENTITY_SOURCES for e in sources for k in as_dict(e.get("source"))):
            continue
        entry = {"source": {"principals": list(principals)}}  # a copy: no YAML anchors
        if entry not in sources:
            rule["from"] = [*sources, entry]
            changed = True
    return changed


def _identity_manual(policy: Resource, finding: Finding, why: str) -> ManualItem:
    return ManualItem(object=policy.ref, reason=f"{why}; ztunnel will see the waypoint's "
                      "identity for calls through it, so move these rules to the waypoint "
                      "(targetRefs)", rows=list(finding.rows))


def identity_updates(findings: list[Finding], identities: WaypointIdentities) -> IdentityUpdates:
    """ALLOW policies get the waypoint's principal; DENY and ``when`` ones go to review."""
    result = IdentityUpdates()
    for policy, finding in _subjects(findings, WAYPOINT_IDENTITY_RULES):
        principals = identities.principals(finding.services)
        if AuthorizationPolicy(policy).action != "ALLOW":
            result.manual.append(_identity_manual(policy, finding, "a DENY policy on caller "
                                                  "identity"))
            continue
        body = clean_copy(policy)
        keys = client_identity_fields(policy)
        if not principals or not with_principals(body, principals) or any(
                k in IDENTITY_KEYS for k in keys):
            result.manual.append(_identity_manual(policy, finding, "matches callers in `when` "
                                                  "conditions, which the plan cannot extend"))
            continue
        result.updated.append(body)
        result.originals.append(policy)
        result.principals.append(principals)
    return result


def _protected_services(created: list[dict[str, Any]],
                        waypoints: list[PlannedWaypoint]) -> list[str]:
    """Services whose JWT or authorization the plan moved onto a waypoint."""
    names: set[str] = set()
    for body in created:
        if body["kind"] not in ("AuthorizationPolicy", "RequestAuthentication"):
            continue
        for ref in dicts(body["spec"].get("targetRefs")):
            if ref.get("kind") == "Service":
                names.add(as_str(ref.get("name")))
            else:
                names.update(s for w in waypoints if w.name == ref.get("name")
                             for s in w.services)
    return sorted(names)


def waypoint_only_policies(created: list[dict[str, Any]], identities: WaypointIdentities,
                           services: dict[str, Resource],
                           allow_direct: tuple[str, ...]) -> list[dict[str, Any]]:
    """Offered: per Service whose L7 security moved, deny callers that skip its waypoint.

    A DENY on ``notPrincipals`` (the migration guide's "prevent waypoint bypass") holds even
    when other ALLOW policies admit the caller; ``allow_direct`` adds callers the user keeps.
    """
    offered = []
    for name in _protected_services(created, identities.waypoints):
        service = services.get(name)
        selector = Service(service).selector if service is not None else {}
        principals = identities.principals((name,))
        if not selector or not principals:
            continue
        offered.append({
            "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": f"{name}-waypoint-only", "namespace": identities.namespace},
            "spec": {"selector": {"matchLabels": dict(selector)}, "action": "DENY",
                     "rules": [{"from": [{"source": {"notPrincipals": [
                         *principals, *sorted(set(allow_direct) - set(principals))]}}]}]}})
    return offered
