"""The fast paths of the file source give exactly what the standard ones give."""

from __future__ import annotations

import textwrap
from itertools import pairwise
from pathlib import Path

import pytest
import yaml

from asm_mode_advisor.sources import parallel, progress
from asm_mode_advisor.sources.construct import Unusual, build
from asm_mode_advisor.sources.documents import USING_LIBYAML, _Loader, parse_yaml
from asm_mode_advisor.sources.files import load_paths

PLAIN = """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, labels: {app: web, tier: "1"}}
spec:
  replicas: 3
  paused: false
  progressDeadlineSeconds: 6.5e2
  template:
    metadata: {annotations: {created: 2024-01-02, empty: null, "on": yes}}
    spec:
      containers:
      - {name: web, image: "nginx:1.27", ports: [{containerPort: 0x1F90}]}
      - name: side
        args: [~, '', "quoted", 1_000, .inf, -.5, 0o17, 2001-12-14t21:59:43.10-05:00]
"""
UNUSUAL = {
    "merge key": "base: &b {a: 1}\nderived:\n  <<: *b\n  c: 2\n",
    "set tag": "values: !!set {a, b}\n",
    "omap tag": "ordered: !!omap [{a: 1}, {b: 2}]\n",
    "integer key": "ports:\n  80: http\n  443: https\n",
    "duplicate key": "a: 1\nb: 2\na: 3\n",
    "binary": "blob: !!binary aGVsbG8=\n",
}


def standard(text: str) -> list[object]:
    return list(yaml.load_all(text, Loader=yaml.CSafeLoader if USING_LIBYAML else yaml.SafeLoader))


def fast(text: str) -> list[object]:
    return [item[0] for item in parse_yaml(text, "t.yaml") if isinstance(item, tuple)]


def test_plain_yaml_is_built_exactly_like_the_standard_constructor() -> None:
    got = fast(PLAIN)
    assert got == standard(PLAIN)
    assert repr(got) == repr(standard(PLAIN))  # same types too (int vs float, dates)


@pytest.mark.parametrize("name", sorted(UNUSUAL))
def test_unusual_documents_fall_back_to_the_standard_result(name: str) -> None:
    text = UNUSUAL[name]
    if name == "duplicate key":
        items = list(parse_yaml(text, "t.yaml"))
        assert [str(i) for i in items if not isinstance(i, tuple)] == [
            "t.yaml:3: duplicate key 'a' in a mapping"]
        assert fast(text) == [{"a": 3, "b": 2}]
    else:
        assert repr(fast(text)) == repr(standard(text))


@pytest.mark.parametrize("name", sorted(set(UNUSUAL) - {"binary"}))
def test_build_refuses_what_it_does_not_handle(name: str) -> None:
    loader = _Loader(UNUSUAL[name])
    try:
        node = loader.get_single_node()
        with pytest.raises(Unusual):
            build(node, loader.yaml_constructors, loader)
    finally:
        loader.dispose()


def test_chunks_cover_every_file_once_in_order() -> None:
    sizes = [5, 1, 1, 1, 9, 2, 2, 3, 0, 4]
    bounds = parallel.chunk_bounds(sizes, 4)
    assert bounds[0][0] == 0 and bounds[-1][1] == len(sizes)
    assert all(a[1] == b[0] for a, b in pairwise(bounds))
    assert all(start < end for start, end in bounds) and len(bounds) <= 4
    assert parallel.chunk_bounds([], 4) == [(0, 0)]


def _write_corpus(root: Path) -> None:
    for index in range(12):
        folder = root / f"ns-{index:02d}"
        folder.mkdir(parents=True)
        (folder / "app.yaml").write_text(textwrap.dedent(f"""\
            apiVersion: v1
            kind: Service
            metadata: {{name: web, namespace: ns-{index:02d}}}
            spec: {{selector: {{app: web}}, ports: [{{port: 80}}]}}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {{name: web, namespace: ns-{index:02d}}}
            spec: {{replicas: "three", template: {{metadata: {{labels: {{app: web}}}}}}}}
            """), encoding="utf-8")
    (root / "ns-03" / "broken.yaml").write_text("a: [1,\n---\nkind: x\n", encoding="utf-8")
    (root / "ns-07" / "latin1.yaml").write_bytes(b"name: caf\xe9\n")


@pytest.mark.parametrize("slim", [False, True])
def test_parallel_parse_gives_the_sequential_result(tmp_path: Path, slim: bool,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    _write_corpus(tmp_path)
    paths = [str(tmp_path / "ns-05"), str(tmp_path / "missing"), str(tmp_path)]
    monkeypatch.setattr(parallel, "worth_it", lambda sizes, workers: False)
    sequential = load_paths(paths, slim_bodies=slim)
    monkeypatch.setattr(parallel, "worth_it", lambda sizes, workers: True)
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    parallel_result = load_paths(paths, slim_bodies=slim)
    deployments = [r for r in parallel_result.resources if r.kind == "Deployment"]
    assert len(deployments) == 13  # ns-05 is read twice
    # Slimmed, the Deployments are alike (each has the same mistyped replicas, an input
    # error per file): one body is kept per worker's chunk (sequentially, one for all).
    bodies = {id(r.body) for r in deployments}
    assert len(bodies) <= 2 * parallel.CHUNKS_PER_WORKER if slim else len(bodies) == 13
    assert len({id(r.body) for r in sequential.resources if r.kind == "Deployment"}) == (
        1 if slim else 13)
    assert parallel_result.files == sequential.files == 15
    assert parallel_result.errors == sequential.errors
    messages = [str(e) for e in parallel_result.errors]
    missing = messages.index(f"{tmp_path / 'missing'}: no such file or directory")
    assert "ns-05" in messages[missing - 1] and "ns-00" in messages[missing + 1]
    assert any("YAML syntax error" in m for m in messages)
    assert any("not valid UTF-8" in m for m in messages)
    assert [(r.ref, r.source, r.body) for r in parallel_result.resources] == [
        (r.ref, r.source, r.body) for r in sequential.resources]


def test_a_pool_that_cannot_start_falls_back_to_sequential(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    _write_corpus(tmp_path)
    expected = load_paths([str(tmp_path)])

    def broken(*args: object, **kwargs: object) -> None:
        raise parallel.PoolUnavailable("no pool")

    monkeypatch.setattr(parallel, "worth_it", lambda sizes, workers: True)
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    monkeypatch.setattr(parallel, "ordered_map", broken)
    got = load_paths([str(tmp_path)])
    assert got.errors == expected.errors
    assert [r.ref for r in got.resources] == [r.ref for r in expected.resources]


def test_progress_bar_only_for_long_runs_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr("sys.stderr.isatty", lambda: False)
    assert not progress.wanted(10_000)
    monkeypatch.setattr("sys.stderr.isatty", lambda: True)
    assert progress.wanted(progress.MIN_FILES)
    assert not progress.wanted(progress.MIN_FILES - 1)
    monkeypatch.setenv("CI", "true")
    assert not progress.wanted(10_000)


def _deep_envoy_filter(levels: int) -> str:
    """An EnvoyFilter whose patch value nests ``levels`` block mappings below ``spec``."""
    lines = ["apiVersion: networking.istio.io/v1alpha3", "kind: EnvoyFilter",
             "metadata: {name: deep, namespace: ns-01}", "spec:", "  configPatches:",
             "  - patch:", "      value:"]
    lines += [" " * (8 + level) + "k:" for level in range(levels)] + [" " * (8 + levels) + "v"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("levels", "kept"), [(480, True), (2000, False)])
def test_deep_documents_come_back_from_workers_as_from_a_sequential_read(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, levels: int, kept: bool) -> None:
    """The deepest accepted body pickles; a deeper one is refused alike in both reads."""
    _write_corpus(tmp_path)
    (tmp_path / "ns-01" / "deep.yaml").write_text(_deep_envoy_filter(levels), encoding="utf-8")
    monkeypatch.setattr(parallel, "worth_it", lambda sizes, workers: False)
    sequential = load_paths([str(tmp_path)], slim_bodies=True)
    monkeypatch.setattr(parallel, "worth_it", lambda sizes, workers: True)
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    pooled = load_paths([str(tmp_path)], slim_bodies=True)
    assert any(r.name == "deep" for r in pooled.resources) is kept
    deep_errors = [str(e) for e in pooled.errors if "deep.yaml" in str(e)]
    assert deep_errors == ([] if kept else [
        f"{tmp_path}/ns-01/deep.yaml:1: nesting deeper than 500 levels; document skipped"])
    assert pooled.errors == sequential.errors
    assert [(r.ref, r.source) for r in pooled.resources] == [
        (r.ref, r.source) for r in sequential.resources]
