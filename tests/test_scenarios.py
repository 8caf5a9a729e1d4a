"""Scenario folders: real-shaped configurations with the verdict written before the tool ran.

Each ``tests/fixtures/scenarios/<name>/`` holds ``manifests/`` (the input, modelled on an
upstream sample that ``expected.yaml`` names) and ``expected.yaml``:

```yaml
source: istio/istio samples/bookinfo/platform/kube/bookinfo.yaml (shape, rewritten)
point: 1                      # the issue-14 point it covers
args: [--mesh-version, "1.25"]  # optional extra flags for analyze
namespaces:
  bookinfo:
    recommendation: ambient
    rules: {AMA413: note}     # each must fire in this namespace, with that severity
    absent: [AMA110]          # none of these may fire in this namespace
enforcement:                  # optional: per object (kind/namespace/name)
- {kind: AuthorizationPolicy, namespace: bookinfo, name: deny-delete,
   today: server-sidecar, afterMove: ztunnel, change: notEnforced}
```

Namespaces not listed are not checked. A scenario is a positive test for the namespaces
where the defect's rule must fire and a negative one for those where it must not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from asm_mode_advisor.cli import app

SCENARIOS = Path(__file__).resolve().parent / "fixtures" / "scenarios"
NAMES = sorted(p.name for p in SCENARIOS.iterdir() if (p / "expected.yaml").is_file())


def expected_of(name: str) -> dict[str, Any]:
    data = yaml.safe_load((SCENARIOS / name / "expected.yaml").read_text(encoding="utf-8"))
    assert isinstance(data, dict) and data.get("namespaces"), name
    assert data.get("source"), f"{name}: expected.yaml must name the upstream sample"
    return data


def report_of(name: str, args: list[str]) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["analyze", str(SCENARIOS / name / "manifests"),
                                      "--output", "json", *args])
    assert result.exit_code in (0, 1), result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


@pytest.mark.parametrize("name", NAMES)
def test_scenario(name: str) -> None:
    expected = expected_of(name)
    report = report_of(name, [str(a) for a in expected.get("args", [])])
    verdicts = {v["name"]: v for v in report["namespaces"]}
    for namespace, want in expected["namespaces"].items():
        assert namespace in verdicts, f"{name}: no verdict for {namespace}"
        verdict = verdicts[namespace]
        fired: dict[str, set[str]] = {}
        for reason in verdict["reasons"]:
            fired.setdefault(reason["ruleId"], set()).add(reason["severity"])
        if "recommendation" in want:
            assert verdict["recommendation"] == want["recommendation"], (
                f"{name}/{namespace}: {verdict['recommendation']} "
                f"({sorted(fired)}), expected {want['recommendation']}")
        rules = want.get("rules", {})
        for rule_id, severity in (rules.items() if isinstance(rules, dict)
                                  else ((r, None) for r in rules)):
            assert rule_id in fired, f"{name}/{namespace}: {rule_id} did not fire ({fired})"
            if severity is not None:
                assert severity in fired[rule_id], f"{name}/{namespace}: {rule_id} {fired}"
        for rule_id in want.get("absent", []):
            assert rule_id not in fired, f"{name}/{namespace}: {rule_id} fired"
    for entry in expected.get("enforcement", []):
        want = {k: entry[k] for k in ("today", "afterMove", "change")}
        found = [reason["enforcement"] for v in report["namespaces"] for reason in v["reasons"]
                 if "enforcement" in reason and any(
                     o["kind"] == entry["kind"] and o.get("namespace") == entry["namespace"]
                     and o["name"] == entry["name"] for o in reason["objects"][:1])]
        assert found, f"{name}: no enforcement for {entry}"
        assert {k: found[0][k] for k in want} == want, f"{name}: {found[0]} != {want}"


def test_scenarios_exist() -> None:
    assert NAMES, "no scenario folders"
