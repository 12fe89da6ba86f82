"""notifier's own metrics."""

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass(frozen=True)
class NotifierMetrics:
    deliveries: Counter
    delivery_seconds: Histogram
    recovered: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> "NotifierMetrics":
        return cls(
            deliveries=Counter(
                "notifier_deliveries_total",
                "Delivery attempts by channel and outcome (sent, retry, failed, recovered)",
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
