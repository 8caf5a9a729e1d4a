"""Security APIs: which authentication and authorization needs a waypoint, and what blocks."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from asm_mode_advisor.enforcement import Change, Enforcement, Enforcer
from asm_mode_advisor.model import Mode, Resource, Severity, as_dict, as_list, as_str, dicts
from asm_mode_advisor.rules._ambient import service_has_waypoint
from asm_mode_advisor.rules._base import Context, Detector, Finding, Rule, specs
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.rules.gateways import gateway_bound
from asm_mode_advisor.views import AuthorizationPolicy, PeerAuthentication, RequestAuthentication

#: AuthorizationPolicy fields that ztunnel enforces (everything else is L7).
L4_SOURCE_FIELDS = frozenset({"principals", "notPrincipals", "namespaces", "notNamespaces",
                              "ipBlocks", "notIpBlocks", "serviceAccounts",
                              "notServiceAccounts"})
L4_OPERATION_FIELDS = frozenset({"ports", "notPorts"})
L4_CONDITION_KEYS = frozenset({"source.ip", "source.namespace", "source.principal",
                               "destination.ip", "destination.port"})

REQUEST_AUTHN = Rule(
    id="AMA110", name="request-authentication",
    title="RequestAuthentication (JWT) needs a waypoint",
    need="jwt-authentication", kinds=("RequestAuthentication",),
    reads=specs("RequestAuthentication"),
    rationale=(
        "JWT validation is L7. Ztunnel cannot do it, so in ambient a RequestAuthentication "
        "must be attached to a waypoint with `targetRefs`; waypoints ignore `selector` "
        "(https://istio.io/latest/docs/ambient/migrate/migrate-policies/). One bound to a "
        "gateway stays with the gateway (AMA413)."),
    triggers=("""
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: api}
spec:
  selector: {matchLabels: {app: orders}}
  jwtRules: [{issuer: "https://issuer.example.com", jwksUri: "https://issuer.example.com/jwks"}]
""",),
)

L7_AUTHZ = Rule(
    id="AMA111", name="l7-authorization-policy",
    title="AuthorizationPolicy with HTTP attributes needs a waypoint",
    need="l7-authorization", rows=("L-SECURITY", "M-SECURITY", "U-AUTHZ-ZTUNNEL"),
    kinds=("AuthorizationPolicy",),
    reads=specs("AuthorizationPolicy"),
    rationale=(
        "Ztunnel enforces only L4 attributes (principals, namespaces, IP blocks, ports). "
        "istiod's conversion for ztunnel (https://github.com/istio/istio/blob/master/pilot/"
        "pkg/serviceregistry/ambient/authorization.go) drops every ALLOW rule that uses "
        "methods, paths, hosts, request principals or `request.*` conditions, so calls allowed "
        "today are denied (with no rule left, every call to the selected workloads); a DENY "
        "rule loses its HTTP attributes and denies more, or never matches when a whole clause "
        "was HTTP-only, so an HTTP-only DENY has no effect (a security gap). A policy bound by "
        "`targetRefs` never reaches ztunnel: only a waypoint applies it. Each finding states "
        "the computed change; a looser or unenforced policy is a warning in advice and an "
        "error in a namespace already ambient. Attach such policies to a waypoint with "
        "`targetRefs`."),
    triggers=("""
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: orders-read, namespace: api}
spec:
  selector: {matchLabels: {app: orders}}
  rules:
  - to: [{operation: {methods: [GET], paths: ["/orders/*"]}}]
""",),
    passes=("""
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: orders-callers, namespace: api}
spec:
  selector: {matchLabels: {app: orders}}
  rules:
  - from: [{source: {principals: ["cluster.local/ns/web/sa/frontend"]}}]
    to: [{operation: {ports: ["8080"]}}]
""",),
)

CUSTOM_AUTHZ = Rule(
    id="AMA112", name="custom-audit-authorization",
    title="CUSTOM (ext-authz) or AUDIT AuthorizationPolicy needs a waypoint",
    need="external-authorization", rows=("L-SECURITY", "M-SECURITY", "U-AUTHZ-ZTUNNEL"),
    kinds=("AuthorizationPolicy",),
    reads=specs("AuthorizationPolicy"),
    rationale=(
        "Ztunnel supports only ALLOW and DENY. CUSTOM (OPA, ext-authz) and AUDIT policies are "
        "not sent to ztunnel at all (https://github.com/istio/istio/blob/master/pilot/pkg/"
        "serviceregistry/ambient/authorization.go), so they are silently not enforced until "
        "attached to a waypoint with `targetRefs`; one bound to a gateway stays with the "
        "gateway (AMA413)."),
    triggers=("""
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ext-authz, namespace: api}
spec:
  selector: {matchLabels: {app: orders}}
  action: CUSTOM
  provider: {name: opa}
  rules: [{}]
""",),
)

L4_AUTHZ = Rule(
    id="AMA210", name="l4-authorization-policy",
    title="AuthorizationPolicy with L4 attributes only is enforced by ztunnel",
    need="l4-security", kinds=("AuthorizationPolicy", "PeerAuthentication"),
    reads=specs("AuthorizationPolicy", "PeerAuthentication"),
    rationale=(
        "Policies on principals, namespaces, IP blocks and ports (and ones with no rules: "
        "allow-nothing or deny-nothing), and PeerAuthentication STRICT or PERMISSIVE, are "
        "served by ztunnel with no waypoint and no change (https://github.com/istio/istio/"
        "blob/master/pilot/pkg/serviceregistry/ambient/authorization.go). An L4 policy bound "
        "by `targetRefs` is applied only by a waypoint."),
    triggers=("""
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: orders-callers, namespace: api}
spec:
  selector: {matchLabels: {app: orders}}
  rules:
  - from: [{source: {namespaces: [web]}}]
""",),
)

PA_DISABLE = Rule(
    id="AMA305", name="peer-authentication-disable",
    title="PeerAuthentication mTLS DISABLE has no ambient equivalent",
    need="plaintext-peers", rows=("U-PA-DISABLE",), kinds=("PeerAuthentication",),
    reads=specs("PeerAuthentication"),
    rationale=(
        "Ambient always uses mTLS (HBONE) between mesh workloads, so plaintext between peers "
        "cannot be expressed: the PeerAuthentication reference says DISABLE mode is not "
        "supported in ambient (https://istio.io/latest/docs/reference/config/security/"
        "peer_authentication/). Remove it (or use PERMISSIVE) before moving the namespace to "
        "ambient."),
    triggers=("""
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: legacy, namespace: api}
spec:
  mtls: {mode: DISABLE}
""",),
    passes=("""
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: strict, namespace: api}
spec:
  mtls: {mode: STRICT}
""",),
)

RULES = (REQUEST_AUTHN, L7_AUTHZ, CUSTOM_AUTHZ, L4_AUTHZ, PA_DISABLE)


def l7_fields(rule: dict[str, Any]) -> list[str]:
    """The L7-only attributes one AuthorizationPolicy rule uses (research section 2)."""
    found: set[str] = set()
    for source_entry in dicts(rule.get("from")):
        found.update(k for k in as_dict(source_entry.get("source")) if k not in L4_SOURCE_FIELDS)
    for target in dicts(rule.get("to")):
        found.update(k for k in as_dict(target.get("operation"))
                     if k not in L4_OPERATION_FIELDS)
    for condition in dicts(rule.get("when")):
        key = as_str(condition.get("key"))
        if key and key not in L4_CONDITION_KEYS:
            found.add(f"when {key}")
    return sorted(found)


@dataclass(frozen=True, slots=True)
class ZtunnelRules:
    """What istiod's conversion for ztunnel keeps of a policy's rules (indexes into them)."""

    kept: tuple[int, ...]  # L4-only rules, enforced as written
    dropped: tuple[int, ...]  # rules that never match on ztunnel
    widened: tuple[int, ...]  # DENY rules enforced without their HTTP attributes


def ztunnel_rules(action: str, rules: list[dict[str, Any]]) -> ZtunnelRules:
    """Split rules as istiod's ``handleRule`` does.

    ALLOW drops a rule with any HTTP attribute; DENY keeps its L4 part, and a clause left
    empty never matches (ztunnel skips it).
    """
    kept: list[int] = []
    dropped: list[int] = []
    widened: list[int] = []
    for index, rule in enumerate(rules):
        if not l7_fields(rule):
            kept.append(index)
        elif action == "ALLOW" or not _every_clause_l4(rule):
            dropped.append(index)
        else:
            widened.append(index)
    return ZtunnelRules(tuple(kept), tuple(dropped), tuple(widened))


def _every_clause_l4(rule: dict[str, Any]) -> bool:
    """True when each clause of a DENY rule (to, from, each when) keeps an L4 match."""
    targets, sources = dicts(rule.get("to")), dicts(rule.get("from"))
    if targets and not any(as_list(as_dict(t.get("operation")).get(key))
                           for t in targets for key in L4_OPERATION_FIELDS):
        return False
    if sources and not any(as_list(as_dict(f.get("source")).get(key))
                           for f in sources for key in L4_SOURCE_FIELDS):
        return False
    return all(as_str(c.get("key")) in L4_CONDITION_KEYS for c in dicts(rule.get("when")))


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


def _l4_summary(rules: list[dict[str, Any]], indexes: tuple[int, ...]) -> str:
    """What the L4 rules that survive match, e.g. ``principals cluster.local/ns/a/sa/b``."""
    parts: list[str] = []
    for index in indexes:
        rule = rules[index]
        matches: list[str] = []
        for key, section, fields in (("from", "source", L4_SOURCE_FIELDS),
                                     ("to", "operation", L4_OPERATION_FIELDS)):
            for entry in dicts(rule.get(key)):
                found = as_dict(entry.get(section))
                matches.extend(f"{name} {', '.join(as_str(v) for v in as_list(found[name]))}"
                               for name in sorted(fields & found.keys()))
        matches.extend(f"when {as_str(c.get('key'))}" for c in dicts(rule.get("when")))
        parts.append(" and ".join(matches) or "every caller")
    unique = list(dict.fromkeys(parts))
    return "; ".join(unique[:3]) + ("; ..." if len(unique) > 3 else "")


@dataclass(frozen=True, slots=True)
class Conversion:
    """What ztunnel makes of an ALLOW or DENY policy: the change, briefly and in full."""

    change: Change
    detail: str = ""  # the short phrase of the enforcement line
    text: str = ""  # the message's sentence


def ztunnel_change(action: str, rules: list[dict[str, Any]]) -> Conversion:
    """The change ztunnel makes to an ALLOW or DENY policy as written."""
    split = ztunnel_rules(action, rules)
    fields = ", ".join(sorted({f for index in (*split.dropped, *split.widened)
                               for f in l7_fields(rules[index])}))
    if action == "ALLOW" and split.dropped:
        rules_dropped = _count(len(split.dropped), "ALLOW rule")
        dropped = (f"on ztunnel its {rules_dropped} with HTTP attributes ({fields}) "
                   + ("is" if len(split.dropped) == 1 else "are") + " dropped")
        if split.kept:
            kept = _count(len(split.kept), "L4 rule")
            allows = "allows" if len(split.kept) == 1 else "allow"
            return Conversion(
                Change.STRICTER, f"{rules_dropped} with HTTP attributes dropped; {kept} "
                                 f"still {allows}",
                f"{dropped}; the {kept} still {allows} {_l4_summary(rules, split.kept)}, "
                "and calls allowed today only by the dropped rules are denied")
        return Conversion(
            Change.STRICTER, f"{rules_dropped} with HTTP attributes dropped, none left: "
                             "deny all",
            f"{dropped} and no rule is left, so ztunnel denies every call to the workloads "
            "it applies to")
    if action == "DENY" and split.dropped:
        rules_dropped = _count(len(split.dropped), "DENY rule")
        verb = "matches" if len(split.dropped) == 1 else "match"
        never = (f"on ztunnel its {rules_dropped} with an HTTP-only clause ({fields}) never "
                 f"{verb}")
        if not split.kept and not split.widened:
            return Conversion(Change.NOT_ENFORCED,
                              f"{rules_dropped} with HTTP-only clauses never {verb}: denies "
                              "nothing", f"{never}, so the policy denies nothing")
        still = _count(len(split.kept) + len(split.widened), "other rule")
        denies = "denies" if len(split.kept) + len(split.widened) == 1 else "deny"
        return Conversion(Change.LOOSER,
                          f"{rules_dropped} with HTTP-only clauses never {verb}; {still} "
                          f"still {denies}", f"{never}; {still} still {denies}")
    if split.widened:
        rules_widened = _count(len(split.widened), "DENY rule")
        one = len(split.widened) == 1
        loses, denies, its = ("loses", "denies", "its") if one else ("lose", "deny", "their")
        return Conversion(
            Change.STRICTER, f"{rules_widened} {loses} HTTP attributes and {denies} more",
            f"on ztunnel its {rules_widened} {loses} {its} HTTP attributes ({fields}) and "
            f"{denies} every call that matches the L4 part")
    return Conversion(Change.SAME)


def _severity(change: Change, ambient: bool) -> Severity | None:
    """Weakening is an error where it is live (ambient) and a warning in advice."""
    if change.weakens:
        return Severity.ERROR if ambient else Severity.WARNING
    return Severity.WARNING if change is Change.STRICTER else None


def _unserved_targets(inventory: ScopedInventory, resource: Resource) -> list[str]:
    """TargetRefs of a policy that no waypoint in use serves today."""
    namespace = resource.namespace or inventory.default_namespace
    unserved = []
    for ref in AuthorizationPolicy(resource).target_refs:
        kind, name = as_str(ref.get("kind")), as_str(ref.get("name"))
        if kind == "Gateway" and any(g.name == name for g in inventory.waypoints(namespace)):
            continue
        if kind == "Service" and service_has_waypoint(inventory, namespace, name):
            continue
        unserved.append(f"{kind or 'target'} {name}")
    return unserved


def _targeted(inventory: ScopedInventory, resource: Resource, action: str,
              ambient: bool) -> tuple[Enforcement, str]:
    """A targetRefs policy: only a waypoint applies it, today and after the move."""
    unserved = _unserved_targets(inventory, resource)
    if ambient and not unserved:
        return Enforcement(today=Enforcer.WAYPOINT, after_move=Enforcer.WAYPOINT,
                           change=Change.SAME), "it is bound by targetRefs to a waypoint in use"
    reason = ("sidecars and ztunnel never receive a targetRefs policy" if not ambient else
              f"ztunnel never receives a targetRefs policy and no waypoint serves "
              f"{', '.join(unserved)} yet")
    detail = f"{reason}; a waypoint starts applying it ({action})"
    return Enforcement(today=Enforcer.NOBODY, after_move=Enforcer.WAYPOINT,
                       change=Change.STRICTER, detail=detail), (
        f"it is bound by targetRefs, so only a waypoint applies it: {reason}")


def detect_authorization(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """One finding per AuthorizationPolicy, with where it is enforced today and after the move.

    Gateway-bound policies are the gateways module's (AMA413).
    """
    for resource in inventory.of_kind("AuthorizationPolicy"):
        if gateway_bound(inventory, resource) is not None:
            continue
        yield _authorization_finding(inventory, resource)


def _authorization_finding(inventory: ScopedInventory, resource: Resource) -> Finding:
    policy = AuthorizationPolicy(resource)
    action, rules = policy.action, policy.rules
    namespace = resource.namespace or inventory.default_namespace
    ambient = inventory.current_mode(namespace) is Mode.AMBIENT
    common: dict[str, Any] = {"services": inventory.policy_services(resource),
                              "mesh_wide": inventory.is_mesh_wide(resource)}
    l7 = [(index, fields) for index, fields in
          ((index, l7_fields(rule)) for index, rule in enumerate(rules)) if fields]
    fields = sorted({f for _, found in l7 for f in found})
    if policy.target_refs:
        enforcement, how = _targeted(inventory, resource, action, ambient)
        rule = CUSTOM_AUTHZ if action in ("CUSTOM", "AUDIT") else L7_AUTHZ if l7 else L4_AUTHZ
        uses = (f"uses action {action}" if rule is CUSTOM_AUTHZ else
                f"({action}) uses {', '.join(fields)}" if l7 else
                f"({action}) uses L4 attributes only")
        path = ("spec", "action") if rule is CUSTOM_AUTHZ else ("spec", "targetRefs")
        return rule.finding(resource, f"{policy.ref} {uses}; {how}", path=path,
                            severity=_severity(enforcement.change, ambient),
                            enforcement=enforcement, **common)
    # A namespace not labelled ambient is taken to run sidecars (the tool's starting point).
    today = Enforcer.ZTUNNEL if ambient else Enforcer.SERVER_SIDECAR
    if action in ("CUSTOM", "AUDIT"):
        enforcement = Enforcement(
            today=Enforcer.NOBODY if ambient else today, after_move=Enforcer.NOBODY,
            change=Change.NOT_ENFORCED,
            detail=f"istiod does not send {action} policies to ztunnel")
        return CUSTOM_AUTHZ.finding(
            resource, f"{policy.ref} uses action {action}, which ztunnel does not support: "
                      "istiod never sends it to ztunnel, so nobody enforces it until it is "
                      "attached to a waypoint with targetRefs",
            path=("spec", "action"), severity=_severity(Change.NOT_ENFORCED, ambient),
            enforcement=enforcement, **common)
    conversion = ztunnel_change(action, rules)
    enforcement = Enforcement(today=today, after_move=Enforcer.ZTUNNEL,
                              change=conversion.change, detail=conversion.detail)
    if l7:
        return L7_AUTHZ.finding(
            resource, f"{policy.ref} ({action}): {conversion.text}",
            path=("spec", "rules", l7[0][0]), severity=_severity(conversion.change, ambient),
            enforcement=enforcement, **common)
    return L4_AUTHZ.finding(resource, f"{policy.ref} {_l4_words(action, rules)}",
                            enforcement=enforcement, rows=("U-AUTHZ-ZTUNNEL",), **common)


def _l4_words(action: str, rules: list[dict[str, Any]]) -> str:
    """How an L4-only (or rule-less) policy reads, for its AMA210 message."""
    if rules:
        return "uses L4 attributes only; ztunnel enforces it as is"
    if action == "DENY":
        return "(DENY) has no rules, so it denies nothing, on sidecars and on ztunnel alike"
    return ("(ALLOW) has no rules, so it allows nothing (deny all) for the workloads it "
            "applies to; ztunnel enforces it as is")


def detect_request_authentication(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Every RequestAuthentication not bound to a gateway is JWT validation, which is L7."""
    for resource in inventory.of_kind("RequestAuthentication"):
        if gateway_bound(inventory, resource) is not None:
            continue  # the gateway validates the JWT in both modes (AMA413)
        issuers = RequestAuthentication(resource).issuers
        detail = f" (issuer {', '.join(issuers)})" if issuers else ""
        yield REQUEST_AUTHN.finding(resource, f"{resource.ref} validates JWTs{detail}",
                                    services=inventory.policy_services(resource),
                                    path=("spec", "jwtRules"),
                                    mesh_wide=inventory.is_mesh_wide(resource))


def detect_peer_authentication(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """PeerAuthentication DISABLE blocks ambient; STRICT/PERMISSIVE is served by ztunnel."""
    for resource in inventory.of_kind("PeerAuthentication"):
        policy = PeerAuthentication(resource)
        mode = policy.mode
        disabled_ports = sorted(port for port, port_mode in policy.port_modes.items()
                                if port_mode == "DISABLE")
        if mode == "DISABLE" or disabled_ports:
            where = f" on port(s) {', '.join(disabled_ports)}" if disabled_ports else ""
            yield PA_DISABLE.finding(
                resource, f"{policy.ref} disables mTLS{where}",
                services=inventory.policy_services(resource),
                path=("spec", "mtls") if mode == "DISABLE" else ("spec", "portLevelMtls"),
                mesh_wide=inventory.is_mesh_wide(resource))
        elif mode in ("STRICT", "PERMISSIVE"):
            yield L4_AUTHZ.finding(resource, f"{policy.ref} sets mTLS {mode}; ztunnel "
                                             "enforces it")


DETECTORS = (
    Detector(detect_authorization, (L7_AUTHZ, CUSTOM_AUTHZ, L4_AUTHZ)),
    Detector(detect_request_authentication, (REQUEST_AUTHN,)),
    Detector(detect_peer_authentication, (PA_DISABLE, L4_AUTHZ)),
)
