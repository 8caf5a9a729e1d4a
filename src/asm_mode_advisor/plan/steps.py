"""One namespace's plan: files and numbered steps, in the order of Istio's migration guide.

Paths in commands are relative to the plan directory (where PLAN.md is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from shlex import quote
from typing import Any

from asm_mode_advisor.inventory import INJECTION_LABEL, REVISION_LABEL, Inventory
from asm_mode_advisor.model import Effect, Mode, Resource
from asm_mode_advisor.plan.enrol import (
    PROBE_SNAT_CIDR,
    namespace_object,
    network_policy_updates,
    service_with_waypoint,
    workload_updates,
)
from asm_mode_advisor.plan.model import FileAction, Manifest, ManualItem, PlannedWaypoint, Step
from asm_mode_advisor.plan.objects import clean_copy, delete_stub, waypoint_gateway
from asm_mode_advisor.plan.rewrite import hidden_client_identity, policy_rewrites
from asm_mode_advisor.plan.routes import convert_virtual_services
from asm_mode_advisor.report import NamespaceVerdict
from asm_mode_advisor.rules import Finding

RESTARTABLE = ("Deployment", "StatefulSet", "DaemonSet")
DELETE_AFTER_RESTART = frozenset({"AMA405", "AMA408"})
INGRESS_ONLY_RULE = "AMA409"
RISKY_RULES = {"AMA131": "EnvoyFilter on a waypoint is Alpha and changed between releases; "
                         "test it on this exact ASM version"}


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


def _originals(resources: list[Resource]) -> list[dict[str, Any]]:
    return [clean_copy(r) for r in resources]


def _restart_command(inventory: Inventory, namespace: str) -> str | None:
    names = [quote(f"{w.resource.kind.lower()}/{w.resource.name}")
             for w in inventory.workloads(namespace) if w.resource.kind in RESTARTABLE]
    return f"kubectl -n {quote(namespace)} rollout restart {' '.join(names)}" if (
        names) else None


def planned_waypoints(verdict: NamespaceVerdict, per_service: bool) -> list[PlannedWaypoint]:
    """Waypoints from the verdict: one per namespace, or one per service on request."""
    if not verdict.waypoints:
        return []
    shared = verdict.waypoints[0]
    if per_service and shared.services and not shared.workloads and not shared.exists:
        return [PlannedWaypoint.model_validate({"name": f"{name}-waypoint", "for": "service",
                                                "services": [name], "boundBy": "service"})
                for name in shared.services]
    return [PlannedWaypoint.model_validate({"name": shared.name, "for": shared.for_,
                                            "services": shared.services,
                                            "boundBy": "namespace", "exists": shared.exists})]


@dataclass
class NamespaceInput:
    """What a namespace plan is built from."""

    inventory: Inventory
    verdict: NamespaceVerdict
    findings: list[Finding]
    waypoints: list[PlannedWaypoint]
    mesh_version: str


def _findings_of(findings: list[Finding], rule_ids: frozenset[str]) -> list[Resource]:
    found = {(f.objects[0].kind, f.objects[0].name): f.objects[0]
             for f in findings if f.rule.id in rule_ids and f.objects}
    return [found[key] for key in sorted(found)]


def build_steps(data: NamespaceInput) -> tuple[list[Step], list[Manifest], list[ManualItem]]:
    """Files, steps and manual items of one namespace."""
    inventory, ns, waypoints = data.inventory, data.verdict.name, data.waypoints
    files = Files(ns)
    qns = quote(ns)  # every name in a command is quoted (names are validated at load, too)
    manual: list[ManualItem] = []
    own = [f for f in data.findings if f.namespace == ns]

    # Step 1: preconditions.
    netpols, netpol_originals = network_policy_updates(inventory, ns)
    netpol_file = files.add("01-network-policies.yaml", "apply", 1, netpols)
    netpol_back = files.add("01-network-policies.yaml", "rollback", 1,
                            _originals(netpol_originals))
    step1 = Step(
        number=1, title="Preconditions",
        actions=[f"mesh version {data.mesh_version}: ambient is production-ready from 1.25 "
                 "(N-VERSION)",
                 "istio-cni and ztunnel run on every node (ambient profile installed)",
                 *(["Gateway API CRDs installed (waypoints are Gateway objects)"]
                   if waypoints else []),
                 *([f"NetworkPolicies {', '.join(r.name for r in netpol_originals)}: allow TCP "
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
                   f"{' '.join(quote(r.name) for r in netpol_originals)} -o yaml "
                   "| grep -c 15008"]
                  if netpols else [])],
        rollback=[f"kubectl apply -f {quote(netpol_back)}"] if netpol_back else [
            "nothing to undo"])

    # Step 2: waypoints.
    new_waypoints = [waypoint_gateway(w.name, ns, w.for_) for w in waypoints if not w.exists]
    waypoint_file = files.add("02-waypoints.yaml", "apply", 2, new_waypoints)
    step2 = Step(
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

    # Step 3: policy rewrites.
    taken = {(r.kind, r.name) for r in inventory.in_namespace(ns)}
    policies = policy_rewrites(own, waypoints, taken)
    manual.extend(policies.manual)
    manual.extend(hidden_client_identity(own, waypoints))
    redundant = _findings_of(own, frozenset({"AMA408"}))
    routes = convert_virtual_services(inventory, ns, {r.name for r in redundant}) if (
        waypoints) else None
    created = policies.created + (routes.created if routes else [])
    policy_file = files.add("03-policies.yaml", "apply", 3, created)
    replaced_vs = routes.replaced if routes else []
    vs_cleanup = files.add("03-replaced-virtualservices.yaml", "delete", 3,
                           [delete_stub(r) for r in replaced_vs])
    vs_back = files.add("03-virtualservices.yaml", "rollback", 3, _originals(replaced_vs))
    if routes:
        manual.extend(routes.manual)
    l4 = _findings_of(own, frozenset({"AMA210"}))
    step3 = Step(
        number=3, title="Policy rewrites",
        actions=[*(f"{r.ref} → {c['kind']}/{ns}/{c['metadata']['name']} with targetRefs"
                   for r, c in zip(policies.replaced, policies.created, strict=True)),
                 *(f"{r.ref} → HTTPRoute (parentRefs: the Service)" for r in replaced_vs),
                 *(f"per-version Service {c['metadata']['name']} for a DestinationRule subset"
                   for c in (routes.created if routes else []) if c["kind"] == "Service"),
                 *(f"{r.ref} stays on ztunnel (L4 only)" for r in l4),
                 *(["HTTPRoute `retry` needs Gateway API v1.2+ CRDs (experimental channel)"]
                   if any("retry" in rule for c in created if c["kind"] == "HTTPRoute"
                          for rule in c["spec"]["rules"]) else []),
                 *([] if created else ["nothing to rewrite"])],
        apply=[p for p in (policy_file,) if p],
        commands=[f"kubectl delete -f {quote(vs_cleanup)}  # right away: never keep a "
                  "VirtualService and an HTTPRoute for one host"] if vs_cleanup else [],
        verify=[f"kubectl -n {qns} get httproute,authorizationpolicy,requestauthentication",
                f"istioctl analyze -n {qns}"] if created else [],
        rollback=[*([f"kubectl apply -f {quote(vs_back)}"] if vs_back else []),
                  *([f"kubectl delete -f {quote(policy_file)}"] if policy_file else [])]
        or ["nothing to undo"])

    # Step 4: enrolment.
    bound_ns = next((w.name for w in waypoints if w.bound_by == "namespace"), None)
    services = [inventory.service(ns, w.services[0]) for w in waypoints
                if w.bound_by == "service"]
    labelled = [(s, w.name) for s, w in zip(services, [w for w in waypoints
                                                       if w.bound_by == "service"], strict=True)
                if s is not None]
    workloads, workload_originals, workload_manual = workload_updates(inventory, ns)
    manual.extend(workload_manual)
    enrol = [namespace_object(inventory, ns, bound_ns),
             *(service_with_waypoint(s, name) for s, name in labelled), *workloads]
    enrol_file = files.add("04-enrolment.yaml", "apply", 4, enrol)
    after_restart = [r for r in policies.replaced] + _findings_of(
        own, DELETE_AFTER_RESTART)
    cleanup = files.add("04-after-restart.yaml", "delete", 4,
                        [delete_stub(r) for r in after_restart])
    ns_object = inventory.namespace_objects.get(ns)
    enrol_back = files.add("04-enrolment.yaml", "rollback", 4, _originals(
        ([ns_object] if ns_object else []) + [s for s, _ in labelled] + workload_originals
        + after_restart))
    labels = inventory.namespace_labels(ns)
    old_labels = [f"{k}={labels[k]}" for k in (INJECTION_LABEL, REVISION_LABEL) if k in labels]
    restart = _restart_command(inventory, ns)
    step4 = Step(
        number=4, title="Enrolment",
        actions=[f"namespace {ns}: istio.io/dataplane-mode=ambient"
                 + (f", istio.io/use-waypoint={bound_ns}" if bound_ns else "")
                 + (f"; remove {', '.join(old_labels)}" if old_labels else ""),
                 *(f"Service {s.name}: istio.io/use-waypoint={name}" for s, name in labelled),
                 *(f"{r.ref}: pod template without sidecar settings"
                   for r in workload_originals),
                 "rolling restart: new pods start without a sidecar (M-ONBOARDING)",
                 *([f"right after the restart, delete {', '.join(r.ref for r in after_restart)}"
                    " (selector L7 policies left on ztunnel deny all traffic)"]
                   if after_restart else [])],
        apply=[enrol_file] if enrol_file else [],
        commands=[f"kubectl label namespace {qns} {INJECTION_LABEL}- {REVISION_LABEL}-",
                  *([restart] if restart else []),
                  *([f"kubectl delete -f {quote(cleanup)}"] if cleanup else [])],
        verify=[f"istioctl ztunnel-config workloads --namespace {qns}  # protocol HBONE",
                f"kubectl -n {qns} get pods -L istio.io/dataplane-mode,istio.io/use-waypoint",
                f"kubectl -n {qns} get pods -o jsonpath='{{range .items[*]}}{{.metadata.name}} "
                "{.spec.containers[*].name}{\"\\n\"}{end}' | grep istio-proxy || true"],
        rollback=[f"kubectl label namespace {qns} istio.io/dataplane-mode- "
                  "istio.io/use-waypoint-"
                  + (f" {' '.join(quote(label) for label in old_labels)}" if old_labels else ""),
                  *([f"kubectl apply -f {quote(enrol_back)}"] if enrol_back else []),
                  *([restart] if restart else [])])

    # Step 5: verify the whole namespace.
    step5 = Step(
        number=5, title="Verify",
        actions=["pods run without an istio-proxy container and ztunnel lists them (HBONE)",
                 *(["L7 behaviour (routes, JWT, authorization, telemetry) works at the "
                    "waypoint"] if waypoints else [])],
        verify=[f"istioctl ztunnel-config workloads --namespace {qns}",
                *([f"istioctl waypoint status -n {qns}"] if waypoints else []),
                f"kubectl -n {qns} get pods -L istio.io/dataplane-mode",
                f"asm-advisor analyze <manifests with {qns}/*.yaml applied>  # current: ambient"],
        rollback=["roll back steps 4, 3, 2 and 1, in that order"])

    if waypoints and _findings_of(own, frozenset({INGRESS_ONLY_RULE})):
        manual.append(ManualItem(
            object=f"Namespace/{ns}", reason="ingress gateway traffic skips the waypoint: label "
            "the namespace or Services istio.io/ingress-use-waypoint=true if waypoint policies "
            "must apply to it", rows=["L-ROUTING", "L-SECURITY"]))
    for resource in _findings_of(own, frozenset(RISKY_RULES)):
        manual.append(ManualItem(object=resource.ref, reason=RISKY_RULES["AMA131"],
                                 rows=["L-EXTENSIBILITY"]))
    if any(f.rule.id in ("AMA111", "AMA112", "AMA110") for f in own):
        manual.append(ManualItem(
            object=f"Namespace/{ns}", reason="L7 authorization moves to the waypoint: plan a "
            "maintenance window (no zero-downtime migration with L7 policies)",
            rows=["L-SECURITY", "M-SECURITY"]))
    manual.sort(key=lambda m: (m.object, m.reason))
    return [step1, step2, step3, step4, step5], files.manifests, manual


def is_planned(verdict: NamespaceVerdict) -> bool:
    """Namespaces the plan moves: recommended ambient or ambient-waypoint."""
    return verdict.recommendation in (Mode.AMBIENT.value, Mode.AMBIENT_WAYPOINT.value)


def blockers(verdict: NamespaceVerdict) -> list[tuple[str, str]]:
    """``(rule id, reason text)`` of each blocks-ambient reason."""
    found = []
    for reason in verdict.reasons:
        if reason.effect != Effect.BLOCKS_AMBIENT.value:
            continue
        where = next((f" ({o.file}:{o.line})" if o.file and o.line else f" ({o.file})"
                      for o in reason.objects if o.file), "")
        found.append((reason.rule_id, f"{reason.rule_id} {reason.message} "
                                      f"[{', '.join(reason.matrix_rows)}]{where}"))
    return found
