"""The notifier's rules on plain data: routing, message texts, a delivery's life.

No I/O and no framework here; time comes in as an argument. ``handlers`` and ``worker``
load through the store, ask these functions what to do, and record the answer.
"""

from socialdesk_notifier.domain.delivery import (
    Decision,
    Delivery,
    DeliveryPolicy,
    Failed,
    Retry,
    SendResult,
    Sent,
    backoff_seconds,
    outcome_event,
)
from socialdesk_notifier.domain.routing import (
    Notification,
    channel_for,
    channel_health,
    escalation,
    reply,
    sla_warning,
    spike,
    trend,
)

__all__ = [
    "Decision",
    "Delivery",
    "DeliveryPolicy",
    "Failed",
    "Notification",
    "Retry",
    "SendResult",
    "Sent",
    "backoff_seconds",
    "channel_for",
    "channel_health",
    "escalation",
    "outcome_event",
    "reply",
    "sla_warning",
    "spike",
    "trend",
]
