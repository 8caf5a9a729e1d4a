from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from asm_mode_advisor.analysis import Analysis, Settings, analyze
from asm_mode_advisor.cli import app
from asm_mode_advisor.model import Resource
from asm_mode_advisor.plan import PlanSettings, build_plan
from asm_mode_advisor.plan.enrol import patch_network_policy
from asm_mode_advisor.plan.estimates import parse_cpu, parse_memory
from asm_mode_advisor.plan.markdown import render_markdown
from asm_mode_advisor.plan.model import Plan
from asm_mode_advisor.plan.write import PlanWriteError, write_plan
from asm_mode_advisor.sources.files import LoadResult, load_paths, load_text

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "plan"
GOLDEN = ROOT / "tests" / "golden" / "plan"
EXAMPLES = ROOT / "examples"
EXAMPLE_NAMES = ("canary-routing", "jwt-api", "l4-only", "mixed-shop", "tracing", "wasm",
                 "batch-jobs", "database")


@pytest.fixture(autouse=True)
def _from_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Goldens cite files relative to the repository root, wherever the clone lives."""
    monkeypatch.chdir(ROOT)


def analysis_of(path: Path) -> Analysis:
    loaded = load_paths([str(path.relative_to(ROOT))])
    return analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files)


def key(resource: Resource) -> tuple[str, str, str | None, str]:
    return resource.group, resource.kind, resource.namespace, resource.name


def migrated(analysis: Analysis, plan: Plan) -> list[Resource]:
    """The input with every plan file applied and every cleanup file deleted."""
    objects = {key(r): r for r in analysis.inventory.resources}
    for namespace in plan.namespaces:
        for manifest in namespace.files:
            text = yaml.safe_dump_all(manifest.objects, sort_keys=False)
            loaded = LoadResult()
            load_text(text, manifest.path, "default", loaded)
            assert not loaded.errors, loaded.errors
            for resource in loaded.resources:
                if manifest.action == "apply":
                    objects[key(resource)] = resource
                elif manifest.action == "delete":
                    objects.pop(key(resource), None)
    return list(objects.values())


def check_round_trip(analysis: Analysis, plan: Plan) -> None:
    after = analyze(migrated(analysis, plan), [], Settings())
    verdicts = {v.name: v for v in after.report.namespaces}
    for namespace in plan.namespaces:
        verdict = verdicts[namespace.name]
        assert verdict.current_mode == "ambient", namespace.name
        assert verdict.recommendation in ("ambient", "ambient-waypoint"), namespace.name
        errors = [r.rule_id for r in verdict.reasons if r.severity == "error"]
        assert errors == [], (namespace.name, errors)
        for waypoint in namespace.waypoints:
            assert any(g.name == waypoint.name
                       for g in after.inventory.waypoints(namespace.name))


def compare_golden(path: Path, text: str, update: bool) -> None:
    if update:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.read_text(encoding="utf-8") == text, f"{path} differs; --update-golden"


@pytest.fixture(scope="module")
def shop() -> tuple[Analysis, Plan]:
    analysis = analysis_of(FIXTURES / "shop.yaml")
    return analysis, build_plan(analysis, PlanSettings())


def test_shop_golden(shop: tuple[Analysis, Plan], update_golden: bool) -> None:
    _, plan = shop
    compare_golden(GOLDEN / "shop" / "PLAN.md", render_markdown(plan), update_golden)
    compare_golden(GOLDEN / "shop" / "plan.json", plan.to_json(), update_golden)


def test_shop_round_trip(shop: tuple[Analysis, Plan]) -> None:
    analysis, plan = shop
    assert [n.name for n in plan.namespaces] == ["shop"]
    check_round_trip(analysis, plan)


def test_shop_rewrites_and_flags(shop: tuple[Analysis, Plan]) -> None:
    _, plan = shop
    files = {m.path: m for m in plan.namespaces[0].files}
    created = {(o["kind"], o["metadata"]["name"]): o
               for o in files["shop/03-policies.yaml"].objects}
    policy = created[("AuthorizationPolicy", "web-read-waypoint")]
    assert "selector" not in policy["spec"]
    assert policy["spec"]["targetRefs"] == [{"kind": "Service", "group": "", "name": "web"}]
    route = created[("HTTPRoute", "web")]
    assert [r["backendRefs"] for r in route["spec"]["rules"]][1] == [
        {"name": "web-v1", "port": 80, "weight": 80}, {"name": "web-v2", "port": 80, "weight": 20}]
    assert created[("Service", "web-v2")]["spec"]["selector"] == {"app": "web", "version": "v2"}
    deleted = {o["metadata"]["name"] for o in files["shop/cleanup/04-after-restart.yaml"].objects}
    assert deleted == {"web-read", "web-jwt", "default"}
    manual = {m.object: m.reason for m in plan.namespaces[0].manual}
    assert "fault injection" in manual["VirtualService/shop/cart"]
    # cart-callers (L4, on caller principals) also allows the waypoint: no manual item left
    assert "AuthorizationPolicy/shop/cart-callers" not in manual
    [callers] = files["shop/03-l4-policies.yaml"].objects
    assert callers["spec"]["rules"][0]["from"][-1] == {
        "source": {"principals": ["cluster.local/ns/shop/sa/waypoint"]}}
    stays = plan.stays_on_sidecar[0]
    assert stays.name == "legacy" and stays.why[0].startswith("AMA301")
    assert "WasmPlugin" in stays.unblock[0]


def test_shop_enrolment(shop: tuple[Analysis, Plan]) -> None:
    _, plan = shop
    enrol = {(o["kind"], o["metadata"]["name"]): o
             for m in plan.namespaces[0].files if m.path == "shop/04-enrolment.yaml"
             for o in m.objects}
    labels = enrol[("Namespace", "shop")]["metadata"]["labels"]
    assert labels == {"team": "shop", "istio.io/dataplane-mode": "ambient",
                      "istio.io/use-waypoint": "waypoint"}
    web = enrol[("Deployment", "web")]["spec"]["template"]["metadata"]
    assert "annotations" not in web
    v2 = enrol[("Deployment", "web-v2")]["spec"]["template"]["metadata"]["labels"]
    assert "sidecar.istio.io/inject" not in v2
    cron = enrol[("CronJob", "cleanup")]["spec"]["jobTemplate"]["spec"]["template"]["metadata"]
    assert cron == {"labels": {"istio.io/dataplane-mode": "none"}}


def test_shop_estimates_by_hand(shop: tuple[Analysis, Plan]) -> None:
    _, plan = shop
    estimate = plan.namespaces[0].estimate
    # web: 2 × 250m/256Mi (annotations); web-v2: 1 × 100m/128Mi; cart: 3 × 100m/128Mi;
    # the CronJob opts out of injection.
    assert (estimate.sidecars.cpu_millicores, estimate.sidecars.memory_mib) == (900, 1024)
    assert (estimate.waypoints.cpu_millicores, estimate.waypoints.memory_mib) == (100, 128)
    totals = plan.totals
    assert (totals.ztunnel.cpu_millicores, totals.ztunnel.memory_mib) == (600, 1536)
    assert (totals.change.cpu_millicores, totals.change.memory_mib) == (-200, 640)
    [hop] = estimate.latency
    assert (hop.hop, hop.before_ms, hop.after_ms) == ("ambient-waypoint", (0.63, 0.88),
                                                      (0.40, 0.50))
    assert (hop.l7_parses_before, hop.l7_parses_after) == (2, 1)
    assert estimate.rows == ["M-COST", "M-UTILIZATION", "M-LATENCY", "M-L7PARSING"]


def test_waypoint_per_service() -> None:
    analysis = analysis_of(FIXTURES / "shop.yaml")
    plan = build_plan(analysis, PlanSettings(waypoint_per_service=True, nodes=5))
    [namespace] = plan.namespaces
    assert [(w.name, w.bound_by, w.services) for w in namespace.waypoints] == [
        ("cart-waypoint", "service", ["cart"]), ("web-waypoint", "service", ["web"])]
    enrol = [o for m in namespace.files if m.path == "shop/04-enrolment.yaml" for o in m.objects]
    services = {o["metadata"]["name"]: o["metadata"]["labels"] for o in enrol
                if o["kind"] == "Service"}
    assert services == {"cart": {"istio.io/use-waypoint": "cart-waypoint"},
                        "web": {"istio.io/use-waypoint": "web-waypoint"}}
    namespace_labels = next(o for o in enrol if o["kind"] == "Namespace")["metadata"]["labels"]
    assert "istio.io/use-waypoint" not in namespace_labels
    assert plan.totals.ztunnel.cpu_millicores == 1000
    check_round_trip(analysis, plan)


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_examples_round_trip(name: str) -> None:
    analysis = analysis_of(EXAMPLES / name)
    plan = build_plan(analysis, PlanSettings())
    assert plan.namespaces, f"{name}: nothing planned"
    check_round_trip(analysis, plan)


@pytest.mark.parametrize("name", ("canary-routing", "jwt-api", "mixed-shop"))
def test_examples_golden(name: str, update_golden: bool) -> None:
    plan = build_plan(analysis_of(EXAMPLES / name), PlanSettings())
    compare_golden(GOLDEN / "examples" / name / "PLAN.md", render_markdown(plan), update_golden)


def test_canary_estimates_by_hand() -> None:
    plan = build_plan(analysis_of(EXAMPLES / "canary-routing"), PlanSettings())
    [namespace] = plan.namespaces
    replicas = {w.workload: w.replicas for w in namespace.estimate.workloads}
    assert replicas == {"Deployment/reviews-v1": 3, "Deployment/reviews-v2": 1}
    # 4 sidecars × 100m/128Mi against 3 ztunnels × 200m/512Mi plus one waypoint 100m/128Mi.
    assert plan.totals.sidecar_mode.model_dump() == {"cpu_millicores": 400, "memory_mib": 512}
    assert plan.totals.ambient_mode.model_dump() == {"cpu_millicores": 700, "memory_mib": 1664}


def test_written_files_parse_and_are_deterministic(tmp_path: Path) -> None:
    analysis = analysis_of(FIXTURES / "shop.yaml")
    first = write_plan(build_plan(analysis, PlanSettings()), tmp_path / "plan")
    texts = {p: p.read_bytes() for p in first}
    second = write_plan(build_plan(analysis_of(FIXTURES / "shop.yaml"), PlanSettings()),
                        tmp_path / "plan")
    assert first == second and texts == {p: p.read_bytes() for p in second}
    for path in first:
        if path.suffix == ".yaml":
            documents: list[Any] = list(yaml.safe_load_all(path.read_text()))
            assert documents and all(d["apiVersion"] and d["metadata"]["name"]
                                     for d in documents)
    assert (tmp_path / "plan" / "shop" / "rollback" / "04-enrolment.yaml").is_file()


def test_refuses_foreign_directory(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    plan = build_plan(analysis_of(FIXTURES / "shop.yaml"), PlanSettings())
    with pytest.raises(PlanWriteError, match=r"holds no PLAN\.md"):
        write_plan(plan, tmp_path)


def test_network_policy_patch_is_idempotent() -> None:
    body: dict[str, Any] = {"spec": {"policyTypes": ["Ingress"], "ingress": [
        {"ports": [{"port": 8080}]}]}}
    assert patch_network_policy(body)
    assert body["spec"]["ingress"] == [
        {"ports": [{"port": 8080}, {"protocol": "TCP", "port": 15008}]},
        {"from": [{"ipBlock": {"cidr": "169.254.7.127/32"}}]}]
    assert not patch_network_policy(body)


@pytest.mark.parametrize(("text", "cpu", "memory"), [
    ("100m", 100, None), ("0.5", 500, 1), ("2", 2000, 1), ("128Mi", None, 128),
    ("1Gi", None, 1024), ("500M", None, 477), ("abc", None, None)])
def test_quantities(text: str, cpu: int | None, memory: int | None) -> None:
    assert parse_cpu(text) == cpu
    assert parse_memory(text) == memory


def test_route_order_that_precedence_would_change_is_kept() -> None:
    text = """
apiVersion: v1
kind: Namespace
metadata: {name: api, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: api}
spec: {selector: {app: api}, ports: [{name: http, port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: api}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: example/api:1}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: api}
spec:
  hosts: [api]
  http:
  - match: [{uri: {prefix: /v1}}]
    route: [{destination: {host: api}}]
    timeout: 1s
  - match: [{uri: {prefix: /v1/slow}}]
    route: [{destination: {host: api}}]
    timeout: 9s
"""
    loaded = LoadResult()
    load_text(text, "api.yaml", "default", loaded)
    analysis = analyze(loaded.resources, loaded.errors, Settings())
    plan = build_plan(analysis, PlanSettings())
    [item] = plan.namespaces[0].manual
    assert item.object == "VirtualService/api/api" and "precedence" in item.reason
    check_round_trip(analysis, plan)


runner = CliRunner()


def test_cli_markdown_for_one_namespace() -> None:
    result = runner.invoke(app, ["plan", str(FIXTURES / "shop.yaml"), "-n", "shop"])
    assert result.exit_code == 0, result.output
    assert "### Namespace `shop`" in result.stdout and "legacy" not in result.stdout


def test_cli_json_and_out(tmp_path: Path) -> None:
    result = runner.invoke(app, ["plan", str(FIXTURES / "shop.yaml"), "--out",
                                 str(tmp_path / "p"), "--output", "json", "--nodes", "4"])
    assert result.exit_code == 0, result.output
    assert '"nodes": 4' in result.stdout
    assert (tmp_path / "p" / "PLAN.md").is_file()


@pytest.mark.parametrize("args", [["--sidecar-cpu", "lots"], ["--sidecar-memory", "x"],
                                  ["--mesh-version", "new"], ["-n", "nowhere"]])
def test_cli_usage_errors(args: list[str]) -> None:
    result = runner.invoke(app, ["plan", str(FIXTURES / "shop.yaml"), *args])
    assert result.exit_code == 2
    assert "Traceback" not in result.output


def test_cli_needs_paths_or_cluster() -> None:
    result = runner.invoke(app, ["plan"])
    assert result.exit_code == 2
    assert "PATHS or --from-cluster" in result.output


# --- analyze and plan agree: no-advice namespaces and the cost line (issue 14, 10-11) ------

AGREE = """
apiVersion: install.istio.io/v1alpha1
kind: IstioOperator
spec: {profile: ambient}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: coredns, namespace: kube-system}
spec:
  template:
    metadata: {labels: {k8s-app: kube-dns}}
    spec: {containers: [{name: coredns, image: coredns:1}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec:
  template:
    metadata: {labels: {app: istiod}}
    spec: {containers: [{name: discovery, image: pilot:1}]}
---
apiVersion: v1
kind: Namespace
metadata: {name: staging}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: tiny}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: web, image: web:1}]}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: tiny}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: tiny}
spec:
  hosts: [web]
  http:
  - match: [{headers: {x-canary: {exact: "1"}}}]
    route: [{destination: {host: web}}]
    timeout: 2s
  - route: [{destination: {host: web}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: big}
spec:
  replicas: 12
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: api, image: api:1}]}
"""


def agree_analysis() -> Analysis:
    loaded = LoadResult(slim=True)
    load_text(AGREE, "agree.yaml", "default", loaded)
    assert loaded.errors == []
    return analyze(loaded.resources, loaded.errors, Settings(), files=1)


def test_analyze_and_plan_agree_on_namespaces_without_advice() -> None:
    analysis = agree_analysis()
    verdicts = {v.name: v for v in analysis.report.namespaces}
    assert "default" not in verdicts  # the nameless IstioOperator makes no namespace
    exempt = {n: v.summary for n, v in verdicts.items() if v.recommendation == "not-applicable"}
    assert exempt == analysis.inventory.not_applicable  # the one answer scan shares too
    assert set(exempt) == {"istio-system", "kube-system", "staging"}
    plan = build_plan(analysis, PlanSettings())
    assert {s.name: s.reason for s in plan.skipped} == exempt
    assert {n.name for n in plan.namespaces} == {"tiny", "big"}


def test_analyze_and_plan_print_the_same_cost_line() -> None:
    analysis = agree_analysis()
    plan = build_plan(analysis, PlanSettings())
    cost = {v.name: next(b.text for b in v.benefits if b.row == "M-COST")
            for v in analysis.report.namespaces if v.benefits and v.recommendation != "sidecar"}
    assert {n.name: n.estimate.comparison for n in plan.namespaces} == cost
    assert cost["tiny"].startswith("ambient costs more here: proxy requests 100m CPU, 128Mi → ")
    # 12 of the 13 moving pods are big's: it carries 92% of ztunnel's 600m/1536Mi.
    assert cost["big"].startswith("proxy requests 1200m CPU, 1536Mi → 554m CPU, 1418Mi: "
                                  "its 92% share, by pods, of ztunnel")
    # One namespace alone: the plan's totals go the same way as its line.
    alone = build_plan(analysis, PlanSettings(namespaces=("tiny",)))
    assert alone.totals.change.cpu_millicores > 0 and alone.totals.change.memory_mib > 0
    markdown = render_markdown(plan)
    assert f"- against sidecars: {cost['tiny']}" in markdown


@pytest.mark.parametrize("name", EXAMPLE_NAMES)
def test_examples_cost_line_agrees_with_the_plan(name: str) -> None:
    analysis = analysis_of(EXAMPLES / name)
    plan = build_plan(analysis, PlanSettings())
    cost = {v.name: b.text for v in analysis.report.namespaces for b in v.benefits
            if b.row == "M-COST"}
    for namespace in plan.namespaces:
        assert namespace.estimate.comparison == cost[namespace.name]
        if len(plan.namespaces) == 1:  # the totals are that one namespace's
            higher = plan.totals.change.cpu_millicores > 0
            assert cost[namespace.name].startswith("ambient costs more here") is higher


SCENARIOS = ROOT / "tests" / "fixtures" / "scenarios"


def scenario_plan(name: str) -> tuple[Analysis, Plan]:
    analysis = analysis_of(SCENARIOS / name / "manifests")
    return analysis, build_plan(analysis, PlanSettings())


def files_of(plan: Plan, namespace: str) -> dict[str, list[dict[str, Any]]]:
    found = next(n for n in plan.namespaces if n.name == namespace)
    return {m.path: m.objects for m in found.files}


def test_plan_moves_consumer_side_routes_to_the_services_namespace() -> None:
    analysis, plan = scenario_plan("p3-consumer-side-routes")
    files = files_of(plan, "bookinfo")
    moved = files["bookinfo/03-moved-routes.yaml"]
    assert [(o["kind"], o["metadata"]["namespace"], o["metadata"]["name"]) for o in moved] == [
        ("DestinationRule", "bookinfo", "reviews-pool"),
        ("VirtualService", "bookinfo", "reviews-timeout")]
    assert moved[1]["spec"]["http"][0]["timeout"] == "0.5s"
    assert moved[1]["spec"]["hosts"] == ["reviews.bookinfo.svc.cluster.local"]
    originals = files["bookinfo/cleanup/03-moved-originals.yaml"]
    assert [(o["kind"], o["metadata"]["namespace"]) for o in originals] == [
        ("DestinationRule", "frontend"), ("VirtualService", "frontend")]
    assert "bookinfo/rollback/03-moved-originals.yaml" in files
    step = next(n for n in plan.namespaces if n.name == "bookinfo").steps[2]
    assert any("VirtualService/frontend/reviews-timeout → VirtualService/bookinfo/"
               "reviews-timeout" in line for line in step.actions)
    assert not any("moved" in path for path in files_of(plan, "frontend"))
    # after the plan, the routes sit with their Service: no move chore is left
    after = analyze(migrated(analysis, plan), [], Settings(), files=1)
    assert not [f for f in after.findings if f.rule.id == "AMA416"]
    assert {f.namespace for f in after.findings if f.rule.id in ("AMA101", "AMA104")} == {
        "bookinfo"}


def test_plan_lists_a_route_for_two_namespaces_for_a_person() -> None:
    text = """
apiVersion: v1
kind: Service
metadata: {name: a, namespace: one}
spec: {selector: {app: a}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: a, namespace: one}
spec: {template: {metadata: {labels: {app: a}}, spec: {containers: [{name: a, image: a}]}}}
---
apiVersion: v1
kind: Service
metadata: {name: b, namespace: two}
spec: {selector: {app: b}, ports: [{port: 80}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: b, namespace: two}
spec: {template: {metadata: {labels: {app: b}}, spec: {containers: [{name: b, image: b}]}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: both, namespace: client}
spec:
  hosts: [a.one.svc.cluster.local, b.two.svc.cluster.local]
  http: [{timeout: 1s, route: [{destination: {host: a.one.svc.cluster.local}}]}]
"""
    loaded = LoadResult()
    load_text(text, "both.yaml", "default", loaded)
    plan = build_plan(analyze(loaded.resources, loaded.errors, Settings(), files=1),
                      PlanSettings())
    one = next(n for n in plan.namespaces if n.name == "one")
    assert not any("moved" in m.path for m in one.files)
    assert any(m.object == "VirtualService/client/both" and "split it" in m.reason
               for m in one.manual)


def test_plan_proposes_the_egress_waypoint() -> None:
    _, plan = scenario_plan("p4-egress")
    shop = next(n for n in plan.namespaces if n.name == "shop")
    assert shop.recommendation == "ambient-waypoint"
    files = files_of(plan, "shop")
    waypoint = files["shop/02-waypoints.yaml"][0]
    assert waypoint["spec"]["gatewayClassName"] == "istio-waypoint"
    assert waypoint["metadata"]["labels"] == {"istio.io/waypoint-for": "service"}
    bound = files["shop/03-egress-bindings.yaml"]
    assert [(o["kind"], o["metadata"]["name"], o["metadata"]["labels"]) for o in bound] == [
        ("ServiceEntry", "edition-cnn-com", {"istio.io/use-waypoint": "waypoint"}),
        ("ServiceEntry", "httpbin-ext", {"istio.io/use-waypoint": "waypoint"})]
    assert bound[1]["spec"]["hosts"] == ["httpbin.org"]
    assert "kubectl -n shop label serviceentry httpbin-ext istio.io/use-waypoint-" in (
        shop.steps[2].rollback)
    catalog = next(n for n in plan.namespaces if n.name == "catalog")
    assert not any("egress" in m.path for m in catalog.files)


def test_p11_costs_agree_with_the_plan() -> None:
    analysis = analysis_of(ROOT / "tests" / "fixtures" / "scenarios" / "p11-costs" / "manifests")
    cost = {v.name: b.text for v in analysis.report.namespaces for b in v.benefits
            if b.row == "M-COST"}
    assert cost["hello"].startswith("ambient costs more here: proxy requests 100m CPU, 128Mi")
    # Ztunnel's 600m/1536Mi on 3 nodes is shared by pods: hello 1 of 16, boutique 15 of 16.
    assert cost["boutique"].startswith("proxy requests 1500m CPU, 1920Mi → 563m CPU, 1440Mi: "
                                       "its 94% share, by pods, of ztunnel")
    assert "its 6% share, by pods, of ztunnel on 3 node(s) and 1 waypoint(s)" in cost["hello"]
    for name, higher in (("hello", True), ("boutique", False)):
        plan = build_plan(analysis, PlanSettings(namespaces=(name,)))
        assert plan.namespaces[0].estimate.comparison == cost[name]
        change = plan.totals.change
        assert (change.cpu_millicores > 0 and change.memory_mib > 0) is higher
        assert (change.cpu_millicores < 0 and change.memory_mib < 0) is not higher


# --- issue 14, points 8, 9 and 13: waypoint identity, ingress, the plan's own words ---------

WAYPOINT_PRINCIPAL = "cluster.local/ns/bookinfo/sa/waypoint"


def namespace_plan(plan: Plan, name: str) -> Any:
    return next(n for n in plan.namespaces if n.name == name)


def test_plan_adds_the_waypoint_principal_to_l4_caller_policies() -> None:
    analysis, plan = scenario_plan("p8-waypoint-identity")
    files = files_of(plan, "bookinfo")
    [callers] = files["bookinfo/03-l4-policies.yaml"]
    assert callers["metadata"]["name"] == "reviews-callers"
    assert [rule["from"][-1] for rule in callers["spec"]["rules"]] == [
        {"source": {"principals": [WAYPOINT_PRINCIPAL]}}] * 2
    [original] = files["bookinfo/rollback/03-l4-policies.yaml"]
    assert all(len(rule["from"]) == 1 for rule in original["spec"]["rules"])
    step3 = namespace_plan(plan, "bookinfo").steps[2]
    assert "bookinfo/03-l4-policies.yaml" in step3.apply
    assert any(WAYPOINT_PRINCIPAL in line and "reviews-callers" in line for line in step3.actions)
    # the same kind of policy where no waypoint comes: left as it is
    assert not any("03-l4-policies" in path for path in files_of(plan, "ratings"))
    check_round_trip(analysis, plan)
    after = analyze(migrated(analysis, plan), [], Settings())
    assert [f.message for f in after.findings if f.rule.id == "AMA425"] == []


def test_plan_offers_a_waypoint_only_policy_when_l7_security_moves() -> None:
    analysis = analysis_of(SCENARIOS / "p8-waypoint-identity" / "manifests")
    plan = build_plan(analysis, PlanSettings(allow_direct=("cluster.local/ns/curl/sa/curl",)))
    files = files_of(plan, "bookinfo")
    [offered] = files["bookinfo/05-offered-waypoint-only.yaml"]
    assert offered["metadata"] == {"name": "reviews-waypoint-only", "namespace": "bookinfo"}
    assert offered["spec"] == {
        "selector": {"matchLabels": {"app": "reviews"}}, "action": "DENY",
        "rules": [{"from": [{"source": {"notPrincipals": [
            WAYPOINT_PRINCIPAL, "cluster.local/ns/curl/sa/curl"]}}]}]}
    verify = namespace_plan(plan, "bookinfo").steps[4]
    assert verify.apply == []  # offered: applied only by choice, with its own command
    assert verify.commands[0].startswith(
        "kubectl apply -f bookinfo/05-offered-waypoint-only.yaml  # offered")
    assert any("cluster.local/ns/curl/sa/curl" in line for line in verify.actions)
    assert "kubectl delete -f bookinfo/05-offered-waypoint-only.yaml" in verify.rollback
    # no L7 security moved (ratings stays ambient without a waypoint): nothing offered
    assert not any("offered" in path for path in files_of(plan, "ratings"))


def test_cli_allow_direct_reaches_the_offered_policy(tmp_path: Path) -> None:
    manifests = str(SCENARIOS / "p8-waypoint-identity" / "manifests")
    result = CliRunner().invoke(app, ["plan", manifests, "--out", str(tmp_path / "plan"),
                                      "--allow-direct", "cluster.local/ns/curl/sa/curl"])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "plan" / "bookinfo" / "05-offered-waypoint-only.yaml").read_text()
    assert "cluster.local/ns/curl/sa/curl" in text and "&id" not in text


def test_plan_labels_ingress_backends_that_get_l7_policy() -> None:
    analysis, plan = scenario_plan("p9-ingress-use-waypoint")
    label = "istio.io/ingress-use-waypoint"
    for namespace, wanted in (("bookinfo", True), ("bookinfo-ambient", True),
                              ("bookinfo-l4", False)):
        enrol = files_of(plan, namespace)[f"{namespace}/04-enrolment.yaml"]
        services = [o for o in enrol if o["kind"] == "Service"]
        assert bool(services) is wanted, namespace
        if wanted:
            assert services[0]["metadata"]["labels"][label] == "true"
    step4 = namespace_plan(plan, "bookinfo").steps[3]
    assert any(line.startswith("Service productpage: istio.io/ingress-use-waypoint=true")
               for line in step4.actions)
    assert not any("ingress" in m.reason for n in plan.namespaces for m in n.manual)
    check_round_trip(analysis, plan)


def test_plan_step_reasons_are_specific_to_each_object() -> None:
    _, plan = scenario_plan("p13-plan-steps")
    web = namespace_plan(plan, "web")
    text = "\n".join(line for step in web.steps for line in step.actions)
    assert "deny all traffic" not in text
    deletions = {line.split(":")[0]: line for line in web.steps[3].actions
                 if line.startswith("right after the restart")}
    telemetry = deletions["right after the restart, delete Telemetry/web/nginx-access-log"]
    assert "ignores selector" in telemetry and "HTTP attributes" not in telemetry
    policy = deletions["right after the restart, delete AuthorizationPolicy/web/nginx-viewer"]
    assert "HTTP attributes are dropped" in policy and "calls they allow today" in policy
    moves = {line.split(" → ")[0]: line for line in web.steps[2].actions if " → " in line}
    assert "L7 telemetry" in moves["Telemetry/web/nginx-access-log"]
    assert "HTTP attributes need the waypoint" in moves["AuthorizationPolicy/web/nginx-viewer"]
    shop = build_plan(analysis_of(FIXTURES / "shop.yaml"), PlanSettings())
    jwt = next(line for line in shop.namespaces[0].steps[3].actions
               if "RequestAuthentication/shop/web-jwt:" in line)
    assert "JWT validation needs the waypoint" in jwt
    sidecar = next(line for line in shop.namespaces[0].steps[3].actions
                   if "Sidecar/shop/default:" in line)
    assert "injected proxies only" in sidecar


def test_no_double_rollout_for_a_reapplied_statefulset() -> None:
    _, plan = scenario_plan("p13-plan-steps")
    web = namespace_plan(plan, "web").steps[3]
    [restart] = [c for c in web.commands if "rollout restart" in c]
    assert restart == "kubectl -n web rollout restart deployment/curl"
    enrol = files_of(plan, "web")["web/04-enrolment.yaml"]
    assert any(o["kind"] == "StatefulSet" for o in enrol)
    # the injection label goes before the template is applied: no new pod gets a sidecar
    assert web.apply == [] and web.commands[:2] == [
        "kubectl label namespace web istio-injection- istio.io/rev-",
        "kubectl apply -f web/04-enrolment.yaml"]
    assert [c for c in web.rollback if "rollout restart" in c] == [restart]
    # not re-applied (no sidecar-only annotation): restarted once
    web_l4 = namespace_plan(plan, "web-l4").steps[3]
    assert "kubectl -n web-l4 rollout restart deployment/curl statefulset/web" in (
        web_l4.commands)


def test_plan_moves_a_consumer_gateway_api_route_with_its_backends() -> None:
    text = """
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec: {selector: {app: reviews}, ports: [{port: 9080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: bookinfo}
spec: {template: {metadata: {labels: {app: reviews}}, spec: {containers: [{name: r, image: r}]}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews-timeout, namespace: frontend}
spec:
  parentRefs: [{group: "", kind: Service, name: reviews, namespace: bookinfo, port: 9080}]
  rules:
  - timeouts: {request: 1s}
    backendRefs: [{name: reviews, namespace: bookinfo, port: 9080}]
"""
    loaded = LoadResult()
    load_text(text, "route.yaml", "default", loaded)
    plan = build_plan(analyze(loaded.resources, loaded.errors, Settings(), files=1),
                      PlanSettings())
    moved = files_of(plan, "bookinfo")["bookinfo/03-moved-routes.yaml"]
    assert moved == [{
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
        "metadata": {"name": "reviews-timeout", "namespace": "bookinfo"},
        "spec": {"parentRefs": [{"group": "", "kind": "Service", "name": "reviews",
                                 "port": 9080}],
                 "rules": [{"timeouts": {"request": "1s"},
                            "backendRefs": [{"name": "reviews", "port": 9080}]}]}}]


def test_plan_asks_for_a_registry_only_replacement() -> None:
    _, plan = scenario_plan("p4-egress")
    catalog = next(n for n in plan.namespaces if n.name == "catalog")
    assert any(m.object == "Sidecar/catalog/default" and "REGISTRY_ONLY" in m.reason
               and m.rows == ["U-REGISTRY-ONLY"] for m in catalog.manual)
    shop = next(n for n in plan.namespaces if n.name == "shop")
    assert not any("REGISTRY_ONLY" in m.reason for m in shop.manual)
