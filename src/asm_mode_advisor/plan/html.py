"""PLAN.html: the plan as one self-contained page, with the waves as a picture.

The same content as PLAN.md (a renderer: it computes nothing), laid out for reading: the
waves drawn as columns of namespaces coloured by their planned mode, then a card per
namespace with its numbered steps. Style and picture come from ``render.html`` and
``render.svg``, so it opens offline like the report page; every string is escaped.
"""

from __future__ import annotations

from collections.abc import Iterator
from shlex import quote

from asm_mode_advisor.plan.markdown import COMMANDS, cpu, memory, pair
from asm_mode_advisor.plan.model import Latency, MoveOrder, NamespacePlan, Plan, Step, Totals
from asm_mode_advisor.render.html import MAX_BOXES, anchor, legend, page_end, page_head
from asm_mode_advisor.render.svg import Box, esc, picture, verdict_class


def _items(lines: list[str]) -> str:
    return "<ul>" + "".join(f"<li>{esc(line)}</li>" for line in lines) + "</ul>\n"


def _block(title: str, lines: list[str]) -> str:
    """Shell lines in a ``pre`` block; prose lines (``nothing to undo``) as a sentence."""
    commands = [line for line in lines if line.startswith(COMMANDS)]
    prose = [line for line in lines if not line.startswith(COMMANDS)]
    out = f"<p><b>{title}</b>: {esc('; '.join(prose))}.</p>\n" if prose else ""
    if commands:
        out += (f"<p><b>{title}</b>:</p><pre>"
                + "\n".join(esc(line) for line in commands) + "</pre>\n")
    return out


def _step(step: Step) -> str:
    return (f"<h4>Step {step.number}: {esc(step.title)}</h4>\n"
            + (_items(step.actions) if step.actions else "")
            + _block("Apply", [f"kubectl apply -f {quote(path)}" for path in step.apply])
            + _block("Then run", step.commands) + _block("Verify", step.verify)
            + _block("Rollback", step.rollback))


def _latency(item: Latency) -> str:
    before, after = item.before_ms, item.after_ms
    via = "through a waypoint" if item.hop == "ambient-waypoint" else "ztunnel only"
    services = ", ".join(item.services) or "no Service in the input"
    return (f"{via} ({services}): {before[0]:.2f}–{before[1]:.2f} ms → "
            f"{after[0]:.2f}–{after[1]:.2f} ms per hop; L7 parses per request "
            f"{item.l7_parses_before} → {item.l7_parses_after}")


def _namespace(index: int, plan: NamespacePlan) -> Iterator[str]:
    estimate = plan.estimate
    wave = f", wave {plan.wave}" if plan.wave is not None else ""
    yield (f'<article class="card {verdict_class(plan.recommendation)}" '
           f'id="{esc(anchor(index, plan.name))}" data-namespace="{esc(plan.name)}">\n'
           f'<h3>{esc(plan.name)} <span class="badge {verdict_class(plan.recommendation)}">'
           f"{esc(plan.recommendation)}</span></h3>\n"
           f'<p class="muted">now: {esc(plan.current_mode)}{wave}</p>\n')
    if plan.waypoints:
        yield _items([f"waypoint {w.name} (for: {w.for_}, bound by {w.bound_by}, "
                      f"{'exists' if w.exists else 'created in step 2'}): "
                      f"{', '.join(w.services) or '-'}" for w in plan.waypoints])
    lines = [f"sidecars: {pair(estimate.sidecars)} over {len(estimate.workloads)} workload(s)",
             *(f"{w.workload}: {w.replicas} × {pair(w.per_pod)} = {pair(w.total)} "
               f"({w.source})" for w in estimate.workloads),
             f"waypoints: {pair(estimate.waypoints)}",
             *([f"against sidecars: {estimate.comparison}"] if estimate.comparison else []),
             *([estimate.at_measured_load] if estimate.at_measured_load else []),
             *(_latency(item) for item in estimate.latency)]
    yield f"<h4>Estimates [{esc(', '.join(estimate.rows))}]</h4>\n" + _items(lines)
    yield "".join(_step(step) for step in plan.steps)
    if plan.manual:
        yield "<h4>Review by hand</h4>\n" + _items(
            [f"{item.object}: {item.reason}" + (f" [{', '.join(item.rows)}]" if item.rows
                                                else "") for item in plan.manual])
    yield "</article>\n"


def _totals(totals: Totals, plan: Plan) -> str:
    basis = plan.assumptions
    waypoints = sum(len(n.waypoints) for n in plan.namespaces)
    rows = [("sidecar mode", totals.sidecar_mode), (f"ztunnel ({basis.nodes} nodes)",
                                                    totals.ztunnel),
            (f"waypoints ({waypoints})", totals.waypoints), ("ambient mode", totals.ambient_mode)]
    body = "".join(f"<tr><td>{esc(name)}</td><td>{cpu(value.cpu_millicores)}</td>"
                   f"<td>{memory(value.memory_mib)}</td></tr>" for name, value in rows)
    sign = "+" if totals.change.cpu_millicores > 0 else ""
    msign = "+" if totals.change.memory_mib > 0 else ""
    body += (f"<tr><td><b>change</b></td><td>{sign}{cpu(totals.change.cpu_millicores)}</td>"
             f"<td>{msign}{memory(totals.change.memory_mib)}</td></tr>")
    return (f"<section><h2>Estimates [{esc(', '.join(totals.rows))}]</h2>\n<table><thead><tr>"
            "<th>proxies</th><th>CPU requests</th><th>memory requests</th></tr></thead>"
            f"<tbody>{body}</tbody></table>\n<p class=\"muted\">Sidecar requests per pod "
            f"{pair(basis.sidecar)} unless the pod sets its own; ztunnel "
            f"{pair(basis.ztunnel)} on each of {basis.nodes} node(s); each waypoint "
            f"{basis.waypoint_replicas} replica × {pair(basis.waypoint)}.</p></section>\n")


def _waves(plan: Plan) -> list[tuple[str, list[NamespacePlan]]]:
    """Columns of the picture: one per wave (one "to move" column without waves)."""
    waves = plan.order.waves if plan.order is not None else []
    by_name = {n.name: n for n in plan.namespaces}
    columns = [(f"wave {w.number}", [by_name[n] for n in w.namespaces if n in by_name])
               for w in waves]
    placed = {n.name for _, column in columns for n in column}
    rest = [n for n in plan.namespaces if n.name not in placed]
    return [*columns, *([("to move", rest)] if rest else [])]


def _picture(plan: Plan) -> Iterator[str]:
    index_of = {n.name: i for i, n in enumerate(plan.namespaces)}
    staying = len(plan.namespaces)
    budget = MAX_BOXES
    layout: list[list[Box]] = []
    headings: list[str] = []
    for heading, members in _waves(plan):
        column = [Box(n.name, n.recommendation, "#" + anchor(index_of[n.name], n.name))
                  for n in members[:max(budget, 0)]]
        budget -= len(column)
        if column:
            layout.append(column)
            headings.append(heading)
    loose = [Box(s.name, "sidecar", "#" + anchor(staying + i, s.name), note="stays on sidecar")
             for i, s in enumerate(plan.stays_on_sidecar)][:max(budget, 0)]
    total = len(plan.namespaces) + len(plan.stays_on_sidecar)
    drawn = sum(map(len, layout)) + len(loose)
    yield ('<section><h2>Waves</h2>\n<p class="muted">Each column is a wave, moved in order '
           "from left to right; boxes are coloured by the planned mode. Under the columns: "
           "namespaces that stay on sidecars. Click a box for its steps.</p>\n")
    yield legend()
    if drawn < total:
        yield (f'<p class="warn">{total - drawn} of {total} namespace(s) not drawn (at most '
               f"{MAX_BOXES}).</p>\n")
    if total:
        yield '<div class="picture">\n'
        yield from picture(layout, (), loose, headings, f"{drawn} namespace(s) by wave")
        yield "</div>\n"
    yield "</section>\n"


def _order(order: MoveOrder) -> Iterator[str]:
    lines = [*order.reasons]
    pairs = sorted({(min(a, b), max(a, b)) for a, b in order.together})
    lines += [f"could not order {a} and {b}: they call each other, so they move in the same "
              "wave" for a, b in pairs]
    lines += order.left_behind
    if lines:
        yield ("<section><h2>Order of the move [N-MIXED, U-SIDECAR-SKIPS-WAYPOINT]</h2>\n"
               f'<p class="muted">calls from: {esc(order.evidence)}</p>\n' + _items(lines)
               + "</section>\n")


def chunks(plan: Plan) -> Iterator[str]:
    """PLAN.html in pieces, a namespace at a time."""
    yield page_head(f"asm-advisor plan: {len(plan.namespaces)} namespace(s) to move")
    yield ("<header><h1>asm-advisor migration plan</h1>\n<p class=\"muted\">Mesh version "
           f"{esc(plan.mesh_version)}, read from {esc(plan.source)}: {len(plan.namespaces)} "
           f"namespace(s) to move, {len(plan.stays_on_sidecar)} staying on sidecar, "
           f"{len(plan.skipped)} skipped. Run every command from the directory that holds this "
           "file, one namespace and one step at a time.</p></header>\n")
    if plan.preconditions:
        yield "<section><h2>Preconditions</h2>\n" + _items(plan.preconditions) + "</section>\n"
    yield from _picture(plan)
    if plan.order is not None:
        yield from _order(plan.order)
    yield _totals(plan.totals, plan)
    if plan.namespaces:
        yield "<section><h2>Namespaces to move</h2>\n"
        for index, namespace in enumerate(plan.namespaces):
            yield from _namespace(index, namespace)
        yield "</section>\n"
    if plan.stays_on_sidecar:
        yield "<section><h2>Staying on sidecar</h2>\n"
        for offset, stay in enumerate(plan.stays_on_sidecar):
            index = len(plan.namespaces) + offset
            yield (f'<article class="card v-sidecar" id="{esc(anchor(index, stay.name))}" '
                   f'data-namespace="{esc(stay.name)}">\n<h3>{esc(stay.name)}</h3>\n'
                   f'<p class="muted">now: {esc(stay.current_mode)}</p>\n<h4>Why</h4>\n'
                   + _items(stay.why) + "<h4>What would unblock it</h4>\n"
                   + _items(stay.unblock) + "</article>\n")
        yield "</section>\n"
    if plan.skipped:
        yield "<section><h2>Skipped</h2>\n" + _items(
            [f"{s.name}: {s.reason}" for s in plan.skipped]) + "</section>\n"
    if plan.errors:
        yield "<section><h2>Input errors</h2>\n" + _items(
            [f"{e.file or '<input>'}{f':{e.line}' if e.line else ''}: {e.message}"
             for e in plan.errors]) + "</section>\n"
    yield page_end()


def render_html(plan: Plan) -> str:
    """The whole PLAN.html."""
    return "".join(chunks(plan))
