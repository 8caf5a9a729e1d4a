"""YAML, the report contract as JSON has it (``Report.json_chunks``): sorted, no timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

from asm_mode_advisor.report import Report, verdict_data
from asm_mode_advisor.text import escape_in_strings, has_unsafe, starts_command

_Base: Any = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
#: A line width no string reaches: strings are never folded over lines.
UNFOLDED = 1 << 30


class _Dumper(_Base):  # type: ignore[misc]
    """Writes strings that hold control characters or start like ``::error`` double-quoted."""


def _represent_str(dumper: Any, data: str) -> Any:
    # Double quotes let every such character be written as an escape (see dump).
    quoted = has_unsafe(data) or starts_command(data)
    return dumper.represent_scalar("tag:yaml.org,2002:str", data,
                                   style='"' if quoted else None)


_Dumper.add_representer(str, _represent_str)


def dump(data: object) -> str:
    r"""YAML where no name can move the cursor, start a line or reorder text on a terminal.

    The writer escapes C0 and C1 controls and line separators in double quotes itself, but
    keeps DEL and bidi characters raw (``allow_unicode``); inside double quotes (the only
    place they can be) they are written as ``\uNNNN`` instead. Long strings are not folded,
    so no part of one can start a line (where ``::error::`` would be a workflow command).
    """
    text: str = yaml.dump(data, Dumper=_Dumper, sort_keys=True, default_flow_style=False,
                          allow_unicode=True, width=UNFOLDED)
    return escape_in_strings(text)


def yaml_chunks(report: Report) -> Iterator[str]:
    """The report as deterministic YAML (same data as the JSON), a namespace at a time.

    A list under a top-level key is written without indentation, so each namespace is
    written exactly as ``yaml.dump`` writes a one-item list.
    """
    data = report.to_data(namespaces=False)
    for key in sorted({*data, "namespaces"}):
        if key != "namespaces":
            yield dump({key: data[key]})
        elif not report.namespaces:
            yield "namespaces: []\n"
        else:
            yield "namespaces:\n"
            for verdict in report.namespaces:
                yield dump([verdict_data(verdict)])
