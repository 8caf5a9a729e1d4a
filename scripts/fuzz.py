"""Fuzz the CLI: ``python3 scripts/fuzz.py --cases 20000 --seed 7 [--jobs 2]``.

The same cases as tests/test_fuzz.py (tests/fuzzing.py), as many as asked, in parallel
processes; prints the speed and every failure (exit 1 when there is one).
"""

from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import fuzzing


def _slice(job: tuple[int, int, int]) -> list[fuzzing.Failure]:
    seed, start, count = job
    return fuzzing.fuzz(count, seed, start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20261201)
    parser.add_argument("--start", type=int, default=0, help="first case number")
    parser.add_argument("--jobs", type=int, default=1, help="processes")
    args = parser.parse_args()
    step = 100
    jobs = [(args.seed, start, min(step, args.start + args.cases - start))
            for start in range(args.start, args.start + args.cases, step)]
    began = time.perf_counter()
    failures: list[fuzzing.Failure] = []
    done = 0
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for (_, _, count), found in zip(jobs, pool.map(_slice, jobs), strict=True):
            done += count
            failures += found
            for failure in found:
                print(f"FAIL case {failure.case}: {failure.problem}\n  {failure.args}\n"
                      f"  {failure.stderr[-500:]!r}", flush=True)
            elapsed = time.perf_counter() - began
            print(f"{done}/{args.cases} cases, {len(failures)} failure(s), "
                  f"{done / elapsed:.1f} cases/s", file=sys.stderr, flush=True)
    elapsed = time.perf_counter() - began
    print(f"{args.cases} cases (seed {args.seed}) in {elapsed:.0f} s "
          f"({args.cases / elapsed:.1f} cases/s): {len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
