"""Keyword rules for words that arrive after their ticket was routed.

``MessageReceived`` and ``MessageClassified`` travel on two topics, so the classification
may be routed first, without the customer's words. When the words then arrive, the
tickets routed from them (and not answered yet) get the keyword rules applied
(:func:`~socialdesk_assigner.domain.rerouting.late_words`): one query finds them, in the
usual order it finds nothing, and without keyword rules it does not run at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from socialdesk_assigner.domain.keywords import matching_rules
from socialdesk_assigner.domain.rerouting import late_words
from socialdesk_assigner.domain.views import history_rows
from socialdesk_assigner.handlers.routing import rotation_for
from socialdesk_assigner.presence import Roster
from socialdesk_assigner.store import DeskStore, TicketStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas import MessageReceived

__all__ = ["apply_late_words"]


async def apply_late_words(
    events: Sequence[MessageReceived],
    uow: UnitOfWork,
    *,
    config: SocialdeskConfig,
    clock: Clock,
    roster: Roster,
) -> None:
    if not config.routing.keyword_rules:
        return
    worded = [e for e in events if e.text and matching_rules(config, e.text)]
    if not worded:
        return
    store = TicketStore(uow)
    routed = await store.routed_before_words([e.message_id for e in worded])
    # only the message that opened the ticket routed it (follow-ups never re-route)
    late = [(e, routed[e.message_id]) for e in worded if e.message_id in routed]
    late = [(e, t) for e, t in late if t.received_at == e.received_at]
    if not late:
        return
    now = clock.now()
    rotation = await rotation_for(store, config, roster, {t.brand for _, t in late}, now)
    changed = []
    lines: list[dict[str, Any]] = []
    for event, ticket in late:
        step = late_words(ticket, event.text or "", rotation=rotation, config=config, now=now)
        if step is None:
            continue
        changed.append(step.ticket)
        for emitted in step.events:
            uow.emit(emitted)
        lines += history_rows(step.events, now)
        lines.append(
            {
                "ticket_id": ticket.ticket_id,
                "at": now,
                "kind": "KeywordRuleApplied",
                "actor": None,
                "detail": f"words arrived after routing; priority={step.ticket.priority}"
                + (f"; to {step.ticket.agent_id}" if step.ticket.agent_id != ticket.agent_id else ""),
            }
        )
    await store.save(changed)
    await DeskStore(uow).add_history(lines)
