"""Kubernetes name rules: which names load, which are one-line input errors."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from asm_mode_advisor.cli import app
from asm_mode_advisor.names import invalid_names, is_namespace, name_rule
from support import load

runner = CliRunner()


@pytest.mark.parametrize("name", ["shop", "a", "0", "team-1", "a" * 63])
def test_valid_namespaces(name: str) -> None:
    assert is_namespace(name)


@pytest.mark.parametrize("name", ["", "..", ".", "../../x", "/abs", "a/b", "Shop", "-a", "a-",
                                  "a.b", "a" * 64, "shop\n", "shop;x", "sh op", "ｓhop"])
def test_invalid_namespaces(name: str) -> None:
    assert not is_namespace(name)


@pytest.mark.parametrize(("kind", "group", "name"), [
    ("Deployment", "apps", "web.v1-2"),
    ("Deployment", "apps", "1web"),
    ("Deployment", "apps", "statusPort"),  # upper case: tolerated in object names
    ("ConfigMap", "", "a" * 253),
    ("Service", "", "web"),
    ("ClusterRole", "rbac.authorization.k8s.io", "system:controller:foo"),
    ("RoleBinding", "rbac.authorization.k8s.io", "Weird Name:1"),
    ("VirtualService", "networking.istio.io", "reviews-route"),
])
def test_valid_object_names(kind: str, group: str, name: str) -> None:
    assert invalid_names(kind, group, name, None) is None


@pytest.mark.parametrize(("kind", "group", "name", "rule"), [
    ("Deployment", "apps", "../web", "DNS-1123 subdomain"),
    ("Deployment", "apps", "a" * 254, "DNS-1123 subdomain"),
    ("Deployment", "apps", "web;rm", "DNS-1123 subdomain"),
    ("Service", "", "1web", "DNS-1035 label"),
    ("Service", "", "web.v1", "DNS-1035 label"),
    ("Namespace", "", "Shop", "DNS-1123 label"),
    ("ClusterRole", "rbac.authorization.k8s.io", "..", "'.' or '..'"),
    ("Role", "rbac.authorization.k8s.io", "a/b", "'/' or '%'"),
    ("Role", "rbac.authorization.k8s.io", "a%2f", "'/' or '%'"),
])
def test_invalid_object_names(kind: str, group: str, name: str, rule: str) -> None:
    message = invalid_names(kind, group, name, None)
    assert message is not None
    assert message.startswith(f"{kind} {name!r}: invalid name {name!r}: ") and rule in message


def test_rules_follow_the_kind_and_its_group() -> None:
    assert "DNS-1035" in name_rule("Service", "").text
    assert "DNS-1123 subdomain" in name_rule("Service", "serving.knative.dev").text
    assert "path" not in name_rule("Role", "example.com").text
    assert "'/'" in name_rule("Role", "rbac.authorization.k8s.io").text


def test_generate_name_prefix_may_end_with_a_dash() -> None:
    assert invalid_names("Job", "batch", "backup-", None, generated=True) is None
    assert invalid_names("Job", "batch", "backup-", None) is not None
    assert "invalid generateName '../'" in (invalid_names("Job", "batch", "../", None,
                                                          generated=True) or "")


def test_control_characters_are_escaped_in_the_message() -> None:
    message = invalid_names("Pod", "", "web", "x\n::error::\x1b[31m")
    assert message is not None and "\n" not in message and "\x1b" not in message
    assert r"'x\n::error::\x1b[31m'" in message


def test_bad_namespace_is_one_error_and_the_rest_loads() -> None:
    loaded = load("""
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: ../x}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: api, namespace: shop}
        """, name="app.yaml")
    assert [str(e) for e in loaded.errors] == [
        "app.yaml:2: Deployment 'web': invalid namespace name '../x': must be a DNS-1123 "
        "label (lowercase letters, digits and '-', starting and ending with a letter or digit, "
        "at most 63 characters); object skipped"]
    assert [(r.name, r.namespace) for r in loaded.resources] == [("api", "shop")]


def test_cluster_scoped_objects_ignore_a_namespace_field() -> None:
    loaded = load("""
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRole
        metadata: {name: "system:controller:foo", namespace: ../ignored}
        """)
    assert loaded.errors == [] and loaded.resources[0].namespace is None


def test_unnamed_tool_configuration_still_loads() -> None:
    loaded = load("""
        apiVersion: kustomize.config.k8s.io/v1beta1
        kind: Kustomization
        resources: [app.yaml]
        """)
    assert loaded.errors == [] and loaded.resources[0].name == "(unnamed)"


def test_analyze_reports_bad_names_with_exit_2() -> None:
    result = runner.invoke(app, ["analyze", "-", "-o", "json"],
                           input="apiVersion: v1\nkind: Service\nmetadata: {name: 9web}\n")
    assert result.exit_code == 2
    assert "<stdin>:1: Service '9web': invalid name '9web': must be a DNS-1035 label" in (
        result.stderr)


@pytest.mark.parametrize(("value", "code"), [("../x", 2), ("/abs", 2), ("Shop", 2), ("shop", 0)])
def test_default_namespace_flag_is_validated(value: str, code: int) -> None:
    result = runner.invoke(app, ["analyze", "-", "--default-namespace", value, "-o", "json",
                                 "--fail-on", "never"],
                           input="apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n")
    assert result.exit_code == code, result.output
    if code:
        assert "must be a DNS-1123 label" in result.output
