"""Freshdesk's REST API v2 for one brand's account, paced within our share of its limits.

Every response's ``X-RateLimit-Total`` / ``X-RateLimit-Remaining`` feed the account's
:class:`~socialdesk_notifier.freshdesk.domain.pacing.RateBudget`; a 429 holds every call
for its ``Retry-After``. A call that would have to wait longer than the caller can (its
lease) raises :class:`NotNow` before anything is sent.

Usage::

    account = FreshdeskAccount("ourbus", settings, api_key=lambda: "key", http=httpx.AsyncClient())
    answer = await account.call("POST", "/api/v2/tickets", json=body, create=True, max_wait=5)
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import httpx

from socialdesk_notifier.freshdesk.domain.outcomes import Answer
from socialdesk_notifier.freshdesk.domain.pacing import RateBudget
from socialdesk_runtime.config.freshdesk import FreshdeskBrand

__all__ = ["FreshdeskAccount", "NotNow"]

log = logging.getLogger(__name__)


class NotNow(Exception):
    """Our share of the budget allows no call within the caller's wait: nothing was sent."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"rate budget: next call in {wait:.1f}s")
        self.wait = wait


def _int_header(response: httpx.Response, name: str) -> int | None:
    value = response.headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None


class FreshdeskAccount:
    def __init__(
        self,
        brand: str,
        settings: FreshdeskBrand,
        *,
        api_key: Callable[[], str | None],
        http: httpx.AsyncClient,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.brand = brand
        self.settings = settings
        self._api_key = api_key
        self._http = http
        self._now = monotonic
        self._base = settings.base_url.rstrip("/")
        self.budget = RateBudget(
            window=settings.rate_window_seconds,
            share=settings.budget_share,
            total=settings.requests_per_minute,
            create_cap=settings.create_cap_per_minute,
        )
        self._lock = asyncio.Lock()

    def available(self) -> int:
        return self.budget.available(self._now())

    async def _admit(self, *, create: bool, max_wait: float) -> None:
        """Wait for our turn (at most ``max_wait``), then count the call."""
        async with self._lock:  # one waiter at a time: the budget is decided in call order
            while True:
                wait = self.budget.wait(self._now(), create=create)
                if wait <= 0:
                    self.budget.take(self._now(), create=create)
                    return
                if wait > max_wait:
                    raise NotNow(wait)
                max_wait -= wait
                await asyncio.sleep(wait)

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: dict[str, Any] | None = None,
        create: bool = False,
        max_wait: float = 5.0,
    ) -> Answer:
        await self._admit(create=create, max_wait=max_wait)
        key = self._api_key() or ""
        try:
            response = await self._http.request(
                method, self._base + path, json=json, params=params, auth=(key, "X")
            )
        except httpx.HTTPError as exc:
            return Answer(None, error=f"{type(exc).__name__}: {exc}")
        now = self._now()
        self.budget.observe(
            now,
            total=_int_header(response, "X-RateLimit-Total"),
            remaining=_int_header(response, "X-RateLimit-Remaining"),
        )
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = response.text
        answer = Answer(response.status_code, body, retry_after=_retry_after(response))
        if response.status_code == 429:
            wait = answer.retry_after if answer.retry_after is not None else self.settings.rate_window_seconds
            log.warning("freshdesk %s: throttled (429), holding every call for %.1fs", self.brand, wait)
            self.budget.throttled(now, wait, create=create)
        return answer

    # --- the calls the connector makes -------------------------------------------------------

    async def create_ticket(self, body: dict[str, Any], *, max_wait: float) -> Answer:
        return await self.call("POST", "/api/v2/tickets", json=body, create=True, max_wait=max_wait)

    async def add_note(self, fd_ticket_id: int, body: dict[str, Any], *, max_wait: float) -> Answer:
        return await self.call("POST", f"/api/v2/tickets/{fd_ticket_id}/notes", json=body, max_wait=max_wait)

    async def update_ticket(self, fd_ticket_id: int, body: dict[str, Any], *, max_wait: float) -> Answer:
        return await self.call("PUT", f"/api/v2/tickets/{fd_ticket_id}", json=body, max_wait=max_wait)

    async def get_ticket(self, fd_ticket_id: int, *, max_wait: float) -> Answer:
        return await self.call("GET", f"/api/v2/tickets/{fd_ticket_id}", max_wait=max_wait)

    async def find_contact(self, unique_external_id: str, *, max_wait: float) -> Answer:
        return await self.call(
            "GET", "/api/v2/contacts", params={"unique_external_id": unique_external_id}, max_wait=max_wait
        )

    async def tickets_of(self, requester_id: int, *, max_wait: float) -> Answer:
        return await self.call(
            "GET",
            "/api/v2/tickets",
            params={"requester_id": requester_id, "per_page": 100, "order_by": "created_at"},
            max_wait=max_wait,
        )

    async def conversations(self, fd_ticket_id: int, *, max_wait: float) -> Answer:
        return await self.call(
            "GET",
            f"/api/v2/tickets/{fd_ticket_id}/conversations",
            params={"per_page": 100},
            max_wait=max_wait,
        )
