"""A customer linked across channels (ingest's CustomerLinked / CustomerUnlinked) is one
customer on the desk's ticket page: every linked channel and the profile's other tickets."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas.platforms import CustomerLinked, CustomerUnlinked
from tests.integration.test_desk import arrive, ev, page
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
