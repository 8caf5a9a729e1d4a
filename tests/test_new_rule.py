"""The review's toy-rule experiment: a new rule added by the documented steps only fires.

docs/design.md ("Adding a rule or a kind") lists the steps: one rule module declaring
``RULES`` (each with ``kinds`` and the fields it ``reads``) and ``DETECTORS``, listed in
``rules.MODULES``; a new kind also gets its ``KindInfo`` line in ``kinds.KNOWN_KINDS``.
Here the module is written to ``tmp_path`` and registered the way ``rules/__init__.py``
derives its tables; nothing else (slimming above all) is told about it.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from asm_mode_advisor import kinds, rules
from asm_mode_advisor.inventory import Inventory
from asm_mode_advisor.kinds import KindInfo, parse_read, unknown_kinds
from asm_mode_advisor.rules import Context, Finding, Rule
from asm_mode_advisor.rules.phases import run_rules
from support import load

TOY_MODULE = '''
"""Toy rules: a native-sidecar init container, and a ProxyConfig (a kind new to the tool)."""

from asm_mode_advisor.model import as_str, dicts
from asm_mode_advisor.rules._base import Detector, Rule, specs

NATIVE_SIDECAR = Rule(
    id="AMA991", name="toy-native-sidecar", title="An init container runs as a native sidecar",
    need="sidecar-config", kinds=("Deployment",),
    reads=("Deployment:spec.template.spec.initContainers",),
    rationale="A toy rule of the new-rule test.",
    triggers=("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      initContainers: [{name: proxy, image: example/proxy:1, restartPolicy: Always}]
      containers: [{name: web, image: example/web:1}]
""",),
    passes=("""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      initContainers: [{name: setup, image: busybox:1}]
      containers: [{name: web, image: example/web:1}]
""",))

PROXY_CONFIG = Rule(
    id="AMA992", name="toy-proxy-config", title="A ProxyConfig sets the proxy concurrency",
    need="sidecar-config", kinds=("ProxyConfig",), reads=specs("ProxyConfig"),
    rationale="A toy rule of the new-rule test.",
    triggers=("""
apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata: {name: tuned, namespace: shop}
spec: {concurrency: 2}
""",),
    passes=("""
apiVersion: networking.istio.io/v1beta1
kind: ProxyConfig
metadata: {name: plain, namespace: shop}
spec: {}
""",))

RULES = (NATIVE_SIDECAR, PROXY_CONFIG)


def detect_native_sidecars(inventory, _):
    for resource in inventory.of_kind("Deployment"):
        pod = resource.spec.get("template", {}).get("spec", {})
        for container in dicts(pod.get("initContainers")):
            if as_str(container.get("restartPolicy")) == "Always":
                yield NATIVE_SIDECAR.finding(resource, f"{resource.ref} has a native sidecar")


def detect_proxy_configs(inventory, _):
    for resource in inventory.of_kind("ProxyConfig"):
        if resource.spec.get("concurrency") is not None:
            yield PROXY_CONFIG.finding(resource, f"{resource.ref} sets concurrency")


DETECTORS = (Detector(detect_native_sidecars, (NATIVE_SIDECAR,)),
             Detector(detect_proxy_configs, (PROXY_CONFIG,)))
'''

PROXY_CONFIG_KIND = KindInfo("ProxyConfig", "networking.istio.io", ("v1beta1",), "proxyconfigs")


def _toy_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Step 1: the rule module (written out and imported as the package would)."""
    path = tmp_path / "toy_rules.py"
    path.write_text(TOY_MODULE)
    spec = importlib.util.spec_from_file_location("toy_rules", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, "toy_rules", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """Step 2: the module listed in ``rules.MODULES``, and the tables derived as at import."""
    module = _toy_module(tmp_path, monkeypatch)
    modules = (*rules.MODULES, module)
    monkeypatch.setattr(rules, "MODULES", modules)
    monkeypatch.setattr(rules, "ALL_RULES", tuple(sorted(
        (rule for m in modules for rule in m.RULES), key=lambda rule: rule.id)))
    monkeypatch.setattr(rules, "DETECTORS", tuple(d for m in modules for d in m.DETECTORS))
    return module


def _findings(text: str) -> list[Finding]:
    """The whole rule pipeline on ``text``, its bodies slimmed as ``analyze`` slims them."""
    loaded = load(text)
    assert loaded.errors == []
    findings, errors = run_rules(Inventory.build(loaded.resources), Context())
    assert errors == []
    return findings


def _ids(findings: list[Finding], rule: Rule) -> list[str]:
    return [f.rule.id for f in findings if f.rule is rule]


def test_a_rule_on_a_pod_spec_field_needs_one_module(toy: ModuleType) -> None:
    rule = toy.NATIVE_SIDECAR
    assert _ids(_findings(rule.triggers[0]), rule) == [rule.id]
    assert _ids(_findings(rule.passes[0]), rule) == []


def test_without_its_declaration_the_field_is_slimmed_away(
        toy: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """What the review saw: the field a rule reads but does not declare never reaches it."""
    rule = toy.NATIVE_SIDECAR
    undeclared = tuple(r for r in rules.ALL_RULES if r is not rule)
    monkeypatch.setattr(rules, "ALL_RULES", undeclared)
    assert _ids(_findings(rule.triggers[0]), rule) == []


def test_a_rule_on_a_new_kind_needs_one_module_and_the_kind(
        toy: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    rule = toy.PROXY_CONFIG
    read_kinds = {parse_read(read)[0] for read in rule.reads}
    assert unknown_kinds({*rule.kinds, *read_kinds}) == ["ProxyConfig"]  # caught before step 3
    monkeypatch.setattr(kinds, "KNOWN_KINDS", (*kinds.KNOWN_KINDS, PROXY_CONFIG_KIND))  # step 3
    assert unknown_kinds({*rule.kinds, *read_kinds}) == []
    assert _ids(_findings(rule.triggers[0]), rule) == [rule.id]
    assert _ids(_findings(rule.passes[0]), rule) == []
