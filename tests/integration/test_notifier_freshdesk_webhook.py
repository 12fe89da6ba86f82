"""The Freshdesk Automation webhook on the notifier, through its real bootstrap: the
secret, unknown tickets, an agent's reply and resolve once, and our own changes ignored."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from socialdesk_schemas import ReplyRequested, TicketResolved
from socialdesk_schemas.outbound import HelpdeskReplyReceived, HelpdeskTicketResolved
from tests.fakes.freshdesk import FakeFreshdesk
from tests.freshdesk_support import FD_AGENTS, WEBHOOK_SECRET
from tests.integration.notifier_freshdesk_helpers import boot_notifier, drain, new_fake, open_ticket, ops
from tests.support import Booted, envelope

pytestmark = pytest.mark.integration


@pytest.fixture
def fd() -> Iterator[FakeFreshdesk]:
    with new_fake() as fake:
        yield fake


@pytest.fixture
async def notifier(fresh_db: str, fd: FakeFreshdesk, tmp_path: Path) -> AsyncIterator[Booted]:
    async with boot_notifier(fresh_db, tmp_path, fd.url) as svc:
        yield svc


def hook(fd_ticket: object, event: str = "reply", **over: Any) -> dict[str, Any]:
    return {
        "ticket_id": str(fd_ticket),
        "event": event,
        "status": "Open",
        "body": "<p>Your refund is on its way.</p>",
        "agent_email": "ana@ourbus.example",
        "agent_id": str(FD_AGENTS["ob-ana"]),
        "conversation_id": "777",
        **over,
    }


async def test_webhook_without_the_secret_is_refused(notifier: Booted) -> None:
    response = await notifier.client.post("/v1/freshdesk/webhook", json=hook(1))
    assert response.status_code == 401
    response = await notifier.client.post(
        "/v1/freshdesk/webhook", json=hook(1), headers={"X-Socialdesk-Secret": "nope"}
    )
    assert response.status_code == 401
    assert await notifier.emitted() == []


async def test_webhook_for_an_unknown_ticket_is_ignored_and_counted(notifier: Booted) -> None:
    response = await notifier.client.post(
        "/v1/freshdesk/webhook", json=hook(424242), headers={"X-Socialdesk-Secret": WEBHOOK_SECRET}
    )
    assert response.status_code == 200 and response.json() == {"ignored": "unknown ticket"}
    assert (
        notifier.runtime.metrics.registry.get_sample_value(
            "notifier_freshdesk_webhooks_total", {"outcome": "unknown_ticket"}
        )
        == 1
    )
    assert await notifier.emitted() == []


async def test_an_agents_reply_and_resolve_become_events_once_and_our_own_changes_do_not(
    notifier: Booted, fd: FakeFreshdesk
) -> None:
    ticket_id = uuid.uuid4()
    ticket = await open_ticket(notifier, fd, ticket_id)
    await notifier.emitted()
    headers = {"X-Socialdesk-Secret": WEBHOOK_SECRET}
    for _ in range(2):  # a repeated webhook changes nothing
        response = await notifier.client.post(
            "/v1/freshdesk/webhook", json=hook(ticket["id"]), headers=headers
        )
        assert response.status_code == 200
    [event] = await notifier.emitted()
    assert isinstance(event, HelpdeskReplyReceived)
    assert (
        event.ticket_id == ticket_id
        and event.agent_id == "ob-ana"
        and event.text == "Your refund is on its way."
    )
    # The assigner turns it into a ReplyRequested with the same reply id: not noted back.
    clock = notifier.runtime.clock
    before = len(await ops(notifier, ticket_id))
    await notifier.feed(
        ReplyRequested(
            **envelope(clock, ticket_id),
            reply_id=event.reply_id,
            brand="ourbus",
            platform="messenger",
            kind="dm",
            recipient_platform_user_id="psid-1",
            text=event.text,
            origin="agent",
            agent_id="ob-ana",
        )
    )
    assert len(await ops(notifier, ticket_id)) == before
    # A note the connector made, by its conversation id: an echo.
    [reasons] = fd.notes_of(int(ticket["id"]))
    response = await notifier.client.post(
        "/v1/freshdesk/webhook", json=hook(ticket["id"], conversation_id=str(reasons["id"])), headers=headers
    )
    assert response.json() == {"ignored": "made by socialdesk"}
    # An agent resolves in Freshdesk.
    response = await notifier.client.post(
        "/v1/freshdesk/webhook",
        json=hook(ticket["id"], "status", status="Resolved", body=""),
        headers=headers,
    )
    [resolved] = await notifier.emitted()
    assert isinstance(resolved, HelpdeskTicketResolved) and resolved.agent_id == "ob-ana"


async def test_our_own_resolve_coming_back_is_not_echoed(notifier: Booted, fd: FakeFreshdesk) -> None:
    ticket_id = uuid.uuid4()
    ticket = await open_ticket(notifier, fd, ticket_id)
    clock = notifier.runtime.clock
    await notifier.feed(
        TicketResolved(
            **envelope(clock, ticket_id),
            brand="ourbus",
            agent_id="ob-ana",
            root_cause="delay",
            resolved_at=clock.now(),
        )
    )
    await drain(notifier, lambda: fd.tickets[int(ticket["id"])]["status"] == 4)
    await notifier.emitted()
    # The "Status is changed" rule fires for our own API update too.
    response = await notifier.client.post(
        "/v1/freshdesk/webhook",
        json=hook(ticket["id"], "status", status="Resolved", body="", agent_id="", agent_email=""),
        headers={"X-Socialdesk-Secret": WEBHOOK_SECRET},
    )
    assert response.json() == {"ignored": "made by socialdesk"}
    assert await notifier.emitted() == []
