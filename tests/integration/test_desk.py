"""The agents' desk (issue 9) through the assigner's real bootstrap on real PostgreSQL: the
read model fed by other services' events, the ticket page, the queue, every desk action,
approvals, presence and draining, escalation, routing rules, reports, idempotency."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from typing import Any

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_schemas import (
    Author,
    Event,
    MessageClassified,
    MessageReceived,
    NotificationDelivered,
    ReplyRequested,
    SlaBreached,
    SlaWarning,
    TicketAssigned,
)
from socialdesk_schemas.outbound import DeliveryFailed, DeliverySucceeded, ReplyStatusChanged
from socialdesk_schemas.platforms import MessageDeleted, MessageEdited, OwnMessageSeen
from socialdesk_schemas.sla import SlaClockArmed
from tests.integration.test_assigner import classified
from tests.support import Booted, booted, config_for_tests, envelope

pytestmark = pytest.mark.integration

TOKENS = {
    "ob-ana": "tok-ana",
    "ob-ben": "tok-ben",
    "ob-cid": "tok-cid",
    "ob-dee": "tok-dee",
    "ob-lead": "tok-lead",
    "ob-mgr": "tok-mgr",
    "ra-hugo": "tok-hugo",
    "ra-lead": "tok-ralead",
}


def auth(agent_id: str, key: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {TOKENS[agent_id]}"}
    if key is not None:
        headers["Idempotency-Key"] = key
    return headers


def desk_config(
    desk: dict[str, Any] | None = None,
    agents: dict[str, dict[str, Any]] | None = None,
    routing: dict[str, Any] | None = None,
) -> SocialdeskConfig:
    """The test configuration with a ``desk`` section, agent and routing changes."""
    base = config_for_tests()
    data = base.model_dump(mode="json", exclude_none=True)
    data["routing"].update(routing or {})
    if desk is not None:
        data["desk"] = desk
    for agent in data["agents"]:
        agent.update((agents or {}).get(agent["id"], {}))
    config = SocialdeskConfig.model_validate(data)
    config._env = base._env
    return config


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


def received(svc: Booted, of: MessageClassified, text: str, name: str = "Maria Lopez") -> MessageReceived:
    return MessageReceived(
        **envelope(svc.runtime.clock, of.ticket_id),
        message_id=of.message_id,
        conversation_id=of.conversation_id,
        customer_id=of.customer_id,
        brand=of.brand,
        platform=of.platform,
        kind=of.kind,
        platform_message_id=of.platform_message_id,
        author=Author(platform_user_id=of.author_platform_user_id, handle="@maria", display_name=name),
        text=text,
        received_at=of.received_at,
    )


async def arrive(
    svc: Booted, text: str = "My bus is 2 hours late, I want a refund", **over: Any
) -> MessageClassified:
    """A customer message as ingest and the classifier report it; the assigner routes it."""
    message = classified(svc, **over)
    outcome = await svc.feed(received(svc, message, text), message)
    assert outcome.get("processed") == 2, outcome
    return message


async def emitted(svc: Booted) -> list[Event]:
    events = await svc.emitted()
    assert {type(e) for e in events} <= set(svc.parts.emits)
    return events


async def page(svc: Booted, ticket_id: uuid.UUID, agent: str = "ob-lead") -> dict[str, Any]:
    response = await svc.client.get(f"/v1/tickets/{ticket_id}", headers=auth(agent))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def ev(svc: Booted, ticket_id: uuid.UUID) -> dict[str, Any]:
    return envelope(svc.runtime.clock, ticket_id)


def breached(
    svc: Booted, ticket_id: uuid.UUID, at: datetime, agent_id: str | None, metric: str = "first_response"
) -> SlaBreached:
    """sla-monitor's breach of an OurBus Instagram ticket's clock, owned by ``agent_id`` then."""
    return SlaBreached.model_validate(
        {
            **ev(svc, ticket_id),
            "brand": "ourbus",
            "platform": "instagram",
            "metric": metric,
            "priority": "high",
            "deadline": at,
            "breached_at": at,
            "agent_id": agent_id,
        }
    )


# --- the ticket page -----------------------------------------------------------------------


async def test_the_ticket_page_shows_the_whole_conversation_and_its_context(svc: Booted) -> None:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    first = await arrive(svc, "My bus is 2 hours late", group_id="g-late-nyc")
    tid = first.ticket_id
    (assigned,) = [e for e in await emitted(svc) if isinstance(e, TicketAssigned)]
    owner = assigned.agent_id
    # another ticket of the same customer, and another of the same incident group
    await arrive(svc, "and the wifi is broken", customer_id=first.customer_id)
    await arrive(svc, "late here too", group_id="g-late-nyc")
    clock.advance(seconds=10)
    await svc.feed(
        MessageEdited(
            **ev(svc, tid),
            message_id=first.message_id,
            brand="ourbus",
            platform="instagram",
            platform_message_id=first.platform_message_id,
            text="My bus is 3 hours late",
            edited_at=clock.now(),
        )
    )
    second = classified(
        svc, ticket_id=tid, opens_ticket=False, platform_message_id="m-second", customer_id=first.customer_id
    )
    await svc.feed(received(svc, second, "oops wrong chat"), second)
    await svc.feed(
        MessageDeleted(
            **ev(svc, tid),
            message_id=second.message_id,
            brand="ourbus",
            platform="instagram",
            platform_message_id="m-second",
            deleted_at=clock.now(),
        )
    )
    clock.advance(seconds=5)
    reply = await svc.client.post(
        f"/v1/tickets/{tid}/reply", json={"text": "So sorry! Rebooking you."}, headers=auth(owner)
    )
    assert reply.status_code == 202, reply.text
    reply_id = uuid.UUID(reply.json()["reply_id"])
    await svc.feed(
        DeliverySucceeded(
            **ev(svc, tid),
            reply_id=reply_id,
            brand="ourbus",
            platform="instagram",
            platform_message_id="ig-out-1",
            sent_at=clock.now(),
        ),
        ReplyStatusChanged(
            **ev(svc, tid),
            reply_id=reply_id,
            brand="ourbus",
            platform="instagram",
            status="read",
            at=clock.now(),
        ),
        # a late "sent" never hides "read"
        DeliverySucceeded(
            **ev(svc, tid),
            reply_id=reply_id,
            brand="ourbus",
            platform="instagram",
            platform_message_id="ig-out-1",
            sent_at=clock.now(),
        ),
    )
    clock.advance(seconds=1)
    await svc.feed(
        OwnMessageSeen(
            **ev(svc, tid),
            brand="ourbus",
            platform="instagram",
            kind="dm",
            platform_message_id="ig-inbox-7",
            text="(typed in Meta Business Suite) done!",
            sent_at=clock.now(),
            typed_in_platform_inbox=True,
        )
    )
    due = clock.now() + timedelta(hours=1)
    await svc.feed(
        SlaClockArmed(**ev(svc, tid), brand="ourbus", clock="resolution", due_at=due, armed_at=clock.now()),
        SlaWarning(
            **ev(svc, tid),
            brand="ourbus",
            platform="instagram",
            metric="resolution",
            priority="high",
            deadline=due,
            agent_id=owner,
            remaining_seconds=900,
        ),
    )
    note = await svc.client.post(
        f"/v1/tickets/{tid}/notes", json={"text": "Customer is a regular; offer voucher"}, headers=auth(owner)
    )
    assert note.status_code == 201, note.text

    body = await page(svc, tid)
    talk = body["conversation"]
    assert [(c["type"], c["from"]) for c in talk] == [
        ("message", "customer"),
        ("message", "customer"),
        ("reply", "agent"),
        ("reply", "platform_inbox"),
    ]
    assert talk[0]["text"] == "My bus is 3 hours late"
    assert (talk[0]["edited"], talk[0]["original_text"]) == (True, "My bus is 2 hours late")
    assert talk[0]["author"] == "Maria Lopez"
    assert talk[1]["deleted"] is True
    assert (talk[2]["delivery"], talk[2]["platform_message_id"]) == ("read", "ig-out-1")
    assert talk[3]["text"].endswith("done!")
    assert body["classification"]["reasons"] == ["negative words: late, refund"]
    assert body["classification"]["confidence"] == {"complaint": 0.91}
    assert body["group"]["group_id"] == "g-late-nyc"
    assert body["group"]["tickets"] == 2
    assert [c["platform"] for c in body["customer"]["channels"]] == ["instagram"]
    assert body["customer"]["channels"][0]["display_name"] == "Maria Lopez"
    assert len(body["customer"]["other_tickets"]) == 1
    (clock_row,) = body["sla"]
    assert (clock_row["clock"], clock_row["state"]) == ("resolution", "warned")
    assert [n["text"] for n in body["notes"]] == ["Customer is a regular; offer voucher"]
    kinds = [h["kind"] for h in body["history"]]
    assert kinds[0] == "TicketAssigned"
    assert {"MessageEdited", "MessageDeleted", "AgentReplied", "SlaWarning", "InternalNoteAdded"} <= set(
        kinds
    )
    assert body["message_count"] == 2 and body["status"] == "assigned"


async def test_a_group_of_one_ticket_is_not_shown_as_an_incident(svc: Booted) -> None:
    """The classifier opens a pending group for a post it cannot place yet (decision 0110)."""
    alone = await arrive(svc, "where is everyone??", group_id="g-pending-1")
    assert (await page(svc, alone.ticket_id))["group"] is None
    await arrive(svc, "nobody at the stop either", group_id="g-pending-1")
    assert (await page(svc, alone.ticket_id))["group"]["tickets"] == 2


async def test_a_failed_delivery_shows_its_reason(svc: Booted) -> None:
    message = await arrive(svc)
    await emitted(svc)
    sent = await svc.client.post(
        f"/v1/tickets/{message.ticket_id}/reply", json={"text": "Hello"}, headers=auth("ob-lead")
    )
    reply_id = uuid.UUID(sent.json()["reply_id"])
    await svc.feed(
        DeliveryFailed(
            **ev(svc, message.ticket_id),
            reply_id=reply_id,
            brand="ourbus",
            platform="instagram",
            reason="window_closed",
            detail="24h window",
            failed_at=svc.runtime.clock.now(),
        )
    )
    (item,) = [c for c in (await page(svc, message.ticket_id))["conversation"] if c["type"] == "reply"]
    assert item["delivery"] == "failed"
    assert item["failure_reason"] == "window_closed: 24h window"


async def test_bad_input_gets_the_right_refusal(svc: Booted) -> None:
    message = await arrive(svc)
    tid = message.ticket_id
    assert (await svc.client.get(f"/v1/tickets/{uuid.uuid4()}", headers=auth("ob-lead"))).status_code == 404
    other = await svc.client.get(f"/v1/tickets/{tid}", headers=auth("ra-hugo"))
    assert other.status_code == 403
    assert "My bus" not in other.text
    assert (
        await svc.client.get("/v1/queue", headers={"Authorization": "Bearer stranger"})
    ).status_code == 401
    big = "x" * 4001
    assert (
        await svc.client.post(f"/v1/tickets/{tid}/notes", json={"text": big}, headers=auth("ob-lead"))
    ).status_code == 413
    assert (
        await svc.client.post(f"/v1/tickets/{tid}/reply", json={"text": big}, headers=auth("ob-lead"))
    ).status_code == 413
    huge = {"text": "y" * 70000}
    assert (
        await svc.client.post(f"/v1/tickets/{tid}/notes", json=huge, headers=auth("ob-lead"))
    ).status_code == 413


# --- the queue -----------------------------------------------------------------------------


async def test_the_queue_is_most_urgent_first_and_scoped_by_level(svc: Booted) -> None:
    clock = svc.runtime.clock
    low = await arrive(svc, priority="low")
    crit = await arrive(svc, priority="critical", platform="facebook")
    soon = await arrive(svc, priority="medium")
    events = await emitted(svc)
    owners = {e.ticket_id: e.agent_id for e in events if isinstance(e, TicketAssigned)}
    await svc.feed(
        SlaClockArmed(
            **ev(svc, soon.ticket_id),
            brand="ourbus",
            clock="first_response",
            due_at=clock.now() + timedelta(minutes=5),
            armed_at=clock.now(),
        ),
        SlaClockArmed(
            **ev(svc, crit.ticket_id),
            brand="ourbus",
            clock="first_response",
            due_at=clock.now() + timedelta(minutes=30),
            armed_at=clock.now(),
        ),
    )
    lead = (await svc.client.get("/v1/queue", headers=auth("ob-lead"))).json()["tickets"]
    assert [t["ticket_id"] for t in lead] == [str(soon.ticket_id), str(crit.ticket_id), str(low.ticket_id)]
    assert lead[0]["sla_due_at"] is not None
    only_fb = (await svc.client.get("/v1/queue?platform=facebook", headers=auth("ob-lead"))).json()["tickets"]
    assert [t["ticket_id"] for t in only_fb] == [str(crit.ticket_id)]
    low_only = (await svc.client.get("/v1/queue?priority=low", headers=auth("ob-lead"))).json()["tickets"]
    assert [t["ticket_id"] for t in low_only] == [str(low.ticket_id)]
    # an L1 sees their own tickets (and the unowned queue), not colleagues'
    ana = (await svc.client.get("/v1/queue", headers=auth("ob-ana"))).json()["tickets"]
    assert {t["ticket_id"] for t in ana} == {str(t) for t, a in owners.items() if a == "ob-ana"}
    # another brand's agent sees none of them; TMT has no token here, L4 sees all of the brand
    assert (await svc.client.get("/v1/queue", headers=auth("ra-hugo"))).json()["tickets"] == []
    assert len((await svc.client.get("/v1/queue", headers=auth("ob-mgr"))).json()["tickets"]) == 3


async def test_a_reply_only_written_to_the_local_sink_says_so_and_auto_replies_are_in_the_conversation(
    svc: Booted,
) -> None:
    message = await arrive(svc)
    await emitted(svc)
    sent = await svc.client.post(
        f"/v1/tickets/{message.ticket_id}/reply", json={"text": "Hello"}, headers=auth("ob-lead")
    )
    assert sent.status_code == 202
    (request,) = [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
    await svc.feed(
        NotificationDelivered(
            **ev(svc, message.ticket_id),
            source_event_id=request.event_id,
            source_event_type="ReplyRequested",
            channel="local",
            destination="sink",
            attempts=1,
            delivered_at=svc.runtime.clock.now(),
        )
    )
    (item,) = [c for c in (await page(svc, message.ticket_id))["conversation"] if c["type"] == "reply"]
    assert (item["delivery"], item["failure_reason"]) == ("local", "local: sink")
    faq = await arrive(
        svc, "How many bags can I bring?", category="query", priority="low", auto_reply="luggage_policy"
    )
    talk = (await page(svc, faq.ticket_id))["conversation"]
    assert [(c["type"], c["from"]) for c in talk] == [("message", "customer"), ("reply", "auto_reply")]
    assert talk[1]["text"].startswith("Each rider may bring")
