"""The notifier's CPU per customer message (its MessageReceived and MessageClassified work).

Boots the notifier through its real ``bootstrap`` (``tests.support.booted``) on an
embedded, non-durable PostgreSQL, with the Freshdesk connector on for one brand, then
feeds ``messages`` customer messages through the runtime's real ``process_batch``: a batch
of ``MessageReceived``, then a batch of their ``MessageClassified``, ``batch`` messages at
a time (one in five a follow-up on an earlier ticket). Nothing is sent: the workers are
not started. Reports the notifier process's CPU per message (``time.process_time``), the
SQL statements per batch and the distinct SQL texts (each one asyncpg prepares). A
warm-up of two batches is left out.

Run alone: ``python -m tests.bench.notifier_cpu --messages 3000 --batch 100``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.embedded import EmbeddedPostgres
from socialdesk_schemas import Author, MessageClassified, MessageReceived
from tests.freshdesk_support import freshdesk_config
from tests.support import booted, envelope

__all__ = ["NOTIFIER_CPU_KEYS", "measure_notifier_cpu"]

NOTIFIER_CPU_KEYS = ("notifier_cpu_ms_per_msg", "notifier_statements_per_batch")
_TEXTS = (
    "My bus is 2 hours late, I want a refund",
    "the driver left me stranded at the stop",
    "Can I bring a bike on the Rally bus to the festival?",
)


def _pair(
    clock: FakeClock, i: int, earlier: list[MessageClassified]
) -> tuple[MessageReceived, MessageClassified]:
    follow = earlier[i // 2] if earlier and i % 5 == 4 else None
    fields: dict[str, Any] = {
        **envelope(clock, follow.ticket_id if follow else uuid.uuid4()),
        "message_id": uuid.uuid4(),
        "conversation_id": follow.conversation_id if follow else uuid.uuid4(),
        "customer_id": follow.customer_id if follow else uuid.uuid4(),
        "brand": follow.brand if follow else ("ourbus" if i % 3 else "rally"),
        "platform": follow.platform if follow else ("instagram", "facebook", "x")[i % 3],
        "kind": "dm",
        "received_at": clock.now(),
        "platform_message_id": f"bm-{i}",
    }
    author = follow.author_platform_user_id if follow else f"u-{i}"
    received = MessageReceived(
        **fields,
        author=Author(platform_user_id=author, handle=f"@rider{i}", display_name=f"Rider {i}"),
        text=_TEXTS[i % len(_TEXTS)],
        opens_ticket=follow is None,
    )
    classified = MessageClassified(
        **{**fields, "event_id": uuid.uuid4(), "producer": "classifier"},
        author_platform_user_id=author,
        opens_ticket=follow is None,
        queue="cx" if i % 11 else "marketing",
        category="complaint",
        priority=("high", "medium", "low", "critical")[i % 4],
        sentiment="negative",
        language="en",
        reasons=["negative words: late"],
        confidence={"complaint": 0.9},
    )
    return received, classified


async def _run(url: str, tmp: Path, *, messages: int, batch: int) -> dict[str, Any]:
    clock = FakeClock()
    config = freshdesk_config(tmp, "http://127.0.0.1:9")
    settings = {"local_sink_path": tmp / "sink.jsonl", "graph_base_url": "http://127.0.0.1:9"}
    async with booted(SPEC, url, clock=clock, config=config, settings=settings) as svc:
        texts: set[str] = set()
        count = 0

        def seen(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
            nonlocal count
            count += 1
            texts.add(statement)

        earlier: list[MessageClassified] = []
        pairs = []
        for i in range(messages):
            received, classified = _pair(clock, i, earlier)
            earlier.append(classified)
            pairs.append((received, classified))
        chunks = [pairs[i : i + batch] for i in range(0, len(pairs), batch)]
        warm = 2 if len(chunks) > 4 else 0
        cpu = wall = 0.0
        counted = batches = 0
        for n, chunk in enumerate(chunks):
            if n == warm:
                event.listen(svc.engine.sync_engine, "before_cursor_execute", seen)
            for events in ([p[0] for p in chunk], [p[1] for p in chunk]):
                c0, w0 = time.process_time(), time.perf_counter()
                outcome = await svc.feed(*events)
                if n >= warm:
                    cpu += time.process_time() - c0
                    wall += time.perf_counter() - w0
                    batches += 1
                if outcome.get("processed") != len(events):
                    raise RuntimeError(f"batch {n}: {outcome}")
            if n >= warm:
                counted += len(chunk)
            clock.advance(seconds=1)
        event.remove(svc.engine.sync_engine, "before_cursor_execute", seen)
        async with svc.engine.connect() as conn:
            slack = (await conn.execute(text("SELECT count(*) FROM slack_tickets"))).scalar_one()
            fd = (await conn.execute(text("SELECT count(*) FROM freshdesk_tickets"))).scalar_one()
            ops = (await conn.execute(text("SELECT count(*) FROM freshdesk_ops"))).scalar_one()
    return {
        "notifier_cpu_ms_per_msg": round(cpu * 1000 / counted, 3),
        "notifier_wall_ms_per_msg": round(wall * 1000 / counted, 3),
        "notifier_statements_per_batch": round(count / batches, 2),
        "notifier_distinct_sql_texts": len(texts),
        "messages": counted,
        "records_per_batch": batch,
        "slack_tickets": slack,
        "freshdesk_tickets": fd,
        "freshdesk_ops": ops,
    }


def measure_notifier_cpu(*, messages: int = 3000, batch: int = 100) -> dict[str, Any]:
    """Start a non-durable PostgreSQL, feed the messages, return the figures by key."""
    root = Path(tempfile.mkdtemp(prefix="socialdesk-bench-notifier-"))
    server = EmbeddedPostgres(root / "data", durable=False)
    server.start()
    try:
        server.create_database("notifier_cpu")
        return asyncio.run(_run(server.url("notifier_cpu"), root, messages=messages, batch=batch))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.notifier_cpu")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--batch", type=int, default=100, help="records per consumed batch")
    args = parser.parse_args(argv)
    figures = measure_notifier_cpu(messages=args.messages, batch=args.batch)
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
