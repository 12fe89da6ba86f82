"""A reply typed in the platform's own inbox stops the SLA clocks a desk reply stops
(decision 0305), through three real bootstraps on real PostgreSQL and one fake clock:
ingest takes Meta's signed webhooks, the assigner (the desk) routes and records, sla-monitor
keeps the clocks and its scheduler fires what is due. Each event one service emits is fed to
the next through its runtime's real ``process_batch``, as its consumer would."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from socialdesk_assigner.bootstrap import SPEC as ASSIGNER
from socialdesk_assigner.domain.inbox import inbox_reply_id
from socialdesk_ingest.bootstrap import SPEC as INGEST
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.embedded import EmbeddedPostgres
from socialdesk_schemas import (
    AgentReplied,
    Event,
    MessageClassified,
    MessageReceived,
    SlaBreached,
    SlaWarning,
    TicketAssigned,
    TicketEscalated,
)
from socialdesk_schemas.desk import TicketReopened
from socialdesk_schemas.platforms import OwnMessageSeen
from socialdesk_schemas.sla import SlaClockArmed, SlaClockStopped
from tests.integration.test_desk import auth, page
from tests.integration.test_ingest_own_comments import NOW, classification_of
from tests.integration.test_ingest_webhooks import PAGE, Hooks, comment, feed
from tests.integration.test_sla_monitor import Sla, running
from tests.support import Booted, booted, uid

pytestmark = pytest.mark.integration


@dataclass
class Three:
    hooks: Hooks
    desk: Booted
    sla: Sla
    clock: FakeClock

    async def customer_comments(self, cid: str, text: str, *, parent: str | None = None) -> MessageReceived:
        await self.hooks.meta(feed(self.at_now(comment(cid, parent=parent, text=text))))
        (received,) = await self.hooks.extract()
        assert isinstance(received, MessageReceived)
        return received

    async def page_comments(self, cid: str, text: str, *, parent: str) -> OwnMessageSeen:
        """The Page's own comment under ``parent``: typed in Meta Business Suite, or the echo
        of a desk reply (Meta does not say which app posted it)."""
        await self.hooks.meta(feed(self.at_now(comment(cid, parent=parent, author=PAGE, text=text))))
        (seen,) = await self.hooks.extract()
        assert isinstance(seen, OwnMessageSeen) and seen.typed_in_platform_inbox
        return seen

    def at_now(self, value: dict[str, Any]) -> dict[str, Any]:
        return {**value, "created_time": int(self.clock.now().timestamp())}

    async def to_desk(self, *events: Event) -> list[Event]:
        outcome = await self.desk.feed(*events)
        assert outcome.get("processed") == len(events), outcome
        return await self.desk.emitted()

    async def routed(self, received: MessageReceived) -> list[Event]:
        """ingest's message on the desk, classified as the classifier would (now)."""
        return await self.to_desk(received, self.classified(received))

    def classified(self, received: MessageReceived) -> MessageClassified:
        return classification_of(self.desk, received, received_at=received.received_at)

    async def to_sla(self, *events: Event) -> list[Event]:
        await self.sla.handle(*events)
        return await self.sla.svc.emitted()

    async def resolve(self, ticket_id: uuid.UUID, owner: str) -> list[Event]:
        done = await self.desk.client.post(
            f"/v1/tickets/{ticket_id}/resolve", json={"root_cause": "answered"}, headers=auth(owner)
        )
        assert done.status_code == 200, done.text
        return await self.desk.emitted()


@pytest.fixture
async def three(postgres: EmbeddedPostgres) -> AsyncIterator[Three]:
    clock = FakeClock()
    assert clock.now().timestamp() == NOW  # Meta's timestamps and the services' clock agree
    urls = {}
    for service in ("ingest", "desk", "sla"):
        name = f"inbox_{service}_{uuid.uuid4().hex[:10]}"
        postgres.create_database(name)
        urls[service] = postgres.url(name)
    async with (
        booted(INGEST, urls["ingest"], clock=clock, settings={"conversation_idle_seconds": 3600}) as ingest,
        booted(ASSIGNER, urls["desk"], clock=clock) as desk,
        running(urls["sla"], clock) as sla,
    ):
        yield Three(Hooks(ingest, clock), desk, sla, clock)


def only(events: Sequence[Event], kind: type[Event]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


def pages(events: Sequence[Event]) -> list[Event]:
    return [e for e in events if isinstance(e, SlaWarning | SlaBreached | TicketEscalated)]


async def test_a_reply_typed_in_meta_stops_the_clock_and_nobody_is_paged(three: Three) -> None:
    """Customer comment → assigned → first-response clock armed → the Page answers in Meta
    Business Suite → clock met; time passes: no warning, breach or escalation. The customer
    writes again: next response runs; the desk's reply meets it, and that reply's echo
    (the Page's comment, same words) is not a second reply. Read twice, the typed one
    counts once."""
    top, typed = f"880011_{uid()}", f"880011_{uid()}"
    received = await three.customer_comments(top, "Still no refund?")
    assigned = only(await three.routed(received), TicketAssigned)
    armed = only(await three.to_sla(*assigned), SlaClockArmed)
    first = next(a for a in armed if a.clock == "first_response")
    assert first.due_at > three.clock.now()

    three.clock.advance(seconds=1)
    seen = await three.page_comments(typed, "Dana, the refund left today.", parent=top)
    (replied,) = only(await three.to_desk(seen), AgentReplied)
    assert (replied.agent_id, replied.is_first_response) == ("inbox:facebook", True)
    assert replied.reply_id == inbox_reply_id(received.ticket_id, "facebook", typed)
    assert replied.replied_at == three.clock.now()
    stopped = only(await three.to_sla(replied), SlaClockStopped)
    assert [(s.clock, s.outcome) for s in stopped] == [("first_response", "met")]
    assert pages(await three.sla.tick(600.0)) == [], "answered in Meta: nobody is paged"
    ticket = await page(three.desk, received.ticket_id)
    assert ticket["first_response_at"] is not None

    # the same comment read again (a replay of the delivery) is the same reply: nothing new
    again = seen.model_copy(update={"event_id": uuid.uuid4()})
    assert only(await three.to_desk(again), AgentReplied) == []

    # the customer writes again: the next-response clock runs, as after a desk reply
    later = await three.customer_comments(f"880011_{uid()}", "And the voucher?", parent=typed)
    assert not later.opens_ticket
    (next_clock,) = only(await three.to_sla(later), SlaClockArmed)
    assert next_clock.clock == "next_response"
    owner = assigned[0].agent_id
    sent = await three.desk.client.post(
        f"/v1/tickets/{received.ticket_id}/reply",
        json={"text": "Voucher sent by e-mail."},
        headers=auth(owner),
    )
    assert sent.status_code == 202, sent.text
    (desk_reply,) = only(await three.desk.emitted(), AgentReplied)
    assert (desk_reply.agent_id, desk_reply.is_first_response) == (owner, False)
    stopped = only(await three.to_sla(desk_reply), SlaClockStopped)
    assert [(s.clock, s.outcome) for s in stopped] == [("next_response", "met")]

    three.clock.advance(seconds=2)
    echo = await three.page_comments(
        f"880011_{uid()}", "@Dana Voucher sent by e-mail.", parent=later.platform_message_id
    )
    assert only(await three.to_desk(echo), AgentReplied) == [], "the echo of the desk's reply is not a reply"
    talk = (await page(three.desk, received.ticket_id))["conversation"]
    assert [(c["from"], c.get("delivery")) for c in talk if c["type"] == "reply"] == [
        ("platform_inbox", None),
        ("agent", "sent"),
    ]
    assert pages(await three.sla.tick(600.0)) == []


async def test_an_inbox_reply_that_overtakes_the_assignment_still_meets_the_clock(three: Three) -> None:
    """sla-monitor reads the reply (ticket.activity) before the assignment (ticket.assignments):
    the reply's placeholder is completed when the clock is armed."""
    top = f"880011_{uid()}"
    received = await three.customer_comments(top, "Where is my bag?")
    assigned = only(await three.routed(received), TicketAssigned)
    three.clock.advance(seconds=1)
    seen = await three.page_comments(f"880011_{uid()}", "Checking with the depot now.", parent=top)
    (replied,) = only(await three.to_desk(seen), AgentReplied)
    assert only(await three.to_sla(replied), SlaClockStopped) == []  # nothing armed yet
    told = await three.to_sla(*assigned)
    completed = [(s.clock, s.outcome) for s in only(told, SlaClockStopped)]
    assert completed == [("first_response", "met")]
    assert pages(await three.sla.tick(600.0)) == []


async def test_an_inbox_reply_read_before_its_ticket_was_routed_counts_when_it_is(three: Three) -> None:
    """The classifier lags: the Page's answer reaches the desk before the customer's comment is
    classified. Nothing to count it on yet; routed, the ticket is answered and the clock met."""
    top = f"880011_{uid()}"
    received = await three.customer_comments(top, "Is the 9:40 running?")
    three.clock.advance(seconds=1)
    seen = await three.page_comments(f"880011_{uid()}", "Yes, on time today.", parent=top)
    typed_at = three.clock.now()
    assert only(await three.to_desk(received, seen), AgentReplied) == []
    three.clock.advance(seconds=1)
    message = three.classified(received)
    routed = await three.to_desk(message)
    assert [type(e) for e in routed] == [TicketAssigned, AgentReplied]
    replied = routed[1]
    assert isinstance(replied, AgentReplied)
    assert (replied.agent_id, replied.is_first_response, replied.replied_at) == (
        "inbox:facebook",
        True,
        typed_at,
    )
    told = await three.to_sla(*routed)
    assert [(s.clock, s.outcome) for s in only(told, SlaClockStopped)] == [("first_response", "met")]
    assert pages(await three.sla.tick(600.0)) == []
    assert (await page(three.desk, received.ticket_id))["first_response_at"] is not None


async def test_an_inbox_reply_counted_when_routing_reopens_the_ticket_meets_the_new_clock(
    three: Three,
) -> None:
    """Answered and resolved; the customer writes again and the Page answers in Meta before
    the classifier gets to the new comment. The reopening counts that answer, and the new
    episode's clocks start when the customer wrote (not when it was routed), so sla-monitor's
    new first-response clock is met by it (decision 0305 addendum)."""
    top = f"880011_{uid()}"
    received = await three.customer_comments(top, "Where is my bag?")
    assigned = only(await three.routed(received), TicketAssigned)
    owner = assigned[0].agent_id
    await three.to_sla(*assigned)
    three.clock.advance(seconds=1)
    seen = await three.page_comments(f"880011_{uid()}", "Found it, it comes today.", parent=top)
    await three.to_sla(*only(await three.to_desk(seen), AgentReplied))
    three.clock.advance(seconds=60)
    await three.to_sla(*await three.resolve(received.ticket_id, owner))

    three.clock.advance(seconds=60)
    again = await three.customer_comments(f"880011_{uid()}", "It did not come.", parent=top)
    assert again.ticket_id == received.ticket_id and not again.opens_ticket
    await three.to_sla(again)
    three.clock.advance(seconds=1)
    answer = await three.page_comments(f"880011_{uid()}", "Sorry! A driver is on his way.", parent=top)
    typed_at = three.clock.now()
    assert only(await three.to_desk(again, answer), AgentReplied) == [], "resolved: counted when reopened"
    three.clock.advance(seconds=1)
    routed = await three.to_desk(three.classified(again))
    assert [type(e) for e in routed] == [TicketReopened, TicketAssigned, AgentReplied]
    reopened, replied = routed[0], routed[2]
    assert isinstance(reopened, TicketReopened) and isinstance(replied, AgentReplied)
    assert reopened.reopened_at == again.received_at, "the customer waits from when they wrote"
    assert (replied.agent_id, replied.is_first_response, replied.replied_at) == (
        "inbox:facebook",
        True,
        typed_at,
    )
    told = await three.to_sla(*routed)
    assert ("first_response", "met") in [(s.clock, s.outcome) for s in only(told, SlaClockStopped)]
    assert pages(await three.sla.tick(600.0)) == [], "answered in Meta: nobody is paged"


async def test_an_inbox_reply_counted_before_the_resolve_is_not_counted_again_on_a_late_reopening(
    three: Three,
) -> None:
    """The customer's second comment reaches the desk but its classification lags; the Page
    answers in Meta (counted: the ticket is assigned), Meta's clock two minutes ahead of
    the desk's; the ticket is resolved. The late classification reopens it: the answer was
    the earlier episode's, and is not counted a second time."""
    top = f"880011_{uid()}"
    received = await three.customer_comments(top, "Is the 9:40 running?")
    assigned = only(await three.routed(received), TicketAssigned)
    three.clock.advance(seconds=1)
    later = await three.customer_comments(f"880011_{uid()}", "And the 10:40?", parent=top)
    await three.to_desk(later)
    three.clock.advance(seconds=1)
    seen = await three.page_comments(f"880011_{uid()}", "Both on time today.", parent=top)
    ahead = seen.model_copy(update={"sent_at": three.clock.now() + timedelta(minutes=2)})
    (replied,) = only(await three.to_desk(ahead), AgentReplied)
    assert replied.is_first_response
    three.clock.advance(seconds=1)
    await three.resolve(received.ticket_id, assigned[0].agent_id)
    three.clock.advance(seconds=1)
    routed = await three.to_desk(three.classified(later))
    assert [type(e) for e in routed] == [TicketReopened, TicketAssigned], "counted once, before the resolve"
    reopened = routed[0]
    assert isinstance(reopened, TicketReopened) and reopened.reopened_at > later.received_at
