"""What counts as using a desk session, and what ends it (decision 0304 and its review), through
the assigner's real bootstrap on real PostgreSQL with a fake clock: signing out everywhere
from a session that already ended signs out nothing else and says so."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_assigner.presence import DeskWorker
from socialdesk_runtime.clock import FakeClock
from tests.integration.test_desk import arrive, desk_config
from tests.integration.test_desk_sign_in import (
    note,
    sessions_table,
    sign_in,
    still_signed_in,
    with_session,
)
from tests.support import Booted, booted

pytestmark = pytest.mark.integration

#: A minute idle, five at most: short enough for the fake clock.
SHORT = {"sessions": {"idle_seconds": 60, "lifetime_seconds": 300}}


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


def counted(svc: Booted, name: str, **labels: str) -> float:
    return svc.runtime.metrics.registry.get_sample_value(name, labels) or 0.0


async def test_signing_out_everywhere_from_an_ended_session_ends_nothing_else_and_says_so(
    fresh_db: str,
) -> None:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, config=desk_config(desk=SHORT)) as svc:
        laptop = await sign_in(svc, "ob-ana")
        clock.advance(seconds=30)
        phone = await sign_in(svc, "ob-ana")
        clock.advance(seconds=40)  # the laptop's session ended idle; the phone's did not
        out = await svc.client.post(
            "/desk/signout", data={"everywhere": "1"}, headers={"Cookie": f"desk_session={laptop}"}
        )
        # no claim that every browser is signed out: to sign in, saying why
        assert out.status_code == 303 and out.headers["location"] == "/desk?signed_out=ended"
        assert 'desk_session=""' in out.headers["set-cookie"]
        said = await svc.client.get(out.headers["location"])
        assert "had already ended" in said.text and "nothing was signed out" in said.text
        assert 'id="signin"' in said.text and "in every other one" not in said.text
        # nothing counted as signed out, nor as an expired use while signing out
        sessions = "assigner_desk_sessions_total"
        assert counted(svc, sessions, event="signed_out_everywhere") == 0
        assert counted(svc, sessions, event="signed_out") == 0
        assert counted(svc, "assigner_desk_session_refusals_total", reason="expired") == 0
        assert await still_signed_in(svc, phone)
        # from a valid session it ends them all, and says so
        out = await svc.client.post(
            "/desk/signout", data={"everywhere": "1"}, headers={"Cookie": f"desk_session={phone}"}
        )
        assert out.headers["location"] == "/desk?signed_out=everywhere"
        assert not await still_signed_in(svc, phone)
        assert counted(svc, sessions, event="signed_out_everywhere") == 1


async def last_seen(svc: Booted) -> list[datetime]:
    return [row["last_seen_at"] for row in await sessions_table(svc)]


async def test_the_pages_polling_alone_does_not_keep_a_session_from_ending_idle(fresh_db: str) -> None:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, config=desk_config(desk=SHORT)) as svc:
        ticket = await arrive(svc, "Is my bus on time?")
        secret = await sign_in(svc, "ob-ana")
        signed_in_at = clock.now()
        cookie = {"Cookie": f"desk_session={secret}", "X-Desk-Session-Agent": "ob-ana"}
        polls = ("/desk/queue?fragment=1", f"/desk/tickets/{ticket.ticket_id}/state", "/desk/v1/queue")
        # the queue refreshes itself and the ticket page asks, as a browser sends them (a
        # fetch says so) and as one that sends no fetch metadata (plain http to another host)
        for fetch in ({"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"}, {}, {}):
            clock.advance(seconds=19)
            for url in polls if fetch else polls[:2]:
                answer = await svc.client.get(url, headers={**cookie, **fetch})
                assert answer.status_code == 200, (url, answer.text)
        assert await last_seen(svc) == [signed_in_at]  # none of it was a use
        clock.advance(seconds=3)  # a minute since the sign-in, nothing used: ended
        for url in polls[:2]:
            assert (await svc.client.get(url, headers=cookie)).status_code == 401
        # an agent who opens pages or acts keeps it, as before
        secret = await sign_in(svc, "ob-ana")
        cookie = {"Cookie": f"desk_session={secret}"}
        clock.advance(seconds=50)
        assert (await svc.client.get("/desk/queue", headers=cookie)).status_code == 200
        clock.advance(seconds=50)
        noted = await note(svc, ticket.ticket_id, with_session(secret, "ob-ana"))
        assert noted.status_code == 201, noted.text
        clock.advance(seconds=50)
        assert await still_signed_in(svc, secret)


async def test_a_use_is_written_down_at_most_once_a_minute_and_never_for_another_agents_page(
    svc: Booted,
) -> None:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    ticket = await arrive(svc, "Lost my bag")
    secret = await sign_in(svc, "ob-ana")
    signed_in_at = clock.now()
    page = {"Cookie": f"desk_session={secret}"}
    clock.advance(seconds=30)
    assert (await svc.client.get("/desk/queue", headers=page)).status_code == 200
    assert await last_seen(svc) == [signed_in_at]  # within a minute: not written again
    # a page rendered for someone else (another tab signed in since) is refused, not a use
    clock.advance(seconds=31)
    other = await note(svc, ticket.ticket_id, with_session(secret, "ob-ben"))
    assert other.status_code == 409 and other.headers["x-desk-session"] == "other-agent"
    fragment = await svc.client.get(
        "/desk/queue?fragment=1", headers={**page, "X-Desk-Session-Agent": "ob-ben"}
    )
    assert fragment.status_code == 409
    assert await last_seen(svc) == [signed_in_at]
    # a minute later, a use is written; ten seconds after it, the next is not
    assert (await svc.client.get("/desk/queue", headers=page)).status_code == 200
    assert await last_seen(svc) == [signed_in_at + timedelta(seconds=61)]
    clock.advance(seconds=10)
    assert (await svc.client.get("/desk/queue", headers=page)).status_code == 200
    assert await last_seen(svc) == [signed_in_at + timedelta(seconds=61)]


async def test_a_refused_poll_never_clears_the_cookie_only_a_page_opened_does(svc: Booted) -> None:
    """A poll sent before another tab signed in may be answered after the new cookie is set:
    clearing the cookie in that answer would sign the new session out of the browser."""
    ticket = await arrive(svc, "Where is my refund?")
    ended = await sign_in(svc, "ob-ana")
    await svc.client.post("/desk/signout", headers={"Cookie": f"desk_session={ended}"})
    cookie = {"Cookie": f"desk_session={ended}", "X-Desk-Session-Agent": "ob-ana"}
    fetched = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin"}
    for url in ("/desk/queue?fragment=1", f"/desk/tickets/{ticket.ticket_id}/state"):
        for fetch in (fetched, {}):
            answer = await svc.client.get(url, headers={**cookie, **fetch})
            assert answer.status_code == 401 and "set-cookie" not in answer.headers, (url, fetch)
    # a page asked for by a script is no page opened either
    fetched_page = await svc.client.get("/desk/queue", headers={**cookie, **fetched})
    assert fetched_page.status_code == 303 and "set-cookie" not in fetched_page.headers
    # opened in the browser, a page clears the dead cookie
    opened = await svc.client.get(
        "/desk/queue", headers={"Cookie": f"desk_session={ended}", "Sec-Fetch-Mode": "navigate"}
    )
    assert opened.status_code == 303 and 'desk_session=""' in opened.headers["set-cookie"]


async def test_the_worker_forgets_a_session_once_ended_by_time_and_keeps_every_other(fresh_db: str) -> None:
    clock = FakeClock()
    async with booted(SPEC, fresh_db, clock=clock, config=desk_config(desk=SHORT)) as svc:
        (worker,) = (w for w in svc.parts.workers if isinstance(w, DeskWorker))
        start = clock.now()
        boundary = await sign_in(svc, "ob-ana")  # ends idle at start + 60 s
        clock.advance(seconds=30)
        live = await sign_in(svc, "ob-ben")
        revoked = await sign_in(svc, "ob-lead")
        await svc.client.post("/desk/signout", headers={"Cookie": f"desk_session={revoked}"})
        clock.advance(seconds=30)  # exactly the first one's end
        assert not await still_signed_in(svc, boundary)  # ended at that instant, not after it
        assert await still_signed_in(svc, live)  # used: now ends at start + 120 s
        await worker.tick()
        left = {row["agent_id"]: row for row in await sessions_table(svc)}
        # the one whose end is now is gone; the live one stays, and the signed-out one until
        # its own end (a replayed copy of its cookie is counted as signed out, not unknown)
        assert set(left) == {"ob-ben", "ob-lead"}
        assert left["ob-ben"]["expires_at"] == start + timedelta(seconds=120)
        assert left["ob-lead"]["expires_at"] == start + timedelta(seconds=90)
        assert await still_signed_in(svc, live)
        clock.advance(seconds=30)
        await worker.tick()
        assert [row["agent_id"] for row in await sessions_table(svc)] == ["ob-ben"]
        assert await still_signed_in(svc, live)
