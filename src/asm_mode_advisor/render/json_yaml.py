"""YAML, the report contract as JSON has it (``Report.json_chunks``): sorted, no timestamps."""

from __future__ import annotations

from collections.abc import Iterator

import yaml

from asm_mode_advisor.report import Report, verdict_data

_Dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def _dump(data: object) -> str:
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                          allow_unicode=True, width=100)
    return text


def yaml_chunks(report: Report) -> Iterator[str]:
    """The report as deterministic YAML (same data as the JSON), a namespace at a time.

    A list under a top-level key is written without indentation, so each namespace is
    written exactly as ``yaml.dump`` writes a one-item list.
    """
    data = report.to_data(namespaces=False)
    for key in sorted({*data, "namespaces"}):
        if key != "namespaces":
            yield _dump({key: data[key]})
        elif not report.namespaces:
            yield "namespaces: []\n"
        else:
            yield "namespaces:\n"
            for verdict in report.namespaces:
                yield _dump([verdict_data(verdict)])
