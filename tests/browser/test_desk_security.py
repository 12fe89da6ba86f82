"""The desk in a browser, against hostile text and other sites (the security review of
session 18, items 1 and 2): a name, a message or a configured title that is markup shows as
text and runs nothing, every desk page runs only the desk's own script, and another site
(or another port on the same host) can neither sign an agent in nor sign them out, nor make
any change with the agent's session cookie (decision 0304)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from socialdesk_assigner.bootstrap import SPEC
from socialdesk_assigner.web.session import CSP
from socialdesk_runtime.clock import FakeClock
from socialdesk_runtime.config import SocialdeskConfig
from socialdesk_schemas import TicketAssigned
from socialdesk_schemas.desk import InternalNoteAdded, TicketPending
from tests.browser.desk_support import (
    BROWSER,
    DESKTOP,
    TOKENS,
    chromium,
    owned_ticket,
    serving,
    shot,
    sign_in,
)
from tests.integration.test_assigner import classified
from tests.integration.test_desk import auth, emitted, received
from tests.integration.test_desk_sign_in import notes_of
from tests.support import Booted, booted, config_for_tests, served_app

playwright_api = pytest.importorskip("playwright.async_api")

pytestmark = BROWSER

#: Markup that runs script wherever it lands unescaped (an attribute, a tag, a cell).
EVIL = '"\'><img src=x onerror="window.__pwned=1"><svg onload=window.__pwned=1>'

#: Every element with an event-handler attribute, every script element besides the desk's,
#: and whether anything ran.
_INJECTED = """() => {
  const handlers = [];
  for (const el of document.querySelectorAll('*')) {
    for (const a of el.attributes) if (a.name.startsWith('on')) handlers.push(el.tagName + ' ' + a.name);
  }
  const scripts = Array.from(document.scripts).map((s) => s.src).filter((s) => !s.endsWith('/desk/assets/desk.js'));
  return {handlers, scripts, svg: document.querySelectorAll('main svg, main img').length, ran: !!window.__pwned};
}"""


def hostile_config() -> SocialdeskConfig:
    """Every agent's name, a saved reply's title and a root cause are markup."""
    base = config_for_tests()
    data = base.model_dump(mode="json", exclude_none=True)
    for agent in data["agents"]:
        agent["name"] = f"{agent['name']} {EVIL}"
    data["saved_replies"]["luggage_policy"]["title"] = f"Luggage {EVIL}"
    data.setdefault("desk", {})["root_causes"] = {"delay": f"Delay {EVIL}"}
    config = SocialdeskConfig.model_validate(data)
    config._env = base._env
    return config


@pytest.fixture
async def svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock(), config=hostile_config()) as service:
        yield service


@pytest.fixture
async def plain_svc(fresh_db: str) -> AsyncIterator[Booted]:
    async with booted(SPEC, fresh_db, clock=FakeClock()) as service:
        yield service


async def injected(page: Any) -> dict[str, Any]:
    found: dict[str, Any] = await page.evaluate(_INJECTED)
    return found


async def test_hostile_names_and_texts_show_as_text_and_run_nothing(svc: Booted) -> None:
    message = classified(svc, group_id="g-evil")
    await svc.feed(received(svc, message, f"My bus {EVIL}", name=f"Maria {EVIL}"), message)
    tid = message.ticket_id
    owner = next(
        e.agent_id for e in await emitted(svc) if isinstance(e, TicketAssigned) and e.ticket_id == tid
    )
    noted = await svc.client.post(
        f"/v1/tickets/{tid}/notes", json={"text": f"note {EVIL}"}, headers=auth(owner, key=str(uuid.uuid4()))
    )
    assert noted.status_code in (200, 201), noted.text
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        blocked: list[str] = []
        page.on("console", lambda m: blocked.append(m.text) if "Content Security Policy" in m.text else None)
        policies: list[str | None] = []
        page.on(
            "response",
            lambda r: policies.append(r.headers.get("content-security-policy")) if "/desk" in r.url else None,
        )
        await sign_in(page, base, TOKENS["ob-lead"])
        # the queue, as rendered and after its live refresh (innerHTML of the server's rows)
        row = page.locator(f"tr[data-ticket='{tid}']")
        assert EVIL in await row.inner_text()  # the owner's name, the customer, the excerpt: text
        await page.wait_for_selector("#updated:not(:text-is('now'))", timeout=10000)
        assert EVIL in await row.inner_text()
        queue = await injected(page)
        # the ticket page: names in the header, owner, history, notes, hand-off list, titles
        await page.goto(f"{base}/desk/tickets/{tid}")
        assert EVIL in await page.inner_text("#owner")
        assert EVIL in await page.inner_text("#conversation")
        assert f"Luggage {EVIL}" in await page.inner_text("#saved-reply")
        assert f"Delay {EVIL}" in await page.inner_text("select[aria-label='root cause']")
        ticket = await injected(page)
        await shot(page, "hostile-ticket")
        # the cockpit: people and agents by name
        await page.goto(f"{base}/desk/cockpit")
        assert EVIL in await page.inner_text("#whoami")
        cockpit = await injected(page)
        for found in (queue, ticket, cockpit):
            assert found == {"handlers": [], "scripts": [], "svg": 0, "ran": False}, found
        # every desk answer carries the policy, and nothing the pages need is blocked by it
        assert policies and all(p == CSP for p in policies), policies
        assert blocked == []


async def test_another_site_can_neither_sign_in_nor_sign_out(plain_svc: Booted) -> None:
    svc = plain_svc
    form = {"token": TOKENS["ob-ana"]}
    own = str(svc.client.base_url).rstrip("/")
    for headers, allowed in (
        ({"Sec-Fetch-Site": "same-origin"}, True),
        ({"Sec-Fetch-Site": "none"}, True),
        ({"Sec-Fetch-Site": "same-site"}, False),  # another port on the same host
        ({"Sec-Fetch-Site": "cross-site"}, False),
        ({}, True),  # no browser: no other site's page
        ({"Origin": own}, True),
        ({"Origin": own + ":8081"}, False),
        ({"Origin": "https://evil.example"}, False),
        ({"Origin": "null"}, False),
    ):
        signin = await svc.client.post("/desk", data=form, headers=headers)
        assert (signin.status_code == 303) is allowed, (headers, signin.status_code)
        assert ("desk_session" in signin.headers.get("set-cookie", "")) is allowed
        signout = await svc.client.post("/desk/signout", headers=headers)
        assert (signout.status_code == 303) is allowed, (headers, signout.status_code)
        assert ("desk_session" in signout.headers.get("set-cookie", "")) is allowed
    # in a browser: another site's page and another port's page post to sign out
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, TOKENS["ob-ana"])
        (session,) = [c["value"] for c in await page.context.cookies(f"{base}/desk/queue")]
        attack = (
            f'<form method="post" action="{base}/desk/signout"><button id="go">win a prize</button></form>'
        )
        for other in ("http://evil.example/prize", "http://127.0.0.1:1/prize"):
            await page.route(other, lambda route: route.fulfill(content_type="text/html", body=attack))
            await page.goto(other)
            async with page.expect_response(f"{base}/desk/signout") as answer:
                await page.click("#go")
            assert (await answer.value).status == 403, other
            assert "Sign out from the desk's own page" in await page.inner_text("main")
            cookies = {c["name"]: c["value"] for c in await page.context.cookies(f"{base}/desk/queue")}
            assert cookies.get("desk_session") == session, other
        # the session is still the desk's; the desk's own button signs out
        await page.goto(f"{base}/desk/queue")
        assert await page.get_attribute("#whoami", "data-agent") == "ob-ana"
        await page.click("#signout")
        await page.wait_for_url(f"{base}/desk?signed_out=1")
        assert "desk_session" not in {c["name"] for c in await page.context.cookies(f"{base}/desk/queue")}


#: What a page of another site (or another port) tries with the agent's cookie: a fetch the
#: browser sends without asking (no-cors), to an action without a body (Pending) and to a
#: note (text/plain shaped as JSON), then the fetch the desk's own page sends (JSON, with the
#: agent header), which needs a CORS preflight the desk never grants.
_ATTACK = """async ([base, tid, agent]) => {
  const url = (a) => base + '/desk/v1/tickets/' + tid + '/' + a;
  const tried = [];
  const attempts = [
    [url('pending'), { method: 'POST', mode: 'no-cors', credentials: 'include' }],
    [url('notes'), { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'Content-Type': 'text/plain' }, body: '{"text": "pwned"}' }],
    [url('notes'), { method: 'POST', credentials: 'include', headers: { 'Content-Type': 'application/json', 'X-Desk-Session-Agent': agent }, body: '{"text": "pwned"}' }],
  ];
  for (const [to, init] of attempts) {
    try { const r = await fetch(to, init); tried.push(r.type); } catch (e) { tried.push('blocked'); }
  }
  return tried;
}"""


def _prize(base: str, tid: uuid.UUID) -> Starlette:
    """Another origin's page with two forms posting to the desk's API: Pending, and a note."""
    forms = (
        f'<form method="post" action="{base}/desk/v1/tickets/{tid}/pending"><button id="pend">win</button></form>'
        f'<form method="post" enctype="text/plain" action="{base}/desk/v1/tickets/{tid}/notes">'
        """<input name='{"text": "pwned", "x": "' value='"}'><button id="note">win</button></form>"""
    )

    async def prize(_: Any) -> HTMLResponse:
        return HTMLResponse(f"<!doctype html><title>Win a prize</title>{forms}")

    return Starlette(routes=[Route("/prize", prize)])


async def test_another_sites_page_makes_no_change_with_the_agents_cookie(plain_svc: Booted) -> None:
    svc = plain_svc
    tid, owner = await owned_ticket(svc, "My bus never came")
    async with serving(svc) as base, playwright_api.async_playwright() as pw, chromium(pw) as browser:
        page = await browser.new_page(viewport=DESKTOP)
        await sign_in(page, base, TOKENS[owner])
        (session,) = [c["value"] for c in await page.context.cookies(f"{base}/desk/queue")]
        answers: list[tuple[str, str, int]] = []
        page.on(
            "response",
            lambda r: answers.append((page.url, r.url, r.status)) if "/desk/v1/" in r.url else None,
        )
        async with served_app(_prize(base, tid), access_log=False) as elsewhere:
            port = elsewhere.rsplit(":", 1)[1]
            # another port of the desk's host (the same site: the cookie goes along) and
            # another site (localhost is not 127.0.0.1: the cookie stays home); both real pages
            for other in (f"http://127.0.0.1:{port}/prize", f"http://localhost:{port}/prize"):
                await page.goto(other)
                tried = await page.evaluate(_ATTACK, [base, str(tid), owner])
                assert tried == ["opaque", "opaque", "blocked"], (other, tried)
                for button in ("#pend", "#note"):
                    await page.goto(other)
                    async with page.expect_response(lambda r: "/desk/v1/" in r.url) as answer:
                        await page.click(button)
                    assert (await answer.value).status in (400, 401, 403), (other, button)
        assert answers and all(status in (400, 401, 403) for _, _, status in answers), answers
        # the same site's pending posts (fetch and form) carried the cookie: the origin check
        refused = svc.runtime.metrics.registry.get_sample_value(
            "assigner_desk_session_refusals_total", {"reason": "not_from_the_desk"}
        )
        assert refused == 2.0, answers
        # nothing happened: no note, still assigned, and the agent is still signed in
        assert await notes_of(svc, tid) == []
        ticket = await svc.client.get(f"/v1/tickets/{tid}", headers=auth(owner))
        assert ticket.json()["status"] == "assigned"
        assert not [e for e in await emitted(svc) if isinstance(e, TicketPending | InternalNoteAdded)]
        await page.goto(f"{base}/desk/tickets/{tid}")
        assert await page.get_attribute("#whoami", "data-agent") == owner
        assert [c["value"] for c in await page.context.cookies(f"{base}/desk/queue")] == [session]
