"""Create every topic of the contract on an external Kafka cluster, idempotently.

A thin entry point for the compose ``kafka-init`` job and the Kubernetes
``socialdesk-create-topics`` Job around the runtime's own ``create_topics`` (the same
step ``make run`` uses): names and partition counts come from the registry in
``socialdesk_schemas.topics``, existing topics are left alone, replication is the
cluster's default. It waits for the broker, since a Job may start before Kafka::

    KAFKA_BOOTSTRAP_SERVERS=kafka:9092 python deploy/bin/create_topics.py
"""

from __future__ import annotations

import asyncio
import os
import sys

import stamina

from socialdesk_runtime.kafka import create_topics
from socialdesk_schemas.topics import all_topics

WAIT_SECONDS = 180.0


async def main() -> int:
    bootstrap = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if not bootstrap:
        print("KAFKA_BOOTSTRAP_SERVERS is not set", file=sys.stderr)
        return 2
    async for attempt in stamina.retry_context(
        on=Exception, timeout=WAIT_SECONDS, attempts=None, wait_max=5.0
    ):
        with attempt:
            await create_topics(bootstrap)
    print(f"{len(all_topics())} topics ready on {bootstrap}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
