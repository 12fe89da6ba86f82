"""Kafka clients with the settings our broker needs (same code for Tansu and Apache Kafka)."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

__all__ = ["make_consumer", "make_producer"]


def make_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    """A producer for the outbox relay.

    No idempotent producer or transactions: the embedded broker has neither, and exactly
    once comes from the outbox plus every consumer's inbox instead. ``acks="all"`` so a
    published row is only deleted once the cluster has it.
    """
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=1,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
    )


def make_consumer(
    bootstrap_servers: str,
    *topics: str,
    group_id: str,
    fetch_max_wait_ms: int,
    max_poll_records: int,
) -> AIOKafkaConsumer:
    """A consumer that commits offsets by hand, only after the batch's transaction committed."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_max_wait_ms,
        max_poll_records=max_poll_records,
        # Tansu holds a join for about half the session timeout; 6 s is the lowest real
        # Kafka accepts (group.min.session.timeout.ms) and keeps a restart quick.
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
        rebalance_timeout_ms=10_000,
    )
