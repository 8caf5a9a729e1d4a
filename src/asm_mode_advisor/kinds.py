"""The kinds asm-advisor understands, shared by the file and cluster sources."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KindInfo:
    """One kind: its API group, served versions (newest first), REST plural and scope."""

    kind: str
    group: str
    versions: tuple[str, ...]
    plural: str
    namespaced: bool = True


WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job",
     "CronJob", "Pod"}
)
#: Workload kinds whose pod template is a field of their spec (all but Pod).
CONTROLLER_KINDS = WORKLOAD_KINDS - {"Pod"}

#: The step of a field path that means "each item of the list here" (``containers[].env``).
EACH_ITEM = "[]"


def pod_template_path(kind: str) -> tuple[str, ...]:
    """Where a workload kind's pod template sits in its body (a Pod is its own template)."""
    if kind == "Pod":
        return ()
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template")
    return ("spec", "template")


def pod_reads(*fields: str, kinds: Iterable[str] = WORKLOAD_KINDS) -> tuple[str, ...]:
    """Field reads (``Kind:path``) of a pod template's ``fields`` in every one of ``kinds``.

    ``pod_reads("spec.hostNetwork")`` names ``spec.template.spec.hostNetwork`` of a
    Deployment, ``spec.jobTemplate.spec.template.spec.hostNetwork`` of a CronJob and
    ``spec.hostNetwork`` of a Pod, so a rule over every workload declares each field once.
    """
    return tuple(f"{kind}:{'.'.join((*pod_template_path(kind), field))}"
                 for kind in sorted(kinds) for field in fields)


def parse_read(read: str) -> tuple[str, tuple[str, ...]]:
    """``"Deployment:spec.template.spec.containers[].env"`` as its kind and path steps.

    A step ``name[]`` becomes ``name`` then :data:`EACH_ITEM`. Raises ValueError on a
    malformed read (no kind, an empty step).
    """
    kind, colon, dotted = read.partition(":")
    steps: list[str] = []
    for part in dotted.split("."):
        name = part.removesuffix(EACH_ITEM)
        if not name or EACH_ITEM in name:
            raise ValueError(f"malformed field read {read!r}")
        steps += [name, EACH_ITEM] if part.endswith(EACH_ITEM) else [name]
    if not colon or not kind.isidentifier():
        raise ValueError(f"field read {read!r} does not start with a kind and a colon")
    return kind, tuple(steps)


KNOWN_KINDS: tuple[KindInfo, ...] = (
    KindInfo("Namespace", "", ("v1",), "namespaces", namespaced=False),
    KindInfo("Node", "", ("v1",), "nodes", namespaced=False),
    KindInfo("Pod", "", ("v1",), "pods"),
    KindInfo("Service", "", ("v1",), "services"),
    KindInfo("ReplicationController", "", ("v1",), "replicationcontrollers"),
    KindInfo("Deployment", "apps", ("v1",), "deployments"),
    KindInfo("StatefulSet", "apps", ("v1",), "statefulsets"),
    KindInfo("DaemonSet", "apps", ("v1",), "daemonsets"),
    KindInfo("ReplicaSet", "apps", ("v1",), "replicasets"),
    KindInfo("Job", "batch", ("v1",), "jobs"),
    KindInfo("CronJob", "batch", ("v1", "v1beta1"), "cronjobs"),
    KindInfo("NetworkPolicy", "networking.k8s.io", ("v1",), "networkpolicies"),
    KindInfo("VirtualService", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"),
             "virtualservices"),
    KindInfo("DestinationRule", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"),
             "destinationrules"),
    KindInfo("Gateway", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "gateways"),
    KindInfo("ServiceEntry", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"),
             "serviceentries"),
    KindInfo("WorkloadEntry", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"),
             "workloadentries"),
    KindInfo("WorkloadGroup", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"),
             "workloadgroups"),
    KindInfo("Sidecar", "networking.istio.io", ("v1", "v1beta1", "v1alpha3"), "sidecars"),
    KindInfo("EnvoyFilter", "networking.istio.io", ("v1alpha3",), "envoyfilters"),
    KindInfo("AuthorizationPolicy", "security.istio.io", ("v1", "v1beta1"),
             "authorizationpolicies"),
    KindInfo("PeerAuthentication", "security.istio.io", ("v1", "v1beta1"),
             "peerauthentications"),
    KindInfo("RequestAuthentication", "security.istio.io", ("v1", "v1beta1"),
             "requestauthentications"),
    KindInfo("Telemetry", "telemetry.istio.io", ("v1", "v1alpha1"), "telemetries"),
    KindInfo("WasmPlugin", "extensions.istio.io", ("v1alpha1",), "wasmplugins"),
    KindInfo("Gateway", "gateway.networking.k8s.io", ("v1", "v1beta1", "v1alpha2"), "gateways"),
    KindInfo("HTTPRoute", "gateway.networking.k8s.io", ("v1", "v1beta1", "v1alpha2"),
             "httproutes"),
    KindInfo("GRPCRoute", "gateway.networking.k8s.io", ("v1", "v1alpha2"), "grpcroutes"),
    KindInfo("TCPRoute", "gateway.networking.k8s.io", ("v1alpha2",), "tcproutes"),
    KindInfo("TLSRoute", "gateway.networking.k8s.io", ("v1alpha2", "v1alpha3"), "tlsroutes"),
    # Read for its meshConfig (outbound traffic policy); ASM clusters usually have none.
    KindInfo("IstioOperator", "install.istio.io", ("v1alpha1",), "istiooperators"),
)

#: Kinds that are cluster-scoped (they keep no namespace). Includes common kinds we do not
#: analyze, so that a cluster-scoped object in the input is never given a default namespace.
CLUSTER_SCOPED_KINDS = frozenset(
    {"Namespace", "Node", "PersistentVolume", "ClusterRole", "ClusterRoleBinding",
     "CustomResourceDefinition", "StorageClass", "PriorityClass", "GatewayClass",
     "MutatingWebhookConfiguration", "ValidatingWebhookConfiguration", "APIService",
     "IngressClass", "RuntimeClass", "CSIDriver", "VolumeAttachment",
     "PodSecurityPolicy", "ValidatingAdmissionPolicy", "ValidatingAdmissionPolicyBinding",
     "ClusterIssuer", "CertificateSigningRequest", "ComponentStatus"}
)

#: Kinds a rule looks at only by identity and labels (a remote-cluster Secret, in files):
#: they keep no body and a scan never lists them (it reads no Secrets).
LABELS_ONLY_KINDS = frozenset({"Secret"})

#: Group for which ``Gateway`` means the Istio gateway (the other is Gateway API).
ISTIO_NETWORKING = "networking.istio.io"
GATEWAY_API = "gateway.networking.k8s.io"

_BY_KIND_GROUP = {(info.kind, info.group): info for info in KNOWN_KINDS}


def lookup(kind: str, group: str) -> KindInfo | None:
    """The known kind for this kind and group, or None (unknown kinds are kept, not analyzed)."""
    return _BY_KIND_GROUP.get((kind, group))


def unknown_kinds(kinds: Iterable[str]) -> list[str]:
    """Those of ``kinds`` the sources do not know (a scan never lists them), sorted.

    Reads :data:`KNOWN_KINDS` at call time, so a kind registered there counts at once.
    """
    known = {info.kind for info in KNOWN_KINDS} | LABELS_ONLY_KINDS
    return sorted(set(kinds) - known)
