"""The desk in a browser (issue 9), in headless Chromium driven by Playwright: sign in with
the agent token, the live queue, the ticket page and its actions, the manager's cockpit.

The assigner runs through its real bootstrap on real PostgreSQL and serves its real app
over HTTP (uvicorn); events come in through the runtime's ``process_batch``. Debian's
``chromium`` is driven through ``executable_path`` (``apt-get install chromium``; never
``playwright install``). Screenshots of each page are kept under ``tests/browser/artifacts``.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.http import create_app
from socialdesk_schemas import TicketAssigned
from tests.integration.test_desk import arrive, emitted
from tests.support import Booted, booted

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = [pytest.mark.integration, pytest.mark.browser]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).parent / "artifacts"

if not Path(CHROMIUM).exists():
    pytest.skip("Debian's chromium is not installed (apt-get install -y chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextlib.asynccontextmanager
async def serving(svc: Booted) -> AsyncIterator[str]:
    """The booted assigner's real app over HTTP on a free local port."""
    app = create_app(
        SPEC.name,
        registry=svc.runtime.metrics.registry,
        routers=svc.parts.routers,
        max_body_bytes=svc.parts.max_body_bytes,
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


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
            assert page.url.endswith("/desk")  # not signed in: sent to sign in
            await page.fill("input[name=token]", token)
            await page.click("button[type=submit]")
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
            await page.fill(
                "#reply-form textarea[name=text]", "So sorry! We have rebooked you on the 6pm bus."
            )
            await page.click("text=Send reply")
            await page.wait_for_selector(".msg.reply >> text=rebooked you on the 6pm bus")
            assert "requested" in await page.inner_text(".msg.reply .meta")
            await page.select_option("select[name=category]", "delay")
            await page.fill("input[name=root_cause]", "Bus left early; rebooked")
            await page.click("form[data-url$='/resolve'] button")
            await page.wait_for_function("document.getElementById('status').textContent === 'resolved'")
            await page.screenshot(path=str(ARTIFACTS / "ticket.png"), full_page=True)
            # a refusal is shown with its reason
            await page.fill("input[name=root_cause]", "again")
            await page.click("form[data-url$='/resolve'] button")
            await page.wait_for_selector(".flash-bad")
            assert "already resolved" in await page.inner_text("#flash")
            # the manager's cockpit, as the brand lead
            lead = await browser.new_page(viewport={"width": 1360, "height": 900})
            await lead.goto(f"{base}/desk")
            await lead.fill("input[name=token]", "tok-lead")
            await lead.click("button[type=submit]")
            await lead.wait_for_url(f"{base}/desk/queue")
            await lead.goto(f"{base}/desk/cockpit")
            await lead.wait_for_selector("#kpi-open")
            assert int(await lead.inner_text("#kpi-open")) >= 2
            assert "Who is on" in await lead.inner_text("main")
            await lead.screenshot(path=str(ARTIFACTS / "cockpit.png"), full_page=True)
            csv_text = await lead.evaluate("fetch('/desk/reports.csv?by=agent').then(r => r.text())")
            assert csv_text.startswith("agent,handled")
            # an L1 has no cockpit
            await page.goto(f"{base}/desk/cockpit")
            assert "for brand leads" in await page.inner_text("body")
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
                await agent.goto(f"{base}/desk")
                await agent.fill("input[name=token]", token)
                await agent.click("button[type=submit]")
                await agent.wait_for_url(f"{base}/desk/queue")
                await agent.goto(f"{base}/desk/tickets/{first.ticket_id}")
                await agent.fill(
                    "#reply-form textarea[name=text]", "We are very sorry; the driver has been spoken to."
                )
                await agent.click("text=Send reply")
                await agent.wait_for_selector(".msg.reply >> text=pending_approval")
                assert await agent.locator("button[data-url$='/approve']").count() == 1
                # the lead approves it from the same page
                lead = await browser.new_page(viewport={"width": 1360, "height": 900})
                await lead.goto(f"{base}/desk")
                await lead.fill("input[name=token]", "tok-lead")
                await lead.click("button[type=submit]")
                await lead.wait_for_url(f"{base}/desk/queue")
                await lead.goto(f"{base}/desk/tickets/{first.ticket_id}")
                await lead.click("button[data-url$='/approve']")
                await lead.wait_for_selector(".msg.reply >> text=requested")
                assert "approved by ob-lead" in await lead.inner_text(".msg.reply .meta")
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
                await agent.goto(f"{base}/desk")
                await agent.fill("input[name=token]", tokens[holder])
                await agent.click("button[type=submit]")
                await agent.wait_for_url(f"{base}/desk/queue")
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
            finally:
                await browser.close()
