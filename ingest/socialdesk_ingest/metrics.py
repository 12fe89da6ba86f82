"""ingest's own metrics (besides the runtime's): ``ingest_<noun>_<unit>``."""

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Histogram


@dataclass(frozen=True)
class IngestMetrics:
    messages_received: Counter
    request_seconds: Histogram

    @classmethod
    def create(cls, registry: CollectorRegistry) -> "IngestMetrics":
        return cls(
            messages_received=Counter(
                "ingest_messages_received_total",
                "Messages offered to intake, by platform and outcome "
                "(accepted, duplicate, unauthorized, invalid)",
                ["platform", "outcome"],
                registry=registry,
            ),
            request_seconds=Histogram(
                "ingest_request_seconds",
                "Intake request handling time, stored and committed",
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
                registry=registry,
            ),
        )
