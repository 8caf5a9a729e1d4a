"""The process exit codes of every command, in one table.

0 and 1 are the gate's answer; 2 means the run could not be trusted (bad input, usage or
configuration; the report is still printed). 130 and 141 are what a shell reports for an
interrupt and for a reader that went away, so scripts see the usual values. The README's
"Exit codes" table says the same for users.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """How a run ended, as the shell sees it."""

    OK = 0  # analysed (or planned); nothing at or above --fail-on
    FAILED = 1  # a finding at or above --fail-on remains after suppressions and the baseline
    INPUT = 2  # input, usage or configuration errors; also a failed write
    INTERRUPTED = 130  # 128 + SIGINT: Ctrl-C
    PIPE = 141  # 128 + SIGPIPE: the reader of stdout went away (``| head``)
