"""The assigner's hot handlers a consumed batch at a time, through its real bootstrap on real
PostgreSQL: the read model ends as if each event had been applied in record order, and a
batch costs a few statements however many events it holds."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import SlaBreached, SlaWarning, TrendDetected
from socialdesk_schemas.platforms import MessageEdited
from socialdesk_schemas.sla import SlaClockArmed, SlaClockStopped
from tests.integration.test_desk import arrive, auth, emitted, ev, page
from tests.support import Booted, booted

pytestmark = pytest.mark.integration


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


@contextmanager
def statements(svc: Booted) -> Iterator[list[str]]:
    """The SQL statements the service sends while the block runs (an executemany is one)."""
    sent: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement.split(None, 1)[0].upper())

    event.listen(svc.engine.sync_engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(svc.engine.sync_engine, "before_cursor_execute", count)


def armed(svc: Booted, ticket_id: uuid.UUID, clock: str, minutes: float) -> SlaClockArmed:
    now = svc.runtime.clock.now()
    return SlaClockArmed(
        **ev(svc, ticket_id),
        brand="ourbus",
        clock=clock,  # type: ignore[arg-type]  # a literal the test passes as str
        due_at=now + timedelta(minutes=minutes),
        warn_at=now + timedelta(minutes=minutes / 2),
        armed_at=now,
    )


async def test_a_batch_of_clock_events_ends_as_applied_one_by_one(svc: Booted) -> None:
    first, second, third = [await arrive(svc) for _ in range(3)]
    await emitted(svc)
    clock = svc.runtime.clock
    # re-armed within the batch (a pause ended): the later arming wins
    outcome = await svc.feed(
        armed(svc, first.ticket_id, "first_response", 60),
        armed(svc, first.ticket_id, "resolution", 2880),
        armed(svc, second.ticket_id, "first_response", 30),
        armed(svc, third.ticket_id, "first_response", 90),
        armed(svc, first.ticket_id, "first_response", 10),
    )
    assert (outcome["processed"], outcome["deadlettered"]) == (5, 0)
    ob = (await svc.client.get("/v1/queue", headers=auth("ob-lead"))).json()["tickets"]
    assert [t["ticket_id"] for t in ob] == [str(t.ticket_id) for t in (first, second, third)]
    due = clock.now() + timedelta(minutes=10)
    assert ob[0]["sla_due_at"].startswith(due.isoformat()[:19])
    # a warning and a breach on two tickets in one batch, then the first response met
    await svc.feed(
        SlaWarning(
            **ev(svc, second.ticket_id),
            brand="ourbus",
            platform="instagram",
            metric="first_response",
            priority="high",
            deadline=clock.now() + timedelta(minutes=30),
            agent_id=None,
            remaining_seconds=900,
        ),
        SlaWarning(
            **ev(svc, third.ticket_id),
            brand="ourbus",
            platform="instagram",
            metric="first_response",
            priority="high",
            deadline=clock.now() + timedelta(minutes=90),
            agent_id=None,
            remaining_seconds=2700,
        ),
        SlaBreached(
            **ev(svc, third.ticket_id),
            brand="ourbus",
            platform="instagram",
            metric="first_response",
            priority="high",
            deadline=clock.now() + timedelta(minutes=90),
            breached_at=clock.now(),
            agent_id=None,
        ),
        SlaClockStopped(
            **ev(svc, first.ticket_id),
            brand="ourbus",
            clock="first_response",
            outcome="met",
            stopped_at=clock.now(),
        ),
    )
    states = {
        t: {c["clock"]: c["state"] for c in (await page(svc, t))["sla"]}
        for t in (first.ticket_id, second.ticket_id, third.ticket_id)
    }
    assert states == {
        first.ticket_id: {"first_response": "met", "resolution": "armed"},
        second.ticket_id: {"first_response": "warned"},
        third.ticket_id: {"first_response": "breached"},
    }
    ob = {
        t["ticket_id"]: t
        for t in (await svc.client.get("/v1/queue", headers=auth("ob-lead"))).json()["tickets"]
    }
    # the first ticket's due time now comes from its resolution clock alone
    assert ob[str(first.ticket_id)]["sla_due_at"].startswith(
        (clock.now() + timedelta(minutes=2880)).isoformat()[:16]
    )
    kinds = [h["kind"] for h in (await page(svc, third.ticket_id))["history"]]
    assert {"SlaWarning", "SlaBreached"} <= set(kinds)


async def test_a_batch_costs_a_few_statements_however_many_events_it_holds(svc: Booted) -> None:
    """One statement per table per batch: 60 clock events are no more statements than 2."""
    tickets = [await arrive(svc) for _ in range(30)]
    await emitted(svc)
    with statements(svc) as small:
        await svc.feed(*(armed(svc, t.ticket_id, "first_response", 60) for t in tickets[:2]))
    with statements(svc) as large:
        await svc.feed(
            *(armed(svc, t.ticket_id, c, 60) for t in tickets for c in ("first_response", "resolution"))
        )
    assert len(large) == len(small) <= 5, large  # inbox, clocks, due times (and the transaction)
    # routing 40 classified messages and their words: the same statements as routing 2
    from tests.integration.test_desk import classified, received

    def pairs(n: int) -> list[Any]:
        out: list[Any] = []
        for _ in range(n):
            message = classified(svc)
            out.append((received(svc, message, "my bus never came, I want a refund"), message))
        return out

    few, many = pairs(2), pairs(40)
    with statements(svc) as routed_few:
        await svc.feed(*(p[0] for p in few))
        await svc.feed(*(p[1] for p in few))
    with statements(svc) as routed_many:
        await svc.feed(*(p[0] for p in many))
        await svc.feed(*(p[1] for p in many))
    assert len(routed_many) == len(routed_few), (routed_few, routed_many)
    async with svc.engine.connect() as conn:
        n = (await conn.execute(text("SELECT count(*) FROM tickets"))).scalar_one()
    assert n == 30 + 42


async def test_edits_and_group_updates_in_one_batch_keep_record_order(svc: Booted) -> None:
    message = await arrive(svc, "My bus is 2 hours late")
    await emitted(svc)
    clock = svc.runtime.clock

    def edit(words: str) -> MessageEdited:
        return MessageEdited(
            **ev(svc, message.ticket_id),
            message_id=message.message_id,
            brand="ourbus",
            platform="instagram",
            platform_message_id=message.platform_message_id,
            text=words,
            edited_at=clock.now(),
        )

    def trend(volume: int, sample: str | None) -> TrendDetected:
        return TrendDetected(
            **ev(svc, message.ticket_id),
            brand="ourbus",
            group_id="g-batch",
            volume=volume,
            window_seconds=600,
            sample_text=sample,
        )

    await svc.feed(edit("My bus is 3 hours late"), edit("My bus is 4 hours late"))
    await svc.feed(trend(5, "late bus"), trend(9, None), trend(7, "later sample"))
    talk = (await page(svc, message.ticket_id))["conversation"]
    assert (talk[0]["text"], talk[0]["original_text"]) == ("My bus is 4 hours late", "My bus is 2 hours late")
    async with svc.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT volume, sample_text FROM incident_groups WHERE group_id = 'g-batch'")
            )
        ).one()
    assert (row.volume, row.sample_text) == (9, "later sample")
