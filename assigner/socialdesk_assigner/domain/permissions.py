"""Who may act on which ticket.

- L1 and L2 (the working levels) act on their own tickets and on the unowned queue of
  their brands;
- L3 brand leads and L4 brand managers act on every ticket of their brands;
- TMT acts on every ticket.

Anyone sees every ticket of their brands (TMT: of every brand). Levels rank by the
contract's :data:`~socialdesk_schemas.LADDER`.

Usage::

    check_may_act(agent, ticket)  # raises Forbidden with the reason
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from socialdesk_assigner.domain.errors import Forbidden
from socialdesk_runtime.config import Agent
from socialdesk_schemas import LADDER, Level

if TYPE_CHECKING:
    from socialdesk_assigner.domain.ticket import Ticket

__all__ = ["check_may_act", "may_see", "rank"]

_BRAND_WIDE: Level = "L3"
_EVERYWHERE: Level = "TMT"


def rank(level: Level) -> int:
    """A level's place on the ladder, L1 lowest."""
    return LADDER.index(level)


def may_see(agent: Agent, ticket: Ticket) -> bool:
    return rank(agent.level) >= rank(_EVERYWHERE) or ticket.brand in agent.brands


def check_may_act(agent: Agent, ticket: Ticket) -> None:
    """Raise :class:`Forbidden` unless ``agent`` may work ``ticket`` (reply, resolve, claim)."""
    if rank(agent.level) >= rank(_EVERYWHERE):
        return
    if ticket.brand not in agent.brands:
        raise Forbidden("this ticket belongs to a brand you do not work for")
    if rank(agent.level) >= rank(_BRAND_WIDE) or ticket.agent_id in (None, agent.id):
        return
    raise Forbidden("ticket is owned by another agent; only its owner or a brand lead may act on it")
