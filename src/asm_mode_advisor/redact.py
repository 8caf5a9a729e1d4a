"""The one place that keeps credentials out of messages: tokens, passwords, keys, userinfo.

Every message that may hold a server URL, a header or a credential plugin's words goes through
:func:`safe_message` (``ClusterError`` and ``KubeconfigError`` do it when they are built, the
CLI's last-resort handler too). Known secrets are registered with :func:`remember` as soon as a
kubeconfig's user section is read; patterns catch what was never registered (userinfo in a
URL, ``Bearer``/``Basic`` header values).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable

from asm_mode_advisor.text import safe_line

#: Shorter values are not registered: replacing them would garble every message.
MIN_SECRET_LENGTH = 4
MASK = "***"

#: Words of an ``Authorization`` value that are not the secret part.
_SCHEMES = frozenset({"Bearer", "Basic"})
_SECRETS: set[str] = set()
_LOCK = threading.Lock()
#: ``scheme://user:password@host`` -> ``scheme://***@host``.
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^/?#\s@]+@")
#: ``Bearer xyz`` / ``Basic xyz`` as headers (and their reprs) print them.
_AUTH_VALUE = re.compile(r"\b(Bearer|Basic)\s+[^\s'\",;]+")


def remember(values: Iterable[str]) -> None:
    """Register secret values (and their lines and escaped forms) to be masked everywhere."""
    found: set[str] = set()
    for value in values:
        escaped = value.encode("unicode_escape").decode("ascii")
        after = value.partition("=")[2]  # ``--token=xyz`` in a plugin's arguments
        for form in (value, value.strip(), escaped, safe_line(value), after, *value.split()):
            if len(form) >= MIN_SECRET_LENGTH and form not in _SCHEMES:
                found.add(form)
    with _LOCK:
        _SECRETS.update(found)


def redact(text: str) -> str:
    """``text`` with userinfo, authorization values and every registered secret masked."""
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    text = _AUTH_VALUE.sub(rf"\1 {MASK}", text)
    with _LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)  # longest first: no partial leftovers
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def safe_message(text: object) -> str:
    """One harmless line without credentials: redacted, controls escaped, redacted again.

    The second pass catches a secret that only shows once its control characters are escaped.
    """
    return redact(safe_line(redact(str(text))))
