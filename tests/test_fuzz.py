"""The fuzzer as a test: a bounded, seeded run over every format and command.

``ASM_FUZZ_CASES`` (and ``ASM_FUZZ_SEED``) make it longer, as the nightly run does;
``python3 scripts/fuzz.py --cases 20000`` runs it outside pytest and reports the speed.
"""

from __future__ import annotations

import os
import random

import fuzzing

CASES = int(os.environ.get("ASM_FUZZ_CASES", "200"))
SEED = int(os.environ.get("ASM_FUZZ_SEED", "20261201"))


def test_bad_input_never_loses_good_input_nor_reaches_a_screen_raw() -> None:
    failures = fuzzing.fuzz(CASES, SEED)
    assert not failures, "\n".join(
        f"case {f.case} (seed {SEED}): {f.problem}\n  {f.args}\n  {f.stderr[-500:]}"
        for f in failures[:10])


def test_every_mutator_changes_its_input_and_the_fuzzer_sees_a_bad_line() -> None:
    rng = random.Random(1)
    example = fuzzing.EXAMPLES[0].read_bytes()
    for mutator in fuzzing.MUTATORS:
        assert any(mutator(example, rng) != example for _ in range(5)), mutator.__name__
    # The checks themselves: an injected line or a raw escape is caught, ours pass.
    assert fuzzing._check_stderr("asm-advisor: a.yaml:1: ok\n") is None
    assert fuzzing._check_stderr("asm-advisor: x\n::error::pwned\n") is not None
    assert fuzzing._check_stderr("asm-advisor: a\x1b[2Jb\n") is not None
    assert fuzzing._check_stdout("::error title=x::m\n", "github") is None
    assert fuzzing._check_stdout("| ns |\n::add-mask::x\n", "markdown") is not None
