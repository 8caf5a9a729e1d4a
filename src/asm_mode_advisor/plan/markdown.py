"""PLAN.md: the plan as a reviewable document (a renderer: it computes nothing)."""

from __future__ import annotations

from shlex import quote

from asm_mode_advisor.plan.model import (
    Latency,
    MoveOrder,
    NamespacePlan,
    Plan,
    ProxyRequests,
    Step,
    Totals,
)
from asm_mode_advisor.text import md_code, md_text, safe_line


def cpu(value: int) -> str:
    """Millicores as a Kubernetes quantity."""
    return f"{value}m"


def memory(value: int) -> str:
    """MiB as a Kubernetes quantity."""
    return f"{value}Mi"


def pair(requests: ProxyRequests) -> str:
    """``CPU / memory`` of some requests."""
    return f"{cpu(requests.cpu_millicores)} / {memory(requests.memory_mib)}"


COMMANDS = ("kubectl ", "istioctl ", "asm-advisor ")


def _block(title: str, lines: list[str]) -> list[str]:
    """Shell lines in a fenced block; prose lines (``nothing to undo``) as plain text."""
    commands = [line for line in lines if line.startswith(COMMANDS)]
    prose = [line for line in lines if not line.startswith(COMMANDS)]
    out = [f"{title}: {'; '.join(prose)}.", ""] if prose else []
    return out + ([f"{title}:", "```sh", *commands, "```", ""] if commands else [])


def render_step(step: Step) -> list[str]:
    """One numbered step with its files, commands, checks and rollback."""
    out = [f"#### Step {step.number}: {step.title}", ""]
    out += [f"- {line}" for line in step.actions]
    out.append("")
    out += _block("Apply", [f"kubectl apply -f {quote(path)}" for path in step.apply])
    out += _block("Then run", step.commands)
    out += _block("Verify", step.verify)
    out += _block("Rollback", step.rollback)
    return out


def render_latency(item: Latency) -> str:
    """One hop class: latency and L7 parses before and after."""
    before, after = item.before_ms, item.after_ms
    via = "through a waypoint" if item.hop == "ambient-waypoint" else "ztunnel only"
    services = ", ".join(item.services) or "no Service in the input"
    return (f"- {via} ({services}): {before[0]:.2f}–{before[1]:.2f} ms → "
            f"{after[0]:.2f}–{after[1]:.2f} ms per hop; L7 parses per request "
            f"{item.l7_parses_before} → {item.l7_parses_after}")


def render_namespace(plan: NamespacePlan) -> list[str]:
    """The section of one namespace: waypoints, estimates, steps, manual review."""
    estimate = plan.estimate
    wave = f", wave {plan.wave}" if plan.wave is not None else ""
    out = [f"### Namespace {md_code(plan.name)}: {plan.recommendation} "
           f"(now: {plan.current_mode}{wave})", ""]
    for waypoint in plan.waypoints:
        state = "exists" if waypoint.exists else "created in step 2"
        out.append(f"- waypoint {md_code(waypoint.name)} (for: {waypoint.for_}, bound by "
                   f"{waypoint.bound_by}, {state}): {md_text(', '.join(waypoint.services)) or '-'}")
    out += ["", f"Estimates [{', '.join(estimate.rows)}]:", "",
            f"- sidecars: {pair(estimate.sidecars)} over {len(estimate.workloads)} workload(s)",
            *(f"  - {w.workload}: {w.replicas} × {pair(w.per_pod)} = {pair(w.total)} "
              f"({w.source})" for w in estimate.workloads),
            f"- waypoints: {pair(estimate.waypoints)}",
            *([f"- against sidecars: {estimate.comparison}"] if estimate.comparison else []),
            *([f"- {estimate.at_measured_load}"] if estimate.at_measured_load else []),
            *(render_latency(item) for item in estimate.latency), ""]
    for step in plan.steps:
        out += render_step(step)
    if plan.manual:
        out += ["#### Review by hand", ""]
        out += [f"- {md_code(item.object)}: {md_text(item.reason)}"
                + (f" [{', '.join(item.rows)}]" if item.rows else "") for item in plan.manual]
        out.append("")
    return out


def render_totals(totals: Totals, plan: Plan) -> list[str]:
    """The cost table over every planned namespace, with its assumptions."""
    basis = plan.assumptions
    waypoints = sum(len(n.waypoints) for n in plan.namespaces)
    sign = "+" if totals.change.cpu_millicores > 0 else ""
    msign = "+" if totals.change.memory_mib > 0 else ""
    return [
        f"## Estimates [{', '.join(totals.rows)}]", "",
        "| proxies | CPU requests | memory requests |", "|---|---|---|",
        f"| sidecar mode | {cpu(totals.sidecar_mode.cpu_millicores)} | "
        f"{memory(totals.sidecar_mode.memory_mib)} |",
        f"| ztunnel ({basis.nodes} nodes) | {cpu(totals.ztunnel.cpu_millicores)} | "
        f"{memory(totals.ztunnel.memory_mib)} |",
        f"| waypoints ({waypoints}) | {cpu(totals.waypoints.cpu_millicores)} | "
        f"{memory(totals.waypoints.memory_mib)} |",
        f"| ambient mode | {cpu(totals.ambient_mode.cpu_millicores)} | "
        f"{memory(totals.ambient_mode.memory_mib)} |",
        f"| change | {sign}{cpu(totals.change.cpu_millicores)} | "
        f"{msign}{memory(totals.change.memory_mib)} |", "",
        "Assumptions: sidecar requests per pod "
        f"{pair(basis.sidecar)} unless the pod sets sidecar.istio.io/proxyCPU/proxyMemory "
        f"(--sidecar-cpu, --sidecar-memory), times replicas (DaemonSets: one per node); "
        f"ztunnel {pair(basis.ztunnel)} on each of {basis.nodes} nodes "
        f"({'counted in the cluster' if basis.nodes_source == 'cluster' else '--nodes'}), "
        "shared by every namespace; each waypoint "
        f"{basis.waypoint_replicas} replica × {pair(basis.waypoint)}. Latency per hop is "
        "Istio community data (M-LATENCY): sidecar 0.63–0.88 ms, ambient L4 0.16–0.20 ms, "
        "with a waypoint 0.40–0.50 ms.", ""]


def render_order(order: MoveOrder) -> list[str]:
    """The waves, why each pair is ordered, and callers that stay behind (N-MIXED)."""
    source = {"metrics": "calls measured by Prometheus",
              "manifests": "calls read off the manifests"}.get(order.evidence,
                                                              "no calls known")
    out = [f"## Order of the move [N-MIXED, U-SIDECAR-SKIPS-WAYPOINT] ({source})", ""]
    if len(order.waves) == 1:
        out += ["One wave: no namespace that moves calls another one's waypoint L7 policy, "
                "so the namespaces can move in any order.", ""]
    else:
        out += [f"- wave {w.number}: " + ", ".join(md_code(n) for n in w.namespaces)
                for w in order.waves]
        out.append("")
    out += [f"- {md_text(line)}" for line in order.reasons]
    if order.together:
        pairs = sorted({(min(a, b), max(a, b)) for a, b in order.together})
        out += [f"- could not order {md_code(a)} and {md_code(b)}: they call each other, so "
                "they move in the same wave" for a, b in pairs]
    out += [f"- {md_text(line)}" for line in order.left_behind]
    if order.reasons or order.together or order.left_behind:
        out.append("")
    return out


def render_markdown(plan: Plan) -> str:
    """The whole PLAN.md."""
    out = ["# asm-advisor migration plan", "",
           f"Mesh version {md_text(plan.mesh_version)}, read from {plan.source}: "
           f"{len(plan.namespaces)} namespace(s) to move, {len(plan.stays_on_sidecar)} staying "
           f"on sidecar, {len(plan.skipped)} skipped.", "",
           "Run every command from the directory that holds this file, one namespace and one "
           "step at a time: each step says how to check it and how to roll it back. Files in "
           "`<namespace>/` are applied, `<namespace>/cleanup/` deleted, "
           "`<namespace>/rollback/` restore the objects as they were.", "",
           "## Preconditions", "", *(f"- {line}" for line in plan.preconditions), ""]
    out += render_totals(plan.totals, plan)
    if plan.order is not None and (len(plan.namespaces) > 1 or plan.order.left_behind):
        out += render_order(plan.order)
    if plan.namespaces:
        out += ["## Namespaces to move", ""]
    for namespace in plan.namespaces:
        out += render_namespace(namespace)
    if plan.stays_on_sidecar:
        out += ["## Staying on sidecar", ""]
        for stay in plan.stays_on_sidecar:
            out += [f"### Namespace {md_code(stay.name)} (now: {stay.current_mode})", "",
                    "Why:", "",
                    *(f"- {line}" for line in stay.why), "", "What would unblock it:", "",
                    *(f"- {line}" for line in stay.unblock), ""]
    if plan.skipped:
        out += ["## Skipped", "",
                *(f"- {md_code(s.name)}: {md_text(s.reason)}" for s in plan.skipped), ""]
    if plan.errors:
        out += ["## Input errors", ""]
        out += [f"- {md_text(e.file or '<input>')}{f':{e.line}' if e.line else ''}: "
                f"{md_text(e.message)}"
                for e in plan.errors]
        out.append("")
    # Each entry is one line: a name holding a newline or an escape must not add one.
    return "\n".join(safe_line(line) for line in out).rstrip("\n") + "\n"
