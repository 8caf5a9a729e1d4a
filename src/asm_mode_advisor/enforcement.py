"""Who enforces a route or policy: the proxy that applies it today and the one after the move.

Every L7-ish object (route, traffic policy, authentication, authorization, telemetry,
extension) is applied by some proxy. Sidecar mode has a client sidecar, a server sidecar and
the gateways; ambient has ztunnel, waypoints and the gateways. Rules attach an
:class:`Enforcement` to their findings, and the verdict, the gate and the plan read it rather
than guessing from the object's kind.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import ConfigDict
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass


class Enforcer(StrEnum):
    """A proxy that can apply configuration, or nobody."""

    CLIENT_SIDECAR = "client-sidecar"
    SERVER_SIDECAR = "server-sidecar"
    GATEWAY = "gateway"  # an ingress or egress gateway's own Envoy, in either mode
    ZTUNNEL = "ztunnel"
    WAYPOINT = "waypoint"
    EGRESS_WAYPOINT = "egress-waypoint"  # a waypoint bound to a ServiceEntry (egress)
    NOBODY = "nobody"


class Change(StrEnum):
    """What the move does to the object's effect, as written."""

    SAME = "same"
    STRICTER = "stricter"  # denies calls that are allowed today (an outage risk)
    LOOSER = "looser"  # allows calls that are denied today (a security regression)
    NOT_ENFORCED = "notEnforced"  # nobody applies it any more

    @property
    def weakens(self) -> bool:
        """True when the move lets through what is stopped today (looser or not enforced)."""
        return self in (Change.LOOSER, Change.NOT_ENFORCED)


_CONFIG = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


@dataclass(frozen=True, slots=True, kw_only=True, config=_CONFIG)
class Enforcement:
    """Where an object takes effect today and after its namespace moves, and the change.

    ``after_move`` describes the object *as written* once the namespace runs the recommended
    mode (a selector policy stays a selector policy): the plan's fix is a separate step.
    """

    today: Enforcer
    after_move: Enforcer
    change: Change
    #: One phrase that says what changes, e.g. "its HTTP-only rules are dropped".
    detail: str = ""

    def line(self) -> str:
        """One line for every text format: ``today X -> after the move Y (change)``."""
        text = f"enforced today by {self.today}, after the move by {self.after_move}"
        verdict = "no change" if self.change is Change.SAME else {
            Change.STRICTER: "stricter", Change.LOOSER: "looser",
            Change.NOT_ENFORCED: "not enforced"}[self.change]
        text += f": {verdict}"
        return f"{text} ({self.detail})" if self.detail else text


_INTERNED: dict[Enforcement, Enforcement] = {}
#: Distinct enforcements kept for sharing; past it, new ones are simply not shared.
MAX_INTERNED = 4096


def interned(enforcement: Enforcement) -> Enforcement:
    """One shared object per distinct enforcement: thousands of policies share a handful."""
    found = _INTERNED.get(enforcement)
    if found is not None:
        return found
    if len(_INTERNED) < MAX_INTERNED:
        _INTERNED[enforcement] = enforcement
    return enforcement


def same(where: Enforcer, detail: str = "") -> Enforcement:
    """An object the same proxy applies before and after the move (a gateway's policy)."""
    return Enforcement(today=where, after_move=where, change=Change.SAME, detail=detail)
