"""notifier's own metrics (the runtime adds the consumer and outbox ones).

Label values are bounded: ``channel`` is a sender's channel (slack, local, a platform),
``outcome`` is sent, retry or failed.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram

from socialdesk_notifier.domain import Decision, Failed, Sent

__all__ = ["NotifierMetrics"]


@dataclass(frozen=True)
class NotifierMetrics:
    deliveries: Counter
    delivery_seconds: Histogram
    recovered: Counter

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
        )

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
        self.deliveries.labels(channel=channel, outcome=outcome).inc()
