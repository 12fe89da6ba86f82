"""An Automation-rule webhook from Freshdesk → at most one event, once.

An agent's reply on a ticket we synced becomes ``HelpdeskReplyReceived`` (the assigner
sends it to the customer on their platform and stops the SLA clock), a resolve becomes
``HelpdeskTicketResolved``, a private note ``HelpdeskNoteReceived`` (an internal note on the
desk), Open or Pending on a ticket resolved here ``HelpdeskTicketReopened``. What the
connector made itself is recognised and ignored; a ticket we do not know is ignored and
counted; a repeated webhook changes nothing.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any, Literal

from socialdesk_notifier.freshdesk.domain.inbound import (
    Inbound,
    inbound_key,
    is_our_status,
    is_our_text,
    is_reopening,
    is_resolution,
    plain_text,
    reply_id_for,
)
from socialdesk_notifier.freshdesk.store import FreshdeskStore
from socialdesk_runtime.clock import Clock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.db import UnitOfWork
from socialdesk_schemas.outbound import (
    HelpdeskNoteReceived,
    HelpdeskReplyReceived,
    HelpdeskTicketReopened,
    HelpdeskTicketResolved,
)

__all__ = ["Outcome", "receive"]

PRODUCER = "notifier"
#: A status webhook this soon after our own update to that status is its echo.
ECHO_WINDOW = timedelta(minutes=2)
Outcome = Literal["accepted", "echo", "unknown_ticket", "duplicate", "ignored"]
_ECHO: tuple[Outcome, dict[str, Any]] = ("echo", {"ignored": "made by socialdesk"})


def _our_agent(config: SocialdeskConfig, brand: str, inbound: Inbound) -> str | None:
    account = config.freshdesk.brands.get(brand)
    if account is None or inbound.agent_id is None:
        return None
    for ours, theirs in account.agents.items():
        if theirs == inbound.agent_id:
            return ours
    return None


async def receive(
    uow: UnitOfWork, config: SocialdeskConfig, clock: Clock, brand: str, inbound: Inbound
) -> tuple[Outcome, dict[str, Any]]:
    store = FreshdeskStore(uow)
    mirror = await store.by_fd_ticket(brand, inbound.fd_ticket_id)
    if mirror is None:
        return "unknown_ticket", {"ignored": "unknown ticket"}
    now = clock.now()
    agent = _our_agent(config, brand, inbound)
    helpdesk_agent = inbound.agent_email or (str(inbound.agent_id) if inbound.agent_id else None)
    key = inbound_key(brand, inbound)
    # What every event made of a webhook says: whose ticket, which helpdesk ticket, who acted.
    common: dict[str, Any] = {
        "producer": PRODUCER,
        "occurred_at": now,
        "ticket_id": mirror.ticket_id,
        "correlation_id": uuid.uuid4(),
        "brand": brand,
        "helpdesk_ticket_id": str(inbound.fd_ticket_id),
        "agent_id": agent,
        "helpdesk_agent": helpdesk_agent,
    }
    if inbound.event in ("reply", "note"):
        # An agent's text: a reply is sent to the customer, a note shown on the desk.
        if inbound.conversation_id and await store.our_note(brand, inbound.conversation_id):
            return _ECHO
        ours_written = await store.our_note_bodies(
            mirror.ticket_id, private=False if inbound.event == "reply" else None
        )
        if is_our_text(inbound, ours_written):
            return _ECHO
        text = plain_text(inbound.body)
        if not text:
            return "ignored", {"ignored": f"empty {inbound.event}"}
        ref = reply_id_for(key)
        if not await store.remember_inbound(
            key, brand=brand, fd_ticket_id=inbound.fd_ticket_id, ticket_id=mirror.ticket_id, ref=ref, at=now
        ):
            return "duplicate", {"ignored": "already received"}
        if inbound.event == "reply":
            uow.emit(HelpdeskReplyReceived(**common, reply_id=ref, text=text, replied_at=now))
            return "accepted", {"accepted": "reply", "reply_id": str(ref)}
        uow.emit(HelpdeskNoteReceived(**common, note_id=ref, text=text, added_at=now))
        return "accepted", {"accepted": "note", "note_id": str(ref)}
    ours = inbound.status is not None and await store.our_status_change(
        mirror.ticket_id, inbound.status, since=now - ECHO_WINDOW
    )
    if is_resolution(inbound):
        if ours or is_our_status(inbound, mirror):
            return _ECHO
        if not await store.remember_inbound(
            key, brand=brand, fd_ticket_id=inbound.fd_ticket_id, ticket_id=mirror.ticket_id, ref=None, at=now
        ):
            return "duplicate", {"ignored": "already received"}
        await store.decided(mirror.ticket_id, fd_status=inbound.status)
        uow.emit(HelpdeskTicketResolved(**common, root_cause=inbound.root_cause, resolved_at=now))
        return "accepted", {"accepted": "resolved"}
    if is_reopening(inbound, mirror):
        if ours:
            return _ECHO
        # The mirror is open again from here on; the marker tells the desk's reopen that
        # follows that Freshdesk is owed nothing, and an older resolve that it is stale.
        await store.decided(mirror.ticket_id, state="open", fd_status=inbound.status)
        await store.forget_statuses(brand, inbound.fd_ticket_id)
        await store.reopened_there(brand, inbound.fd_ticket_id, mirror.ticket_id, at=now)
        uow.emit(HelpdeskTicketReopened(**common, reopened_at=now))
        return "accepted", {"accepted": "reopened"}
    # Other status changes (Pending on an open ticket, a custom status) stay in Freshdesk.
    return "ignored", {"ignored": f"{inbound.event} not synced back"}
