"""Workload traits: what favours ambient (Jobs, server-first protocols, L4-only namespaces)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from asm_mode_advisor.model import Mode, as_int, as_str
from asm_mode_advisor.rules._base import Check, Context, Detector, Finding, Rule, namespace_modes
from asm_mode_advisor.rules._scoped import ScopedInventory
from asm_mode_advisor.views import Service

SERVER_FIRST_NAMES = ("mysql", "mongo", "smtp")
SERVER_FIRST_PORTS = frozenset({25, 3306, 27017})

JOBS = Rule(
    id="AMA201", name="jobs",
    title="Jobs and CronJobs run more simply without a sidecar",
    need="job-lifecycle", kinds=("Job", "CronJob"),
    reads=("CronJob:spec.schedule", "Job:spec.schedule"),
    rationale=(
        "A sidecar is bound to the pod lifecycle, so a Job's pod does not complete until the "
        "proxy is told to exit. With ambient there is no proxy in the pod and Jobs are "
        "transparent."),
    triggers=("""
apiVersion: batch/v1
kind: CronJob
metadata: {name: nightly-report, namespace: batch}
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: example/report:1}]
""",),
)

SERVER_FIRST = Rule(
    id="AMA202", name="server-first-protocol",
    title="Server-first protocol works in ambient without explicit configuration",
    need="server-first-protocol", kinds=("Service",),
    reads=("Service:spec.ports",),
    rationale=(
        "MySQL, MongoDB and SMTP servers speak first. Sidecars need the port declared "
        "explicitly or the connection stalls in protocol sniffing; ztunnel does no sniffing, "
        "so these work by default in ambient."),
    triggers=("""
apiVersion: v1
kind: Service
metadata: {name: orders-db, namespace: data}
spec:
  selector: {app: orders-db}
  ports: [{name: tcp-db, port: 3306}]
""",),
    passes=("""
apiVersion: v1
kind: Service
metadata: {name: web, namespace: data}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80}]
""",),
)

L4_ONLY = Rule(
    id="AMA203", name="l4-only-namespace",
    title="Namespace needs L4 features only: ztunnel alone serves it",
    need="l4-only", kinds=("Namespace",),
    rationale=(
        "Nothing in the namespace needs L7 processing, so it can skip the waypoint entirely: "
        "mTLS, L4 authorization and TCP telemetry come from ztunnel at the lowest cost and "
        "latency, with no L7 parsing."),
    triggers=("""
apiVersion: v1
kind: Namespace
metadata: {name: l4}
---
apiVersion: v1
kind: Service
metadata: {name: cache, namespace: l4}
spec:
  selector: {app: cache}
  ports: [{name: tcp-redis, port: 6379}]
""",),
)

RULES = (JOBS, SERVER_FIRST, L4_ONLY)


def detect_jobs(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Each Job or CronJob (Jobs owned by a listed CronJob count through it)."""
    for workload in inventory.all_workloads():
        resource = workload.resource
        if resource.kind in ("Job", "CronJob"):
            schedule = as_str(resource.spec.get("schedule"))
            detail = f" on schedule {schedule!r}" if schedule else ""
            yield JOBS.finding(resource, f"{resource.ref} runs to completion{detail}",
                               workloads=[resource.name])


def server_first_ports(ports: list[dict[str, object]]) -> list[str]:
    """Descriptions of the server-first ports in a Service's port list."""
    found = []
    for port in ports:
        name = as_str(port.get("name")).lower()
        app_protocol = as_str(port.get("appProtocol")).lower()
        number = as_int(port.get("port"))
        if (name.startswith(SERVER_FIRST_NAMES) or app_protocol.startswith(SERVER_FIRST_NAMES)
                or number in SERVER_FIRST_PORTS):
            found.append(f"{number}" + (f" ({name or app_protocol})" if name or app_protocol
                                        else ""))
    return found


def detect_server_first(inventory: ScopedInventory, _: Context) -> Iterator[Finding]:
    """Services that expose MySQL, MongoDB or SMTP."""
    for service in inventory.of_kind("Service"):
        found = server_first_ports(Service(service).ports)
        if found:
            yield SERVER_FIRST.finding(
                service, f"{service.ref} serves a server-first protocol on port(s) "
                         f"{', '.join(found)}", services=[service.name],
                path=("spec", "ports"))


DETECTORS = (Detector(detect_jobs, (JOBS,)), Detector(detect_server_first, (SERVER_FIRST,)))
def check_l4_only(inventory: ScopedInventory, _: Context,
                  detected: Sequence[Finding]) -> Iterator[Finding]:
    """Namespaces where the detectors found nothing that needs L7 or blocks ambient."""
    for namespace, mode in namespace_modes(inventory.advised_namespaces, detected).items():
        if mode is Mode.AMBIENT:
            yield L4_ONLY.finding(
                inventory.namespace_objects.get(namespace), f"namespace {namespace} needs no "
                "L7 feature and nothing blocks ambient: ztunnel alone serves it",
                namespace=namespace)


CHECKS = (Check(check_l4_only, (L4_ONLY,)),)
