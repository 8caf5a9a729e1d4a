r"""Safe text: hostile names, paths and messages made harmless for terminals, logs and Markdown.

Every name, namespace, path and message can come from a manifest, a cluster or a config, so
before it reaches a terminal or a CI log it must not be able to start a new line (GitHub reads
``::error``/``::add-mask::`` workflow commands from any line of stdout or stderr), move the
cursor, set a window title or a hyperlink (ANSI/OSC escapes), or reorder what is shown (bidi
overrides). Such characters are shown escaped, as ``\xNN`` or ``\uNNNN``.
"""

from __future__ import annotations

import html
import re

#: C0 controls (tab and newline too), DEL, C1 controls, the Unicode line and paragraph
#: separators, and the bidi marks, embeddings, overrides and isolates.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                     "\u2066-\u2069]")
#: The same, but keeping newline and tab (for formats that are many lines by design).
_UNSAFE_KEEP_LINES = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                                "\u202a-\u202e\u2066-\u2069]")
#: What JSON and YAML writers leave raw but a terminal acts on: DEL, C1, separators, bidi.
_UNSAFE_IN_DATA = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                             "\u2066-\u2069]")
#: Characters with a meaning in Markdown or in the HTML GitHub lets through.
_MARKDOWN = re.compile(r"([\\`*_\[\]|<>&~#!])")
_ENTITIES = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def safe_line(text: str) -> str:
    """``text`` as one harmless line: control, separator and bidi characters escaped."""
    return _UNSAFE.sub(_escape, text)


def safe_lines(text: str) -> str:
    """Like :func:`safe_line` but newlines and tabs are kept (multi-line output)."""
    return _UNSAFE_KEEP_LINES.sub(_escape, text)


def _markdown(match: re.Match[str]) -> str:
    char = match.group()
    return _ENTITIES.get(char, "\\" + char)


def md_text(text: str) -> str:
    """``text`` as literal Markdown on one line, safe in a table cell too."""
    return _MARKDOWN.sub(_markdown, safe_line(text))


def html_text(text: str) -> str:
    """``text`` as one line inside HTML (``<summary>``), where Markdown escapes do not apply."""
    return html.escape(safe_line(text), quote=False)


def md_code(text: str) -> str:
    """``text`` as an inline code span on one line, whatever backticks or pipes it holds.

    Backslashes are literal inside a code span, so the fence is made longer than any run of
    backticks in the text instead; a pipe would still end a table cell, and ``<`` can't
    start HTML inside a code span.
    """
    line = safe_line(text).replace("|", "\\|")
    runs = [len(run) for run in re.findall("`+", line)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if line.startswith("`") or line.endswith("`") else ""
    return f"{fence}{pad}{line}{pad}{fence}"


def gh_data(text: str) -> str:
    """A workflow-command message, escaped the way the Actions runner unescapes it.

    Newlines become ``%0A`` (a line break inside the annotation, never a new command);
    other control characters are escaped as in :func:`safe_line`.
    """
    return safe_lines(text).replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def gh_property(text: str) -> str:
    """A workflow-command property value (``file``, ``title``): also ``:`` and ``,``."""
    return gh_data(text).replace(":", "%3A").replace(",", "%2C")


def clip(text: str, limit: int = 100) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis (a hostile value may be huge)."""
    return text if len(text) <= limit else text[:limit - 1] + "…"


def has_unsafe(text: str) -> bool:
    """True when ``text`` holds a character :func:`safe_line` would escape."""
    return _UNSAFE.search(text) is not None


def _unicode_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escape_in_strings(text: str) -> str:
    r"""JSON (or double-quoted YAML) text with DEL, C1, separators and bidi as ``\uNNNN``.

    Those characters can only stand inside strings there, where ``\uNNNN`` means the same
    character: the data is unchanged. The writers leave them raw; a terminal acts on them.
    """
    return _UNSAFE_IN_DATA.sub(_unicode_escape, text)


#: A line that GitHub would read as a workflow command: the runner trims leading whitespace
#: (colour codes before it are taken too, so that the plain text of a line is safe as well).
_COMMAND_START = re.compile(r"(?m)^((?:[^\S\n]|\x1b\[[0-9;]*m)*)::")


def defuse_commands(text: str) -> str:
    r"""Lines of ``text`` that would start with ``::`` get their first colon as ``\x3a``.

    A name can only reach a line start by wrapping (a long message folded at a space), so
    this is for whole lines of wrapped, human-readable output such as the table.
    """
    return _COMMAND_START.sub(lambda match: f"{match.group(1)}\\x3a:", text)


def starts_command(text: str) -> bool:
    """True when ``text`` would start a workflow command at the start of a line."""
    return _COMMAND_START.match(text) is not None
