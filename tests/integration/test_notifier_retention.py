"""The notifier's retention worker, through its real bootstrap on PostgreSQL: what is
finished and old is forgotten; open tickets' threads and unfinished work are kept."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select, text

from socialdesk_notifier.domain.pacing import Pace
from socialdesk_notifier.pacing_store import PacingStore
from socialdesk_notifier.pacing_tables import pacing_lanes
from socialdesk_notifier.retention import RetentionWorker
from socialdesk_notifier.settings import NotifierSettings
from socialdesk_notifier.slack_tables import slack_threads, slack_tickets
from socialdesk_notifier.tables import deliveries
from tests.fakes.slack import FakeSlack
from tests.integration.test_notifier_slack import paged_to_lead
from tests.integration.test_notifier_slack_support import (
    clock_of,
    drain,
    escalated,
    lead_resolved,
    notifier,
    slack,
)
from tests.support import Booted

pytestmark = pytest.mark.integration
__all__ = ["notifier", "slack"]

DAY = 86_400.0


def retention_of(svc: Booted) -> RetentionWorker:
    (worker,) = (w for w in svc.parts.workers if isinstance(w, RetentionWorker))
    return worker


async def count(svc: Booted, table: object, *where: object) -> int:
    async with svc.runtime.engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table).where(*where)) or 0)  # type: ignore[arg-type]


async def test_a_resolved_tickets_slack_state_goes_after_the_window_and_an_open_ones_stays(
    notifier: Booted, slack: FakeSlack
) -> None:
    resolved, still_open = await paged_to_lead(notifier), await paged_to_lead(notifier)
    clock = clock_of(notifier)
    await notifier.feed(lead_resolved(notifier, resolved))
    await drain(notifier, rounds=4)
    worker = retention_of(notifier)
    assert not any((await worker.run_once()).values()), "nothing is old enough yet"

    clock.advance(seconds=40 * DAY)
    # Work owed now (a rung of the open ticket) is not finished: it stays whatever happens.
    await notifier.feed(escalated(notifier, still_open, "L4", from_level="L3", reason="still unanswered"))
    owed = await count(notifier, deliveries, deliveries.c.status == "pending")
    assert owed > 0
    counts = await worker.run_once()
    assert counts["slack_threads"] == 1 and counts["slack_tickets"] == 1
    assert counts["deliveries"] > 0
    assert await count(notifier, slack_threads, slack_threads.c.ticket_id == resolved) == 0
    assert await count(notifier, slack_tickets, slack_tickets.c.ticket_id == resolved) == 0
    assert await count(notifier, deliveries, deliveries.c.ticket_id == resolved) == 0
    # The open ticket keeps its thread, its facts and its thread's parent; pending work stays.
    assert await count(notifier, slack_threads, slack_threads.c.ticket_id == still_open) == 1
    assert await count(notifier, slack_tickets, slack_tickets.c.ticket_id == still_open) == 1
    async with notifier.runtime.engine.connect() as conn:
        parent = await conn.scalar(
            select(slack_threads.c.parent_delivery_id).where(slack_threads.c.ticket_id == still_open)
        )
    assert await count(notifier, deliveries, deliveries.c.id == parent) == 1
    assert await count(notifier, deliveries, deliveries.c.status == "pending") == owed
    await drain(notifier, rounds=4)  # and the rung still goes out, in the kept thread
    assert [m for m in slack.messages("C0OBMGR") if str(still_open) in str(m)]


async def test_a_pacing_lane_idle_for_a_day_is_forgotten_and_a_busy_or_throttled_one_stays(
    notifier: Booted,
) -> None:
    """Lanes are keyed by channel, account and workspace, on the database's clock: one
    nobody asked a slot of for a day goes; one in use, or still paying for a recent
    throttle, stays."""
    async with notifier.runtime.engine.connect() as conn:
        now = float(await conn.scalar(text("SELECT extract(epoch FROM statement_timestamp())")))
    pace = Pace(ceiling=20.0, recipient_interval=1.0, adaptive=True)
    asked = {"account:old": now - 2 * DAY, "account:busy": now - 60.0, "account:cut": now - 2 * DAY}
    for lane, at in asked.items():
        async with notifier.uow_factory.autocommit() as uow:
            await PacingStore(uow).reserve(lane, pace, max_wait=5.0, recipient="r", now=at)
    async with notifier.uow_factory.quiet() as uow:  # a throttle an hour ago on an old lane
        store = PacingStore(uow)
        lane, _ = await store.locked("account:cut")
        await store.save("account:cut", replace(lane, rate=10.0, cut_at=now - 3600.0))
        await uow.commit()

    counts = await retention_of(notifier).run_once()

    assert counts["pacing_lanes"] == 1
    async with notifier.runtime.engine.connect() as conn:
        kept = set((await conn.execute(select(pacing_lanes.c.lane))).scalars())
    assert kept == {"account:busy", "account:cut"}


def test_deliveries_are_kept_at_least_as_long_as_the_inbox_remembers_events() -> None:
    base = {
        "kafka_bootstrap_servers": "127.0.0.1:9092",
        "database_url": "postgresql+asyncpg://u@h/db",
        "SOCIALDESK_CONFIG": "socialdesk.yaml",
    }
    with pytest.raises(ValidationError, match="retention_seconds must be at least inbox_retention_seconds"):
        NotifierSettings.model_validate({**base, "retention_seconds": 20 * DAY})
    assert NotifierSettings.model_validate(base).retention_seconds >= 30 * DAY
