"""Helpers of the notifier's Freshdesk integration tests (booting, draining the worker)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from sqlalchemy import select

from socialdesk_notifier.bootstrap import SPEC
from socialdesk_notifier.freshdesk.domain.ops import marker_tag
from socialdesk_notifier.freshdesk.tables import freshdesk_ops
from socialdesk_notifier.freshdesk.worker import FreshdeskWorker
from socialdesk_runtime.clock import FakeClock
from tests.fakes.freshdesk import FakeFreshdesk
from tests.freshdesk_support import API_KEY, FD_AGENTS, GROUP_ID, classified, freshdesk_config, received
from tests.support import Booted, booted


def new_fake(**options: Any) -> FakeFreshdesk:
    return FakeFreshdesk(
        api_key=API_KEY,
        groups={GROUP_ID},
        agents={v: f"{k}@ourbus.example" for k, v in FD_AGENTS.items()},
        **options,
    )


def boot_notifier(
    fresh_db: str, tmp_path: Path, base_url: str, env: dict[str, str] | None = None, **options: Any
) -> AbstractAsyncContextManager[Booted]:
    return booted(
        SPEC,
        fresh_db,
        clock=FakeClock(),
        config=freshdesk_config(tmp_path, base_url, env, **options),
        settings={
            "local_sink_path": tmp_path / "sink.jsonl",
            "graph_base_url": "http://127.0.0.1:9",
            "x_base_url": "http://127.0.0.1:9",
            "delivery_lease_seconds": 20,
        },
    )


def fake_clock(svc: Booted) -> FakeClock:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    return clock


def worker_of(svc: Booted) -> FreshdeskWorker:
    return next(w for w in svc.parts.workers if isinstance(w, FreshdeskWorker))


async def drain(svc: Booted, until: Callable[[], bool], *, rounds: int = 200) -> None:
    """Run the worker's rounds until ``until()`` (checked after each round)."""
    worker = worker_of(svc)
    for _ in range(rounds):
        await worker.run_once()
        if until():
            return
    raise AssertionError("condition not reached")


async def ops(svc: Booted, ticket_id: uuid.UUID) -> list[dict[str, Any]]:
    async with svc.engine.connect() as conn:
        rows = await conn.execute(
            select(freshdesk_ops).where(freshdesk_ops.c.ticket_id == ticket_id).order_by(freshdesk_ops.c.id)
        )
        return [dict(r._mapping) for r in rows]


async def open_ticket(svc: Booted, fd: FakeFreshdesk, ticket_id: uuid.UUID, **over: Any) -> dict[str, Any]:
    clock = svc.runtime.clock
    await svc.feed(received(clock, ticket_id, text="My bus to Bandung is 3 hours late, I want a refund"))
    await svc.feed(classified(clock, ticket_id, **over))
    tag = marker_tag(ticket_id)
    await drain(
        svc,
        lambda: len(fd.tickets_tagged(tag)) == 1 and len(fd.notes_of(fd.tickets_tagged(tag)[0]["id"])) >= 1,
    )
    return fd.tickets_tagged(tag)[0]
