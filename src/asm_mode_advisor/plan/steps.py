"""One namespace's plan: files and numbered steps, in the order of Istio's migration guide.

One function per step; ``build_steps`` runs them in order, as the guide does: preconditions,
waypoints, policy rewrites, enrolment, verification, then what needs review by hand. Paths in
commands are relative to the plan directory (where PLAN.md is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from shlex import quote
from typing import Any

from asm_mode_advisor.domain import INJECTION_LABEL, REVISION_LABEL
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.model import Resource
from asm_mode_advisor.plan.enrol import (
    PROBE_SNAT_CIDR,
    namespace_object,
    network_policy_updates,
    service_with_waypoint,
    workload_updates,
)
from asm_mode_advisor.plan.model import FileAction, Manifest, ManualItem, PlannedWaypoint, Step
from asm_mode_advisor.plan.objects import clean_copy, delete_stub, waypoint_gateway
from asm_mode_advisor.plan.rewrite import (
    PolicyRewrites,
    hidden_client_identity,
    policy_rewrites,
)
from asm_mode_advisor.plan.routes import RouteConversions, convert_virtual_services
from asm_mode_advisor.plan.rule_roles import (
    DELETE_AFTER_RESTART,
    INGRESS_ONLY_RULES,
    L4_POLICY_RULES,
    L7_AUTHORIZATION_RULES,
    REDUNDANT_ROUTE_RULES,
    RISKY_RULES,
    fired,
    subjects_of,
)
from asm_mode_advisor.report import NamespaceVerdict
from asm_mode_advisor.rules import Finding

#: Workload kinds ``kubectl rollout restart`` accepts.
RESTARTABLE = ("Deployment", "StatefulSet", "DaemonSet")


@dataclass
class Files:
    """Manifests of one namespace, by step, in a fixed order."""

    namespace: str
    manifests: list[Manifest] = field(default_factory=list)

    def add(self, name: str, action: FileAction, step: int,
            objects: list[dict[str, Any]]) -> str | None:
        """Record a file (none when empty); return its path relative to the plan root."""
        if not objects:
            return None
        folder = {"apply": "", "delete": "cleanup/", "rollback": "rollback/"}[action]
        path = f"{self.namespace}/{folder}{name}"
        self.manifests.append(Manifest(path=path, action=action, step=step, objects=objects))
        return path


@dataclass
class NamespaceInput:
    """What a namespace plan is built from."""

    inventory: Inventory
    verdict: NamespaceVerdict
    findings: list[Finding]
    waypoints: list[PlannedWaypoint]
    mesh_version: str


@dataclass
class NamespaceDraft:
    """One namespace's plan while its steps are built: the files and manual items so far."""

    data: NamespaceInput
    files: Files
    own: list[Finding]  # the findings of this namespace
    manual: list[ManualItem] = field(default_factory=list)

    @property
    def namespace(self) -> str:
        """The namespace's name."""
        return self.data.verdict.name

    @property
    def quoted(self) -> str:
        """The name as one shell word (names are validated at load, too)."""
        return quote(self.namespace)

    @property
    def inventory(self) -> Inventory:
        """Every object of the input."""
        return self.data.inventory

    @property
    def waypoints(self) -> list[PlannedWaypoint]:
        """The waypoints the plan deploys or reuses here."""
        return self.data.waypoints


def _originals(resources: list[Resource]) -> list[dict[str, Any]]:
    return [clean_copy(r) for r in resources]


def _restart_command(inventory: Inventory, namespace: str) -> str | None:
    names = [quote(f"{w.resource.kind.lower()}/{w.resource.name}")
             for w in inventory.workloads(namespace) if w.resource.kind in RESTARTABLE]
    return f"kubectl -n {quote(namespace)} rollout restart {' '.join(names)}" if (
        names) else None


def preconditions_step(draft: NamespaceDraft) -> Step:
    """Step 1: ambient installed, Gateway API CRDs for waypoints, NetworkPolicies let HBONE in.

    NetworkPolicies come first because ztunnel's port 15008 and the kubelet probe address must
    be open before any pod is enrolled.
    """
    waypoints, qns = draft.waypoints, draft.quoted
    netpols, originals = network_policy_updates(draft.inventory, draft.namespace)
    netpol_file = draft.files.add("01-network-policies.yaml", "apply", 1, netpols)
    netpol_back = draft.files.add("01-network-policies.yaml", "rollback", 1,
                                  _originals(originals))
    return Step(
        number=1, title="Preconditions",
        actions=[f"mesh version {draft.data.mesh_version}: ambient is production-ready from "
                 "1.25 (N-VERSION)",
                 "istio-cni and ztunnel run on every node (ambient profile installed)",
                 *(["Gateway API CRDs installed (waypoints are Gateway objects)"]
                   if waypoints else []),
                 *([f"NetworkPolicies {', '.join(r.name for r in originals)}: allow TCP "
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
                   f"{' '.join(quote(r.name) for r in originals)} -o yaml | grep -c 15008"]
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
    draft.manual.extend(hidden_client_identity(draft.own, draft.waypoints))
    redundant = {r.name for r in subjects_of(draft.own, REDUNDANT_ROUTE_RULES)}
    routes = convert_virtual_services(draft.inventory, draft.namespace, redundant) if (
        draft.waypoints) else RouteConversions()
    draft.manual.extend(routes.manual)
    return PolicyChanges(policies=policies, routes=routes)


def _needs_experimental_retry(created: list[dict[str, Any]]) -> bool:
    return any("retry" in rule for c in created if c["kind"] == "HTTPRoute"
               for rule in c["spec"]["rules"])


def policy_step(draft: NamespaceDraft, changes: PolicyChanges) -> Step:
    """Step 3: apply the rewritten policies and HTTPRoutes, delete the VirtualServices at once.

    A VirtualService and an HTTPRoute for one host must never coexist, so the replaced
    VirtualServices go right away; L4 policies stay on ztunnel and are only listed.
    """
    qns, created, replaced_vs = draft.quoted, changes.created, changes.routes.replaced
    policies = changes.policies
    policy_file = draft.files.add("03-policies.yaml", "apply", 3, created)
    vs_cleanup = draft.files.add("03-replaced-virtualservices.yaml", "delete", 3,
                                 [delete_stub(r) for r in replaced_vs])
    vs_back = draft.files.add("03-virtualservices.yaml", "rollback", 3, _originals(replaced_vs))
    return Step(
        number=3, title="Policy rewrites",
        actions=[*(f"{r.ref} → {c['kind']}/{draft.namespace}/{c['metadata']['name']} with "
                   "targetRefs" for r, c in zip(policies.replaced, policies.created, strict=True)),
                 *(f"{r.ref} → HTTPRoute (parentRefs: the Service)" for r in replaced_vs),
                 *(f"per-version Service {c['metadata']['name']} for a DestinationRule subset"
                   for c in changes.routes.created if c["kind"] == "Service"),
                 *(f"{r.ref} stays on ztunnel (L4 only)"
                   for r in subjects_of(draft.own, L4_POLICY_RULES)),
                 *(["HTTPRoute `retry` needs Gateway API v1.2+ CRDs (experimental channel)"]
                   if _needs_experimental_retry(created) else []),
                 *([] if created else ["nothing to rewrite"])],
        apply=[p for p in (policy_file,) if p],
        commands=[f"kubectl delete -f {quote(vs_cleanup)}  # right away: never keep a "
                  "VirtualService and an HTTPRoute for one host"] if vs_cleanup else [],
        verify=[f"kubectl -n {qns} get httproute,authorizationpolicy,requestauthentication",
                f"istioctl analyze -n {qns}"] if created else [],
        rollback=[*([f"kubectl apply -f {quote(vs_back)}"] if vs_back else []),
                  *([f"kubectl delete -f {quote(policy_file)}"] if policy_file else [])]
        or ["nothing to undo"])


@dataclass
class Enrolment:
    """Step 4's changes and the files that hold them."""

    bound_namespace: str | None  # the waypoint bound on the namespace, if any
    bound_services: list[tuple[Resource, str]]  # (Service, its waypoint)
    templates: list[Resource]  # workloads whose pod template loses its sidecar settings
    after_restart: list[Resource]  # deleted right after the rolling restart
    enrol_file: str | None
    cleanup_file: str | None
    rollback_file: str | None


def enrolment(draft: NamespaceDraft, replaced_policies: list[Resource]) -> Enrolment:
    """Label the namespace (and Services) for ambient, clean pod templates, list deletions.

    Selector policies replaced in step 3, Sidecar objects and redundant VirtualServices are
    deleted only after the restart: until then the sidecars still read them.
    """
    inventory, ns, files = draft.inventory, draft.namespace, draft.files
    bound_ns = next((w.name for w in draft.waypoints if w.bound_by == "namespace"), None)
    per_service = [w for w in draft.waypoints if w.bound_by == "service"]
    services = [inventory.service(ns, w.services[0]) for w in per_service]
    labelled = [(s, w.name) for s, w in zip(services, per_service, strict=True) if s is not None]
    workloads, templates, workload_manual = workload_updates(inventory, ns)
    draft.manual.extend(workload_manual)
    enrol_file = files.add("04-enrolment.yaml", "apply", 4, [
        namespace_object(inventory, ns, bound_ns),
        *(service_with_waypoint(s, name) for s, name in labelled), *workloads])
    after_restart = [*replaced_policies, *subjects_of(draft.own, DELETE_AFTER_RESTART)]
    cleanup = files.add("04-after-restart.yaml", "delete", 4,
                        [delete_stub(r) for r in after_restart])
    ns_object = inventory.namespace_objects.get(ns)
    rollback = files.add("04-enrolment.yaml", "rollback", 4, _originals(
        ([ns_object] if ns_object else []) + [s for s, _ in labelled] + templates
        + after_restart))
    return Enrolment(bound_namespace=bound_ns, bound_services=labelled, templates=templates,
                     after_restart=after_restart, enrol_file=enrol_file, cleanup_file=cleanup,
                     rollback_file=rollback)


def enrolment_step(draft: NamespaceDraft, change: Enrolment) -> Step:
    """Step 4: ambient labels on, injection labels off, rolling restart, then the deletions."""
    qns, bound_ns, after_restart = draft.quoted, change.bound_namespace, change.after_restart
    labels = draft.inventory.namespace_labels(draft.namespace)
    old_labels = [f"{k}={labels[k]}" for k in (INJECTION_LABEL, REVISION_LABEL) if k in labels]
    restart = _restart_command(draft.inventory, draft.namespace)
    return Step(
        number=4, title="Enrolment",
        actions=[f"namespace {draft.namespace}: istio.io/dataplane-mode=ambient"
                 + (f", istio.io/use-waypoint={bound_ns}" if bound_ns else "")
                 + (f"; remove {', '.join(old_labels)}" if old_labels else ""),
                 *(f"Service {s.name}: istio.io/use-waypoint={name}"
                   for s, name in change.bound_services),
                 *(f"{r.ref}: pod template without sidecar settings" for r in change.templates),
                 "rolling restart: new pods start without a sidecar (M-ONBOARDING)",
                 *([f"right after the restart, delete {', '.join(r.ref for r in after_restart)}"
                    " (selector L7 policies left on ztunnel deny all traffic)"]
                   if after_restart else [])],
        apply=[change.enrol_file] if change.enrol_file else [],
        commands=[f"kubectl label namespace {qns} {INJECTION_LABEL}- {REVISION_LABEL}-",
                  *([restart] if restart else []),
                  *([f"kubectl delete -f {quote(change.cleanup_file)}"]
                    if change.cleanup_file else [])],
        verify=[f"istioctl ztunnel-config workloads --namespace {qns}  # protocol HBONE",
                f"kubectl -n {qns} get pods -L istio.io/dataplane-mode,istio.io/use-waypoint",
                f"kubectl -n {qns} get pods -o jsonpath='{{range .items[*]}}{{.metadata.name}} "
                "{.spec.containers[*].name}{\"\\n\"}{end}' | grep istio-proxy || true"],
        rollback=[f"kubectl label namespace {qns} istio.io/dataplane-mode- "
                  "istio.io/use-waypoint-"
                  + (f" {' '.join(quote(label) for label in old_labels)}" if old_labels else ""),
                  *([f"kubectl apply -f {quote(change.rollback_file)}"]
                    if change.rollback_file else []),
                  *([restart] if restart else [])])


def verify_step(draft: NamespaceDraft) -> Step:
    """Step 5: the whole namespace runs in ambient (and L7 works at the waypoint)."""
    waypoints, qns = draft.waypoints, draft.quoted
    return Step(
        number=5, title="Verify",
        actions=["pods run without an istio-proxy container and ztunnel lists them (HBONE)",
                 *(["L7 behaviour (routes, JWT, authorization, telemetry) works at the "
                    "waypoint"] if waypoints else [])],
        verify=[f"istioctl ztunnel-config workloads --namespace {qns}",
                *([f"istioctl waypoint status -n {qns}"] if waypoints else []),
                f"kubectl -n {qns} get pods -L istio.io/dataplane-mode",
                f"asm-advisor analyze <manifests with {qns}/*.yaml applied>  # current: ambient"],
        rollback=["roll back steps 4, 3, 2 and 1, in that order"])


def review_items(draft: NamespaceDraft) -> list[ManualItem]:
    """What the findings ask a person to decide: ingress routes, risky filters, downtime.

    Ingress gateway traffic skips the waypoint unless labelled; L7 authorization has no
    zero-downtime migration, so it needs a maintenance window.
    """
    ns, own = draft.namespace, draft.own
    items = []
    if draft.waypoints and subjects_of(own, INGRESS_ONLY_RULES):
        items.append(ManualItem(
            object=f"Namespace/{ns}", reason="ingress gateway traffic skips the waypoint: label "
            "the namespace or Services istio.io/ingress-use-waypoint=true if waypoint policies "
            "must apply to it", rows=["L-ROUTING", "L-SECURITY"]))
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
    enrol = enrolment_step(draft, enrolment(draft, changes.policies.replaced))
    steps = [preconditions, waypoints, policies, enrol, verify_step(draft)]
    manual = sorted([*draft.manual, *review_items(draft)], key=lambda m: (m.object, m.reason))
    return steps, draft.files.manifests, manual
