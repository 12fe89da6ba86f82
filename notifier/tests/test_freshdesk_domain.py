"""The Freshdesk connector's rules, without a database or a network."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from socialdesk_notifier.freshdesk.domain.inbound import (
    WebhookError,
    inbound_key,
    is_our_status,
    is_our_text,
    is_reopening,
    is_resolution,
    parse_webhook,
    plain_text,
    reply_id_for,
)
from socialdesk_notifier.freshdesk.domain.ops import (
    Mirror,
    Op,
    create_body,
    escalation_priority,
    marker_tag,
)
from socialdesk_notifier.freshdesk.domain.outcomes import Answer, Done, Failed, Paused, Retry, decide
from socialdesk_notifier.freshdesk.domain.pacing import RateBudget
from socialdesk_notifier.freshdesk.domain.plans import (
    plans_for_priority_raised,
    plans_for_reopened,
    plans_for_resolved,
)
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config.freshdesk import FreshdeskBrand
from socialdesk_schemas import TicketResolved
from socialdesk_schemas.desk import TicketReopened
from tests.support import priority_raised

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
ACCOUNT = FreshdeskBrand(
    enabled=True,
    base_url="https://ourbus.freshdesk.com",
    api_key_env="FD_KEY",
    webhook_secret_env="FD_SECRET",
    group_id=7,
    desk_ticket_url="https://desk.example/t/{ticket_id}",
)


def op(kind: str = "create", attempts: int = 1, age: timedelta = timedelta(0)) -> Op:
    return Op(
        id=1,
        idempotency_key="k",
        ticket_id=uuid.uuid4(),
        brand="ourbus",
        kind=kind,
        payload={},
        attempts=attempts,
        throttles=0,
        lease_until=None,
        ambiguous_since=None,
        created_at=NOW - age,
    )


def mirror(**over: object) -> Mirror:
    fields: dict[str, object] = {
        "ticket_id": uuid.UUID(int=5),
        "brand": "ourbus",
        "platform": "x",
        "kind": "dm",
        "customer_platform_user_id": "12345",
        "customer_name": None,
        "first_text": "My bus <is> late\nand I want a refund",
        "opened_at": NOW,
    }
    fields.update(over)
    return Mirror(**fields)  # type: ignore[arg-type]  # test data


# --- the create ------------------------------------------------------------------------------


def test_the_create_names_the_requester_by_social_identity_never_an_email() -> None:
    body = create_body(mirror(), {"priority": 4, "tags": ["ourbus"]}, ACCOUNT)
    assert body["unique_external_id"] == "x:12345" and "email" not in body
    assert body["group_id"] == 7 and body["priority"] == 4 and body["status"] == 2
    assert "&lt;is&gt;" in body["description"]  # the customer's text is escaped HTML
    assert "https://desk.example/t/00000000-0000-0000-0000-000000000005" in body["description"]
    assert body["subject"].startswith("x dm: My bus <is> late and I want")


def test_the_marker_tag_is_short_and_unique_per_ticket() -> None:
    a, b = marker_tag(uuid.uuid4()), marker_tag(uuid.uuid4())
    assert a != b and a.startswith("sd-") and len(a) <= 32


def test_escalation_raises_one_step_to_urgent_at_most() -> None:
    assert escalation_priority(None, "medium", ACCOUNT) == 3
    assert escalation_priority(3, "medium", ACCOUNT) == 4
    assert escalation_priority(4, "critical", ACCOUNT) == 4


# --- answers ---------------------------------------------------------------------------------


def test_a_priority_raise_sets_the_mapped_priority_and_never_lowers_one_escalated_further() -> None:
    raised = priority_raised(FakeClock(NOW), uuid.UUID(int=5), previous_priority="low")
    plans, priority = plans_for_priority_raised(raised, mirror(fd_priority=1), ACCOUNT)
    assert priority == ACCOUNT.priorities["critical"] == 4
    assert [(p.kind, p.role) for p in plans] == [("note", "priority_raised"), ("update", "priority")]
    assert "from low to critical (keyword rule)" in plans[0].payload["body"]
    lower = raised.model_copy(update={"priority": "high"})
    plans, priority = plans_for_priority_raised(lower, mirror(fd_priority=4), ACCOUNT)
    assert priority == 4 and [p.kind for p in plans] == ["note"], "already Urgent: kept"


def decided(answer: Answer, o: Op | None = None) -> object:
    return decide(o or op(), answer, now=NOW, max_age=timedelta(hours=24), pause=timedelta(minutes=5))


def test_answers_decide_done_throttled_paused_failed_or_ambiguous() -> None:
    assert decided(Answer(201, {"id": 9})) == Done("9", NOW, {"id": 9})
    throttled = decided(Answer(429, {}, retry_after=7))
    assert (
        isinstance(throttled, Retry)
        and throttled.throttled
        and throttled.not_before == NOW + timedelta(seconds=7)
    )
    assert isinstance(decided(Answer(401, {})), Paused)
    group = {
        "description": "Validation failed",
        "errors": [{"field": "group_id", "message": "no", "code": "invalid_value"}],
    }
    paused = decided(Answer(400, group))
    assert isinstance(paused, Paused) and paused.reason == "group"
    failed = decided(
        Answer(
            400,
            {"description": "Validation failed", "errors": [{"field": "tags", "message": "m", "code": "c"}]},
        )
    )
    assert isinstance(failed, Failed) and "tags: m (c)" in failed.error
    lost = decided(Answer(None, error="ReadTimeout"))
    assert isinstance(lost, Retry) and lost.ambiguous
    assert not decided(Answer(503, {}), op("update")).ambiguous  # type: ignore[attr-defined]
    assert isinstance(decided(Answer(503, {}), op(age=timedelta(hours=25))), Failed)


# --- pacing -----------------------------------------------------------------------------------


def test_our_share_of_the_window_is_never_exceeded() -> None:
    budget = RateBudget(window=60, share=0.5, total=10, create_cap=4)
    for _ in range(5):
        assert budget.wait(0.0) == 0
        budget.take(0.0)
    assert budget.wait(0.0) == 60  # 5 of 10 is our half
    assert budget.wait(60.0) == 0


def test_creates_have_their_own_cap_and_a_429_teaches_the_real_one() -> None:
    budget = RateBudget(window=60, share=1.0, total=100, create_cap=10)
    for _ in range(6):
        budget.take(0.0, create=True)
    budget.throttled(1.0, 30.0, create=True)
    assert budget.hold_until == 31.0 and budget.creates_allowed == 5
    assert budget.wait(1.0, create=True) == 59.0  # held, and the window is full of creates


def test_others_using_the_account_slow_us_down() -> None:
    budget = RateBudget(window=60, share=0.5, total=100, create_cap=10)
    budget.observe(0.0, total=100, remaining=40)  # others used 60: only their reserve left
    assert budget.wait(0.0) > 0
    budget.observe(0.0, total=100, remaining=90)
    assert budget.wait(0.0) == 0


# --- webhooks ----------------------------------------------------------------------------------


def test_the_webhook_body_is_parsed_and_bad_ones_refused() -> None:
    inbound = parse_webhook(
        {
            "ticket_id": "42",
            "event": "Reply",
            "status": "Resolved",
            "body": "<p>Hi &amp; bye</p>",
            "agent_id": "7",
        }
    )
    assert (inbound.fd_ticket_id, inbound.event, inbound.status, inbound.agent_id) == (42, "reply", 4, 7)
    assert plain_text(inbound.body) == "Hi & bye"
    with pytest.raises(WebhookError):
        parse_webhook({"event": "reply"})
    with pytest.raises(WebhookError):
        parse_webhook({"ticket_id": 1, "event": "deleted"})


def test_a_repeated_webhook_has_the_same_key_and_reply_id() -> None:
    a = parse_webhook({"ticket_id": 1, "event": "reply", "body": "<p>Hello</p>"})
    b = parse_webhook({"ticket_id": 1, "event": "reply", "body": "Hello"})
    assert inbound_key("ourbus", a) == inbound_key("ourbus", b)
    assert reply_id_for(inbound_key("ourbus", a)) == reply_id_for(inbound_key("ourbus", b))


def test_our_own_changes_are_recognised() -> None:
    resolved = parse_webhook({"ticket_id": 1, "event": "status", "status": "Resolved"})
    assert is_resolution(resolved)
    assert is_our_status(resolved, mirror(state="resolved"))
    assert not is_our_status(resolved, mirror(state="open"))
    note = parse_webhook({"ticket_id": 1, "event": "reply", "body": "<p>Sorry!</p>"})
    assert is_our_text(note, ["<p>Sorry!</p>"]) and not is_our_text(note, ["<p>Other</p>"])


def test_open_or_pending_on_a_ticket_resolved_here_is_a_reopen_and_our_own_reopen_is_not() -> None:
    opened = parse_webhook({"ticket_id": 1, "event": "status", "status": "Open"})
    pending = parse_webhook({"ticket_id": 1, "event": "status", "status": "Pending"})
    assert is_reopening(opened, mirror(state="resolved")) and is_reopening(pending, mirror(state="resolved"))
    # Resolved in Freshdesk and set Open there before socialdesk heard of the resolve.
    assert is_reopening(opened, mirror(state="open", fd_status=4))
    # Open all along: Open again is no news. (The echo of our own Open: the ops log says.)
    assert not is_reopening(opened, mirror(state="open", fd_status=2))
    assert not is_reopening(parse_webhook({"ticket_id": 1, "event": "status", "status": "Closed"}), mirror())
    assert not is_resolution(opened)


def _reopened(reason: str = "customer_wrote") -> TicketReopened:
    return TicketReopened(
        producer="assigner",
        occurred_at=NOW,
        ticket_id=uuid.UUID(int=5),
        correlation_id=uuid.uuid4(),
        brand="ourbus",
        platform="x",
        priority="high",
        agent_id="ob-ana",
        reopened_at=NOW,
        reason=reason,  # type: ignore[arg-type]  # test data
    )


def test_a_reopen_here_opens_the_freshdesk_ticket_with_why_unless_it_was_reopened_there() -> None:
    note, update = plans_for_reopened(_reopened(), mirror(state="resolved", fd_status=4))
    assert update.kind == "update" and update.payload == {"status": 2}
    assert note.payload["private"] and "the customer wrote again" in note.payload["body"]
    by_agent = plans_for_reopened(_reopened("agent"), mirror(state="resolved", fd_status=4))
    assert "by ob-ana" in by_agent[0].payload["body"]
    # Set Open in Freshdesk first (the webhook marked the mirror open, status 2): nothing owed.
    assert plans_for_reopened(_reopened("agent"), mirror(state="open", fd_status=2)) == []
    assert plans_for_reopened(_reopened(), None) == []


def test_a_resolve_made_in_freshdesk_is_not_set_there_again() -> None:
    """Setting Resolved again could undo a reopen the agent made there meanwhile."""
    resolved = TicketResolved.model_validate(
        {
            "producer": "assigner",
            "occurred_at": NOW,
            "ticket_id": uuid.UUID(int=5),
            "correlation_id": uuid.uuid4(),
            "brand": "ourbus",
            "agent_id": "ob-ana",
            "root_cause": "other: resolved in Freshdesk",
            "resolved_at": NOW,
        }
    )
    here = plans_for_resolved(resolved, mirror(state="open", fd_status=2))
    assert [p.kind for p in here] == ["note", "update"] and here[1].payload == {"status": 4}
    there = plans_for_resolved(resolved, mirror(state="open", fd_status=4))
    assert [p.kind for p in there] == ["note"]
