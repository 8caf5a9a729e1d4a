"""``plan --out DIR`` never writes outside DIR, never follows a link in it, quotes every name.

Each attack of issue 12 is reproduced in ``tmp_path``: namespaces that are paths
(``../../ESCAPED``, ``..``, an absolute path) from files and from a cluster, a symlinked
namespace folder, a link to a victim folder beside an earlier plan, a dangling link where a
plan file goes, and shell words in PLAN.md commands.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from typer.testing import CliRunner

from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.cli import app
from asm_mode_advisor.model import Resource
from asm_mode_advisor.plan import PlanSettings, build_plan
from asm_mode_advisor.plan.model import Plan
from asm_mode_advisor.plan.write import PlanWriteError, write_plan
from asm_mode_advisor.sources.cluster import HttpResponse, Reader, read_cluster
from asm_mode_advisor.sources.files import LoadResult, load_text

runner = CliRunner()


def app_yaml(namespace: str) -> str:
    """A sidecar namespace with one Deployment and one Service: planned for ambient."""
    ns = json.dumps(namespace)
    return f"""
apiVersion: v1
kind: Namespace
metadata: {{name: {ns}, labels: {{istio-injection: enabled}}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec: {{containers: [{{name: web, image: example/web:1}}]}}
---
apiVersion: v1
kind: Service
metadata: {{name: web, namespace: {ns}}}
spec: {{selector: {{app: web}}, ports: [{{name: http, port: 80}}]}}
"""


def plan_of(text: str) -> Plan:
    loaded = LoadResult()
    load_text(text, "app.yaml", "default", loaded)
    assert not loaded.errors, loaded.errors
    return build_plan(analyze(loaded.resources, [], Settings()), PlanSettings())


def tree(root: Path) -> set[str]:
    """Every path under ``root`` (links not followed), relative to it."""
    return {str(p.relative_to(root)) for p in root.rglob("*")}


# --- names that are paths: refused at load time, from files --------------------------------


@pytest.mark.parametrize("hostile", ["../../ESCAPED", "..", "ABSOLUTE"])
def test_namespace_that_is_a_path_never_leaves_out(tmp_path: Path, hostile: str) -> None:
    if hostile == "ABSOLUTE":
        hostile = str(tmp_path / "abs")
    out = tmp_path / "a" / "b" / "out"
    manifests = tmp_path / "in.yaml"
    manifests.write_text(app_yaml("shop") + "---" + app_yaml(hostile))
    result = runner.invoke(app, ["plan", str(manifests), "--out", str(out)])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.stderr.splitlines() if repr(hostile) in line]
    assert len(lines) == 3  # the Namespace, the Deployment and the Service
    assert all(line.startswith(f"asm-advisor: {manifests}:") for line in lines)
    assert lines[0].endswith(f"Namespace {hostile!r}: invalid name {hostile!r}: must be a "
                             "DNS-1123 label (lowercase letters, digits and '-', starting and "
                             "ending with a letter or digit, at most 63 characters); object "
                             "skipped")
    assert f"Deployment 'web': invalid namespace name {hostile!r}: must be a DNS-1123 " in (
        lines[1])
    assert tree(tmp_path) == {"in.yaml", "a", "a/b", *(f"a/b/out/{p}" for p in tree(out)),
                              "a/b/out"}
    assert "shop/04-enrolment.yaml" in tree(out)  # the rest is still planned
    assert all(p.split("/")[0] in ("shop", "PLAN.md", "PLAN.html") for p in tree(out))


def test_valid_namespace_is_planned_inside_out(tmp_path: Path) -> None:
    manifests = tmp_path / "in.yaml"
    manifests.write_text(app_yaml("shop-2"))
    result = runner.invoke(app, ["plan", str(manifests), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert {"PLAN.md", "shop-2", "shop-2/04-enrolment.yaml"} <= tree(tmp_path / "out")


# --- the writer's own checks, for a plan whose paths were not validated -------------------


@pytest.mark.parametrize("bad", ["../../ESCAPED/04-enrolment.yaml", "../04-enrolment.yaml",
                                 "ABSOLUTE/ESCAPED/04-enrolment.yaml",
                                 "shop/../../ESCAPED/04-enrolment.yaml",
                                 "shop/cleanup/../../../x/04-a.yaml", "shop/notes.txt"])
def test_writer_refuses_a_path_outside_the_layout(tmp_path: Path, bad: str) -> None:
    bad = bad.replace("ABSOLUTE", str(tmp_path))
    plan = plan_of(app_yaml("shop"))
    namespace = plan.namespaces[0]
    tampered = namespace.files[0].model_copy(update={"path": bad})
    plan = plan.model_copy(update={"namespaces": [
        namespace.model_copy(update={"files": [*namespace.files, tampered]})]})
    out = tmp_path / "a" / "out"
    with pytest.raises(PlanWriteError, match="not a plan file path"):
        write_plan(plan, out)
    assert tree(tmp_path) == set()  # refused before anything was created


def test_writer_writes_the_layout(tmp_path: Path) -> None:
    written = write_plan(plan_of(app_yaml("shop")), tmp_path / "out")
    assert {str(p.relative_to(tmp_path / "out")) for p in written} == {
        "PLAN.md", "PLAN.html", "shop/04-enrolment.yaml", "shop/rollback/04-enrolment.yaml"}


# --- symbolic links below --out ------------------------------------------------------------


@pytest.fixture
def earlier(tmp_path: Path) -> Path:
    """An --out directory holding an earlier plan of ``shop``."""
    out = tmp_path / "out"
    write_plan(plan_of(app_yaml("shop")), out)
    return out


def test_symlinked_namespace_folder_is_refused(tmp_path: Path, earlier: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    for path in sorted((earlier / "shop").rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    (earlier / "shop").rmdir()
    (earlier / "shop").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(PlanWriteError, match=r"out/shop: is a symbolic link; refusing"):
        write_plan(plan_of(app_yaml("shop")), earlier)
    assert list(elsewhere.iterdir()) == []


def test_link_to_a_victim_beside_an_earlier_plan_deletes_nothing(tmp_path: Path,
                                                                  earlier: Path) -> None:
    victim = tmp_path / "victim"
    (victim / "cleanup").mkdir(parents=True)
    for path in (victim / "04-enrolment.yaml", victim / "cleanup" / "04-after-restart.yaml"):
        path.write_text("mine")
    (earlier / "other-ns").symlink_to(Path("..") / "victim", target_is_directory=True)
    before = tree(earlier)
    with pytest.raises(PlanWriteError, match=r"out/other-ns: is a symbolic link"):
        write_plan(plan_of(app_yaml("shop")), earlier)
    assert (victim / "04-enrolment.yaml").read_text() == "mine"
    assert (victim / "cleanup" / "04-after-restart.yaml").read_text() == "mine"
    assert tree(earlier) == before  # checked first: the earlier plan is untouched too


def test_cli_reports_a_link_in_one_line(tmp_path: Path, earlier: Path) -> None:
    (tmp_path / "victim").mkdir()
    (earlier / "other-ns").symlink_to(tmp_path / "victim", target_is_directory=True)
    manifests = tmp_path / "in.yaml"
    manifests.write_text(app_yaml("shop"))
    result = runner.invoke(app, ["plan", str(manifests), "--out", str(earlier)])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines()[-1] == (
        f"asm-advisor: error: {earlier / 'other-ns'}: is a symbolic link; refusing to follow "
        "it (remove it or choose another --out)")


def test_dangling_link_where_a_plan_file_goes_creates_nothing(tmp_path: Path,
                                                               earlier: Path) -> None:
    target = tmp_path / "created-by-the-link"
    (earlier / "shop" / "04-enrolment.yaml").unlink()
    (earlier / "shop" / "04-enrolment.yaml").symlink_to(target)
    with pytest.raises(PlanWriteError, match=r"04-enrolment\.yaml: is a symbolic link"):
        write_plan(plan_of(app_yaml("shop")), earlier)
    assert not target.exists()


def test_linked_plan_file_is_refused(tmp_path: Path, earlier: Path) -> None:
    target = tmp_path / "notes.md"
    target.write_text("mine")
    (earlier / "PLAN.md").unlink()
    (earlier / "PLAN.md").symlink_to(target)
    with pytest.raises(PlanWriteError, match=r"PLAN\.md: is a symbolic link"):
        write_plan(plan_of(app_yaml("shop")), earlier)
    assert target.read_text() == "mine"


def test_earlier_plan_is_replaced_and_other_files_kept(earlier: Path) -> None:
    (earlier / "gone").mkdir()
    (earlier / "gone" / "02-waypoints.yaml").write_text("stale")
    (earlier / "shop" / "notes.txt").write_text("mine")
    write_plan(plan_of(app_yaml("shop")), earlier)
    assert not (earlier / "gone").exists()
    assert (earlier / "shop" / "notes.txt").read_text() == "mine"
    assert (earlier / "shop" / "04-enrolment.yaml").is_file()


# --- PLAN.md commands quote every name ------------------------------------------------------


def commands(plan: Plan) -> list[str]:
    return [line.split("  #")[0] for namespace in plan.namespaces for step in namespace.steps
            for line in (*step.commands, *step.verify, *step.rollback,
                         *(f"kubectl apply -f {shlex.quote(p)}" for p in step.apply))
            if line.startswith(("kubectl ", "istioctl "))]


def test_a_label_value_is_one_shell_word() -> None:
    hostile = "canary; touch pwned $(id)"
    plan = plan_of(app_yaml("shop").replace("istio-injection: enabled",
                                            f"istio.io/rev: {json.dumps(hostile)}"))
    [rollback] = [c for c in commands(plan) if c.startswith("kubectl label namespace shop "
                                                            "istio.io/dataplane-mode-")]
    assert shlex.split(rollback)[-1] == f"istio.io/rev={hostile}"


def test_names_that_skipped_validation_are_still_one_word() -> None:
    """Resources made by code, not loaded: the commands still quote every name."""
    ns, name = "shop; rm -rf ~", "web $(id)"
    body: dict[str, Any] = {"metadata": {"name": ns, "labels": {"istio-injection": "enabled"}}}
    spec = {"selector": {"matchLabels": {"app": "web"}}, "template": {
        "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web"}]}}}
    resources = [
        Resource("Namespace", "v1", ns, None, body["metadata"]["labels"], {}, body),
        Resource("Deployment", "apps/v1", name, ns, {}, {},
                 {"metadata": {"name": name, "namespace": ns}, "spec": spec})]
    plan = build_plan(analyze(resources, [], Settings()), PlanSettings())
    lines = commands(plan)
    assert lines
    for line in lines:  # a piece of a hostile name is never a word of its own
        words = shlex.split(line)
        assert all(ns in word for word in words if "rm" in word or "~" in word), line
        assert all(name in word for word in words if "$(id)" in word), line
    assert f"kubectl label namespace {shlex.quote(ns)} istio-injection- istio.io/rev-" in lines
    restart = next(line for line in lines if " rollout restart " in line)
    assert shlex.split(restart)[-1] == f"deployment/{name}"


def test_plain_names_are_not_quoted() -> None:
    lines = commands(plan_of(app_yaml("shop")))
    assert "kubectl -n shop rollout restart deployment/web" in lines
    assert not any("'" in line for line in lines if "jsonpath" not in line)


# --- from a cluster: a hostile server's names are refused too ------------------------------


class HostileServer:
    """An API server that lists whatever objects it is given, names unchecked."""

    def __init__(self, objects: dict[str, list[dict[str, Any]]]) -> None:
        self.objects = objects

    def get(self, path: str, accept: str) -> HttpResponse:
        route = urlsplit(path).path
        served: dict[str, Any] = {
            "/version": {"gitVersion": "v1.30.0"},
            "/apis": {"groups": [{"name": "apps", "versions": [{"version": "v1"}]}]},
            "/api/v1": {"resources": [{"name": n} for n in ("namespaces", "nodes", "pods",
                                                             "services")]},
            "/apis/apps/v1": {"resources": [{"name": "deployments"}]}}
        data = served.get(route)
        if data is None:
            if route not in self.objects:
                return HttpResponse(404, {}, b"{}")
            data = {"metadata": {}, "items": self.objects[route]}
        return HttpResponse(200, {"Content-Type": "application/json"}, json.dumps(data).encode())


def cluster_objects(namespace: str) -> dict[str, list[dict[str, Any]]]:
    spec = {"selector": {"matchLabels": {"app": "web"}}, "template": {
        "metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web"}]}}}
    return {
        "/api/v1/namespaces": [{"metadata": {"name": namespace,
                                             "labels": {"istio-injection": "enabled"}}}],
        "/api/v1/nodes": [{"metadata": {"name": "n1"}}],
        "/api/v1/services": [{"metadata": {"name": "web", "namespace": namespace},
                              "spec": {"selector": {"app": "web"},
                                       "ports": [{"name": "http", "port": 80}]}}],
        "/apis/apps/v1/deployments": [{"metadata": {"name": "web", "namespace": namespace},
                                       "spec": spec}]}


def test_read_cluster_leaves_out_hostile_names() -> None:
    snapshot = read_cluster(Reader(HostileServer(cluster_objects("../../ESCAPED")),
                                   sleep=lambda _: None))
    assert snapshot.resources == []
    assert len(snapshot.invalid) == 3
    assert "Namespace '../../ESCAPED': invalid name '../../ESCAPED'" in snapshot.invalid[0]
    assert any("invalid namespace name '../../ESCAPED'" in m for m in snapshot.invalid)


def test_read_cluster_keeps_valid_names() -> None:
    snapshot = read_cluster(Reader(HostileServer(cluster_objects("shop")),
                                   sleep=lambda _: None))
    assert snapshot.invalid == []
    assert sorted(r.kind for r in snapshot.resources) == ["Deployment", "Namespace", "Service"]


@pytest.mark.parametrize("namespace", ["../../ESCAPED", "..", "ABSOLUTE"])
def test_plan_from_cluster_refuses_hostile_names(tmp_path: Path, namespace: str,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    namespace = namespace.replace("ABSOLUTE", str(tmp_path / "abs"))
    server = HostileServer({**cluster_objects("shop"), **{
        k: v + cluster_objects(namespace)[k] for k, v in cluster_objects("shop").items()}})
    monkeypatch.setattr("asm_mode_advisor.commands.scan.connect", lambda options: server)
    out = tmp_path / "a" / "b" / "out"
    result = runner.invoke(app, ["plan", "--from-cluster", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert result.stderr == (
        f"asm-advisor: error: Deployment 'web': invalid namespace name {namespace!r}: must be a "
        "DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter "
        "or digit, at most 63 characters); object skipped (and 2 more)\n")
    assert tree(tmp_path) == set()  # a plan from a partial read is never written


def test_plan_from_cluster_with_valid_names(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    server = HostileServer(cluster_objects("shop"))
    monkeypatch.setattr("asm_mode_advisor.commands.scan.connect", lambda options: server)
    result = runner.invoke(app, ["plan", "--from-cluster", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "shop/04-enrolment.yaml" in tree(tmp_path / "out")


def test_a_system_without_openat_is_refused(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("os.supports_dir_fd", set())
    with pytest.raises(PlanWriteError, match="openat"):
        write_plan(plan_of(app_yaml("shop")), tmp_path / "out")
    assert tree(tmp_path) == set()
