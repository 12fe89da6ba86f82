"""The desk in a browser: the cockpit's held replies and hot topics, short ticket ids, the
history in words and the queue's customer and excerpt (the walk-through of session 18,
second list: items 3 to 6)."""

from __future__ import annotations

import uuid

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import TrendDetected
from tests.browser.desk_support import BROWSER, DESKTOP, TOKENS, chromium, owner_of, serving, shot, sign_in
from tests.browser.test_desk_live import both
from tests.integration.test_assigner import classified
from tests.integration.test_desk import arrive, auth, desk_config, ev, received
from tests.support import Booted, booted

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = BROWSER

LONG = (
    "The 7:15 from Port Authority to Albany never showed up and nobody at the counter knows "
    "anything, we have been waiting for over an hour"
)


async def test_the_cockpit_lists_held_replies_and_groups_worth_a_look(fresh_db: str) -> None:
    config = desk_config({"approvals": {"new_agents": ["ob-ana", "ob-ben", "ob-dee"]}})
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=config) as svc:
        clock = svc.runtime.clock
        assert isinstance(clock, FakeClock)
        first = await arrive(svc, "Port Authority bus left early", group_id="g-pa")
        owner = await owner_of(svc, first.ticket_id)
        clock.advance(seconds=60)
        second = await arrive(svc, "Left behind at Port Authority", group_id="g-pa")
        await arrive(svc, "Wifi is slow", group_id="g-solo")  # a group of one: no hot topic
        await svc.feed(
            TrendDetected(
                **ev(svc, first.ticket_id),
                brand="ourbus",
                group_id="g-pa",
                volume=7,
                window_seconds=900,
                sample_text="bus left early from Port Authority",
            )
        )
        held = await svc.client.post(
            f"/v1/tickets/{first.ticket_id}/reply", json={"text": "We are on it"}, headers=auth(owner)
        )
        assert held.json()["status"] == "pending_approval", held.text
        clock.advance(seconds=720)
        async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
            lead = await browser.new_page(viewport=DESKTOP)
            await sign_in(lead, base, TOKENS["ob-lead"])
            await lead.goto(f"{base}/desk/cockpit")
            # what waits for approval: which ticket, whose reply, why, for how long
            assert await lead.inner_text("#kpi-held") == "1"
            row = lead.locator("#held-list tbody tr, #held-list tr[data-reply]").last
            text = await row.inner_text()
            names = {"ob-ana": "Ana", "ob-ben": "Ben", "ob-dee": "Dee"}
            assert str(first.ticket_id)[:8] in text and names[owner] in text
            assert "is a new agent" in text and "12 min" in text
            # hot topics: only groups of two or more open tickets; nothing said when unknown
            groups = lead.locator("#hot-topics tr[data-group]")
            assert await groups.count() == 1
            assert await lead.get_attribute("#hot-topics tr[data-group]", "data-group") == "g-pa"
            said = await groups.first.inner_text()
            assert "7 posts in the trend" in said and "bus left early" in said
            assert "Volume" not in await lead.inner_text("#hot-topics")
            # the by-agent table names people
            by_agent = await lead.inner_text("#by-agent")
            assert names[owner] in by_agent and "ob-" not in by_agent
            await both(lead, "cockpit-held-and-hot-topics")
            # a group opens its queue, and its oldest ticket is one click away
            await lead.click("#hot-topics tr[data-group] td:nth-child(2) a")
            await lead.wait_for_selector("#group-filter")
            shown = {await r.get_attribute("data-ticket") for r in await lead.locator("#queue-body tr").all()}
            assert shown == {str(first.ticket_id), str(second.ticket_id)}
            await shot(lead, "queue-one-group-1280")
            await lead.go_back()
            await lead.click("#hot-topics tr[data-group] td:nth-child(4) a")
            await lead.wait_for_url(f"{base}/desk/tickets/{first.ticket_id}")
            # the held reply's link goes to its ticket
            await lead.goto(f"{base}/desk/cockpit")
            await lead.click("#held-list tr[data-reply] a")
            await lead.wait_for_url(f"{base}/desk/tickets/{first.ticket_id}")


async def test_a_short_id_opens_its_ticket(svc: Booted) -> None:
    one = await arrive(svc, "First of two", ticket_id=uuid.UUID("abcdef01-1111-4111-8111-111111111111"))
    await arrive(svc, "Second of two", ticket_id=uuid.UUID("abcdef01-2222-4222-8222-222222222222"))
    third = await arrive(svc, "Only one starts like this")
    owner = await owner_of(svc, third.ticket_id)
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, TOKENS[owner])
        short = str(third.ticket_id)[:8]
        response = await page.goto(f"{base}/desk/tickets/{short}")
        assert response is not None and response.status == 200
        assert page.url == f"{base}/desk/tickets/{third.ticket_id}"
        # more digits tell two apart; too few, or none that match, is the 404 page
        await page.goto(f"{base}/desk/tickets/abcdef0111")
        assert page.url == f"{base}/desk/tickets/{one.ticket_id}"
        for given, words in [("abcdef01", "More than one ticket"), ("0000dead", "No ticket starts with")]:
            response = await page.goto(f"{base}/desk/tickets/{given}")
            assert response is not None and response.status == 404
            assert words in await page.inner_text("main")
            await shot(page, f"short-id-404-{given}-1280")
        # the header's box takes a short id, with or without '#'
        await page.fill("#go-ticket", f"#{short}")
        await page.press("#go-ticket", "Enter")
        await page.wait_for_url(f"{base}/desk/tickets/{third.ticket_id}")
        await both(page, "go-to-ticket")


async def test_history_and_notes_say_who_did_what_by_name(svc: Booted) -> None:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    first = await arrive(svc, "Driver was rude")
    tid = first.ticket_id
    owner = await owner_of(svc, tid)
    names = {"ob-ana": "Ana", "ob-ben": "Ben", "ob-dee": "Dee"}
    to = "ob-dee" if owner != "ob-dee" else "ob-ben"
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, TOKENS[owner])
        await page.goto(f"{base}/desk/tickets/{tid}")
        clock.advance(seconds=20)
        await page.fill("textarea[aria-label='internal note']", "Asked the depot for the driver's name")
        await page.click("text=Add note")
        await page.wait_for_selector(".note")
        clock.advance(seconds=20)
        await page.fill("#reply-form textarea[name=text]", "We are sorry; we are looking into it.")
        await page.click("#reply-form button[type=submit]")
        await page.wait_for_selector(".msg.reply")
        clock.advance(seconds=20)
        # a hand-off asks for its note (it says who handed off)
        await page.select_option("select[name=agent_id]", to)
        await page.click("form[data-url$='/assign'] button")
        assert await page.locator("form[data-url$='/assign'] input[name=note]:invalid").count() == 1
        assert await page.locator("#may-not-act").count() == 0  # not handed off
        await page.fill("input[name=note]", "Dee handles driver complaints")
        await page.click("form[data-url$='/assign'] button")
        await page.wait_for_selector("#may-not-act")
        rows = [
            [await c.inner_text() for c in await r.locator("td").all()]
            for r in await page.locator("#history tr:has(td)").all()
        ]
        said = {r[1]: r for r in rows}
        assert said[f"Assigned to {names[owner]} (round robin)"][2] == "automatic"
        assert said["Note added"][2] == names[owner]
        assert said["Reply requested"][2] == names[owner]
        assert said["Handed off"][2] == names[owner]
        assert said["Handed off"][3].startswith(f"to {names[to]}")
        history = await page.inner_text("#history")
        assert "TicketAssigned" not in history and "ob-" not in history
        notes = await page.locator(".note").all_inner_texts()
        assert all("ob-" not in n for n in notes) and any(names[owner] in n for n in notes)
        await both(page, "history-in-words")


async def test_the_queue_shows_the_customer_and_their_latest_words(svc: Booted) -> None:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    first = await arrive(svc, LONG)
    owner = await owner_of(svc, first.ticket_id)
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, TOKENS[owner])
        row = page.locator(f'tr[data-ticket="{first.ticket_id}"] td.customer')
        assert "Maria Lopez" in await row.inner_text()
        excerpt = await row.locator(".excerpt").inner_text()
        assert excerpt.startswith(LONG[:60]) and excerpt.endswith("…") and len(excerpt) <= 80
        await both(page, "queue-customer-excerpt-long")
        # the customer writes again: the live queue shows their newest words
        clock.advance(seconds=30)
        more = classified(
            svc,
            ticket_id=first.ticket_id,
            opens_ticket=False,
            platform_message_id="m-q2",
            customer_id=first.customer_id,
        )
        await svc.feed(received(svc, more, "Now it is two hours."), more)
        await page.wait_for_selector(
            f'tr[data-ticket="{first.ticket_id}"] .excerpt >> text=Now it is two hours.', timeout=15000
        )
        await both(page, "queue-customer-excerpt")
