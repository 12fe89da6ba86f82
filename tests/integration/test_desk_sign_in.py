"""Signing in to the desk's pages (decision 0304) through the assigner's real bootstrap on real
PostgreSQL: the cookie holds a session's secret (never the token, never readable by script),
the API takes it only with proof that the desk's page asks, signing out ends it on the desk
(and on every replica), it expires, and the bearer token works as it always did."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from http.cookies import SimpleCookie
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_assigner.presence import DeskWorker
from socialdesk_assigner.tables import desk_sessions, notes
from socialdesk_runtime.clock import FakeClock
from tests.integration.test_desk import TOKENS, arrive, auth, desk_config, emitted
from tests.support import Booted, booted, config_for_tests

pytestmark = pytest.mark.integration

#: What the desk's page sends with a change (a browser adds Sec-Fetch-Site by itself).
FROM_THE_PAGE = {"Sec-Fetch-Site": "same-origin", "Content-Type": "application/json"}


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


def cookies_set(response: httpx.Response) -> SimpleCookie:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_list("set-cookie"):
        jar.load(header)
    return jar


async def sign_in(svc: Booted, agent_id: str, *, url: str = "/desk", cookie: str = "") -> str:
    """Signs in as the desk's sign-in form does; returns the session cookie's value (the
    client keeps no cookie: each request below says which one it sends)."""
    headers = {"Cookie": f"desk_session={cookie}"} if cookie else {}
    response = await svc.client.post(url, data={"token": TOKENS[agent_id]}, headers=headers)
    svc.client.cookies.clear()
    assert response.status_code == 303, response.text
    return cookies_set(response)["desk_session"].value


def with_session(secret: str, agent_id: str | None = None, **more: str) -> dict[str, str]:
    headers = {"Cookie": f"desk_session={secret}", **FROM_THE_PAGE, **more}
    if agent_id is not None:
        headers["X-Desk-Session-Agent"] = agent_id
    return headers


async def note(
    svc: Booted, ticket_id: uuid.UUID, headers: dict[str, str], text: str = "checked"
) -> httpx.Response:
    return await svc.client.post(f"/desk/v1/tickets/{ticket_id}/notes", json={"text": text}, headers=headers)


async def notes_of(svc: Booted, ticket_id: uuid.UUID) -> list[str]:
    async with svc.engine.connect() as conn:
        rows = await conn.execute(select(notes.c.text).where(notes.c.ticket_id == ticket_id))
        return [r.text for r in rows]


async def sessions_table(svc: Booted) -> list[dict[str, Any]]:
    async with svc.engine.connect() as conn:
        return [dict(r._mapping) for r in await conn.execute(select(desk_sessions))]


async def still_signed_in(svc: Booted, secret: str) -> bool:
    """Whether the desk's pages and API take ``secret`` (both agree, or the test fails)."""
    page = await svc.client.get("/desk/queue", headers={"Cookie": f"desk_session={secret}"})
    api = await svc.client.get("/desk/v1/queue", headers={"Cookie": f"desk_session={secret}"})
    assert (page.status_code == 200) is (api.status_code == 200), (page.status_code, api.status_code)
    if page.status_code != 200:
        assert page.status_code == 303 and page.headers["location"].startswith("/desk?next=")
        assert 'desk_session=""' in page.headers["set-cookie"]  # the dead cookie is cleared
        assert api.status_code == 401 and "sign in again" in api.json()["detail"]
    return page.status_code == 200


async def test_signing_in_gives_the_browser_a_session_secret_it_cannot_read_never_the_token(
    svc: Booted,
) -> None:
    response = await svc.client.post("/desk", data={"token": "tok-ana"})
    svc.client.cookies.clear()
    assert response.status_code == 303
    (header,) = response.headers.get_list("set-cookie")
    cookie = cookies_set(response)["desk_session"]
    assert cookie["httponly"] is True and cookie["samesite"].lower() == "lax"
    assert cookie["path"] == "/desk" and not cookie["secure"] and not cookie["max-age"]
    assert "tok-ana" not in header and len(cookie.value) >= 43
    # the desk keeps the secret's hash, never the secret or the token
    (row,) = await sessions_table(svc)
    assert row["agent_id"] == "ob-ana" and row["revoked_at"] is None
    assert row["secret_hash"] == hashlib.sha256(cookie.value.encode()).hexdigest()
    assert cookie.value not in str(row.values()) and "tok-ana" not in str(row.values())
    assert row["expires_at"] == row["created_at"] + timedelta(hours=12)  # the default idle time
    # over https, the cookie is sent over https only; each sign-in is a new secret
    assert cookies_set(await svc.client.post("https://assigner/desk", data={"token": "tok-ana"}))[
        "desk_session"
    ]["secure"]
    svc.client.cookies.clear()
    assert await sign_in(svc, "ob-ana") != cookie.value
    # the page shows who is signed in and what it acts as
    page = await svc.client.get("/desk/queue", headers={"Cookie": f"desk_session={cookie.value}"})
    assert page.status_code == 200 and 'data-agent="ob-ana"' in page.text


async def test_the_api_takes_the_session_only_with_proof_that_the_desks_page_asks(svc: Booted) -> None:
    ticket = await arrive(svc, "Where is my bus?")
    tid = ticket.ticket_id
    secret = await sign_in(svc, "ob-lead")
    # reading needs only the cookie (another site's page cannot read the answer)
    queue = await svc.client.get("/desk/v1/queue", headers={"Cookie": f"desk_session={secret}"})
    assert queue.status_code == 200 and queue.json()["agent_id"] == "ob-lead"
    # a change needs the page's header and the same origin: refused, nothing written
    refusals = [
        (with_session(secret), 403, "X-Desk-Session-Agent"),
        (with_session(secret, "ob-lead", **{"Sec-Fetch-Site": "cross-site"}), 403, "desk's own page"),
        (with_session(secret, "ob-lead", **{"Sec-Fetch-Site": "same-site"}), 403, "desk's own page"),
        ({**with_session(secret, "ob-lead"), "Origin": "https://evil.example"}, 403, "desk's own page"),
    ]
    for headers, status, words in refusals:
        if "Origin" in headers:
            del headers["Sec-Fetch-Site"]  # an older browser: only Origin says where it comes from
        refused = await note(svc, tid, headers)
        assert refused.status_code == status and words in refused.json()["detail"], (headers, refused.text)
    # a page rendered for someone else (another tab signed in since): 409, told apart
    other = await note(svc, tid, with_session(secret, "ob-ana"))
    assert other.status_code == 409 and other.headers["x-desk-session"] == "other-agent"
    assert "Someone else signed in on this browser (another tab)" in other.json()["detail"]
    assert await notes_of(svc, tid) == []
    assert not [e for e in await emitted(svc) if type(e).__name__ == "InternalNoteAdded"]
    # from the desk's page, as the agent it shows: done, by that agent
    done = await note(svc, tid, with_session(secret, "ob-lead", **{"Idempotency-Key": "k-1"}))
    assert done.status_code == 201, done.text
    assert await notes_of(svc, tid) == ["checked"]
    # the same key through the other door (bearer, /v1) is the same request: answered, not redone
    again = await svc.client.post(
        f"/v1/tickets/{tid}/notes", json={"text": "checked"}, headers=auth("ob-lead", key="k-1")
    )
    assert again.status_code == 201 and again.headers["idempotent-replayed"] == "true"
    assert await notes_of(svc, tid) == ["checked"]
    metrics = (await svc.client.get("/metrics")).text
    for reason, n in (("no_agent_header", 1), ("not_from_the_desk", 3), ("other_agent", 1)):
        assert f'assigner_desk_session_refusals_total{{reason="{reason}"}} {n}.0' in metrics


async def test_signing_out_ends_the_session_on_the_desk_and_on_every_replica(
    svc: Booted, fresh_db: str
) -> None:
    ticket = await arrive(svc, "Refund please")
    async with booted(SPEC, fresh_db, clock=svc.runtime.clock) as replica:
        secret = await sign_in(svc, "ob-lead")
        # signed in on one replica, signed in on the other (they share the database)
        assert await still_signed_in(replica, secret)
        kept = f"desk_session={secret}"  # a copy of the cookie, as a thief would keep it
        out = await replica.client.post("/desk/signout", headers={"Cookie": kept})
        assert out.status_code == 303 and out.headers["location"] == "/desk?signed_out=1"
        assert (
            'desk_session=""' in out.headers["set-cookie"] and "httponly" in out.headers["set-cookie"].lower()
        )
        # the copy is refused by both replicas: pages go to sign in, the API says 401
        assert not await still_signed_in(svc, secret)
        assert not await still_signed_in(replica, secret)
        fragment = await svc.client.get("/desk/queue?fragment=1", headers={"Cookie": kept})
        assert fragment.status_code == 401
        state = await svc.client.get(f"/desk/tickets/{ticket.ticket_id}/state", headers={"Cookie": kept})
        assert state.status_code == 401
        refused = await note(svc, ticket.ticket_id, with_session(secret, "ob-lead"))
        assert refused.status_code == 401
        assert await notes_of(svc, ticket.ticket_id) == []
        (row,) = await sessions_table(svc)
        assert row["revoked_at"] == svc.runtime.clock.now()
        metrics = (await replica.client.get("/metrics")).text
        assert 'assigner_desk_sessions_total{event="signed_out"} 1.0' in metrics


async def test_signing_in_again_or_everywhere_ends_the_sessions_it_should(svc: Booted) -> None:
    laptop = await sign_in(svc, "ob-ana")
    phone = await sign_in(svc, "ob-ana")
    colleague = await sign_in(svc, "ob-ben")
    # another sign-in in the laptop's browser (the lead borrows it) ends the laptop's session
    lead = await sign_in(svc, "ob-lead", cookie=laptop)
    assert not await still_signed_in(svc, laptop)
    assert await still_signed_in(svc, lead)
    # Ana signs out everywhere from a new sign-in: her phone too, nobody else's
    desk = await sign_in(svc, "ob-ana")
    page = await svc.client.get("/desk", headers={"Cookie": f"desk_session={desk}"})
    assert 'id="signout-everywhere"' in page.text
    out = await svc.client.post(
        "/desk/signout", data={"everywhere": "1"}, headers={"Cookie": f"desk_session={desk}"}
    )
    assert out.headers["location"] == "/desk?signed_out=everywhere"
    assert not await still_signed_in(svc, desk) and not await still_signed_in(svc, phone)
    assert await still_signed_in(svc, colleague) and await still_signed_in(svc, lead)
    said = await svc.client.get("/desk?signed_out=everywhere")
    assert "signed out, in this browser and in every other one" in said.text
    metrics = (await svc.client.get("/metrics")).text
    assert 'assigner_desk_sessions_total{event="signed_out_everywhere"} 2.0' in metrics
    assert 'assigner_desk_sessions_total{event="replaced"} 1.0' in metrics


async def test_a_session_ends_when_idle_or_too_old_and_is_then_pruned(fresh_db: str) -> None:
    clock = FakeClock()
    config = desk_config(desk={"sessions": {"idle_seconds": 60, "lifetime_seconds": 300}})
    async with booted(SPEC, fresh_db, clock=clock, config=config) as svc:
        secret = await sign_in(svc, "ob-ana")
        clock.advance(seconds=59)
        assert await still_signed_in(svc, secret)  # used: its idle time starts again
        clock.advance(seconds=59)
        assert await still_signed_in(svc, secret)
        clock.advance(seconds=61)
        assert not await still_signed_in(svc, secret)
        # used every 50 s, it still ends 300 s after signing in
        young = await sign_in(svc, "ob-ana")
        for _ in range(5):
            clock.advance(seconds=50)
            assert await still_signed_in(svc, young)
        clock.advance(seconds=50)
        assert not await still_signed_in(svc, young)
        metrics = (await svc.client.get("/metrics")).text
        assert 'assigner_desk_session_refusals_total{reason="expired"} 4.0' in metrics
        # the desk worker forgets ended sessions
        assert len(await sessions_table(svc)) == 2
        (worker,) = (w for w in svc.parts.workers if isinstance(w, DeskWorker))
        await worker.tick()
        assert await sessions_table(svc) == []


async def test_a_changed_token_or_a_removed_agent_ends_their_sessions(svc: Booted, fresh_db: str) -> None:
    secret = await sign_in(svc, "ob-ana")
    rotated = config_for_tests(env={"T_ANA": "tok-ana-2"})
    async with booted(SPEC, fresh_db, clock=svc.runtime.clock, config=rotated) as restarted:
        assert not await still_signed_in(restarted, secret)
        metrics = (await restarted.client.get("/metrics")).text
        assert 'assigner_desk_session_refusals_total{reason="token_changed"} 2.0' in metrics
    config = config_for_tests()
    gone = config.model_copy(update={"agents": [a for a in config.agents if a.id != "ob-ana"]})
    secret = await sign_in(svc, "ob-ana")
    async with booted(SPEC, fresh_db, clock=svc.runtime.clock, config=gone) as restarted:
        assert not await still_signed_in(restarted, secret)


async def test_the_bearer_token_works_as_before_and_wins_over_a_cookie(svc: Booted) -> None:
    ticket = await arrive(svc, "Lost my bag")
    secret = await sign_in(svc, "ob-lead")
    bearer = await svc.client.get("/v1/queue", headers=auth("ob-ana"))
    assert bearer.status_code == 200 and bearer.json()["agent_id"] == "ob-ana"
    both = await svc.client.get(
        "/desk/v1/queue", headers={**auth("ob-ana"), "Cookie": f"desk_session={secret}"}
    )
    assert both.json()["agent_id"] == "ob-ana"
    wrong = await svc.client.get(
        "/v1/queue", headers={"Authorization": "Bearer nope", "Cookie": f"desk_session={secret}"}
    )
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"] == "Bearer"
    assert "Authorization: Bearer <token>" in (await svc.client.get("/v1/queue")).json()["detail"]
    # a bearer change needs neither the page's header nor the same origin (no cookie rides on it)
    noted = await svc.client.post(
        f"/v1/tickets/{ticket.ticket_id}/notes",
        json={"text": "by script"},
        headers={**auth("ob-lead"), "Sec-Fetch-Site": "cross-site"},
    )
    assert noted.status_code == 201
    # the desk's own routes for the pages are not in the API's document
    assert "/desk/v1" not in (await svc.client.get("/openapi.json")).text


async def test_a_cookie_that_held_the_token_is_deleted_and_signs_nobody_in(svc: Booted) -> None:
    page = await svc.client.get("/desk/queue", headers={"Cookie": "desk_token=tok-lead"})
    assert page.status_code == 303 and page.headers["location"].startswith("/desk?next=")
    assert 'desk_token=""' in page.headers["set-cookie"]
    api = await svc.client.get("/desk/v1/queue", headers={"Cookie": "desk_token=tok-lead"})
    assert api.status_code == 401
