"""Where a classified message goes, and which agent gets a CX ticket.

Marketing messages go to the marketing team, noise is dismissed, a plain question with a
saved answer is answered and resolved, every other CX ticket goes to an agent of its
brand: the customer's previous agent if online with room (seed 003: agent consistency),
else round robin over the online working agents (L1, L2) in configuration order,
skipping those at ``max_open_tickets``; with nobody left it waits in the queue.

Usage::

    rotation = Rotation(config, load=..., last_owner=..., cursor=...)
    step = route(current_ticket_or_none, message, rotation=rotation, config=config, now=now)
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from socialdesk_assigner.domain import facts
from socialdesk_assigner.domain.keywords import raised_priority
from socialdesk_assigner.domain.replies import auto_reply_text
from socialdesk_assigner.domain.ticket import (
    Step,
    Ticket,
    assign,
    auto_answer,
    dismiss,
    follow_up,
    open_ticket,
    queue,
    reopen,
    route_to_marketing,
)
from socialdesk_runtime.config import Agent, SocialdeskConfig
from socialdesk_schemas import Level, MessageClassified

__all__ = [
    "WORKING_LEVELS",
    "Needs",
    "Pick",
    "Rotation",
    "agents_for",
    "pick_agent",
    "preferred",
    "reopened_since",
    "route",
    "working_agents",
]

#: The levels that work tickets first; leads (L3) and managers (L4) are escalation rungs.
WORKING_LEVELS: tuple[Level, ...] = ("L1", "L2")
NOBODY_FREE = "no eligible agent online with capacity"


@dataclass(frozen=True, slots=True)
class Pick:
    agent: Agent
    reason: Literal["same_customer", "round_robin"]


def agents_for(
    config: SocialdeskConfig,
    brand: str,
    *,
    levels: Sequence[Level] | None = None,
    online_only: bool = True,
    online: Collection[str] | None = None,
) -> list[Agent]:
    """The brand's agents in file order (the order round robin follows), optionally by level.

    ``online`` is who is available now (presence and shifts); ``None``: as configured."""
    config.brand(brand)  # an unknown brand is a bug upstream, not an empty team: KeyError
    return [
        agent
        for agent in config.agents
        if brand in agent.brands
        and (levels is None or agent.level in levels)
        and (not online_only or (agent.online if online is None else agent.id in online))
    ]


def working_agents(
    config: SocialdeskConfig, brand: str, online: Collection[str] | None = None
) -> list[Agent]:
    """Who new CX tickets of ``brand`` may go to: its available L1 and L2 agents."""
    return agents_for(config, brand, levels=WORKING_LEVELS, online=online)


@dataclass(frozen=True, slots=True)
class Needs:
    """What a ticket asks of its agent, beyond the brand (the configured routing rules)."""

    category: str = ""
    priority: str = ""
    platform: str = ""
    kind: str = ""
    language: str = ""
    followers: int | None = None
    text: str = ""


def preferred(
    config: SocialdeskConfig, brand: str, needs: Needs, online: Collection[str] | None
) -> list[list[Agent]]:
    """Candidate pools for a ticket, best first; the last is every available working agent.

    Specialists first for safety, legal and influencer posts (seed 002); then the
    live-chat pool for a Messenger DM (seed 000); then agents with a keyword rule's skill
    or level; then those who speak the customer's language.
    """
    desk = config.desk
    everyone = agents_for(config, brand, online=online)
    by_id = {a.id: a for a in everyone}
    working = [a for a in everyone if a.level in WORKING_LEVELS]
    pools: list[list[Agent]] = []
    special: list[str] = []
    if needs.category == "safety":
        special = desk.specialists.safety
    elif needs.category == "legal":
        special = desk.specialists.legal
    elif needs.followers is not None and needs.followers >= desk.specialists.influencer_followers:
        special = desk.specialists.influencer
    if special:
        pools.append([by_id[i] for i in special if i in by_id])
    if needs.platform == "messenger" and needs.kind == "dm":
        pools.append([a for a in working if desk.live_chat_skill in a.skills])
    text = needs.text.casefold()
    for rule in config.routing.keyword_rules:
        if text and any(k.casefold() in text for k in rule.keywords):
            pools.append(
                [
                    a
                    for a in everyone
                    if (rule.skill is None or rule.skill in a.skills)
                    and (rule.level is None or a.level == rule.level)
                    and (rule.skill is not None or rule.level is not None)
                ]
            )
    base = needs.language.split("-", 1)[0]
    if base:
        pools.append([a for a in working if base in a.languages or needs.language in a.languages])
    pools.append(working)
    return [p for p in pools if p]


def pick_agent(
    candidates: Sequence[Agent],
    *,
    last_agent_id: str | None,
    open_load: Mapping[str, int],
    previous_owner_id: str | None = None,
) -> Pick | None:
    """The agent for a new ticket, or ``None`` when nobody eligible has capacity.

    Same customer, same agent when that agent is a candidate under capacity; otherwise
    round robin in candidate order, starting after ``last_agent_id``, skipping agents at
    their ``max_open_tickets``.
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
    rotated = [*candidates[start:], *candidates[:start]]
    return next(Pick(agent, "round_robin") for agent in rotated if agent in available)


@dataclass
class Rotation:
    """What routing knows about the desk while it routes a batch, kept current as it picks.

    ``load`` is each agent's count of assigned tickets, ``last_owner`` the latest owner of
    each (brand, customer)'s tickets, ``cursor`` the last agent round robin picked per brand.
    """

    config: SocialdeskConfig
    load: dict[str, int]
    last_owner: dict[tuple[str, uuid.UUID], str]
    cursor: dict[str, str]
    online: Collection[str] | None = None
    """Who is available now (presence and shifts); ``None``: as configured."""
    moved: set[str] = field(default_factory=set)
    """Brands whose cursor this rotation moved (to be saved)."""

    def choose(self, brand: str, customer_id: uuid.UUID, needs: Needs | None = None) -> Pick | None:
        """Pick the owner of a new CX ticket and count it against them: from the first
        candidate pool (:func:`preferred`) with someone under capacity."""
        pick = None
        for pool in preferred(self.config, brand, needs or Needs(), self.online):
            pick = pick_agent(
                pool,
                last_agent_id=self.cursor.get(brand),
                open_load=self.load,
                previous_owner_id=self.last_owner.get((brand, customer_id)),
            )
            if pick is not None:
                break
        if pick is None:
            return None
        self.load[pick.agent.id] = self.load.get(pick.agent.id, 0) + 1
        self.last_owner[(brand, customer_id)] = pick.agent.id
        if pick.reason == "round_robin":
            self.cursor[brand] = pick.agent.id
            self.moved.add(brand)
        return pick


def route(
    current: Ticket | None,
    message: MessageClassified,
    *,
    rotation: Rotation,
    config: SocialdeskConfig,
    now: datetime,
    texts: Mapping[uuid.UUID, str] | None = None,
) -> Step:
    """What a classified message does to its ticket (``None``: the message opens it)."""
    if current is not None and current.status != "resolved":
        return follow_up(current, message, now=now)
    ticket = open_ticket(message) if current is None else reopen(current, message)
    if message.queue == "marketing":
        return route_to_marketing(ticket, message, now=now)
    if message.queue == "ignore":
        return dismiss(ticket, message, now=now)
    # Only a first message is auto-answered: a customer writing back after one wants a person.
    if current is None and message.auto_reply is not None:
        text = auto_reply_text(
            config,
            message.auto_reply,
            brand=ticket.brand,
            language=message.language,
            platform=ticket.platform,
        )
        if text is not None:
            return auto_answer(ticket, message, text=text, now=now)
    words = (texts or {}).get(message.message_id, "")
    ticket = replace(ticket, priority=raised_priority(config, words, ticket.priority))
    needs = Needs(
        category=message.category,
        priority=ticket.priority,
        platform=message.platform,
        kind=message.kind,
        language=message.language,
        followers=message.author_followers,
        text=words,
    )
    pick = rotation.choose(ticket.brand, ticket.customer_id, needs)
    step = (
        queue(ticket, message, reason=NOBODY_FREE, now=now)
        if pick is None
        else assign(ticket, pick.agent, reason=pick.reason, message=message, now=now)
    )
    if current is not None:  # a resolved ticket the customer wrote on again
        envelope = facts.envelope(step.ticket, now, message)
        reopened = facts.reopened(
            step.ticket, envelope, "customer_wrote", at=reopened_since(current, message)
        )
        return Step(step.ticket, (reopened, *step.events), step.transition)
    return step


def reopened_since(resolved: Ticket, message: MessageClassified) -> datetime:
    """Since when the customer whose ``message`` reopens the ``resolved`` ticket has waited:
    the new episode's start, from which sla-monitor arms its clocks and inbox replies count
    (decision 0305 addendum). When the customer wrote, as a new ticket's clocks start when
    its first message was received, not when the classifier got to it; but never before the
    resolve (a message received before it, routed after, lagging), and then an instant
    after it, so a resolution read late by sla-monitor is never taken for this episode's."""
    if resolved.resolved_at is None or message.received_at > resolved.resolved_at:
        return message.received_at
    return resolved.resolved_at + _INSTANT


_INSTANT = timedelta(microseconds=1)
