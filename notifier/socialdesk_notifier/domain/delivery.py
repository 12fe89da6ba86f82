"""A delivery's life: pending → sending (leased) → sent | failed, or back to pending later.

At most once per idempotency key, as far as the outside allows: a delivery is leased
before the send; if the process dies after the send and before recording it, the lease
runs out, the next claim counts a second attempt, and an attempt after the first asks
the sender whether the key already went out before sending again.

Every decision here is pure: given a delivery, what happened, and ``now``, what next.

Usage::

    policy = DeliveryPolicy(lease_seconds=30, max_age=timedelta(hours=24))
    if policy.may_send(delivery, now):
        decision = policy.after_send(delivery, result, now)  # Sent | Failed | Retry
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from socialdesk_schemas import Channel, Event, NotificationDelivered, NotificationFailed
from socialdesk_schemas.outbound import DeliveryFailed, DeliverySucceeded

__all__ = [
    "FAILED",
    "PENDING",
    "SENDING",
    "SENT",
    "Decision",
    "Delivery",
    "DeliveryPolicy",
    "Failed",
    "Retry",
    "SendResult",
    "Sent",
    "backoff_seconds",
    "outcome_event",
    "reply_outcome",
]

PRODUCER = "notifier"
#: Errors are kept for people to read, not as logs: long ones are cut.
ERROR_LIMIT = 2000
#: Look a little before the delivery was created: clocks of Slack and ours differ.
HISTORY_MARGIN = timedelta(seconds=5)

_PLATFORMS = frozenset({"facebook", "instagram", "messenger", "whatsapp", "x"})

# Statuses of a delivery row.
PENDING = "pending"
SENDING = "sending"
SENT = "sent"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One message owed to one destination, as claimed by a worker (attempts counts this one)."""

    id: uuid.UUID
    idempotency_key: str
    source_event_id: uuid.UUID
    source_event_type: str
    ticket_id: uuid.UUID
    correlation_id: uuid.UUID
    channel: str
    destination: str
    payload: dict[str, Any]
    attempts: int
    lease_until: datetime | None
    created_at: datetime
    #: Since when an earlier attempt may have gone out unseen (a timeout, a 5xx, a crash):
    #: until that is settled, nothing is sent again.
    ambiguous_since: datetime | None = None
    #: Attempts the other side throttled (their back-off is counted apart).
    throttles: int = 0
    #: Platform message ids of the parts of a reply already sent (a long text goes in parts).
    part_refs: list[str] | None = None
    #: When a person last re-drove it: its age counts from then.
    requeued_at: datetime | None = None

    @property
    def is_reply(self) -> bool:
        return self.source_event_type == "ReplyRequested"


@dataclass(frozen=True, slots=True)
class SendResult:
    """What a sender says of one attempt."""

    ok: bool
    external_ref: str | None = None
    error: str | None = None
    #: No retry will fix it (an unknown channel, a revoked token).
    permanent: bool = False
    #: The other side asked us to wait this long (HTTP 429 Retry-After).
    retry_after: float | None = None
    #: The other side throttled us (a 429, a Graph rate-limit code): not the message's fault.
    throttled: bool = False
    #: The message may have gone out though we got no answer (timeout, cut connection, 5xx).
    ambiguous: bool = False
    #: Why, in ``DeliveryFailed.reason`` words (window_closed, permission, ...), and the platform's code.
    reason: str | None = None
    code: int | None = None
    #: Every part's platform message id (a reply sent in parts), the first being ``external_ref``.
    refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Sent:
    external_ref: str | None
    at: datetime
    #: Found already sent by an earlier attempt that died before recording it.
    recovered: bool = False
    refs: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Failed:
    """Given up on for good."""

    error: str
    retryable: bool
    at: datetime
    reason: str = "platform_error"
    code: int | None = None


@dataclass(frozen=True, slots=True)
class Retry:
    """Back to pending until ``not_before``."""

    error: str
    not_before: datetime
    #: The attempt may have gone out: look before sending again.
    ambiguous: bool = False
    throttled: bool = False
    #: When the attempt was decided (the start of an ambiguity).
    at: datetime | None = None


Decision = Sent | Failed | Retry


def backoff_seconds(attempts: int) -> float:
    """1, 2, 4 … capped at 5 minutes between attempts of one delivery."""
    return float(min(300, 2 ** max(0, attempts - 1)))


def _short(error: str) -> str:
    return error[:ERROR_LIMIT]


@dataclass(frozen=True, slots=True)
class DeliveryPolicy:
    """The lease and retry rules of the delivery worker."""

    lease_seconds: float
    #: Give up on a delivery this old, whatever its attempts (issue 7: by age, never by 429s).
    max_age: timedelta = timedelta(hours=24)
    #: How long an ambiguous platform send waits for its echo before it is presumed lost.
    echo_wait: timedelta = timedelta(minutes=2)

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    def lease_until(self, now: datetime) -> datetime:
        return now + self.lease

    def must_look_first(self, delivery: Delivery) -> bool:
        """Only an attempt after one whose answer was lost (or a crash) must look first.

        A refusal (a 429, ``channel_not_found``) proves nothing went out: the next attempt
        sends without reading the channel history (issue 7 item 4).
        """
        return delivery.ambiguous_since is not None

    def too_old(self, delivery: Delivery, now: datetime) -> bool:
        return now - (delivery.requeued_at or delivery.created_at) >= self.max_age

    def still_waiting_for_echo(self, delivery: Delivery, now: datetime) -> bool:
        """An ambiguous platform send whose echo could still arrive through ingest."""
        return delivery.ambiguous_since is not None and now - delivery.ambiguous_since < self.echo_wait

    def history_since(self, delivery: Delivery) -> datetime:
        """Where to start looking for an earlier send of ``delivery``."""
        return delivery.created_at - HISTORY_MARGIN

    def may_send(self, delivery: Delivery, now: datetime) -> bool:
        """Only with at least half the lease left.

        A delivery that waited too long for its turn could be sent while its lease runs
        out and another worker reclaims it: leave it to that next claim instead.
        """
        return delivery.lease_until is None or delivery.lease_until - now >= self.lease / 2

    def found_sent(self, external_ref: str, now: datetime) -> Sent:
        return Sent(external_ref, now, recovered=True)

    def lookup_failed(
        self,
        delivery: Delivery,
        error: str,
        now: datetime,
        *,
        possible: bool = True,
        retry_after: float | None = None,
    ) -> Decision:
        """Never send blind.

        A lookup that may succeed later (a 429, a timeout, an echo not yet arrived) is
        retried until the delivery is ``max_age`` old; one that never can (the token lacks
        ``channels:history``) fails at once as ``unverifiable``: a person decides whether
        to re-drive it (``socialdesk notifier redrive --force``), never a blind retry loop.
        """
        if not possible:
            return Failed(_short(f"unverifiable: {error}"), retryable=True, at=now, reason="unverifiable")
        if self.too_old(delivery, now):
            return Failed(
                _short(f"gave up after {self.max_age}: {error}"),
                retryable=True,
                at=now,
                reason="unverifiable",
            )
        if retry_after is not None:
            # Throttled (a 429 storm after an outage): the platform's wait, not a back-off
            # that can reach 5 minutes and strand a page long after Slack is back.
            return Retry(
                _short(f"lookup throttled: {error}"),
                now + timedelta(seconds=retry_after),
                ambiguous=True,
                throttled=True,
                at=now,
            )
        return Retry(
            _short(f"lookup failed: {error}"),
            now + timedelta(seconds=backoff_seconds(delivery.attempts)),
            ambiguous=True,
            at=now,
        )

    def after_send(self, delivery: Delivery, result: SendResult, now: datetime) -> Decision:
        if result.ok:
            return Sent(result.external_ref, now, refs=result.refs)
        error = result.error or "unknown error"
        if result.permanent:
            return Failed(
                _short(error),
                retryable=False,
                at=now,
                reason=result.reason or "platform_error",
                code=result.code,
            )
        if self.too_old(delivery, now):
            reason = "throttled_too_long" if result.throttled else (result.reason or "platform_error")
            return Failed(
                _short(f"gave up after {self.max_age}: {error}"),
                retryable=True,
                at=now,
                reason=reason,
                code=result.code,
            )
        return self._retry(delivery, result, error, now)

    def _retry(self, delivery: Delivery, result: SendResult, error: str, now: datetime) -> Retry:
        """Throttled: after the platform's wait (or the back-off of the throttled attempts
        alone); otherwise after the back-off of the failed attempts."""
        if result.retry_after is not None:
            delay = result.retry_after
        elif result.throttled:
            delay = backoff_seconds(delivery.throttles + 1)
        else:
            delay = backoff_seconds(delivery.attempts - delivery.throttles)
        return Retry(
            _short(error),
            now + timedelta(seconds=delay),
            ambiguous=result.ambiguous,
            throttled=result.throttled,
            at=now,
        )


def outcome_event(delivery: Delivery, channel: Channel, decision: Decision) -> Event | None:
    """The fact the rest of the system hears of a settled delivery (nothing for a retry).

    A reply that went to a platform is ``DeliverySucceeded``/``DeliveryFailed``; one that
    went to the labelled local sink (no credentials) is only a ``NotificationDelivered``
    on channel ``local``: nothing pretends a customer heard it.
    """
    if isinstance(decision, Retry):
        return None
    if delivery.is_reply and (channel != "local" or isinstance(decision, Failed)):
        return reply_outcome(delivery, decision)
    fields: dict[str, Any] = {
        "producer": PRODUCER,
        "occurred_at": decision.at,
        "ticket_id": delivery.ticket_id,
        "correlation_id": delivery.correlation_id,
        "causation_id": delivery.source_event_id,
        "source_event_id": delivery.source_event_id,
        "source_event_type": delivery.source_event_type,
        "channel": channel,
        "destination": delivery.destination,
        "attempts": delivery.attempts,
    }
    if isinstance(decision, Sent):
        return NotificationDelivered.model_validate(
            {**fields, "external_ref": decision.external_ref, "delivered_at": decision.at}
        )
    return NotificationFailed.model_validate(
        {**fields, "error": decision.error, "retryable": decision.retryable}
    )


def reply_outcome(delivery: Delivery, decision: Sent | Failed) -> Event:
    payload = delivery.payload
    fields: dict[str, Any] = {
        "producer": PRODUCER,
        "occurred_at": decision.at,
        "ticket_id": delivery.ticket_id,
        "correlation_id": delivery.correlation_id,
        "causation_id": delivery.source_event_id,
        "reply_id": payload["reply_id"],
        "brand": payload["brand"],
        "platform": delivery.channel if delivery.channel in _PLATFORMS else "generic",
    }
    if isinstance(decision, Sent):
        return DeliverySucceeded.model_validate(
            {
                **fields,
                "platform_message_id": decision.external_ref,
                "parts": max(1, len(decision.refs)),
                "sent_at": decision.at,
            }
        )
    return DeliveryFailed.model_validate(
        {
            **fields,
            "reason": decision.reason,
            "platform_error_code": decision.code,
            "detail": decision.error,
            "failed_at": decision.at,
        }
    )
