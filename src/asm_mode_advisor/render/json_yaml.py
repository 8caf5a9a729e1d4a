"""JSON and YAML: the report contract, sorted and without timestamps."""

from __future__ import annotations

import yaml

from asm_mode_advisor.report import Report

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def render_json(report: Report, color: bool = False) -> str:
    """The report as deterministic JSON."""
    return report.to_json()


def render_yaml(report: Report, color: bool = False) -> str:
    """The report as deterministic YAML (same data as the JSON)."""
    text: str = yaml.dump(report.to_data(), Dumper=_Dumper, sort_keys=True,
                          default_flow_style=False, allow_unicode=True, width=100)
    return text
