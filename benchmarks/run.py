"""Benchmarks that print ratios, measured side by side in one run.

    python benchmarks/run.py                 # analyze vs libyaml floor at 10k, 20k, 50k, start-up,
                                             # memory, rendering linearity
    python benchmarks/run.py --scan          # also the cluster scan (see cluster_load.py)
    python benchmarks/run.py --smoke         # a 50-document run of every row, for the tests
    python benchmarks/run.py --traffic-size 10k   # the traffic graph's corpus size

Every timed command runs in its own process; wall time, CPU time and peak RSS come from
``os.wait4``. Each pair is measured ``--repeat`` times, interleaved, and the best time is kept,
so a busy machine disturbs both sides alike. Ratios are printed; nothing here asserts.
"""

from __future__ import annotations

import argparse
import gc
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate import OUT, corpus_dir, size

#: Merely parsing the files: walk, read, decode, ``yaml.load_all`` with the C loader.
FLOOR = """
import os, sys, yaml
paths = sorted(os.path.join(root, name) for root, _, names in os.walk(sys.argv[1])
               for name in names if name.endswith(('.yaml', '.yml')))
for path in paths:
    with open(path, 'rb') as handle:
        text = handle.read().decode('utf-8-sig')
    for _ in yaml.load_all(text, Loader=yaml.CSafeLoader):
        pass
"""
#: The same, keeping every document (what any tool that reasons over them must hold).
FLOOR_KEEPING = """
import os, sys, yaml
paths = sorted(os.path.join(root, name) for root, _, names in os.walk(sys.argv[1])
               for name in names if name.endswith(('.yaml', '.yml')))
kept = []
for path in paths:
    with open(path, 'rb') as handle:
        kept.extend(yaml.load_all(handle.read().decode('utf-8-sig'), Loader=yaml.CSafeLoader))
"""
IMPORTED_KUBERNETES = "import sys, asm_mode_advisor.cli; print('kubernetes' in sys.modules)"
ANALYZE_TARGET = 1.2
MEMORY_TARGET = 2.0
LINEAR_TARGET = 1.5
TRAFFIC_TARGET = 1.2


@dataclass(frozen=True)
class Run:
    """One child process: wall seconds, CPU seconds (user+sys), peak RSS bytes."""

    wall: float
    cpu: float
    rss: int


@dataclass(frozen=True)
class Row:
    """One line of the result table."""

    name: str
    size: str
    value: str
    reference: str
    ratio: str
    target: str


def measure(argv: Sequence[str], allowed: tuple[int, ...] = (0, 1)) -> Run:
    """Run a command with output discarded; fail loudly on an exit code not ``allowed``.

    stderr goes to a file, not a pipe: ``wait4`` reads no pipe, so a chatty command would
    block on a full one.
    """
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        stderr = errors.read().decode(errors="replace")
    if proc.returncode not in allowed:
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}: {stderr[-400:]}")
    return Run(wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss=usage.ru_maxrss * 1024)


def best(runs: list[Run]) -> Run:
    """The fastest run (peak RSS: the largest seen)."""
    fastest = min(runs, key=lambda run: run.wall)
    return Run(wall=fastest.wall, cpu=min(r.cpu for r in runs), rss=max(r.rss for r in runs))


def side_by_side(first: Sequence[str], second: Sequence[str], repeat: int) -> tuple[Run, Run]:
    """Both commands ``repeat`` times, interleaved; the best of each."""
    a: list[Run] = []
    b: list[Run] = []
    for _ in range(repeat):
        a.append(measure(first))
        b.append(measure(second))
    return best(a), best(b)


def input_bytes(folder: Path) -> int:
    """Bytes of every manifest under ``folder``."""
    return sum(path.stat().st_size for path in folder.rglob("*.yaml"))


def analyze_rows(label: str, folder: Path, repeat: int) -> tuple[list[Row], tuple[int, int]]:
    """analyze vs the libyaml floor (wall and CPU), and peak RSS vs input size.

    Also returns ``(input bytes, peak RSS growth)`` for the slope between sizes.
    """
    floor, analyze = side_by_side(
        [sys.executable, "-c", FLOOR, str(folder)],
        [sys.executable, "-m", "asm_mode_advisor", "analyze", str(folder), "-o", "json"],
        repeat)
    baseline = measure([sys.executable, "-c", "import asm_mode_advisor.cli"])
    bare = measure([sys.executable, "-c", "import yaml"])
    keeping = measure([sys.executable, "-c", FLOOR_KEEPING, str(folder)])
    data = input_bytes(folder)
    growth = max(analyze.rss - baseline.rss, 0)
    kept = max(keeping.rss - bare.rss, 0)
    return [
        Row("analyze vs libyaml floor (wall)", label, f"{analyze.wall:.2f} s",
            f"{floor.wall:.2f} s", f"{analyze.wall / floor.wall:.2f}×", f"≤ {ANALYZE_TARGET}×"),
        Row("analyze vs libyaml floor (cpu)", label, f"{analyze.cpu:.2f} s",
            f"{floor.cpu:.2f} s", f"{analyze.cpu / floor.cpu:.2f}×", "(info)"),
        Row("peak RSS above start-up vs input", label, f"{growth / 2**20:.0f} MiB",
            f"{data / 2**20:.1f} MiB", f"{growth / data:.1f}×", "(info: with the constant)"),
        Row("peak RSS of libyaml keeping the docs", label, f"{kept / 2**20:.0f} MiB",
            f"{data / 2**20:.1f} MiB", f"{kept / data:.1f}×", "(reference)"),
    ], (data, growth)


def slope_rows(points: list[tuple[str, tuple[int, int]]]) -> list[Row]:
    """Extra peak RSS per extra input byte between sizes, and the constant left over.

    This is the target's "2× the input plus a constant": the constant (interpreter, imports,
    the parse pool, caches) cancels out, and what is left is how memory grows with the
    input. A row per pair of neighbouring sizes shows the growth is linear; the last row
    gives the constant that, with the overall slope, bounds every size measured.
    """
    pairs = list(pairwise(points))
    if len(points) > 2:
        pairs.append((points[0], points[-1]))
    rows = []
    for (small, (small_bytes, small_rss)), (large, (large_bytes, large_rss)) in pairs:
        extra_bytes, extra_rss = large_bytes - small_bytes, large_rss - small_rss
        if extra_bytes <= 0:
            continue
        rows.append(Row("peak RSS growth per input byte", f"{small}→{large}",
                        f"{extra_rss / 2**20:.0f} MiB", f"{extra_bytes / 2**20:.1f} MiB",
                        f"{extra_rss / extra_bytes:.1f}×", f"≤ {MEMORY_TARGET}×"))
    if rows:
        (first, (first_bytes, first_rss)), (_, (last_bytes, last_rss)) = points[0], points[-1]
        slope = (last_rss - first_rss) / (last_bytes - first_bytes)
        constant = max(first_rss - slope * first_bytes, 0)
        rows.append(Row("peak RSS constant (above start-up)", f"{first}→{points[-1][0]}",
                        f"{constant / 2**20:.0f} MiB", "-", "-",
                        "RSS ≈ start-up + constant + slope × input"))
    return rows


#: Output formats whose memory is measured too (the main rows write JSON).
OTHER_FORMATS = ("table", "yaml", "sarif", "markdown", "github")


def format_slope_rows(small: tuple[str, Path], large: tuple[str, Path]) -> list[Row]:
    """The memory slope of :func:`slope_rows` for every other output format (one run each).

    Every format is written piece by piece, so none should hold more than JSON does.
    """
    rows = []
    extra_bytes = input_bytes(large[1]) - input_bytes(small[1])
    if extra_bytes <= 0:
        return []
    for output in OTHER_FORMATS:
        peaks = [measure([sys.executable, "-m", "asm_mode_advisor", "analyze", str(folder),
                          "-o", output]).rss for _, folder in (small, large)]
        extra_rss = peaks[1] - peaks[0]
        rows.append(Row(f"peak RSS growth per input byte, -o {output}",
                        f"{small[0]}→{large[0]}", f"{extra_rss / 2**20:.0f} MiB",
                        f"{extra_bytes / 2**20:.1f} MiB", f"{extra_rss / extra_bytes:.1f}×",
                        f"≤ {MEMORY_TARGET}×"))
    return rows


def startup_rows(repeat: int) -> list[Row]:
    """Import time of the CLI and ``--version`` wall time, against a bare interpreter."""
    bare = best([measure([sys.executable, "-c", "pass"]) for _ in range(repeat)])
    imported = best([measure([sys.executable, "-c", "import asm_mode_advisor.cli"])
                     for _ in range(repeat)])
    version = best([measure([sys.executable, "-m", "asm_mode_advisor", "--version"])
                    for _ in range(repeat)])
    check = subprocess.run([sys.executable, "-c", IMPORTED_KUBERNETES], capture_output=True,
                           text=True, check=True)
    kubernetes = "yes" if check.stdout.strip() == "True" else "no"
    return [
        Row("import asm_mode_advisor.cli", "-", f"{(imported.wall - bare.wall) * 1000:.0f} ms",
            f"python {bare.wall * 1000:.0f} ms", "-", "instant"),
        Row("asm-advisor --version", "-", f"{version.wall * 1000:.0f} ms",
            f"python {bare.wall * 1000:.0f} ms", f"{version.wall / bare.wall:.1f}×", "instant"),
        Row("kubernetes imported by analyze", "-", kubernetes, "-", "-", "no"),
    ]


def render_rows(small: tuple[str, Path], large: tuple[str, Path]) -> list[Row]:
    """Time per namespace of each output format at two sizes (1.0 = perfectly linear)."""
    from asm_mode_advisor.analysis import Settings, analyze
    from asm_mode_advisor.render import OutputFormat, View, render
    from asm_mode_advisor.rules import ALL_RULES
    from asm_mode_advisor.sources.files import load_paths

    reports = []
    for _, folder in (small, large):
        loaded = load_paths([str(folder)])
        reports.append(analyze(loaded.resources, loaded.errors, Settings(),
                               files=loaded.files).report)
    gc.freeze()  # as the CLI does before rendering
    rows = []
    for output in OutputFormat:
        view = View(rules=ALL_RULES)  # as the commands hand it in
        render(reports[0], output, view=view)  # warm-up: some formats import their libraries on use
        per_namespace = []
        for report in reports:
            started = time.perf_counter()
            render(report, output, view=view)
            per_namespace.append((time.perf_counter() - started) / len(report.namespaces))
        rows.append(Row(f"render {output.value} per namespace", f"{small[0]}→{large[0]}",
                        f"{per_namespace[1] * 1e6:.0f} µs", f"{per_namespace[0] * 1e6:.0f} µs",
                        f"{per_namespace[1] / per_namespace[0]:.2f}×",
                        f"≤ {LINEAR_TARGET}× (linear)"))
    return rows


def print_table(rows: list[Row]) -> None:
    """Fixed-width table on stdout."""
    header = Row("benchmark", "size", "measured", "reference", "ratio", "target")
    widths = [max(len(getattr(row, name)) for row in (header, *rows))
              for name in ("name", "size", "value", "reference", "ratio")]
    for row in (header, *rows):
        cells = (row.name, row.size, row.value, row.reference, row.ratio)
        print("  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
              + "  " + row.target)


def traffic_rows(label: str, folder: Path, repeat: int) -> list[Row]:
    """analyze with the traffic graph against ``--no-traffic``, on an estate full of calls.

    The traffic corpus (``generate.traffic_files``) has about 1,000 namespaces whose apps each
    name ten services of other namespaces in env: about 20,000 calls for the graph. With
    ``-o json`` the report also carries every namespace's callers and callees (about 3x the
    JSON); ``-o table -q`` prints none of them, so it shows what building the graph and the
    traffic checks cost.
    """
    rows = []
    for output in (("-o", "table", "-q"), ("-o", "json")):
        base = [sys.executable, "-m", "asm_mode_advisor", "analyze", str(folder), *output]
        without, with_graph = side_by_side([*base, "--no-traffic"], base, repeat)
        shown = " ".join(output)
        rows += [
            Row(f"analyze {shown} with the traffic graph vs without (wall)", label,
                f"{with_graph.wall:.2f} s", f"{without.wall:.2f} s",
                f"{with_graph.wall / without.wall:.2f}×",
                f"≤ {TRAFFIC_TARGET}×" if output[1] == "table" else "(info: bigger report)"),
            Row(f"analyze {shown} with the traffic graph vs without (peak RSS)", label,
                f"{with_graph.rss / 2**20:.0f} MiB", f"{without.rss / 2**20:.0f} MiB",
                f"{with_graph.rss / without.rss:.2f}×", "(info)"),
        ]
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10k,20k,50k",
                        help="corpus sizes for analyze vs floor (default 10k,20k,50k)")
    parser.add_argument("--render-sizes", default="1k,10k",
                        help="two sizes for rendering linearity (default 1k,10k)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement")
    parser.add_argument("--out", type=Path, default=OUT, help="corpus folder")
    parser.add_argument("--traffic-size", default="10k",
                        help="documents of the traffic-graph corpus (default 10k)")
    parser.add_argument("--scan", action="store_true",
                        help="also benchmark scan against a real API server (slow)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny sizes, one run each: checks the runner works")
    args = parser.parse_args(argv)
    if args.smoke:
        args.sizes, args.render_sizes, args.repeat = "20,50", "20,50", 1
        args.traffic_size = "50"
    rows: list[Row] = []
    points = []
    for label in args.sizes.split(","):
        measured, point = analyze_rows(label, corpus_dir(size(label), args.out), args.repeat)
        rows += measured
        points.append((label, point))
    rows += slope_rows(points)
    sizes = args.sizes.split(",")
    if len(sizes) >= 2:
        rows += format_slope_rows((sizes[0], corpus_dir(size(sizes[0]), args.out)),
                                  (sizes[-1], corpus_dir(size(sizes[-1]), args.out)))
    rows += startup_rows(args.repeat)
    small, large = args.render_sizes.split(",")
    rows += render_rows((small, corpus_dir(size(small), args.out)),
                        (large, corpus_dir(size(large), args.out)))
    rows += traffic_rows(args.traffic_size,
                         corpus_dir(size(args.traffic_size), args.out, traffic=True),
                         args.repeat)
    if args.scan:
        from cluster_load import scan_rows

        rows += scan_rows(args.repeat, smoke=args.smoke)
    print_table(rows)


if __name__ == "__main__":
    main()
