"""The desk in a browser at a laptop's 1280x800 and a phone's 390x844, in another time zone:
pages fit, times say their zone and agree with the follow-up picker, the reply box counts
against the platform's limit and saved replies never silently wipe typed text (the
walk-through of session 18, defects 4, 8 and 9). Screenshots go to ``artifacts/``."""

from __future__ import annotations

from typing import Any

import pytest

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
from tests.integration.test_desk import arrive
from tests.support import Booted

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = BROWSER

CONFIDENCE = {
    "group": 0.875,
    "queue": 0.7687,
    "category": 0.6207,
    "incident": 0.825,
    "language": 0.6,
    "priority": 0.44,
    "sentiment": 0.9991,
    "auto_reply": 0.9978,
}


async def fits(page: Any, width: int) -> None:
    found = await cut_off(page)
    assert found["scroll"] <= width and found["out"] == [], found


async def test_the_pages_fit_a_laptop_and_a_phone(svc: Booted) -> None:
    words = "Crowd building at Port Authority gate 78, riders waiting 2+ hours. " * 6
    unbroken = "https://example.com/" + "x" * 300
    first = await arrive(
        svc,
        f"{words}{unbroken}",
        confidence=CONFIDENCE,
        reasons=[
            "model category=complaint p=0.62, priority medium: the wording reads as a trip in trouble now"
        ],
        group_id="g-pa",
    )
    await arrive(svc, "Gate 78 again", group_id="g-pa")
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        for size, name in [(DESKTOP, "1280"), (PHONE, "390")]:
            page = await browser.new_page(viewport=size)
            await sign_in(page, base, TOKENS["ob-lead"])
            await fits(page, size["width"])
            await shot(page, f"queue-{name}")
            await page.goto(f"{base}/desk/tickets/{first.ticket_id}")
            # confidence is a small table, never raw JSON
            assert await page.locator("#confidence tr").count() == len(CONFIDENCE) + 1
            assert '{"' not in await page.inner_text("main")
            assert "87.5%" in await page.inner_text("#confidence")
            await fits(page, size["width"])
            await shot(page, f"ticket-{name}")
            one_column = await page.evaluate(
                "document.querySelector('.grid > aside').getBoundingClientRect().top >= "
                "document.querySelector('.grid > section').getBoundingClientRect().bottom"
            )
            assert one_column == (size is PHONE)
            await page.goto(f"{base}/desk/cockpit")
            await fits(page, size["width"])
            await shot(page, f"cockpit-{name}")
            await page.goto(f"{base}/desk/nowhere")
            await fits(page, size["width"])
            await shot(page, f"not-found-{name}")
            await page.click("#signout")
            await page.wait_for_url(f"{base}/desk?signed_out=1")
            await fits(page, size["width"])
            await shot(page, f"signin-{name}")
            await page.close()
        # on a phone, the queue's table scrolls inside its own box
        page = await browser.new_page(viewport=PHONE)
        await sign_in(page, base, TOKENS["ob-lead"])
        assert await page.evaluate(
            "(() => { const w = document.querySelector('#queue').closest('.table-wrap');"
            " return w.scrollWidth > w.clientWidth && getComputedStyle(w).overflowX === 'auto'; })()"
        )


async def test_times_saved_replies_and_the_counter_in_new_york(svc: Booted) -> None:
    ticket = await arrive(svc, "@OurBus where is bus 1432?", platform="x", kind="mention")
    owner = await owner_of(svc, ticket.ticket_id)
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        context = await browser.new_context(viewport=DESKTOP, timezone_id="America/New_York", locale="en-US")
        page = await context.new_page()
        await sign_in(page, base, TOKENS[owner])
        await page.goto(f"{base}/desk/tickets/{ticket.ticket_id}")
        # the desk's clock says 2026-01-01 09:00 UTC: shown as New York time, labelled
        assert "2026-01-01 04:00:00 EST" in await page.inner_text(".msg.customer .meta")
        assert await page.get_attribute(".msg.customer time", "title") == "2026-01-01 09:00:00 UTC"
        assert await page.inner_text(".tz-name") == "your time, America/New_York"
        # a follow-up picked at 21:30 New York time is shown as 21:30 New York time
        await page.fill("input[name=due_at]", "2026-01-02T21:30")
        await page.fill("input[aria-label='what we promised']", "call back")
        await page.click("form[data-url$='/follow-up'] button")
        await page.wait_for_selector("#follow-ups")
        assert "2026-01-02 21:30:00 EST" in await page.inner_text("#follow-ups")
        assert (await page.get_attribute("#follow-ups time", "datetime") or "").startswith(
            "2026-01-03T02:30:00"
        )
        await shot(page, "ticket-new-york")
        # choosing a saved reply over typed text asks first; "no" keeps the text
        area = "#reply-form textarea[name=text]"
        await page.fill(area, "Hello there")
        page.once("dialog", lambda dialog: dialog.dismiss())
        await page.select_option("#saved-reply", "luggage_policy")
        assert await page.input_value("#saved-reply") == ""
        assert await page.input_value(area) == "Hello there"
        assert await page.is_hidden("#reply-preview")
        # "yes" sends the saved reply, shown as a preview
        page.once("dialog", lambda dialog: dialog.accept())
        await page.select_option("#saved-reply", "luggage_policy")
        assert await page.is_disabled(area) and await page.input_value(area) == ""
        preview = await page.inner_text("#reply-preview")
        assert preview.startswith("Each rider may bring")
        assert (await page.inner_text("#reply-count")).startswith(f"{len(preview)} / 280")
        # back to no saved reply: the preview goes, the box is free again
        await page.select_option("#saved-reply", "")
        assert await page.is_hidden("#reply-preview") and await page.inner_text("#reply-preview") == ""
        assert await page.is_enabled(area)
        # an X mention holds 280 characters: counted, and warned over the limit
        await page.fill(area, "y" * 279)
        assert (await page.inner_text("#reply-count")).startswith("279 / 280")
        assert await page.is_hidden("#reply-over")
        await page.fill(area, "y" * 300)
        assert (await page.inner_text("#reply-count")).startswith("300 / 280")
        assert "over" in (await page.get_attribute("#reply-count", "class") or "")
        assert "Too long by 20" in await page.inner_text("#reply-over")
        await shot(page, "reply-over-limit")
