"""``socialdesk freshdesk backfill`` and ``reconcile`` over a notifier that ran with the
connector off, then on: the open tickets get their Freshdesk tickets once, and the
reconciliation reports what differs."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from socialdesk_notifier.freshdesk.cli import run_backfill, run_reconcile
from socialdesk_notifier.freshdesk.client import FreshdeskAccount
from socialdesk_notifier.freshdesk.domain.ops import marker_tag
from socialdesk_schemas import TicketResolved
from tests.fakes.freshdesk import FakeFreshdesk
from tests.freshdesk_support import API_KEY, classified, received
from tests.integration.notifier_freshdesk_helpers import boot_notifier, drain, new_fake
from tests.support import envelope

pytestmark = pytest.mark.integration


@pytest.fixture
def fd() -> Iterator[FakeFreshdesk]:
    with new_fake() as fake:
        yield fake


async def test_backfill_creates_the_open_tickets_once_and_reconcile_reports_differences(
    fresh_db: str, fd: FakeFreshdesk, tmp_path: Path
) -> None:
    tickets = [uuid.uuid4() for _ in range(3)]
    async with boot_notifier(fresh_db, tmp_path, fd.url, enabled=False) as off:
        clock = off.runtime.clock
        for i, ticket_id in enumerate(tickets):
            await off.feed(received(clock, ticket_id, text=f"Question {i}", user=f"psid-{i}"))
            await off.feed(classified(clock, ticket_id, user=f"psid-{i}"))
        # One was resolved before the switch: it stays out of Freshdesk.
        await off.feed(
            TicketResolved(
                **envelope(clock, tickets[2]),
                brand="ourbus",
                agent_id="ob-ana",
                root_cause="x",
                resolved_at=clock.now(),
            )
        )
    assert fd.calls == []  # the connector was off: nothing was sent

    async with boot_notifier(fresh_db, tmp_path, fd.url) as on:
        brands = {"ourbus": on.runtime.config.freshdesk.brands["ourbus"]}
        now = on.runtime.clock.now()  # what the notifier's worker counts by
        assert await run_backfill(on.uow_factory, brands, dry_run=True, now=now) == 2
        assert await run_backfill(on.uow_factory, brands, dry_run=False, now=now) == 2
        assert await run_backfill(on.uow_factory, brands, dry_run=False, now=now) == 0
        await drain(on, lambda: all(len(fd.tickets_tagged(marker_tag(t))) == 1 for t in tickets[:2]))
        assert fd.tickets_tagged(marker_tag(tickets[2])) == []
        first = fd.tickets_tagged(marker_tag(tickets[0]))[0]
        assert (
            first["priority"] == 3 and "complaint" in first["tags"] and "Question 0" in first["description"]
        )

        async with httpx.AsyncClient() as http:
            account = FreshdeskAccount("ourbus", brands["ourbus"], api_key=lambda: API_KEY, http=http)
            assert await run_reconcile(on.uow_factory, {"ourbus": account}) == []
            # Someone changes one ticket's priority in Freshdesk and deletes the other.
            with fd._lock:
                fd.tickets[first["id"]]["priority"] = 1
                del fd.tickets[fd.tickets_tagged(marker_tag(tickets[1]))[0]["id"]]
            found = {(d.ticket_id, d.what) for d in await run_reconcile(on.uow_factory, {"ourbus": account})}
        assert found == {
            (tickets[0], "priority 1 (socialdesk set 3)"),
            (tickets[1], "missing in Freshdesk"),
        }
