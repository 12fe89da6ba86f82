"""The assigner takes a reply or a resolve made in Freshdesk as the desk's own (issue 13):
through its real bootstrap, on real PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import AgentReplied, ReplyRequested, TicketAssigned, TicketResolved
from socialdesk_schemas.outbound import HelpdeskReplyReceived, HelpdeskTicketResolved
from tests.freshdesk_support import classified
from tests.support import Booted, booted, envelope

pytestmark = pytest.mark.integration


@pytest.fixture
async def assigner(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as svc:
        yield svc


async def test_a_freshdesk_reply_is_sent_to_the_customer_and_counts_as_the_first_response(
    assigner: Booted,
) -> None:
    clock = assigner.runtime.clock
    ticket_id = uuid.uuid4()
    await assigner.feed(classified(clock, ticket_id, user="psid-77"))
    [assigned] = [e for e in await assigner.emitted() if isinstance(e, TicketAssigned)]
    reply = HelpdeskReplyReceived(
        **envelope(clock, ticket_id),
        brand="ourbus",
        helpdesk_ticket_id="1001",
        reply_id=uuid.uuid4(),
        agent_id=None,  # a Freshdesk agent with no mapping: sent as the ticket's owner
        helpdesk_agent="someone@ourbus.example",
        text="Your refund is on its way.",
        replied_at=clock.now(),
    )
    await assigner.feed(reply)
    events = await assigner.emitted()
    [replied] = [e for e in events if isinstance(e, AgentReplied)]
    [request] = [e for e in events if isinstance(e, ReplyRequested)]
    assert replied.is_first_response and replied.agent_id == assigned.agent_id
    assert request.reply_id == reply.reply_id and request.text == "Your refund is on its way."
    assert request.recipient_platform_user_id == "psid-77" and request.platform == "messenger"
    # The same reply again (a new event, as after a webhook retried upstream): nothing more.
    await assigner.feed(reply.model_copy(update={"event_id": uuid.uuid4()}))
    assert await assigner.emitted() == []


async def test_a_freshdesk_resolve_resolves_once(assigner: Booted) -> None:
    clock = assigner.runtime.clock
    ticket_id = uuid.uuid4()
    await assigner.feed(classified(clock, ticket_id))
    await assigner.emitted()
    resolved = HelpdeskTicketResolved(
        **envelope(clock, ticket_id),
        brand="ourbus",
        helpdesk_ticket_id="1001",
        agent_id="ob-ana",
        resolved_at=clock.now(),
    )
    await assigner.feed(resolved)
    [event] = [e for e in await assigner.emitted() if isinstance(e, TicketResolved)]
    assert event.root_cause.startswith("other") and event.agent_id == "ob-ana"
    await assigner.feed(resolved.model_copy(update={"event_id": uuid.uuid4()}))
    assert [e for e in await assigner.emitted() if isinstance(e, TicketResolved)] == []
