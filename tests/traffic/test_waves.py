"""Wave order: callers of a waypoint namespace move first, cycles move together."""

from __future__ import annotations

import itertools
import random

from asm_mode_advisor.traffic.waves import order


def test_no_constraints_is_one_wave() -> None:
    assert order(["b", "a"], []).waves == (("a", "b"),)


def test_callers_move_first() -> None:
    waves = order(["web", "shop", "db", "ops"], [("web", "shop"), ("shop", "db")])
    assert waves.waves == (("ops", "web"), ("shop",), ("db",))
    assert waves.wave_of("db") == 3 and waves.wave_of("missing") == 0
    assert waves.together == ()


def test_cycles_move_together_and_are_named() -> None:
    waves = order(["a", "b", "c", "d"], [("a", "b"), ("b", "a"), ("b", "c"), ("d", "a")])
    assert waves.waves == (("d",), ("a", "b"), ("c",))
    assert waves.together == (("a", "b"), ("b", "a"))


def test_namespaces_that_do_not_move_are_ignored() -> None:
    assert order(["shop"], [("web", "shop"), ("shop", "shop")]).waves == (("shop",),)


def test_every_constraint_holds_on_random_graphs() -> None:
    rng = random.Random(14)
    for _ in range(200):
        names = [f"n{i}" for i in range(rng.randint(1, 25))]
        pairs = [(rng.choice(names), rng.choice(names)) for _ in range(rng.randint(0, 40))]
        waves = order(names, pairs)
        assert sorted(n for wave in waves.waves for n in wave) == sorted(names)
        cycle = set(waves.together)
        for caller, callee in pairs:
            if caller == callee:
                continue
            if (caller, callee) in cycle:
                assert waves.wave_of(caller) == waves.wave_of(callee)
            else:
                assert waves.wave_of(caller) < waves.wave_of(callee)


def test_long_chains_need_no_recursion() -> None:
    names = [f"n{i:05}" for i in range(20_000)]
    waves = order(names, list(itertools.pairwise(names)))
    assert len(waves.waves) == 20_000 and waves.waves[0] == ("n00000",)
