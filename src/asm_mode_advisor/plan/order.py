"""The order of the move: callers of a waypoint's L7 policy move first, from the traffic graph.

A client on sidecars skips the destination's waypoint (``rules/traffic.py``, AMA430), so while
namespaces move one after another, a namespace whose waypoint enforces JWT or authorization
must not move before the namespaces that call it: they go in an earlier wave, or in the
same one when they call each other.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from asm_mode_advisor.plan.model import MoveOrder, Wave
from asm_mode_advisor.rules import Finding
from asm_mode_advisor.rules.traffic import policy_services
from asm_mode_advisor.traffic.graph import Call, TrafficEvidence
from asm_mode_advisor.traffic.waves import order

#: Reasons listed per ordered pair before "and N more".
SHOWN = 5


def move_order(planned: Sequence[str], staying: Sequence[str], findings: Sequence[Finding],
               traffic: TrafficEvidence | None) -> MoveOrder:
    """Waves for the ``planned`` namespaces, and the ``staying`` callers nothing can order."""
    policies = policy_services(findings)
    moving = set(planned)
    pairs: dict[tuple[str, str], list[Call]] = defaultdict(list)
    behind: dict[tuple[str, str], list[Call]] = defaultdict(list)
    calls = traffic.graph.sorted_calls() if traffic is not None else []
    for call in calls:
        callee = call.destination_namespace
        if not call.crosses_namespaces or callee not in moving or callee not in policies:
            continue
        services = policies[callee]
        if services is not None and call.destination_service and (
                call.destination_service not in services):
            continue
        if call.source_namespace in moving:
            pairs[(call.source_namespace, callee)].append(call)
        elif call.source_namespace in staying:
            behind[(call.source_namespace, callee)].append(call)
    waves = order(planned, pairs)
    evidence = "none" if traffic is None else (
        traffic.evidence if calls or traffic.measured else "none")
    return MoveOrder(
        waves=[Wave(number=n, namespaces=list(names))
               for n, names in enumerate(waves.waves, start=1)],
        reasons=[_reason(caller, callee, found, waves.wave_of(caller) == waves.wave_of(callee))
                 for (caller, callee), found in sorted(pairs.items())],
        together=[list(pair) for pair in waves.together],
        left_behind=[f"{caller} stays on sidecars and calls {_services(found)} in {callee}, "
                     f"whose waypoint enforces L7 policy: its calls skip that policy (AMA430)"
                     for (caller, callee), found in sorted(behind.items())],
        evidence=evidence)


def _reason(caller: str, callee: str, calls: list[Call], together: bool) -> str:
    how = "moves with" if together else "moves before"
    return (f"{caller} {how} {callee}: it calls {_services(calls)}, whose waypoint will "
            f"enforce L7 policy; a caller still on sidecars would skip it"
            + (" (they call each other, so they move in one wave)" if together else ""))


def _services(calls: list[Call]) -> str:
    names = sorted({c.destination_service for c in calls if c.destination_service})
    shown = ", ".join(names[:SHOWN]) + (f" and {len(names) - SHOWN} more"
                                        if len(names) > SHOWN else "")
    return shown or "its services"
