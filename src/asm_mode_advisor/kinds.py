"""The kinds asm-advisor understands, shared by the file and cluster sources."""

from __future__ import annotations

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



def pod_template_path(kind: str) -> tuple[str, ...]:
    """Where a workload kind's pod template sits in its body (a Pod is its own template)."""
    if kind == "Pod":
        return ()
    if kind == "CronJob":
        return ("spec", "jobTemplate", "spec", "template")
    return ("spec", "template")


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

#: Group for which ``Gateway`` means the Istio gateway (the other is Gateway API).
ISTIO_NETWORKING = "networking.istio.io"
GATEWAY_API = "gateway.networking.k8s.io"

_BY_KIND_GROUP = {(info.kind, info.group): info for info in KNOWN_KINDS}


def lookup(kind: str, group: str) -> KindInfo | None:
    """The known kind for this kind and group, or None (unknown kinds are kept, not analyzed)."""
    return _BY_KIND_GROUP.get((kind, group))
