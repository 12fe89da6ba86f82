"""Where the desk's session cookie opens the API, and what a moment without the database does
to a request that carries it (decision 0304, review), through the assigner's real bootstrap
on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from tests.integration.test_desk import arrive
from tests.integration.test_desk_sign_in import note, notes_of, sign_in, with_session
from tests.support import Booted, booted

pytestmark = pytest.mark.integration


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


async def test_the_cookie_opens_the_desks_own_api_never_the_public_one(svc: Booted) -> None:
    ticket = await arrive(svc, "Lost my jacket on the bus")
    secret = await sign_in(svc, "ob-lead")
    cookie = {"Cookie": f"desk_session={secret}"}
    public = await svc.client.get("/v1/queue", headers=cookie)
    assert public.status_code == 401 and "Authorization: Bearer" in public.json()["detail"]
    noted = await svc.client.post(
        f"/v1/tickets/{ticket.ticket_id}/notes",
        json={"text": "checked"},
        headers=with_session(secret, "ob-lead"),
    )
    assert noted.status_code == 401
    assert await notes_of(svc, ticket.ticket_id) == []
    assert (await svc.client.get("/desk/v1/queue", headers=cookie)).status_code == 200
    assert (await note(svc, ticket.ticket_id, with_session(secret, "ob-lead"))).status_code == 201
