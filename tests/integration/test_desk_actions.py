"""Desk actions (issue 9) through the assigner's real bootstrap on real PostgreSQL: notes,
saved replies with placeholders, claim, hand-off, pending, resolve with a root cause,
reopen, follow-ups, feedback, testimonials, one answer to a whole incident group, and
replies held for approval."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import AgentReplied, ReplyRequested, TicketAssigned, TicketQueued, TicketResolved
from socialdesk_schemas.desk import FollowUpPromised, InternalNoteAdded, TicketReopened
from socialdesk_schemas.sla import FollowUpDue
from tests.integration.test_desk import (
    arrive,
    auth,
    classified,
    desk_config,
    emitted,
    ev,
    page,
    received,
    svc,
)
from tests.support import Booted, booted

pytestmark = pytest.mark.integration

__all__ = ["svc"]  # the fixture, shared with test_desk

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


async def test_blank_words_and_a_hand_off_to_someone_offline_are_refused_and_nothing_is_emitted(
    svc: Booted,
) -> None:
    message = await arrive(svc)
    owner = next(e.agent_id for e in await emitted(svc) if isinstance(e, TicketAssigned))
    base = f"/v1/tickets/{message.ticket_id}"
    reply = await svc.client.post(f"{base}/reply", json={"text": "    "}, headers=auth(owner))
    note = await svc.client.post(f"{base}/notes", json={"text": " \n "}, headers=auth(owner))
    resolve = await svc.client.post(
        f"{base}/resolve", json={"root_cause": "    ", "category": "delay"}, headers=auth(owner)
    )
    offline = await svc.client.post(f"{base}/assign", json={"agent_id": "ob-cid"}, headers=auth("ob-lead"))
    assert offline.status_code == 409 and "offline" in offline.json()["detail"]
    assert [r.status_code for r in (reply, note, resolve)] == [422, 422, 422]
    assert "blank" in reply.json()["detail"] and "root cause" in resolve.json()["detail"]
    assert await emitted(svc) == []
    ticket = await page(svc, message.ticket_id)
    assert ticket["status"] != "resolved" and not ticket["notes"]


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
    # one survey per ticket, whoever asks: the lead's click answers with the one sent
    twice = await svc.client.post(f"/v1/tickets/{tid}/feedback", headers=auth("ob-lead", "fb-lead"))
    assert twice.status_code == 200 and twice.json()["already"] is True
    assert twice.json()["reply_id"] == feedback.json()["reply_id"]
    assert [e for e in await emitted(svc) if isinstance(e, ReplyRequested)] == []
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
    # Without a key, the same answer from anyone is the same request: sent once, in all.
    first = await svc.client.post(
        "/v1/groups/g-storm/reply",
        json={"brand": "ourbus", "saved_reply": "luggage_policy", "placeholders": {"note": "storm"}},
        headers=auth("ob-lead"),
    )
    assert first.status_code == 202, first.text
    assert len([e for e in await emitted(svc) if isinstance(e, ReplyRequested)]) == 3
    by_manager = await svc.client.post(
        "/v1/groups/g-storm/reply",
        json={"brand": "ourbus", "saved_reply": "luggage_policy", "placeholders": {"note": "storm"}},
        headers=auth("ob-mgr"),
    )
    assert by_manager.status_code == 202, by_manager.text
    assert all(r.get("already") for r in by_manager.json()["replies"])
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
