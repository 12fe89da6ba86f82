"""The notifier's per-batch writes (one statement of constant text per table and batch)
keep their merge rules when one batch carries several events of one ticket."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import Table, select

from socialdesk_notifier.freshdesk.tables import freshdesk_ops, freshdesk_tickets
from socialdesk_notifier.slack_tables import slack_tickets
from tests.freshdesk_support import classified, received
from tests.integration.notifier_freshdesk_helpers import boot_notifier, fake_clock
from tests.support import Booted

pytestmark = pytest.mark.integration


@pytest.fixture
async def notifier(fresh_db: str, tmp_path: Path) -> AsyncIterator[Booted]:
    # Nothing is sent: the workers are not started, Freshdesk is never called.
    async with boot_notifier(fresh_db, tmp_path, "http://127.0.0.1:9") as svc:
        yield svc


async def _row(svc: Booted, table: Table, ticket_id: uuid.UUID) -> dict[str, object]:
    async with svc.engine.connect() as conn:
        row = (await conn.execute(select(table).where(table.c.ticket_id == ticket_id))).one()
        return dict(row._mapping)


async def test_first_message_wins_within_one_batch(notifier: Booted) -> None:
    clock = fake_clock(notifier)
    t = uuid.uuid4()
    first = received(clock, t, text="My bus is 3 hours late")
    clock.advance(seconds=5)
    second = received(clock, t, text="hello??", user="psid-2")
    other = uuid.uuid4()
    assert (await notifier.feed(first, second, received(clock, other, text="x")))["processed"] == 3

    fd = await _row(notifier, freshdesk_tickets, t)
    assert fd["first_text"] == "My bus is 3 hours late"
    assert fd["customer_platform_user_id"] == "psid-1"
    assert fd["opened_at"] == first.received_at
    slack = await _row(notifier, slack_tickets, t)
    assert slack["excerpt"] == "My bus is 3 hours late"
    assert (await _row(notifier, freshdesk_tickets, other))["first_text"] == "x"


async def test_last_classification_wins_and_first_values_are_kept(notifier: Booted) -> None:
    clock = fake_clock(notifier)
    t, quiet = uuid.uuid4(), uuid.uuid4()
    # The classification may come before the text: the row waits for it.
    await notifier.feed(
        classified(clock, t, priority="low"),
        classified(clock, t, priority="critical"),
        classified(clock, quiet, brand="rally"),
    )
    fd = await _row(notifier, freshdesk_tickets, t)
    assert (fd["priority"], fd["first_text"], fd["state"]) == ("critical", "", "open")
    first_fd_priority = fd["fd_priority"]
    assert first_fd_priority is not None and fd["fd_tags"]
    assert (await _row(notifier, slack_tickets, t))["priority"] == "critical"
    # A brand without the connector: nothing decided for Freshdesk.
    rally = await _row(notifier, freshdesk_tickets, quiet)
    assert rally["fd_priority"] is None and rally["fd_tags"] is None

    await notifier.feed(received(clock, t, text="the text came late"))
    await notifier.feed(classified(clock, t, priority="low", queue="ignore"))
    fd = await _row(notifier, freshdesk_tickets, t)
    assert fd["first_text"] == "the text came late"
    assert fd["priority"] == "low" and fd["state"] == "dismissed"
    assert fd["fd_priority"] == first_fd_priority  # what was decided first is kept

    async with notifier.engine.connect() as conn:
        kinds = (
            await conn.execute(
                select(freshdesk_ops.c.kind)
                .where(freshdesk_ops.c.ticket_id == t)
                .order_by(freshdesk_ops.c.id)
            )
        ).scalars()
        assert list(kinds)[:1] == ["create"]
