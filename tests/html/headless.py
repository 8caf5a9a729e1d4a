"""Debian's Chromium, headless and offline: a page's DOM after its scripts, a screenshot, and
the console lines it logged; plus a stdlib PNG decoder to look at the screenshot's colours.

Console errors are read two ways, both required: the page's own recorder (``window.onerror``
and ``console.error`` into ``body[data-errors]``, set by the last script, which also sets
``data-ready``: proof every script ran), and Chromium's ``--enable-logging=stderr`` lines
tagged ``CONSOLE``, which also catch what the page cannot see (a resource blocked by the
Content-Security-Policy, a syntax error in the recorder itself). The pages log nothing, so
any ``CONSOLE`` line is a failure.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path

INSTALL = "apt-get install -y chromium (as root; scripts/test.sh does)"
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--mute-audio",
         # The network is off: every host resolves to nothing and every proxy is refused.
         "--proxy-server=127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND",
         "--enable-logging=stderr", "--v=0", "--window-size=1400,1000")
CONSOLE = re.compile(r":CONSOLE[:\(\]].*")


def find_chromium() -> str | None:
    """``ASM_ADVISOR_CHROMIUM``, else ``chromium`` on the PATH (None: not installed)."""
    named = os.environ.get("ASM_ADVISOR_CHROMIUM")
    if named:
        return named if os.access(named, os.X_OK) else None
    return shutil.which("chromium") or shutil.which("chromium-browser")


@dataclass(frozen=True)
class Loaded:
    """What Chromium made of a page: its DOM after the scripts ran, and its console lines."""

    dom: str
    console: list[str]


def _run(binary: str, page: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    with tempfile.TemporaryDirectory(prefix="asm-chromium-") as profile:
        return subprocess.run([binary, *FLAGS, f"--user-data-dir={profile}", *extra,
                               page.resolve().as_uri()],
                              capture_output=True, text=True, timeout=180, check=False)


def load(binary: str, page: Path) -> Loaded:
    """The page's DOM (``--dump-dom``) and every console line it logged."""
    done = _run(binary, page, "--dump-dom")
    assert done.returncode == 0, done.stderr[-2000:]
    return Loaded(done.stdout, CONSOLE.findall(done.stderr))


def screenshot(binary: str, page: Path, png: Path) -> bytes:
    """A PNG of the page's first screen."""
    done = _run(binary, page, f"--screenshot={png}")
    assert done.returncode == 0 and png.is_file(), done.stderr[-2000:]
    return png.read_bytes()


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def pixels(png: bytes) -> tuple[int, int, list[tuple[int, int, int]]]:
    """Width, height and RGB pixels of an 8-bit RGB or RGBA, non-interlaced PNG."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    position, data = 8, b""
    width = height = channels = 0
    while position < len(png):
        length, kind = struct.unpack(">I4s", png[position:position + 8])
        body = png[position + 8:position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour)
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            data += body
    raw = zlib.decompress(data)
    stride = width * channels
    previous = bytearray(stride)
    out: list[tuple[int, int, int]] = []
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            corner = previous[i - channels] if i >= channels else 0
            add = (0, left, up, (left + up) // 2, _paeth(left, up, corner))[kind]
            line[i] = (line[i] + add) & 0xFF
        out += [(line[i], line[i + 1], line[i + 2]) for i in range(0, stride, channels)]
        previous = line
    return width, height, out
