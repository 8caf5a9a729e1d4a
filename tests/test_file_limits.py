"""Hostile input files: one nesting limit on every PyYAML, no loops, no hangs, bounded reads."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from asm_mode_advisor.cli import app
from asm_mode_advisor.sources import documents, nesting
from asm_mode_advisor.sources.files import LoadResult, load_bytes, load_paths
from asm_mode_advisor.sources.nesting import MAX_NESTING, may_be_deep, measure

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: %s}\n"
DEEP = f"nesting deeper than {MAX_NESTING} levels; document skipped"


def load(text: str | bytes, name: str = "in.yaml") -> LoadResult:
    data = text if isinstance(text, bytes) else text.encode()
    result = LoadResult()
    load_bytes(data, name, "default", result)
    return result


def messages(result: LoadResult) -> list[str]:
    return [str(e) for e in result.errors]


def between(body: str) -> str:
    """``body`` as the third document, after a comment: its first line is line 6."""
    return SERVICE % "before" + "---\n# a nested document\n" + body + "---\n" + SERVICE % "after"


def flow(depth: int) -> str:
    """A mapping document whose value nests ``depth - 1`` flow sequences (``depth`` in all)."""
    return "kind: X\nd: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"


def block(depth: int) -> str:
    """A mapping document nesting ``depth`` block mappings."""
    lines = [" " * level + "k:" for level in range(depth)] + [" " * depth + "v"]
    return "\n".join(lines) + "\n"


def names(result: LoadResult) -> list[str]:
    return [r.name for r in result.resources]


# --- one nesting limit, whatever the library ------------------------------------------------

@pytest.mark.parametrize("shape", [flow, block], ids=["flow", "block"])
def test_the_limit_is_the_tools_own_and_exact(shape: Callable[[int], str]) -> None:
    """500 levels pass and 501 do not; both are far below any libyaml limit."""
    at_limit = load(between(shape(MAX_NESTING)))
    assert not any("nesting" in m for m in messages(at_limit)), messages(at_limit)
    over = load(between(shape(MAX_NESTING + 1)))
    assert messages(over) == [f"in.yaml:6: {DEEP}"]
    assert names(over) == ["before", "after"]


@pytest.mark.parametrize(("shape", "depth"), [
    (shape, depth) for depth in (600, 1_001, 2_000, 6_000) for shape in (flow, block)
] + [(flow, 50_000)])
def test_any_depth_past_the_limit_gets_one_answer(shape: Callable[[int], str],
                                                  depth: int) -> None:
    """Whichever path finds it (node walk, libyaml's own limit, the text guard): same line.

    6,000 block levels and 50,000 flow levels pass the text guard's bound (10,000).
    """
    result = load(between(shape(depth)))
    assert messages(result) == [f"in.yaml:6: {DEEP}"]
    assert names(result) == ["before", "after"]


PURE_PYTHON = """
import yaml
del yaml.CSafeLoader  # as on an install without libyaml
from asm_mode_advisor.sources.documents import USING_LIBYAML
from asm_mode_advisor.sources.files import LoadResult, load_bytes
assert not USING_LIBYAML
for text in TEXTS:
    result = LoadResult()
    load_bytes(text.encode(), "in.yaml", "default", result)
    print([e.message for e in result.errors if "nesting" in e.message])
"""


def test_pyyaml_without_libyaml_has_the_same_limit() -> None:
    """Its composer recurses in Python; the limit and the message stay the tool's own."""
    texts = [between(flow(depth)) for depth in (MAX_NESTING, MAX_NESTING + 1, 3_000)]
    done = _run_isolated(PURE_PYTHON.replace("TEXTS", repr(texts)))
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["[]", f"[{DEEP!r}]", f"[{DEEP!r}]"]


def test_a_depth_error_from_libyaml_is_the_same_refusal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Newer libyaml stops at about 1,000 levels itself; that error is mapped, not echoed."""
    text = SERVICE % "x" + "---\n# deep\nd:\n  - [[[[\n"
    at = text.index("[[[[")

    def failing(self: object) -> object:  # libyaml's error, on a line inside the document
        mark = yaml.Mark("in", at, text.count("\n", 0, at), 4, None, None)
        raise yaml.parser.ParserError(None, None, "exceeded maximum nesting depth", mark)

    monkeypatch.setattr(documents._Loader, "get_node", failing)
    result = load(text)
    assert messages(result) == [f"in.yaml:6: {DEEP}"]
    assert nesting.is_depth_error("exceeded maximum nesting depth")
    assert not nesting.is_depth_error("did not find expected node content")


def test_the_line_is_the_documents_first_line_for_every_path() -> None:
    text = between("a: 1\nb:\n" + "".join(" " * (2 + i) + "c:\n" for i in range(700))
                   + " " * 702 + "x\n")
    assert messages(load(text)) == [f"in.yaml:6: {DEEP}"]
    text = "a\n---\n\n# c\nkey: v\n  deeper\n---\n"
    assert nesting.document_start(text, text.index("deeper"), 6) == 5
    assert nesting.document_start(text, text.index("# c"), 4) == 5
    assert nesting.document_start("--- [1]\n", 5, 1) == 1
    assert nesting.document_start("x: 1\n", 3, 1) == 1
    assert nesting.document_start("a: 1\n---\n---\nb: 2\n", 7, 2) == 2  # empty: its marker


def test_brackets_inside_strings_are_never_nesting() -> None:
    quoted = ('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: brackets}\n'
              'data: {k: "' + "[" * 3_000 + '", j: \'' + "{" * 3_000 + "'}\n")
    result = load(between(quoted))
    assert result.errors == [] and names(result) == ["before", "brackets", "after"]
    assert messages(load(between(flow(MAX_NESTING + 1)))) == [f"in.yaml:6: {DEEP}"]


def test_nesting_through_an_alias_counts() -> None:
    anchored = "kind: X\na: &x " + "[" * 300 + "]" * 300 + "\n"
    shallow = load(between(anchored + "b: *x\n"))
    assert not any("nesting" in m for m in messages(shallow))
    deep = load(between(anchored + "b: " + "[" * 250 + "*x" + "]" * 250 + "\n"))
    assert messages(deep) == [f"in.yaml:6: {DEEP}"]


def test_normal_files_skip_the_exact_check() -> None:
    manifest = textwrap.dedent("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, labels: {app: web}}
        spec: {template: {spec: {containers: [{name: a, ports: [{containerPort: 80}]}]}}}
        """)
    assert not may_be_deep(manifest * 20)
    assert may_be_deep("a: " + "[" * 260)
    assert may_be_deep(block(130))
    assert not may_be_deep(block(100))


def test_json_has_the_same_limit() -> None:
    def nested(depth: int) -> bytes:
        return ('{"kind": "X", "d": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}").encode()

    assert not any("nesting" in m for m in messages(load(nested(MAX_NESTING), "d.json")))
    assert messages(load(nested(MAX_NESTING + 1), "d.json")) == [f"d.json:1: {DEEP}"]
    assert messages(load(nested(5_000), "d.json")) == [f"d.json:1: {DEEP}"]


# --- recursive aliases ----------------------------------------------------------------------

@pytest.mark.parametrize("body", ["data: &x [*x]\n", "data: &x {k: *x}\n",
                                  "data: &x {k: [1, {j: *x}]}\n"],
                         ids=["sequence", "mapping", "indirect"])
def test_a_recursive_alias_is_refused_and_neighbours_read(body: str) -> None:
    result = load(between(body))
    assert messages(result) == ["in.yaml:6: YAML alias refers to a node that contains it "
                                "(a recursive structure); document refused"]
    assert names(result) == ["before", "after"]


def test_aliases_shared_without_a_cycle_are_measured_not_refused() -> None:
    node = yaml.compose("a: &x {k: [1, 2]}\nb: *x\nc: [*x, *x]\n")
    shape = measure(node)
    assert not shape.cyclic and shape.depth == 4 and shape.size == 25
    assert measure(yaml.compose("a: &x [*x]\n")).cyclic


# --- what is read at all --------------------------------------------------------------------

def _run_isolated(code: str) -> subprocess.CompletedProcess[str]:
    """A fresh interpreter with a timeout: a read that blocks fails the test, not the suite."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)


def test_a_fifo_is_skipped_not_waited_on(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "ok.yaml").write_text(SERVICE % "ok")
    done = _run_isolated(
        "from asm_mode_advisor.sources.files import load_paths\n"
        f"r = load_paths([{str(tmp_path)!r}])\n"
        "print(([str(e) for e in r.errors], [x.name for x in r.resources]))\n")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(
        ([f"{tmp_path}/pipe.yaml: not a regular file (a FIFO); skipped"], ["ok"]))


def test_a_pipe_named_on_the_command_line_is_read_within_the_cap(tmp_path: Path) -> None:
    """``analyze <(helm template …)`` names a pipe: that one is read (a folder's never is)."""
    pipe = tmp_path / "named.yaml"
    os.mkfifo(pipe)
    done = _run_isolated(
        "import threading\n"
        "from asm_mode_advisor.sources.files import load_paths\n"
        f"def write(): open({str(pipe)!r}, 'w').write({SERVICE % 'piped'!r})\n"
        "threading.Thread(target=write).start()\n"
        f"r = load_paths([{str(pipe)!r}])\n"
        "print(([str(e) for e in r.errors], [x.name for x in r.resources]))\n")
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == str(([], ["piped"]))


def test_a_symlink_to_a_device_is_skipped_and_one_to_a_file_is_read(tmp_path: Path) -> None:
    (tmp_path / "zero.yaml").symlink_to("/dev/zero")
    (tmp_path / "target.txt").write_text(SERVICE % "linked")
    (tmp_path / "link.yaml").symlink_to(tmp_path / "target.txt")
    result = load_paths([str(tmp_path)], max_bytes=2**20)
    assert messages(result) == [f"{tmp_path}/zero.yaml: not a regular file (a device); skipped"]
    assert names(result) == ["linked"]


def test_a_file_over_the_cap_is_refused_and_one_at_it_is_read(tmp_path: Path) -> None:
    text = (SERVICE % "a").encode()
    (tmp_path / "a.yaml").write_bytes(text)
    (tmp_path / "b.yaml").write_bytes(text + b"#")
    result = load_paths([str(tmp_path)], max_bytes=len(text))
    assert names(result) == ["a"]
    assert messages(result) == [
        f"{tmp_path}/b.yaml: larger than the {len(text)}-byte limit (--max-file-size); skipped"]


def test_stdin_has_the_same_cap() -> None:
    data = (SERVICE % "piped").encode()
    assert names(load_paths(["-"], stdin=io.BytesIO(data), max_bytes=len(data))) == ["piped"]
    over = load_paths(["-"], stdin=io.BytesIO(data + b"\n"), max_bytes=len(data))
    assert messages(over) == [
        f"<stdin>: larger than the {len(data)}-byte limit (--max-file-size); skipped"]


def test_max_file_size_flag_on_analyze_and_plan(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text(SERVICE % "big" + "#" * (2**20 + 1) + "\n")
    runner = CliRunner()
    for command in (["analyze", "-o", "json"], ["plan", "-o", "json"]):
        capped = runner.invoke(app, [*command, "--max-file-size", "1", str(big)])
        assert capped.exit_code == 2, capped.output
        assert "big.yaml: larger than the 1 MiB limit (--max-file-size); skipped" in (
            capped.output + capped.stderr)
        read = runner.invoke(app, [*command, "--max-file-size", "2", str(big)])
        assert "limit (--max-file-size)" not in read.output + read.stderr


def test_an_unreadable_folder_is_an_error(tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """Root cannot be denied a folder (chmod 000 does not stop it), so listing is made to fail."""
    (tmp_path / "ok.yaml").write_text(SERVICE % "ok")
    (tmp_path / "secret").mkdir()
    (tmp_path / "secret" / "hidden.yaml").write_text(SERVICE % "hidden")
    real_scandir = os.scandir

    def denying(path: str) -> object:
        if str(path).endswith("secret"):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", denying)
    result = load_paths([str(tmp_path)])
    assert names(result) == ["ok"]
    assert messages(result) == [f"{tmp_path}/secret: cannot read folder: Permission denied; "
                                "skipped"]
    run = CliRunner().invoke(app, ["analyze", "-o", "json", str(tmp_path)])
    assert run.exit_code == 2
    monkeypatch.setattr(os, "scandir", real_scandir)
    assert load_paths([str(tmp_path)]).errors == []


def test_a_named_symlink_loop_is_called_one(tmp_path: Path) -> None:
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    assert messages(load_paths([str(tmp_path / "loop.yaml")])) == [
        f"{tmp_path}/loop.yaml: symlink loop; skipped"]
    assert messages(load_paths([str(tmp_path / "gone.yaml")])) == [
        f"{tmp_path}/gone.yaml: no such file or directory"]


# --- values that broke the whole run --------------------------------------------------------

@pytest.mark.parametrize("kind", ["install.istio.io/v1alpha1\nkind: IstioOperator",
                                  "kustomize.config.k8s.io/v1beta1\nkind: Kustomization"])
@pytest.mark.parametrize("namespace", ["{a: b}", "[x]"])
def test_a_tool_config_with_a_non_string_namespace_is_an_input_error(kind: str,
                                                                     namespace: str) -> None:
    result = load(f"apiVersion: {kind}\nmetadata:\n  namespace: {namespace}\n---\n"
                  + SERVICE % "after")
    assert names(result) == ["after"]
    assert len(result.errors) == 1 and result.errors[0].line == 1
    assert "'metadata.namespace' must be a string" in result.errors[0].message
    fine = load(f"apiVersion: {kind}\nmetadata:\n  namespace: tools\n")
    assert fine.errors == [] and len(fine.resources) == 1


def test_a_huge_integer_is_an_input_error_for_that_document() -> None:
    result = load(between("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n}\n"
                          "data: {k: " + "9" * 5_000 + "}\n"))
    assert names(result) == ["before", "after"]
    assert [(e.line, e.message.split(":")[0]) for e in result.errors] == [
        (6, "a value cannot be read")]
