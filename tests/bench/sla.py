"""sla-monitor at a million armed timers (issue 12): restart, memory, lateness.

``measure_sla(timers=1_000_000)`` runs on its own broker and PostgreSQL:

1. a fresh sla-monitor database, migrated, gets ``timers`` armed first-response timers
   (due in a week; written with COPY, as arming them through Kafka would only measure
   the broker);
2. an sla-monitor process starts on it; ``sla_restart_ready_s`` is the time from its
   start until its scheduler has judged the deadlines once (its
   ``sla_monitor_scheduler_passes_total`` is above zero), consumer caught up and all;
3. ``fire_rate`` more timers per second fall due for ``fire_seconds``; each breach's
   lateness is its ``breached_at`` minus its deadline, read from ``sla.events``:
   ``sla_lateness_p99_ms``;
4. ``sla_rss_mb`` is the process's peak resident memory (VmHWM) at the end.

Run alone, small: ``python -m tests.bench.sla --timers 20000 --fire-seconds 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from socialdesk_runtime.db import create_engine
from socialdesk_runtime.embedded import EmbeddedKafka, EmbeddedPostgres, free_port
from socialdesk_runtime.migrations import upgrade_to_head
from socialdesk_runtime.stack.services import STACK_SERVICES, StackEndpoints, service_specs
from socialdesk_runtime.stack.supervisor import Supervisor
from socialdesk_schemas import TOPICS, SlaBreached, decode_event
from socialdesk_sla_monitor.bootstrap import SPEC
from tests.support import TEST_CONFIG, TEST_ENV

__all__ = ["SLA_KEYS", "measure_sla"]

SLA_KEYS = ("sla_timers_armed", "sla_lateness_p99_ms", "sla_rss_mb", "sla_restart_ready_s")
TARGETS = {"sla_lateness_p99_ms": 1000.0, "sla_rss_mb": 300.0, "sla_restart_ready_s": 10.0}

_COLUMNS = (
    "ticket_id",
    "metric",
    "correlation_id",
    "brand",
    "platform",
    "priority",
    "agent_id",
    "agent_level",
    "state",
    "started_at",
    "deadline",
    "warn_at",
    "warned",
    "calendar",
    "target_seconds",
)


def _rows(n: int, *, start: datetime, due: datetime, step: timedelta) -> Iterator[tuple[Any, ...]]:
    for i in range(n):
        deadline = due + step * i
        yield (
            uuid.uuid4(),
            "first_response",
            uuid.uuid4(),
            "ourbus",
            "x",
            "medium",
            "ob-ana",
            "L1",
            "armed",
            start,
            deadline,
            None,
            True,  # no warning: every fire measured is a breach
            "24/7",
            (deadline - start).total_seconds(),
        )


async def _copy_timers(url: str, n: int, *, start: datetime, due: datetime, step: timedelta) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            driver: Any = raw.driver_connection  # asyncpg's connection: COPY is its own API
            chunk = 100_000
            for offset in range(0, n, chunk):
                size = min(chunk, n - offset)
                await driver.copy_records_to_table(
                    "timers",
                    records=list(_rows(size, start=start, due=due + step * offset, step=step)),
                    columns=_COLUMNS,
                )
    finally:
        await engine.dispose()


async def _analyze(url: str) -> None:
    # A table that grew to a million rows in production has statistics (autovacuum);
    # one filled by COPY a second ago does not yet, and the planner would guess.
    engine = create_engine(url, pool_size=1)
    try:
        async with engine.connect() as conn:
            await conn.exec_driver_sql("ANALYZE timers")
    finally:
        await engine.dispose()


async def _migrate(url: str) -> None:
    engine = create_engine(url, pool_size=1)
    try:
        await upgrade_to_head(engine, SPEC.migrations)
    finally:
        await engine.dispose()


def _passes(client: httpx.Client, url: str) -> float:
    try:
        text = client.get(url, timeout=2.0).text
    except httpx.HTTPError:
        return 0.0
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "sla_monitor_scheduler_passes_total":
                return float(sample.value)
    return 0.0


def _peak_rss_mb(pid: int | None) -> float:
    if pid is None:
        return math.nan
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return math.nan


async def _lateness_ms(bootstrap: str, due_from: datetime, expected: int, timeout_s: float) -> list[float]:
    consumer = AIOKafkaConsumer(
        TOPICS.sla.name,
        bootstrap_servers=bootstrap,
        group_id=f"bench-sla-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_wait_ms=50,
        max_partition_fetch_bytes=4 * 1024 * 1024,
    )
    await consumer.start()
    late: list[float] = []
    try:
        stop_at = time.monotonic() + timeout_s
        while len(late) < expected and time.monotonic() < stop_at:
            for records in (await consumer.getmany(timeout_ms=500, max_records=5000)).values():
                for record in records:
                    event = decode_event(record.value)
                    if isinstance(event, SlaBreached) and event.deadline >= due_from:
                        late.append((event.breached_at - event.deadline).total_seconds() * 1000)
    finally:
        await consumer.stop()
    return late


def _p99(values: list[float]) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.99 * len(ordered)) - 1)]


@contextmanager
def _infrastructure(root: Path) -> Iterator[tuple[EmbeddedKafka, EmbeddedPostgres]]:
    kafka = EmbeddedKafka(log_path=root / "tansu.log")
    postgres = EmbeddedPostgres(root / "pg", durable=False, log_path=root / "postgres.log")
    kafka.start()
    try:
        postgres.start()
        try:
            yield kafka, postgres
        finally:
            postgres.stop()
    finally:
        kafka.stop()


def measure_sla(
    timers: int = 1_000_000, *, fire_rate: float = 1000.0, fire_seconds: float = 20.0, say: Any = print
) -> dict[str, Any]:
    """The four ``sla_*`` figures (see the module docstring); NaN where a step failed."""
    figures: dict[str, Any] = {"sla_timers_armed": timers}
    root = Path(tempfile.mkdtemp(prefix="socialdesk-bench-sla-"))
    try:
        with _infrastructure(root) as (kafka, postgres):
            postgres.create_database("sla_monitor")
            url = postgres.url("sla_monitor")
            asyncio.run(_migrate(url))
            now = datetime.now(UTC)
            started = time.perf_counter()
            asyncio.run(_copy_timers(url, timers, start=now, due=now + timedelta(days=7), step=timedelta(0)))
            asyncio.run(_analyze(url))
            say(f"    armed {timers} timers in {time.perf_counter() - started:.1f} s")

            (sla,) = [s for s in STACK_SERVICES if s.name == "sla-monitor"]
            port = free_port()
            (spec,) = service_specs(
                StackEndpoints(kafka=kafka.bootstrap_servers, database_urls={sla.name: url}),
                config_path=TEST_CONFIG,
                http_ports={sla.name: port},
                extra_env={**TEST_ENV, "SLA_MONITOR_REPLY_GRACE_SECONDS": "0", "LOG_LEVEL": "WARNING"},
                services=(sla,),
            )
            supervisor = Supervisor([spec], log_dir=root / "logs")
            metrics_url = f"http://127.0.0.1:{port}/metrics"
            started = time.perf_counter()
            supervisor.start()
            try:
                with httpx.Client() as client:
                    ready = math.nan
                    while time.perf_counter() - started < 120:
                        if _passes(client, metrics_url) > 0:
                            ready = time.perf_counter() - started
                            break
                        time.sleep(0.05)
                figures["sla_restart_ready_s"] = ready
                say(f"    judging deadlines {ready:.2f} s after start")

                fires = int(fire_rate * fire_seconds)
                due_from = datetime.now(UTC) + timedelta(seconds=5)
                asyncio.run(
                    _copy_timers(
                        url,
                        fires,
                        start=datetime.now(UTC),
                        due=due_from,
                        step=timedelta(seconds=1 / fire_rate),
                    )
                )
                late = asyncio.run(_lateness_ms(kafka.bootstrap_servers, due_from, fires, fire_seconds + 60))
                say(f"    {len(late)} of {fires} breaches read at {fire_rate:g}/s")
                figures["sla_lateness_p99_ms"] = _p99(late) if len(late) == fires else math.nan
                figures["sla_fires_missing"] = fires - len(late)
                figures["sla_rss_mb"] = _peak_rss_mb(supervisor.pid(spec.name))
            finally:
                supervisor.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.sla", description=__doc__.splitlines()[0])
    parser.add_argument("--timers", type=int, default=1_000_000)
    parser.add_argument("--fire-rate", type=float, default=1000.0)
    parser.add_argument("--fire-seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    figures = measure_sla(args.timers, fire_rate=args.fire_rate, fire_seconds=args.fire_seconds)
    for key, target in TARGETS.items():
        value = figures.get(key, math.nan)
        verdict = "PASS" if isinstance(value, float) and value <= target else "FAIL"
        print(f"  {key}: {value:.2f} (target <= {target:g}) {verdict}")
    print(
        json.dumps(
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in figures.items()}
        )
    )


if __name__ == "__main__":
    main()
