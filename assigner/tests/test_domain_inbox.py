"""Replies typed in a platform's own inbox, on plain data (decision 0305): when one counts as
the brand's reply on a ticket, and when a message of ours coming back is the echo of a reply
the desk sent instead, however late."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from socialdesk_assigner.domain import Ticket
from socialdesk_assigner.domain.inbox import (
    InboxReply,
    OurReply,
    answered_before_routing,
    answered_in_inbox,
    counted,
    echo_of,
    inbox_agent,
    inbox_reply_id,
)
from socialdesk_assigner.domain.ticket import Step
from socialdesk_schemas import AgentReplied

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
TicketFactory = Callable[..., Ticket]


def typed(t: Ticket, *, at: datetime = NOW, pmid: str = "c-1", platform: Any = "facebook") -> Any:
    return answered_in_inbox(
        t, platform=platform, platform_message_id=pmid, at=at, now=NOW + timedelta(seconds=3)
    )


# --- when a reply typed in the inbox counts ------------------------------------------------


def test_a_reply_typed_in_the_inbox_is_the_tickets_first_response_and_stops_its_clocks(
    ticket: TicketFactory,
) -> None:
    t = ticket(status="assigned", agent_id="ana", platform="facebook")
    step = typed(t, at=NOW)
    (replied,) = step.events
    assert isinstance(replied, AgentReplied)
    assert (replied.agent_id, replied.is_first_response, replied.replied_at) == ("inbox:facebook", True, NOW)
    assert (replied.ticket_id, replied.brand, replied.platform) == (t.ticket_id, t.brand, "facebook")
    assert replied.correlation_id == t.correlation_id
    assert step.ticket.first_response_at == NOW and step.ticket.last_activity_at == NOW
    assert (step.ticket.status, step.ticket.agent_id) == ("assigned", "ana"), "it claims nothing"


def test_the_same_message_read_twice_is_the_same_reply(ticket: TicketFactory) -> None:
    t = ticket(status="assigned", agent_id="ana")
    (first,) = typed(t, pmid="c-1").events
    (again,) = typed(t, pmid="c-1").events
    (other,) = typed(t, pmid="c-2").events
    assert (
        isinstance(first, AgentReplied)
        and isinstance(again, AgentReplied)
        and isinstance(other, AgentReplied)
    )
    assert first.reply_id == again.reply_id == inbox_reply_id(t.ticket_id, "facebook", "c-1")
    assert other.reply_id != first.reply_id


def test_after_a_first_response_it_is_a_next_reply(ticket: TicketFactory) -> None:
    earlier = NOW - timedelta(minutes=5)
    t = ticket(status="assigned", agent_id="ana", first_response_at=earlier)
    step = typed(t)
    (replied,) = step.events
    assert isinstance(replied, AgentReplied) and not replied.is_first_response
    assert step.ticket.first_response_at == earlier


def test_a_queued_or_pending_ticket_is_answered_too_and_keeps_its_state(ticket: TicketFactory) -> None:
    for status, owner in (("open", None), ("pending", "ana")):
        step = typed(ticket(status=status, agent_id=owner))
        assert [type(e) for e in step.events] == [AgentReplied]
        assert (step.ticket.status, step.ticket.agent_id) == (status, owner)


def test_a_resolved_ticket_changes_nothing(ticket: TicketFactory) -> None:
    """Nothing runs to stop; the brand's words do not reopen it; a reply after the close is
    not the ticket's first response."""
    t = ticket(status="resolved", agent_id="ana", resolved_at=NOW - timedelta(hours=1), root_cause="x")
    step = typed(t)
    assert step.events == () and step.ticket == t


def test_a_marketing_or_dismissed_ticket_records_its_answer_and_emits_nothing(ticket: TicketFactory) -> None:
    for queue, status in (("marketing", "marketing"), ("ignore", "dismissed")):
        step = typed(ticket(queue=queue, status=status))
        assert step.events == ()
        assert step.ticket.first_response_at == NOW


def test_the_agent_id_names_the_platform_typed_in_never_a_person() -> None:
    assert inbox_agent("instagram") == "inbox:instagram"
    assert ":" in inbox_agent("x")  # a roster id cannot hold a colon (AgentId)


def test_replies_typed_before_the_ticket_was_routed_count_from_its_opening(ticket: TicketFactory) -> None:
    opened_at = NOW - timedelta(minutes=10)
    t = ticket(status="assigned", agent_id="ana", received_at=opened_at)
    before_it = InboxReply("facebook", "c-0", opened_at - timedelta(minutes=1))  # an earlier episode's
    first, second = (InboxReply("facebook", f"c-{i}", opened_at + timedelta(minutes=i)) for i in (1, 2))
    step, taken = answered_before_routing(t, [second, before_it, first], opened_at=opened_at, now=NOW)
    assert [(e.replied_at, e.is_first_response) for e in step.events if isinstance(e, AgentReplied)] == [
        (first.at, True),
        (second.at, False),
    ]
    assert step.ticket.first_response_at == first.at
    assert taken == (first, second)
    assert answered_before_routing(t, [before_it], opened_at=opened_at, now=NOW) == (
        Step(t, (), "inbox_reply"),
        (),
    )


def test_a_reply_counted_before_is_never_counted_again_on_a_reopening(ticket: TicketFactory) -> None:
    """Counted, then the ticket was resolved; a customer message received before the resolve
    (the classifier lagged) reopens it: the reply answered the earlier episode."""
    opened_at = NOW - timedelta(minutes=10)
    t = ticket(status="assigned", agent_id="ana", received_at=opened_at)
    once = InboxReply("facebook", "c-1", opened_at + timedelta(minutes=1), counted=True)
    fresh = InboxReply("facebook", "c-2", opened_at + timedelta(minutes=2))
    step, taken = answered_before_routing(t, [once, fresh], opened_at=opened_at, now=NOW)
    assert [e.replied_at for e in step.events if isinstance(e, AgentReplied)] == [fresh.at]
    assert taken == (fresh,)


def test_only_a_reply_on_a_ticket_not_resolved_counts(ticket: TicketFactory) -> None:
    assert counted(typed(ticket(status="assigned", agent_id="ana")))
    assert counted(typed(ticket(queue="marketing", status="marketing")))  # its first response
    assert not counted(typed(ticket(status="resolved", resolved_at=NOW - timedelta(hours=1))))


def test_a_reply_typed_before_the_desks_first_reply_but_read_after_it_is_the_first_response(
    ticket: TicketFactory,
) -> None:
    desk_at = NOW
    t = ticket(status="assigned", agent_id="ana", first_response_at=desk_at, last_activity_at=desk_at)
    step = typed(t, at=desk_at - timedelta(minutes=2))
    (replied,) = step.events
    assert isinstance(replied, AgentReplied) and not replied.is_first_response  # the desk's was told first
    assert step.ticket.first_response_at == desk_at - timedelta(minutes=2)
    assert step.ticket.last_activity_at == desk_at


# --- the echo of a desk reply ----------------------------------------------------------------


def ours(text: str = "Dana, the refund left today.", **over: Any) -> OurReply:
    fields: dict[str, Any] = {
        "reply_id": uuid.uuid4(),
        "text": text,
        "status": "requested",
        "created_at": NOW - timedelta(minutes=1),
        "status_at": NOW - timedelta(minutes=1),
        "platform_message_id": None,
        **over,
    }
    return OurReply(**fields)


def test_the_platform_id_of_what_we_sent_settles_its_echo_however_late() -> None:
    """Held for approval, slowed by rate limits or an outage: days later, the id still says it
    is ours, even when the platform changed the words."""
    sent = ours(
        "On its way",
        status="sent",
        created_at=NOW - timedelta(days=3),
        status_at=NOW - timedelta(days=2),
        platform_message_id="c-77",
    )
    assert echo_of([sent], platform_message_id="c-77", text="@dana On its way 🚌", at=NOW) == sent
    assert echo_of([sent], platform_message_id="c-78", text="On its way", at=NOW) is None


def test_the_same_words_settle_a_reply_sent_within_the_hour_measured_from_the_send() -> None:
    asked_long_ago = ours(
        status="sent", created_at=NOW - timedelta(hours=5), status_at=NOW - timedelta(minutes=30)
    )
    assert echo_of(
        [asked_long_ago], platform_message_id="c-1", text="@dana Dana, the refund left today.", at=NOW
    )
    sent_long_ago = ours(
        status="sent", created_at=NOW - timedelta(hours=5), status_at=NOW - timedelta(hours=2)
    )
    assert (
        echo_of([sent_long_ago], platform_message_id="c-1", text="Dana, the refund left today.", at=NOW)
        is None
    )


def test_a_reply_still_on_its_way_is_matched_by_its_words_until_the_notifier_gives_up() -> None:
    """Approved three hours after it was written, its echo overtaking the notifier's report."""
    approved = ours(created_at=NOW - timedelta(hours=4), status_at=NOW - timedelta(hours=3))
    assert (
        echo_of([approved], platform_message_id="c-1", text="Dana, the refund left today.", at=NOW)
        == approved
    )
    forgotten = ours(created_at=NOW - timedelta(days=20), status_at=NOW - timedelta(days=15))
    assert (
        echo_of([forgotten], platform_message_id="c-1", text="Dana, the refund left today.", at=NOW) is None
    )


def test_a_reply_never_posted_has_no_echo() -> None:
    for status in ("pending_approval", "rejected", "failed", "local"):
        assert (
            echo_of(
                [ours(status=status)], platform_message_id="c-1", text="Dana, the refund left today.", at=NOW
            )
            is None
        )


def test_other_words_or_a_reply_whose_id_we_know_are_not_matched_by_words() -> None:
    assert echo_of([ours()], platform_message_id="c-1", text="Sorry for the wait!", at=NOW) is None
    known = ours(status="sent", status_at=NOW, platform_message_id="c-9")
    assert echo_of([known], platform_message_id="c-1", text="Dana, the refund left today.", at=NOW) is None


def test_of_two_replies_with_the_same_words_the_oldest_comes_back_first() -> None:
    older, newer = ours("Thanks!", created_at=NOW - timedelta(minutes=9)), ours("Thanks!")
    assert echo_of([newer, older], platform_message_id="c-1", text="Thanks!", at=NOW) == older


@pytest.mark.parametrize("status", ["delivered", "read"])
def test_a_reply_reported_past_sent_is_judged_from_that_report(status: str) -> None:
    late = ours(status=status, created_at=NOW - timedelta(hours=3), status_at=NOW - timedelta(minutes=5))
    assert echo_of([late], platform_message_id="c-1", text="Dana, the refund left today.", at=NOW) == late


def test_a_message_typed_before_the_reply_was_asked_for_is_not_its_echo() -> None:
    """Typed in Meta at 10:00, its webhook late; the desk asked at 10:02 for a reply with the
    same words: the typed one is a person's, not our echo (and so cannot take our reply's id)."""
    asked = NOW + timedelta(minutes=2)
    for status in ("requested", "sent"):
        mine = ours(status=status, created_at=asked, status_at=asked + timedelta(seconds=5))
        text = "Dana, the refund left today."
        assert echo_of([mine], platform_message_id="c-1", text=text, at=NOW) is None
        # the platform's clock a little behind the desk's: still ours
        assert echo_of([mine], platform_message_id="c-1", text=text, at=asked - timedelta(seconds=30)) == mine
