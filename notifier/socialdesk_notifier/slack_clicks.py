"""What a verified Slack button press does (issue 11 item 4).

In one transaction, with the ticket's facts locked: the click is recorded by Slack's
action ts (a double click or Slack's retry finds it and changes nothing more), judged
(:func:`~socialdesk_notifier.domain.clicks.judge_click`), and when allowed turned into an
event (``EscalationAcknowledged`` for sla-monitor, ``OwnershipRequested`` for the
assigner) plus a reply and a parent update in every thread of the ticket. The answer to
the person who clicked is always an ephemeral message.

Usage::

    text = await ClickHandler(uow_factory=..., config=..., clock=...).handle(click)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Final

from socialdesk_notifier.domain import Notification
from socialdesk_notifier.domain.alerts import state_change
from socialdesk_notifier.domain.cards import ACKNOWLEDGE, CLAIM, TAKE_OWNERSHIP, TicketContext
from socialdesk_notifier.domain.clicks import Action, TicketView, judge_click
from socialdesk_notifier.interactions import Click
from socialdesk_notifier.slack_store import SlackStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_schemas import Event
from socialdesk_schemas.outbound import EscalationAcknowledged, OwnershipRequested

__all__ = ["ClickHandler"]

PRODUCER: Final = "notifier"
_ACTIONS: Final[dict[str, Action]] = {
    ACKNOWLEDGE: "acknowledge",
    TAKE_OWNERSHIP: "take_ownership",
    CLAIM: "claim",
}


def _view(ctx: TicketContext | None) -> TicketView | None:
    if ctx is None:
        return None
    return TicketView(
        brand=ctx.brand,
        resolved=ctx.resolved,
        acknowledged_by=ctx.acknowledged_by,
        owner_agent_id=ctx.owner_agent_id,
    )


@dataclass(frozen=True)
class ClickHandler:
    uow_factory: UnitOfWorkFactory
    config: SocialdeskConfig
    clock: Clock

    async def handle(self, click: Click) -> str:
        """Act on one click; returns the ephemeral answer for the person who clicked."""
        action = _ACTIONS.get(click.action_id)
        if action is None:
            return "This button is not one of the desk's; nothing was changed."
        try:
            ticket_id = uuid.UUID(click.value)
        except ValueError:
            return "This button names no ticket the desk knows; nothing was changed."
        now = self.clock.now()
        async with self.uow_factory() as uow:
            store = SlackStore(uow)
            ctx = await store.context(ticket_id, for_update=True)
            required = (ctx.level if ctx and ctx.level and action != "claim" else None) or "L1"
            outcome = judge_click(
                action=action,
                slack_user_id=click.slack_user_id,
                ticket=_view(ctx),
                config=self.config,
                required_level=required,
            )
            refusal = outcome.refusal
            if (
                refusal is None
                and ctx is not None
                and action != "acknowledge"
                and ctx.claimed_by == outcome.agent_id
            ):
                refusal = "You already took this ticket; nothing more was changed."
            click_id = click.click_id or f"{ticket_id}:{action}:{click.slack_user_id}"
            first = await store.record_click(
                click_id[:128],
                ticket_id=ticket_id,
                action=action,
                slack_user_id=click.slack_user_id,
                agent_id=outcome.agent_id,
                outcome="refused" if refusal else "done",
                at=now,
            )
            if not first:
                await uow.commit()
                return "This click was already handled; nothing more was changed."
            if refusal is not None or ctx is None or outcome.agent_id is None:
                await uow.commit()
                return refusal or "Nothing was changed."
            agent_id = outcome.agent_id
            event: Event
            if action == "acknowledge":
                event = EscalationAcknowledged(
                    producer=PRODUCER,
                    occurred_at=now,
                    ticket_id=ticket_id,
                    correlation_id=ctx.correlation_id or ticket_id,
                    brand=ctx.brand,
                    agent_id=agent_id,
                    slack_user_id=click.slack_user_id,
                    acknowledged_at=now,
                )
                await store.set_fields(ticket_id, now=now, acknowledged_by=agent_id)
                line = f":eyes: Acknowledged by <@{click.slack_user_id}>: the escalation stops climbing"
                answer = "You acknowledged this escalation: it will not climb further."
            else:
                event = OwnershipRequested(
                    producer=PRODUCER,
                    occurred_at=now,
                    ticket_id=ticket_id,
                    correlation_id=ctx.correlation_id or ticket_id,
                    brand=ctx.brand,
                    agent_id=agent_id,
                    slack_user_id=click.slack_user_id,
                    requested_at=now,
                )
                await store.set_fields(ticket_id, now=now, claimed_by=agent_id)
                verb = "claimed" if action == "claim" else "took ownership"
                line = f":raising_hand: <@{click.slack_user_id}> {verb}"
                answer = "The ticket is being assigned to you."
            uow.emit(event)
            threads = (await store.threads([ticket_id])).get(ticket_id, [])
            notes: list[Notification] = state_change(ctx, line, threads=threads, urgent=True)
            await store.enqueue([(event, n) for n in notes], now=now)
            await uow.commit()
        return answer
