"""The echo of a reply the desk sent, coming back late (decision 0305), through the assigner's
real bootstrap on real PostgreSQL with a fake clock: by the platform's id of what was sent
whatever the delay, by the same words while the reply is still on its way; either way shown
once and never counted as a second reply (no ``AgentReplied``)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import AgentReplied, MessageClassified, TicketAssigned
from socialdesk_schemas.outbound import DeliverySucceeded
from socialdesk_schemas.platforms import OwnMessageSeen
from tests.integration.test_desk import arrive, auth, desk_config, emitted, ev, page
from tests.support import Booted, booted

pytestmark = pytest.mark.integration

HOURS = 3600.0


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    config = desk_config({"approvals": {"categories": ["legal"]}})
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=config) as service:
        yield service


def clock_of(svc: Booted) -> FakeClock:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    return clock


def ours_back(
    svc: Booted, ticket_id: uuid.UUID, pmid: str, text: str, at: datetime | None = None
) -> OwnMessageSeen:
    """The Page's comment (posted at ``at``, else now) coming back through Meta's webhook (no
    key of ours: typed, as far as ingest can tell)."""
    return OwnMessageSeen(
        **ev(svc, ticket_id),
        brand="ourbus",
        platform="facebook",
        kind="comment",
        platform_message_id=pmid,
        text=text,
        sent_at=at or clock_of(svc).now(),
        typed_in_platform_inbox=True,
    )


async def a_comment(svc: Booted, **over: Any) -> tuple[MessageClassified, str]:
    """A customer's Facebook comment routed on the desk, and who owns it."""
    message = await arrive(svc, platform="facebook", kind="comment", **over)
    return message, next(e.agent_id for e in await emitted(svc) if isinstance(e, TicketAssigned))


async def replies_on(svc: Booted, ticket_id: uuid.UUID) -> list[tuple[Any, ...]]:
    talk = (await page(svc, ticket_id))["conversation"]
    return [
        (c["from"], c.get("delivery"), c.get("platform_message_id")) for c in talk if c["type"] == "reply"
    ]


async def sent_without_an_id(svc: Booted, message: Any, owner: str, text: str) -> None:
    """The owner replies ``text``; the notifier reports it sent with no platform id."""
    asked = await svc.client.post(
        f"/v1/tickets/{message.ticket_id}/reply", json={"text": text}, headers=auth(owner)
    )
    reply_id = uuid.UUID(asked.json()["reply_id"])
    sent = DeliverySucceeded(
        **ev(svc, message.ticket_id),
        reply_id=reply_id,
        brand="ourbus",
        platform="facebook",
        platform_message_id=None,
        sent_at=clock_of(svc).now(),
    )
    await svc.feed(sent)
    await emitted(svc)


async def test_an_echo_hours_late_is_known_by_the_id_of_what_was_sent(svc: Booted) -> None:
    """Sent three hours after it was asked for (rate limits, an outage): the notifier's report
    names the comment; its echo, with words the platform changed, is that reply."""
    message, owner = await a_comment(svc)
    asked = await svc.client.post(
        f"/v1/tickets/{message.ticket_id}/reply", json={"text": "Refund sent today."}, headers=auth(owner)
    )
    assert asked.status_code == 202, asked.text
    reply_id = uuid.UUID(asked.json()["reply_id"])
    assert [type(e) for e in await emitted(svc)].count(AgentReplied) == 1
    clock_of(svc).advance(seconds=3 * HOURS)
    sent = DeliverySucceeded(
        **ev(svc, message.ticket_id),
        reply_id=reply_id,
        brand="ourbus",
        platform="facebook",
        platform_message_id="880011_42",
        sent_at=clock_of(svc).now(),
    )
    clock_of(svc).advance(seconds=2 * HOURS)  # and its echo two hours after that
    outcome = await svc.feed(
        sent, ours_back(svc, message.ticket_id, "880011_42", "Dana: Refund sent today 👍")
    )
    assert outcome.get("processed") == 2, outcome
    assert [e for e in await emitted(svc) if isinstance(e, AgentReplied)] == []
    assert await replies_on(svc, message.ticket_id) == [("agent", "sent", "880011_42")]


async def test_a_reply_approved_hours_later_is_known_by_its_words_before_the_report(svc: Booted) -> None:
    """Held for approval, approved four hours later, posted at once: its echo reaches the desk
    before the notifier's report (another topic). The same words settle it."""
    message, owner = await a_comment(svc, category="legal")
    held = await svc.client.post(
        f"/v1/tickets/{message.ticket_id}/reply",
        json={"text": "We will refund you in full."},
        headers=auth(owner),
    )
    assert held.json()["status"] == "pending_approval", held.text
    clock_of(svc).advance(seconds=4 * HOURS)
    approved = await svc.client.post(
        f"/v1/replies/{held.json()['reply_id']}/approve", headers=auth("ob-lead")
    )
    assert approved.status_code == 200, approved.text
    assert [type(e) for e in await emitted(svc)].count(AgentReplied) == 1
    clock_of(svc).advance(seconds=30)
    outcome = await svc.feed(
        ours_back(svc, message.ticket_id, "880011_43", "@Dana We will refund you in full.")
    )
    assert outcome.get("processed") == 1, outcome
    assert [e for e in await emitted(svc) if isinstance(e, AgentReplied)] == []
    assert await replies_on(svc, message.ticket_id) == [("agent", "sent", "880011_43")]


async def test_the_same_words_long_after_the_send_are_someone_typing_them_again(svc: Booted) -> None:
    """Sent with no id reported, and an hour and more later the same words come from the
    Page: beyond the window it is a person's reply, counted as such."""
    message, owner = await a_comment(svc)
    await sent_without_an_id(svc, message, owner, "Thanks, Dana!")
    clock_of(svc).advance(seconds=2 * HOURS)
    await svc.feed(ours_back(svc, message.ticket_id, "880011_44", "Thanks, Dana!"))
    (typed,) = [e for e in await emitted(svc) if isinstance(e, AgentReplied)]
    assert (typed.agent_id, typed.is_first_response) == ("inbox:facebook", False)
    assert [r[0] for r in await replies_on(svc, message.ticket_id)] == ["agent", "platform_inbox"]


async def test_a_message_typed_in_the_inbox_on_a_resolved_ticket_is_shown_and_stops_nothing(
    svc: Booted,
) -> None:
    message, owner = await a_comment(svc)
    done = await svc.client.post(
        f"/v1/tickets/{message.ticket_id}/resolve",
        json={"root_cause": "duplicate of another post"},
        headers=auth(owner),
    )
    assert done.status_code == 200, done.text
    await emitted(svc)
    clock_of(svc).advance(seconds=60)
    await svc.feed(ours_back(svc, message.ticket_id, "880011_45", "Closing this here, see DM."))
    assert await emitted(svc) == []
    body = await page(svc, message.ticket_id)
    assert (body["status"], body["first_response_at"]) == ("resolved", None)
    assert [r[0] for r in await replies_on(svc, message.ticket_id)] == ["platform_inbox"]


async def test_a_message_typed_before_the_reply_was_asked_for_is_not_its_echo(svc: Booted) -> None:
    """Typed in Meta at 10:00, its webhook late; at 10:02 the desk asks for a reply with the
    same words. The typed one is a person's reply (and the ticket's first response); our
    reply keeps its own id, from its real echo, which counts as nothing."""
    message, owner = await a_comment(svc)
    typed_at = clock_of(svc).now()
    clock_of(svc).advance(seconds=120)
    asked = await svc.client.post(
        f"/v1/tickets/{message.ticket_id}/reply", json={"text": "Thanks, Dana!"}, headers=auth(owner)
    )
    assert asked.status_code == 202, asked.text
    await emitted(svc)
    clock_of(svc).advance(seconds=5)
    await svc.feed(ours_back(svc, message.ticket_id, "880011_46", "Thanks, Dana!", at=typed_at))
    (typed,) = [e for e in await emitted(svc) if isinstance(e, AgentReplied)]
    assert (typed.agent_id, typed.replied_at) == ("inbox:facebook", typed_at)
    clock_of(svc).advance(seconds=5)
    await svc.feed(ours_back(svc, message.ticket_id, "880011_47", "@Dana Thanks, Dana!"))
    assert [e for e in await emitted(svc) if isinstance(e, AgentReplied)] == []
    replies = await replies_on(svc, message.ticket_id)
    assert [r for r in replies if r[0] == "agent"] == [("agent", "sent", "880011_47")]
    assert [r[0] for r in replies].count("platform_inbox") == 1
    body = await page(svc, message.ticket_id)
    assert datetime.fromisoformat(body["first_response_at"]) == typed_at, "typed before the desk's"


async def test_a_reply_sent_with_no_id_learns_it_from_its_echo(svc: Booted) -> None:
    """X refused a duplicate: the lost attempt went out, so the notifier reports the reply sent
    with no id. Its echo (same words, within the hour) names it; read again later, that id
    still says it is ours."""
    message, owner = await a_comment(svc)
    await sent_without_an_id(svc, message, owner, "On its way.")
    clock_of(svc).advance(seconds=60)
    await svc.feed(ours_back(svc, message.ticket_id, "880011_48", "On its way."))
    assert [e for e in await emitted(svc) if isinstance(e, AgentReplied)] == []
    assert await replies_on(svc, message.ticket_id) == [("agent", "sent", "880011_48")]
    clock_of(svc).advance(seconds=3 * HOURS)  # beyond the words' window: the id settles it
    await svc.feed(ours_back(svc, message.ticket_id, "880011_48", "On its way."))
    assert [e for e in await emitted(svc) if isinstance(e, AgentReplied)] == []
