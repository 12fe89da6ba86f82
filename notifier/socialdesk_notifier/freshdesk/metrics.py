"""The Freshdesk connector's metrics (bounded labels: brand ids from the configuration,
op kinds, outcomes and reasons from fixed sets)."""

from __future__ import annotations

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["FreshdeskMetrics"]


@dataclass(frozen=True)
class FreshdeskMetrics:
    ops: Counter
    throttled: Counter
    recovered: Counter
    connected: Gauge
    pauses: Counter
    webhooks: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> FreshdeskMetrics:
        return cls(
            ops=Counter(
                "notifier_freshdesk_ops_total",
                "Freshdesk operations by brand, kind (create, note, update) and outcome (done, retry, failed)",
                ["brand", "kind", "outcome"],
                registry=registry,
            ),
            throttled=Counter(
                "notifier_freshdesk_throttled_total",
                "Freshdesk 429 answers (the account's limit, shared with other integrations)",
                ["brand"],
                registry=registry,
            ),
            recovered=Counter(
                "notifier_freshdesk_recovered_total",
                "Creates and notes whose answer was lost, found in Freshdesk instead of made twice",
                ["brand", "kind"],
                registry=registry,
            ),
            connected=Gauge(
                "notifier_freshdesk_connected",
                "1 while the brand's connector works, 0 while paused (wrong API key, deleted group)",
                ["brand"],
                registry=registry,
            ),
            pauses=Counter(
                "notifier_freshdesk_pauses_total",
                "Times a brand's connector was paused, by reason (auth, group)",
                ["brand", "reason"],
                registry=registry,
            ),
            webhooks=Counter(
                "notifier_freshdesk_webhooks_total",
                "Freshdesk Automation webhooks by outcome (accepted, echo, unknown_ticket, "
                "duplicate, unauthorized, ignored)",
                ["outcome"],
                registry=registry,
            ),
        )
