"""Kafka clients and topic creation, with the settings our broker needs.

The same code runs against the embedded Tansu broker and an Apache Kafka cluster.
"""

from __future__ import annotations

import logging

import aiokafka.client
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.protocol.metadata import MetadataRequest

from socialdesk_schemas.topics import Topic, all_topics

__all__ = ["MAX_BATCH_BYTES", "create_topics", "forbid_topic_auto_creation", "make_consumer", "make_producer"]

_log = logging.getLogger(__name__)

#: Kafka's TOPIC_ALREADY_EXISTS error code: creating a topic twice is not an error for us.
_TOPIC_ALREADY_EXISTS = 36
#: Bytes of records per partition the producer gathers into one record batch.
MAX_BATCH_BYTES = 256 * 1024


class _NoAutoCreateMetadataRequest(MetadataRequest):  # type: ignore[misc]  # aiokafka.protocol is untyped
    def __init__(
        self, topics: list[str] | None = None, allow_auto_topic_creation: bool | None = None
    ) -> None:
        super().__init__(topics, False if allow_auto_topic_creation is None else allow_auto_topic_creation)


def forbid_topic_auto_creation() -> None:
    """Make every aiokafka client of this process ask metadata without creating topics.

    aiokafka asks for a topic's metadata with ``allow_auto_topic_creation`` on, and Tansu
    (like a Kafka cluster with ``auto.create.topics.enable``) then creates it, with the
    broker's default partition count. After a broker restart a producer's periodic
    metadata refresh did exactly that, and records went to topics nobody read in the
    right shape. Topics are only ever made by :func:`create_topics`. aiokafka has no
    option for this, so its metadata request class is replaced (idempotent).
    """
    aiokafka.client.MetadataRequest = _NoAutoCreateMetadataRequest  # no public switch for this


def make_producer(bootstrap_servers: str, *, client_id: str) -> AIOKafkaProducer:
    """A producer for the outbox relay.

    No idempotent producer or transactions: the embedded broker has neither, and exactly
    once comes from the outbox plus every consumer's inbox instead. ``acks="all"`` so a
    published row is only marked published once the cluster has it.

    ``max_batch_size`` holds a whole relay batch (500 rows of ~1-2 KB spread over a
    topic's partitions) in one record batch per partition. With aiokafka's 16 KiB default
    ``send()`` waited, every ~10 records of a partition, for the batch before to go out
    and be answered: a 300-row relay batch took several broker round trips one after the
    other (600 ms in the classifier, whose model holds the event loop between them). A
    Kafka broker takes record batches up to ``message.max.bytes``, 1 MiB by default.
    """
    forbid_topic_auto_creation()
    return AIOKafkaProducer(
        bootstrap_servers=bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=False,
        linger_ms=1,
        max_batch_size=MAX_BATCH_BYTES,
        request_timeout_ms=15_000,
        retry_backoff_ms=200,
    )


def make_consumer(
    bootstrap_servers: str,
    *topics: str,
    group_id: str,
    fetch_max_wait_ms: int,
    max_poll_records: int,
    fetch_min_bytes: int = 1,
) -> AIOKafkaConsumer:
    """A consumer that commits offsets by hand, only after the batch's transaction committed."""
    forbid_topic_auto_creation()
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=bootstrap_servers,
        group_id=group_id,
        client_id=group_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=fetch_max_wait_ms,
        fetch_min_bytes=fetch_min_bytes,
        max_poll_records=max_poll_records,
        # Tansu holds a join for about half the session timeout; 6 s is the lowest real
        # Kafka accepts (group.min.session.timeout.ms) and keeps a restart quick.
        session_timeout_ms=6_000,
        heartbeat_interval_ms=1_000,
        rebalance_timeout_ms=10_000,
    )


async def create_topics(bootstrap_servers: str, topics: tuple[Topic, ...] | None = None) -> None:
    """Create every topic of the contract that does not exist yet (idempotent).

    Works against the embedded broker and an external Kafka cluster alike; topics that
    already exist are left as they are (partition counts are not changed). Replication
    factor is 1 on a single broker, otherwise the broker's default (``-1``).

    Usage::

        await create_topics("kafka-1:9092,kafka-2:9092")
    """
    wanted = topics if topics is not None else all_topics()
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [t for t in wanted if t.name not in existing]
        if not missing:
            return
        brokers = len(admin._client.cluster.brokers())  # no public accessor in aiokafka 0.14
        replication = 1 if brokers <= 1 else -1
        response = await admin.create_topics(
            [NewTopic(t.name, num_partitions=t.partitions, replication_factor=replication) for t in missing]
        )
        failures = [
            f"{entry[0]}: error {entry[1]}"
            for entry in getattr(response, "topic_errors", ())
            if entry[1] not in (0, _TOPIC_ALREADY_EXISTS)
        ]
        if failures:
            raise RuntimeError("could not create topics: " + "; ".join(failures))
        _log.info("created %d topics on %s", len(missing), bootstrap_servers)
    finally:
        await admin.close()
