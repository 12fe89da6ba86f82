"""assigner through its real bootstrap on real PostgreSQL: routing, auto-replies, the desk API.

Events go in through the runtime's ``process_batch`` over the handler table ``bootstrap``
built (inbox, poison isolation, dead letters); HTTP through the service's own routers.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.topology import consumed_topics, wiring_problems
from socialdesk_schemas import (
    TOPICS,
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
from socialdesk_schemas.desk import TicketReopened
from tests.support import Booted, booted, envelope

pytestmark = pytest.mark.integration

TOKENS = {"ob-ana": "tok-ana", "ob-ben": "tok-ben", "ob-dee": "tok-dee", "ra-hugo": "tok-hugo"}
LEAD = {"Authorization": "Bearer tok-lead"}


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


def classified(svc: Booted, **over: Any) -> MessageClassified:
    clock = svc.runtime.clock
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
        "reasons": ["negative words: late, refund"],
        "confidence": {"complaint": 0.91},
    }
    fields.update(over)
    return MessageClassified(**fields)


async def route(svc: Booted, *events: MessageClassified) -> list[Event]:
    """Feed ``events`` as one consumed batch; what the assigner emitted."""
    outcome = await svc.feed(*events)
    assert outcome.get("processed") == len(events), outcome
    return await emitted(svc)


async def emitted(svc: Booted) -> list[Event]:
    """What the assigner emitted since the last look; each type one bootstrap declares."""
    events = await svc.emitted()
    assert {type(e) for e in events} <= set(svc.parts.emits)
    return events


def bearer(agent_id: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {TOKENS[agent_id]}"}


async def test_round_robin_over_online_working_agents_only(svc: Booted) -> None:
    owners = []
    for _ in range(6):
        (event,) = await route(svc, classified(svc))
        assert isinstance(event, TicketAssigned)
        owners.append(event.agent_id)
    # Cid is offline; the lead (L3) and manager (L4) are escalation rungs, not the queue.
    assert owners == ["ob-ana", "ob-ben", "ob-dee", "ob-ana", "ob-ben", "ob-dee"]


async def test_same_customer_goes_back_to_the_same_agent(svc: Booted) -> None:
    customer = uuid.uuid4()
    (first,) = await route(svc, classified(svc, customer_id=customer))
    await route(svc, classified(svc))  # someone else's ticket moves the cursor
    (second,) = await route(svc, classified(svc, customer_id=customer))
    assert isinstance(first, TicketAssigned)
    assert isinstance(second, TicketAssigned)
    assert second.agent_id == first.agent_id
    assert second.reason == "same_customer"


async def test_marketing_noise_and_full_capacity(svc: Booted) -> None:
    (mkt,) = await route(svc, classified(svc, queue="marketing", category="promo", priority="low"))
    assert isinstance(mkt, TicketRoutedToMarketing)
    (noise,) = await route(svc, classified(svc, queue="ignore", category="spam", reasons=["crypto scam"]))
    assert isinstance(noise, TicketDismissed)
    assert "crypto" in noise.reason
    # Rally has one online L1 with room for two open tickets.
    routed = [await route(svc, classified(svc, brand="rally")) for _ in range(3)]
    assert [type(e[0]).__name__ for e in routed] == ["TicketAssigned", "TicketAssigned", "TicketQueued"]


async def test_follow_up_message_keeps_the_ticket_and_emits_nothing(svc: Booted) -> None:
    first = classified(svc)
    (assigned,) = await route(svc, first)
    follow = classified(svc, ticket_id=first.ticket_id, opens_ticket=False, platform_message_id="m-next")
    assert await route(svc, follow) == []
    ticket = (await svc.client.get(f"/v1/tickets/{first.ticket_id}", headers=LEAD)).json()
    assert ticket["message_count"] == 2
    assert ticket["last_platform_message_id"] == "m-next"
    assert isinstance(assigned, TicketAssigned)
    assert ticket["agent_id"] == assigned.agent_id


async def test_a_redelivered_message_is_routed_once(svc: Booted) -> None:
    event = classified(svc)
    await route(svc, event)
    assert (await svc.feed(event)).get("duplicate") == 1
    assert await emitted(svc) == []


async def test_a_whole_batch_routes_like_one_event_at_a_time(svc: Booted) -> None:
    customer = uuid.uuid4()
    first = classified(svc, customer_id=customer)
    follow = classified(svc, ticket_id=first.ticket_id, opens_ticket=False, platform_message_id="m-f")
    same_customer = classified(svc, customer_id=customer)
    others = [classified(svc) for _ in range(3)]
    mkt = classified(svc, queue="marketing", category="promo", priority="low")
    events = await route(svc, first, follow, same_customer, *others, mkt)
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
    # The next batch continues where this one left the cursor.
    (nxt,) = await route(svc, classified(svc))
    assert isinstance(nxt, TicketAssigned)
    assert nxt.agent_id == "ob-ben"


async def test_a_poison_message_in_a_batch_is_dead_lettered_and_the_rest_routed(svc: Booted) -> None:
    good = [classified(svc) for _ in range(2)]
    poison = classified(svc, brand="no-such-brand")
    outcome = await svc.feed(good[0], poison, good[1])
    assert (outcome.get("processed"), outcome.get("deadlettered")) == (2, 1)
    (dead,) = await svc.dead_letters()  # before emitted(), which clears the outbox
    assert (dead["reason"], str(poison.event_id) in dead["payload"]) == ("handler", True)
    assert "unknown brand 'no-such-brand'" in dead["error"]
    assigned = await emitted(svc)
    assert [e.ticket_id for e in assigned] == [g.ticket_id for g in good]
    assert [e.agent_id for e in assigned if isinstance(e, TicketAssigned)] == ["ob-ana", "ob-ben"]


async def test_plain_faq_is_answered_with_its_saved_reply_and_a_follow_up_reopens_it(svc: Booted) -> None:
    faq = classified(svc, category="query", priority="low", auto_reply="luggage_policy")
    reply, resolved = await route(svc, faq)
    assert isinstance(reply, ReplyRequested)
    assert reply.origin == "auto_reply"
    assert reply.template_key == "luggage_policy"
    assert reply.text.startswith("Each rider may bring")
    assert reply.recipient_platform_user_id == "igsid-1"
    assert isinstance(resolved, TicketResolved)
    assert resolved.agent_id == "auto-reply"
    # The customer answers back: the ticket reopens and goes to a person.
    follow = classified(
        svc, ticket_id=faq.ticket_id, opens_ticket=False, category="complaint", platform_message_id="m-2"
    )
    reopened, assigned = await route(svc, follow)
    assert isinstance(reopened, TicketReopened)
    assert reopened.reason == "customer_wrote"
    assert isinstance(assigned, TicketAssigned)
    assert assigned.ticket_id == faq.ticket_id
    ticket = (await svc.client.get(f"/v1/tickets/{faq.ticket_id}", headers=LEAD)).json()
    assert (ticket["status"], ticket["category"], ticket["root_cause"]) == ("assigned", "complaint", None)


async def test_a_key_with_no_saved_reply_for_the_brand_goes_to_an_agent(svc: Booted) -> None:
    (event,) = await route(svc, classified(svc, category="query", auto_reply="pets_policy"))
    assert isinstance(event, TicketAssigned)


# --- the desk API ---------------------------------------------------------------------------


async def test_agent_reply_emits_replied_and_reply_requested_once(svc: Booted) -> None:
    event = classified(svc)
    (assigned,) = await route(svc, event)
    assert isinstance(assigned, TicketAssigned)
    headers = {**bearer(assigned.agent_id), "Idempotency-Key": "reply-1"}
    url = f"/v1/tickets/{event.ticket_id}/reply"
    response = await svc.client.post(url, json={"text": "So sorry, rebooking you now."}, headers=headers)
    assert response.status_code == 202, response.text
    again = await svc.client.post(url, json={"text": "So sorry, rebooking you now."}, headers=headers)
    assert again.status_code == 202
    assert again.json() == response.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    # The same key with another text is a mistake, not a duplicate: refused with the reason.
    changed = await svc.client.post(url, json={"text": "Something else"}, headers=headers)
    assert changed.status_code == 422
    assert "different request" in changed.json()["detail"]
    replied, requested = await emitted(svc)
    assert isinstance(replied, AgentReplied)
    assert replied.is_first_response
    assert isinstance(requested, ReplyRequested)
    assert requested.recipient_platform_user_id == "igsid-1"
    assert requested.in_reply_to_platform_message_id == event.platform_message_id
    # A second answer (another key) is a next response, not the first.
    second = await svc.client.post(url, json={"text": "Done."}, headers=bearer(assigned.agent_id))
    assert second.status_code == 202
    replied_again, _ = await emitted(svc)
    assert isinstance(replied_again, AgentReplied)
    assert not replied_again.is_first_response


async def test_desk_api_refuses_strangers_and_other_agents(svc: Booted) -> None:
    event = classified(svc)
    (assigned,) = await route(svc, event)
    assert isinstance(assigned, TicketAssigned)
    url = f"/v1/tickets/{event.ticket_id}/reply"
    body = {"text": "hi"}
    assert (await svc.client.post(url, json=body)).status_code == 401
    assert (
        await svc.client.post(url, json=body, headers={"Authorization": "Bearer nope"})
    ).status_code == 401
    other = "ob-ben" if assigned.agent_id != "ob-ben" else "ob-ana"
    refused = await svc.client.post(url, json=body, headers=bearer(other))
    assert refused.status_code == 403
    assert "owned by another agent" in refused.json()["detail"]
    rally = await svc.client.post(url, json=body, headers=bearer("ra-hugo"))
    assert rally.status_code == 403
    assert "brand" in rally.json()["detail"]
    assert (await svc.client.post(url, json={"text": ""}, headers=LEAD)).status_code == 400
    assert (await svc.client.post(url, json=body, headers=LEAD)).status_code == 202, (
        "the brand lead may step in"
    )
    missing = f"/v1/tickets/{uuid.uuid4()}/reply"
    assert (await svc.client.post(missing, json=body, headers=LEAD)).status_code == 404
    # Nobody outside the brand sees the ticket either: 403, and not a word of its content.
    peek = await svc.client.get(f"/v1/tickets/{event.ticket_id}", headers=bearer("ra-hugo"))
    assert peek.status_code == 403
    assert set(peek.json()) == {"detail"}
    assert "brand" in peek.json()["detail"]


async def test_any_agent_of_the_brand_may_answer_a_queued_ticket_and_thereby_claims_it(svc: Booted) -> None:
    for _ in range(2):
        await route(svc, classified(svc, brand="rally"))  # Hugo's two slots
    event = classified(svc, brand="rally")
    (queued,) = await route(svc, event)
    assert isinstance(queued, TicketQueued)
    url = f"/v1/tickets/{event.ticket_id}/reply"
    response = await svc.client.post(url, json={"text": "On it!"}, headers=bearer("ra-hugo"))
    assert response.status_code == 202, response.text
    claimed, replied, _ = await emitted(svc)
    assert isinstance(claimed, TicketAssigned)
    assert (claimed.agent_id, claimed.reason) == ("ra-hugo", "claimed")
    assert isinstance(replied, AgentReplied)
    queue = (await svc.client.get("/v1/queue", headers=bearer("ra-hugo"))).json()
    assert queue["agent_id"] == "ra-hugo"
    assert str(event.ticket_id) in [t["ticket_id"] for t in queue["tickets"]]
    assert len(queue["tickets"]) == 3


async def test_tickets_not_being_worked_cannot_be_answered(svc: Booted) -> None:
    noise = classified(svc, queue="ignore", category="spam")
    faq = classified(svc, category="query", priority="low", auto_reply="luggage_policy")
    await route(svc, noise, faq)
    for ticket_id, state in ((noise.ticket_id, "dismissed"), (faq.ticket_id, "resolved")):
        answer = await svc.client.post(f"/v1/tickets/{ticket_id}/reply", json={"text": "hi"}, headers=LEAD)
        assert answer.status_code == 409, answer.text
        assert state in answer.json()["detail"]
    assert await emitted(svc) == []


async def test_resolve_with_a_root_cause_closes_the_ticket_once(svc: Booted) -> None:
    event = classified(svc)
    (assigned,) = await route(svc, event)
    assert isinstance(assigned, TicketAssigned)
    url = f"/v1/tickets/{event.ticket_id}/resolve"
    auth = bearer(assigned.agent_id)
    assert (await svc.client.post(url, json={"root_cause": ""}, headers=auth)).status_code == 400
    done = await svc.client.post(
        url, json={"root_cause": "Bus swapped at Newark; refund issued"}, headers=auth
    )
    assert done.status_code == 200, done.text
    again = await svc.client.post(url, json={"root_cause": "again"}, headers=auth)
    assert again.status_code == 409
    assert "already resolved" in again.json()["detail"]
    (resolved,) = await emitted(svc)
    assert isinstance(resolved, TicketResolved)
    assert resolved.root_cause.startswith("Bus swapped")
    ticket = (await svc.client.get(f"/v1/tickets/{event.ticket_id}", headers=auth)).json()
    assert (ticket["status"], ticket["root_cause"]) == ("resolved", resolved.root_cause)
    assert (await svc.client.get("/v1/queue", headers=auth)).json()["tickets"] == []


async def test_routing_and_desk_outcomes_are_counted(svc: Booted) -> None:
    event = classified(svc)
    await route(svc, event, classified(svc, queue="ignore", category="spam"))
    await svc.client.post(
        f"/v1/tickets/{event.ticket_id}/reply", json={"text": "hi"}, headers=bearer("ob-ben")
    )
    metrics = (await svc.client.get("/metrics")).text
    assert 'assigner_messages_routed_total{transition="assign"} 1.0' in metrics
    assert 'assigner_messages_routed_total{transition="dismiss"} 1.0' in metrics
    assert 'assigner_desk_actions_total{action="reply",outcome="forbidden"} 1.0' in metrics


async def test_wiring_reads_classified_messages_and_writes_only_its_own_topics(svc: Booted) -> None:
    # classified messages to route; the desk's read model from messages, SLA, deliveries, trends
    assert set(consumed_topics(svc.parts.handlers)) == {
        TOPICS.classified,
        TOPICS.messages,
        TOPICS.sla,
        TOPICS.deliveries,
        TOPICS.trends,
    }
    assert wiring_problems(SPEC.name, svc.parts.handlers, svc.parts.emits) == []
