"""The plan names rules by object, and its code stays in small pieces."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from asm_mode_advisor.plan import rule_roles
from asm_mode_advisor.plan.rule_roles import REDUNDANT_ROUTE_RULES, fired, subjects_of
from asm_mode_advisor.rules import ALL_RULES, Rule
from asm_mode_advisor.rules.routing import REDUNDANT_VS
from asm_mode_advisor.sources.files import LoadResult, load_text

PLAN_CODE = Path(__file__).resolve().parents[2] / "src" / "asm_mode_advisor" / "plan"
RULE_ID_LITERAL = re.compile(r"""["']AMA\d{3}["']""")
MAX_FUNCTION_LINES = 40
MAX_MODULE_LINES = 400


def _roles() -> list[Rule]:
    """Every Rule object the plan's rule roles name."""
    found: list[Rule] = []
    for value in vars(rule_roles).values():
        if isinstance(value, tuple):
            for entry in value:
                found.extend(e for e in (entry if isinstance(entry, tuple) else (entry,))
                             if isinstance(e, Rule))
    return found


def test_plan_code_names_no_rule_by_id_string() -> None:
    hits = [f"{path.name}:{number}: {line.strip()}"
            for path in sorted(PLAN_CODE.glob("*.py"))
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if RULE_ID_LITERAL.search(line)]
    assert hits == [], "import the Rule object instead of naming its id:\n" + "\n".join(hits)


def test_rule_roles_name_registered_rules() -> None:
    roles = _roles()
    assert len(roles) >= 10  # every role tuple was found
    registered = {id(rule) for rule in ALL_RULES}
    assert [r.id for r in roles if id(r) not in registered] == []


def test_a_rule_fires_by_identity_not_by_id() -> None:
    loaded = LoadResult()
    load_text("apiVersion: networking.istio.io/v1\nkind: VirtualService\n"
              "metadata: {name: web, namespace: shop}\nspec: {hosts: [web]}\n",
              "vs.yaml", "default", loaded)
    vs = loaded.resources[0]
    twin = REDUNDANT_VS.model_copy()  # same id and fields, another object
    real, lookalike = REDUNDANT_VS.finding(vs, "redundant"), twin.finding(vs, "redundant")
    assert fired(real, REDUNDANT_ROUTE_RULES)
    assert not fired(lookalike, REDUNDANT_ROUTE_RULES)
    assert subjects_of([lookalike, real], REDUNDANT_ROUTE_RULES) == [vs]


def test_plan_functions_and_modules_stay_small() -> None:
    long_functions, long_modules = [], []
    for path in sorted(PLAN_CODE.glob("*.py")):
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > MAX_MODULE_LINES:
            long_modules.append(path.name)
        long_functions.extend(
            f"{path.name}:{node.name}" for node in ast.walk(ast.parse(text))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and (node.end_lineno or node.lineno) - node.lineno + 1 > MAX_FUNCTION_LINES)
    assert (long_functions, long_modules) == ([], [])
