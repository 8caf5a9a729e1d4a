"""The benchmark generator and runner work end to end (tiny sizes; no timing assertions)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

from generate import files, generate  # noqa: E402


def test_generator_is_deterministic_and_sized(tmp_path: Path) -> None:
    first = list(files(120))
    assert first == list(files(120))
    documents = [doc for _, text in first for doc in yaml.safe_load_all(text)]
    assert 120 <= len(documents) < 130
    kinds = {doc["kind"] for doc in documents}
    assert {"Namespace", "Deployment", "Service", "VirtualService",
            "AuthorizationPolicy"} <= kinds
    out = generate(120, tmp_path / "corpus")
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.yaml")) == sorted(
        name for name, _ in first)


def test_runner_smoke_prints_every_row(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(BENCHMARKS / "run.py"), "--smoke",
                           "--out", str(tmp_path)], capture_output=True, text=True, check=True)
    lines = done.stdout.splitlines()
    assert lines[0].split()[:2] == ["benchmark", "size"]
    names = [line.split("  ")[0] for line in lines[1:]]
    for expected in ("analyze vs libyaml floor (wall)", "analyze vs libyaml floor (cpu)",
                     "peak RSS above start-up vs input", "peak RSS of libyaml keeping the docs",
                     "peak RSS growth per input byte",
                     "peak RSS growth per input byte, -o table",
                     "peak RSS growth per input byte, -o sarif",
                     "peak RSS constant (above start-up)",
                     "import asm_mode_advisor.cli",
                     "asm-advisor --version", "kubernetes imported by analyze",
                     "render table per namespace", "render json per namespace"):
        assert expected in names, done.stdout
    kubernetes = next(line for line in lines if line.startswith("kubernetes imported"))
    assert kubernetes.split()[4:6] == ["-", "no"]
    assert all("×" in line for line in lines if line.startswith("analyze vs"))
