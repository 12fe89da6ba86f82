"""assigner on real PostgreSQL: routing, round robin, capacity, the desk API."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy.ext.asyncio import AsyncEngine

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_assigner.desk import desk_router, token_index
from socialdesk_assigner.handlers import route_classified
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.db import UnitOfWorkFactory
from socialdesk_runtime.http import create_app
from socialdesk_schemas import (
    AgentReplied,
    Event,
    MessageClassified,
    ReplyRequested,
    TicketAssigned,
    TicketDismissed,
    TicketQueued,
    TicketResolved,
    TicketRoutedToMarketing,
)
from tests.support import clear_outbox, config_for_tests, envelope, outbox_events, service_store

pytestmark = pytest.mark.integration


@dataclass
class Desk:
    engine: AsyncEngine
    uow_factory: UnitOfWorkFactory
    clock: FakeClock
    client: httpx.AsyncClient

    async def route(self, event: MessageClassified) -> list[Event]:
        async with self.uow_factory() as uow:
            await route_classified(event, uow, config=config_for_tests(), clock=self.clock)
            await uow.commit()
        events = await outbox_events(self.engine)
        await clear_outbox(self.engine)
        return events


@pytest.fixture
async def desk(fresh_db: str) -> AsyncIterator[Desk]:
    clock = FakeClock()
    config = config_for_tests()
    async with service_store(fresh_db, SPEC) as (engine, uow_factory):
        router = desk_router(
            uow_factory=uow_factory, clock=clock, config=config, agent_for_token=token_index(config)
        )
        app = create_app("assigner", registry=CollectorRegistry(), routers=[router])
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://assigner"
        ) as client:
            yield Desk(engine, uow_factory, clock, client)


def classified(clock: FakeClock, **over: Any) -> MessageClassified:
    fields: dict[str, Any] = {
        **envelope(clock),
        "message_id": uuid.uuid4(),
        "conversation_id": uuid.uuid4(),
        "customer_id": uuid.uuid4(),
        "brand": "ourbus",
        "platform": "instagram",
        "kind": "dm",
        "received_at": clock.now(),
        "platform_message_id": f"m-{uuid.uuid4().hex[:6]}",
        "author_platform_user_id": "igsid-1",
        "queue": "cx",
        "category": "complaint",
        "priority": "high",
        "sentiment": "negative",
        "language": "en",
    }
    fields.update(over)
    return MessageClassified(**fields)


async def test_round_robin_over_online_working_agents_only(desk: Desk) -> None:
    owners = []
    for _ in range(6):
        (event,) = await desk.route(classified(desk.clock))
        assert isinstance(event, TicketAssigned)
        owners.append(event.agent_id)
    # Cid is offline; the lead (L3) and manager (L4) are escalation rungs, not the queue.
    assert owners == ["ob-ana", "ob-ben", "ob-dee", "ob-ana", "ob-ben", "ob-dee"]


async def test_same_customer_goes_back_to_the_same_agent(desk: Desk) -> None:
    customer = uuid.uuid4()
    (first,) = await desk.route(classified(desk.clock, customer_id=customer))
    await desk.route(classified(desk.clock))  # someone else's ticket moves the cursor
    (second,) = await desk.route(classified(desk.clock, customer_id=customer))
    assert isinstance(first, TicketAssigned)
    assert isinstance(second, TicketAssigned)
    assert second.agent_id == first.agent_id
    assert second.reason == "same_customer"


async def test_marketing_noise_and_full_capacity(desk: Desk) -> None:
    (mkt,) = await desk.route(classified(desk.clock, queue="marketing", category="promo", priority="low"))
    assert isinstance(mkt, TicketRoutedToMarketing)
    (noise,) = await desk.route(
        classified(desk.clock, queue="ignore", category="spam", reasons=["crypto scam"])
    )
    assert isinstance(noise, TicketDismissed)
    assert "crypto" in noise.reason
    # Rally has one online L1 with room for two open tickets.
    routed = [await desk.route(classified(desk.clock, brand="rally")) for _ in range(3)]
    assert [type(e[0]).__name__ for e in routed] == ["TicketAssigned", "TicketAssigned", "TicketQueued"]
    assert isinstance(routed[2][0], TicketQueued)


async def test_follow_up_message_keeps_the_ticket_and_emits_nothing(desk: Desk) -> None:
    first = classified(desk.clock)
    await desk.route(first)
    follow = classified(
        desk.clock, ticket_id=first.ticket_id, opens_ticket=False, platform_message_id="m-next"
    )
    assert await desk.route(follow) == []


async def test_agent_reply_emits_replied_and_reply_requested_once(desk: Desk) -> None:
    event = classified(desk.clock)
    (assigned,) = await desk.route(event)
    assert isinstance(assigned, TicketAssigned)
    token = {"ob-ana": "tok-ana", "ob-ben": "tok-ben", "ob-dee": "tok-dee"}[assigned.agent_id]
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "reply-1"}
    url = f"/v1/tickets/{event.ticket_id}/reply"
    response = await desk.client.post(url, json={"text": "So sorry, rebooking you now."}, headers=headers)
    assert response.status_code == 202, response.text
    again = await desk.client.post(url, json={"text": "So sorry, rebooking you now."}, headers=headers)
    assert again.json()["status"] == "duplicate"
    replied, requested = await outbox_events(desk.engine)
    assert isinstance(replied, AgentReplied)
    assert replied.is_first_response
    assert isinstance(requested, ReplyRequested)
    assert requested.recipient_platform_user_id == "igsid-1"
    assert requested.in_reply_to_platform_message_id == event.platform_message_id


async def test_desk_api_refuses_strangers_and_other_agents(desk: Desk) -> None:
    event = classified(desk.clock)
    (assigned,) = await desk.route(event)
    assert isinstance(assigned, TicketAssigned)
    url = f"/v1/tickets/{event.ticket_id}/reply"
    body = {"text": "hi"}
    assert (await desk.client.post(url, json=body)).status_code == 401
    assert (
        await desk.client.post(url, json=body, headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    other = "tok-ben" if assigned.agent_id != "ob-ben" else "tok-ana"
    assert (
        await desk.client.post(url, json=body, headers={"Authorization": f"Bearer {other}"})
    ).status_code == 403
    rally = {"Authorization": "Bearer tok-hugo"}
    assert (await desk.client.post(url, json=body, headers=rally)).status_code == 403
    lead = {"Authorization": "Bearer tok-lead"}
    assert (await desk.client.post(url, json={"text": ""}, headers=lead)).status_code == 400
    assert (await desk.client.post(url, json=body, headers=lead)).status_code == 202, (
        "the brand lead may step in"
    )
    missing = f"/v1/tickets/{uuid.uuid4()}/reply"
    assert (await desk.client.post(missing, json=body, headers=lead)).status_code == 404


async def test_any_agent_of_the_brand_may_answer_a_queued_ticket_and_thereby_claims_it(desk: Desk) -> None:
    for _ in range(2):
        await desk.route(classified(desk.clock, brand="rally"))  # Hugo's two slots
    event = classified(desk.clock, brand="rally")
    (queued,) = await desk.route(event)
    assert isinstance(queued, TicketQueued)
    url = f"/v1/tickets/{event.ticket_id}/reply"
    response = await desk.client.post(
        url, json={"text": "On it!"}, headers={"Authorization": "Bearer tok-hugo"}
    )
    assert response.status_code == 202, response.text
    claimed, replied, _ = await outbox_events(desk.engine)
    assert isinstance(claimed, TicketAssigned)
    assert (claimed.agent_id, claimed.reason) == ("ra-hugo", "claimed")
    assert isinstance(replied, AgentReplied)


async def test_plain_faq_is_answered_with_its_saved_reply_and_a_follow_up_reopens_it(desk: Desk) -> None:
    faq = classified(desk.clock, category="query", priority="low", auto_reply="luggage_policy")
    reply, resolved = await desk.route(faq)
    assert isinstance(reply, ReplyRequested)
    assert reply.origin == "auto_reply"
    assert reply.template_key == "luggage_policy"
    assert reply.text.startswith("Each rider may bring")
    assert reply.recipient_platform_user_id == "igsid-1"
    assert isinstance(resolved, TicketResolved)
    # The customer answers back: the ticket reopens and goes to a person.
    follow = classified(
        desk.clock,
        ticket_id=faq.ticket_id,
        opens_ticket=False,
        category="complaint",
        platform_message_id="m-2",
    )
    (assigned,) = await desk.route(follow)
    assert isinstance(assigned, TicketAssigned)
    assert assigned.ticket_id == faq.ticket_id


async def test_a_key_with_no_saved_reply_for_the_brand_goes_to_an_agent(desk: Desk) -> None:
    (event,) = await desk.route(classified(desk.clock, category="query", auto_reply="pets_policy"))
    assert isinstance(event, TicketAssigned)


async def test_a_whole_batch_routes_like_one_event_at_a_time(desk: Desk) -> None:
    from socialdesk_assigner.handlers import route_batch

    customer = uuid.uuid4()
    first = classified(desk.clock, customer_id=customer)
    follow = classified(desk.clock, ticket_id=first.ticket_id, opens_ticket=False, platform_message_id="m-f")
    same_customer = classified(desk.clock, customer_id=customer)
    others = [classified(desk.clock) for _ in range(3)]
    mkt = classified(desk.clock, queue="marketing", category="promo", priority="low")
    async with desk.uow_factory() as uow:
        await route_batch(
            [first, follow, same_customer, *others, mkt], uow, config=config_for_tests(), clock=desk.clock
        )
        await uow.commit()
    events = await outbox_events(desk.engine)
    assigned = [e for e in events if isinstance(e, TicketAssigned)]
    assert [e.ticket_id for e in assigned] == [first.ticket_id, same_customer.ticket_id] + [
        o.ticket_id for o in others
    ]
    assert assigned[1].agent_id == assigned[0].agent_id
    assert assigned[1].reason == "same_customer"
    assert [e.agent_id for e in assigned[2:]] == ["ob-ben", "ob-dee", "ob-ana"], (
        "the rotation continues in the batch"
    )
    assert sum(isinstance(e, TicketRoutedToMarketing) for e in events) == 1
    await clear_outbox(desk.engine)
    # The next batch continues where this one left the cursor.
    (nxt,) = await desk.route(classified(desk.clock))
    assert isinstance(nxt, TicketAssigned)
    assert nxt.agent_id == "ob-ben"


async def test_resolve_with_a_root_cause_closes_the_ticket_once(desk: Desk) -> None:
    event = classified(desk.clock)
    (assigned,) = await desk.route(event)
    assert isinstance(assigned, TicketAssigned)
    token = {"ob-ana": "tok-ana", "ob-ben": "tok-ben", "ob-dee": "tok-dee"}[assigned.agent_id]
    url = f"/v1/tickets/{event.ticket_id}/resolve"
    auth = {"Authorization": f"Bearer {token}"}
    assert (await desk.client.post(url, json={"root_cause": ""}, headers=auth)).status_code == 400
    done = await desk.client.post(
        url, json={"root_cause": "Bus swapped at Newark; refund issued"}, headers=auth
    )
    assert done.status_code == 200, done.text
    again = await desk.client.post(url, json={"root_cause": "again"}, headers=auth)
    assert again.json()["status"] == "already_resolved"
    (resolved,) = await outbox_events(desk.engine)
    assert isinstance(resolved, TicketResolved)
    assert resolved.root_cause.startswith("Bus swapped")
