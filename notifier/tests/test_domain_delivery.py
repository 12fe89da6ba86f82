"""A delivery's life as pure decisions: lease, look first, sent, failed, retry when (no IO)."""

import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from socialdesk_notifier.domain import (
    Delivery,
    DeliveryPolicy,
    Failed,
    Retry,
    SendResult,
    Sent,
    backoff_seconds,
    outcome_event,
)
from socialdesk_schemas import NotificationDelivered, NotificationFailed

NOW = datetime(2026, 1, 1, 9, tzinfo=UTC)
POLICY = DeliveryPolicy(lease_seconds=30, max_age=timedelta(hours=24))


def claimed(
    attempts: int = 1,
    *,
    lease_left: float = 30,
    age: timedelta = timedelta(minutes=1),
    ambiguous: bool = False,
    throttles: int = 0,
) -> Delivery:
    return Delivery(
        id=uuid.uuid4(),
        idempotency_key="e:slack:C0",
        source_event_id=uuid.uuid4(),
        source_event_type="TicketEscalated",
        ticket_id=uuid.uuid4(),
        correlation_id=uuid.uuid4(),
        channel="slack",
        destination="C0",
        payload={"text": "hi"},
        attempts=attempts,
        lease_until=NOW + timedelta(seconds=lease_left),
        created_at=NOW - age,
        ambiguous_since=NOW - timedelta(seconds=10) if ambiguous else None,
        throttles=throttles,
    )


def test_backoff_doubles_and_is_capped() -> None:
    assert [backoff_seconds(n) for n in (1, 2, 3, 4)] == [1, 2, 4, 8]
    assert backoff_seconds(50) == 300


def test_a_claim_leases_for_the_lease_time() -> None:
    assert POLICY.lease_until(NOW) == NOW + timedelta(seconds=30)


def test_only_an_attempt_after_a_lost_answer_looks_for_an_earlier_send() -> None:
    assert not POLICY.must_look_first(claimed(1))
    # A refusal (429, channel_not_found) proves nothing went out: no history read (issue 7.4).
    assert not POLICY.must_look_first(claimed(2))
    assert POLICY.must_look_first(claimed(2, ambiguous=True))
    delivery = claimed(2, ambiguous=True)
    assert POLICY.history_since(delivery) < delivery.created_at


def test_sends_only_with_at_least_half_the_lease_left() -> None:
    assert POLICY.may_send(claimed(lease_left=15), NOW)
    assert not POLICY.may_send(claimed(lease_left=14.9), NOW)
    assert not POLICY.may_send(claimed(lease_left=-1), NOW)


def test_a_successful_send_is_sent_with_its_reference() -> None:
    assert POLICY.after_send(claimed(), SendResult(ok=True, external_ref="1.2"), NOW) == Sent("1.2", NOW)
    parts = SendResult(ok=True, external_ref="m1", refs=("m1", "m2"))
    assert POLICY.after_send(claimed(), parts, NOW) == Sent("m1", NOW, refs=("m1", "m2"))


def test_a_found_earlier_send_is_sent_and_recovered() -> None:
    assert POLICY.found_sent("1.2", NOW) == Sent("1.2", NOW, recovered=True)


def test_a_permanent_error_fails_at_once_and_is_not_retryable() -> None:
    result = SendResult(ok=False, error="x: permission", permanent=True, reason="permission", code=200)
    assert POLICY.after_send(claimed(1), result, NOW) == Failed(
        "x: permission", retryable=False, at=NOW, reason="permission", code=200
    )


def test_a_transient_error_retries_with_backoff_for_hours_not_a_count_of_attempts() -> None:
    result = SendResult(ok=False, error="slack: HTTP 503", ambiguous=True)
    assert POLICY.after_send(claimed(2), result, NOW) == Retry(
        "slack: HTTP 503", NOW + timedelta(seconds=2), ambiguous=True, at=NOW
    )
    # Fifty attempts in, still retried (two minutes of outage abandoned pages: issue 7.3)...
    assert isinstance(POLICY.after_send(claimed(50, age=timedelta(hours=2)), result, NOW), Retry)
    # ...until the delivery is older than max_age.
    old = POLICY.after_send(claimed(50, age=timedelta(hours=24)), result, NOW)
    assert isinstance(old, Failed)
    assert old.retryable


def test_rate_limited_retries_after_what_the_other_side_asked_and_never_gives_up_by_count() -> None:
    result = SendResult(ok=False, error="slack: ratelimited (HTTP 429)", retry_after=7, throttled=True)
    decision = POLICY.after_send(claimed(1000, throttles=999), result, NOW)
    assert isinstance(decision, Retry)
    assert decision.not_before == NOW + timedelta(seconds=7)
    assert decision.throttled and not decision.ambiguous


def test_throttled_without_a_wait_backs_off_by_the_throttled_attempts_alone() -> None:
    result = SendResult(ok=False, error="graph 613", throttled=True)
    decision = POLICY.after_send(claimed(9, throttles=2), result, NOW)
    assert isinstance(decision, Retry)
    assert decision.not_before == NOW + timedelta(seconds=4)
    gave_up = POLICY.after_send(claimed(9, throttles=8, age=timedelta(days=2)), result, NOW)
    assert isinstance(gave_up, Failed)
    assert gave_up.reason == "throttled_too_long"


def test_a_failed_lookup_retries_rather_than_sending_blind_until_too_old() -> None:
    decision = POLICY.lookup_failed(claimed(2, ambiguous=True), "timeout", NOW)
    assert decision == Retry("lookup failed: timeout", NOW + timedelta(seconds=2), ambiguous=True, at=NOW)
    old = POLICY.lookup_failed(claimed(2, ambiguous=True, age=timedelta(days=1)), "timeout", NOW)
    assert isinstance(old, Failed)
    assert old.reason == "unverifiable"


def test_a_throttled_lookup_waits_the_platforms_retry_after_whatever_the_attempts() -> None:
    # After a 10-minute outage the back-off is at its 5-minute cap: a 429 storm on the
    # history reads must not push every page another 5 minutes away (issue 7, faults).
    decision = POLICY.lookup_failed(claimed(12, ambiguous=True), "ratelimited", NOW, retry_after=3.0)
    assert isinstance(decision, Retry)
    assert decision.not_before == NOW + timedelta(seconds=3)
    assert decision.throttled and decision.ambiguous


def test_a_history_that_can_never_be_read_fails_as_unverifiable_at_once() -> None:
    decision = POLICY.lookup_failed(claimed(2, ambiguous=True), "missing_scope", NOW, possible=False)
    assert isinstance(decision, Failed)
    assert (decision.reason, decision.retryable) == ("unverifiable", True)


def test_an_ambiguous_send_waits_for_its_echo_for_echo_wait() -> None:
    assert POLICY.still_waiting_for_echo(claimed(2, ambiguous=True), NOW)
    assert not POLICY.still_waiting_for_echo(claimed(2, ambiguous=True), NOW + POLICY.echo_wait)
    assert not POLICY.still_waiting_for_echo(claimed(2), NOW)


def test_long_errors_are_cut() -> None:
    decision = POLICY.after_send(claimed(3), SendResult(ok=False, error="e" * 5000, permanent=True), NOW)
    assert isinstance(decision, Failed)
    assert len(decision.error) == 2000


def test_settled_deliveries_are_told_and_retries_are_not() -> None:
    delivery = claimed(2)
    sent = outcome_event(delivery, "slack", Sent("1.2", NOW))
    assert isinstance(sent, NotificationDelivered)
    assert (sent.source_event_id, sent.causation_id, sent.attempts) == (
        delivery.source_event_id,
        delivery.source_event_id,
        2,
    )
    assert sent.ticket_id == delivery.ticket_id
    failed = outcome_event(replace(delivery, destination="C9"), "local", Failed("x", retryable=True, at=NOW))
    assert isinstance(failed, NotificationFailed)
    assert (failed.channel, failed.destination, failed.retryable) == ("local", "C9", True)
    assert outcome_event(delivery, "slack", Retry("x", NOW)) is None
