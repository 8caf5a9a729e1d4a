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
    assert "waypoint's identity" in manual["AuthorizationPolicy/shop/cart-callers"]
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
