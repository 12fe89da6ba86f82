"""Metrics every service exposes, named ``<service>_<noun>_<unit>``.

One ``CollectorRegistry`` per process; a service adds its own metrics to the same registry
in its own ``metrics.py``. Label values are bounded (outcomes, reasons), never ids.
"""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

__all__ = ["RuntimeMetrics", "metric_prefix"]

# Buckets around what we promise: a hop well under 100 ms, a batch under a second.
_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


def metric_prefix(service: str) -> str:
    """``sla-monitor`` → ``sla_monitor``: Prometheus names allow no hyphen."""
    return service.replace("-", "_")


@dataclass(frozen=True)
class RuntimeMetrics:
    """The consumer, outbox and HTTP metrics of one service."""

    registry: CollectorRegistry
    events_consumed: Counter
    deadletter_events: Counter
    consumer_batch_seconds: Histogram
    consumer_lag_events: Gauge
    outbox_pending_events: Gauge
    outbox_published_events: Counter
    outbox_publish_seconds: Histogram
    outbox_publish_failures: Counter
    outbox_broker_losses: Counter
    outbox_republished_events: Counter
    outbox_refused_events: Counter
    outbox_refused_rows: Gauge
    handler_retries: Counter

    @classmethod
    def create(cls, service: str, registry: CollectorRegistry | None = None) -> RuntimeMetrics:
        reg = registry if registry is not None else CollectorRegistry(auto_describe=True)
        p = metric_prefix(service)
        return cls(
            registry=reg,
            events_consumed=Counter(
                f"{p}_events_consumed_total",
                "Kafka records consumed, by outcome "
                "(processed, duplicate, ignored_unknown_type, skipped, deadlettered)",
                ["outcome"],
                registry=reg,
            ),
            deadletter_events=Counter(
                f"{p}_deadletter_events_total",
                "Records sent to this service's dead-letter topic",
                ["reason"],
                registry=reg,
            ),
            consumer_batch_seconds=Histogram(
                f"{p}_consumer_batch_seconds",
                "Time to process one consumed batch in one database transaction",
                buckets=_LATENCY_BUCKETS,
                registry=reg,
            ),
            consumer_lag_events=Gauge(
                f"{p}_consumer_lag_events",
                "Records behind the high watermark, summed over assigned partitions",
                registry=reg,
            ),
            outbox_pending_events=Gauge(
                f"{p}_outbox_pending_events",
                "Outbox rows written but not yet published",
                registry=reg,
            ),
            outbox_published_events=Counter(
                f"{p}_outbox_published_events_total",
                "Events the outbox relay published to Kafka",
                registry=reg,
            ),
            outbox_publish_seconds=Histogram(
                f"{p}_outbox_publish_seconds",
                "Time to publish one outbox batch and mark it published",
                buckets=_LATENCY_BUCKETS,
                registry=reg,
            ),
            outbox_publish_failures=Counter(
                f"{p}_outbox_publish_failures_total",
                "Outbox batches the broker did not fully acknowledge (retried from the first failure)",
                registry=reg,
            ),
            outbox_broker_losses=Counter(
                f"{p}_outbox_broker_losses_total",
                "Times the broker was found to have lost records it acknowledged (alert on any)",
                registry=reg,
            ),
            outbox_republished_events=Counter(
                f"{p}_outbox_republished_events_total",
                "Retained outbox rows marked for publishing again after a broker loss",
                registry=reg,
            ),
            outbox_refused_events=Counter(
                f"{p}_outbox_refused_events_total",
                "Outbox rows the broker refused for good, even sent alone: parked in "
                "outbox_refused with a dead letter (alert on any; socialdesk outbox retry)",
                registry=reg,
            ),
            outbox_refused_rows=Gauge(
                f"{p}_outbox_refused_rows",
                "Outbox rows parked in outbox_refused, waiting for socialdesk outbox retry "
                "(counted at each prune, about every minute, and on each park)",
                registry=reg,
            ),
            handler_retries=Counter(
                f"{p}_handler_retries_total",
                "Batches retried after a transient error (database or broker away)",
                registry=reg,
            ),
        )
