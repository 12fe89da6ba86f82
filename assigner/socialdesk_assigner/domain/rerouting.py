"""Words that arrive after their ticket was routed (see :mod:`~socialdesk_assigner.domain.keywords`).

Usage::

    step = late_words(ticket, text, rotation=rotation, config=config, now=now)  # None: no change
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from socialdesk_assigner.domain import facts
from socialdesk_assigner.domain.keywords import fits, matching_rules, raised_priority
from socialdesk_assigner.domain.routing import Rotation, agents_for, pick_agent
from socialdesk_assigner.domain.ticket import Step, Ticket
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_schemas import Event

__all__ = ["late_words"]


def late_words(
    ticket: Ticket, text: str, *, rotation: Rotation, config: SocialdeskConfig, now: datetime
) -> Step | None:
    """Keyword rules applied to words that arrived after the ticket was routed.

    Only a customer-service ticket nobody has answered yet, open in the queue or assigned:
    its priority is raised as a rule says, and if a rule asks for a skill or a level its
    owner lacks, it goes to an available agent who has it, under capacity, by the same
    rotation as routing (the owner keeps it if nobody fits); an unowned ticket gets one if
    anyone fits. ``None``: nothing to change."""
    if ticket.queue != "cx" or ticket.status not in ("open", "assigned") or ticket.first_response_at:
        return None
    rules = matching_rules(config, text)
    if not rules:
        return None
    changed = replace(ticket, priority=raised_priority(config, text, ticket.priority))
    routed = [r for r in rules if r.skill is not None or r.level is not None]
    owner = next((a for a in config.agents if a.id == ticket.agent_id), None)
    pick = None
    if routed and not (owner is not None and any(fits(owner, r) for r in routed)):
        candidates = [
            a
            for a in agents_for(config, ticket.brand, online=rotation.online)
            if a.id != ticket.agent_id and any(fits(a, r) for r in routed)
        ]
        pick = pick_agent(
            candidates, last_agent_id=rotation.cursor.get(ticket.brand), open_load=rotation.load
        )
    raised: tuple[Event, ...] = ()
    if changed.priority != ticket.priority:
        raised = (
            facts.priority_raised(ticket, changed, facts.envelope(changed, now), reason="keyword rule"),
        )
    if pick is None:
        return None if changed == ticket else Step(changed, raised, "keyword_priority")
    rotation.load[pick.agent.id] = rotation.load.get(pick.agent.id, 0) + 1
    if owner is not None:
        rotation.load[owner.id] = max(0, rotation.load.get(owner.id, 0) - 1)
    moved = replace(changed, status="assigned", agent_id=pick.agent.id, last_activity_at=now)
    event = facts.handed(
        ticket, moved, pick.agent, now, reason="reassigned" if owner is not None else "round_robin"
    )
    return Step(moved, (*raised, event), "keyword_reroute")
