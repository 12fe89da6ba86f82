"""The desk in a browser: the ticket page notices changes by itself, and one-to-many or
one-shot sends (the group answer, the feedback survey) never go out twice from the page (the
walk-through of session 18, second list: items 1 and 2)."""

from __future__ import annotations

from typing import Any

import pytest

from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import ReplyRequested
from tests.browser.desk_support import (
    BROWSER,
    DESKTOP,
    PHONE,
    TOKENS,
    chromium,
    cut_off,
    owner_of,
    serving,
    shot,
    sign_in,
)
from tests.integration.test_assigner import classified
from tests.integration.test_desk import arrive, auth, emitted, received
from tests.support import Booted

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = BROWSER

#: The page asks every 5 s; two rounds and the page's own reload.
CHANGE_SEEN_MS = 15000


async def both(page: Any, name: str) -> None:
    """A screenshot at a laptop's size and at a phone's; the page fits the phone."""
    await shot(page, f"{name}-1280")
    await page.set_viewport_size(PHONE)
    found = await cut_off(page)
    assert found["scroll"] <= found["width"] + 1, found
    await shot(page, f"{name}-390")
    await page.set_viewport_size(DESKTOP)


async def test_the_ticket_page_notices_a_new_message_and_a_new_owner(svc: Booted) -> None:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    first = await arrive(svc, "My bus is 2 hours late", group_id="g-late")
    tid = first.ticket_id
    owner = await owner_of(svc, tid)
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, TOKENS[owner])
        await page.goto(f"{base}/desk/tickets/{tid}")
        # the customer writes again: nothing typed on the page, so it reloads by itself
        clock.advance(seconds=30)
        more = classified(
            svc,
            ticket_id=tid,
            opens_ticket=False,
            platform_message_id="m-more",
            customer_id=first.customer_id,
        )
        await svc.feed(received(svc, more, "Still waiting at gate 4, anyone there?"), more)
        await page.wait_for_selector(".msg.customer >> text=Still waiting at gate 4", timeout=CHANGE_SEEN_MS)
        assert "a new message from the customer" in await page.inner_text("#flash")
        assert await page.is_hidden("#changed")
        # she types an answer; meanwhile the lead hands the ticket to a colleague
        await page.fill("#reply-form textarea[name=text]", "We are sending a bus to gate 4 now.")
        clock.advance(seconds=30)
        to = "ob-dee" if owner != "ob-dee" else "ob-ben"
        moved = await svc.client.post(
            f"/v1/tickets/{tid}/assign",
            json={"agent_id": to, "note": "Dee knows the gate staff"},
            headers=auth("ob-lead"),
        )
        assert moved.status_code == 200, moved.text
        # no reload under her text: a banner says what changed, before she presses Send
        banner = page.locator("#changed")
        await banner.wait_for(state="visible", timeout=CHANGE_SEEN_MS)
        said = await banner.inner_text()
        assert "new owner: Dee" in said or "new owner: Ben" in said
        assert "no longer yours to act on" in await page.inner_text("#no-longer-yours")
        assert await page.inner_text("#owner") in ("Dee", "Ben")  # the status line says it too
        assert await page.is_disabled("#reply-form button[type=submit]")
        assert (
            await page.input_value("#reply-form textarea[name=text]") == "We are sending a bus to gate 4 now."
        )
        await both(page, "live-banner-new-owner")
        # reloading keeps her text: its box is gone (not hers now), so it is shown to copy
        await page.click("#reload-kept")
        await page.wait_for_selector("#changed pre.kept")
        assert "We are sending a bus to gate 4 now." in await page.inner_text("#changed pre.kept")
        assert await page.locator("#reply-form").count() == 0
        assert "owned by another agent" in await page.inner_text("#may-not-act")
        # the state the page asks for is small and says the same
        state = await page.evaluate(f"fetch('/desk/tickets/{tid}/state').then(r => r.json())")
        assert state["owner_id"] == to and state["may_act"] is False and state["messages"] == 2


async def test_typed_text_survives_a_reload_and_nothing_reloads_under_it(svc: Booted) -> None:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    first = await arrive(svc, "Where is my refund?")
    tid = first.ticket_id
    owner = await owner_of(svc, tid)
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, TOKENS[owner])
        await page.goto(f"{base}/desk/tickets/{tid}")
        await page.fill("textarea[aria-label='internal note']", "Checked the payment system")
        await page.fill("#reply-form textarea[name=text]", "Your refund is on its way")
        clock.advance(seconds=30)
        more = classified(
            svc, ticket_id=tid, opens_ticket=False, platform_message_id="m-r2", customer_id=first.customer_id
        )
        await svc.feed(received(svc, more, "Hello??"), more)
        await page.locator("#changed").wait_for(state="visible", timeout=CHANGE_SEEN_MS)
        assert "a new message from the customer" in await page.inner_text("#changed")
        assert await page.locator("#no-longer-yours").count() == 0  # still hers: Send still works
        assert await page.is_enabled("#reply-form button[type=submit]")
        await page.click("#reload-kept")
        await page.wait_for_selector(".msg.customer >> text=Hello??")
        assert await page.input_value("#reply-form textarea[name=text]") == "Your refund is on its way"
        assert await page.input_value("textarea[aria-label='internal note']") == "Checked the payment system"
        assert "25 / " in await page.inner_text("#reply-count")


async def test_a_group_answer_and_a_survey_are_sent_once(svc: Booted) -> None:
    clock = svc.runtime.clock
    assert isinstance(clock, FakeClock)
    first = await arrive(svc, "Bus to Boston cancelled?", group_id="g-boston")
    owner = await owner_of(svc, first.ticket_id)
    theirs = None
    for _ in range(4):  # round robin: soon a colleague's ticket in the same group
        other = await arrive(svc, "Boston bus not here", group_id="g-boston")
        if await owner_of(svc, other.ticket_id) != owner:
            theirs = other
            break
    assert theirs is not None
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        keys: list[str | None] = []
        page.on(
            "request",
            lambda r: keys.append(r.headers.get("idempotency-key")) if "/v1/groups/" in r.url else None,
        )
        await sign_in(page, base, TOKENS[owner])
        await page.goto(f"{base}/desk/tickets/{first.ticket_id}")
        await page.select_option("select[aria-label='group saved reply']", "luggage_policy")
        await page.click("text=Answer the whole group")
        await page.wait_for_selector("#flash-items")
        # what happened, ticket by ticket: hers sent, the colleague's left to them and why
        mine = page.locator(f"#flash-items li:has(a[href$='{first.ticket_id}'])")
        assert "sent" in await mine.inner_text()
        left = page.locator(f"#flash-items li:has(a[href$='{theirs.ticket_id}'])")
        assert "owned by another agent" in await left.inner_text()
        assert "1 sent" in await page.inner_text("#flash")
        await both(page, "group-answer-first")
        # the same answer again (a second click, another tab): nobody gets it twice
        await page.select_option("select[aria-label='group saved reply']", "luggage_policy")
        await page.click("text=Answer the whole group")
        await page.wait_for_selector("#flash-items .r-already")
        assert "not sent again" in await mine.inner_text()
        assert "already answered, not sent again" in await page.inner_text("#flash")
        await shot(page, "group-answer-again-1280")
        sent = [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
        assert [e.ticket_id for e in sent] == [first.ticket_id]
        assert keys == [None, None]  # keyed by its content at the desk, not by a new key per click
        # a survey asks first; declined, nothing is sent
        answers: list[str] = []

        async def answer(dialog: Any) -> None:
            answers.append(dialog.message)
            await (dialog.dismiss() if len(answers) == 1 else dialog.accept())

        page.on("dialog", answer)
        await page.click("#feedback button")
        await page.wait_for_timeout(300)
        assert answers and "satisfaction survey" in answers[0]
        assert not [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
        # accepted: sent once, and the page offers no second survey (after a reload too)
        await page.click("#feedback button")
        await page.wait_for_selector("#feedback-asked")
        assert await page.locator("#feedback").count() == 0
        await page.reload()
        assert "Feedback asked" in await page.inner_text("#feedback-asked")
        surveys = [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
        assert len(surveys) == 1 and "How did we do" in surveys[0].text
        await both(page, "feedback-asked")
        # a stale page (another tab) that still offers it: the survey's key is per ticket
        again = await page.evaluate(
            """async (tid) => {
                const r = await fetch('/desk/v1/tickets/' + tid + '/feedback', {method: 'POST',
                  headers: {'X-Desk-Session-Agent': document.getElementById('whoami').dataset.agent,
                            'Idempotency-Key': 'feedback:' + tid + ':0'}});
                return r.status;
            }""",
            str(first.ticket_id),
        )
        assert again == 202
        assert not [e for e in await emitted(svc) if isinstance(e, ReplyRequested)]
