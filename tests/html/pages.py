"""Reports the HTML tests render: the examples (through the CLI), hostile names, large estates."""

from __future__ import annotations

import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

from asm_mode_advisor.analysis import Settings, analyze
from asm_mode_advisor.report import (
    NamespaceTraffic,
    NamespaceVerdict,
    ObjectRef,
    Reason,
    Report,
    Summary,
    TrafficPeer,
)
from asm_mode_advisor.sources.files import load_paths

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
ESTATE = ROOT / "tests" / "traffic" / "estate"
HOSTILE = '<script>alert("x")</script>&\'"\u202e\x1b[31m'
VERDICTS = ("ambient", "ambient-waypoint", "sidecar", "not-applicable")


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``asm-advisor ARGS`` from the repository root (file names relative to it)."""
    return subprocess.run([sys.executable, "-m", "asm_mode_advisor", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)


def analysed(path: Path) -> Report:
    """The report of ``analyze PATH`` (files named relative to the repository root)."""
    loaded = load_paths([str(path.relative_to(ROOT))])
    return analyze(loaded.resources, loaded.errors, Settings(), files=loaded.files).report


def peer(namespace: str, mode: str) -> TrafficPeer:
    """A call to or from ``namespace``, read off the manifests."""
    return TrafficPeer(namespace=namespace, protocol="http", source="manifests", mode=mode)


def reason(namespace: str, severity: str = "error", message: str = "m") -> Reason:
    """A finding about one object of ``namespace``."""
    return Reason(rule_id="AMA201", rule_name="r", title="t", severity=severity,
                  effect="needs-waypoint", message=message, matrix_rows=("L-L7",),
                  objects=(ObjectRef(kind="VirtualService", namespace=namespace, name="vs",
                                     file="in.yaml", line=3),))


def report(verdicts: list[NamespaceVerdict]) -> Report:
    """A report of ``verdicts`` with a summary that counts them."""
    counts: dict[str, int] = {}
    for verdict in verdicts:
        counts[verdict.recommendation] = counts.get(verdict.recommendation, 0) + 1
    return Report(mesh_version="1.25", namespaces=verdicts, summary=Summary(
        namespaces=len(verdicts), objects=len(verdicts), by_recommendation=counts, by_kind={}))


def estate(size: int) -> Report:
    """``size`` namespaces, every verdict, each calling the next two (a long layered graph)."""
    names = [f"team-{i:05}" for i in range(size)]
    modes = [VERDICTS[i % len(VERDICTS)] for i in range(size)]
    verdicts = []
    for i, name in enumerate(names):
        callees = tuple(peer(names[j], modes[j]) for j in (i + 1, i + 7) if j < size)
        callers = tuple(peer(names[j], modes[j]) for j in (i - 1, i - 7) if j >= 0)
        verdicts.append(NamespaceVerdict(
            name=name, current_mode="sidecar", recommendation=modes[i], summary="s",
            reasons=[reason(name, "warning")],
            traffic=NamespaceTraffic(evidence="manifests", callers=callers, callees=callees)))
    return report(verdicts)


def hostile() -> Report:
    """A namespace, a message, a file and a callee named to break out of HTML and SVG."""
    bad = NamespaceVerdict(
        name=HOSTILE, current_mode=HOSTILE, recommendation="sidecar", summary=HOSTILE,
        reasons=[Reason(rule_id="AMA201", rule_name="r", title="t", severity="error",
                        effect="needs-waypoint", message=HOSTILE, matrix_rows=(HOSTILE,),
                        objects=(ObjectRef(kind="VirtualService", namespace=HOSTILE,
                                           name=HOSTILE, file=HOSTILE, line=1),))],
        traffic=NamespaceTraffic(evidence="manifests", callees=(
            peer("shop", "ambient-waypoint"), peer(HOSTILE + "2", "unknown"))))
    shop = NamespaceVerdict(name="shop", current_mode="sidecar",
                            recommendation="ambient-waypoint", summary="ok",
                            traffic=NamespaceTraffic(evidence="manifests",
                                                     callers=(peer(HOSTILE, "sidecar"),)))
    return report([bad, shop])


class Page(HTMLParser):
    """Every start tag with its attributes, and the text of each ``script``."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data

    def having(self, attribute: str) -> list[dict[str, str | None]]:
        """Attributes of every element that has ``attribute``."""
        return [attrs for _, attrs in self.tags if attribute in attrs]

    def boxes(self) -> list[dict[str, str | None]]:
        """The picture's namespace boxes."""
        return [attrs for tag, attrs in self.tags
                if tag == "g" and (attrs.get("class") or "").split()[:1] == ["b"]]
