"""One self-contained HTML page: summary, gate, the estate as a picture, a table and cards.

The page opens offline: its style and its little script are inline, the picture is SVG
drawn by :mod:`render.svg`, and nothing is fetched. Every string from the input is escaped
(:func:`svg.esc`). It is written a namespace at a time, like the other formats; the cards of
a large estate are laid out by the browser only when scrolled to (``content-visibility``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from asm_mode_advisor.model import Severity
from asm_mode_advisor.names import is_namespace
from asm_mode_advisor.render.common import location_line, partial_note
from asm_mode_advisor.render.svg import VERDICTS, Arrow, Box, chosen, esc, estate, verdict_class
from asm_mode_advisor.report import NamespaceVerdict, Reason, Report, TrafficPeer, counted

#: Most boxes the picture draws; the rest are named in a line under it.
MAX_BOXES = 300

STYLE = """
:root{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d2330;
background:#f6f7f9}
body{margin:0 auto;max-width:1400px;padding:16px 24px}
h1{font-size:22px;margin:4px 0}h2{font-size:18px;margin:24px 0 8px}h3{font-size:16px;margin:0}
h4{font-size:14px;margin:12px 0 4px}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{background:#eef0f3;padding:6px 8px;border-radius:4px;overflow-x:auto;margin:4px 0}
.muted{color:#5b6472}.chips{display:flex;flex-wrap:wrap;gap:6px;margin:8px 0}
.chip{border-radius:12px;padding:2px 10px;border:1px solid #aab}
.gate{padding:8px 12px;border-radius:6px;margin:8px 0;font-weight:600}
.gate.pass{background:#e3f4e6;border:1px solid #2e7d32}
.gate.fail{background:#fde7e7;border:1px solid #c62828}
.gate.none{background:#eef0f3;border:1px solid #999}
.picture{overflow:auto;max-height:75vh;background:#fff;border:1px solid #d5d9e0;
border-radius:6px}
.legend{display:flex;flex-wrap:wrap;gap:12px;margin:6px 0}
.legend span::before{content:"";display:inline-block;width:12px;height:12px;
margin-right:4px;vertical-align:-1px;border:1px solid;background:var(--f);
border-color:var(--s)}
.v-ambient{--f:#cdebd2;--s:#2e7d32}.v-ambient-waypoint{--f:#cfe2fb;--s:#1565c0}
.v-sidecar{--f:#fde0c2;--s:#d35400}.v-not-applicable{--f:#e4e6ea;--s:#6b7280}
.v-unknown{--f:#fff;--s:#9aa0a6}
svg.estate{display:block;font-size:12px}
svg.estate .b rect{fill:var(--f);stroke:var(--s);stroke-width:1.5}
svg.estate .b.v-unknown rect{stroke-dasharray:4 3}
svg.estate .b.fail rect{stroke:#c62828;stroke-width:3}
svg.estate .b text{fill:#1d2330}svg.estate text.h{font-weight:600;fill:#1d2330}
svg.estate .e{fill:none;stroke:#6b7280;stroke-width:1.3;marker-end:url(#arrow)}
svg.estate .e.risk{stroke:#c62828;stroke-width:2;marker-end:url(#arrow-risk)}
svg.estate #arrow path{fill:#6b7280}svg.estate #arrow-risk path{fill:#c62828}
svg.estate a:hover rect{stroke-width:3}
.filters{display:flex;flex-wrap:wrap;gap:12px;align-items:center;margin:8px 0}
table{border-collapse:collapse;width:100%;background:#fff}
th,td{border:1px solid #d5d9e0;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#eef0f3;cursor:pointer;user-select:none;white-space:nowrap}
th[aria-sort=ascending]::after{content:" \\25B2"}th[aria-sort=descending]::after{content:" \\25BC"}
.badge{display:inline-block;border-radius:4px;padding:0 6px;border:1px solid var(--s);
background:var(--f);font-weight:600}
.sev-error{color:#b71c1c;font-weight:700}.sev-warning{color:#a15c00;font-weight:700}
.sev-note{color:#37474f}.fails{color:#c62828;font-weight:700}
.card{background:#fff;border:1px solid #d5d9e0;border-left:6px solid var(--s);
border-radius:6px;padding:10px 14px;margin:10px 0;content-visibility:auto;
contain-intrinsic-size:auto 240px}
.card ul{margin:4px 0;padding-left:20px}.card li{margin:2px 0}
.warn{color:#a15c00;font-weight:600}
#js-errors{color:#b71c1c}
"""

#: Records script errors into the page (the browser test reads them from the DOM).
RECORDER = """
window.__errors=[];
function __record(m){window.__errors.push(String(m));var e=document.getElementById("js-errors");
if(e){e.textContent=window.__errors.join("\\n");e.hidden=false;}}
window.addEventListener("error",function(e){__record(e.message||"error");});
(function(){var c=console.error;console.error=function(){
__record(Array.prototype.join.call(arguments," "));c.apply(console,arguments);};})();
"""

#: Sort by a column header, filter by verdict, severity and name; hides cards with rows.
SCRIPT = """
(function(){
var table=document.getElementById("overview");
if(table){
var body=table.tBodies[0],rows=Array.prototype.slice.call(body.rows);
var cards={};document.querySelectorAll(".card[data-i]").forEach(function(c){
cards[c.getAttribute("data-i")]=c;});
var verdict=document.getElementById("f-verdict"),sev=document.getElementById("f-severity"),
text=document.getElementById("f-name"),shown=document.getElementById("shown");
var rank={none:0,note:1,warning:2,error:3};
function filter(){var v=verdict.value,s=sev.value,t=text.value.trim().toLowerCase(),n=0;
rows.forEach(function(r){var ok=(!v||r.getAttribute("data-verdict")===v)&&
(!s||(s==="none"?r.getAttribute("data-severity")==="none":
rank[r.getAttribute("data-severity")]>=rank[s]))&&
(!t||r.getAttribute("data-name").toLowerCase().indexOf(t)>=0);
r.hidden=!ok;var c=cards[r.getAttribute("data-i")];if(c){c.hidden=!ok;}if(ok){n++;}});
shown.textContent=n+" of "+rows.length+" namespace(s) shown";}
[verdict,sev].forEach(function(e){e.addEventListener("change",filter);});
text.addEventListener("input",filter);
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(th,col){
th.addEventListener("click",function(){
var down=th.getAttribute("aria-sort")==="ascending",num=th.hasAttribute("data-num");
Array.prototype.forEach.call(table.tHead.rows[0].cells,function(o){o.removeAttribute("aria-sort");});
th.setAttribute("aria-sort",down?"descending":"ascending");
function key(r){var c=r.cells[col];return c.getAttribute("data-sort")||c.textContent;}
rows.sort(function(a,b){var x=key(a),y=key(b),d=num?Number(x)-Number(y):
(x<y?-1:x>y?1:0);if(!d){d=Number(a.getAttribute("data-i"))-Number(b.getAttribute("data-i"));}
return down?-d:d;});
var f=document.createDocumentFragment();rows.forEach(function(r){f.appendChild(r);});
body.appendChild(f);});});
filter();}
document.body.setAttribute("data-errors",String(window.__errors.length));
document.body.setAttribute("data-ready","1");
})();
"""


def page_head(title: str) -> str:
    """The start of a page: doctype, charset, title, the style and the error recorder."""
    return ('<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            # Nothing may be fetched: the page must open the same offline.
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
            "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n"
            f"<title>{esc(title)}</title>\n<style>{STYLE}</style>\n"
            f"<script>{RECORDER}</script>\n</head>\n<body>\n"
            '<pre id="js-errors" hidden></pre>\n')


def page_end(script: str = "") -> str:
    """The end of a page: ``script`` and the line that marks the page ready (no errors)."""
    ready = ('document.body.setAttribute("data-errors",String(window.__errors.length));'
             'document.body.setAttribute("data-ready","1");')
    return f"<script>{script or ready}</script>\n</body>\n</html>\n"


def legend(verdicts: Sequence[str] = VERDICTS) -> str:
    """A line of colour swatches, one per verdict."""
    spans = "".join(f'<span class="{verdict_class(v)}">{esc(v)}</span>' for v in verdicts)
    return f'<div class="legend">{spans}</div>\n'


def anchor(index: int, name: str) -> str:
    """The id of a namespace's card: its name when it is a valid one, else its position."""
    return f"ns-{name}" if is_namespace(name) else f"ns_{index}"  # "_" is in no valid name


def _rank(severity: str) -> int:
    return Severity(severity).rank if severity in {s.value for s in Severity} else 0


def _worst(verdict: NamespaceVerdict) -> str:
    """The most severe finding that counts, or ``none``."""
    ranks = [(_rank(r.severity), r.severity) for r in verdict.reasons if r.counts]
    return max(ranks)[1] if ranks else "none"


def failing(report: Report, fail_on: str | None) -> list[Reason]:
    """Findings that fail the gate, once each, as the gate counts them."""
    if fail_on not in {s.value for s in Severity}:
        return []
    threshold = Severity(fail_on).rank
    return [r for r in counted(report) if _rank(r.severity) >= threshold]


def _gate(failed: list[Reason], fail_on: str | None) -> str:
    if fail_on not in {s.value for s in Severity}:
        return '<div class="gate none">gate not checked (--fail-on never)</div>\n'
    if not failed:
        return f'<div class="gate pass">gate passed (--fail-on {esc(fail_on or "")})</div>\n'
    ids = ", ".join(sorted({r.rule_id for r in failed}))
    return (f'<div class="gate fail">gate failed: {len(failed)} finding(s) at or above '
            f"{esc(fail_on or '')} ({esc(ids)})</div>\n")


def _header(report: Report, failed: list[Reason], fail_on: str | None) -> Iterator[str]:
    summary = report.summary
    yield (f"<header><h1>asm-advisor report</h1>\n<p class=\"muted\">{summary.namespaces} "
           f"namespace(s), {summary.objects} object(s) from {summary.files} file(s), read from "
           f"{esc(report.source)}; mesh version {esc(report.mesh_version)}; "
           f"{esc(report.tool.name)} {esc(report.tool.version)}</p>\n")
    chips = "".join(f'<span class="chip {verdict_class(v)} badge">{esc(v)}: {n}</span>'
                    for v, n in sorted(summary.by_recommendation.items()))
    yield f'<div class="chips">{chips}</div>\n'
    yield _gate(failed, fail_on)
    notes = []
    if summary.traffic is not None:
        notes.append(f"calls between namespaces: {summary.traffic.calls}, from "
                     f"{esc(summary.traffic.evidence)}"
                     + (f" (Prometheus: {esc(summary.traffic.problem)})"
                        if summary.traffic.problem else ""))
    if summary.suppressed is not None:
        notes.append(f"{summary.suppressed.total} finding(s) suppressed")
    if summary.excluded:
        notes.append(f"{summary.excluded} object(s) excluded")
    if summary.baseline is not None:
        notes.append(f"{summary.baseline.new} new, {summary.baseline.fixed} fixed since the "
                     "baseline")
    if summary.incomplete_namespaces:
        notes.append('<span class="warn">incomplete input for '
                     f"{esc(', '.join(summary.incomplete_namespaces))}</span>")
    if notes:
        yield f'<p class="muted">{"; ".join(notes)}</p>\n'
    yield "</header>\n"


def _errors(report: Report) -> Iterator[str]:
    if not report.errors:
        return
    yield f"<section><h2>Input errors ({len(report.errors)})</h2><ul>\n"
    for error in report.errors:
        where = (error.file or "<input>") + (f":{error.line}" if error.line else "")
        yield f"<li><code>{esc(where)}</code>: {esc(error.message)}</li>\n"
    yield "</ul></section>\n"


def _peer_mode(peer: TrafficPeer) -> str:
    return peer.mode if peer.mode in VERDICTS else "unknown"


def _graph(report: Report, failing_names: set[str]) -> tuple[list[Box], list[Arrow]]:
    """Boxes (report namespaces, then peers not in the input) and one arrow per caller pair."""
    boxes = [Box(v.name, v.recommendation, "#" + anchor(i, v.name), v.name in failing_names,
                 "fails the gate" if v.name in failing_names else "")
             for i, v in enumerate(report.namespaces)]
    known = {v.name: v.recommendation for v in report.namespaces}
    outside: dict[str, None] = {}
    arrows: dict[tuple[str, str], Arrow] = {}
    for verdict in report.namespaces:
        for peer in verdict.traffic.callees if verdict.traffic else ():
            if peer.namespace == verdict.name or (verdict.name, peer.namespace) in arrows:
                continue
            if peer.namespace not in known:
                outside[peer.namespace] = None
            # A sidecar client skips the callee's waypoint: its L7 policy is not applied.
            risky = (verdict.recommendation == "sidecar"
                     and known.get(peer.namespace) == "ambient-waypoint")
            arrows[(verdict.name, peer.namespace)] = Arrow(
                verdict.name, peer.namespace, risky,
                "a sidecar client skips the waypoint [U-SIDECAR-SKIPS-WAYPOINT]" if risky
                else "")
    boxes += [Box(name, "unknown", None, note="not in the input") for name in sorted(outside)]
    return boxes, [arrows[key] for key in sorted(arrows)]


def _picture(report: Report, failing_names: set[str]) -> Iterator[str]:
    boxes, arrows = _graph(report, failing_names)
    yield "<section><h2>The estate</h2>\n"
    yield ('<p class="muted">Namespaces coloured by recommendation; arrows are calls, callers '
           "to the left of the namespaces they call. A red border: findings fail the gate; a "
           "red arrow: a sidecar client of a waypoint. Click a box for its details.</p>\n")
    yield legend((*VERDICTS, "unknown"))
    drawn = chosen(boxes, arrows, MAX_BOXES)
    if len(drawn) < len(boxes):
        yield (f'<p class="warn">{len(boxes) - len(drawn)} of {len(boxes)} namespace(s) not '
               f"drawn (at most {MAX_BOXES}; those with the most calls first): see the "
               "table.</p>\n")
    if not boxes:
        yield "<p>No namespace in the input.</p></section>\n"
        return
    yield '<div class="picture">\n'
    yield from estate(drawn, arrows, f"{len(drawn)} namespace(s) and their calls")
    yield "</div></section>\n"


def _options(values: Sequence[str], everything: str) -> str:
    return f'<option value="">{everything}</option>' + "".join(
        f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)


def _overview(report: Report, fails_in: dict[str, int]) -> Iterator[str]:
    verdicts = sorted({*report.summary.by_recommendation, *(v.recommendation
                                                            for v in report.namespaces)})
    yield "<section><h2>Namespaces</h2>\n<div class=\"filters\">"
    yield (f'<label>recommendation <select id="f-verdict">{_options(verdicts, "any")}'
           "</select></label>")
    yield ('<label>findings <select id="f-severity"><option value="">any</option>'
           '<option value="error">errors</option><option value="warning">warnings or worse'
           '</option><option value="note">notes or worse</option><option value="none">none'
           "</option></select></label>")
    yield ('<label>namespace <input id="f-name" type="search" placeholder="contains…">'
           '</label><span id="shown" class="muted"></span></div>\n')
    yield ('<table id="overview"><thead><tr><th>namespace</th><th>now</th>'
           "<th>recommendation</th><th>worst finding</th><th data-num>findings</th>"
           "<th data-num>fail the gate</th><th data-num>callers</th><th data-num>callees</th>"
           "<th>top reasons</th></tr></thead>\n<tbody>\n")
    for index, verdict in enumerate(report.namespaces):
        worst = _worst(verdict)
        traffic = verdict.traffic
        callers, callees = (len(traffic.callers), len(traffic.callees)) if traffic else (0, 0)
        fails = fails_in.get(verdict.name, 0)
        yield (f'<tr data-i="{index}" data-name="{esc(verdict.name)}" '
               f'data-verdict="{esc(verdict.recommendation)}" data-severity="{esc(worst)}">'
               f'<td><a href="#{esc(anchor(index, verdict.name))}">{esc(verdict.name)}</a></td>'
               f"<td>{esc(verdict.current_mode)}</td>"
               f'<td><span class="badge {verdict_class(verdict.recommendation)}">'
               f"{esc(verdict.recommendation)}</span>"
               + (' <span class="warn">incomplete</span>' if verdict.incomplete else "")
               + f'</td><td data-sort="{_rank(worst) if worst != "none" else 0}" '
               f'class="sev-{esc(worst)}">{esc(worst)}</td><td>{len(verdict.reasons)}</td>'
               + (f'<td class="fails">{fails}</td>' if fails else "<td>0</td>")
               + f"<td>{callers}</td><td>{callees}</td><td>{esc(verdict.summary)}</td></tr>\n")
    yield '</tbody></table></section>\n<section><h2>Details</h2>\n'


def _where(reason: Reason) -> str:
    """Each object: kind/namespace/name and ``file:line`` (the field's line for the first)."""
    parts = []
    for position, ref in enumerate(reason.objects):
        ident = "/".join(p for p in (ref.kind, ref.namespace or "", ref.name) if p)
        if ref.file:
            line = location_line(reason) if position == 0 else ref.line
            ident += f" — {ref.file}" + (f":{line}" if line else "")
        elif ref.source:
            ident += f" — {ref.source}"
        parts.append(f"<code>{esc(ident)}</code>")
    return "; ".join(parts)


def _reason(reason: Reason, failed: set[str]) -> str:
    marks = []
    if reason.counts and reason.fingerprint in failed:
        marks.append('<span class="fails">fails the gate</span>')
    if reason.baseline:
        marks.append("in baseline")
    if reason.suppressed:
        marks.append(f"suppressed by {esc(reason.suppressed_by or 'config')}")
    where = _where(reason)
    text = (f'<li><b>{esc(reason.rule_id)}</b> <span class="sev-{esc(reason.severity)}">'
            f"{esc(reason.severity)}</span> <span class=\"muted\">({esc(reason.effect)})</span> "
            f"{esc(reason.message)} <span class=\"muted\">[{esc(', '.join(reason.matrix_rows))}]"
            "</span>" + (f" {' · '.join(marks)}" if marks else "")
            + (f"<br>{where}" if where else ""))
    if reason.enforcement is not None:
        text += f"<br><i>{esc(reason.enforcement.line())}</i>"
    return text + "</li>\n"


def _peer(peer: TrafficPeer, index_of: dict[str, int]) -> str:
    name = esc(peer.namespace)
    if peer.namespace in index_of:
        name = f'<a href="#{esc(anchor(index_of[peer.namespace], peer.namespace))}">{name}</a>'
    detail = [peer.protocol, f"{peer.source}"]
    if peer.workload:
        detail.insert(0, f"workload {peer.workload}")
    if peer.service:
        detail.insert(0, f"service {peer.service}")
    if peer.requests_per_second is not None:
        detail.append(f"{peer.requests_per_second:g} req/s")
    if peer.connections_per_second is not None:
        detail.append(f"{peer.connections_per_second:g} conn/s")
    mode = _peer_mode(peer)
    return (f'<li>{name} <span class="badge {verdict_class(mode)}">{esc(peer.mode)}</span> '
            f'<span class="muted">{esc(", ".join(detail))}</span></li>')


def _card(index: int, verdict: NamespaceVerdict, failed: set[str],
          index_of: dict[str, int]) -> Iterator[str]:
    yield (f'<article class="card {verdict_class(verdict.recommendation)}" '
           f'id="{esc(anchor(index, verdict.name))}" data-i="{index}" '
           f'data-namespace="{esc(verdict.name)}">\n<h3>{esc(verdict.name)} '
           f'<span class="badge {verdict_class(verdict.recommendation)}">'
           f"{esc(verdict.recommendation)}</span></h3>\n"
           f'<p class="muted">now: {esc(verdict.current_mode)}; {verdict.objects} object(s); '
           f"{esc(verdict.summary)}</p>\n")
    if verdict.incomplete:
        yield f'<p class="warn">{esc(partial_note(verdict))}</p>\n'
    yield f"<h4>Reasons ({len(verdict.reasons)})</h4><ul>\n"
    gating = failed if verdict.gated else set()
    yield "".join(_reason(r, gating) for r in verdict.reasons) or "<li>no findings</li>\n"
    yield "</ul>\n"
    if verdict.waypoints:
        yield "<h4>Waypoints</h4><ul>\n"
        for waypoint in verdict.waypoints:
            served = ", ".join(waypoint.services or waypoint.workloads) or "the namespace"
            yield (f"<li><code>{esc(waypoint.name)}</code> (for: {esc(waypoint.for_)}, "
                   f"{'exists' if waypoint.exists else 'to create'}) serves: {esc(served)}"
                   "</li>\n")
        yield "</ul>\n"
    if verdict.benefits:
        yield "<h4>Benefits</h4><ul>\n" + "".join(
            f"<li>{esc(b.text)} <span class=\"muted\">[{esc(b.row)}]</span></li>\n"
            for b in verdict.benefits) + "</ul>\n"
    traffic = verdict.traffic
    if traffic is not None and (traffic.callers or traffic.callees):
        yield f"<h4>Traffic <span class=\"muted\">({esc(traffic.evidence)})</span></h4>\n"
        for title, peers in (("called by", traffic.callers), ("calls", traffic.callees)):
            if peers:
                yield (f"<p>{title}:</p><ul>"
                       + "".join(_peer(p, index_of) for p in peers) + "</ul>\n")
    if verdict.suppressed:
        yield (f"<p class=\"muted\">{len(verdict.suppressed)} finding(s) suppressed: "
               + esc(", ".join(f"{s.rule_id} ({s.by})" for s in verdict.suppressed))
               + "</p>\n")
    yield "</article>\n"


def chunks(report: Report, fail_on: str | None = "error") -> Iterator[str]:
    """The page in pieces: head, summary and gate, picture, table, then one card at a time."""
    failed = failing(report, fail_on)
    failed_ids = {r.fingerprint for r in failed}
    fails_in: dict[str, int] = {}
    for verdict in report.namespaces:
        if verdict.gated:
            count = len({r.fingerprint for r in verdict.reasons if r.fingerprint in failed_ids})
            if count:
                fails_in[verdict.name] = count
    yield page_head(f"asm-advisor: {report.summary.namespaces} namespace(s)")
    yield from _header(report, failed, fail_on)
    yield from _errors(report)
    yield from _picture(report, set(fails_in))
    yield from _overview(report, fails_in)
    index_of = {v.name: i for i, v in enumerate(report.namespaces)}
    for index, verdict in enumerate(report.namespaces):
        yield from _card(index, verdict, failed_ids, index_of)
    yield "</section>\n"
    yield page_end(SCRIPT)


def render(report: Report, fail_on: str | None = "error") -> str:
    """The whole page."""
    return "".join(chunks(report, fail_on))
