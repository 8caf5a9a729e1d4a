"""Slimmed bodies: what no rule reads is dropped as objects are read, and no report changes."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from asm_mode_advisor import rules
from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.kinds import EACH_ITEM, WORKLOAD_KINDS, parse_read, unknown_kinds
from asm_mode_advisor.model import Resource
from asm_mode_advisor.rules import ALL_RULES, Rule
from asm_mode_advisor.sharing import share
from asm_mode_advisor.slim import registry_keep_trees, slim
from asm_mode_advisor.sources.files import load_paths
from asm_mode_advisor.traffic.addresses import DIGESTED
from asm_mode_advisor.views import CORE_READS
from recording import Read, kept, recording
from shared_spec import CORPUS, needs_shared
from support import load

ROOT = Path(__file__).resolve().parents[1]

DEPLOYMENT = """\
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
  managedFields: [{manager: kubectl}]
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata:
      labels: {app: web}
      annotations: {sidecar.istio.io/inject: "true"}
    spec:
      serviceAccountName: web
      hostNetwork: false
      volumes: [{name: data, emptyDir: {}}]
      tolerations: [{key: spot}]
      initContainers:
      - name: setup
        image: busybox:1
        command: [sh, -c, "true"]
        restartPolicy: Always
      containers:
      - name: web
        image: example/web:1
        ports: [{containerPort: 8080, name: http}]
        env: [{name: PASSWORD, value: hunter2}]
        resources: {limits: {memory: 1Gi}}
        readinessProbe: {httpGet: {path: /healthz, port: 8080}}
status:
  replicas: 3
"""

UNANALYSED = """\
apiVersion: v1
kind: Secret
metadata:
  name: remote
  namespace: istio-system
  labels: {istio/multiCluster: "true"}
data:
  kubeconfig: c2VjcmV0
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: shop}
data:
  big: "a lot of text"
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: things.example.com}
spec:
  group: example.com
  versions: [{name: v1, served: true, storage: true}]
"""


def test_workload_keeps_what_rules_read_and_drops_bulk() -> None:
    loaded = load(DEPLOYMENT)
    assert loaded.errors == []
    resource = loaded.resources[0]
    body = resource.body
    assert set(body) == {"spec"}  # identity, labels and annotations live on the Resource
    assert resource.labels == {"app": "web"} and resource.namespace == "shop"
    assert set(body["spec"]) == {"template"}  # no rule reads the controller's selector
    template = body["spec"]["template"]
    assert template["metadata"]["annotations"] == {"sidecar.istio.io/inject": "true"}
    pod = template["spec"]
    assert pod == {  # what the declared reads name: no more (volumes, resources, probes)
        "hostNetwork": False,
        "serviceAccountName": "web",  # the traffic graph: principals name service accounts
        # env values, args and commands keep only peer addresses: the password is dropped
        "initContainers": [{"name": "setup"}],
        "containers": [{"name": "web", "image": "example/web:1",
                        "ports": [{"containerPort": 8080, "name": "http"}]}],
    }


def test_whole_bodies_are_kept_on_request() -> None:
    body = load(DEPLOYMENT, slim=False).resources[0].body
    container = body["spec"]["template"]["spec"]["containers"][0]
    assert container["env"] == [{"name": "PASSWORD", "value": "hunter2"}]
    assert body["status"] == {"replicas": 3}


def test_unanalysed_kinds_keep_identity_only_and_secret_data_is_dropped() -> None:
    loaded = load(UNANALYSED)
    assert loaded.errors == []
    bodies = {r.kind: r.body for r in loaded.resources}
    assert set(bodies) == {"Secret", "ConfigMap", "CustomResourceDefinition"}
    for kind, body in bodies.items():
        assert kind not in registry_keep_trees()
        assert body == {}, kind
    secret = next(r for r in loaded.resources if r.kind == "Secret")
    assert secret.labels == {"istio/multiCluster": "true"}  # AMA rules still see the label


def test_cronjob_and_pod_templates_are_found() -> None:
    cron = {"spec": {"jobTemplate": {"spec": {"template": {"spec": {
        "containers": [{"name": "c", "env": [], "ports": []}], "volumes": []}}}}}}
    slim("CronJob", cron)
    pod_spec = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod_spec == {"containers": [{"name": "c", "ports": []}]}
    owners = [{"kind": "ReplicaSet", "name": "web-1", "controller": True}]
    pod = {"metadata": {"name": "p", "managedFields": [], "ownerReferences": owners},
           "spec": {"nodeSelector": {"a": "b"}, "containers": [{"name": "c", "args": ["x"]}]},
           "status": {"phase": "Running"}}
    slim("Pod", pod)
    assert pod == {"metadata": {"ownerReferences": owners},
                   "spec": {"containers": [{"name": "c"}]}}  # no address in its args


def test_malformed_bodies_are_left_alone() -> None:
    odd = {"spec": {"template": {"spec": {"containers": ["not a mapping", 3]}}}}
    slim("Deployment", odd)
    assert odd == {"spec": {"template": {"spec": {"containers": ["not a mapping", 3]}}}}
    odd2 = {"metadata": "text", "spec": []}
    slim("StatefulSet", odd2)
    assert odd2 == {"metadata": "text", "spec": []}  # validation reported the shapes


def _report_json(paths: list[str], slim_bodies: bool) -> str:
    loaded = load_paths(paths, slim_bodies=slim_bodies)
    result = analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files)
    return result.report.to_json()


def test_examples_report_is_unchanged_by_slimming() -> None:
    paths = [str(ROOT / "examples")]
    assert _report_json(paths, True) == _report_json(paths, False)


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_rule_examples_give_the_same_findings_slimmed(rule: Rule) -> None:
    texts = [*rule.triggers, *rule.passes]
    for text in texts:
        reports = []
        for slim_bodies in (True, False):
            loaded = load(text, slim=slim_bodies)
            reports.append(analyze(loaded.resources, loaded.errors, Settings(),
                                   files=1).report.to_json())
        assert reports[0] == reports[1]


@needs_shared(CORPUS)
def test_corpus_reports_are_unchanged_by_slimming() -> None:
    assert CORPUS.is_dir(), f"the shared corpus is missing at {CORPUS}"
    folders = sorted(str(p) for p in CORPUS.iterdir() if p.is_dir())
    assert len(folders) >= 20
    differing = [folder for folder in folders
                 if _report_json([folder], True) != _report_json([folder], False)]
    assert differing == []


def test_deeply_nested_bodies_are_read_and_left_unshared(tmp_path: Path) -> None:
    # 480 levels below the patch value: near the reader's 500-level limit, far past the
    # 64 levels that sharing walks.
    lines = ["apiVersion: networking.istio.io/v1alpha3", "kind: EnvoyFilter",
             "metadata: {name: deep, namespace: shop}", "spec:", "  configPatches:",
             "  - patch:", "      value:"]
    lines += [" " * (8 + level) + "k:" for level in range(480)] + [" " * 488 + "v"]
    path = tmp_path / "deep.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert _report_json([str(path)], True) == _report_json([str(path)], False)
    loaded = load_paths([str(path)], slim_bodies=True)
    assert loaded.errors == [] and loaded.resources[0].kind == "EnvoyFilter"


def test_equal_structures_are_shared_but_never_across_types() -> None:
    table: dict[int, object] = {}
    first = share({"a": [1, {"b": "x"}]}, table)
    second = share({"a": [1, {"b": "x"}]}, table)
    assert first is second
    assert share({"a": [True, {"b": "x"}]}, table) is not first  # True == 1, yet not alike
    assert share({"a": [1.0, {"b": "x"}]}, table) is not first
    reordered = share({"b": 1, "a": 2}, table)
    assert share({"a": 2, "b": 1}, table) is not reordered  # key order is kept


def test_controller_rollout_fields_are_dropped_and_a_cronjob_keeps_its_schedule() -> None:
    deployment = {"spec": {"replicas": 3, "strategy": {"type": "Recreate"},
                           "revisionHistoryLimit": 2, "selector": {"matchLabels": {"a": "b"}},
                           "template": {"spec": {"containers": []}}}}
    slim("Deployment", deployment)
    # ``replicas`` stays: the cost estimate counts pods (``costs.replicas``).
    assert deployment == {"spec": {"replicas": 3, "template": {"spec": {"containers": []}}}}
    cron = {"spec": {"schedule": "0 * * * *", "suspend": False, "concurrencyPolicy": "Forbid",
                     "jobTemplate": {"spec": {"backoffLimit": 4, "parallelism": 2,
                                              "template": {"spec": {"containers": []}}}}}}
    slim("CronJob", cron)
    assert cron == {"spec": {"schedule": "0 * * * *", "jobTemplate": {"spec": {
        "parallelism": 2, "template": {"spec": {"containers": []}}}}}}
    pod = {"spec": {"activeDeadlineSeconds": 5, "containers": []}}
    slim("Pod", pod)  # a Pod has no controller spec: only its pod-spec bulk goes
    assert pod == {"spec": {"containers": []}}


def test_equal_labels_are_kept_once_when_slimming() -> None:
    loaded = load(DEPLOYMENT + "---\n" + DEPLOYMENT.replace("shop", "shop-2"))
    first, second = loaded.resources
    assert first.labels == second.labels == {"app": "web"}
    assert first.labels is second.labels
    whole = load(DEPLOYMENT + "---\n" + DEPLOYMENT.replace("shop", "shop-2"), slim=False)
    assert whole.resources[0].labels is not whole.resources[1].labels


# --- kept fields come from declarations (issue 13) -------------------------------------

CAPABLE = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: vpn, namespace: shop}
spec:
  template:
    metadata: {labels: {app: vpn}}
    spec:
      securityContext: {runAsNonRoot: true}
      containers:
      - name: vpn
        image: example/vpn:1
        env: [{name: PEER, value: payments.shop}]
        securityContext: {capabilities: {add: [NET_ADMIN]}}
"""

ENV_AND_CAPABILITIES = Rule(
    id="AMA990", name="toy-env-and-capabilities", title="Reads env and capabilities",
    need="sidecar-config", kinds=("Deployment",), rationale="A test rule.",
    reads=("Deployment:spec.template.spec.securityContext",
           "Deployment:spec.template.spec.containers[].env",
           "Deployment:spec.template.spec.containers[].securityContext.capabilities"))


def _all_reads() -> list[str]:
    return [*CORE_READS, *(read for rule in rules.ALL_RULES for read in rule.reads)]


def test_undeclared_fields_go_and_a_rule_declaring_them_keeps_them(
        monkeypatch: pytest.MonkeyPatch) -> None:
    pod = load(CAPABLE).resources[0].body["spec"]["template"]["spec"]
    # Nobody reads securityContext; env leaves the body for Resource.addresses (the graph).
    assert pod == {"containers": [{"name": "vpn", "image": "example/vpn:1"}]}
    assert load(CAPABLE).resources[0].addresses == "://payments.shop"
    monkeypatch.setattr(rules, "ALL_RULES", (*rules.ALL_RULES, ENV_AND_CAPABILITIES))
    pod = load(CAPABLE).resources[0].body["spec"]["template"]["spec"]
    assert pod == {"securityContext": {"runAsNonRoot": True}, "containers": [{
        "name": "vpn", "image": "example/vpn:1",
        "env": [{"name": "PEER", "value": "payments.shop"}],
        "securityContext": {"capabilities": {"add": ["NET_ADMIN"]}}}]}
    # A rule that reads env itself gets it raw; the graph then reads the raw env too.
    assert load(CAPABLE).resources[0].addresses is None


def test_a_kind_only_a_rule_reads_keeps_its_spec(monkeypatch: pytest.MonkeyPatch) -> None:
    text = "apiVersion: networking.istio.io/v1beta1\nkind: ProxyConfig\n" \
           "metadata: {name: p, namespace: shop}\nspec: {concurrency: 2}\n"
    assert load(text).resources[0].body == {}
    reader = ENV_AND_CAPABILITIES.model_copy(update={"reads": ("ProxyConfig:spec",)})
    monkeypatch.setattr(rules, "ALL_RULES", (*rules.ALL_RULES, reader))
    assert load(text).resources[0].body == {"spec": {"concurrency": 2}}


def _body_with(steps: tuple[str, ...], value: object) -> dict[str, object]:
    """The smallest body holding ``value`` at ``steps`` (one item per list)."""
    for step in reversed(steps):
        value = [value] if step == EACH_ITEM else {step: value}
    assert isinstance(value, dict)
    return value


@pytest.mark.parametrize("read", sorted(set(_all_reads())))
def test_every_declared_read_survives_slimming(read: str) -> None:
    kind, steps = parse_read(read)
    if kind in WORKLOAD_KINDS and any(step in DIGESTED for step in steps):
        return  # reduced to addresses by design: test_env_and_args_keep_only_addresses
    body = _body_with(steps, "kept")
    slim(kind, body)
    assert body == _body_with(steps, "kept")


def test_env_and_args_keep_only_addresses() -> None:
    """Env values, args and command keep what the traffic graph can read, and nothing else."""
    container = {"name": "app",
                 "env": [{"name": "PASSWORD", "value": "hunter2"},
                         {"name": "CART_ADDR", "value": "cart"},
                         {"name": "DSN", "value": "postgres://user:pw@db.shop:5432/app?x=1"},
                         {"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s"}}}],
                 "args": ["--verbose", "--orders=http://orders.api:8080/v1"],
                 "command": ["sh", "-c", "sleep 3600"]}
    body = {"spec": {"template": {"spec": {"containers": [container]}}}}
    assert slim("Deployment", body) == "://cart ://db.shop:5432 ://orders.api:8080"
    # Out of the pod template (which stays shareable), onto Resource.addresses.
    assert body["spec"]["template"]["spec"]["containers"][0] == {"name": "app"}
    assert slim("Deployment", {"spec": {"template": {"spec": {"containers": [
        {"name": "app", "env": [{"name": "PASSWORD", "value": "hunter2"}]}]}}}}) is None
    loaded = load(textwrap.dedent("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          template:
            spec:
              containers:
              - {name: web, image: x, env: [{name: CART_ADDR, value: "cart:7070"}]}
        """))
    assert loaded.resources[0].addresses == "://cart:7070"


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_every_kind_a_rule_names_or_reads_is_known_to_the_sources(rule: Rule) -> None:
    read_kinds = [parse_read(read)[0] for read in rule.reads]
    assert unknown_kinds([*rule.kinds, *read_kinds]) == []


def test_a_rule_on_an_unregistered_kind_is_caught() -> None:
    assert unknown_kinds(["ProxyConfig", "Deployment"]) == ["ProxyConfig"]


def _reads_of_analysis(resources: list[Resource], log: set[Read]) -> None:
    analyze(recording(resources, log), [], Settings(), files=1)


def test_every_field_the_analysis_reads_is_kept_by_a_declaration() -> None:
    """Every rule's examples and examples/, unslimmed, with bodies that note each read."""
    log: set[Read] = set()
    _reads_of_analysis(load_paths([str(ROOT / "examples")]).resources, log)
    for rule in ALL_RULES:
        for text in (*rule.triggers, *rule.passes):
            _reads_of_analysis(load(text, slim=False).resources, log)
    trees = registry_keep_trees()
    dropped = sorted(f"{kind}:{'.'.join(path)}" for kind, path in log
                     if not kept((kind, path), trees))
    assert dropped == [], "read by the analysis but declared by no Rule.reads or CORE_READS"
