"""What the desk shows of a conversation beyond the words and whose a breach is, through the
assigner's real bootstrap on PostgreSQL: attachments, echoes of our own public replies,
breaches counted against the owner at that moment (decisions 0203, 0303)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import Attachment, TicketAssigned
from socialdesk_schemas.platforms import OwnMessageSeen
from socialdesk_schemas.sla import SlaClockArmed
from tests.integration.test_assigner import classified
from tests.integration.test_desk import arrive, auth, breached, emitted, ev, page, received, svc
from tests.support import Booted, booted

pytestmark = pytest.mark.integration

__all__ = ["svc"]  # the fixture, shared with test_desk


async def test_what_the_customer_sent_besides_words_is_on_the_ticket_page(svc: Booted) -> None:
    message = classified(svc)
    photo = Attachment(type="image", url="https://scontent.xx.fbcdn.net/seat.jpg", id=None)
    with_photo = received(svc, message, "look at this seat").model_copy(update={"attachments": [photo]})
    await svc.feed(with_photo, message)
    (item,) = [c for c in (await page(svc, message.ticket_id))["conversation"] if c["type"] == "message"]
    assert item["attachments"] == [
        {"type": "image", "url": "https://scontent.xx.fbcdn.net/seat.jpg", "id": None}
    ]


async def test_our_public_reply_coming_back_without_our_key_is_not_shown_twice(svc: Booted) -> None:
    """X's tweets and Meta's comments carry no key of ours: the echo of a reply the desk sent
    (same words, after the "@handle" the platform puts first) settles that reply; a message
    someone typed in the platform's own inbox is still shown as theirs."""
    message = await arrive(svc, platform="x", kind="mention")
    owner = next(e.agent_id for e in await emitted(svc) if isinstance(e, TicketAssigned))
    tid = message.ticket_id
    sent = await svc.client.post(
        f"/v1/tickets/{tid}/reply", json={"text": "On its way,  10 min"}, headers=auth(owner)
    )
    assert sent.status_code == 202, sent.text

    def echo(pmid: str, text: str) -> OwnMessageSeen:
        return OwnMessageSeen(
            **ev(svc, tid),
            brand="ourbus",
            platform="x",
            kind="mention",
            platform_message_id=pmid,
            text=text,
            sent_at=svc.runtime.clock.now(),
            typed_in_platform_inbox=True,
        )

    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    clock.advance(seconds=2)
    await svc.feed(echo("1900000000000000001", "@maria On its way, 10 min"))
    await svc.feed(echo("1900000000000000002", "@maria typed in X by Farah"))
    talk = (await page(svc, tid))["conversation"]
    replies = [c for c in talk if c["type"] == "reply"]
    assert [(c["from"], c["text"]) for c in replies] == [
        ("agent", "On its way,  10 min"),
        ("platform_inbox", "@maria typed in X by Farah"),
    ]
    assert (replies[0]["delivery"], replies[0]["platform_message_id"]) == ("sent", "1900000000000000001")


async def test_a_breach_counts_against_whoever_owned_the_ticket_when_it_breached(fresh_db: str) -> None:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock) as svc:
        start = clock.now()
        message = await arrive(svc)
        owner = next(e.agent_id for e in await emitted(svc) if isinstance(e, TicketAssigned))
        q = {
            "since": (start - timedelta(minutes=1)).isoformat(),
            "until": (start + timedelta(minutes=5)).isoformat(),
            "by": "agent",
        }

        async def breaches() -> dict[str, int]:
            got = await svc.client.get("/v1/reports/summary", params=q, headers=auth("ob-lead"))
            return {r["key"]: r["sla_breaches"] for r in got.json()["rows"]}

        await svc.feed(breached(svc, message.ticket_id, start + timedelta(seconds=4), owner))
        # the escalation gives it to the lead, who then owns it
        taken = await svc.client.post(
            f"/v1/tickets/{message.ticket_id}/assign", json={"agent_id": "ob-lead"}, headers=auth("ob-lead")
        )
        assert taken.status_code == 200, taken.text
        found = await breaches()
        assert found.get(owner) == 1 and not found.get("ob-lead")
        # a breach while the ticket waited unowned is nobody's, not the lead's who has it now
        await svc.feed(breached(svc, message.ticket_id, start + timedelta(seconds=60), None, "resolution"))
        found = await breaches()
        assert (found.get(owner), found.get("unassigned"), found.get("ob-lead", 0)) == (1, 1, 0)
        # the clock re-armed later (the customer wrote again) keeps the earlier breach on record
        await svc.feed(
            SlaClockArmed(
                **ev(svc, message.ticket_id),
                brand="ourbus",
                clock="first_response",
                due_at=start + timedelta(seconds=120),
                armed_at=start + timedelta(seconds=100),
            )
        )
        assert (await breaches()).get(owner) == 1
