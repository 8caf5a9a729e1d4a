"""Security APIs: which authentication and authorization needs a waypoint, and what blocks."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from asm_mode_advisor.model import as_dict, as_str, dicts
from asm_mode_advisor.rules._base import Context, Detector, Finding, Rule, specs
from asm_mode_advisor.rules._scoped import ScopedInventory
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
        "must be attached to a waypoint with `targetRefs`; waypoints ignore `selector`."),
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
    need="l7-authorization", kinds=("AuthorizationPolicy",),
    reads=specs("AuthorizationPolicy"),
    rationale=(
        "Ztunnel enforces only L4 attributes (principals, namespaces, IP blocks, ports). Left "
        "on ztunnel, an ALLOW rule with methods, paths, hosts, request principals or "
        "`request.*` conditions never matches, so the workloads may be denied all traffic "
        "(outage); a DENY rule loses its L7 part and an L7-only DENY has no effect at all "
        "(security gap). Attach such policies to a waypoint with `targetRefs`."),
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
    need="external-authorization", kinds=("AuthorizationPolicy",),
    reads=specs("AuthorizationPolicy"),
    rationale=(
        "Ztunnel supports only ALLOW and DENY. CUSTOM (OPA, ext-authz) and AUDIT policies are "
        "not sent to ztunnel at all, so they are silently not enforced until attached to a "
        "waypoint with `targetRefs`."),
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
        "Policies on principals, namespaces, IP blocks and ports, and PeerAuthentication "
        "STRICT or PERMISSIVE, are served by ztunnel with no waypoint and no change."),
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
    need="plaintext-peers", kinds=("PeerAuthentication",),
    reads=specs("PeerAuthentication"),
    rationale=(
        "Ambient always uses mTLS (HBONE) between mesh workloads, so plaintext between peers "
        "cannot be expressed; the migration guide treats DISABLE as a blocker. Remove it (or "
        "use PERMISSIVE) before moving the namespace to ambient."),
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


def detect_authorization(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """AuthorizationPolicy: L7 attributes, CUSTOM/AUDIT actions, or L4 only."""
    for resource in inventory.of_kind("AuthorizationPolicy"):
        policy = AuthorizationPolicy(resource)
        action = policy.action
        services = inventory.policy_services(resource)
        mesh_wide = inventory.is_mesh_wide(resource)
        if action in ("CUSTOM", "AUDIT"):
            yield CUSTOM_AUTHZ.finding(
                resource, f"{policy.ref} uses action {action}, which ztunnel does not enforce",
                services=services, path=("spec", "action"), mesh_wide=mesh_wide)
            continue
        rules = policy.rules
        l7 = [(index, fields) for index, fields in
              ((index, l7_fields(rule)) for index, rule in enumerate(rules)) if fields]
        if l7:
            fields = sorted({f for _, found in l7 for f in found})
            risk = ("left on ztunnel its L7 rules never match and the selected workloads may "
                    "be denied all traffic" if action == "ALLOW" else
                    "left on ztunnel its L7 conditions are dropped and an L7-only DENY has no "
                    "effect")
            yield L7_AUTHZ.finding(
                resource, f"{policy.ref} ({action}) uses {', '.join(fields)}; {risk}",
                services=services, path=("spec", "rules", l7[0][0]), mesh_wide=mesh_wide)
        elif rules:
            yield L4_AUTHZ.finding(resource, f"{policy.ref} uses L4 attributes only; ztunnel "
                                             "enforces it as is", services=services)


def detect_request_authentication(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Every RequestAuthentication is JWT validation, which is L7."""
    for resource in inventory.of_kind("RequestAuthentication"):
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
