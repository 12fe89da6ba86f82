"""The desk's sign-in behind a proxy that ends TLS (decision 0304, addendum), through the
assigner's real bootstrap on real PostgreSQL: the proxy speaks plain http to the assigner and
uvicorn believes its ``X-Forwarded-Proto`` only from ``FORWARDED_ALLOW_IPS``, so the request
alone would say http. With ``desk.public_url`` the cookie is still ``Secure`` and the
browser's ``Origin`` (the public one) is still the desk's own."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from tests.integration.test_desk import TOKENS, arrive, desk_config
from tests.integration.test_desk_sign_in import cookies_set, note, notes_of
from tests.support import Booted, booted

pytestmark = pytest.mark.integration

PUBLIC = "https://desk.ourbus.example"


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    config = desk_config(desk={"public_url": PUBLIC + "/"})
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=config) as service:
        yield service


async def test_behind_a_tls_proxy_the_public_url_keeps_the_cookie_secure_and_the_origin_the_desks(
    svc: Booted,
) -> None:
    ticket = await arrive(svc, "My seat was given away")
    # an older browser says where it comes from in Origin only: the public origin is the desk's
    page = {"Origin": PUBLIC}
    signin = await svc.client.post("/desk", data={"token": TOKENS["ob-ana"]}, headers=page)
    svc.client.cookies.clear()
    assert signin.status_code == 303, signin.text
    cookie = cookies_set(signin)["desk_session"]
    assert cookie["secure"] and cookie["httponly"] and cookie["samesite"].lower() == "lax"
    session = {"Cookie": f"desk_session={cookie.value}", "X-Desk-Session-Agent": "ob-ana"}
    body = {"Content-Type": "application/json"}
    done = await note(svc, ticket.ticket_id, {**session, **body, **page})
    assert done.status_code == 201, done.text
    # any other origin is another site: the same host over plain http, the proxy's upstream
    for other in ("http://desk.ourbus.example", "https://evil.example", str(svc.client.base_url).rstrip("/")):
        refused = await note(svc, ticket.ticket_id, {**session, **body, "Origin": other})
        assert refused.status_code == 403 and "desk's own page" in refused.json()["detail"], other
        refused_signin = await svc.client.post(
            "/desk", data={"token": TOKENS["ob-ana"]}, headers={"Origin": other}
        )
        assert refused_signin.status_code == 403, other
    assert await notes_of(svc, ticket.ticket_id) == ["checked"]
    # the sign-out clears the cookie the same way it was set, as does a page opened with it after
    out = await svc.client.post("/desk/signout", headers={"Cookie": f"desk_session={cookie.value}", **page})
    assert out.headers["location"] == "/desk?signed_out=1"
    assert cookies_set(out)["desk_session"]["secure"]
    opened = await svc.client.get("/desk/queue", headers={"Cookie": f"desk_session={cookie.value}"})
    assert opened.status_code == 303 and cookies_set(opened)["desk_session"]["secure"]
