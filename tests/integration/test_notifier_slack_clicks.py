"""Slack button clicks at the notifier's interactivity URL (issue 11 item 4), through its real
bootstrap: signed requests only, one effect per click, ephemeral answers via response_url."""

from __future__ import annotations

import uuid

import pytest

from socialdesk_schemas.desk import OwnershipRefused
from socialdesk_schemas.outbound import EscalationAcknowledged, OwnershipRequested
from tests.fakes.slack import FakeSlack
from tests.integration.test_notifier_slack_support import (
    assigned,
    click,
    clock_of,
    drain,
    escalated,
    lead_resolved,
    notifier,
    opened,
    slack,
)
from tests.support import Booted, envelope

pytestmark = pytest.mark.integration
__all__ = ["notifier", "slack"]

URL = "/v1/slack/interactions"


async def breached(notifier: Booted) -> uuid.UUID:
    """A ticket escalated to L3 with its parent posted in the L3 channel."""
    ticket = uuid.uuid4()
    await notifier.feed(*opened(notifier, ticket), assigned(notifier, ticket))
    await notifier.feed(escalated(notifier, ticket, "L3"))
    await drain(notifier, rounds=2)
    await notifier.emitted()
    return ticket


async def test_acknowledge_emits_the_event_once_answers_ephemerally_and_updates_the_parent(
    notifier: Booted, slack: FakeSlack
) -> None:
    ticket = await breached(notifier)
    body, headers = click(notifier, slack, ticket, "acknowledge", "U0FARAH", action_ts="1767225633.000200")
    assert (await notifier.client.post(URL, content=body, headers=headers)).status_code == 200
    # Slack retries the same click (same action ts): nothing more happens.
    assert (await notifier.client.post(URL, content=body, headers=headers)).status_code == 200
    (ack,) = [e for e in await notifier.emitted() if isinstance(e, EscalationAcknowledged)]
    assert (ack.ticket_id, ack.agent_id, ack.slack_user_id) == (ticket, "ob-lead", "U0FARAH")
    answers = await slack.await_responses(2)
    assert answers[0]["response_type"] == "ephemeral" and "acknowledged" in answers[0]["text"]
    assert "already handled" in answers[1]["text"]
    await drain(notifier, rounds=3)
    parent = slack.messages("C0OBLEAD")[0]
    assert "Acknowledged by <@U0FARAH>" in parent["text"]
    # A second press (another action ts) of the same button: refused, no second event.
    body, headers = click(notifier, slack, ticket, "acknowledge", "U0FARAH")
    assert (await notifier.client.post(URL, content=body, headers=headers)).status_code == 200
    assert "already acknowledged" in (await slack.await_responses(3))[2]["text"]
    assert not [e for e in await notifier.emitted() if isinstance(e, EscalationAcknowledged)]


async def test_take_ownership_asks_the_assigner_and_shows_who_acted(
    notifier: Booted, slack: FakeSlack
) -> None:
    ticket = await breached(notifier)
    body, headers = click(notifier, slack, ticket, "take_ownership", "U0FARAH")
    assert (await notifier.client.post(URL, content=body, headers=headers)).status_code == 200
    (wanted,) = [e for e in await notifier.emitted() if isinstance(e, OwnershipRequested)]
    assert (wanted.ticket_id, wanted.agent_id, wanted.brand) == (ticket, "ob-lead", "ourbus")
    await drain(notifier, rounds=3)
    assert "Taken by <@U0FARAH>" in slack.messages("C0OBLEAD")[0]["text"]
    # The assigner assigns: the parent shows the new owner and the thread says so.
    await notifier.feed(assigned(notifier, ticket, "ob-lead", agent_level="L3", reason="claimed"))
    await drain(notifier, rounds=3)
    thread = slack.thread("C0OBLEAD", slack.messages("C0OBLEAD")[0]["ts"])
    assert any("Reassigned to <@U0FARAH>" in m["text"] for m in thread)


@pytest.mark.parametrize(
    ("user", "action", "expected"),
    [
        ("U0NOBODY", "acknowledge", "not on the desk's roster"),
        ("U0OBANA", "acknowledge", "needs level L3"),  # Ana is L1; the ticket is at L3
    ],
)
async def test_unmapped_or_junior_users_are_refused_ephemerally_and_nothing_changes(
    notifier: Booted, slack: FakeSlack, user: str, action: str, expected: str
) -> None:
    ticket = await breached(notifier)
    updates = len(slack.updates)
    body, headers = click(notifier, slack, ticket, action, user)
    assert (await notifier.client.post(URL, content=body, headers=headers)).status_code == 200
    (answer,) = await slack.await_responses(1)
    assert expected in answer["text"] and answer["response_type"] == "ephemeral"
    assert await notifier.emitted() == []
    await drain(notifier, rounds=2)
    assert len(slack.updates) == updates


async def test_forged_or_stale_clicks_are_401_and_change_nothing(notifier: Booted, slack: FakeSlack) -> None:
    ticket = await breached(notifier)
    forged = click(notifier, slack, ticket, "acknowledge", "U0FARAH", secret="not-the-secret")
    stale = click(notifier, slack, ticket, "acknowledge", "U0FARAH", age_seconds=301)
    for body, headers in (forged, stale):
        assert (await notifier.client.post(URL, content=body, headers=headers)).status_code == 401
    body, headers = click(notifier, slack, ticket, "acknowledge", "U0FARAH")
    tampered = body.replace(b"acknowledge", b"take_ownership")
    assert (await notifier.client.post(URL, content=tampered, headers=headers)).status_code == 401
    assert (await notifier.client.post(URL, content=body, headers={})).status_code == 401
    assert await notifier.emitted() == []
    assert slack.responses == []


async def test_unknown_and_resolved_tickets_get_a_clear_answer(notifier: Booted, slack: FakeSlack) -> None:
    body, headers = click(notifier, slack, uuid.uuid4(), "take_ownership", "U0FARAH")
    assert (await notifier.client.post(URL, content=body, headers=headers)).status_code == 200
    assert "unknown to the desk" in (await slack.await_responses(1))[0]["text"]
    ticket = await breached(notifier)
    await notifier.feed(lead_resolved(notifier, ticket))
    body, headers = click(notifier, slack, ticket, "acknowledge", "U0FARAH")
    assert (await notifier.client.post(URL, content=body, headers=headers)).status_code == 200
    assert "already resolved" in (await slack.await_responses(2))[1]["text"]
    assert not [e for e in await notifier.emitted() if isinstance(e, EscalationAcknowledged)]


async def test_a_refused_take_ownership_is_said_in_the_thread_and_undone_on_the_parent(
    notifier: Booted, slack: FakeSlack
) -> None:
    ticket = await breached(notifier)
    body, headers = click(notifier, slack, ticket, "take_ownership", "U0FARAH")
    assert (await notifier.client.post(URL, content=body, headers=headers)).status_code == 200
    (wanted,) = [e for e in await notifier.emitted() if isinstance(e, OwnershipRequested)]
    await drain(notifier, rounds=3)
    assert "Taken by" in slack.messages("C0OBLEAD")[0]["text"]
    clock = clock_of(notifier)
    await notifier.feed(
        OwnershipRefused(
            **envelope(clock, ticket),
            brand="ourbus",
            agent_id="ob-lead",
            slack_user_id="U0FARAH",
            request_event_id=wanted.event_id,
            reason="Farah is off shift",
            refused_at=clock.now(),
        )
    )
    await drain(notifier, rounds=3)
    parent = slack.messages("C0OBLEAD")[0]
    assert "Taken by" not in parent["text"]
    thread = slack.thread("C0OBLEAD", parent["ts"])
    assert any("<@U0FARAH> could not take this ticket: Farah is off shift" in m["text"] for m in thread)
