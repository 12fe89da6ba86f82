"""notifier's own metrics (the runtime adds the consumer and outbox ones).

Label values are bounded: ``channel`` is a sender's channel (slack, local, a platform),
``outcome`` is sent, retry or failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from socialdesk_notifier.domain import Decision, Failed, Sent

__all__ = ["NotifierMetrics"]


@dataclass(frozen=True)
class NotifierMetrics:
    deliveries: Counter
    delivery_seconds: Histogram
    recovered: Counter
    throttled_total: Counter
    failures: Counter
    channel_health: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> NotifierMetrics:
        return cls(
            deliveries=Counter(
                "notifier_deliveries_total",
                "Delivery attempts by channel and outcome (sent, retry, failed)",
                ["channel", "outcome"],
                registry=registry,
            ),
            delivery_seconds=Histogram(
                "notifier_delivery_seconds",
                "Time of one outward call, retries of the client included",
                ["channel"],
                buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
                registry=registry,
            ),
            recovered=Counter(
                "notifier_deliveries_recovered_total",
                "Abandoned deliveries found already sent (a crash after the send), not re-sent",
                ["channel"],
                registry=registry,
            ),
            throttled_total=Counter(
                "notifier_replies_throttled_total",
                "Platform sends refused as too fast (Graph rate-limit codes, X 429); each backs off",
                ["channel"],
                registry=registry,
            ),
            failures=Counter(
                "notifier_delivery_failures_total",
                "Deliveries given up on, by channel and reason: alert on any increase "
                "(re-drive with `socialdesk notifier redrive`)",
                ["channel", "reason"],
                registry=registry,
            ),
            channel_health=Gauge(
                "notifier_channel_healthy",
                "1 while a platform channel accepts our sends, 0 after a token or permission refusal",
                ["channel"],
                registry=registry,
            ),
        )

    def throttled(self, channel: str) -> None:
        self.throttled_total.labels(channel=channel).inc()

    def platform_ok(self, channel: str) -> None:
        self.channel_health.labels(channel=channel).set(1)

    def channel_unhealthy(self, channel: str, reason: str) -> None:
        self.channel_health.labels(channel=channel).set(0)

    def observe_send(self, channel: str, seconds: float) -> None:
        self.delivery_seconds.labels(channel=channel).observe(seconds)

    def count(self, channel: str, decision: Decision) -> None:
        """One settled or rescheduled attempt; a recovered send counts as sent, and as recovered."""
        if isinstance(decision, Sent):
            outcome = "sent"
            if decision.recovered:
                self.recovered.labels(channel=channel).inc()
        else:
            outcome = "failed" if isinstance(decision, Failed) else "retry"
            if isinstance(decision, Failed):
                self.failures.labels(channel=channel, reason=_bounded(decision.reason)).inc()
        self.deliveries.labels(channel=channel, outcome=outcome).inc()


_REASONS = frozenset(
    {
        "window_closed",
        "no_account",
        "no_credentials",
        "empty_text",
        "too_long",
        "no_comment",
        "invalid_recipient",
        "invalid_request",
        "permission",
        "token_expired",
        "throttled_too_long",
        "unverifiable",
        "policy_blocked",
        "duplicate_content",
        "private_reply_not_allowed",
        "platform_unavailable",
        # Slack refusals no retry fixes (issue 11); any other counts as platform_error.
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "missing_scope",
        "invalid_blocks",
        "msg_too_long",
        "message_not_found",
        "cant_update_message",
    }
)


def _bounded(reason: str) -> str:
    """Label values stay few: an unexpected reason counts as platform_error."""
    return reason if reason in _REASONS else "platform_error"
