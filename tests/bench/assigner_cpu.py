"""The assigner's CPU per customer message, and its PostgreSQL statements per batch.

Boots the assigner through its real ``bootstrap`` (``tests.support.booted``) on an
embedded, non-durable PostgreSQL, then feeds ``messages`` customer messages through the
runtime's real ``process_batch``, as the consumer would see them: a batch of
``MessageReceived`` records (``ticket.messages``), then a batch of their
``MessageClassified`` (``ticket.classified``), then the ``SlaClockArmed`` sla-monitor
sends for each new customer-service ticket (first response and resolution, on
``sla.events``), ``batch`` messages at a time. One message in five is a follow-up on an
earlier ticket of the same customer; one in eleven goes to marketing.

Reports the assigner process's CPU per message (``time.process_time``: Python, the
driver, encoding; PostgreSQL's own CPU is another process and is reported apart from
``/proc`` when readable) and the SQL statements sent per batch, counted by SQLAlchemy's
``before_cursor_execute`` hook (an ``executemany`` counts once, with its row count
alongside). A warm-up of two batches is left out.

Run alone: ``python -m tests.bench.assigner_cpu --messages 5000`` (``--batch 10`` for the
small batches a lightly loaded consumer sees). ``make bench`` may call
:func:`measure_assigner_cpu_in_child` (its own PostgreSQL and event loop) and add
:data:`ASSIGNER_CPU_KEYS` to its JSON line; target: at most
:data:`TARGET_ASSIGNER_CPU_MS` ms per message at 100-record batches.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import os
import shutil
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import event, text

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_runtime.embedded import EmbeddedPostgres
from socialdesk_schemas import Author, Event, MessageClassified, MessageReceived
from socialdesk_schemas.sla import SlaClockArmed
from tests.bench.child import run_child
from tests.support import Booted, booted, config_for_tests, envelope

__all__ = [
    "ASSIGNER_CPU_KEYS",
    "TARGET_ASSIGNER_CPU_MS",
    "measure_assigner_cpu",
    "measure_assigner_cpu_in_child",
]

ASSIGNER_CPU_KEYS = ("assigner_cpu_ms_per_msg", "assigner_statements_per_batch")
TARGET_ASSIGNER_CPU_MS = 1.0
_TEXTS = (
    "My bus is 2 hours late, I want a refund",
    "the driver left me stranded at the stop",
    "where is my bus?? nobody answers",
    "Can I bring a bike on the Rally bus to the festival?",
    "Thanks for the great trip!",
)


def _config() -> SocialdeskConfig:
    """The tests' configuration with keyword rules, so routing reads the customers' words."""
    base = config_for_tests()
    data = base.model_dump(mode="json", exclude_none=True)
    data["routing"]["keyword_rules"] = [
        {"keywords": ["stranded", "bus never came", "left behind"], "priority": "high"},
        {"keywords": ["lawyer", "lawsuit", "chargeback"], "level": "L3", "priority": "high"},
    ]
    for agent in data["agents"]:
        agent["max_open_tickets"] = 1_000_000
    config = SocialdeskConfig.model_validate(data)
    config._env = base._env
    return config


def _armed(clock: FakeClock, of: MessageClassified) -> list[Event]:
    """What sla-monitor tells the desk when a new ticket is assigned or queued."""
    if not of.opens_ticket or of.queue != "cx":
        return []
    now = clock.now()
    return [
        SlaClockArmed(
            **envelope(clock, of.ticket_id, producer="sla-monitor"),
            brand=of.brand,
            clock=name,
            due_at=now + timedelta(seconds=seconds),
            warn_at=now + timedelta(seconds=seconds / 2),
            armed_at=now,
        )
        for name, seconds in (("first_response", 3600), ("resolution", 2 * 86400))
    ]


def _pair(
    clock: FakeClock, i: int, earlier: list[MessageClassified]
) -> tuple[MessageReceived, MessageClassified]:
    follow = earlier[i // 2] if earlier and i % 5 == 4 else None
    fields: dict[str, Any] = {
        **envelope(clock, follow.ticket_id if follow else uuid.uuid4()),
        "message_id": uuid.uuid4(),
        "conversation_id": follow.conversation_id if follow else uuid.uuid4(),
        "customer_id": follow.customer_id if follow else uuid.uuid4(),
        "brand": "ourbus" if i % 3 else "rally",
        "platform": ("instagram", "facebook", "x")[i % 3] if i % 3 else "facebook",
        "kind": "dm",
        "received_at": clock.now(),
        "platform_message_id": f"bm-{i}",
    }
    if follow is not None:
        fields["brand"], fields["platform"] = follow.brand, follow.platform
    author = follow.author_platform_user_id if follow else f"u-{i}"
    received = MessageReceived(
        **fields,
        author=Author(platform_user_id=author, handle=f"@rider{i}", display_name=f"Rider {i}"),
        text=_TEXTS[i % len(_TEXTS)],
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


class _Statements:
    """SQL statements sent by the engine, by verb, and executemany row counts."""

    def __init__(self) -> None:
        self.count = 0
        self.rows = 0
        self.by_kind: collections.Counter[str] = collections.Counter()
        self.texts: set[str] = set()

    def __call__(self, conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        self.count += 1
        self.rows += len(params) if many and params else 1
        self.texts.add(statement)
        words = statement.split(None, 3)
        kind = (
            " ".join(words[:3]) if words and words[0].upper() in ("INSERT", "DELETE") else " ".join(words[:1])
        )
        self.by_kind[kind[:60]] += 1


def _stat(pid: int | str) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            stat = fh.read()
    except OSError:
        return None
    return stat[stat.rindex(")") + 2 :].split()  # from the state field on


def _postgres_cpu_s(data_dir: Path) -> float | None:
    """CPU of this bench's PostgreSQL: its postmaster (with its exited children, once
    reaped) and its live children (the backends). Other servers on the machine are left out."""
    try:
        postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    own = _stat(postmaster)
    if own is None:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = sum(int(f) for f in own[11:15])
    for pid in os.listdir("/proc"):
        if pid.isdigit() and (fields := _stat(pid)) is not None and fields[1] == str(postmaster):
            total += int(fields[11]) + int(fields[12])
    return total / tick


async def _run(url: str, data_dir: Path, *, messages: int, batch: int) -> dict[str, Any]:
    clock = FakeClock()
    async with booted(SPEC, url, clock=clock, config=_config()) as svc:
        statements = _Statements()
        event.listen(svc.engine.sync_engine, "before_cursor_execute", statements)
        earlier: list[MessageClassified] = []
        pairs = []
        for i in range(messages):
            received, classified = _pair(clock, i, earlier)
            earlier.append(classified)
            pairs.append((received, classified))
        half = max(1, batch)
        chunks = [pairs[i : i + half] for i in range(0, len(pairs), half)]
        warm = 2 if len(chunks) > 4 else 0
        cpu = 0.0
        wall = 0.0
        sys_s = 0.0
        pg_before: float | None = None
        counted = 0
        batches = 0
        for n, chunk in enumerate(chunks):
            if n == warm:
                statements.count = statements.rows = 0
                statements.by_kind.clear()
                statements.texts.clear()
                pg_before = _postgres_cpu_s(data_dir)
            feeds: list[list[Event]] = [
                [p[0] for p in chunk],
                [p[1] for p in chunk],
                [a for p in chunk for a in _armed(clock, p[1])],
            ]
            for events in feeds:
                c0, w0, s0 = time.process_time(), time.perf_counter(), os.times().system
                outcome = await _feed(svc, events)
                if n >= warm:
                    cpu += time.process_time() - c0
                    sys_s += os.times().system - s0
                    wall += time.perf_counter() - w0
                    batches += 1
                if outcome.get("processed") != len(events):
                    raise RuntimeError(f"batch {n}: {outcome}")
            if n >= warm:
                counted += len(chunk)
            event.remove(svc.engine.sync_engine, "before_cursor_execute", statements)
            await _drain_outbox(svc)
            event.listen(svc.engine.sync_engine, "before_cursor_execute", statements)
            clock.advance(seconds=1)
        pg_after = _postgres_cpu_s(data_dir)
        async with svc.engine.connect() as conn:
            tickets = (await conn.execute(text("SELECT count(*) FROM tickets"))).scalar_one()
            desk = (await conn.execute(text("SELECT count(*) FROM desk_messages"))).scalar_one()
        if desk != messages:
            raise RuntimeError(f"read model holds {desk} of {messages} messages")
        event.remove(svc.engine.sync_engine, "before_cursor_execute", statements)
    return {
        "assigner_cpu_ms_per_msg": round(cpu * 1000 / counted, 3),
        "assigner_kernel_cpu_ms_per_msg": round(sys_s * 1000 / counted, 3),
        "assigner_wall_ms_per_msg": round(wall * 1000 / counted, 3),
        "postgres_cpu_ms_per_msg": None
        if pg_before is None or pg_after is None
        else round((pg_after - pg_before) * 1000 / counted, 3),
        "assigner_statements_per_batch": round(statements.count / batches, 2),
        "assigner_statement_rows_per_batch": round(statements.rows / batches, 1),
        # each distinct SQL text is a statement asyncpg prepares (a round trip and a plan)
        "assigner_distinct_sql_texts": len(statements.texts),
        "assigner_statements_by_kind": dict(statements.by_kind.most_common()),
        "messages": counted,
        "batches": batches,
        "records_per_batch": half,
        "tickets": tickets,
    }


async def _feed(svc: Booted, events: list[Event]) -> dict[str, int]:
    return await svc.feed(*events)


async def _drain_outbox(svc: Booted) -> None:
    """What the relay would do after publishing (its own connection; not counted as CPU
    of message handling, since the relay is measured by the broker bench)."""
    async with svc.engine.begin() as conn:
        await conn.execute(text("DELETE FROM outbox"))


def measure_assigner_cpu(*, messages: int = 5000, batch: int = 100) -> dict[str, Any]:
    """Start a non-durable PostgreSQL, feed the messages, return the figures by key."""
    root = Path(tempfile.mkdtemp(prefix="socialdesk-bench-assigner-"))
    server = EmbeddedPostgres(root / "data", durable=False)
    server.start()
    try:
        server.create_database("assigner_cpu")
        return asyncio.run(_run(server.url("assigner_cpu"), server.data_dir, messages=messages, batch=batch))
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


def measure_assigner_cpu_in_child(
    *, messages: int = 5000, batch: int = 100, timeout_s: float = 600.0
) -> tuple[dict[str, Any] | None, str]:
    """:func:`measure_assigner_cpu` in a child process (its own PostgreSQL and event loop,
    so it can run from the bench's async runner); returns (figures or None, a note)."""
    return run_child(
        "tests.bench.assigner_cpu",
        ["--messages", str(messages), "--batch", str(batch)],
        what="the assigner CPU bench",
        timeout_s=timeout_s,
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m tests.bench.assigner_cpu", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--batch", type=int, default=100, help="records per consumed batch")
    args = parser.parse_args(argv)
    figures = measure_assigner_cpu(messages=args.messages, batch=args.batch)
    for key, value in figures.items():
        print(f"{key}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
