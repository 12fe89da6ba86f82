"""ingest's own metrics (besides the runtime's): ``ingest_<noun>_<unit>``."""

from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


@dataclass(frozen=True)
class IngestMetrics:
    messages_received: Counter
    request_seconds: Histogram
    webhook_requests: Counter
    webhook_ack_seconds: Histogram
    webhook_items: Counter
    webhook_not_ticketed: Counter
    whatsapp_failed: Counter
    extraction_failures: Counter
    deliveries_pending: Gauge
    enrichments: Counter
    channel_healthy: Gauge
    channel_checks: Counter
    reconcile_polls: Counter
    reconcile_backfilled: Counter

    @classmethod
    def create(cls, registry: CollectorRegistry) -> "IngestMetrics":
        return cls(
            messages_received=Counter(
                "ingest_messages_received_total",
                "Messages offered to intake, by platform and outcome "
                "(accepted, duplicate, unauthorized, invalid, unavailable)",
                ["platform", "outcome"],
                registry=registry,
            ),
            request_seconds=Histogram(
                "ingest_request_seconds",
                "Intake request handling time, stored and committed",
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0),
                registry=registry,
            ),
            webhook_requests=Counter(
                "ingest_webhook_requests_total",
                "Platform webhook requests by platform (meta, x) and outcome (stored, "
                "handshake, handshake_refused, unauthorized, invalid, too_large, unavailable)",
                ["platform", "outcome"],
                registry=registry,
            ),
            webhook_ack_seconds=Histogram(
                "ingest_webhook_ack_seconds",
                "Time to acknowledge a webhook delivery: verified, stored and committed",
                ["platform"],
                buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
                registry=registry,
            ),
            webhook_items=Counter(
                "ingest_webhook_items_total",
                "Items extracted from webhook deliveries by kind (message, duplicate, "
                "own_message, receipt_<status>, message_edited, message_deleted)",
                ["kind"],
                registry=registry,
            ),
            webhook_not_ticketed=Counter(
                "ingest_webhook_items_ignored_total",
                "Webhook items that created nothing, by platform and reason (unknown_account, "
                "dashboard_test, reaction, favorite, missing_field, unknown_field, duplicate...)",
                ["platform", "reason"],
                registry=registry,
            ),
            whatsapp_failed=Counter(
                "ingest_whatsapp_failed_total",
                "WhatsApp 'failed' statuses of our messages, by error code",
                ["error_code"],
                registry=registry,
            ),
            extraction_failures=Counter(
                "ingest_extraction_failures_total",
                "Stored deliveries whose extraction failed (left pending, or given up as poison)",
                ["outcome"],
                registry=registry,
            ),
            deliveries_pending=Gauge(
                "ingest_webhook_deliveries_pending",
                "Stored webhook deliveries not extracted yet (at the last extraction round)",
                registry=registry,
            ),
            enrichments=Counter(
                "ingest_enrichments_total",
                "Graph API reads completing id-only messages, by outcome "
                "(enriched, not_possible, failed, gave_up; own_account: a late read found "
                "our own account wrote a message ticketed as a customer's)",
                ["outcome"],
                registry=registry,
            ),
            channel_healthy=Gauge(
                "ingest_channel_healthy",
                "1 if the brand's channel answered its last health check, 0 if its token "
                "expired, a permission is missing or no token is set",
                ["brand", "platform"],
                registry=registry,
            ),
            channel_checks=Counter(
                "ingest_channel_checks_total",
                "Channel health checks by platform and outcome (ok, token_expired, "
                "permission_missing, token_missing, inconclusive)",
                ["platform", "outcome"],
                registry=registry,
            ),
            reconcile_polls=Counter(
                "ingest_reconcile_polls_total",
                "Reconciliation polls by platform (messenger, instagram, x) and outcome (complete, backfilled, failed, rate_limited)",
                ["platform", "outcome"],
                registry=registry,
            ),
            reconcile_backfilled=Counter(
                "ingest_reconcile_backfilled_total",
                "Customer messages found by polling that never arrived by webhook",
                ["platform"],
                registry=registry,
            ),
        )
