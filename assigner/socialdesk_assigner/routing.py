"""Who gets a CX ticket (pure functions: no IO, unit-tested with plain values)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from socialdesk_runtime.config import Agent

#: The levels that work tickets first; leads (L3) and managers (L4) are escalation rungs.
WORKING_LEVELS = ("L1", "L2")


@dataclass(frozen=True, slots=True)
class Pick:
    agent: Agent
    reason: str  # "same_customer" | "round_robin"


def pick_agent(
    candidates: Sequence[Agent],
    *,
    last_agent_id: str | None,
    open_load: Mapping[str, int],
    previous_owner_id: str | None = None,
) -> Pick | None:
    """The agent for a new ticket, or ``None`` when nobody eligible has capacity.

    Same customer, same agent (seed 003: agent consistency) when that agent is online
    and under capacity; otherwise round robin in configuration order, starting after
    the last agent picked for the brand, skipping agents at their ``max_open_tickets``.
    """
    available = [a for a in candidates if open_load.get(a.id, 0) < a.max_open_tickets]
    if not available:
        return None
    if previous_owner_id is not None:
        for agent in available:
            if agent.id == previous_owner_id:
                return Pick(agent, "same_customer")
    order = [a.id for a in candidates]
    start = order.index(last_agent_id) + 1 if last_agent_id in order else 0
    rotated = candidates[start:] + candidates[:start]
    for agent in rotated:
        if agent in available:
            return Pick(agent, "round_robin")
    return None  # pragma: no cover - available is a non-empty subset of candidates
