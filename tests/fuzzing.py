"""A seeded fuzzer: bad input never loses good input, and nothing hostile reaches a screen.

Each case takes an example manifest, mutates it (byte flips, truncation, hostile names, deep
nesting, alias bombs, huge numbers, wrong types, duplicate keys, hostile file names, ...),
puts it in a folder beside an untouched good file, and runs one command on the folder:
``analyze`` (JSON, plus one other format), ``analyze`` with a mutated config or baseline,
``diff`` against a mutated report, or ``plan --out``. Any exit code but 0/1/2, an
"internal error" or traceback, a raw control character or a line not ours on stderr, an
injected workflow command on stdout, or a missing good namespace is a failure.

Used by tests/test_fuzz.py (a few hundred cases) and scripts/fuzz.py (any number).
"""

from __future__ import annotations

import json
import random
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from typer.testing import CliRunner

from asm_mode_advisor.cli import app

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*/*.yaml"))
FORMATS = ("table", "yaml", "sarif", "markdown", "github", "html", "codequality")
#: Script and style elements the HTML page has of its own: any more came from the input.
HTML_ELEMENTS = ("<script", "<style", "<iframe", "<img", "<link")
GOOD_NAMESPACE = "fuzz-good"
GOOD = f"""\
apiVersion: v1
kind: Namespace
metadata:
  name: {GOOD_NAMESPACE}
---
apiVersion: v1
kind: Service
metadata:
  name: api
  namespace: {GOOD_NAMESPACE}
spec:
  selector: {{app: api}}
  ports: [{{port: 8080, name: http}}]
"""
#: A config the mutations start from (no ``ignore`` entry that could drop the good namespace).
CONFIG = """\
failOn: warning
meshVersion: "1.26"
assumeMode: recommended
rules:
  disable: [AMA101]
  severity: {AMA102: note}
"""

#: Names and values that try to escape: markup, escapes, workflow commands, bidi, HTML.
HOSTILE = (
    "[/oops]", "[link=http://x]hi[/link]", "[bold red]x", "a\x1b[2Jb", "\x1b]0;title\x07",
    "x\n::error::pwned", "::add-mask::secret", "\r::warning::x", "%0A::error::x",
    "a|b`c<img src=x>", "\u202eevil", "a\u2028b\u2029c", "\x85next", "\x9b31m", "\x7f",
    "\x00nul", "<details>", "](http://x)", "&#x202E;", "line1\nline2", "\t\v\f", "café",
    "-" * 300, "{{x}}", "\\", "`", "*bold*", "\ufeff", "w " * 60 + "::error::folded",
    "\u00a0::notice::nbsp",
)
#: Raw characters no line of ours may hold (newline and tab are handled per output).
RAW = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e"
                 "\u2066-\u2069]")
GITHUB_LINE = re.compile(r"::(error|warning|notice) [^\n]*::[^\n]*")


def _yaml_string(text: str) -> str:
    """A double-quoted YAML scalar (JSON with ASCII escapes is one)."""
    return json.dumps(text)


def flip_bytes(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def truncate(data: bytes, rng: random.Random) -> bytes:
    return data[:rng.randrange(len(data) + 1)]


def hostile_name(data: bytes, rng: random.Random) -> bytes:
    text = data.decode("utf-8", "replace")
    keys = ("name", "namespace", "host", "app", "kind", "apiVersion")
    key = rng.choice(keys)
    value = _yaml_string(rng.choice(HOSTILE))
    text, count = re.subn(rf"(?m)^(\s*{key}:) .*$", lambda m: f"{m.group(1)} {value}", text,
                          count=rng.randint(1, 3))
    if not count:
        text += f"\nmetadata: {{name: {value}}}\n"
    return text.encode()


def hostile_annotation(data: bytes, rng: random.Random) -> bytes:
    value = _yaml_string(rng.choice(HOSTILE))
    key = rng.choice(("asm-advisor.io/ignore", "asm-advisor.io/ignore-reason",
                      "sidecar.istio.io/proxyCPU", _yaml_string(rng.choice(HOSTILE))))
    text = data.decode("utf-8", "replace")
    block = f"metadata:\n  annotations: {{{key}: {value}}}\n"
    return re.sub(r"(?m)^metadata:\n", lambda _: block, text, count=1).encode()


def deep_nesting(data: bytes, rng: random.Random) -> bytes:
    depth = rng.choice((100, 999, 1001, 5000, 50000))
    if rng.random() < 0.5:
        nest = "[" * depth + "]" * depth
    else:
        nest = "".join(f"\n{'  ' * i}a:" for i in range(min(depth, 3000))) + " 1"
    return data + f"\n---\nkind: ConfigMap\nx: {nest}\n".encode()


def alias_bomb(data: bytes, rng: random.Random) -> bytes:
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for level in "bcdefghi"[:rng.randint(2, 8)]:
        previous = chr(ord(level) - 1)
        lines.append(f"{level}: &{level} [" + ", ".join([f"*{previous}"] * 9) + "]")
    return data + ("\n---\n" + "\n".join(lines) + "\n").encode()


def huge_number(data: bytes, rng: random.Random) -> bytes:
    number = rng.choice(("9" * 5000, "1e999999", "-0x" + "f" * 500, "1" * 4301, ".inf"))
    text = data.decode("utf-8", "replace")
    text, count = re.subn(r"(?m)(:\s+)\d+\s*$", lambda m: f"{m.group(1)}{number}", text,
                          count=rng.randint(1, 3))
    return (text if count else text + f"\nreplicas: {number}\n").encode()


def wrong_type(data: bytes, rng: random.Random) -> bytes:
    value = rng.choice(("[1, {a: b}]", "{x: [1]}", "42", "null", "true", "''", "~", "[]"))
    lines = data.decode("utf-8", "replace").split("\n")
    keyed = [i for i, line in enumerate(lines) if re.match(r"^\s*[\w.-]+:", line)]
    for index in rng.sample(keyed, min(len(keyed), rng.randint(1, 3))):
        key = lines[index].split(":", 1)[0]
        lines[index] = f"{key}: {value}"
    return "\n".join(lines).encode()


def duplicate_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        if lines:
            index = rng.randrange(len(lines))
            lines.insert(index, lines[index])
    return b"\n".join(lines)


def shuffle_lines(data: bytes, rng: random.Random) -> bytes:
    lines = data.split(b"\n")
    for _ in range(rng.randint(1, 4)):
        if len(lines) > 1:
            i, j = rng.randrange(len(lines)), rng.randrange(len(lines))
            lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


def junk(data: bytes, rng: random.Random) -> bytes:
    piece = rng.choice((b"\x00\x00", b"\xff\xfe", b"\xef\xbb\xbf", b"\n---\n", b"\t",
                        b"\n...\n", b"{", b"&x *x", b"!!python/object:os.system ls",
                        b"<<: *nope", b"? [a]\n: b", b"%YAML 9.9\n", b"\r"))
    at = rng.randrange(len(data) + 1)
    return data[:at] + piece + data[at:]


MUTATORS: tuple[Callable[[bytes, random.Random], bytes], ...] = (
    flip_bytes, truncate, hostile_name, hostile_name, hostile_annotation, deep_nesting,
    alias_bomb, huge_number, wrong_type, duplicate_lines, shuffle_lines, junk,
)


def mutate(data: bytes, rng: random.Random) -> bytes:
    """One to three mutations of ``data``."""
    for _ in range(rng.randint(1, 3)):
        data = rng.choice(MUTATORS)(data, rng)
    return data


def mutate_json(text: str, rng: random.Random) -> bytes:
    """A JSON report mutated as text or as data (wrong types, depth, huge numbers)."""
    choice = rng.randrange(5)
    if choice == 0:
        return flip_bytes(text.encode(), rng)
    if choice == 1:
        return truncate(text.encode(), rng)
    data = json.loads(text)
    if choice == 2:
        target = rng.choice(("namespaces", "reasons", "name", "fingerprint", "objects"))
        value = rng.choice(([], {}, 5, "x", None, [[1]], True, rng.choice(HOSTILE)))
        _replace_key(data, target, value, rng)
        return json.dumps(data).encode()
    if choice == 3:
        return json.dumps(data)[:-1].encode() + b', "deep": ' + b"[" * 100000 + b"]" * 100000 \
            + b"}"
    return json.dumps(data).replace('"line": 1', '"line": ' + "9" * 5000, 1).encode()


def _replace_key(data: object, key: str, value: object, rng: random.Random) -> None:
    if isinstance(data, dict):
        for name in list(data):
            if name == key and rng.random() < 0.7:
                data[name] = value
            else:
                _replace_key(data[name], key, value, rng)
    elif isinstance(data, list):
        for item in data:
            _replace_key(item, key, value, rng)


@dataclass
class Failure:
    """A case that broke a rule: how to reproduce it and what went wrong."""

    case: int
    args: list[str]
    problem: str
    stderr: str


def _file_name(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return re.sub("[/\x00]", "_", rng.choice(HOSTILE))[:100] + ".yaml"
    return "mutated.yaml"


def _check_stderr(stderr: str) -> str | None:
    for line in stderr.splitlines():
        if RAW.search(line) or "\t" in line:
            return f"raw control character on stderr: {line!r}"
        if not line.startswith("asm-advisor: "):
            return f"stderr line not ours: {line!r}"
    if "internal error" in stderr or "Traceback" in stderr:
        return "internal error"
    return None


def _check_stdout(stdout: str, output: str) -> str | None:
    if "Traceback" in stdout:
        return "traceback on stdout"
    if output == "codequality":
        try:
            json.loads(stdout)
        except ValueError:
            return "codequality output is not JSON"
    if output == "html":
        lowered = stdout.lower()
        extra = [tag for tag in HTML_ELEMENTS
                 if lowered.count(tag) != _HTML_BASELINE.get(tag, 0)]
        if extra:
            return f"html elements the page does not make itself: {extra}"
    for line in stdout.splitlines():
        if RAW.search(line):
            return f"raw control character on stdout ({output}): {line[:200]!r}"
        if output == "github" and not GITHUB_LINE.fullmatch(line):
            return f"not a workflow command: {line[:200]!r}"
        if output != "github" and line.lstrip().startswith("::"):
            return f"a line starting a workflow command ({output}): {line[:200]!r}"
    return None


def _html_baseline() -> dict[str, int]:
    """How many of each element the HTML page has when the input is plain."""
    result = CliRunner().invoke(app, ["analyze", str(ROOT / "examples" / "mixed-shop"),
                                      "-o", "html"])
    lowered = result.stdout.lower()
    return {tag: lowered.count(tag) for tag in HTML_ELEMENTS}


_HTML_BASELINE = _html_baseline()


class Fuzzer:
    """Runs cases in a scratch folder; ``run(case)`` returns the failures of one case."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.runner = CliRunner()
        self.scratch = Path(tempfile.mkdtemp(prefix="asm-fuzz-"))
        self.report_text = self._invoke(["analyze", str(ROOT / "examples" / "mixed-shop"),
                                         "-o", "json"])[1]

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _invoke(self, args: list[str]) -> tuple[int, str, str]:
        result = self.runner.invoke(app, args)
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            return 99, result.stdout, f"uncaught {type(result.exception).__name__}: " \
                                      f"{result.exception}"
        return result.exit_code, result.stdout, result.stderr

    def _judge(self, case: int, args: list[str], output: str,
               good: bool = True) -> list[Failure]:
        code, stdout, stderr = self._invoke(args)
        problems = []
        if code not in (0, 1, 2):
            problems.append(f"exit code {code}")
        problems += [p for p in (_check_stderr(stderr), _check_stdout(stdout, output)) if p]
        if good and output == "json" and code in (0, 1, 2):
            try:
                names = {v["name"] for v in json.loads(stdout)["namespaces"]}
            except (ValueError, KeyError, TypeError):
                problems.append("stdout is not a JSON report")
            else:
                if GOOD_NAMESPACE not in names:
                    problems.append("the good namespace is missing")
        elif good and output in ("table", "yaml", "markdown") and GOOD_NAMESPACE not in stdout:
            problems.append(f"the good namespace is missing ({output})")
        return [Failure(case, args, problem, stderr[-2000:]) for problem in problems]

    def run(self, case: int) -> list[Failure]:
        """One case: its own folder, a mutated file beside the good one, one command."""
        rng = random.Random(f"{self.seed}:{case}")
        folder = self.scratch / f"case-{case}"
        shutil.rmtree(folder, ignore_errors=True)
        inputs = folder / "in"
        inputs.mkdir(parents=True)
        (inputs / "good.yaml").write_text(GOOD, encoding="utf-8")
        example = rng.choice(EXAMPLES)
        (inputs / _file_name(rng)).write_bytes(mutate(example.read_bytes(), rng))
        try:
            return self._command(case, rng, folder, inputs)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _command(self, case: int, rng: random.Random, folder: Path,
                 inputs: Path) -> list[Failure]:
        kind = rng.choices(("analyze", "config", "baseline", "diff", "plan"),
                           weights=(6, 1, 1, 1, 1))[0]
        if kind == "config":
            config = folder / "config.yaml"
            config.write_bytes(mutate(CONFIG.encode(), rng))
            return self._judge(case, ["analyze", str(inputs), "-o", "json", "--config",
                                      str(config)], "json")
        if kind == "baseline":
            baseline = folder / "baseline.json"
            baseline.write_bytes(mutate_json(self.report_text, rng))
            return self._judge(case, ["analyze", str(inputs), "-o", "json", "--baseline",
                                      str(baseline)], "json")
        if kind == "diff":
            report = folder / "new.json"
            report.write_bytes(mutate_json(self.report_text, rng))
            old = folder / "old.json"
            old.write_text(self.report_text, encoding="utf-8")
            return self._judge(case, ["diff", str(old), str(report)], "diff", good=False)
        if kind == "plan":
            return self._judge(case, ["plan", str(inputs), "--out", str(folder / "plan")],
                               "plan", good=False)
        output = FORMATS[case % len(FORMATS)]
        return (self._judge(case, ["analyze", str(inputs), "-o", "json"], "json")
                + self._judge(case, ["analyze", str(inputs), "-o", output], output))


def fuzz(cases: int, seed: int, start: int = 0) -> list[Failure]:
    """Run ``cases`` cases from ``start`` with ``seed``; every failure found."""
    fuzzer = Fuzzer(seed)
    try:
        return [f for case in range(start, start + cases) for f in fuzzer.run(case)]
    finally:
        fuzzer.close()
