"""Conformance of labels with ambient: waypoint bindings, dual-mode labels, sidecar leftovers.

The binding and leftover checks look only at namespaces that run ambient (see
:func:`ambient_namespaces`); they build on the detectors' findings and never change a
recommendation (they are migration chores). The dual-mode check looks at every namespace.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from asm_mode_advisor.domain import DATAPLANE_LABEL, INJECTION_LABEL, REVISION_LABEL
from asm_mode_advisor.kinds import pod_template_path
from asm_mode_advisor.model import Mode, Resource, Severity
from asm_mode_advisor.rules import namespace_state
from asm_mode_advisor.rules._ambient import (
    AMBIENT_NAMESPACE_EXAMPLE,
    WAYPOINT_EXAMPLE,
    WAYPOINT_KIND,
    accepts,
    ambient_namespaces,
    bindings_in,
    waypoint_for,
    waypoint_named,
    with_source_rows,
)
from asm_mode_advisor.rules._base import (
    WORKLOADS,
    Check,
    Context,
    Detector,
    FieldPath,
    Finding,
    Rule,
    specs,
)
from asm_mode_advisor.rules._scoped import ScopedInventory

MISSING_WAYPOINT = Rule(
    id="AMA505", name="use-waypoint-missing",
    title="istio.io/use-waypoint names a waypoint that does not exist",
    need="mode-labels", rows=("M-TRAFFIC", "M-UTILIZATION"), severity=Severity.ERROR,
    kinds=("Namespace", "Service", *WORKLOADS),
    rationale=(
        "Traffic is sent to the named waypoint only when a Gateway of class "
        "`istio-waypoint` with that name exists (in `istio.io/use-waypoint-namespace`, or the "
        "object's own namespace). A typo or a missing Gateway leaves every L7 rule unapplied."),
    triggers=("""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypiont}
""" + WAYPOINT_EXAMPLE,),
)

WAYPOINT_FOR_MISMATCH = Rule(
    id="AMA506", name="waypoint-for-mismatch",
    title="Waypoint does not accept the traffic type it is bound for",
    need="mode-labels", rows=("M-TRAFFIC", "M-UTILIZATION"), severity=Severity.ERROR,
    kinds=("Namespace", "Service", *WORKLOADS),
    rationale=(
        "A waypoint labelled `istio.io/waypoint-for: workload` does not take traffic addressed "
        "to Services, and `service` (the default) does not take traffic addressed to pods. "
        "Binding a Service to a workload-only waypoint, or a pod to a service-only one, leaves "
        "the L7 rules unapplied; use `all` or bind the matching object."),
    triggers=("""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio.io/dataplane-mode: ambient}
---
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: shop
  labels: {istio.io/use-waypoint: waypoint}
spec:
  selector: {app: reviews}
  ports: [{port: 9080}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: waypoint
  namespace: shop
  labels: {istio.io/waypoint-for: workload}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
""",),
)

DUAL_MODE = Rule(
    id="AMA507", name="dual-mode-namespace",
    title="Namespace is labelled for sidecar injection and ambient at once",
    need="mode-labels", severity=Severity.ERROR, kinds=("Namespace",),
    rationale=(
        "With both labels, new pods get a sidecar and the ambient CNI skips them, so the "
        "namespace silently runs sidecar mode while its config is written for ambient. Keep "
        "one mode label."),
    triggers=("""apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels: {istio-injection: enabled, istio.io/dataplane-mode: ambient}
""",),
)

SIDECAR_LEFTOVERS = Rule(
    id="AMA508", name="sidecar-config-in-ambient",
    title="Sidecar resource or sidecar-only pod settings in an ambient namespace",
    need="sidecar-config", severity=Severity.WARNING,
    kinds=("Sidecar", *WORKLOADS),
    reads=specs("Sidecar"),
    rationale=(
        "Sidecar resources, `sidecar.istio.io/inject: \"true\"` and sidecar-only annotations "
        "either do nothing in an ambient namespace or pull pods back into sidecar mode, which "
        "cannot talk to ambient pods (N-MIXED). Remove them."),
    triggers=(AMBIENT_NAMESPACE_EXAMPLE + """apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: shop}
spec:
  egress: [{hosts: ["./*"]}]
""",),
)

RULES = (MISSING_WAYPOINT, WAYPOINT_FOR_MISMATCH, DUAL_MODE, SIDECAR_LEFTOVERS)


def _waypoint_bindings(inventory: ScopedInventory, ambient: set[str]) -> Iterator[Finding]:
    """AMA505/AMA506: bindings to missing waypoints or to ones that refuse the traffic."""
    known = set(inventory.namespaces)
    for namespace in sorted(ambient):
        for binding in bindings_in(inventory, namespace):
            holder = binding.holder
            gateway = waypoint_named(inventory, binding)
            if gateway is None:
                if binding.namespace in known:
                    yield MISSING_WAYPOINT.finding(
                        holder, f"{holder.ref} uses waypoint {binding.namespace}/"
                                f"{binding.name}, which does not exist", namespace=namespace,
                        path=binding.path)
            elif not accepts(gateway, binding.traffic):
                yield WAYPOINT_FOR_MISMATCH.finding(
                    holder, f"{holder.ref} sends {binding.traffic} traffic to waypoint "
                            f"{gateway.ref}, which is for {waypoint_for(gateway)}",
                    namespace=namespace, path=binding.path, objects=(gateway,))


def detect_dual_mode(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Namespaces labelled for both modes (whatever mode the others run)."""
    for namespace in inventory.of_kind("Namespace"):
        if inventory.current_mode(namespace.name) is Mode.CONFLICT:
            label = INJECTION_LABEL if INJECTION_LABEL in namespace.labels else REVISION_LABEL
            yield DUAL_MODE.finding(
                namespace, f"{namespace.ref} has {label} and {DATAPLANE_LABEL}=ambient; new "
                           "pods get sidecars", namespace=namespace.name,
                path=("metadata", "labels", DATAPLANE_LABEL))


def _pod_metadata_path(resource: Resource) -> FieldPath:
    return (*pod_template_path(resource.kind), "metadata")


def _leftovers(detected: Sequence[Finding], ambient: set[str]) -> Iterator[Finding]:
    """AMA508: Sidecar objects, injection overrides and sidecar-only annotations."""
    tails = {id(namespace_state.SIDECAR_RESOURCE): ("spec",),
             id(namespace_state.INJECT_OVERRIDE): ("labels",),
             id(namespace_state.SIDECAR_ANNOTATIONS): ("annotations",)}
    for source in detected:
        tail = tails.get(id(source.rule))
        if tail is None or source.namespace not in ambient or not source.objects:
            continue
        resource = source.objects[0]
        path = ("spec",) if resource.kind == "Sidecar" else (
            *_pod_metadata_path(resource), *tail)
        yield with_source_rows(SIDECAR_LEFTOVERS.finding(
            resource, f"{source.message} in ambient namespace {source.namespace}",
            workloads=source.workloads, path=path), source)


def check_label_conformance(inventory: ScopedInventory, context: Context,
                            detected: Sequence[Finding]) -> Iterator[Finding]:
    """AMA505/AMA506 on waypoint bindings and AMA508 on sidecar leftovers, in ambient."""
    ambient = ambient_namespaces(inventory, context, detected)
    if not ambient:
        return
    if WAYPOINT_KIND not in context.unread:  # unreadable waypoints: stay silent, not wrong
        yield from _waypoint_bindings(inventory, ambient)
    yield from _leftovers(detected, ambient)


DETECTORS = (Detector(detect_dual_mode, (DUAL_MODE,)),)
CHECKS = (Check(check_label_conformance, (MISSING_WAYPOINT, WAYPOINT_FOR_MISMATCH,
                                          SIDECAR_LEFTOVERS)),)
