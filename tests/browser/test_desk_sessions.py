"""The desk in a browser: one send per submission, who is signed in, signing out, and the
actions a page offers (the walk-through of session 18, defects 1, 2, 3 and 10); a desk link
followed from another site (a Slack alert) signs in first, then opens its page."""

from __future__ import annotations

import re
import uuid
from typing import Any
from urllib.parse import quote

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from socialdesk_schemas import Attachment, NotificationDelivered, ReplyRequested
from tests.browser.desk_support import (
    BROWSER,
    DESKTOP,
    TOKENS,
    chromium,
    owner_of,
    serving,
    shot,
    sign_in,
    signed_in_to,
)
from tests.integration.test_assigner import classified
from tests.integration.test_desk import arrive, emitted, ev, received
from tests.support import Booted, served_app

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = BROWSER


async def test_a_double_click_or_a_retry_sends_once(svc: Booted) -> None:
    first = await arrive(svc, "Where is my bus?", group_id="g-late")
    owner = await owner_of(svc, first.ticket_id)
    await arrive(svc, "Bus still not here", group_id="g-late")
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        posts: list[str] = []
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" and "/v1/" in r.url else None)
        await sign_in(page, base, TOKENS[owner])
        await page.goto(f"{base}/desk/tickets/{first.ticket_id}")
        # a double click: the button is disabled while its request runs; one request, one reply
        await page.fill("#reply-form textarea[name=text]", "First answer")
        await page.dblclick("#reply-form button[type=submit]")
        await page.wait_for_selector(".msg.reply >> text=First answer")
        assert [u for u in posts if u.endswith("/reply")] == [
            f"{base}/desk/v1/tickets/{first.ticket_id}/reply"
        ]
        assert await page.locator(".msg.reply", has_text="First answer").count() == 1
        # the desk did it but its answer was lost: the retry of the same content carries the
        # same Idempotency-Key, so the desk answers what it did instead of sending again
        keys: list[str] = []

        async def lose_first_answer(route: Any) -> None:
            keys.append(route.request.headers["idempotency-key"])
            if len(keys) == 1:
                await route.fetch()
                await route.abort("connectionreset")
            else:
                await route.continue_()

        await page.route("**/v1/tickets/*/reply", lose_first_answer)
        await page.fill("#reply-form textarea[name=text]", "Second answer")
        await page.click("#reply-form button[type=submit]")
        await page.wait_for_selector("#reply-form .form-error")
        assert "did not answer" in await page.inner_text("#reply-form .form-error")
        await page.click("#reply-form button[type=submit]")
        await page.wait_for_selector(".msg.reply >> text=Second answer")
        assert len(keys) == 2 and keys[0] == keys[1]
        assert await page.locator(".msg.reply", has_text="Second answer").count() == 1
        # new content is a new request: a new key
        await page.fill("#reply-form textarea[name=text]", "Third answer")
        await page.click("#reply-form button[type=submit]")
        await page.wait_for_selector(".msg.reply >> text=Third answer")
        assert len(keys) == 3 and keys[2] != keys[1]
        # the group answer too: one request for a double click
        posts.clear()
        await page.select_option("select[aria-label='group saved reply']", "luggage_policy")
        await page.dblclick("text=Answer the whole group")
        await page.wait_for_selector("#flash.flash-ok >> text=Answered the group")
        assert len([u for u in posts if "/v1/groups/" in u]) == 1


async def test_the_agent_shown_is_the_agent_who_acts_and_signs_out(svc: Booted) -> None:
    first = await arrive(svc, "Driver skipped my stop")
    owner = await owner_of(svc, first.ticket_id)
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        context = await browser.new_context(viewport=DESKTOP)
        a = await context.new_page()
        await sign_in(a, base, TOKENS[owner])
        await a.goto(f"{base}/desk/tickets/{first.ticket_id}")
        assert await a.get_attribute("#whoami", "data-agent") == owner
        # tab B signs in as the lead: tab A, not reloaded, must not act as anyone unseen
        b = await context.new_page()
        await sign_in(b, base, TOKENS["ob-lead"])
        await a.fill("textarea[aria-label='internal note']", "typed in tab A")
        await a.click("text=Add note")
        await a.locator("#reload-kept").wait_for()
        assert "someone else signed in" in (await a.inner_text("#flash")).lower()
        assert "kept on this page" in await a.inner_text("#flash")
        assert await a.input_value("textarea[aria-label='internal note']") == "typed in tab A"
        assert await a.get_attribute("#whoami", "data-agent") == owner
        assert await a.locator(".note").count() == 0
        # opened again, the page shows who is signed in now (without tab A's text), who acts
        await a.goto(f"{base}/desk/tickets/{first.ticket_id}")
        assert await a.get_attribute("#whoami", "data-agent") == "ob-lead"
        assert await a.input_value("textarea[aria-label='internal note']") == ""
        await a.fill("textarea[aria-label='internal note']", "written as the lead")
        await a.click("text=Add note")
        await a.wait_for_selector(".note >> text=written as the lead")
        assert "Farah" in await a.inner_text(".note")
        await shot(a, "two-tabs-one-identity")
        # tab A has text typed (so it does not leave by itself); a queue is open in a third
        # tab; tab B signs out (a POST that clears the cookie)
        await a.fill("textarea[aria-label='internal note']", "after sign out")
        q = await context.new_page()
        await q.goto(f"{base}/desk/queue")
        await q.wait_for_selector("#queue")
        await b.click("#signout")
        await b.wait_for_url(f"{base}/desk?signed_out=1")
        assert "You are signed out" in await b.inner_text("main")
        assert await b.locator("#signout").count() == 0
        # the queue's refresh notices and goes to sign in, never a sign-in page in the table
        await q.wait_for_url(re.compile(r".*/desk\?lost=1.*"), timeout=15000)
        assert "no longer signed in" in await q.inner_text("main")
        assert await q.evaluate("fetch('/desk/queue?fragment=1').then(r => r.status)") == 401
        await shot(q, "queue-after-sign-out")
        # and tab A's next action goes to sign in instead of acting
        await a.click("text=Add note")
        await a.wait_for_url(re.compile(r".*/desk\?lost=1.*"))
        # a wrong token says so on the sign-in page
        await q.fill("input[name=token]", "not-a-token")
        await q.click("#signin button[type=submit]")
        await q.wait_for_selector("#signin-error")
        assert "not a desk agent's token" in await q.inner_text("#signin-error")
        await shot(q, "signin-wrong-token")
        # the right one goes back where the session was lost
        await signed_in_to(q, TOKENS[owner], f"{base}/desk/queue")
        assert await q.get_attribute("#whoami", "data-agent") == owner


async def test_a_page_offers_what_works_and_says_what_happened(svc: Booted) -> None:
    first = classified(svc)
    sent = [
        Attachment(type="image", url="https://scontent.xx.fbcdn.net/seat.jpg"),
        Attachment(type="file", url="javascript:alert(1)"),
        Attachment(type="audio", id="wamid-77"),
    ]
    await svc.feed(received(svc, first, "Refund please").model_copy(update={"attachments": sent}), first)
    owner = await owner_of(svc, first.ticket_id)
    other = None
    for _ in range(4):  # round robin: soon a colleague's ticket
        fresh = await arrive(svc, "Lost my bag")
        if await owner_of(svc, fresh.ticket_id) != owner:
            other = fresh
            break
    assert other is not None
    rally = await arrive(svc, "Rally bus to the festival?", brand="rally")
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        failures: list[str] = []
        page.on("response", lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None)
        await sign_in(page, base, TOKENS[owner])
        # an icon the browser needs not ask for (no /favicon.ico 404)
        assert (await page.get_attribute("link[rel=icon]", "href") or "").startswith("data:image/svg+xml")
        await page.goto(f"{base}/desk/tickets/{first.ticket_id}")
        assert failures == []
        # what the customer sent besides words: a link where it is served, never a script link
        attachments = page.locator(".msg.customer .attachments")
        assert await attachments.locator("a").count() == 1
        assert (
            await attachments.locator("a").get_attribute("href") == "https://scontent.xx.fbcdn.net/seat.jpg"
        )
        assert "audio (media id wamid-77)" in await attachments.inner_text()
        # nobody hands a ticket to someone offline: Cid is, and says so
        cid = page.locator("select[name=agent_id] option[value='ob-cid']")
        assert await cid.is_disabled() and "offline" in await cid.inner_text()
        # her own assigned ticket: no Claim, no Reopen; Resolve and Pending are there
        assert await page.locator("form[data-url$='/claim']").count() == 0
        assert await page.locator("form[data-url$='/reopen']").count() == 0
        assert await page.locator("form[data-url$='/resolve']").count() == 1
        await page.fill("#reply-form textarea[name=text]", "We are on it")
        await page.click("#reply-form button[type=submit]")
        await page.wait_for_selector(".msg.reply >> text=We are on it")
        assert await page.inner_text("#flash") == "Reply sent."
        # written to the local sink (no platform credentials): said, but not as an error
        (request,) = [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
        await svc.feed(
            NotificationDelivered(
                **ev(svc, first.ticket_id),
                source_event_id=request.event_id,
                source_event_type="ReplyRequested",
                channel="local",
                destination="sink-7",
                attempts=1,
                delivered_at=svc.runtime.clock.now(),
            )
        )
        await page.reload()
        meta = page.locator(".msg.reply .meta")
        assert "local sink only" in await meta.inner_text()
        assert "local: sink-7" in await meta.inner_text()
        assert await meta.locator(".flash-bad").count() == 0
        await shot(page, "ticket-local-delivery")
        # a colleague's ticket: seen, and why it cannot be worked, instead of buttons that fail
        await page.goto(f"{base}/desk/tickets/{other.ticket_id}")
        assert "owned by another agent" in await page.inner_text("#may-not-act")
        assert await page.locator("#work button").count() == 0
        assert await page.locator("#reply-form").count() == 0
        # error pages keep the header and give a way back
        for path, status, words in [
            (f"/desk/tickets/{uuid.uuid4()}", 404, "No such ticket"),
            ("/desk/tickets/not-a-ticket", 404, "No such ticket"),
            (f"/desk/tickets/{rally.ticket_id}", 403, "brand you do not work for"),
            ("/desk/nowhere", 404, "no page /desk/nowhere"),
        ]:
            response = await page.goto(f"{base}{path}")
            assert response is not None and response.status == status, path
            assert words in await page.inner_text("main")
            assert await page.locator("header #signout").count() == 1
        await shot(page, "error-page")
        await page.click("#back")
        await page.wait_for_url(f"{base}/desk/queue")


async def test_a_desk_link_followed_from_another_site_opens_the_ticket_signed_in(svc: Booted) -> None:
    """A Slack alert links to ``/desk/tickets/{id}``: the cookie is ``SameSite=Lax``, so a link
    followed from another site's page opens the ticket for the signed-in agent at once; a
    browser that is not signed in goes through sign-in and on to the ticket (``?next=``)."""
    first = await arrive(svc, "Bus left 40 minutes late")
    owner = await owner_of(svc, first.ticket_id)
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        link = f"{base}/desk/tickets/{first.ticket_id}"

        async def alert(_: Any) -> HTMLResponse:
            return HTMLResponse(
                f'<!doctype html><p>SLA warning <a id="open" href="{link}">open in the desk</a></p>'
            )

        # a real page of another site (localhost is not 127.0.0.1), as Slack's would be
        async with served_app(Starlette(routes=[Route("/alert", alert)]), access_log=False) as slack:
            elsewhere = slack.replace("127.0.0.1", "localhost") + "/alert"
            page = await browser.new_page(viewport=DESKTOP)
            await sign_in(page, base, TOKENS[owner])
            await page.goto(elsewhere)
            await page.click("#open")
            await page.wait_for_url(link)
            assert await page.get_attribute("#whoami", "data-agent") == owner
            await shot(page, "ticket-from-a-link-elsewhere")
            # not signed in (a fresh browser context): sign-in first, then the ticket
            fresh = await (await browser.new_context(viewport=DESKTOP)).new_page()
            await fresh.goto(elsewhere)
            await fresh.click("#open")
            await fresh.wait_for_selector("#signin")
        assert fresh.url == f"{base}/desk?next={quote(f'/desk/tickets/{first.ticket_id}', safe='')}"
        await signed_in_to(fresh, TOKENS[owner], link)
        assert await fresh.get_attribute("#whoami", "data-agent") == owner
