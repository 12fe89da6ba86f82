"""The desk's session in a browser (decision 0304): the page's script can read neither the
session nor the agent's token; signing out in one tab ends the session for every tab (an
action in another goes to sign in, keeping the text); a sign-in as someone else in another
tab makes the desk refuse what the first tab sends, saying so, with nothing done."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from socialdesk_assigner.web import tickets as ticket_routes
from socialdesk_schemas import ReplyRequested
from socialdesk_schemas.desk import InternalNoteAdded
from tests.browser.desk_support import (
    BROWSER,
    DESKTOP,
    TOKENS,
    chromium,
    owned_ticket,
    serving,
    shot,
    sign_in,
    signed_in_to,
)
from tests.integration.test_desk import emitted
from tests.integration.test_desk_sign_in import notes_of
from tests.support import Booted

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = BROWSER

#: Where a reviewer looks at the pages after this change (besides the artifacts folder).
SHOTS = Path("/tmp/desk-shots2")

#: What the page's script can reach of who is signed in.
_READABLE = """() => ({
  cookie: document.cookie,
  stored: JSON.stringify(Object.assign({}, sessionStorage)) + JSON.stringify(Object.assign({}, localStorage)),
  html: document.documentElement.outerHTML,
})"""


async def both_shots(page: Any, name: str) -> None:
    await shot(page, name)
    await page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def name_of(svc: Booted, agent_id: str) -> str:
    return next(a.name for a in svc.runtime.config.agents if a.id == agent_id)


def api_answers(page: Any) -> list[tuple[str, int]]:
    """Every answer of the desk's API to this page, as (method and path, status)."""
    seen: list[tuple[str, int]] = []
    page.on(
        "response",
        lambda r: (
            seen.append((f"{r.request.method} {r.url.split('/desk/v1', 1)[1]}", r.status))
            if "/desk/v1/" in r.url
            else None
        ),
    )
    return seen


async def test_the_page_reads_no_secret_and_a_sign_out_elsewhere_ends_every_tab(
    svc: Booted, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ticket_routes, "POLL_SECONDS", 600)  # the action notices, not the watch
    tid, owner = await owned_ticket(svc, "My bus left without me")
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        context = await browser.new_context(viewport=DESKTOP)
        a = await context.new_page()
        await a.goto(f"{base}/desk")
        await both_shots(a, "signin-page")
        await sign_in(a, base, TOKENS[owner])
        await a.goto(f"{base}/desk")
        assert await a.locator("#signout-everywhere button").is_visible()
        await both_shots(a, "signin-page-signed-in")
        await a.goto(f"{base}/desk/tickets/{tid}")
        await both_shots(a, "ticket-page")
        # the browser holds a secret no script reads; the token is nowhere on the page
        (cookie,) = await context.cookies(f"{base}/desk/queue")
        assert cookie["name"] == "desk_session" and cookie["httpOnly"] and cookie["sameSite"] == "Lax"
        assert cookie["path"] == "/desk" and cookie["value"] != TOKENS[owner]
        readable = await a.evaluate(_READABLE)
        assert readable["cookie"] == ""
        for where in (readable["stored"], readable["html"]):
            assert cookie["value"] not in where and TOKENS[owner] not in where
        # tab B signs out; tab A, not reloaded, adds a note: the desk refuses (401), the page
        # goes to sign in with the text kept, nothing is written
        answers = api_answers(a)
        b = await context.new_page()
        await b.goto(f"{base}/desk/queue")
        await b.click("#signout")
        await b.wait_for_url(f"{base}/desk?signed_out=1")
        await a.fill("textarea[aria-label='internal note']", "Called the depot")
        await a.click("text=Add note")
        await a.wait_for_url(re.compile(r".*/desk\?lost=1.*"))
        assert answers == [(f"POST /tickets/{tid}/notes", 401)]
        assert "no longer signed in" in await a.inner_text("main")
        assert "unsent text is kept" in await a.inner_text("#flash")
        assert await notes_of(svc, tid) == []
        # a copy of the old cookie signs nobody in, in a browser either
        thief = await browser.new_context(viewport=DESKTOP)
        await thief.add_cookies([cookie])
        stolen = await thief.new_page()
        await stolen.goto(f"{base}/desk/tickets/{tid}")
        assert stolen.url.startswith(f"{base}/desk?next=") and await stolen.locator("#signin").count() == 1
        await thief.close()
        # signing in again brings the page back with the text, and the note goes
        await signed_in_to(a, TOKENS[owner], f"{base}/desk/tickets/{tid}")
        assert await a.input_value("textarea[aria-label='internal note']") == "Called the depot"
        await a.click("text=Add note")
        await a.wait_for_selector(".note >> text=Called the depot")
        assert await notes_of(svc, tid) == ["Called the depot"]


async def test_a_sign_in_as_someone_else_in_another_tab_is_refused_with_nothing_sent(
    svc: Booted, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ticket_routes, "POLL_SECONDS", 600)  # the action notices, not the watch
    tid, owner = await owned_ticket(svc, "Refund for the cancelled trip")
    await emitted(svc)
    area = "#reply-form textarea[name=text]"
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        context = await browser.new_context(viewport=DESKTOP)
        a = await context.new_page()
        await sign_in(a, base, TOKENS[owner])
        await a.goto(f"{base}/desk/tickets/{tid}")
        answers = api_answers(a)
        b = await context.new_page()
        await sign_in(b, base, TOKENS["ob-lead"])
        # tab A still shows its agent and sends a reply: the desk refuses it; the page keeps
        # the text, says so and why, and what it would send is off until A signs in again
        await a.fill(area, "Your refund is on its way")
        await a.click("#reply-form button[type=submit]")
        await a.locator("#reload-kept").wait_for()
        assert answers == [(f"POST /tickets/{tid}/reply", 409)]
        said = await a.inner_text("#reply-form .form-error")
        assert "Someone else signed in on this browser (another tab)" in said and "nothing was done" in said
        assert "Your unsent text is kept on this page" in said
        assert await a.get_attribute("#whoami", "data-agent") == owner
        assert await a.input_value(area) == "Your refund is on its way"
        assert "not signed in as you any more" in await a.inner_text("#no-longer-yours")
        assert await a.locator("#reply-form button[type=submit]").is_disabled()
        assert await a.inner_text("#reload-kept") == "Sign in as yourself again (keeps your text)"
        assert not [e for e in await emitted(svc) if isinstance(e, ReplyRequested | InternalNoteAdded)]
        await both_shots(a, "refused-another-tab-text-kept")
        # signing in again as herself, in that tab, brings the page back with the text
        await a.click("#reload-kept")
        await a.wait_for_selector("#signin")
        assert f"once you sign in again as {name_of(svc, owner)}" in await a.inner_text("#flash")
        await both_shots(a, "refused-another-tab-sign-in-again")
        await signed_in_to(a, TOKENS[owner], f"{base}/desk/tickets/{tid}")
        assert await a.input_value(area) == "Your refund is on its way"
        await a.click("#reply-form button[type=submit]")
        await a.wait_for_selector("#flash.flash-ok")
        assert [e.text for e in await emitted(svc) if isinstance(e, ReplyRequested)] == [
            "Your refund is on its way"
        ]
        # with nothing typed, a refused action shows who is signed in now, saying so
        await sign_in(b, base, TOKENS["ob-lead"])
        await a.select_option("#presence", "away")
        await a.wait_for_selector("#whoami[data-agent='ob-lead']")
        assert answers[-1] == ("PUT /agents/me/status", 409)
        flash = await a.inner_text("#flash")
        assert "nothing was done" in flash and "now shows who is signed in" in flash
        # the presence selector is an action too: as the lead now, it works
        await a.select_option("#presence", "away")
        await a.wait_for_selector("#flash.flash-ok >> text=You are away")
        assert answers[-1] == ("PUT /agents/me/status", 200)


async def test_text_kept_at_sign_out_comes_back_for_its_agent_only(
    svc: Booted, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ticket_routes, "POLL_SECONDS", 600)  # the action notices, not the watch
    tid, owner = await owned_ticket(svc, "The driver took my suitcase")
    note_box = "textarea[aria-label='internal note']"
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        context = await browser.new_context(viewport=DESKTOP)
        a = await context.new_page()
        await sign_in(a, base, TOKENS[owner])
        await a.goto(f"{base}/desk/tickets/{tid}")
        # her session ends (signed out in another tab) while she types: kept, to sign in
        b = await context.new_page()
        await b.goto(f"{base}/desk/queue")
        await b.click("#signout")
        await a.fill(note_box, "Suitcase is at the depot, shelf 4")
        await a.fill("#reply-form textarea[name=text]", "We found it")
        await a.click("text=Add note")
        await a.wait_for_url(re.compile(r".*/desk\?lost=1.*"))
        # a colleague signs in in that tab and lands on the same ticket: none of her text
        await signed_in_to(a, TOKENS["ob-lead"], f"{base}/desk/tickets/{tid}")
        assert await a.get_attribute("#whoami", "data-agent") == "ob-lead"
        assert (
            await a.input_value(note_box) == ""
            and await a.input_value("#reply-form textarea[name=text]") == ""
        )
        assert await a.locator("pre.kept").count() == 0
        await both_shots(a, "kept-text-not-for-another-agent")
        assert await notes_of(svc, tid) == []
        # she signs in again in that tab: her text is back on her page, and goes
        await a.goto(f"{base}/desk")
        await signed_in_to(a, TOKENS[owner], f"{base}/desk/queue")
        await a.goto(f"{base}/desk/tickets/{tid}")
        assert await a.input_value(note_box) == "Suitcase is at the depot, shelf 4"
        assert await a.input_value("#reply-form textarea[name=text]") == "We found it"
        await a.click("text=Add note")
        await a.wait_for_selector(".note >> text=Suitcase is at the depot, shelf 4")
        assert await notes_of(svc, tid) == ["Suitcase is at the depot, shelf 4"]


async def test_the_open_pages_notice_another_agent_by_themselves(
    svc: Booted, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ticket_routes, "POLL_SECONDS", 1)
    tid, owner = await owned_ticket(svc, "Driver was rude")
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        context = await browser.new_context(viewport=DESKTOP)
        ticket = await context.new_page()
        await sign_in(ticket, base, TOKENS[owner])
        queue = await context.new_page()
        await queue.goto(f"{base}/desk/queue")
        await ticket.goto(f"{base}/desk/tickets/{tid}")
        await ticket.fill("#reply-form textarea[name=text]", "Sorry about that")
        other = await context.new_page()
        await sign_in(other, base, TOKENS["ob-lead"])
        # the ticket page with text typed keeps it, says why and what would be refused
        await ticket.locator("#reload-kept").wait_for(timeout=10000)
        assert "another agent signed in, in another tab" in await ticket.inner_text("#changed")
        assert "not signed in as you any more" in await ticket.inner_text("#no-longer-yours")
        assert await ticket.locator("#reply-form button[type=submit]").is_disabled()
        assert await ticket.get_attribute("#whoami", "data-agent") == owner  # nothing reloaded under it
        # the queue's refresh shows the lead's queue, and says so
        await queue.wait_for_selector("#whoami[data-agent='ob-lead']", timeout=15000)
        assert "this is their queue" in await queue.inner_text("#flash")
