"""Where the desk's session cookie opens the API, and what a moment without the database does
to a request that carries it (decision 0304, review), through the assigner's real bootstrap
on real PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.db import create_engine
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


async def test_a_moment_without_the_database_is_503_with_retry_after_never_a_bare_500(
    svc: Booted,
) -> None:
    ticket = await arrive(svc, "Bus broke down on the highway")
    secret = await sign_in(svc, "ob-lead")
    cookie = {"Cookie": f"desk_session={secret}"}
    real = svc.uow_factory.engine
    away = create_engine("postgresql+asyncpg://nobody@127.0.0.1:1/none", pool_size=1)
    svc.uow_factory.engine = away
    try:
        # the API under the pages' door: JSON, as for any other moment without the database
        for answer in (
            await svc.client.get("/desk/v1/queue", headers=cookie),
            await note(svc, ticket.ticket_id, with_session(secret, "ob-lead")),
        ):
            assert answer.status_code == 503 and int(answer.headers["retry-after"]) > 0, answer.text
            assert "retry shortly" in answer.json()["detail"]
        # the pages and their polls: a page that says so, and the cookie is kept (the session
        # is not known to have ended)
        for url in ("/desk/queue", "/desk/queue?fragment=1", f"/desk/tickets/{ticket.ticket_id}/state"):
            page = await svc.client.get(url, headers=cookie)
            assert page.status_code == 503 and int(page.headers["retry-after"]) > 0, url
            assert "set-cookie" not in page.headers
        page = await svc.client.get("/desk/queue", headers=cookie)
        assert "try again in a moment" in page.text and page.headers["content-security-policy"]
        signin = await svc.client.post("/desk", data={"token": "tok-ana"})
        signout = await svc.client.post("/desk/signout", headers=cookie)
        for answer in (signin, signout):
            assert answer.status_code == 503 and "set-cookie" not in answer.headers
    finally:
        svc.uow_factory.engine = real
        await away.dispose()
    # back: the same session works, nothing was done meanwhile
    assert (await svc.client.get("/desk/queue", headers=cookie)).status_code == 200
    assert await notes_of(svc, ticket.ticket_id) == []
