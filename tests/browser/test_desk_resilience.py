"""The desk in a browser when things go wrong (the security review of session 18, items 5 to
8 and the minor ones): typed text survives being signed out, a retry after a lost answer is
the same request after a reload too, the ticket page's questions never pile up and say when
they stop being answered, a hidden queue asks nothing, a drop-down choice is unsent input,
the banner is not rebuilt while it says the same, short ids stay inside the agent's brands
and the cockpit says when its approval list is cut."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_assigner.web import tickets as ticket_routes
from socialdesk_assigner.web.cockpit import cockpit_html
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import ReplyRequested
from tests.browser.desk_support import (
    BROWSER,
    DESKTOP,
    TOKENS,
    chromium,
    owned_ticket,
    owner_of,
    serving,
    shot,
    sign_in,
)
from tests.integration.test_assigner import classified
from tests.integration.test_desk import arrive, emitted, received
from tests.integration.test_desk_sign_in import sign_in as signed_in
from tests.support import Booted, booted, config_for_tests

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = BROWSER

#: ``document.hidden`` as the test says (headless pages are never hidden by themselves).
_HIDDEN = """Object.defineProperty(document, 'hidden', { configurable: true, get: () => window.__hidden === true });"""
_SHOW = "() => { window.__hidden = false; document.dispatchEvent(new Event('visibilitychange')); }"


@pytest.fixture
async def svc(fresh_db: str, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Booted]:
    monkeypatch.setattr(ticket_routes, "POLL_SECONDS", 1)  # the ticket page asks every second
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


async def test_typed_text_survives_being_signed_out(svc: Booted) -> None:
    tid, owner = await owned_ticket(svc, "Where is my refund?")
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        context = await browser.new_context(viewport=DESKTOP)
        page = await context.new_page()
        await sign_in(page, base, TOKENS[owner])
        await page.goto(f"{base}/desk/tickets/{tid}")
        area = "#reply-form textarea[name=text]"
        await page.fill(area, "Your refund left today")
        # signed out in another tab: a banner, and signing in again brings the text back
        other = await context.new_page()
        await other.goto(f"{base}/desk/queue")
        await other.click("#signout")
        await page.locator("#reload-kept").wait_for(timeout=5000)
        assert await page.inner_text("#reload-kept") == "Sign in again (keeps your text)"
        await shot(page, "signed-out-banner")
        await page.click("#reload-kept")
        await page.wait_for_selector("#signin")
        assert "unsent text is kept" in await page.inner_text("#flash")  # and the sign-in page kept it
        await page.fill("input[name=token]", TOKENS[owner])
        await page.click("#signin button[type=submit]")
        await page.wait_for_url(f"{base}/desk/tickets/{tid}")
        assert await page.input_value(area) == "Your refund left today"
        # the token is refused while she sends: to sign in, the text kept again
        await page.route(
            "**/v1/tickets/*/reply", lambda r: r.fulfill(status=401, json={"detail": "signed out"})
        )
        await page.click("#reply-form button[type=submit]")
        await page.wait_for_url(lambda url: "lost=1" in url)
        await page.unroute("**/v1/tickets/*/reply")
        await page.fill("input[name=token]", TOKENS[owner])
        await page.click("#signin button[type=submit]")
        await page.wait_for_url(f"{base}/desk/tickets/{tid}")
        assert await page.input_value(area) == "Your refund left today"
        # the state the page asks for says 401 with text typed: a banner, no page lost
        await page.route("**/state", lambda r: r.fulfill(status=401, json={"detail": "signed out"}))
        await page.locator("#reload-kept").wait_for(timeout=5000)
        assert "you are signed out" in await page.inner_text("#changed")
        assert await page.input_value(area) == "Your refund left today"


async def test_a_retry_after_a_reload_is_the_same_request(svc: Booted) -> None:
    tid, owner = await owned_ticket(svc, "Bus to Boston cancelled?")
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, TOKENS[owner])
        await page.goto(f"{base}/desk/tickets/{tid}")
        keys: list[str] = []

        async def lose_first_answer(route: Any) -> None:
            keys.append(route.request.headers["idempotency-key"])
            if len(keys) == 1:
                await route.fetch()  # the desk sends it; its answer never arrives
                await route.abort("connectionreset")
            else:
                await route.continue_()

        await page.route("**/v1/tickets/*/reply", lose_first_answer)
        await page.fill("#reply-form textarea[name=text]", "A new bus leaves at 6")
        await page.click("#reply-form button[type=submit]")
        await page.wait_for_selector("#reply-form .form-error")
        # the reply changed the ticket: the banner; a reload keeps the text and its key
        await page.locator("#reload-kept").wait_for(timeout=5000)
        await page.click("#reload-kept")
        await page.wait_for_selector(".msg.reply >> text=A new bus leaves at 6")
        assert await page.input_value("#reply-form textarea[name=text]") == "A new bus leaves at 6"
        await page.click("#reply-form button[type=submit]")
        await page.wait_for_selector("#flash.flash-ok")
        assert len(keys) == 2 and keys[0] == keys[1]
        sent = [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
        assert [e.text for e in sent] == ["A new bus leaves at 6"]
        assert await page.locator(".msg.reply", has_text="A new bus leaves at 6").count() == 1


async def test_a_choice_is_unsent_input_and_the_banner_stays_put(svc: Booted) -> None:
    first = await arrive(svc, "My bag is lost")
    tid, owner = first.ticket_id, await owner_of(svc, first.ticket_id)
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, TOKENS[owner])
        await page.goto(f"{base}/desk/tickets/{tid}")
        causes = page.locator("select[aria-label='root cause'] option")
        chosen = await causes.nth(1).get_attribute("value")
        await page.select_option("select[aria-label='root cause']", chosen)
        more = classified(
            svc, ticket_id=tid, opens_ticket=False, platform_message_id="m-bag", customer_id=first.customer_id
        )
        await svc.feed(received(svc, more, "Hello?"), more)
        # only a choice made: still a banner, not a reload under it
        await page.locator("#reload-kept").wait_for(timeout=5000)
        await page.evaluate("() => { document.getElementById('reload-kept').dataset.mark = 'same'; }")
        await page.wait_for_timeout(3500)  # three more questions, the same answer
        assert await page.get_attribute("#reload-kept", "data-mark") == "same"
        await page.click("#reload-kept")
        await page.wait_for_selector(".msg.customer >> text=Hello?")
        assert await page.input_value("select[aria-label='root cause']") == chosen


async def test_the_pages_ask_one_question_at_a_time_and_say_when_unanswered(svc: Booted) -> None:
    tid, owner = await owned_ticket(svc, "Seat broken")
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        context = await browser.new_context(viewport=DESKTOP)
        await context.add_init_script(_HIDDEN)
        page = await context.new_page()
        await sign_in(page, base, TOKENS[owner])
        running, most, asked = 0, 0, 0

        async def slow(route: Any) -> None:
            nonlocal running, most, asked
            running, asked = running + 1, asked + 1
            most = max(most, running)
            await asyncio.sleep(4)  # longer than the queue's 3 s
            running -= 1
            with contextlib.suppress(playwright_api.Error):  # the page may have gone meanwhile
                await route.continue_()

        # the queue: one refresh at a time, none while hidden, at once when shown
        await page.route("**/desk/queue?*fragment=1*", slow)
        await page.wait_for_timeout(9000)
        assert most == 1 and asked >= 1
        await page.evaluate("() => { window.__hidden = true; }")
        await page.wait_for_timeout(4500)  # any refresh under way ends
        before = asked
        await page.wait_for_timeout(7000)
        assert asked == before
        await page.evaluate(_SHOW)
        await page.wait_for_timeout(500)
        assert asked == before + 1
        await page.unroute("**/desk/queue?*fragment=1*")
        while running:
            await asyncio.sleep(0.1)
        # the ticket page: the desk stops answering; after three failures the page says so
        failing = True

        async def down(route: Any) -> None:
            with contextlib.suppress(playwright_api.Error):
                await (route.abort("connectionrefused") if failing else route.continue_())

        await page.route("**/state", down)
        await page.goto(f"{base}/desk/tickets/{tid}")
        note = page.locator("#live-paused")
        await note.wait_for(timeout=10000)
        assert "Live updates paused" in await note.inner_text()
        await shot(page, "live-paused")
        failing = False
        await note.wait_for(state="detached", timeout=10000)


async def test_short_ids_stay_inside_the_agents_brands(svc: Booted) -> None:
    ours, theirs = (
        uuid.UUID("abcdef01-1111-4111-8111-111111111111"),
        uuid.UUID("abcdef01-2222-4222-8222-222222222222"),
    )
    await arrive(svc, "Our bus", ticket_id=ours)
    await arrive(svc, "Their bus", brand="rally", ticket_id=theirs)

    sessions = {agent: await signed_in(svc, agent) for agent in ("ob-lead", "ra-lead")}

    async def go(agent: str, short: str) -> tuple[int, str]:
        r = await svc.client.get(
            f"/desk/tickets/{short}", headers={"Cookie": f"desk_session={sessions[agent]}"}
        )
        return r.status_code, r.headers.get("location") or r.text

    # each brand's lead reaches their own ticket: the other brand's makes nothing ambiguous
    assert await go("ob-lead", "abcdef01") == (303, f"/desk/tickets/{ours}")
    assert await go("ra-lead", "abcdef01") == (303, f"/desk/tickets/{theirs}")
    # another brand's ticket is not found, rather than a page that says it exists
    status, said = await go("ob-lead", "abcdef012222")
    assert status == 404 and "No ticket starts with" in said


def test_the_cockpit_says_when_its_approval_list_is_cut() -> None:
    config = config_for_tests()
    lead = next(a for a in config.agents if a.id == "ob-lead")
    now = datetime(2025, 1, 1, tzinfo=UTC)
    held = [
        {
            "reply_id": uuid.uuid4(),
            "ticket_id": uuid.uuid4(),
            "agent_id": "ob-ana",
            "brand": "ourbus",
            "text": "refund",
            "created_at": now - timedelta(minutes=5),
            "reason": "refund",
        }
    ] * 2
    data = {"sla": {"compliance": None, "breached": 0}, "by_brand": {}, "by_platform": {}, "by_agent": {}}
    cut = cockpit_html(lead, data, [], held=held, held_total=150, groups=[], names={}, now=now)
    assert 'id="kpi-held">150<' in cut and "The oldest 2 of 150 replies" in cut
    whole = cockpit_html(lead, data, [], held=held, held_total=2, groups=[], names={}, now=now)
    assert 'id="kpi-held">2<' in whole and "held-more" not in whole
