"""Slack's Take ownership through the assigner's real bootstrap on real PostgreSQL: the
notifier's ``OwnershipRequested`` assigns the ticket to the agent who pressed it, by the
desk's rules, once; a refusal is published as ``OwnershipRefused`` and changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import MessageClassified, TicketAssigned
from socialdesk_schemas.desk import OwnershipRefused
from socialdesk_schemas.outbound import OwnershipRequested
from tests.integration.test_desk import arrive, auth, emitted, ev, page
from tests.support import Booted, booted

pytestmark = pytest.mark.integration


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


def take(svc: Booted, ticket_id: uuid.UUID, agent_id: str, brand: str = "ourbus") -> OwnershipRequested:
    return OwnershipRequested(
        **{**ev(svc, ticket_id), "producer": "notifier"},
        brand=brand,
        agent_id=agent_id,
        slack_user_id=f"U-{agent_id}",
        requested_at=svc.runtime.clock.now(),
    )


async def owned(svc: Booted) -> tuple[MessageClassified, str]:
    message = await arrive(svc)
    (assigned,) = [e for e in await emitted(svc) if isinstance(e, TicketAssigned)]
    return message, assigned.agent_id


async def test_take_ownership_assigns_the_ticket_to_who_pressed_it_once(svc: Booted) -> None:
    message, owner = await owned(svc)
    request = take(svc, message.ticket_id, "ob-lead")
    outcome = await svc.feed(request)
    assert outcome["processed"] == 1
    (event,) = await emitted(svc)
    assert isinstance(event, TicketAssigned)
    assert (event.agent_id, event.agent_level, event.reason, event.previous_agent_id) == (
        "ob-lead",
        "L3",
        "claimed",
        owner,
    )
    assert event.causation_id == request.event_id
    body = await page(svc, message.ticket_id)
    assert body["agent_id"] == "ob-lead"
    slack_lines = [h for h in body["history"] if h["kind"] == "TakeOwnershipInSlack"]
    assert [(h["actor"], h["detail"]) for h in slack_lines] == [("ob-lead", "Slack user U-ob-lead")]
    # the lead's queue holds it now, the former owner's does not
    ana = (await svc.client.get("/v1/queue", headers=auth(owner))).json()["tickets"]
    assert str(message.ticket_id) not in {t["ticket_id"] for t in ana}
    # redelivered: the inbox drops it; pressed again: nothing to change, nothing emitted
    again = await svc.feed(request)
    assert (again["duplicate"], again["processed"]) == (1, 0)
    second = await svc.feed(take(svc, message.ticket_id, "ob-lead"))
    assert second["processed"] == 1
    assert await emitted(svc) == []
    assert (await page(svc, message.ticket_id))["agent_id"] == "ob-lead"


async def test_take_ownership_is_refused_by_the_desks_rules_and_changes_nothing(svc: Booted) -> None:
    message, owner = await owned(svc)
    other_l1 = "ob-ben" if owner != "ob-ben" else "ob-ana"
    # an L1 may not take a colleague's ticket; an agent of another brand may not take it
    await svc.feed(take(svc, message.ticket_id, other_l1), take(svc, message.ticket_id, "ra-hugo"))
    refusals = await emitted(svc)
    assert [type(e) for e in refusals] == [OwnershipRefused, OwnershipRefused]
    assert isinstance(refusals[0], OwnershipRefused) and isinstance(refusals[1], OwnershipRefused)
    assert "owned by another agent" in refusals[0].reason and refusals[0].agent_id == other_l1
    assert "brand you do not work for" in refusals[1].reason
    # resolved: even the brand manager's press changes nothing
    resolved = await svc.client.post(
        f"/v1/tickets/{message.ticket_id}/resolve",
        json={"root_cause": "bus was late"},
        headers=auth(owner),
    )
    assert resolved.status_code == 200, resolved.text
    await emitted(svc)
    request = take(svc, message.ticket_id, "ob-mgr")
    await svc.feed(request)
    (refusal,) = await emitted(svc)
    assert isinstance(refusal, OwnershipRefused)
    assert "already resolved" in refusal.reason
    assert (refusal.request_event_id, refusal.slack_user_id) == (request.event_id, "U-ob-mgr")
    body = await page(svc, message.ticket_id)
    assert (body["agent_id"], body["status"]) == (owner, "resolved")
    assert sum("refused" in h["detail"] for h in body["history"] if h["kind"] == "TakeOwnershipInSlack") == 3


async def test_take_ownership_of_a_ticket_the_desk_never_saw_is_refused(svc: Booted) -> None:
    await svc.feed(take(svc, uuid.uuid4(), "ob-lead"))
    (refusal,) = await emitted(svc)
    assert isinstance(refusal, OwnershipRefused)
    assert "does not know this ticket" in refusal.reason
    assert await svc.dead_letters() == []
