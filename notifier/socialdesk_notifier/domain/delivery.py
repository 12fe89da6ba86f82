"""A delivery's life: pending → sending (leased) → sent | failed, or back to pending later.

At most once per idempotency key, as far as the outside allows: a delivery is leased
before the send; if the process dies after the send and before recording it, the lease
runs out, the next claim counts a second attempt, and an attempt after the first asks
the sender whether the key already went out before sending again.

Every decision here is pure: given a delivery, what happened, and ``now``, what next.

Usage::

    policy = DeliveryPolicy(lease_seconds=30, max_attempts=8)
    if policy.may_send(delivery, now):
        decision = policy.after_send(delivery, result, now)  # Sent | Failed | Retry
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from socialdesk_schemas import Channel, Event, NotificationDelivered, NotificationFailed

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
]

PRODUCER = "notifier"
#: Errors are kept for people to read, not as logs: long ones are cut.
ERROR_LIMIT = 2000
#: Look a little before the delivery was created: clocks of Slack and ours differ.
HISTORY_MARGIN = timedelta(seconds=5)

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


@dataclass(frozen=True, slots=True)
class Sent:
    external_ref: str | None
    at: datetime
    #: Found already sent by an earlier attempt that died before recording it.
    recovered: bool = False


@dataclass(frozen=True, slots=True)
class Failed:
    """Given up on for good."""

    error: str
    retryable: bool
    at: datetime


@dataclass(frozen=True, slots=True)
class Retry:
    """Back to pending until ``not_before``."""

    error: str
    not_before: datetime


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
    max_attempts: int

    @property
    def lease(self) -> timedelta:
        return timedelta(seconds=self.lease_seconds)

    def lease_until(self, now: datetime) -> datetime:
        return now + self.lease

    def must_look_first(self, delivery: Delivery) -> bool:
        """An attempt after the first may follow a send whose answer was lost."""
        return delivery.attempts > 1

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

    def lookup_failed(self, delivery: Delivery, error: str, now: datetime) -> Retry:
        """Never send blind: an unanswered history lookup is retried like a failed send."""
        return self._retry(delivery, f"lookup failed: {error}", now)

    def after_send(self, delivery: Delivery, result: SendResult, now: datetime) -> Decision:
        if result.ok:
            return Sent(result.external_ref, now)
        error = result.error or "unknown error"
        if result.permanent or delivery.attempts >= self.max_attempts:
            return Failed(_short(error), retryable=not result.permanent, at=now)
        return self._retry(delivery, error, now, after=result.retry_after)

    def _retry(self, delivery: Delivery, error: str, now: datetime, *, after: float | None = None) -> Retry:
        delay = after if after is not None else backoff_seconds(delivery.attempts)
        return Retry(_short(error), now + timedelta(seconds=delay))


def outcome_event(delivery: Delivery, channel: Channel, decision: Decision) -> Event | None:
    """The fact the rest of the system hears of a settled delivery (nothing for a retry)."""
    if isinstance(decision, Retry):
        return None
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
