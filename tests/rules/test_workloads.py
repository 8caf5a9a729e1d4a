"""Workload traits that favour ambient: Jobs, server-first protocols, L4-only namespaces."""

from __future__ import annotations

import pytest

from asm_mode_advisor.analysis import Analysis
from asm_mode_advisor.rules import Finding
from asm_mode_advisor.rules.workloads import server_first_ports
from support import analysis_from


def run(text: str) -> Analysis:
    analysis = analysis_from(text)
    assert analysis.report.errors == []
    return analysis


def fired(analysis: Analysis, rule_id: str) -> list[Finding]:
    return [f for f in analysis.findings if f.rule.id == rule_id]


CRONJOB = """
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: batch}
spec:
  schedule: "0 2 * * *"
  jobTemplate:
    spec:
      template:
        spec: {restartPolicy: OnFailure, containers: [{name: r, image: r:1}]}
"""

OWNED_JOB = """
apiVersion: batch/v1
kind: Job
metadata:
  name: report-123
  namespace: batch
  ownerReferences: [{kind: CronJob, name: report, controller: true}]
spec:
  template:
    spec: {restartPolicy: Never, containers: [{name: r, image: r:1}]}
"""


def test_cronjob_favours_ambient() -> None:
    analysis = run(CRONJOB)
    found = fired(analysis, "AMA201")
    assert len(found) == 1
    assert found[0].effect.value == "favours-ambient"
    assert found[0].workloads == ("report",)
    assert "schedule '0 2 * * *'" in found[0].message
    assert found[0].rows == ("M-JOBS",)
    assert analysis.report.namespaces[0].recommendation == "ambient"


def test_job_owned_by_a_listed_cronjob_counts_once() -> None:
    analysis = run(CRONJOB + "---\n" + OWNED_JOB)
    assert [f.objects[0].kind for f in fired(analysis, "AMA201")] == ["CronJob"]


def test_standalone_job_favours_ambient() -> None:
    analysis = run(OWNED_JOB.replace("  ownerReferences: [{kind: CronJob, name: report, "
                                     "controller: true}]\n", ""))
    assert [f.message for f in fired(analysis, "AMA201")] == [
        "Job/batch/report-123 runs to completion"]


def service(ports: str) -> str:
    return ("apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: data}\n"
            f"spec: {{selector: {{app: db}}, ports: {ports}}}\n")


@pytest.mark.parametrize(("ports", "described"), [
    ("[{name: tcp-db, port: 3306}]", "3306 (tcp-db)"),
    ("[{name: mongo, port: 27018}]", "27018 (mongo)"),
    ("[{name: tcp, port: 2525, appProtocol: smtp}]", "2525 (tcp)"),
    ("[{port: 25}]", "25"),
    ("[{name: mysql-primary, port: 13306}]", "13306 (mysql-primary)"),
])
def test_server_first_ports_favour_ambient(ports: str, described: str) -> None:
    analysis = run(service(ports))
    found = fired(analysis, "AMA202")
    assert len(found) == 1
    assert found[0].message.endswith(f"port(s) {described}")
    assert found[0].services == ("db",) and found[0].path == ("spec", "ports")


@pytest.mark.parametrize("ports", ["[{name: http, port: 80}]", "[{name: redis, port: 6379}]",
                                   "[]"])
def test_other_ports_are_not_server_first(ports: str) -> None:
    assert fired(run(service(ports)), "AMA202") == []


def test_server_first_helper_skips_junk() -> None:
    assert server_first_ports([{"port": "3306"}, {"name": 5}]) == ["3306"]


def test_l4_only_namespace_gets_the_l4_only_reason() -> None:
    analysis = run(service("[{name: tcp-redis, port: 6379}]"))
    verdict = analysis.report.namespaces[0]
    assert verdict.recommendation == "ambient"
    reasons = [r for r in verdict.reasons if r.rule_id == "AMA203"]
    assert len(reasons) == 1
    assert reasons[0].matrix_rows == ("N-SKIPL7", "M-COST", "M-LATENCY", "M-L7PARSING")
    assert reasons[0].effect == "favours-ambient"


def test_namespace_that_needs_l7_gets_no_l4_only_reason() -> None:
    analysis = run(service("[{name: http, port: 80}]") + "---\n"
                   "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\n"
                   "metadata: {name: jwt, namespace: data}\n"
                   "spec: {jwtRules: [{issuer: x}]}\n")
    verdict = analysis.report.namespaces[0]
    assert verdict.recommendation == "ambient-waypoint"
    assert all(r.rule_id != "AMA203" for r in verdict.reasons)
