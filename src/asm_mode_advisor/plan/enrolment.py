"""Step 4 of a namespace plan: enrolment, the rolling restart and what goes after it.

Injection labels come off first, so no pod started afterwards gets a sidecar; a workload
whose pod template the plan re-applies rolls out by that apply and is not restarted again.
"""

from __future__ import annotations

from dataclasses import dataclass
from shlex import quote

from asm_mode_advisor.domain import INJECTION_LABEL, REVISION_LABEL
from asm_mode_advisor.model import Resource
from asm_mode_advisor.plan.draft import (
    RESTARTABLE,
    NamespaceDraft,
    originals,
    restart_command,
)
from asm_mode_advisor.plan.enrol import labelled_service, namespace_object, workload_updates
from asm_mode_advisor.plan.model import Step
from asm_mode_advisor.plan.objects import delete_stub
from asm_mode_advisor.plan.rewrite import PolicyRewrites, replaced_reason
from asm_mode_advisor.plan.rule_roles import (
    DELETE_AFTER_RESTART_REASONS,
    INGRESS_WAYPOINT_RULES,
    subjects_of,
)
from asm_mode_advisor.rules.waypoint_effects import INGRESS_USE_WAYPOINT_LABEL


@dataclass
class Enrolment:
    """Step 4's changes and the files that hold them."""

    bound_namespace: str | None  # the waypoint bound on the namespace, if any
    services: list[tuple[Resource, str | None, bool]]  # (Service, its waypoint, ingress label)
    templates: list[Resource]  # workloads whose pod template loses its sidecar settings
    after_restart: list[tuple[Resource, str]]  # deleted right after the restart, and why
    enrol_file: str | None
    cleanup_file: str | None
    rollback_file: str | None


def _labelled_services(draft: NamespaceDraft) -> list[tuple[Resource, str | None, bool]]:
    """Services bound to their own waypoint, or that let ingress traffic through it, or both."""
    bound = {w.services[0]: w.name for w in draft.waypoints if w.bound_by == "service"}
    ingress = {r.name for r in subjects_of(draft.own, INGRESS_WAYPOINT_RULES)
               if r.kind == "Service"}
    found = []
    for name in sorted(set(bound) | ingress):
        service = draft.inventory.service(draft.namespace, name)
        if service is not None:
            found.append((service, bound.get(name), name in ingress))
    return found


def _deletions(draft: NamespaceDraft, policies: PolicyRewrites) -> list[tuple[Resource, str]]:
    """What goes right after the restart, each with the reason for that object."""
    found = [(r, replaced_reason(r, c["metadata"]["name"]))
             for r, c in zip(policies.replaced, policies.created, strict=True)]
    for rule, reason in DELETE_AFTER_RESTART_REASONS:
        found.extend((r, reason) for r in subjects_of(draft.own, (rule,)))
    return found


def enrolment(draft: NamespaceDraft, policies: PolicyRewrites) -> Enrolment:
    """Label the namespace (and Services) for ambient, clean pod templates, list deletions.

    Selector policies replaced in step 3, Sidecar objects and redundant VirtualServices are
    deleted only after the restart: until then the sidecars still read them.
    """
    inventory, ns, files = draft.inventory, draft.namespace, draft.files
    bound_ns = next((w.name for w in draft.waypoints if w.bound_by == "namespace"), None)
    labelled = _labelled_services(draft)
    workloads, templates, workload_manual = workload_updates(inventory, ns)
    draft.manual.extend(workload_manual)
    enrol_file = files.add("04-enrolment.yaml", "apply", 4, [
        namespace_object(inventory, ns, bound_ns),
        *(labelled_service(s, name, ingress) for s, name, ingress in labelled), *workloads])
    after_restart = _deletions(draft, policies)
    cleanup = files.add("04-after-restart.yaml", "delete", 4,
                        [delete_stub(r) for r, _ in after_restart])
    ns_object = inventory.namespace_objects.get(ns)
    rollback = files.add("04-enrolment.yaml", "rollback", 4, originals(
        ([ns_object] if ns_object else []) + [s for s, _, _ in labelled] + templates
        + [r for r, _ in after_restart]))
    return Enrolment(bound_namespace=bound_ns, services=labelled, templates=templates,
                     after_restart=after_restart, enrol_file=enrol_file, cleanup_file=cleanup,
                     rollback_file=rollback)


def _service_line(service: Resource, waypoint: str | None, ingress: bool) -> str:
    labels = [*([f"istio.io/use-waypoint={waypoint}"] if waypoint else []),
              *([f"{INGRESS_USE_WAYPOINT_LABEL}=true (an ingress route sends traffic to it; "
                 "without the label the ingress gateway skips the waypoint, "
                 "U-INGRESS-WAYPOINT)"] if ingress else [])]
    return f"Service {service.name}: {', '.join(labels)}"


def _enrolment_actions(draft: NamespaceDraft, change: Enrolment, restart: bool) -> list[str]:
    labels = draft.inventory.namespace_labels(draft.namespace)
    old_labels = [f"{k}={labels[k]}" for k in (INJECTION_LABEL, REVISION_LABEL) if k in labels]
    bound_ns = change.bound_namespace
    return [f"namespace {draft.namespace}: "
            + (f"remove {', '.join(old_labels)} first (pods started afterwards get no "
               "sidecar), then " if old_labels else "")
            + "istio.io/dataplane-mode=ambient"
            + (f", istio.io/use-waypoint={bound_ns}" if bound_ns else ""),
            *(_service_line(s, name, ingress) for s, name, ingress in change.services),
            *(f"{r.ref}: pod template without sidecar settings; " + (
                "applying it rolls the pods out once (no restart on top)"
                if r.kind in RESTARTABLE else "pods created from it start without a sidecar")
              for r in change.templates),
            *(["rolling restart" + (" of the workloads not re-applied above"
                                     if change.templates else "")
               + ": new pods start without a sidecar (M-ONBOARDING)"] if restart else []),
            *(f"right after the restart, delete {r.ref}: {why}"
              for r, why in change.after_restart)]


def enrolment_step(draft: NamespaceDraft, change: Enrolment) -> Step:
    """Step 4: injection labels off, ambient labels and templates on, restart, deletions.

    A workload whose template the plan re-applies rolls out by that apply: restarting it too
    would roll it out twice. The injection labels go first so no new pod gets a sidecar.
    """
    qns = draft.quoted
    labels = draft.inventory.namespace_labels(draft.namespace)
    old_labels = [f"{k}={labels[k]}" for k in (INJECTION_LABEL, REVISION_LABEL) if k in labels]
    restart = restart_command(draft.inventory, draft.namespace, change.templates)
    return Step(
        number=4, title="Enrolment",
        actions=_enrolment_actions(draft, change, restart is not None),
        commands=[f"kubectl label namespace {qns} {INJECTION_LABEL}- {REVISION_LABEL}-",
                  *([f"kubectl apply -f {quote(change.enrol_file)}"] if change.enrol_file
                    else []),
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
