"""classifier's own metrics (the consumer's and outbox's are the runtime's)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

from socialdesk_classifier.domain import Outcome

__all__ = ["ClassifierMetrics"]


@dataclass(frozen=True)
class ClassifierMetrics:
    decisions: Counter
    trends: Counter
    spikes: Counter
    snapshot_bytes: Gauge
    replayed_messages: Gauge

    @classmethod
    def create(cls, registry: CollectorRegistry) -> ClassifierMetrics:
        return cls(
            decisions=Counter(
                "classifier_decisions_total",
                "Messages classified, by queue and priority (a batch re-run after a failure counts again)",
                ["queue", "priority"],
                registry=registry,
            ),
            trends=Counter(
                "classifier_trends_total",
                "Hot topics detected (an incident group whose volume is rising)",
                registry=registry,
            ),
            spikes=Counter(
                "classifier_spikes_total",
                "Negative-volume spikes detected against a brand's learned baseline, by severity",
                ["severity"],
                registry=registry,
            ),
            snapshot_bytes=Gauge(
                "classifier_snapshot_bytes",
                "Size of the last snapshot of the detectors' state written to the database",
                registry=registry,
            ),
            replayed_messages=Gauge(
                "classifier_replayed_messages",
                "Messages decided after the last snapshot, replayed into the detectors at start",
                registry=registry,
            ),
        )

    def observe(self, outcome: Outcome) -> None:
        d = outcome.decision
        self.decisions.labels(queue=d.queue, priority=d.priority).inc()
        if outcome.trend is not None:
            self.trends.inc()
        if outcome.spike is not None:
            self.spikes.labels(severity=outcome.spike.severity).inc()
