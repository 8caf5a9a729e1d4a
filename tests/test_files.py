"""The file source: every bad-input case is one error line and never costs the good input."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from asm_mode_advisor.sources.files import (
    STDIN_NAME,
    LoadResult,
    expand_paths,
    load_bytes,
    load_paths,
)
from asm_mode_advisor.sources.nesting import MAX_EXPANDED_NODES

SERVICE = "apiVersion: v1\nkind: Service\nmetadata: {name: %s}\n"


def load(text: str | bytes, name: str = "in.yaml") -> LoadResult:
    data = text if isinstance(text, bytes) else textwrap.dedent(text).encode()
    result = LoadResult()
    load_bytes(data, name, "default", result)
    return result


def refs(result: LoadResult) -> list[tuple[str, int | None]]:
    return [(r.ref, r.source.line) for r in result.resources]


def messages(result: LoadResult) -> list[str]:
    return [str(e) for e in result.errors]


def one_error(result: LoadResult) -> str:
    assert len(result.errors) == 1, messages(result)
    text = str(result.errors[0])
    assert "\n" not in text
    return text


# --- bad input ------------------------------------------------------------------------------

def test_syntax_error_keeps_documents_before_and_after() -> None:
    result = load(SERVICE % "before" + "---\nkind: [\n---\n" + SERVICE % "after")
    assert refs(result) == [("Service/default/before", 1), ("Service/default/after", 7)]
    assert one_error(result).startswith("in.yaml:6: YAML syntax error")


def test_two_syntax_errors_each_reported_with_their_line() -> None:
    text = "a: [\n---\n" + SERVICE % "ok" + "---\nb: : :\n  - x\n"
    result = load(text)
    assert refs(result) == [("Service/default/ok", 3)]
    assert [e.line for e in result.errors] == [2, 7]
    assert all("YAML syntax error" in e.message for e in result.errors)


def test_tab_indentation_is_a_syntax_error() -> None:
    result = load(b"apiVersion: v1\nkind: Service\nmetadata:\n\tname: a\n")
    assert one_error(result).startswith("in.yaml:4: YAML syntax error")
    assert result.resources == []


def test_non_utf8_bytes_name_the_line_and_byte() -> None:
    result = load(b"apiVersion: v1\nkind: Service\nmetadata: {name: caf\xe9}\n")
    assert one_error(result) == "in.yaml:3: not valid UTF-8 (byte 0xe9 at offset 49)"
    assert result.resources == []


def test_binary_file_is_refused() -> None:
    result = load(b"\x7fELF\x02\x01\x01\x00\x00\x00" + bytes(range(256)))
    assert "binary file" in one_error(result)


def test_utf8_bom_is_accepted() -> None:
    result = load(b"\xef\xbb\xbf" + (SERVICE % "bom").encode())
    assert refs(result) == [("Service/default/bom", 1)]
    assert result.errors == []


@pytest.mark.parametrize(("document", "found"), [
    ("just a sentence\n", "str"), ("- a\n- b\n", "list"), ("42\n", "int")])
def test_document_that_is_not_a_mapping(document: str, found: str) -> None:
    result = load(document + "---\n" + SERVICE % "ok")
    assert one_error(result) == f"in.yaml:1: document is not a mapping (found {found}); skipped"
    assert [r.name for r in result.resources] == ["ok"]


@pytest.mark.parametrize(("document", "problem"), [
    ("apiVersion: v1\nmetadata: {name: a}\n", "object skipped: missing or invalid 'kind'"),
    ("kind: Service\nmetadata: {name: a}\n",
     "Service object skipped: missing or invalid 'apiVersion'"),
    ("apiVersion: v1\nkind: Service\nmetadata: {labels: {a: b}}\n",
     "Service object skipped: missing 'metadata.name'"),
    ("apiVersion: v1\nkind: Service\n",
     "Service object skipped: missing or invalid 'metadata'; missing 'metadata.name'"),
    ("metadata: {name: a}\nspec: {}\n",
     "not a Kubernetes object (no 'kind' or 'apiVersion'); skipped"),
])
def test_missing_identity_fields(document: str, problem: str) -> None:
    result = load(SERVICE % "first" + "---\n" + document)
    assert one_error(result) == f"in.yaml:5: {problem}"
    assert [r.name for r in result.resources] == ["first"]


def test_generate_name_stands_in_for_name() -> None:
    result = load("apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: migrate-}\n")
    assert refs(result) == [("Job/default/migrate-", 1)]
    assert result.errors == []


def test_list_where_a_name_belongs() -> None:
    result = load("apiVersion: v1\nkind: Service\nmetadata: {name: [a, b]}\n")
    assert one_error(result) == ("in.yaml:1: Service object skipped: 'metadata.name' must be a "
                                 "string, not a list")
    assert result.resources == []


def test_number_where_a_namespace_belongs() -> None:
    result = load("apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: 5}\n")
    assert "'metadata.namespace' must be a string, not a number" in one_error(result)


def test_string_where_replicas_belong_is_reported_and_object_kept() -> None:
    result = load("""\
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web, namespace: shop}
        spec:
          replicas: three
          template:
            spec:
              containers: [{name: web, image: web:1, ports: [{containerPort: "8080"}]}]
        """)
    assert messages(result) == [
        "in.yaml:1: Deployment/shop/web: 'spec.replicas' must be a number, not str 'three'",
        "in.yaml:1: Deployment/shop/web: 'spec.template.spec.containers[0].ports[0]"
        ".containerPort' must be a number, not str '8080'",
    ]
    assert refs(result) == [("Deployment/shop/web", 1)]


def test_boolean_replicas_is_wrong_too() -> None:
    result = load("apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: db}\n"
                  "spec: {replicas: true}\n")
    assert "'spec.replicas' must be a number, not bool True" in one_error(result)


def test_unquoted_label_value_is_reported_and_stringified() -> None:
    result = load("apiVersion: v1\nkind: Service\nmetadata:\n"
                  "  name: a\n  labels: {version: 2, canary: true}\n")
    assert "'metadata.labels' values must be strings (quote them): canary, version" in (
        one_error(result))
    assert result.resources[0].labels == {"version": "2", "canary": "true"}


def test_labels_that_are_not_a_mapping() -> None:
    result = load("apiVersion: v1\nkind: Service\nmetadata: {name: a, labels: [x]}\n")
    assert "'metadata.labels' must be a mapping, not a list" in one_error(result)
    assert result.resources[0].labels == {}


def test_duplicate_keys_are_reported_with_their_line() -> None:
    result = load("""\
        apiVersion: v1
        kind: Service
        metadata:
          name: first
          name: second
        """)
    assert one_error(result) == "in.yaml:5: duplicate key 'name' in a mapping"
    assert [r.name for r in result.resources] == ["second"]


def test_duplicate_key_line_counts_from_file_start_after_a_syntax_error() -> None:
    text = "a: [\n---\n" + "apiVersion: v1\nkind: Service\nmetadata: {name: x}\nkind: Pod\n"
    result = load(text)
    assert [(e.line, e.message.split(":")[0]) for e in result.errors] == [
        (2, "YAML syntax error"), (6, "duplicate key 'kind' in a mapping")]


def _billion_laughs(levels: int = 9) -> str:
    lines = ['lol0: &lol0 "lol"']
    for level in range(1, levels + 1):
        refs_ = ", ".join([f"*lol{level - 1}"] * 10)
        lines.append(f"lol{level}: &lol{level} [{refs_}]")
    return "\n".join(lines) + "\n"


def test_billion_laughs_is_refused_and_neighbours_survive() -> None:
    # 10**9 nodes once expanded: completing at all shows the check is not exponential.
    text = SERVICE % "before" + "---\n" + _billion_laughs() + "---\n" + SERVICE % "after"
    result = load(text)
    assert one_error(result) == (f"in.yaml:5: YAML aliases expand to more than "
                                 f"{MAX_EXPANDED_NODES:,} nodes; document refused")
    assert [r.name for r in result.resources] == ["before", "after"]


def test_small_aliases_are_fine() -> None:
    result = load("""\
        apiVersion: v1
        kind: Service
        metadata:
          name: a
          labels: &l {app: a}
          annotations: *l
        """)
    assert result.errors == []
    assert result.resources[0].annotations == {"app": "a"}


def _run_isolated(code: str) -> subprocess.CompletedProcess[str]:
    """Run code in a fresh interpreter so that a C-level crash fails the test, not pytest."""
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=False)


DEEP_SCRIPT = """
import json
from asm_mode_advisor.sources.files import LoadResult, load_bytes
good = b"apiVersion: v1\\nkind: Service\\nmetadata: {name: %s}\\n"
result = LoadResult()
load_bytes(good % b"before" + b"---\\n" + BODY + b"---\\n" + good % b"after", NAME,
           "default", result)
print(json.dumps({"names": [r.name for r in result.resources],
                  "errors": [str(e) for e in result.errors]}))
"""


@pytest.mark.parametrize(("body", "name"), [
    ('b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\\n"', "flow.yaml"),
    ('b"a: " + b"{a: " * 50_000 + b"}" * 50_000 + b"\\n"', "flowmap.yaml"),
    ('b"- " * 50_000 + b"x\\n"', "block.yaml"),
    ('b"".join(b" " * i + b"-\\n" for i in range(5_000))', "indent.yaml"),
], ids=["flow-seq", "flow-map", "block-dashes", "block-indent"])
def test_absurdly_deep_nesting_never_crashes(body: str, name: str) -> None:
    code = DEEP_SCRIPT.replace("BODY", body).replace("NAME", repr(name))
    done = _run_isolated(code)
    assert done.returncode == 0, done.stderr[-2000:]
    outcome = json.loads(done.stdout)
    assert "before" in outcome["names"] and "after" in outcome["names"], outcome
    assert outcome["errors"] == [f"{name}:5: nesting deeper than 500 levels; document skipped"]


def test_too_deep_document_is_reported_with_its_line() -> None:
    result = load(SERVICE % "before" + "---\na: " + "[" * 5000 + "]" * 5000 + "\n---\n"
                  + SERVICE % "after")
    assert one_error(result) == "in.yaml:5: nesting deeper than 500 levels; document skipped"
    assert [r.name for r in result.resources] == ["before", "after"]


def test_deep_json_is_an_error_not_a_crash() -> None:
    result = load(b"[" * 100_000 + b"]" * 100_000, "deep.json")
    assert one_error(result) == "deep.json:1: nesting deeper than 500 levels; document skipped"


def test_json_syntax_error_names_the_line() -> None:
    result = load(b'{\n  "apiVersion": "v1",\n  "kind": \n}\n', "bad.json")
    assert one_error(result).startswith("bad.json:4: JSON syntax error")


# --- documents ------------------------------------------------------------------------------

def test_multi_document_lines_and_empty_documents_skipped() -> None:
    result = load("---\n---\n# only a comment\n---\n" + SERVICE % "a" + "---\n\n---\n"
                  + SERVICE % "b" + "...\n")
    assert refs(result) == [("Service/default/a", 5), ("Service/default/b", 11)]
    assert result.errors == []


def test_kind_list_is_expanded_with_item_lines() -> None:
    result = load("""\
        apiVersion: v1
        kind: List
        items:
        - apiVersion: v1
          kind: Service
          metadata: {name: a}
        - apiVersion: apps/v1
          kind: Deployment
          metadata: {name: b, namespace: shop}
        """)
    assert refs(result) == [("Service/default/a", 4), ("Deployment/shop/b", 7)]


def test_typed_list_kind_is_expanded_and_bad_items_reported() -> None:
    result = load(SERVICE % "first" + textwrap.dedent("""\
        ---
        apiVersion: v1
        kind: ServiceList
        items:
        - apiVersion: v1
          kind: Service
          metadata: {name: a}
        - 7
        """))
    assert refs(result) == [("Service/default/first", 1), ("Service/default/a", 8)]
    assert one_error(result) == "in.yaml:11: ServiceList item 1 is not a mapping; skipped"


def test_default_namespace_and_cluster_scoped_kinds() -> None:
    result = LoadResult()
    text = (SERVICE % "a" + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n"
            "---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\n"
            "metadata: {name: reader}\n---\napiVersion: v1\nkind: Service\n"
            "metadata: {name: b, namespace: other}\n")
    load_bytes(text.encode(), "in.yaml", "shop", result)
    assert [(r.kind, r.namespace) for r in result.resources] == [
        ("Service", "shop"), ("Namespace", None), ("ClusterRole", None), ("Service", "other")]


def test_unknown_kinds_are_kept_without_error() -> None:
    result = load("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\n")
    assert refs(result) == [("Widget/default/w", 1)]
    assert result.errors == []


def test_every_served_api_version_is_accepted() -> None:
    text = "".join(
        f"---\napiVersion: networking.istio.io/{version}\nkind: VirtualService\n"
        f"metadata: {{name: vs-{version}}}\nspec: {{hosts: [a]}}\n"
        for version in ("v1", "v1beta1", "v1alpha3"))
    result = load(text)
    assert [r.api_version for r in result.resources] == [
        "networking.istio.io/v1", "networking.istio.io/v1beta1", "networking.istio.io/v1alpha3"]
    assert result.errors == []


def test_json_file_is_parsed_as_one_document() -> None:
    document = {"apiVersion": "v1", "kind": "List", "items": [
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "j"}}]}
    result = load(json.dumps(document).encode(), "svc.JSON")
    assert refs(result) == [("Service/default/j", 1)]


# --- paths ----------------------------------------------------------------------------------

def _tree(root: Path) -> None:
    (root / "b").mkdir()
    (root / "a").mkdir()
    (root / ".git").mkdir()
    (root / "b" / "z.yaml").write_text(SERVICE % "z")
    (root / "a" / "y.yml").write_text(SERVICE % "y")
    (root / "a" / "x.json").write_text(json.dumps(
        {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "x"}}))
    (root / "a" / "notes.txt").write_text("not a manifest")
    (root / "a" / ".hidden.yaml").write_text(SERVICE % "hidden")
    (root / ".git" / "config.yaml").write_text(SERVICE % "git")
    (root / "top.yaml").write_text(SERVICE % "top")


def test_folders_are_walked_sorted_skipping_hidden(tmp_path: Path) -> None:
    _tree(tmp_path)
    found = list(expand_paths([str(tmp_path)]))
    assert found == [str(tmp_path / "a" / "x.json"), str(tmp_path / "a" / "y.yml"),
                     str(tmp_path / "b" / "z.yaml"), str(tmp_path / "top.yaml")]


def test_relative_paths_stay_relative(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    result = load_paths(["a", "top.yaml"])
    assert [(r.name, r.source.file, r.source.line) for r in result.resources] == [
        ("x", os.path.join("a", "x.json"), 1), ("y", os.path.join("a", "y.yml"), 1),
        ("top", "top.yaml", 1)]
    assert result.files == 3
    assert result.errors == []


def test_missing_path_is_an_error_and_the_rest_is_read(tmp_path: Path) -> None:
    (tmp_path / "ok.yaml").write_text(SERVICE % "ok")
    missing = str(tmp_path / "nope.yaml")
    under_file = str(tmp_path / "ok.yaml" / "child.yaml")
    result = load_paths([missing, str(tmp_path / "ok.yaml"), under_file])
    assert [r.name for r in result.resources] == ["ok"]
    assert messages(result) == [f"{missing}: no such file or directory",
                                f"{under_file}: no such file or directory"]


def test_unreadable_entries_are_errors_even_for_root(tmp_path: Path) -> None:
    # chmod does not stop root; a symlink loop and a dangling symlink fail for everyone.
    (tmp_path / "ok.yaml").write_text(SERVICE % "ok")
    (tmp_path / "loop.yaml").symlink_to(tmp_path / "loop.yaml")
    (tmp_path / "dangling.yaml").symlink_to(tmp_path / "gone.yaml")
    result = load_paths([str(tmp_path)])
    assert [r.name for r in result.resources] == ["ok"]
    assert sorted((e.file, e.message.split(":")[0]) for e in result.errors) == [
        (str(tmp_path / "dangling.yaml"), "cannot read"),
        (str(tmp_path / "loop.yaml"), "symlink loop; skipped")]
    assert all(e.line is None for e in result.errors)


def test_stdin_is_named_stdin() -> None:
    stream = io.BytesIO((SERVICE % "piped" + "---\nkind: [\n").encode())
    result = load_paths(["-"], default_namespace="shop", stdin=stream)
    assert [(r.ref, r.source.file, r.source.line) for r in result.resources] == [
        ("Service/shop/piped", STDIN_NAME, 1)]
    assert [(e.file, e.line) for e in result.errors] == [(STDIN_NAME, 6)]
    assert STDIN_NAME == "<stdin>"


def test_several_paths_keep_command_line_order(tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text(SERVICE % "b")
    (tmp_path / "a.yaml").write_text(SERVICE % "a")
    result = load_paths([str(tmp_path / "b.yaml"), str(tmp_path / "a.yaml")])
    assert [r.name for r in result.resources] == ["b", "a"]
