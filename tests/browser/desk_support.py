"""What the desk's browser tests share: what a browser test module is (``pytestmark =
BROWSER``: skipped, saying why, without Debian's chromium), the booted assigner served over
HTTP, Debian's chromium, a ticket and its owner, signing in, and measuring what a page
shows (overflow, screenshots)."""

from __future__ import annotations

import contextlib
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from socialdesk_schemas import TicketAssigned
from tests.integration.test_desk import arrive
from tests.support import Booted
from tests.support import served as serving

__all__ = [
    "ARTIFACTS",
    "BROWSER",
    "CHROMIUM",
    "DESKTOP",
    "FLAGS",
    "PHONE",
    "TOKENS",
    "chromium",
    "cut_off",
    "owned_ticket",
    "owner_of",
    "serving",
    "shot",
    "sign_in",
    "signed_in_to",
]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
#: The marks of every browser test module.
BROWSER = [
    pytest.mark.integration,
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (apt-get install -y chromium)"
    ),
]
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
TOKENS = {
    "ob-ana": "tok-ana",
    "ob-ben": "tok-ben",
    "ob-dee": "tok-dee",
    "ob-lead": "tok-lead",
    "ob-mgr": "tok-mgr",
    "ra-lead": "tok-ralead",
}
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@contextlib.asynccontextmanager
async def chromium(pw: Any) -> AsyncIterator[Any]:
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
    try:
        yield browser
    finally:
        await browser.close()


async def sign_in(page: Any, base: str, token: str) -> None:
    await page.goto(f"{base}/desk")
    await signed_in_to(page, token, f"{base}/desk/queue")


async def signed_in_to(page: Any, token: str, landing: str) -> None:
    """Signs in with the sign-in form the page shows; waits for the page it opens."""
    await page.fill("input[name=token]", token)
    await page.click("#signin button[type=submit]")
    await page.wait_for_url(landing)


async def shot(page: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


#: Elements whose right edge is past the window, outside the boxes that scroll on purpose.
_CUT_OFF = """() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (el.closest('.table-wrap')) continue;
    const r = el.getBoundingClientRect();
    if (r.width && r.right > width + 1) out.push(el.tagName + (el.id ? '#' + el.id : '') + '.' + el.className + ' ' + Math.round(r.right));
  }
  return {scroll: document.documentElement.scrollWidth, width, out: out.slice(0, 10)};
}"""


async def cut_off(page: Any) -> dict[str, Any]:
    """How wide the page scrolls and what sticks out of the window (nothing, when it fits)."""
    found: dict[str, Any] = await page.evaluate(_CUT_OFF)
    return found


async def owner_of(svc: Booted, ticket_id: uuid.UUID) -> str:
    """Who the assigner gave ``ticket_id`` to (read from what it emitted)."""
    return next(
        e.agent_id for e in await svc.emitted() if isinstance(e, TicketAssigned) and e.ticket_id == ticket_id
    )


async def owned_ticket(svc: Booted, text: str) -> tuple[uuid.UUID, str]:
    """A customer's message as a new ticket: its id and the agent the assigner gave it to."""
    message = await arrive(svc, text)
    return message.ticket_id, await owner_of(svc, message.ticket_id)
