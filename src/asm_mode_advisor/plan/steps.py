"""One namespace's plan: files and numbered steps, in the order of Istio's migration guide.

One function per step; ``build_steps`` runs them in order, as the guide does: preconditions,
waypoints, policy rewrites, enrolment (``plan.enrolment``), verification, then what needs
review by hand. Every action line gives the reason for its own object. Paths in commands are
relative to the plan directory (where PLAN.md is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from shlex import quote
from typing import Any

from asm_mode_advisor.domain import USE_WAYPOINT_LABEL
from asm_mode_advisor.model import Resource
from asm_mode_advisor.plan.draft import (
    Files,
    NamespaceDraft,
    NamespaceInput,
    originals,
)
from asm_mode_advisor.plan.enrol import PROBE_SNAT_CIDR, network_policy_updates
from asm_mode_advisor.plan.enrolment import enrolment, enrolment_step
from asm_mode_advisor.plan.model import Manifest, ManualItem, Step
from asm_mode_advisor.plan.moves import RouteMoves, egress_bindings, move_consumer_routes
from asm_mode_advisor.plan.objects import delete_stub, waypoint_gateway
from asm_mode_advisor.plan.rewrite import (
    IdentityUpdates,
    PolicyRewrites,
    identity_updates,
    moved_reason,
    policy_rewrites,
    waypoint_only_policies,
)
from asm_mode_advisor.plan.routes import RouteConversions, convert_virtual_services
from asm_mode_advisor.plan.rule_roles import (
    EGRESS_WAYPOINT_RULES,
    L4_POLICY_RULES,
    L7_AUTHORIZATION_RULES,
    MOVE_TO_SERVICE_NAMESPACE_RULES,
    REDUNDANT_ROUTE_RULES,
    REGISTRY_ONLY_RULES,
    RISKY_RULES,
    fired,
    subjects_of,
)

__all__ = ["NamespaceInput", "build_steps"]


def preconditions_step(draft: NamespaceDraft) -> Step:
    """Step 1: ambient installed, Gateway API CRDs for waypoints, NetworkPolicies let HBONE in.

    NetworkPolicies come first because ztunnel's port 15008 and the kubelet probe address must
    be open before any pod is enrolled.
    """
    waypoints, qns = draft.waypoints, draft.quoted
    netpols, patched = network_policy_updates(draft.inventory, draft.namespace)
    netpol_file = draft.files.add("01-network-policies.yaml", "apply", 1, netpols)
    netpol_back = draft.files.add("01-network-policies.yaml", "rollback", 1, originals(patched))
    return Step(
        number=1, title="Preconditions",
        actions=[f"mesh version {draft.data.mesh_version}: ambient is production-ready from "
                 "1.25 (N-VERSION)",
                 "istio-cni and ztunnel run on every node (ambient profile installed)",
                 *(["Gateway API CRDs installed (waypoints are Gateway objects)"]
                   if waypoints else []),
                 *([f"NetworkPolicies {', '.join(r.name for r in patched)}: allow TCP "
                    f"15008 (HBONE) and the kubelet probe address {PROBE_SNAT_CIDR}"]
                   if netpols else ["no NetworkPolicy needs a change"]),
                 "no blocker left: nothing in the namespace needs a sidecar"],
        apply=[p for p in (netpol_file,) if p],
        commands=["istioctl version",
                  "kubectl -n istio-system get daemonset ztunnel istio-cni-node",
                  *(["kubectl get crd gateways.gateway.networking.k8s.io "
                     "httproutes.gateway.networking.k8s.io"] if waypoints else [])],
        verify=["kubectl -n istio-system rollout status daemonset/ztunnel",
                *([f"kubectl -n {qns} get networkpolicy "
                   f"{' '.join(quote(r.name) for r in patched)} -o yaml | grep -c 15008"]
                  if netpols else [])],
        rollback=[f"kubectl apply -f {quote(netpol_back)}"] if netpol_back else [
            "nothing to undo"])


def waypoints_step(draft: NamespaceDraft) -> Step:
    """Step 2: deploy the waypoints, not yet bound.

    The migration guide activates waypoints only at enrolment (step 4), so traffic does not
    pass through them before the pods leave their sidecars.
    """
    waypoints, qns = draft.waypoints, draft.quoted
    new = [waypoint_gateway(w.name, draft.namespace, w.for_) for w in waypoints if not w.exists]
    waypoint_file = draft.files.add("02-waypoints.yaml", "apply", 2, new)
    return Step(
        number=2, title="Waypoints",
        actions=[*(f"waypoint {w.name} (istio.io/waypoint-for: {w.for_}"
                   + (", exists already" if w.exists else "") + ") for "
                   + (", ".join(w.services) or "the namespace's workloads")
                   for w in waypoints),
                 *(["bound in step 4 with istio.io/use-waypoint on the "
                    + ("namespace" if waypoints[0].bound_by == "namespace" else "services")
                    + " (not yet: the migration guide activates waypoints at enrolment)"]
                   if waypoints else ["no waypoint: every need is L4 (N-SKIPL7)"])],
        apply=[p for p in (waypoint_file,) if p],
        verify=[f"kubectl -n {qns} wait --for=condition=Programmed "
                f"{quote(f'gateway/{w.name}')} --timeout=120s" for w in waypoints]
        + ([f"istioctl waypoint status -n {qns}"] if waypoints else []),
        rollback=[f"kubectl delete -f {quote(waypoint_file)}"] if waypoint_file else [
            "nothing to undo"])


@dataclass
class PolicyChanges:
    """Step 3's rewrites: policies moved onto waypoints, VirtualServices made HTTPRoutes."""

    policies: PolicyRewrites
    routes: RouteConversions
    identity: IdentityUpdates  # L4 policies that also allow the waypoint's principal
    offered: list[dict[str, Any]]  # waypoint-only policies, applied by choice after step 5
    #: Consumer-side routes of other namespaces moved here (AMA416).
    moves: RouteMoves = field(default_factory=RouteMoves)
    #: ServiceEntries bound to the egress waypoint (AMA105): original, labelled copy.
    egress: list[tuple[Resource, dict[str, Any]]] = field(default_factory=list)

    @property
    def created(self) -> list[dict[str, Any]]:
        """Every new object: rewritten policies, then per-version Services and HTTPRoutes."""
        return self.policies.created + self.routes.created


def policy_changes(draft: NamespaceDraft) -> PolicyChanges:
    """The objects step 3 creates and replaces; what cannot move goes to the manual items.

    Redundant VirtualServices are not converted: step 4 deletes them after the restart.
    """
    taken = {(r.kind, r.name) for r in draft.inventory.in_namespace(draft.namespace)}
    policies = policy_rewrites(draft.own, draft.waypoints, taken)
    draft.manual.extend(policies.manual)
    identity = identity_updates(draft.own, draft.identities)
    draft.manual.extend(identity.manual)
    services = {s.name: s for s in draft.inventory.services(draft.namespace)}
    offered = waypoint_only_policies(policies.created, draft.identities, services,
                                     draft.data.allow_direct)
    redundant = {r.name for r in subjects_of(draft.own, REDUNDANT_ROUTE_RULES)}
    routes = convert_virtual_services(draft.inventory, draft.namespace, redundant) if (
        draft.waypoints) else RouteConversions()
    draft.manual.extend(routes.manual)
    moves = move_consumer_routes(draft.inventory, draft.namespace, subjects_of(
        draft.data.findings, MOVE_TO_SERVICE_NAMESPACE_RULES))
    draft.manual.extend(moves.manual)
    entries = {(o.namespace, o.name): o for f in draft.own if fired(f, EGRESS_WAYPOINT_RULES)
               for o in f.objects if o.kind == "ServiceEntry" and o.namespace == draft.namespace}
    egress = egress_bindings([entries[k] for k in sorted(entries)], draft.waypoints)
    draft.manual.extend(ManualItem(
        object=r.ref, reason="ztunnel does not enforce outboundTrafficPolicy REGISTRY_ONLY: "
        "before the restart, restrict egress with a NetworkPolicy (DNS and the external hosts "
        "allowed) or route it through an egress waypoint", rows=["U-REGISTRY-ONLY"])
        for r in subjects_of(draft.own, REGISTRY_ONLY_RULES))
    return PolicyChanges(policies=policies, routes=routes, identity=identity, offered=offered,
                         moves=moves, egress=egress)


def _needs_experimental_retry(created: list[dict[str, Any]]) -> bool:
    return any("retry" in rule for c in created if c["kind"] == "HTTPRoute"
               for rule in c["spec"]["rules"])


def _l4_lines(draft: NamespaceDraft, identity: IdentityUpdates) -> list[str]:
    """L4 policies stay on ztunnel; those on caller identity also allow the waypoint."""
    updated = {r.name for r in identity.originals}
    return [*(f"{r.ref} stays on ztunnel and also allows {', '.join(principals)}: calls "
              "through the waypoint reach ztunnel with the waypoint's identity "
              "(U-WAYPOINT-IDENTITY)"
              for r, principals in zip(identity.originals, identity.principals, strict=True)),
            *(f"{r.ref} stays on ztunnel (L4 only)"
              for r in subjects_of(draft.own, L4_POLICY_RULES) if r.name not in updated
              or r.kind != "AuthorizationPolicy")]


def _l4_files(draft: NamespaceDraft, identity: IdentityUpdates) -> tuple[str | None, str | None]:
    """The L4 policies that also allow the waypoint, and their originals for the rollback."""
    return (draft.files.add("03-l4-policies.yaml", "apply", 3, identity.updated),
            draft.files.add("03-l4-policies.yaml", "rollback", 3, originals(identity.originals)))


def policy_step(draft: NamespaceDraft, changes: PolicyChanges) -> Step:
    """Step 3: apply the rewritten policies and HTTPRoutes, delete the VirtualServices at once.

    A VirtualService and an HTTPRoute for one host must never coexist, so the replaced
    VirtualServices go right away; L4 policies stay on ztunnel and are only listed.
    """
    qns, created, replaced_vs = draft.quoted, changes.created, changes.routes.replaced
    policies = changes.policies
    policy_file = draft.files.add("03-policies.yaml", "apply", 3, created)
    l4_file, l4_back = _l4_files(draft, changes.identity)
    vs_cleanup = draft.files.add("03-replaced-virtualservices.yaml", "delete", 3,
                                 [delete_stub(r) for r in replaced_vs])
    vs_back = draft.files.add("03-virtualservices.yaml", "rollback", 3, originals(replaced_vs))
    moved = _relocations(draft, changes)
    return Step(
        number=3, title="Policy rewrites",
        actions=[*(f"{r.ref} → {c['kind']}/{draft.namespace}/{c['metadata']['name']} with "
                   f"targetRefs: {moved_reason(r)}"
                   for r, c in zip(policies.replaced, policies.created, strict=True)),
                 *(f"{r.ref} → HTTPRoute (parentRefs: the Service)" for r in replaced_vs),
                 *(f"per-version Service {c['metadata']['name']} for a DestinationRule subset"
                   for c in changes.routes.created if c["kind"] == "Service"),
                 *_l4_lines(draft, changes.identity),
                 *(["HTTPRoute `retry` needs Gateway API v1.2+ CRDs (experimental channel)"]
                   if _needs_experimental_retry(created) else []),
                 *moved.actions,
                 *([] if created or l4_file or moved.apply else ["nothing to rewrite"])],
        apply=[p for p in (policy_file, l4_file) if p] + moved.apply,
        commands=[*([f"kubectl delete -f {quote(vs_cleanup)}  # right away: never keep a "
                     "VirtualService and an HTTPRoute for one host"] if vs_cleanup else []),
                  *moved.commands],
        verify=[f"kubectl -n {qns} get httproute,authorizationpolicy,requestauthentication",
                f"istioctl analyze -n {qns}"] if created else [],
        rollback=[*(f"kubectl apply -f {quote(back)}" for back in (vs_back, l4_back) if back),
                  *([f"kubectl delete -f {quote(policy_file)}"] if policy_file else []),
                  *moved.rollback]
        or ["nothing to undo"])


@dataclass
class Relocations:
    """Step 3's part for objects moved here (AMA416) and ServiceEntries bound (AMA105)."""

    actions: list[str]
    apply: list[str]
    commands: list[str]
    rollback: list[str]


def _relocations(draft: NamespaceDraft, changes: PolicyChanges) -> Relocations:
    """Consumer-side routes copied here and their originals deleted; ServiceEntries bound.

    The originals go right after the copies, so one copy applies at a time; each change
    comes with its way back.
    """
    files, moves = draft.files, changes.moves
    copies = files.add("03-moved-routes.yaml", "apply", 3, moves.created)
    cleanup = files.add("03-moved-originals.yaml", "delete", 3,
                        [delete_stub(r) for r in moves.originals])
    back = files.add("03-moved-originals.yaml", "rollback", 3, originals(moves.originals))
    bound = files.add("03-egress-bindings.yaml", "apply", 3,
                      [body for _, body in changes.egress])
    return Relocations(
        actions=[*_moved_lines(draft, moves), *_egress_lines(changes.egress)],
        apply=[p for p in (copies, bound) if p],
        commands=[f"kubectl delete -f {quote(cleanup)}  # right after applying "
                  f"{quote(copies or '')}: one copy applies at a time"] if cleanup else [],
        rollback=[*([f"kubectl apply -f {quote(back)}"] if back else []),
                  *([f"kubectl delete -f {quote(copies)}"] if copies else []),
                  *(f"kubectl -n {quote(entry.namespace or draft.namespace)} label "
                    f"serviceentry {quote(entry.name)} {USE_WAYPOINT_LABEL}-"
                    for entry, _ in changes.egress)])


def _egress_lines(egress: list[tuple[Resource, dict[str, Any]]]) -> list[str]:
    return [f"{entry.ref}: {USE_WAYPOINT_LABEL}={body['metadata']['labels'][USE_WAYPOINT_LABEL]}"
            " (the waypoint is its egress gateway, U-EGRESS-WAYPOINT; sidecar clients never use "
            "a waypoint, so only ambient clients go through it)" for entry, body in egress]


def _moved_lines(draft: NamespaceDraft, moves: RouteMoves) -> list[str]:
    return [f"{r.ref} → {c['kind']}/{draft.namespace}/{c['metadata']['name']}: moved here, "
            f"then deleted in {r.namespace} (a waypoint reads routes only in the service's "
            "namespace or its own, U-WAYPOINT-ROUTE-NAMESPACE)"
            for r, c in zip(moves.originals, moves.created, strict=True)]


def _offer_lines(offered: list[dict[str, Any]], allow_direct: tuple[str, ...]) -> list[str]:
    if not offered:
        return []
    names = ", ".join(o["metadata"]["name"] for o in offered)
    return [f"offered, apply only if you choose to: {names} (DENY on ztunnel for every caller "
            "but the waypoint" + (f" and {', '.join(allow_direct)}" if allow_direct else "")
            + "), so a call straight to a pod cannot skip the L7 policy moved to the waypoint "
            "(U-WAYPOINT-BYPASS); callers that skip the waypoint are denied: sidecar clients "
            "not yet moved, ingress gateways without istio.io/ingress-use-waypoint, plaintext "
            "clients such as metrics scrapers (keep some with --allow-direct)"]


def verify_step(draft: NamespaceDraft, offered: list[dict[str, Any]]) -> Step:
    """Step 5: the whole namespace runs in ambient (and L7 works at the waypoint).

    The waypoint-only policies are offered here, as a file applied by choice: they deny
    every caller that skips the waypoint, which is right only once every caller has moved.
    """
    waypoints, qns = draft.waypoints, draft.quoted
    offer = draft.files.add("05-offered-waypoint-only.yaml", "apply", 5, offered)
    return Step(
        number=5, title="Verify",
        actions=["pods run without an istio-proxy container and ztunnel lists them (HBONE)",
                 *(["L7 behaviour (routes, JWT, authorization, telemetry) works at the "
                    "waypoint"] if waypoints else []),
                 *_offer_lines(offered, draft.data.allow_direct)],
        commands=[f"kubectl apply -f {quote(offer)}  # offered: only callers through the "
                  "waypoint reach the pods"] if offer else [],
        verify=[f"istioctl ztunnel-config workloads --namespace {qns}",
                *([f"istioctl waypoint status -n {qns}"] if waypoints else []),
                f"kubectl -n {qns} get pods -L istio.io/dataplane-mode",
                f"asm-advisor analyze <manifests with {qns}/*.yaml applied>  # current: ambient"],
        rollback=[*([f"kubectl delete -f {quote(offer)}",
                     "if you applied the offered policies, delete them first (command below)"]
                    if offer else []), "roll back steps 4, 3, 2 and 1, in that order"])


def review_items(draft: NamespaceDraft) -> list[ManualItem]:
    """What the findings ask a person to decide: risky filters, downtime.

    L7 authorization has no zero-downtime migration, so it needs a maintenance window.
    (Services an ingress route sends traffic to are labelled in step 4 instead.)
    """
    ns, own = draft.namespace, draft.own
    items: list[ManualItem] = []
    for rule, reason in RISKY_RULES:
        items.extend(ManualItem(object=resource.ref, reason=reason, rows=["L-EXTENSIBILITY"])
                     for resource in subjects_of(own, (rule,)))
    if any(fired(f, L7_AUTHORIZATION_RULES) for f in own):
        items.append(ManualItem(
            object=f"Namespace/{ns}", reason="L7 authorization moves to the waypoint: plan a "
            "maintenance window (no zero-downtime migration with L7 policies)",
            rows=["L-SECURITY", "M-SECURITY"]))
    return items


def build_steps(data: NamespaceInput) -> tuple[list[Step], list[Manifest], list[ManualItem]]:
    """Files, steps and manual items of one namespace, step by step in the guide's order."""
    ns = data.verdict.name
    draft = NamespaceDraft(data=data, files=Files(ns),
                           own=[f for f in data.findings if f.namespace == ns])
    preconditions, waypoints = preconditions_step(draft), waypoints_step(draft)
    changes = policy_changes(draft)
    policies = policy_step(draft, changes)
    enrol = enrolment_step(draft, enrolment(draft, changes.policies))
    steps = [preconditions, waypoints, policies, enrol, verify_step(draft, changes.offered)]
    manual = sorted([*draft.manual, *review_items(draft)], key=lambda m: (m.object, m.reason))
    return steps, draft.files.manifests, manual
