"""The notifier's Freshdesk connector through its real bootstrap, on real PostgreSQL,
against the local Freshdesk fake: one Freshdesk ticket per ticket, in order, within the
rate budget, never twice; back from Freshdesk only what an agent did there."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from socialdesk_notifier.freshdesk.domain.ops import marker_tag
from socialdesk_notifier.freshdesk.store import FreshdeskStore
from socialdesk_notifier.tables import deliveries
from socialdesk_schemas import ReplyRequested, SlaBreached, TicketAssigned, TicketEscalated, TicketResolved
from socialdesk_schemas.outbound import HelpdeskConnectorHealthChanged
from tests.fakes._http import Fault, Reply
from tests.fakes.freshdesk import FakeFreshdesk
from tests.freshdesk_support import (
    FD_AGENTS,
    GROUP_ID,
    classified,
    received,
)
from tests.integration.notifier_freshdesk_helpers import (
    boot_notifier,
    drain,
    fake_clock,
    new_fake,
    open_ticket,
    ops,
    worker_of,
)
from tests.support import Booted, envelope

pytestmark = pytest.mark.integration


@pytest.fixture
def fd() -> Iterator[FakeFreshdesk]:
    with new_fake() as fake:
        yield fake


@pytest.fixture
async def notifier(fresh_db: str, fd: FakeFreshdesk, tmp_path: Path) -> AsyncIterator[Booted]:
    async with boot_notifier(fresh_db, tmp_path, fd.url) as svc:
        yield svc


async def test_a_ticket_becomes_one_freshdesk_ticket_with_requester_group_priority_and_tags(
    notifier: Booted, fd: FakeFreshdesk
) -> None:
    ticket_id = uuid.uuid4()
    clock = notifier.runtime.clock
    first = received(clock, ticket_id, text="My bus to Bandung is 3 hours late, I want a refund")
    label = classified(clock, ticket_id, priority="critical")
    await notifier.feed(first)
    await notifier.feed(label)
    await notifier.feed(first, label)  # redelivered: nothing more owed
    tag = marker_tag(ticket_id)
    await drain(
        notifier, lambda: bool(fd.tickets_tagged(tag)) and bool(fd.notes_of(fd.tickets_tagged(tag)[0]["id"]))
    )

    [ticket] = fd.tickets_tagged(tag)
    contact = fd.contact(int(ticket["requester_id"]))
    assert contact["unique_external_id"] == "messenger:psid-1" and contact["email"] is None
    assert contact["name"] == "Rina Customer"
    assert ticket["group_id"] == GROUP_ID and ticket["priority"] == 4 and ticket["status"] == 2
    assert {"ourbus", "messenger", "dm", "complaint", "incident-g-delay-1", tag} <= set(ticket["tags"])
    assert (
        "3 hours late" in ticket["subject"]
        and f"https://desk.example/tickets/{ticket_id}" in ticket["description"]
    )
    [reasons] = fd.notes_of(int(ticket["id"]))
    assert reasons["private"] and "negative words" in reasons["body"]
    assert len(await ops(notifier, ticket_id)) == 2  # create + reasons, once each
    assert len(fd.calls_to("POST tickets")) == 1


async def test_later_messages_replies_and_notes_follow_in_order(notifier: Booted, fd: FakeFreshdesk) -> None:
    ticket_id = uuid.uuid4()
    clock = notifier.runtime.clock
    # The second message is consumed before the first one's classification: it waits for the create.
    await notifier.feed(received(clock, ticket_id, text="My bus is late"))
    await notifier.feed(received(clock, ticket_id, text="Still waiting at the terminal", opens=False))
    await notifier.feed(classified(clock, ticket_id))
    reply = ReplyRequested(
        **envelope(clock, ticket_id),
        reply_id=uuid.uuid4(),
        brand="ourbus",
        platform="messenger",
        kind="dm",
        recipient_platform_user_id="psid-1",
        text="Sorry! The bus leaves in 10 minutes.",
        origin="agent",
        agent_id="ob-ana",
    )
    await notifier.feed(reply)
    await notifier.feed(
        TicketAssigned(
            **envelope(clock, ticket_id),
            brand="ourbus",
            platform="messenger",
            agent_id="ob-ana",
            agent_level="L1",
            priority="high",
            received_at=clock.now(),
        )
    )
    tag = marker_tag(ticket_id)
    await drain(
        notifier,
        lambda: (
            bool(fd.tickets_tagged(tag))
            and len(fd.notes_of(fd.tickets_tagged(tag)[0]["id"])) == 3
            and fd.tickets_tagged(tag)[0]["responder_id"] is not None
        ),
    )
    [ticket] = fd.tickets_tagged(tag)
    notes = fd.notes_of(int(ticket["id"]))
    first_note = notes[0]
    assert "Still waiting" in first_note["body"] and first_note["incoming"] and not first_note["private"]
    assert "10 minutes" in notes[-1]["body"] and not notes[-1]["private"] and not notes[-1]["incoming"]
    assert ticket["responder_id"] == FD_AGENTS["ob-ana"]
    assert fd.emails == []  # nothing went to the customer by Freshdesk's e-mail
    # The create went before every note of the ticket.
    routes = [c.route for c in fd.calls if c.route in ("POST tickets", "POST tickets/notes")]
    assert routes[0] == "POST tickets"


async def test_escalation_breach_and_resolution_are_reflected(notifier: Booted, fd: FakeFreshdesk) -> None:
    ticket_id = uuid.uuid4()
    clock = notifier.runtime.clock
    ticket = await open_ticket(notifier, fd, ticket_id, priority="medium")
    assert ticket["priority"] == 2
    await notifier.feed(
        SlaBreached(
            **envelope(clock, ticket_id),
            brand="ourbus",
            platform="messenger",
            metric="first_response",
            priority="medium",
            deadline=clock.now(),
            breached_at=clock.now(),
            agent_id=None,
        )
    )
    await notifier.feed(
        TicketEscalated(
            **envelope(clock, ticket_id),
            brand="ourbus",
            platform="messenger",
            priority="medium",
            from_level="L1",
            to_level="L3",
            to_agent_id="ob-lead",
            reason="first response breached",
        )
    )
    fd_id = int(ticket["id"])
    await drain(notifier, lambda: fd.tickets[fd_id]["priority"] == 3 and len(fd.notes_of(fd_id)) == 2)
    assert "sla-breached" in fd.tickets[fd_id]["tags"] and marker_tag(ticket_id) in fd.tickets[fd_id]["tags"]
    escalation = fd.notes_of(fd_id)[-1]
    assert escalation["private"] and "L3" in escalation["body"]
    await notifier.feed(
        TicketResolved(
            **envelope(clock, ticket_id),
            brand="ourbus",
            agent_id="ob-ana",
            root_cause="delay",
            resolved_at=clock.now(),
        )
    )
    await drain(notifier, lambda: fd.tickets[fd_id]["status"] == 4)
    assert "Root cause: delay" in fd.notes_of(fd_id)[-1]["body"]
    # Our own resolve fires the Automation rule back at us: recognised, not echoed.
    fd.wait_webhooks()


async def test_a_create_whose_answer_was_lost_is_found_not_made_twice(
    notifier: Booted, fd: FakeFreshdesk
) -> None:
    fd._inject(
        Fault(
            1,
            lambda _r: Reply(502, {"description": "Bad gateway"}),
            lambda r: r.method == "POST" and r.path == "/api/v2/tickets",
            processed=True,
        )
    )
    ticket_id = uuid.uuid4()
    clock = fake_clock(notifier)
    await notifier.feed(received(clock, ticket_id, text="Lost luggage"))
    await notifier.feed(classified(clock, ticket_id))
    await worker_of(notifier).run_once()
    assert len(fd.tickets_tagged(marker_tag(ticket_id))) == 1  # made, but we saw a 502
    clock.advance(seconds=5)  # past the retry's back-off
    for _ in range(20):
        await worker_of(notifier).run_once()
        if any(o["kind"] == "create" and o["status"] == "done" for o in await ops(notifier, ticket_id)):
            break
    assert len(fd.tickets_tagged(marker_tag(ticket_id))) == 1
    assert len(fd.calls_to("POST tickets")) == 1
    assert fd.calls_to("GET contacts") and fd.calls_to("GET tickets")
    assert (
        notifier.runtime.metrics.registry.get_sample_value(
            "notifier_freshdesk_recovered_total", {"brand": "ourbus", "kind": "create"}
        )
        == 1
    )


async def test_a_lease_that_ran_out_looks_before_sending_again(notifier: Booted, fd: FakeFreshdesk) -> None:
    """A worker that died after its create went out: the next claim finds it by the marker."""
    ticket_id = uuid.uuid4()
    clock = fake_clock(notifier)
    await notifier.feed(received(clock, ticket_id, text="Refund please"))
    await notifier.feed(classified(clock, ticket_id))
    worker = worker_of(notifier)
    async with notifier.uow_factory() as uow:
        [(op, mirror)] = await FreshdeskStore(uow).claim(
            now=clock.now(), lease_until=clock.now() + timedelta(seconds=20), limit=5, paused=[]
        )
        await uow.commit()
    # The send happens, then the process "dies" before recording it.
    await worker._send(op, mirror, worker._accounts["ourbus"], 5.0)
    clock.advance(seconds=21)
    await worker.run_once()
    assert len(fd.tickets_tagged(marker_tag(ticket_id))) == 1
    [create] = [o for o in await ops(notifier, ticket_id) if o["kind"] == "create"]
    assert create["status"] == "done" and create["attempts"] == 2 and create["external_ref"]


async def test_429_is_waited_out_and_not_counted_as_an_attempt(notifier: Booted, fd: FakeFreshdesk) -> None:
    fd._inject(
        Fault(
            1,
            lambda _r: Reply(429, {"message": "slow down"}, {"Retry-After": "7"}),
            lambda r: r.method == "POST",
        )
    )
    ticket_id = uuid.uuid4()
    clock = notifier.runtime.clock
    await notifier.feed(received(clock, ticket_id, text="Hello"))
    await notifier.feed(classified(clock, ticket_id))
    await worker_of(notifier).run_once()
    [create] = [o for o in await ops(notifier, ticket_id) if o["kind"] == "create"]
    assert create["status"] == "pending" and create["attempts"] == 0 and create["throttles"] == 1
    assert create["next_attempt_at"] >= clock.now() + timedelta(seconds=7)
    assert worker_of(notifier)._accounts["ourbus"].budget.hold_until > 0


async def test_a_wrong_api_key_pauses_the_brand_without_a_retry_storm(
    fresh_db: str, fd: FakeFreshdesk, tmp_path: Path
) -> None:
    async with boot_notifier(fresh_db, tmp_path, fd.url, {"TEST_FD_API_KEY": "wrong"}) as svc:
        clock = svc.runtime.clock
        for _ in range(3):
            ticket_id = uuid.uuid4()
            await svc.feed(received(clock, ticket_id, text="Hi"))
            await svc.feed(classified(clock, ticket_id))
        worker = worker_of(svc)
        for _ in range(5):
            await worker.run_once()
        assert [c.status for c in fd.calls] == [401]  # one refusal, then nothing until the pause ends
        assert "ourbus" in worker.paused
        registry = svc.runtime.metrics.registry
        assert registry.get_sample_value("notifier_freshdesk_connected", {"brand": "ourbus"}) == 0
        assert (
            registry.get_sample_value(
                "notifier_freshdesk_pauses_total", {"brand": "ourbus", "reason": "auth"}
            )
            == 1
        )
        # One health event and one Slack warning to the brand's warnings channel, per outage.
        [down] = [e for e in await svc.emitted() if isinstance(e, HelpdeskConnectorHealthChanged)]
        assert not down.healthy and down.problem == "auth"
        async with svc.engine.connect() as conn:
            warnings = (
                await conn.execute(
                    select(deliveries.c.destination, deliveries.c.payload).where(
                        deliveries.c.source_event_type == "HelpdeskConnectorHealthChanged"
                    )
                )
            ).all()
        assert [w.destination for w in warnings] == ["C0OBWARN"]
        assert "API key" in warnings[0].payload["text"]
        # Someone fixes the key in Freshdesk's place (here: the fake accepts it); after the pause, all goes out.
        fd.api_key = "wrong"
        fake_clock(svc).advance(seconds=301)
        await drain(svc, lambda: len(fd.tickets) == 3)
        [up] = [e for e in await svc.emitted() if isinstance(e, HelpdeskConnectorHealthChanged)]
        assert up.healthy
        assert registry.get_sample_value("notifier_freshdesk_connected", {"brand": "ourbus"}) == 1


async def test_a_deleted_group_pauses_the_brand(fresh_db: str, fd: FakeFreshdesk, tmp_path: Path) -> None:
    async with boot_notifier(fresh_db, tmp_path, fd.url, group_id=999) as svc:
        clock = svc.runtime.clock
        ticket_id = uuid.uuid4()
        await svc.feed(received(clock, ticket_id, text="Hi"))
        await svc.feed(classified(clock, ticket_id))
        worker = worker_of(svc)
        for _ in range(3):
            await worker.run_once()
        assert [c.status for c in fd.calls] == [400]
        assert (
            svc.runtime.metrics.registry.get_sample_value(
                "notifier_freshdesk_pauses_total", {"brand": "ourbus", "reason": "group"}
            )
            == 1
        )
        [create] = [o for o in await ops(svc, ticket_id) if o["kind"] == "create"]
        assert create["status"] == "pending" and create["attempts"] == 0  # waits for the fix, not lost


async def test_updates_in_a_row_go_as_one_put(notifier: Booted, fd: FakeFreshdesk) -> None:
    ticket_id = uuid.uuid4()
    clock = notifier.runtime.clock
    ticket = await open_ticket(notifier, fd, ticket_id, priority="medium")
    puts_before = len(fd.calls_to("PUT ticket"))
    await notifier.feed(
        TicketAssigned(
            **envelope(clock, ticket_id),
            brand="ourbus",
            platform="messenger",
            agent_id="ob-ben",
            agent_level="L1",
            priority="medium",
            received_at=clock.now(),
        ),
        SlaBreached(
            **envelope(clock, ticket_id),
            brand="ourbus",
            platform="messenger",
            metric="first_response",
            priority="medium",
            deadline=clock.now(),
            breached_at=clock.now(),
            agent_id="ob-ben",
        ),
    )
    fd_id = int(ticket["id"])
    await drain(notifier, lambda: "sla-breached" in fd.tickets[fd_id]["tags"])
    assert fd.tickets[fd_id]["responder_id"] == FD_AGENTS["ob-ben"]
    assert len(fd.calls_to("PUT ticket")) - puts_before == 1
    assert all(o["status"] == "done" for o in await ops(notifier, ticket_id))


async def test_a_note_whose_answer_was_lost_is_found_not_added_twice(
    notifier: Booted, fd: FakeFreshdesk
) -> None:
    ticket_id = uuid.uuid4()
    clock = fake_clock(notifier)
    ticket = await open_ticket(notifier, fd, ticket_id)
    fd._inject(
        Fault(
            1,
            lambda _r: Reply(504, {"description": "Gateway timeout"}),
            lambda r: r.path.endswith("/notes") and b"Still waiting" in r.body,
            processed=True,
        )
    )
    await notifier.feed(received(clock, ticket_id, text="Still waiting", opens=False))
    await worker_of(notifier).run_once()
    clock.advance(seconds=5)
    for _ in range(10):
        await worker_of(notifier).run_once()
    notes = [n for n in fd.notes_of(int(ticket["id"])) if "Still waiting" in n["body"]]
    assert len(notes) == 1
    [note] = [o for o in await ops(notifier, ticket_id) if o["idempotency_key"].endswith(":message")]
    assert note["status"] == "done" and note["external_ref"] == str(notes[0]["id"])
    assert fd.calls_to("GET tickets/conversations")
