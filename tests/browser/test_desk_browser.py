"""The desk in a browser (issue 9), in headless Chromium driven by Playwright: sign in with
the agent token, the live queue, the ticket page and its actions, the manager's cockpit.

The assigner runs through its real bootstrap on real PostgreSQL and serves its real app
over HTTP (uvicorn); events come in through the runtime's ``process_batch``. Debian's
``chromium`` is driven through ``executable_path`` (``apt-get install chromium``; never
``playwright install``). Screenshots of each page are kept under ``tests/browser/artifacts``.
"""

from __future__ import annotations

import pytest

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_schemas import TicketAssigned
from tests.browser.desk_support import ARTIFACTS, BROWSER, CHROMIUM, FLAGS, serving, sign_in
from tests.integration.test_desk import arrive, emitted
from tests.support import Booted, booted

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = BROWSER


async def test_an_agent_works_the_desk_in_a_browser(svc: Booted) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    first = await arrive(svc, "My bus left without me at Port Authority!", group_id="g-pa")
    await arrive(svc, "Wifi is down again", priority="low")
    await arrive(svc, "The 5pm at Port Authority just left, half of us still here", group_id="g-pa")
    owner = next(
        e.agent_id
        for e in await emitted(svc)
        if isinstance(e, TicketAssigned) and e.ticket_id == first.ticket_id
    )
    token = {"ob-ana": "tok-ana", "ob-ben": "tok-ben", "ob-dee": "tok-dee"}[owner]
    async with serving(svc) as base, playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        try:
            page = await browser.new_page(viewport={"width": 1360, "height": 900})
            # sign in with the agent token
            await page.goto(f"{base}/desk/queue")
            assert "/desk?next=" in page.url  # not signed in: sent to sign in, and back after
            await page.fill("input[name=token]", token)
            await page.click("#signin button[type=submit]")
            await page.wait_for_url(f"{base}/desk/queue")
            row = page.locator(f'tr[data-ticket="{first.ticket_id}"]')
            await row.wait_for()
            await page.screenshot(path=str(ARTIFACTS / "queue.png"), full_page=True)
            # live: a new ticket of hers appears without a reload
            before = await page.locator("#queue-body tr").count()
            for _ in range(3):
                fresh = await arrive(svc, "Where is my refund?", priority="critical")
                if any(
                    isinstance(e, TicketAssigned) and e.agent_id == owner and e.ticket_id == fresh.ticket_id
                    for e in await emitted(svc)
                ):
                    break
            await page.locator(f'tr[data-ticket="{fresh.ticket_id}"]').wait_for(timeout=15000)
            assert await page.locator("#queue-body tr").count() == before + 1
            # the ticket page: the whole conversation, then actions
            await page.click(f'tr[data-ticket="{first.ticket_id}"] a')
            await page.wait_for_selector("#conversation")
            assert "My bus left without me" in await page.inner_text("#conversation")
            # two tickets in its incident group: the group and its one answer are offered
            assert await page.locator("text=Answer the whole group").count() == 1
            await page.fill(
                "textarea[name=text][placeholder^='Only the team']", "Called the depot; driver confirmed"
            )
            await page.click("text=Add note")
            await page.wait_for_selector("text=Called the depot; driver confirmed")
            # what was done is said after the page reloads, and stays said
            await page.wait_for_timeout(600)
            assert await page.inner_text("#flash") == "Note added."
            assert await page.get_attribute("#flash", "class") == "flash-ok"
            # a refusal is shown with its reason next to the button that caused it, and on top
            await page.fill("input[name=due_at]", "2025-12-01T10:00")
            await page.click("form[data-url$='/follow-up'] button")
            await page.wait_for_selector("form[data-url$='/follow-up'] .form-error")
            assert "due in the future" in await page.inner_text("form[data-url$='/follow-up'] .form-error")
            assert "due in the future" in await page.inner_text("#flash")
            assert await page.is_enabled("form[data-url$='/follow-up'] button")  # free to try again
            await page.fill(
                "#reply-form textarea[name=text]", "So sorry! We have rebooked you on the 6pm bus."
            )
            await page.click("text=Send reply")
            await page.wait_for_selector(".msg.reply >> text=rebooked you on the 6pm bus")
            assert "requested" in await page.inner_text(".msg.reply .meta")
            await page.select_option("select[name=category]", "delay")
            await page.fill("input[name=root_cause]", "Bus left early; rebooked")
            await page.click("form[data-url$='/resolve'] button")
            await page.wait_for_selector("#status:text-is('resolved')")  # no eval: the CSP forbids it
            await page.screenshot(path=str(ARTIFACTS / "ticket.png"), full_page=True)
            # a resolved ticket offers what works on it: reopen, not resolve, claim or reply
            assert await page.inner_text("#flash") == "Resolved."
            assert await page.locator("form[data-url$='/resolve']").count() == 0
            assert await page.locator("form[data-url$='/claim']").count() == 0
            assert await page.locator("#reply-form").count() == 0
            assert "reopen it to answer" in await page.inner_text("#reply-closed")
            await page.click("form[data-url$='/reopen'] button")
            await page.wait_for_selector("#status:text-is('assigned')")
            assert await page.locator("form[data-url$='/reopen']").count() == 0
            # the manager's cockpit, as the brand lead
            lead = await browser.new_page(viewport={"width": 1360, "height": 900})
            await sign_in(lead, base, "tok-lead")
            await lead.goto(f"{base}/desk/cockpit")
            await lead.wait_for_selector("#kpi-open")
            assert int(await lead.inner_text("#kpi-open")) >= 2
            assert "Who is on" in await lead.inner_text("main")
            await lead.screenshot(path=str(ARTIFACTS / "cockpit.png"), full_page=True)
            csv_text = await lead.evaluate("fetch('/desk/reports.csv?by=agent').then(r => r.text())")
            assert csv_text.startswith("agent,handled")
            # an L1 has no cockpit: not offered, and the address says why, with the way back
            assert await page.locator("header a[href='/desk/cockpit']").count() == 0
            response = await page.goto(f"{base}/desk/cockpit")
            assert response is not None and response.status == 403
            assert "for brand leads" in await page.inner_text("main")
            await page.click("#back")
            await page.wait_for_url(f"{base}/desk/queue")
        finally:
            await browser.close()


async def test_approvals_hand_off_and_presence_in_a_browser(fresh_db: str) -> None:
    """A new agent's reply waits; the lead approves it on the ticket page; a hand-off with a
    note; going offline from the header hands her tickets on."""
    from tests.integration.test_desk import desk_config

    ARTIFACTS.mkdir(exist_ok=True)
    config = desk_config({"approvals": {"new_agents": ["ob-ana", "ob-ben", "ob-dee"]}})
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=config) as svc:
        first = await arrive(svc, "Driver was rude to my mother")
        owner = next(e.agent_id for e in await emitted(svc) if isinstance(e, TicketAssigned))
        token = {"ob-ana": "tok-ana", "ob-ben": "tok-ben", "ob-dee": "tok-dee"}[owner]
        async with serving(svc) as base, playwright_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
            try:
                agent = await browser.new_page(viewport={"width": 1360, "height": 900})
                await sign_in(agent, base, token)
                await agent.goto(f"{base}/desk/tickets/{first.ticket_id}")
                await agent.fill(
                    "#reply-form textarea[name=text]", "We are very sorry; the driver has been spoken to."
                )
                await agent.click("text=Send reply")
                await agent.wait_for_selector(".msg.reply >> text=pending_approval")
                # said as it is: held, not sent; and its author is not offered to approve it
                assert (await agent.inner_text("#flash")).startswith("Held for approval by a lead")
                assert await agent.locator("button[data-url$='/approve']").count() == 0
                assert await agent.locator("button[data-url$='/reject']").count() == 0
                assert "Waiting for a peer or lead" in await agent.inner_text(".msg.reply")
                # the lead approves it from the same page
                lead = await browser.new_page(viewport={"width": 1360, "height": 900})
                await sign_in(lead, base, "tok-lead")
                await lead.goto(f"{base}/desk/tickets/{first.ticket_id}")
                await lead.click("button[data-url$='/approve']")
                await lead.wait_for_selector(".msg.reply >> text=requested")
                assert "approved by Farah" in await lead.inner_text(".msg.reply .meta")
                await lead.screenshot(path=str(ARTIFACTS / "ticket-approved.png"), full_page=True)
                # the lead hands the ticket to Dee (or Ben) with a note
                to = "ob-dee" if owner != "ob-dee" else "ob-ben"
                await lead.select_option("select[name=agent_id]", to)
                await lead.fill("input[name=note]", "Call the customer back tonight")
                await lead.click("form[data-url$='/assign'] button")
                await lead.wait_for_selector("text=Hand-off to")
                assert "Call the customer back tonight" in await lead.inner_text(".card >> nth=-2")
                # whoever holds a new ticket goes offline from the header: it is handed on
                await emitted(svc)  # the hand-off's own events
                second = await arrive(svc, "Bus smelled of smoke")
                holder = next(
                    e.agent_id
                    for e in await emitted(svc)
                    if isinstance(e, TicketAssigned) and e.ticket_id == second.ticket_id
                )
                tokens = {"ob-ana": "tok-ana", "ob-ben": "tok-ben", "ob-dee": "tok-dee"}
                agent = await browser.new_page(viewport={"width": 1360, "height": 900})
                await sign_in(agent, base, tokens[holder])
                assert await agent.input_value("#presence") == "online"
                await agent.locator(f'tr[data-ticket="{second.ticket_id}"]').wait_for()
                await agent.select_option("#presence", "offline")
                await agent.wait_for_selector(".flash-ok")
                assert "offline" in await agent.inner_text("#flash")
                moved = [e for e in await emitted(svc) if isinstance(e, TicketAssigned)]
                assert second.ticket_id in {e.ticket_id for e in moved}
                assert all(e.agent_id != holder for e in moved)
                await agent.locator(f'tr[data-ticket="{second.ticket_id}"]').wait_for(
                    state="detached", timeout=15000
                )
                await agent.screenshot(path=str(ARTIFACTS / "queue-offline.png"), full_page=True)
                # the header says the presence she set, after a reload too
                await agent.reload()
                assert await agent.input_value("#presence") == "offline"
            finally:
                await browser.close()
