"""The agents' desk (issue 9) through the assigner's real bootstrap on real PostgreSQL: the
read model fed by other services' events, the ticket page, the queue, every desk action,
approvals, presence and draining, escalation, routing rules, reports, idempotency."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_schemas import (
    AgentReplied,
    Author,
    Event,
    MessageClassified,
    MessageReceived,
    NotificationDelivered,
    ReplyRequested,
    SlaWarning,
    TicketAssigned,
    TicketQueued,
    TicketResolved,
)
from socialdesk_schemas.desk import FollowUpPromised, InternalNoteAdded, TicketReopened
from socialdesk_schemas.outbound import DeliveryFailed, DeliverySucceeded, ReplyStatusChanged
from socialdesk_schemas.platforms import MessageDeleted, MessageEdited, OwnMessageSeen
from socialdesk_schemas.sla import FollowUpDue, SlaClockArmed
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


# --- desk actions --------------------------------------------------------------------------


async def test_notes_are_internal_and_emitted_as_such(svc: Booted) -> None:
    message = await arrive(svc)
    await emitted(svc)
    url = f"/v1/tickets/{message.ticket_id}/notes"
    first = await svc.client.post(url, json={"text": "VIP"}, headers=auth("ob-lead", "n-1"))
    again = await svc.client.post(url, json={"text": "VIP"}, headers=auth("ob-lead", "n-1"))
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    other = await svc.client.post(url, json={"text": "not VIP"}, headers=auth("ob-lead", "n-1"))
    assert other.status_code == 422
    (note,) = await emitted(svc)
    assert isinstance(note, InternalNoteAdded)
    assert note.text == "VIP"
    assert len((await page(svc, message.ticket_id))["notes"]) == 1


async def test_saved_replies_with_placeholders(svc: Booted) -> None:
    listing = await svc.client.get("/v1/saved-replies?brand=ourbus&language=en", headers=auth("ob-ana"))
    assert listing.status_code == 200
    keys = [r["key"] for r in listing.json()["saved_replies"]]
    assert "luggage_policy" in keys
    assert (await svc.client.get("/v1/saved-replies?brand=rally", headers=auth("ob-ana"))).status_code == 403
    message = await arrive(svc)
    (assigned,) = await emitted(svc)
    assert isinstance(assigned, TicketAssigned)
    url = f"/v1/tickets/{message.ticket_id}/reply"
    filled = await svc.client.post(
        url,
        json={
            "text": "Hi {customer_name}, booking {booking_number} is rebooked.",
            "placeholders": {"booking_number": "OB-123"},
        },
        headers=auth(assigned.agent_id),
    )
    assert filled.status_code == 202, filled.text
    missing = await svc.client.post(
        url, json={"text": "Booking {booking_number}"}, headers=auth(assigned.agent_id)
    )
    assert missing.status_code == 422
    assert "booking_number" in missing.json()["detail"]
    saved = await svc.client.post(
        url, json={"saved_reply": "luggage_policy"}, headers=auth(assigned.agent_id)
    )
    assert saved.status_code == 202, saved.text
    unknown = await svc.client.post(url, json={"saved_reply": "nope"}, headers=auth(assigned.agent_id))
    assert unknown.status_code == 422
    requests = [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
    assert requests[0].text == "Hi Maria Lopez, booking OB-123 is rebooked."
    assert requests[1].template_key == "luggage_policy"
    assert requests[1].text.startswith("Each rider may bring")


async def test_claim_hand_off_pending_resolve_reopen(svc: Booted) -> None:
    # Rally: Hugo has two slots; the third ticket waits unowned.
    for _ in range(2):
        await arrive(svc, brand="rally")
    queued = await arrive(svc, brand="rally")
    assert isinstance((await emitted(svc))[-1], TicketQueued)
    tid = queued.ticket_id
    claimed = await svc.client.post(f"/v1/tickets/{tid}/claim", headers=auth("ra-lead", "c-1"))
    assert claimed.status_code == 200, claimed.text
    again = await svc.client.post(f"/v1/tickets/{tid}/claim", headers=auth("ra-hugo"))
    assert again.status_code == 403  # owned by the lead now
    handed = await svc.client.post(
        f"/v1/tickets/{tid}/assign",
        json={"agent_id": "ra-hugo", "note": "Refund approved, just confirm"},
        headers=auth("ra-lead"),
    )
    assert handed.status_code == 200, handed.text
    assert (
        await svc.client.post(
            f"/v1/tickets/{tid}/assign", json={"agent_id": "ob-ana"}, headers=auth("ra-lead")
        )
    ).status_code == 403
    assert (
        await svc.client.post(
            f"/v1/tickets/{tid}/assign", json={"agent_id": "ghost"}, headers=auth("ra-lead")
        )
    ).status_code == 422
    pending = await svc.client.post(
        f"/v1/tickets/{tid}/pending", json={"reason": "asked for booking number"}, headers=auth("ra-hugo")
    )
    assert pending.status_code == 200, pending.text
    events = await emitted(svc)
    assert [type(e).__name__ for e in events] == ["TicketAssigned", "TicketAssigned", "TicketPending"]
    assert isinstance(events[1], TicketAssigned)
    assert (events[1].agent_id, events[1].previous_agent_id, events[1].reason) == (
        "ra-hugo",
        "ra-lead",
        "reassigned",
    )
    # the customer writes: back to work, clocks re-armed
    back = classified(svc, brand="rally", ticket_id=tid, opens_ticket=False, platform_message_id="m-b")
    await svc.feed(back)
    (reopened,) = await emitted(svc)
    assert isinstance(reopened, TicketReopened) and reopened.reason == "customer_wrote"
    bad = await svc.client.post(
        f"/v1/tickets/{tid}/resolve",
        json={"root_cause": "x happened", "category": "nope"},
        headers=auth("ra-hugo"),
    )
    assert bad.status_code == 422
    done = await svc.client.post(
        f"/v1/tickets/{tid}/resolve",
        json={"root_cause": "refund issued", "category": "refund"},
        headers=auth("ra-hugo"),
    )
    assert done.status_code == 200, done.text
    twice = await svc.client.post(
        f"/v1/tickets/{tid}/resolve",
        json={"root_cause": "refund issued", "category": "refund"},
        headers=auth("ra-hugo"),
    )
    assert twice.status_code == 409
    resolved = [e for e in await emitted(svc) if isinstance(e, TicketResolved)]
    assert resolved[0].root_cause == "refund: refund issued"
    reopen = await svc.client.post(f"/v1/tickets/{tid}/reopen", headers=auth("ra-hugo"))
    assert reopen.status_code == 200, reopen.text
    (agent_reopened,) = await emitted(svc)
    assert isinstance(agent_reopened, TicketReopened) and agent_reopened.reason == "agent"
    body = await page(svc, tid, "ra-lead")
    assert any(n["text"].startswith("Hand-off to Hugo") for n in body["notes"])
    assert body["status"] == "assigned"


async def test_follow_up_feedback_and_testimonial(svc: Booted) -> None:
    message = await arrive(svc)
    (assigned,) = await emitted(svc)
    assert isinstance(assigned, TicketAssigned)
    tid, who = message.ticket_id, assigned.agent_id
    clock = svc.runtime.clock
    due = (clock.now() + timedelta(hours=4)).isoformat()
    promised = await svc.client.post(
        f"/v1/tickets/{tid}/follow-up", json={"due_at": due, "note": "call back"}, headers=auth(who)
    )
    assert promised.status_code == 201, promised.text
    past = (clock.now() - timedelta(hours=1)).isoformat()
    assert (
        await svc.client.post(f"/v1/tickets/{tid}/follow-up", json={"due_at": past}, headers=auth(who))
    ).status_code == 409
    feedback = await svc.client.post(f"/v1/tickets/{tid}/feedback", headers=auth(who))
    assert feedback.status_code == 202, feedback.text
    testimonial = await svc.client.post(
        f"/v1/tickets/{tid}/testimonial", json={"note": "lovely words"}, headers=auth(who)
    )
    assert testimonial.status_code == 201
    events = await emitted(svc)
    assert isinstance(events[0], FollowUpPromised)
    asks = [e for e in events if isinstance(e, ReplyRequested)]
    assert len(asks) == 1 and "How did we do" in asks[0].text
    await svc.feed(
        FollowUpDue(
            **ev(svc, tid),
            brand="ourbus",
            platform="instagram",
            agent_id=who,
            due_at=clock.now(),
            promised_at=clock.now(),
        )
    )
    body = await page(svc, tid)
    assert len(body["follow_ups"]) == 1
    assert "FollowUpDue" in [h["kind"] for h in body["history"]]
    assert any(n["kind"] == "testimonial" for n in body["notes"])


async def test_one_saved_reply_answers_a_whole_incident_group(svc: Booted) -> None:
    names = ["Ana P", "Bo Q", "Cy R"]
    for name in names:
        message = classified(svc, group_id="g-storm")
        await svc.feed(received(svc, message, "bus stuck in storm", name=name), message)
    await emitted(svc)
    response = await svc.client.post(
        "/v1/groups/g-storm/reply",
        json={"brand": "ourbus", "saved_reply": "luggage_policy"},
        headers=auth("ob-lead", "g-1"),
    )
    assert response.status_code == 202, response.text
    assert len(response.json()["replies"]) == 3
    requests = [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
    assert len({r.ticket_id for r in requests}) == 3
    again = await svc.client.post(
        "/v1/groups/g-storm/reply",
        json={"brand": "ourbus", "saved_reply": "luggage_policy"},
        headers=auth("ob-lead", "g-1"),
    )
    assert again.json() == response.json()
    assert [e for e in await emitted(svc) if isinstance(e, ReplyRequested)] == []
    assert (
        await svc.client.post(
            "/v1/groups/g-storm/reply",
            json={"brand": "ourbus", "saved_reply": "luggage_policy"},
            headers=auth("ra-hugo"),
        )
    ).status_code == 403


# --- approvals -----------------------------------------------------------------------------


async def test_held_replies_wait_for_a_peer_or_supervisor(fresh_db: str) -> None:
    config = desk_config({"approvals": {"categories": ["legal"], "new_agents": ["ob-ana"]}})
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=config) as svc:
        legal = await arrive(svc, category="legal")
        (assigned,) = await emitted(svc)
        assert isinstance(assigned, TicketAssigned)
        author = assigned.agent_id
        held = await svc.client.post(
            f"/v1/tickets/{legal.ticket_id}/reply", json={"text": "We will comply."}, headers=auth(author)
        )
        assert held.status_code == 202
        assert held.json()["status"] == "pending_approval"
        assert await emitted(svc) == []  # nothing sent
        reply_id = held.json()["reply_id"]
        own = await svc.client.post(f"/v1/replies/{reply_id}/approve", headers=auth(author))
        assert own.status_code == 409 and "own reply" in own.json()["detail"]
        peer_l1 = "ob-ben" if author != "ob-ben" else "ob-ana"
        assert (
            await svc.client.post(f"/v1/replies/{reply_id}/approve", headers=auth(peer_l1))
        ).status_code == 403
        listed = (await svc.client.get("/v1/replies/pending-approval", headers=auth("ob-lead"))).json()[
            "replies"
        ]
        assert [r["reply_id"] for r in listed] == [reply_id]
        ok = await svc.client.post(f"/v1/replies/{reply_id}/approve", headers=auth("ob-dee"))
        assert ok.status_code == 200, ok.text
        replied, request = await emitted(svc)
        assert isinstance(replied, AgentReplied) and replied.agent_id == author
        assert isinstance(request, ReplyRequested) and request.text == "We will comply."
        assert (
            await svc.client.post(f"/v1/replies/{reply_id}/approve", headers=auth("ob-lead"))
        ).status_code == 409
        # a new agent's reply is held too; a rejection needs a reason and sends nothing
        other = await arrive(svc, category="complaint")
        await emitted(svc)
        mine = await svc.client.post(
            f"/v1/tickets/{other.ticket_id}/reply", json={"text": "hi"}, headers=auth("ob-ana")
        )
        if mine.status_code == 403:  # not Ana's ticket: the lead assigns it to her first
            await svc.client.post(
                f"/v1/tickets/{other.ticket_id}/assign", json={"agent_id": "ob-ana"}, headers=auth("ob-lead")
            )
            await emitted(svc)
            mine = await svc.client.post(
                f"/v1/tickets/{other.ticket_id}/reply", json={"text": "hi"}, headers=auth("ob-ana")
            )
        assert mine.json()["status"] == "pending_approval"
        rid = mine.json()["reply_id"]
        assert (
            await svc.client.post(f"/v1/replies/{rid}/reject", json={}, headers=auth("ob-lead"))
        ).status_code == 422
        rejected = await svc.client.post(
            f"/v1/replies/{rid}/reject", json={"reason": "too short"}, headers=auth("ob-lead")
        )
        assert rejected.status_code == 200
        assert [e for e in await emitted(svc) if isinstance(e, ReplyRequested)] == []
        item = next(c for c in (await page(svc, other.ticket_id))["conversation"] if c["type"] == "reply")
        assert (item["delivery"], item["rejected_reason"]) == ("rejected", "too short")


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
