"""Who the customer is and which tickets the queue holds: a customer linked across channels
(ingest's CustomerLinked / CustomerUnlinked) is one customer on the ticket page, with every
linked channel and the profile's other tickets; the queue's filters."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import TicketAssigned
from socialdesk_schemas.platforms import CustomerLinked, CustomerUnlinked
from tests.integration.test_desk import arrive, auth, emitted, ev, page
from tests.support import Booted, booted

pytestmark = pytest.mark.integration


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


async def test_a_linked_customer_shows_every_channel_and_ticket_until_unlinked(svc: Booted) -> None:
    on_ig = await arrive(svc, "My bus is late", platform="instagram")
    on_x = await arrive(
        svc, "still waiting @ourbus", platform="x", kind="mention", author_platform_user_id="x-99"
    )
    stranger = await arrive(svc, "hello", platform="facebook")
    before = await page(svc, on_ig.ticket_id)
    assert [c["platform"] for c in before["customer"]["channels"]] == ["instagram"]
    assert before["customer"]["other_tickets"] == []
    profile = uuid.uuid4()
    linked = CustomerLinked(
        **ev(svc, profile),
        profile_id=profile,
        customer_ids=[on_ig.customer_id, on_x.customer_id],
        linked_by="ob-lead",
    )
    assert (await svc.feed(linked))["processed"] == 1
    after = await page(svc, on_ig.ticket_id)
    assert [c["platform"] for c in after["customer"]["channels"]] == ["instagram", "x"]
    assert [t["ticket_id"] for t in after["customer"]["other_tickets"]] == [str(on_x.ticket_id)]
    from_x = await page(svc, on_x.ticket_id)
    assert [t["ticket_id"] for t in from_x["customer"]["other_tickets"]] == [str(on_ig.ticket_id)]
    assert str(stranger.ticket_id) not in {t["ticket_id"] for t in after["customer"]["other_tickets"]}
    # a wrong link undone: each is on their own again
    await svc.feed(
        CustomerUnlinked(
            **ev(svc, profile), profile_id=profile, customer_id=on_x.customer_id, unlinked_by="ob-lead"
        )
    )
    undone = await page(svc, on_ig.ticket_id)
    assert [c["platform"] for c in undone["customer"]["channels"]] == ["instagram"]
    assert undone["customer"]["other_tickets"] == []
    # relinked with the stranger instead: the profile is exactly the latest list
    await svc.feed(
        CustomerLinked(
            **ev(svc, profile),
            profile_id=profile,
            customer_ids=[on_ig.customer_id, stranger.customer_id],
            linked_by="rule:same-phone",
        )
    )
    relinked = await page(svc, on_ig.ticket_id)
    assert [c["platform"] for c in relinked["customer"]["channels"]] == ["facebook", "instagram"]


async def test_the_queue_filters_by_status_category_group_owner_and_brand(svc: Booted) -> None:

    storm = await arrive(svc, "stuck in the storm", group_id="g-storm", category="complaint")
    refund = await arrive(svc, "refund please", category="request")
    owners = {e.ticket_id: e.agent_id for e in await emitted(svc) if isinstance(e, TicketAssigned)}
    pend = await svc.client.post(
        f"/v1/tickets/{refund.ticket_id}/pending",
        json={"reason": "asked for booking"},
        headers=auth(owners[refund.ticket_id]),
    )
    assert pend.status_code == 200, pend.text

    async def ids(query: str, agent: str = "ob-lead") -> set[str]:
        response = await svc.client.get(f"/v1/queue?{query}", headers=auth(agent))
        assert response.status_code == 200, response.text
        return {t["ticket_id"] for t in response.json()["tickets"]}

    assert await ids("status=pending") == {str(refund.ticket_id)}
    assert await ids("status=assigned") == {str(storm.ticket_id)}
    assert await ids("category=request") == {str(refund.ticket_id)}
    assert await ids("group=g-storm") == {str(storm.ticket_id)}
    owner = owners[storm.ticket_id]
    assert await ids(f"owner={owner}") == {str(t) for t, a in owners.items() if a == owner}
    assert await ids("owner=none") == set()
    assert await ids("owner=me", agent=owner) == {str(t) for t, a in owners.items() if a == owner}
    assert await ids("brand=rally") == set()
    assert await ids("escalated=true") == set()
