"""The services' own ``/metrics`` around a phase: how each hop spent its time.

Per service, the difference between two scrapes of the runtime's histograms says how many
consumer batches it ran, how long one took and how many records it held, and the same for
the outbox relay. Together with CPU per process this locates a bottleneck without a
profiler: the hop whose batches grow while its time per record does not shrink is the
one holding the pipeline back.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import httpx
from prometheus_client.parser import text_string_to_metric_families

from socialdesk_runtime.metrics import metric_prefix

__all__ = ["HopStats", "hop_stats", "scrape"]

Sample = dict[str, float]


async def scrape(client: httpx.AsyncClient, urls: Mapping[str, str]) -> dict[str, Sample]:
    """Every service's samples, by service, as ``{"name{label=value}": value}``."""
    out: dict[str, Sample] = {}
    for service, url in urls.items():
        try:
            response = await client.get(url, timeout=5.0)
            response.raise_for_status()
        except httpx.HTTPError:
            out[service] = {}
            continue
        samples: Sample = {}
        for family in text_string_to_metric_families(response.text):
            for s in family.samples:
                labels = ",".join(f"{k}={v}" for k, v in sorted(s.labels.items()) if k != "le")
                if "le" in s.labels:
                    continue  # buckets: sums and counts are enough for means
                samples[f"{s.name}{{{labels}}}" if labels else s.name] = s.value
        out[service] = samples
    return out


@dataclass(frozen=True, slots=True)
class HopStats:
    """What one service did between two scrapes."""

    service: str
    batches: int
    batch_mean_ms: float
    records_per_batch: float
    publishes: int
    publish_mean_ms: float
    rows_per_publish: float
    requests: int
    request_mean_ms: float


def _delta(before: Sample, after: Sample, name: str) -> float:
    return after.get(name, 0.0) - before.get(name, 0.0)


def _sum_prefix(sample: Sample, prefix: str) -> float:
    return sum(v for k, v in sample.items() if k.startswith(prefix))


def hop_stats(
    before: Mapping[str, Sample], after: Mapping[str, Sample], services: Iterable[str]
) -> list[HopStats]:
    stats = []
    for service in services:
        b, a, p = before.get(service, {}), after.get(service, {}), metric_prefix(service)
        batches = _delta(b, a, f"{p}_consumer_batch_seconds_count")
        consumed = _sum_prefix(a, f"{p}_events_consumed_total") - _sum_prefix(b, f"{p}_events_consumed_total")
        publishes = _delta(b, a, f"{p}_outbox_publish_seconds_count")
        published = _delta(b, a, f"{p}_outbox_published_events_total")
        requests = _delta(b, a, "ingest_request_seconds_count") if service == "ingest" else 0.0

        def mean_ms(total: float, n: float) -> float:
            return total / n * 1000 if n else 0.0

        stats.append(
            HopStats(
                service=service,
                batches=int(batches),
                batch_mean_ms=mean_ms(_delta(b, a, f"{p}_consumer_batch_seconds_sum"), batches),
                records_per_batch=consumed / batches if batches else 0.0,
                publishes=int(publishes),
                publish_mean_ms=mean_ms(_delta(b, a, f"{p}_outbox_publish_seconds_sum"), publishes),
                rows_per_publish=published / publishes if publishes else 0.0,
                requests=int(requests),
                request_mean_ms=mean_ms(_delta(b, a, "ingest_request_seconds_sum"), requests),
            )
        )
    return stats
