"""The published JSON Schemas: current with the models, and real output validates against them.

``validate`` below checks the subset of JSON Schema that pydantic emits and refuses any
other keyword, so a construct it does not know never passes unchecked; its failures name
the path of each problem. ``jsonschema`` (already a pinned test dependency, for SARIF)
checks that both files are valid 2020-12 schemas and gives a second opinion on the estate.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType
from typing import Any

import jsonschema
import pytest
from typer.testing import CliRunner

from asm_mode_advisor.cli import app

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "scripts" / "gen_schema.py"
SCHEMAS = REPO / "docs" / "schema"
EXAMPLES = sorted(p.name for p in (REPO / "examples").iterdir() if p.is_dir())

#: Keywords that only describe: they constrain nothing.
ANNOTATIONS = frozenset({"$schema", "$defs", "title", "description", "default", "examples"})
#: Keywords ``validate`` checks.
CHECKED = frozenset({"type", "properties", "required", "additionalProperties", "items",
                     "prefixItems", "minItems", "maxItems", "enum", "const", "$ref", "anyOf",
                     "allOf"})
TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def gen_schema() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_schema", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _is_type(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if name == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    return isinstance(value, TYPES[name])


def validate(value: Any, schema: dict[str, Any] | bool, root: dict[str, Any],
             where: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema`` (empty: valid), each naming where."""
    if schema is True:
        return []
    if schema is False:
        return [f"{where}: not allowed"]
    unknown = set(schema) - CHECKED - ANNOTATIONS
    if unknown:
        raise AssertionError(f"{where}: the checker does not know {sorted(unknown)}")
    problems: list[str] = []
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/"), ref
        problems += validate(value, root["$defs"][ref.removeprefix("#/$defs/")], root, where)
    if "anyOf" in schema and all(validate(value, option, root, where)
                                 for option in schema["anyOf"]):
        problems.append(f"{where}: matches none of anyOf")
    for option in schema.get("allOf", ()):
        problems += validate(value, option, root, where)
    if "type" in schema:
        names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_is_type(value, name) for name in names):
            return [*problems, f"{where}: {type(value).__name__} is not {'/'.join(names)}"]
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        problems.append(f"{where}: {value!r} is not {schema['const']!r}")
    if isinstance(value, dict):
        problems += _object(value, schema, root, where)
    if isinstance(value, list):
        problems += _array(value, schema, root, where)
    return problems


def _object(value: dict[str, Any], schema: dict[str, Any], root: dict[str, Any],
            where: str) -> list[str]:
    properties = schema.get("properties", {})
    problems = [f"{where}: {key!r} is required" for key in schema.get("required", ())
                if key not in value]
    for key, item in value.items():
        if key in properties:
            problems += validate(item, properties[key], root, f"{where}.{key}")
        elif "additionalProperties" in schema:
            problems += validate(item, schema["additionalProperties"], root, f"{where}.{key}")
    return problems


def _array(value: list[Any], schema: dict[str, Any], root: dict[str, Any],
           where: str) -> list[str]:
    problems: list[str] = []
    if "minItems" in schema and len(value) < schema["minItems"]:
        problems.append(f"{where}: fewer than {schema['minItems']} items")
    if "maxItems" in schema and len(value) > schema["maxItems"]:
        problems.append(f"{where}: more than {schema['maxItems']} items")
    prefix = schema.get("prefixItems", [])
    for index, item in enumerate(value):
        rule = prefix[index] if index < len(prefix) else schema.get("items", True)
        problems += validate(item, rule, root, f"{where}[{index}]")
    return problems


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    return data


def test_schemas_are_current() -> None:
    assert gen_schema().stale() == [], "run python3 scripts/gen_schema.py and commit the result"


def test_stale_schema_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    module = gen_schema()
    monkeypatch.setattr(module, "FOLDER", tmp_path)
    monkeypatch.setattr(module, "REPO", tmp_path)
    assert sorted(module.stale()) == ["plan.schema.json", "report.schema.json"]
    assert module.main([]) == 0
    assert module.stale() == []
    (tmp_path / "plan.schema.json").write_text("{}\n", encoding="utf-8")
    assert module.stale() == ["plan.schema.json"]
    assert module.main(["--check"]) == 1


def _json_output(args: list[str]) -> Any:
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_report_validates(example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    report = _json_output(["analyze", f"examples/{example}", "-o", "json"])
    assert validate(report, load("report"), load("report")) == []


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_example_plan_validates(example: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    plan = _json_output(["plan", f"examples/{example}", "-o", "json"])
    assert validate(plan, load("plan"), load("plan")) == []


def test_the_whole_estate_and_its_plan_validate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    report = _json_output(["analyze", "examples", "-o", "json"])
    assert validate(report, load("report"), load("report")) == []
    plan = _json_output(["plan", "examples", "-o", "json"])
    assert validate(plan, load("plan"), load("plan")) == []


@pytest.mark.parametrize("name", ["report", "plan"])
def test_schemas_are_valid_2020_12_schemas(name: str) -> None:
    schema = load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_jsonschema_agrees_on_the_whole_estate(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    for name, args in (("report", ["analyze"]), ("plan", ["plan"])):
        data = _json_output([*args, "examples", "-o", "json"])
        errors = list(jsonschema.Draft202012Validator(load(name)).iter_errors(data))
        assert errors == []
        del data["summary" if name == "report" else next(iter(load(name)["required"]))]
        assert list(jsonschema.Draft202012Validator(load(name)).iter_errors(data))
        assert validate(data, load(name), load(name))


def test_the_checker_finds_what_breaks_the_schema(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)
    schema = load("report")
    report = _json_output(["analyze", "examples/mixed-shop", "-o", "json"])
    del report["summary"]
    report["namespaces"][0]["recommendation"] = 7
    report["namespaces"][0]["surprise"] = True
    report["meshVersion"] = None
    problems = validate(report, schema, schema)
    assert "$: 'summary' is required" in problems
    assert any(p.startswith("$.namespaces[0].recommendation:") for p in problems)
    assert any(p.startswith("$.namespaces[0].surprise:") for p in problems)
    assert any(p.startswith("$.meshVersion:") for p in problems)


def test_the_checker_refuses_keywords_it_does_not_know() -> None:
    with pytest.raises(AssertionError, match="pattern"):
        validate("x", {"type": "string", "pattern": "^y$"}, {})
