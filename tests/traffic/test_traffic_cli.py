"""analyze and plan with --prometheus: a real Prometheus, the estate of ``estate/``.

The series (``series.yaml``) and the manifests describe the same namespaces: web stays on
sidecars and calls shop, whose cart gets a waypoint with L7 policy; batch calls cart over
TCP and moves; db serves only TCP; quiet has L7 routing nobody uses; reviews shows injected
faults.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from asm_mode_advisor.cli import app
from promserver import Exporter, PrometheusServer

ESTATE = str(Path(__file__).resolve().parent / "estate")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def report(*args: str) -> dict[str, Any]:
    code, stdout, stderr = run("analyze", ESTATE, "-o", "json", *args)
    assert code in (0, 1), stderr
    data: dict[str, Any] = json.loads(stdout)
    return data


def reasons(data: dict[str, Any], namespace: str) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = {}
    for verdict in data["namespaces"]:
        if verdict["name"] == namespace:
            for reason in verdict["reasons"]:
                found.setdefault(reason["ruleId"], []).append(reason)
    return found


def verdict(data: dict[str, Any], namespace: str) -> dict[str, Any]:
    found: dict[str, Any] = next(v for v in data["namespaces"] if v["name"] == namespace)
    return found


def test_measured_sidecar_caller_is_named_with_its_rate(
        prometheus: tuple[PrometheusServer, Exporter]) -> None:
    server, _ = prometheus
    data = report("--prometheus", server.url, "--metrics-window", "5m")
    assert data["summary"]["traffic"]["evidence"] == "metrics"
    assert data["summary"]["traffic"]["prometheus"] == server.url
    (skip,) = reasons(data, "shop")["AMA430"]
    assert "web/frontend (" in skip["message"] and " rps)" in skip["message"]
    assert "measured by Prometheus over 5m" in skip["message"]
    callers = verdict(data, "shop")["traffic"]["callers"]
    web = [c for c in callers if c["namespace"] == "web" and c["service"] == "cart"]
    assert web and web[0]["source"] == "metrics" and web[0]["mode"] == "sidecar"
    assert web[0]["requestsPerSecond"] > 0 and web[0]["workload"] == "frontend"
    assert verdict(data, "shop")["traffic"]["httpRequestsPerSecond"] > 0


def test_measured_evidence_notes(prometheus: tuple[PrometheusServer, Exporter]) -> None:
    server, _ = prometheus
    data = report("--prometheus", server.url, "--metrics-window", "5m")
    assert "configured but unused in the last 5m" in reasons(data, "quiet")["AMA431"][0][
        "message"]
    assert "AMA432" in reasons(data, "db")  # only TCP: ambient confirmed by traffic
    assert "AMA432" not in reasons(data, "shop")
    assert "FI" in reasons(data, "shop")["AMA433"][0]["message"]
    # Metrics never change a verdict on their own.
    plain = report()
    assert {v["name"]: v["recommendation"] for v in data["namespaces"]} == {
        v["name"]: v["recommendation"] for v in plain["namespaces"]}


def test_plan_orders_waves_and_names_the_caller_left_behind(
        prometheus: tuple[PrometheusServer, Exporter]) -> None:
    server, _ = prometheus
    code, stdout, stderr = run("plan", ESTATE, "--prometheus", server.url,
                               "--metrics-window", "5m", "-o", "json")
    assert code == 0, stderr
    plan = json.loads(stdout)
    order = plan["order"]
    assert order["evidence"] == "metrics"
    waves = {n: w["number"] for w in order["waves"] for n in w["namespaces"]}
    assert waves["batch"] < waves["shop"]  # batch calls cart: it moves first
    assert any(line.startswith("web stays on sidecars") for line in order["leftBehind"])
    assert {p["name"]: p["wave"] for p in plan["namespaces"]}["shop"] == waves["shop"]


def test_without_prometheus_the_manifests_still_order_the_move() -> None:
    data = report()
    assert data["summary"]["traffic"] == {"calls": data["summary"]["traffic"]["calls"],
                                          "evidence": "manifests"}
    assert "AMA431" not in reasons(data, "quiet")  # absence means nothing without metrics
    code, stdout, _ = run("plan", ESTATE, "-o", "json")
    assert code == 0
    assert json.loads(stdout)["order"]["evidence"] == "manifests"


def test_unreachable_prometheus_warns_and_goes_on(tmp_path: Path) -> None:
    code, stdout, stderr = run("analyze", ESTATE, "-o", "json", "--prometheus",
                               "http://127.0.0.1:9")
    assert code == 0
    assert stderr.count("\n") == 1 and "warning: cannot reach Prometheus at" in stderr
    data = json.loads(stdout)
    assert data["summary"]["traffic"]["evidence"] == "manifests"
    assert "cannot reach Prometheus" in data["summary"]["traffic"]["problem"]
    assert data["errors"] == []


def test_require_metrics_makes_it_an_input_error(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("sekrit-token-value", encoding="utf-8")
    code, stdout, stderr = run("analyze", ESTATE, "-o", "json", "--prometheus",
                               "http://127.0.0.1:9", "--prometheus-token-file", str(token),
                               "--require-metrics")
    assert code == 2
    assert "sekrit-token-value" not in stdout + stderr
    assert json.loads(stdout)["errors"][0]["message"].startswith("--require-metrics: ")


def test_bad_window_is_a_usage_error() -> None:
    code, _, stderr = run("analyze", ESTATE, "--metrics-window", "a week")
    assert code == 2 and "not a duration" in stderr


def test_no_traffic_builds_no_graph() -> None:
    data = report("--no-traffic")
    assert "traffic" not in data["summary"]
    assert all("traffic" not in v for v in data["namespaces"])
    assert "AMA430" not in reasons(data, "shop")


def test_cost_of_the_measured_load_cites_istios_figures(
        prometheus: tuple[PrometheusServer, Exporter]) -> None:
    server, _ = prometheus
    data = report("--prometheus", server.url, "--metrics-window", "5m")
    lines = [b["text"] for b in verdict(data, "shop")["benefits"] if b["row"] == "M-COST"]
    measured = [line for line in lines if line.startswith("at the measured load")]
    assert len(measured) == 1 and "performance-and-scalability" in measured[0]
    assert "in ambient-waypoint" in measured[0]
    assert not [b for b in verdict(report(), "shop")["benefits"]
                if b["text"].startswith("at the measured load")]
    code, stdout, _ = run("plan", ESTATE, "--prometheus", server.url, "--metrics-window", "5m",
                          "-o", "json")
    assert code == 0
    shop = next(n for n in json.loads(stdout)["namespaces"] if n["name"] == "shop")
    # The same line as analyze's; the figures move a little between the two runs (the
    # series still grow), so compare its words, not its numbers.
    words = shop["estimate"]["atMeasuredLoad"]
    assert words.startswith("at the measured load (") and words.split(")")[-2:] == (
        measured[0].split(")")[-2:])
