"""What each rule's findings mean to the plan, naming rules by object.

Rules are imported, never named by id string, so a renamed or removed rule breaks the plan at
import time instead of silently dropping a step (tests/plan/test_rule_roles.py checks this).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

from asm_mode_advisor.model import Resource
from asm_mode_advisor.rules import Finding, Rule
from asm_mode_advisor.rules.egress import EGRESS_L7, REGISTRY_ONLY_ADVICE
from asm_mode_advisor.rules.extensions import ENVOYFILTER_SIDECAR, ENVOYFILTER_WAYPOINT, WASM
from asm_mode_advisor.rules.namespace_state import SIDECAR_RESOURCE
from asm_mode_advisor.rules.observability import L7_TELEMETRY
from asm_mode_advisor.rules.routing import CONSUMER_ROUTE, REDUNDANT_VS
from asm_mode_advisor.rules.security import (
    CUSTOM_AUTHZ,
    L4_AUTHZ,
    L7_AUTHZ,
    PA_DISABLE,
    REQUEST_AUTHN,
)
from asm_mode_advisor.rules.topology import (
    MESH_VERSION,
    MULTI_CLUSTER,
    RESERVED_PORTS,
    VM_WORKLOADS,
)
from asm_mode_advisor.rules.waypoint_effects import (
    INGRESS_SKIPS_WAYPOINT,
    INGRESS_SKIPS_WAYPOINT_AMBIENT,
    WAYPOINT_IDENTITY,
)

#: Policies that move to a waypoint (``selector`` becomes ``targetRefs``) in step 3.
WAYPOINT_POLICY_RULES: tuple[Rule, ...] = (REQUEST_AUTHN, L7_AUTHZ, CUSTOM_AUTHZ, L7_TELEMETRY,
                                           WASM)
#: L4 AuthorizationPolicies: they stay on ztunnel unchanged.
L4_POLICY_RULES: tuple[Rule, ...] = (L4_AUTHZ,)
#: L7 authorization: moving it to a waypoint needs a maintenance window.
L7_AUTHORIZATION_RULES: tuple[Rule, ...] = (REQUEST_AUTHN, L7_AUTHZ, CUSTOM_AUTHZ)
#: VirtualServices a waypoint makes redundant: not converted to HTTPRoutes in step 3.
REDUNDANT_ROUTE_RULES: tuple[Rule, ...] = (REDUNDANT_VS,)
#: Objects deleted right after the restart in step 4, each with why it goes.
DELETE_AFTER_RESTART_REASONS: tuple[tuple[Rule, str], ...] = (
    (SIDECAR_RESOURCE, "a Sidecar resource scopes injected proxies only; ambient ignores it "
                       "and istioctl analyze reports it (IST0167)"),
    (REDUNDANT_VS, "it sends every request to its own host with no L7 feature, so it routes "
                   "nothing a waypoint or ztunnel would not"),
)
DELETE_AFTER_RESTART: tuple[Rule, ...] = tuple(rule for rule, _ in DELETE_AFTER_RESTART_REASONS)
#: L4 policies on client identity that will see the waypoint's identity (step 3 fixes them).
WAYPOINT_IDENTITY_RULES: tuple[Rule, ...] = (WAYPOINT_IDENTITY,)
#: Services behind a waypoint that an ingress gateway sends traffic to (labelled in step 4).
INGRESS_WAYPOINT_RULES: tuple[Rule, ...] = (INGRESS_SKIPS_WAYPOINT,
                                            INGRESS_SKIPS_WAYPOINT_AMBIENT)
#: Consumer-side routes and policies: step 3 of their Service's namespace moves them there.
MOVE_TO_SERVICE_NAMESPACE_RULES: tuple[Rule, ...] = (CONSUMER_ROUTE,)
#: External hosts with L7 configuration: step 3 binds their ServiceEntry to the waypoint.
EGRESS_WAYPOINT_RULES: tuple[Rule, ...] = (EGRESS_L7,)
#: REGISTRY_ONLY that ztunnel does not enforce: a replacement is listed for a person.
REGISTRY_ONLY_RULES: tuple[Rule, ...] = (REGISTRY_ONLY_ADVICE,)
#: Rules whose objects work on a waypoint but must be tested by hand, and why.
RISKY_RULES: tuple[tuple[Rule, str], ...] = (
    (ENVOYFILTER_WAYPOINT, "EnvoyFilter on a waypoint is Alpha and changed between releases; "
                           "test it on this exact ASM version"),
)
#: What would let a namespace that a blocking rule keeps on sidecars move to ambient.
UNBLOCK_ADVICE: tuple[tuple[Rule, str], ...] = (
    (ENVOYFILTER_SIDECAR, "replace the EnvoyFilter with a WasmPlugin or a first-class API, or "
                          "delete it"),
    (MULTI_CLUSTER, "ASM ambient is single-cluster: move once the mesh no longer spans "
                    "clusters or networks"),
    (VM_WORKLOADS, "move the VM workloads into the cluster or out of the mesh"),
    (MESH_VERSION, "upgrade the mesh to ASM 1.25 or later, then plan again with "
                   "--mesh-version"),
    (PA_DISABLE, "replace mTLS DISABLE with PERMISSIVE once every client speaks mTLS"),
    (RESERVED_PORTS, "move the application off ports 15001, 15006, 15008, 15053 and 15080"),
)
#: The same advice by rule id, for reasons in the report (which carry ids, not rules).
UNBLOCK_BY_RULE_ID: Mapping[str, str] = MappingProxyType(
    {rule.id: advice for rule, advice in UNBLOCK_ADVICE})


def fired(finding: Finding, rules: Iterable[Rule]) -> bool:
    """Whether the finding comes from one of ``rules`` (by identity, not by id string)."""
    return any(finding.rule is rule for rule in rules)


def subjects_of(findings: Iterable[Finding], rules: Iterable[Rule]) -> list[Resource]:
    """The subject object of each finding of ``rules``, once per kind and name, sorted."""
    wanted = tuple(rules)
    found = {(f.objects[0].kind, f.objects[0].name): f.objects[0]
             for f in findings if fired(f, wanted) and f.objects}
    return [found[key] for key in sorted(found)]
