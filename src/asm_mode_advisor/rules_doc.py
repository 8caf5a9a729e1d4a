"""Rule documentation generated from the registry (``explain`` and ``docs/rules.md``)."""

from __future__ import annotations

from asm_mode_advisor.matrix import ROWS_BY_ID
from asm_mode_advisor.rules import ALL_RULES, Rule


def rule_markdown(rule: Rule) -> str:
    """One rule's page: title, effect, rows, rationale, examples."""
    lines = [
        f"## {rule.id} {rule.name}",
        "",
        f"**{rule.title}**",
        "",
        f"- Effect: `{rule.effect.value}` (need: {rule.need_info.title})",
        f"- Default severity: `{rule.severity.value}`",
        f"- Kinds: {', '.join(rule.kinds) or 'the whole mesh'}",
        "- Matrix rows: " + "; ".join(f"`{row}` {ROWS_BY_ID[row].summary()}"
                                      for row in rule.rows),
        "",
        rule.rationale,
        "",
    ]
    for title, examples in (("Triggers", rule.triggers), ("Passes", rule.passes)):
        for example in examples:
            lines += [f"{title}:", "", "```yaml", example.strip(), "```", ""]
    return "\n".join(lines)


def rules_markdown() -> str:
    """The whole rules reference."""
    header = [
        "# Rules reference",
        "",
        "Generated from the rule registry by `python scripts/gen_docs.py`; a test fails when "
        "this file is stale. Effects come from each rule's need (see the feature matrix).",
        "",
        "| id | name | effect | rows | title |",
        "|---|---|---|---|---|",
    ]
    header += [f"| [{r.id}](#{r.id.lower()}-{r.name}) | {r.name} | {r.effect.value} | "
               f"{', '.join(r.rows)} | {r.title} |" for r in ALL_RULES]
    return "\n".join(header) + "\n\n" + "\n".join(rule_markdown(r) for r in ALL_RULES)
